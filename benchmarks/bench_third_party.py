"""thinkgym.verifiers.math and Hugging Face's Math-Verify on labelled answer-equivalence cases that
neither project wrote: the test suites of other math graders.

Usage::

    pip install math-verify==0.9.0   # benchmark-only dependency
    python benchmarks/bench_third_party.py --hendrycks DIR --nemo-skills DIR --stack DIR --kas DIR [--failures]

Each ``DIR`` is the root of a local checkout of the suite's repository (a clone, or just the one
file below extracted from it, at the same relative path). Their files are read as data (``ast`` for
Python, a regular expression for PHP); nothing of theirs is copied here or run:

- ``--hendrycks``: https://github.com/hendrycks/math, ``modeling/math_equivalence_test.py`` (the MATH
  benchmark's ``is_equiv`` tests): each ``assertTrue``/``assertFalse(is_equiv(test_in, test_out))``
  is a case, gold ``test_in``, prediction ``test_out``.
- ``--nemo-skills``: https://github.com/NVIDIA/NeMo-Skills, ``tests/test_math_equal.py``: the pairs of
  ``test_correct_examples`` (label True) and ``test_incorrect_examples`` (False); their test checks
  both orders, so each pair is two cases. Non-string values (``5``, ``5/2``) are written as Python
  prints them; pairs with ``None`` are skipped.
- ``--stack``: https://github.com/maths/moodle-qtype_stack, ``tests/fixtures/answertestfixtures.class.php``
  (the STACK question type's answer-test fixtures, in Maxima syntax): the ``AlgEquiv`` rows
  (algebraic equivalence) without options and with an expected mark of 0 or 1 (not the rows where
  the test must fail); prediction the student's answer, gold the teacher's. Rows that need Maxima
  itself are left out: those with ``%`` (``%pi``, ``%i``), ``:`` (option settings), quotes, or a
  function call other than the common functions in ``_STACK_FUNCTIONS`` (``integerp(3)``,
  ``exdowncase(X)``, ``F(k)``), ``#`` (``#pm#``, not-equal) or STACK's words (``all``, ``none``,
  ``true``, ``false``, ``inf``, ``minf``, ``nounor``, ``nounand``). The rows with a relation (``=``,
  ``<``, ``>``, ``and``, ``or``) are their own suite, ``stack-rel``: there STACK's label is
  equivalence of solution sets (``x^2=4`` is ``x=2 or x=-2``; two false equations are equal).
  Some STACK labels follow Maxima's floating point (``4.52*10^2`` is not ``452``); they are
  kept as they are.

- ``--kas``: https://github.com/Khan/KAS (Khan Academy's answer checker), ``test.html``: the
  ``comp(input, reference[, expected])`` calls of its value-only ``comparing`` tests ("evaluate
  only", "simplify can't yet handle these", "partially evaluating functions"; its "comparing
  form" test is left out, its labels are about the written form) and the ``_.each(forms, ...)``
  loops over their arrays; prediction the input, gold the reference. Its labels compare numbers
  with a tolerance (``1.1234567891235 * 10^200`` is ``1.1234567891234 * 10^200``) and take the real
  odd root (``(-5)^(1/3)`` is ``-1.709975946``); they are kept as they are.

To get the files from a bare git directory: ``git --git-dir=REPO.git archive HEAD PATH | tar -x -C DIR``.

Scoring: thinkgym by ``verify(response, gold).correct`` with its defaults; Math-Verify by
``verify(parse(gold), parse(response))`` with its default configuration (an exception counts as
False, as its users count it). Two forms of input, both printed by default (``--form``):
``raw``, the strings as the suite states them (what the graders under test compared), and
``boxed``, the prediction as a response ``The answer is $\\boxed{pred}$`` and, for Math-Verify, the
gold as ``\\boxed{gold}`` (its documented use in RL rewards). ``--failures`` lists every case where
thinkgym's verdict differs from the label, with thinkgym's reason and Math-Verify's verdict.
"""

from __future__ import annotations

import argparse
import ast
import json
import operator
import re
import sys
import time
import warnings
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from thinkgym.verifiers.math import verify as our_verify  # noqa: E402

