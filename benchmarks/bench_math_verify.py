"""thinkgym.verifiers.math against Hugging Face's Math-Verify, on the same pairs in one run.

Usage::

    pip install math-verify==0.9.0   # benchmark-only dependency
    python benchmarks/bench_math_verify.py [--table tests/data/math_pairs.jsonl] [--gold-wrap boxed|dollar]
    python benchmarks/bench_math_verify.py --suites path/to/Math-Verify/tests

For every row of the labelled pair table both checkers see the same response: the ``pred``
wrapped as ``The answer is $\\boxed{pred}$.`` (rows of category ``extraction`` are whole
responses and are used as they are). Math-Verify is scored through its documented API:
``verify(parse(gold), parse(response))``, with the gold wrapped as ``\\boxed{gold}`` (or
``$gold$``), as its README and the verl/open-r1 integrations do.

Before timing, both checkers are warmed up on the same pairs (``math_compare.WARM_UP_PAIRS``, the
pairs our worker process parses once at start-up; none is in the table), and Math-Verify's answer
caches are cleared. Then the table is checked twice, each pair once per pass by each checker,
interleaved (row by row, alternating which checker goes first, so that load on a shared machine
hits both alike), in this thread:

- pass 1, *first sight*: no checker has seen these answers; the LaTeX parser (ANTLR) still has
  to build its prediction cache for every new shape of input, which dominates both checkers' cost;
- pass 2, *seen before*: Math-Verify's answer caches are cleared again (ours keeps none), but the
  parser's prediction cache and SymPy's internal cache stay warm in both, as in a long RL run
  where the same golds and similar answers recur.

Printed per pass: accuracy, false positives and false negatives against the labels; median, mean
and 90th-percentile milliseconds per pair; pairs per second (pairs over the summed per-pair
times) and the ratio; and the same for the *identical-string* pairs (prediction == gold, which any
checker settles by string equality) separately from the *different-string* pairs. Then pass 3,
*unseen shapes*: seeded random pairs of nested expressions (no labels: the two checkers' agreement
is printed), identical and different strings reported apart. Last, the time our checker takes to
settle each adversarial input (Math-Verify is not run on those: several of them hang it for
minutes, its issue #65).

``--suites DIR`` instead scores both checkers on the labelled cases of Math-Verify's own test
files (``DIR`` = the ``tests/`` folder of a clone of https://github.com/huggingface/Math-Verify),
read with ``ast``: the labels are theirs, Math-Verify runs with the options each of its tests
passes, ours with its defaults (``verify(pred, gold)``). Per-suite accuracy of both is printed.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from thinkgym.verifiers.math import verify as our_verify  # noqa: E402
from thinkgym.verifiers.math_compare import WARM_UP_PAIRS  # noqa: E402

ISSUE_65 = "\\dfrac{5^{\\left(5^{\\left(5^{\\left(5^5\\right)}\\right)} - 4\\right)} - 5}{16}"

A6_NOTE = "verifiers.md A6"  # how the table's notes mark the pairs taken from the reference table
ADVERSARIAL: list[tuple[str, str, str]] = [
    ("power tower 9^{9^{9^9}}", "\\boxed{9^{9^{9^9}}}", "5"),
    ("power tower vs symbolic gold", "\\boxed{9^{9^{9^9}}}", "x+1"),
    ("Math-Verify issue #65", "\\boxed{" + ISSUE_65 + "}", "3"),
    ("(10^{100})!", "\\boxed{(10^{100})!}", "1"),
    ("2^{3^{4^{5}}}", "\\boxed{2^{3^{4^{5}}}}", "2"),
    ("10^{10^{10}}", "\\boxed{10^{10^{10}}}", "10"),
    ("x^{10^{10}}", "\\boxed{x^{10^{10}}}", "x"),
    ("e^{e^{e^{10}}}", "\\boxed{e^{e^{e^{10}}}}", "1"),
    ("huge binomial", "\\boxed{\\binom{10^{9}}{5\\cdot10^{8}}}", "2"),
    ("10,000-deep braces", "\\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}", "1"),
    ("10,000-deep parentheses", "\\boxed{" + "(" * 10_000 + "1" + ")" * 10_000 + "}", "1"),
    ("10,000-deep fractions", "\\boxed{" + "\\frac{1}{" * 10_000 + "2" + "}" * 10_000 + "}", "1"),
    ("1 MB response, no answer", "lorem ipsum " * 90_000, "1"),
    ("1 MB inside a box", "\\boxed{" + "x+" * 500_000 + "1}", "1"),
    ("1 MB of digits", "\\boxed{" + "1" * 1_000_000 + "}", "1"),
    ("100,000 boxes", "\\boxed{1} " * 100_000, "2"),
    ("1 MB of unclosed braces", "\\boxed{" + "{" * 1_000_000, "1"),
    ("sin(10^{100})", "\\boxed{\\sin(10^{100})}", "0"),
    ("(x+y+z)^{100} vs reordered", "\\boxed{(x+y+z)^{100}}", "(z+y+x)^{100}"),
    ("issue #65 mixed text", "\\boxed{{@Neillier 1276915 4951077 {1,1-3-10);5_GENERAL2 }}", "92.5857658508735"),
]


def synthetic_pairs(n: int, seed: int = 5) -> list[tuple[str, str]]:
    """``n`` random (gold, prediction) pairs of nested expressions, sets, tuples and relations."""
    rng = random.Random(seed)
    atoms = ["3", "12", "x", "y", "\\pi", "e", "2", "5", "\\frac{1}{2}", "\\sqrt{3}"]

    def expr(depth: int = 0) -> str:
        if depth > 1 or rng.random() < 0.35:
            return rng.choice(atoms)
        a, b = expr(depth + 1), expr(depth + 1)
        forms = [f"{a}+{b}", f"{a}-{b}", f"{a}{b}", f"\\frac{{{a}}}{{{b}}}", f"{a}^2", f"\\sqrt{{{a}}}", f"\\sin({a})"]
        return rng.choice([*forms, f"\\ln({a})", f"({a})"])

    def shape() -> str:
        a, b = expr(), expr()
        return rng.choice(
            [expr(), expr(), expr(), f"({a}, {b})", f"\\{{{a}, {b}\\}}", f"x={a}", f"x<{a}", f"[{a}, {b})"]
        )

    pairs = []
    for _ in range(n):
        gold = shape()
        pred = gold if rng.random() < 0.2 else (shape() if rng.random() < 0.5 else gold.replace("2", "4"))
        pairs.append((gold, pred))
    return pairs


def load_table(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def response_for(row: dict[str, object]) -> str:
    pred = str(row["pred"])
    return pred if row["category"] == "extraction" else f"The answer is $\\boxed{{{pred}}}$."


def math_verify_checker(gold_wrap: str) -> tuple[Callable[[str, str], bool], Callable[[], None]]:
    from math_verify import parse, verify
    from math_verify import parser as mv_parser

    def check(response: str, gold: str) -> bool:
        wrapped = f"\\boxed{{{gold}}}" if gold_wrap == "boxed" else f"${gold}$"
        try:
            return bool(verify(parse(wrapped), parse(response)))
        except Exception:  # noqa: BLE001 - count any failure as "not correct", as its users do
            return False

    def clear_caches() -> None:
        for name in dir(mv_parser):
            cache_clear = getattr(getattr(mv_parser, name), "cache_clear", None)
            if callable(cache_clear):
                cache_clear()

    return check, clear_caches


def identical(row: dict[str, object]) -> bool:
    """A pair whose prediction is the gold string itself (any checker gets it by string equality)."""
    return str(row["pred"]).strip() == str(row["gold"]).strip()


def score(checks: dict[str, Callable[[str, str], bool]], rows: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """Both checkers on every row, interleaved (row by row, alternating which goes first), so that
    a load change on a shared machine hits both sides alike. Throughput is pairs over the summed
    per-pair times."""
    names = list(checks)
    times: dict[str, list[float]] = {name: [] for name in names}
    got: dict[str, list[bool]] = {name: [] for name in names}
    for i, row in enumerate(rows):
        for name in names if i % 2 == 0 else reversed(names):
            t0 = time.perf_counter()
            verdict = checks[name](response_for(row), str(row["gold"]))
            times[name].append(time.perf_counter() - t0)
            got[name].append(verdict)
    return {name: _summary(rows, got[name], times[name]) for name in names}


def _summary(rows: list[dict[str, object]], got: list[bool], times: list[float]) -> dict[str, object]:
    fp_rows = [row for row, g in zip(rows, got, strict=True) if g and not row["expected"]]
    fn_rows = [row for row, g in zip(rows, got, strict=True) if not g and row["expected"]]
    wrong = {id(row) for row in fp_rows + fn_rows}
    subsets = {}
    for subset, keep in (("identical", True), ("different", False)):
        picked = [(row, t) for row, t in zip(rows, times, strict=True) if identical(row) is keep]
        subsets[subset] = {
            "n": len(picked),
            "accuracy": 1 - sum(id(row) in wrong for row, _ in picked) / max(len(picked), 1),
            "median_ms": statistics.median([t for _, t in picked]) * 1e3 if picked else float("nan"),
            "pairs_per_s": len(picked) / max(sum(t for _, t in picked), 1e-12),
        }
    return {
        **subsets,
        "a6_rows": sum(str(row["note"]).startswith(A6_NOTE) for row in rows),
        "accuracy": 1 - len(wrong) / len(rows),
        "fp": len(fp_rows),
        "fn": len(fn_rows),
        "fp_rows": fp_rows,
        "fn_rows": fn_rows,
        "median_ms": statistics.median(times) * 1e3,
        "mean_ms": statistics.fmean(times) * 1e3,
        "p90_ms": sorted(times)[int(0.9 * len(times))] * 1e3,
        "pairs_per_s": len(rows) / sum(times),
    }


def version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def print_pass(title: str, results: dict[str, dict[str, object]], show_errors: bool) -> None:
    print(title)
    for subset in ("identical", "different"):
        print(f"  {subset}-string pairs:", end="")
        for name, r in results.items():
            s = r[subset]
            print(
                f"  {name}: {s['n']} pairs, accuracy {s['accuracy']:.3f}, median {s['median_ms']:.3f} ms, "
                f"{s['pairs_per_s']:.0f} pairs/s",
                end=";",
            )
        print()
    header = ("checker", "accuracy", "FP", "FN", "median ms", "mean ms", "p90 ms", "pairs/s")
    print("{:<12} {:>9} {:>4} {:>4} {:>10} {:>8} {:>7} {:>8}".format(*header))
    for name, r in results.items():
        print(
            f"{name:<12} {r['accuracy']:>9.3f} {r['fp']:>4} {r['fn']:>4} {r['median_ms']:>10.3f} "
            f"{r['mean_ms']:>8.2f} {r['p90_ms']:>7.2f} {r['pairs_per_s']:>8.1f}"
        )
    ratio = results["thinkgym"]["pairs_per_s"] / results["math-verify"]["pairs_per_s"]
    print(f"throughput ratio (thinkgym / math-verify): {ratio:.2f}x")
    for name, r in results.items():
        wrong = [row for row in r["fp_rows"] + r["fn_rows"] if str(row["note"]).startswith(A6_NOTE)]
        print(f"{name}: {len(wrong)} misjudged of the {r['a6_rows']} pairs taken from verifiers.md section A6")
    print()
    if show_errors:
        for name, r in results.items():
            for kind in ("fp_rows", "fn_rows"):
                for row in r[kind]:
                    print(f"  {name} {kind[:2].upper()}: gold={row['gold']!r} pred={row['pred']!r} ({row['category']})")


# --- third-party suites: the (gold, pred, expected) cases of Math-Verify's own tests ------------

_SUITE_OPTIONS = ("match_types", "precision", "strict", "allow_set_relation_comp")


def _literal(node: ast.AST, params: dict[str, object]) -> object:
    if isinstance(node, ast.Name) and node.id in params:
        return params[node.id]
    return ast.literal_eval(node)


def _calls(node: ast.Call, name: str) -> bool:
    return getattr(node.func, "id", "") == name


def load_suites(directory: Path) -> dict[str, list[dict[str, object]]]:
    """Every ``@pytest.mark.parametrize`` case with a gold, a prediction and a label in the test
    files of a Math-Verify checkout (``git clone https://github.com/huggingface/Math-Verify``),
    read with ``ast`` (nothing of theirs is copied here or run), with the options its test passes
    to Math-Verify. One suite per test function (``file::function``)."""
    suites: dict[str, list[dict[str, object]]] = {}
    for path in sorted(directory.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            for dec in fn.decorator_list:
                if not (isinstance(dec, ast.Call) and getattr(dec.func, "attr", "") == "parametrize"):
                    continue
                names = [n.strip() for n in ast.literal_eval(dec.args[0]).split(",")]
                label = next((n for n in ("expected", "result") if n in names), None)
                if not {"gold", "pred"} <= set(names) or label is None:
                    continue
                try:
                    values = ast.literal_eval(dec.args[1])
                except ValueError:
                    continue
                calls = [c for c in ast.walk(fn) if isinstance(c, ast.Call) and _calls(c, "compare_strings")]
                cases = []
                for value in values:
                    params = dict(zip(names, value, strict=True))
                    options = {}
                    for keyword in calls[0].keywords if calls else []:
                        if keyword.arg in _SUITE_OPTIONS:
                            options[keyword.arg] = _literal(keyword.value, params)
                    case = {"gold": params["gold"], "pred": params["pred"], "expected": bool(params[label])}
                    cases.append({**case, "options": options, "home": bool(calls)})
                suites[f"{path.stem}::{fn.name}"] = cases
    return suites


def math_verify_suite_check(case: dict[str, object]) -> bool:
    """Math-Verify as the suite's own test calls it (its home configuration)."""
    from math_verify import ExprExtractionConfig, LatexExtractionConfig, parse, verify

    options = dict(case["options"])  # type: ignore[arg-type]
    try:
        if not case["home"]:
            return bool(verify(parse(case["gold"]), parse(case["pred"])))
        targets = [
            LatexExtractionConfig(boxed_match_priority=0) if t == "latex" else ExprExtractionConfig()
            for t in options.get("match_types", ["latex", "expr"])
        ]
        return bool(
            verify(
                parse(case["gold"], targets),
                parse(case["pred"], targets),
                float_rounding=options.get("precision", 6),
                strict=options.get("strict", True),
                allow_set_relation_comp=options.get("allow_set_relation_comp", False),
            )
        )
    except Exception:  # noqa: BLE001 - a failure is "not correct", as its users count it
        return False


def thinkgym_suite_check(case: dict[str, object]) -> bool:
    """thinkgym with its defaults, except where the suite's test states a precision: Math-Verify's
    ``float_rounding=p`` is then thinkgym's explicit tolerance ``{"abs": 10**-p}`` (the problem
    says how exact the answer must be); without one, numbers are exact."""
    precision = dict(case["options"]).get("precision")  # type: ignore[arg-type]
    tolerance = None if precision is None else {"abs": 10.0 ** -int(precision)}  # type: ignore[call-overload]
    return our_verify(str(case["pred"]), str(case["gold"]), tolerance=tolerance).correct


def run_suites(directory: Path) -> None:
    suites = load_suites(directory)
    print(f"third-party suites: Math-Verify's tests in {directory}")
    print("(labels theirs; Math-Verify run as each test runs it; thinkgym: verify(pred, gold), exact unless the")
    print(" test states a precision p, then tolerance={'abs': 10**-p})")
    print("{:<58} {:>5} {:>11} {:>9}".format("suite", "cases", "math-verify", "thinkgym"))
    totals = {"cases": 0, "math-verify": 0, "thinkgym": 0}
    for name, cases in suites.items():
        mv = sum(math_verify_suite_check(c) == c["expected"] for c in cases)
        ours = sum(thinkgym_suite_check(c) == c["expected"] for c in cases)
        totals["cases"] += len(cases)
        totals["math-verify"] += mv
        totals["thinkgym"] += ours
        print(f"{name:<58} {len(cases):>5} {mv / len(cases):>11.3f} {ours / len(cases):>9.3f}")
    n = totals["cases"]
    print(f"{'all':<58} {n:>5} {totals['math-verify'] / n:>11.3f} {totals['thinkgym'] / n:>9.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", type=Path, default=ROOT / "tests" / "data" / "math_pairs.jsonl")
    ap.add_argument("--gold-wrap", choices=("boxed", "dollar"), default="boxed")
    ap.add_argument("--show-errors", action="store_true", help="list every misjudged pair")
    ap.add_argument("--synthetic", type=int, default=200, help="random pairs in pass 3 (0: skip it)")
    ap.add_argument("--suites", type=Path, help="a Math-Verify checkout's tests/ folder: score both on its cases")
    args = ap.parse_args()
    if args.suites:
        run_suites(args.suites)
        return
    rows = load_table(args.table)

    def ours(response: str, gold: str) -> bool:
        return our_verify(response, gold).correct

    mv, mv_clear = math_verify_checker(args.gold_wrap)
    for gold, pred in WARM_UP_PAIRS:
        ours(f"\\boxed{{{pred}}}", gold)
        mv(f"\\boxed{{{pred}}}", gold)
    mv_clear()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"versions: sympy {version('sympy')}, latex2sympy2_extended {version('latex2sympy2_extended')}, "
        f"antlr4-python3-runtime {version('antlr4-python3-runtime')}, math-verify {version('math-verify')}"
    )
    print(f"table: {args.table} ({len(rows)} pairs); Math-Verify gold wrapped as {args.gold_wrap}\n")

    first = score({"thinkgym": ours, "math-verify": mv}, rows)
    print_pass("pass 1, first sight:", first, args.show_errors)
    mv_clear()
    second = score({"thinkgym": ours, "math-verify": mv}, rows)
    print_pass("pass 2, seen before (answer caches cleared, parser and SymPy caches warm):", second, False)

    if args.synthetic:
        pairs = synthetic_pairs(args.synthetic)
        checks = {"thinkgym": ours, "math-verify": mv}
        times: dict[str, dict[bool, list[float]]] = {name: {True: [], False: []} for name in checks}
        verdicts: dict[str, list[bool]] = {name: [] for name in checks}
        for i, (gold, pred) in enumerate(pairs):
            for name in list(checks) if i % 2 == 0 else list(reversed(checks)):
                t0 = time.perf_counter()
                verdicts[name].append(checks[name](f"The answer is $\\boxed{{{pred}}}$.", gold))
                times[name][gold == pred].append(time.perf_counter() - t0)
        agree = sum(a == b for a, b in zip(verdicts["thinkgym"], verdicts["math-verify"], strict=True))
        same = sum(gold == pred for gold, pred in pairs)
        print(f"pass 3, unseen shapes: {len(pairs)} random pairs ({same} identical strings), verdicts agree on {agree}")
        for subset, key in (("identical", True), ("different", False)):
            rate = {name: len(t[key]) / max(sum(t[key]), 1e-12) for name, t in times.items()}
            print(
                f"  {subset}-string pairs: thinkgym {rate['thinkgym']:.1f} pairs/s, "
                f"math-verify {rate['math-verify']:.1f} pairs/s, ratio {rate['thinkgym'] / rate['math-verify']:.2f}x"
            )
        total = {name: sum(t[True]) + sum(t[False]) for name, t in times.items()}
        print(f"  all: throughput ratio (thinkgym / math-verify): {total['math-verify'] / total['thinkgym']:.2f}x\n")

    print("adversarial inputs (thinkgym only):")
    worst = 0.0
    for label, response, gold in ADVERSARIAL:
        t0 = time.perf_counter()
        verdict = our_verify(response, gold)
        dt = time.perf_counter() - t0
        worst = max(worst, dt)
        print(f"  {label:<32} {dt * 1e3:9.1f} ms  correct={verdict.correct!s:<5} reason={verdict.reason}")
    print(f"worst adversarial time: {worst * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