Case = dict[str, object]  # gold, pred, expected, where

HENDRYCKS_FILE = "modeling/math_equivalence_test.py"
NEMO_SKILLS_FILE = "tests/test_math_equal.py"
STACK_FILE = "tests/fixtures/answertestfixtures.class.php"
KAS_FILE = "test.html"

_STACK_FUNCTIONS = frozenset("sqrt sin cos tan sec csc cot asin acos atan sinh cosh tanh log ln exp abs".split())
_BINOPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _value(node: ast.expr) -> object:
    """A literal, or arithmetic on numeric literals (``5 / 2``), as the test's Python would compute it."""
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        return _BINOPS[type(node.op)](_value(node.left), _value(node.right))
    return ast.literal_eval(node)


def _parse_python(path: Path) -> ast.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)  # "\$10": an invalid escape in their source
        return ast.parse(path.read_text(encoding="utf-8"))


def _read(directory: Path, relative: str) -> Path:
    path = directory / relative
    if not path.is_file():
        raise SystemExit(f"{path} not found: pass the root of a checkout that has {relative}")
    return path


def load_hendrycks(directory: Path) -> list[Case]:
    """Each ``self.assertTrue/assertFalse(f(a, b))`` in a test method, ``a`` and ``b`` the string
    variables (or literals) assigned before it in that method; a helper named ``..._not_equiv``
    inverts the assertion (the form of the file's extended copies)."""
    cases: list[Case] = []
    for fn in ast.walk(_parse_python(_read(directory, HENDRYCKS_FILE))):
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith("test"):
            continue
        names: dict[str, str] = {}
        for stmt in fn.body:
            if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
                for target in stmt.targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = str(stmt.value.value)
            call = stmt.value if isinstance(stmt, ast.Expr) else None
            if not (isinstance(call, ast.Call) and getattr(call.func, "attr", "") in ("assertTrue", "assertFalse")):
                continue
            inner = call.args[0]
            if not (isinstance(inner, ast.Call) and len(inner.args) >= 2):
                continue
            gold, pred = (names.get(a.id) if isinstance(a, ast.Name) else _value(a) for a in inner.args[:2])
            expected = call.func.attr == "assertTrue"  # type: ignore[union-attr]
            if "not_equiv" in getattr(inner.func, "id", ""):
                expected = not expected
            cases.append({"gold": gold, "pred": pred, "expected": expected, "where": fn.name})
    return cases


def load_nemo_skills(directory: Path) -> list[Case]:
    """The ``output_pair`` parameters of the tests named ``test_correct...`` / ``test_incorrect...``,
    in both orders (their test asserts both)."""
    cases: list[Case] = []
    for fn in ast.walk(_parse_python(_read(directory, NEMO_SKILLS_FILE))):
        if not isinstance(fn, ast.FunctionDef) or not fn.name.startswith(("test_correct", "test_incorrect")):
            continue
        expected = fn.name.startswith("test_correct")
        for dec in fn.decorator_list:
            if not (isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize"):
                continue
            for element in dec.args[1].elts:  # type: ignore[attr-defined]
                a, b = (_value(e) for e in element.elts)
                if a is None or b is None:
                    continue
                for gold, pred, order in ((a, b, "a,b"), (b, a, "b,a")):
                    where = f"{fn.name} {order}"
                    cases.append({"gold": str(gold), "pred": str(pred), "expected": expected, "where": where})
    return cases


_PHP_STRING = r"'((?:[^'\\]|\\.)*)'"
_STACK_ROW = re.compile(
    r"\[\s*'AlgEquiv'\s*,\s*" + r"\s*,\s*".join([_PHP_STRING] * 3) + r"\s*,\s*(-?\d+)\s*,", re.DOTALL
)
_CALL = re.compile(r"([A-Za-z_][A-Za-z_0-9]*)\s*\(")


def _php_unescape(text: str) -> str:
    return re.sub(r"\\([\\'])", r"\1", text)


_STACK_WORDS = re.compile(r"\b(?:all|none|true|false|inf|minf|nounor|nounand)\b")
_RELATION = re.compile(r"[=<>]|\b(?:and|or)\b")


def _stack_usable(text: str) -> bool:
    if not text.strip() or any(ch in text for ch in "%:'\"?#") or _STACK_WORDS.search(text):
        return False
    return all(name in _STACK_FUNCTIONS for name in _CALL.findall(text))


def load_stack(directory: Path, relations: bool) -> list[Case]:
    """``AlgEquiv`` rows without options, expected mark 0 or 1, in notation outside Maxima's own:
    with ``relations`` the rows with an equation, inequality or ``and``/``or`` on either side, else
    the others (expressions, numbers, lists, sets)."""
    text = _read(directory, STACK_FILE).read_text(encoding="utf-8")
    cases: list[Case] = []
    for match in _STACK_ROW.finditer(text):
        options, sans, tans, score = match.groups()
        sans, tans = _php_unescape(sans), _php_unescape(tans)
        if options or score not in ("0", "1") or not (_stack_usable(sans) and _stack_usable(tans)):
            continue
        if bool(_RELATION.search(sans) or _RELATION.search(tans)) != relations:
            continue
        line = text.count("\n", 0, match.start()) + 1
        cases.append({"gold": tans, "pred": sans, "expected": score == "1", "where": f"line {line}"})
    return cases


_JS_STRING = r'"((?:[^"\\]|\\.)*)"'
_KAS_TEST = re.compile(r'QUnit\.(?:test|module)\("([^"]*)"')
_KAS_COMP = re.compile(r"comp\(\s*" + _JS_STRING + r"\s*,\s*" + _JS_STRING + r"\s*(?:,\s*(true|false)\s*)?\)")
_KAS_ARRAY = re.compile(r"var\s+(\w+)\s*=\s*\[(.*?)\];", re.DOTALL)
_KAS_EACH = re.compile(r"_\.each\((\w+),\s*function\s*\(\w+\)\s*\{\s*comp\((\w+)\[0\],\s*\w+\)")
_KAS_TESTS = ("evaluate only", "simplify can't yet handle these", "partially evaluating functions")


def load_kas(directory: Path) -> list[Case]:
    """The ``comp(input, reference[, expected])`` calls of the ``comparing`` tests that compare
    values only (``{form: false}``; not "evaluating and comparing form", whose labels are about
    form), and the ``_.each(forms, ... comp(forms[0], form))`` loops over their arrays; prediction
    the input, gold the reference."""
    text = _read(directory, KAS_FILE).read_text(encoding="utf-8")
    text = re.sub(r"^\s*//.*$", "", text, flags=re.MULTILINE)
    heads = list(_KAS_TEST.finditer(text))
    cases: list[Case] = []
    for head, following in zip(heads, [*heads[1:], None], strict=True):
        if head.group(1) not in _KAS_TESTS:
            continue
        block = text[head.end() : following.start() if following else len(text)]
        for match in _KAS_COMP.finditer(block):
            pred, gold, flag = (json.loads(f'"{g}"') if g else g for g in match.groups())
            cases.append({"gold": gold, "pred": pred, "expected": flag != "false", "where": head.group(1)})
        arrays = {
            m.group(1): [json.loads(f'"{v}"') for v in re.findall(_JS_STRING, m.group(2))]
            for m in _KAS_ARRAY.finditer(block)
        }
        for match in _KAS_EACH.finditer(block):
            forms = arrays[match.group(1)]
            for form in forms:
                cases.append(
                    {"gold": form, "pred": forms[0], "expected": True, "where": f"{head.group(1)} {match.group(1)}"}
                )
    return cases


LOADERS: dict[str, tuple[Callable[[Path], list[Case]], str]] = {
    "hendrycks": (load_hendrycks, f"hendrycks/math {HENDRYCKS_FILE}"),
    "nemo-skills": (load_nemo_skills, f"NVIDIA/NeMo-Skills {NEMO_SKILLS_FILE}"),
    "stack": (lambda d: load_stack(d, relations=False), f"maths/moodle-qtype_stack {STACK_FILE} (AlgEquiv)"),
    "kas": (load_kas, f"Khan/KAS {KAS_FILE} (comparing)"),
}
SPLIT = {"stack": ("stack-rel", lambda d: load_stack(d, relations=True))}  # a second suite from one file


def math_verify_check(gold: str, response: str, form: str) -> bool:
    from math_verify import parse, verify

    try:
        return bool(verify(parse(f"\\boxed{{{gold}}}" if form == "boxed" else gold), parse(response)))
    except Exception:  # noqa: BLE001 - a failure is "not correct", as its users count it
        return False


def response_for(pred: str, form: str) -> str:
    return f"The answer is $\\boxed{{{pred}}}$." if form == "boxed" else pred


def run(suites: dict[str, list[Case]], form: str, failures: bool) -> None:
    print(f"\nform: {form}")
    header = ("suite", "cases", "math-verify", "FP", "FN", "thinkgym", "FP", "FN")
    print("{:<12} {:>5} {:>11} {:>4} {:>4} {:>9} {:>4} {:>4}".format(*header))
    totals = {"n": 0, "mv": 0, "tg": 0}
    missed: list[tuple[str, Case, str, bool]] = []
    for name, cases in suites.items():
        count = {"mv": 0, "mv_fp": 0, "mv_fn": 0, "tg": 0, "tg_fp": 0, "tg_fn": 0}
        for case in cases:
            gold, pred, expected = str(case["gold"]), str(case["pred"]), bool(case["expected"])
            response = response_for(pred, form)
            theirs = math_verify_check(gold, response, form)
            verdict = our_verify(response, gold)
            for key, got in (("mv", theirs), ("tg", verdict.correct)):
                count[key] += got == expected
                count[f"{key}_fp"] += got and not expected
                count[f"{key}_fn"] += expected and not got
            if verdict.correct != expected:
                missed.append((name, case, verdict.reason, theirs))
        n = len(cases)
        totals = {"n": totals["n"] + n, "mv": totals["mv"] + count["mv"], "tg": totals["tg"] + count["tg"]}
        print(
            f"{name:<12} {n:>5} {count['mv'] / max(n, 1):>11.3f} {count['mv_fp']:>4} {count['mv_fn']:>4} "
            f"{count['tg'] / max(n, 1):>9.3f} {count['tg_fp']:>4} {count['tg_fn']:>4}"
        )
    n = totals["n"]
    print(f"{'all':<12} {n:>5} {totals['mv'] / max(n, 1):>11.3f} {'':>9} {totals['tg'] / max(n, 1):>9.3f}")
    if failures and missed:
        print(f"\nthinkgym verdicts that differ from the label ({form}; mv = Math-Verify's verdict):")
        for name, case, reason, theirs in missed:
            print(
                f"  [{name} {case['where']}] gold={case['gold']!r} pred={case['pred']!r} "
                f"label={case['expected']} thinkgym={reason} mv={theirs}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for name in LOADERS:
        ap.add_argument(f"--{name}", type=Path, metavar="DIR", help=f"checkout root with {LOADERS[name][1]}")
    ap.add_argument("--form", choices=["raw", "boxed", "both"], default="both")
    ap.add_argument("--failures", action="store_true", help="list thinkgym's verdicts that differ from the label")
    args = ap.parse_args()
    suites = {}
    for name, (loader, source) in LOADERS.items():
        directory = getattr(args, name.replace("-", "_"))
        if directory is not None:
            suites[name] = loader(directory)
            print(f"{name}: {len(suites[name])} cases from {source} in {directory}")
            if name in SPLIT:
                other, other_loader = SPLIT[name]
                suites[other] = other_loader(directory)
                print(f"{other}: {len(suites[other])} cases (relations) from the same file")
    if not suites:
        ap.error("pass at least one suite directory (--hendrycks, --nemo-skills, --stack, --kas)")
    try:
        mv_version = metadata.version("math-verify")
    except metadata.PackageNotFoundError:
        raise SystemExit("math-verify is not installed: pip install math-verify==0.9.0") from None
    print(f"math-verify {mv_version}; labels are the suites' own")
    started = time.perf_counter()
    for form in ("raw", "boxed") if args.form == "both" else (args.form,):
        run(suites, form, args.failures)
    print(f"\n{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
