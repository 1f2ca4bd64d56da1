"""Math answer checking: :func:`verify` (a whole response against a gold answer) and
:func:`is_equivalent` (two answers).

The pipeline, cheapest first:

1. **Extract** the final answer: the last top-level ``\\boxed{}``/``\\fbox{}`` after the last
   ``</think>`` (:func:`thinkgym.verifiers.extract.last_boxed`), with the boxes just before it
   that connectors join, or the last boxes read as parts when the gold has that many parts. Without
   a box (``details["fallback"]``): the text after the last "the answer is" / "final answer:", a
   response that is one math span or a short bare answer, the last number of prose after the last
   math span, else the last math span. An unclosed box or an unfinished ``<think>`` is a format
   error.
2. **Normalise** both answers (:mod:`math_normalize`): wrappers, ``\\text{}``, units, degree and
   percent signs, thousands separators, ``\\left``/``\\right``, ``\\dfrac``, mixed numbers, ``\\$``.
3. **Decide in-process** what is cheap and provably bounded: equal normalised strings, multiple-
   choice letters, word answers, restated problems (unevaluated ``\\int``, ``\\lim``, ``\\sum``,
   ``\\prod``, derivatives), and answers made of exact rationals: numbers, lists, ``\\pm``,
   intervals, solved inequalities, assignments (:mod:`math_rational`, which refuses numbers over
   100,000 bits, so ``9^{9^{9^9}}`` is never evaluated).
4. **Otherwise** hand both answers to a worker process (:mod:`math_worker`) that parses them with
   ``latex2sympy2_extended`` and compares them with SymPy (:mod:`math_compare`) under a hard
   wall-clock deadline; a worker that overruns is killed and the verdict is ``"timeout"``.

Rules for numbers: exact unless the problem says otherwise. ``0.5`` matches ``\\frac12``, ``1/2``
and ``0.50``, not ``0.46``, ``\\frac{\\sqrt2}{3}`` or ``0.5\\%``; ``3.14`` does not match ``\\pi``;
``0.\\overline{3}`` matches ``\\frac13``. A tolerance applies only when passed explicitly
(``tolerance={"abs": x}`` or ``{"rel": x}``; the math envs pass ``problem.metadata["tolerance"]``).
Percent: a number ``v\\%`` compared with an answer without a percent sign means ``v/100``, and
also the bare ``v`` (a dropped sign) only when ``|v| > 1``: gold ``50\\%`` accepts ``50`` and
``0.5``; gold ``0.5`` accepts ``50\\%`` but not ``0.5\\%``; gold ``50`` accepts ``50\\%``. A
degree sign may be dropped or added on one side (``45^\\circ`` matches ``\\frac{\\pi}{4}``). A unit
on one side only is dropped; units on both sides must agree (``1.5 cm`` is not ``1.5 m``; nothing is
converted). Identities of expressions are decided by randomized evaluation (:mod:`math_identity`).

Verdict reasons: ``correct``, ``wrong_answer``, ``no_answer``, ``unclosed_box``,
``unfinished_thinking``, ``unparseable``, ``restates_problem``, ``too_large`` (an answer over the
size bounds that is not identical to the gold), ``invalid_input`` (a non-string argument), and the
verifier's own failures (:data:`VERIFIER_ERRORS`, ``verifier_error=True``, neither correct nor
``format_ok``): ``timeout`` (after one retry with 4x the budget), ``worker_error`` (the checking
process crashed, after one retry), ``internal_error`` (a bug caught at the boundary) and
``invalid_gold``. Nothing here raises on any answer; only a malformed ``tolerance``, ``positive``
or ``seed`` argument is a ``ValueError``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, replace
from fractions import Fraction

from thinkgym.core import Verdict
from thinkgym.verifiers.extract import CONNECTOR, answer_region, final_parts, final_run, gold_boxes
from thinkgym.verifiers.math_normalize import (
    ASCII_FUNCTION,
    VALUE_WORDS,
    Answer,
    choice_letter,
    labels,
    nesting_depth,
    normalize,
    ratio_parts,
    split_list,
    undouble_backslashes,
    words,
)
from thinkgym.verifiers.math_rational import (
    Assignment,
    Interval,
    NotRational,
    Structure,
    TooLarge,
    evaluate,
    size_guard,
)
from thinkgym.verifiers.math_worker import get_pool

__all__ = ["VERIFIER_ERRORS", "Tolerance", "check_tolerance", "is_equivalent", "verify"]

Tolerance = dict[str, float]
VERIFIER_ERRORS = frozenset({"timeout", "worker_error", "internal_error", "invalid_gold"})
_RETRY_FACTOR = 4.0  # a check that overran its budget is retried once with this many times it

_MAX_RAW_CHARS = 20_000  # longer answers are only compared as exact strings
_MAX_DEPTH = 40  # more deeply nested answers likewise
_MAX_CHARS = 1_000  # longest normalised answer handed to a parser
_FALLBACK_WINDOW = 4_000  # the fallback phrase is searched in this many final characters
_FALLBACK = re.compile(r"(?:final answer|the answer)\s*(?:is|:)\s*:?", re.IGNORECASE)
_FALLBACK_MATH = re.compile(r"\s*(\$\$?)(.+?)\1|\s*\\\((.+?)\\\)", re.DOTALL)
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\n")
_MATH_SPAN = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(.+?)(?<!\\)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.DOTALL)
_IS = re.compile(r"\s(?:is|are|equals)\s")
_TURN_END = re.compile(r"<\|(?:im_start|im_end|endoftext|eot_id)\|>")  # a chat turn ends there
_MATHY = re.compile(r"[\d\\]")  # a restated answer must hold a digit or a command ("... is correct" does not)
_MAX_SPANS = 16  # math spans joined into one list answer at most
_SHORT_ANSWER = 60  # characters: a response this short without box or math is read whole
_WORD = re.compile(r"[A-Za-z]{3,}")
_OPERATORS = frozenset("=+-*/^<>")
_ALTERNATIVE = re.compile(r"\b(?:or|and|nor|to|vs\.?|versus|between|either)\s*$", re.IGNORECASE)
_ASCII_NAMES = re.compile(rf"{ASCII_FUNCTION.pattern}|(?<![A-Za-z\\])(?:sqrt|abs)(?=\s*\()")
_QUOTE = re.compile(r"^\s*(?:\\?\"|“|``)")  # "The final answer is \"$12$\"": the quote opens nothing
_PROSE_NUMBER = re.compile(r"(?<![\w.,/\\^_{])-?\d+(?:[.,]\d+)*(?:\s*/\s*\d+)?(?:\s*(?:\\?%|percent\b))?(?![{^_])")
_ONE_WORD = re.compile(r"^[A-Za-z]{1,12}$")
_FREE_WORD = re.compile(r"(?<![\d\s])\s*(?<![A-Za-z\d])[A-Za-z]{3,}|^\s*[A-Za-z]{3,}|(?<=[A-Za-z])\s+[A-Za-z]{3,}")
_LATEX_COMMAND = re.compile(r"\\(?:begin|end)\s*\{[a-zA-Z*]+\}|\\[a-zA-Z]+")
_RESTATED = {
    "integral": re.compile(r"\\(?:int|iint|iiint|oint)(?![a-zA-Z])|\bIntegral\s*\("),
    "limit": re.compile(r"\\lim(?![a-zA-Z])|\bLimit\s*\("),
    "sum": re.compile(r"\\sum(?![a-zA-Z])|\bSum\s*\("),
    "product": re.compile(r"\\prod(?![a-zA-Z])|\bProduct\s*\("),
    "derivative": re.compile(
        r"\\frac\s*\{\s*(?:d|\\partial)[^{}]*\}\s*\{\s*(?:d|\\partial)\s*[a-zA-Z]|\bd/d[a-zA-Z]"
        r"|\\partial|\bDerivative\s*\(|[a-zA-Z]'+\s*\("
    ),
}


def _fallback_answer(response: str, after: int = 0) -> str | None:
    """The answer after the last "the answer is" / "final answer:" in the answer region (that
    starts at or after index ``after``)."""
    offset, _ = answer_region(response)
    start = max(offset, len(response) - _FALLBACK_WINDOW, after)
    last = None
    for match in _FALLBACK.finditer(response, start):
        last = match
    if last is None:
        return None
    rest = _QUOTE.sub("", response[last.end() :], count=1)
    math = _FALLBACK_MATH.match(rest)
    if math:
        run = [(math.group(2) or math.group(3)).strip()]
        end = math.end()
        for span in _MATH_SPAN.finditer(rest, end):  # "$12$ and $13$": one list
            if len(run) >= _MAX_SPANS or not CONNECTOR.fullmatch(rest, end, span.start()):
                break
            run.append(next(g for g in span.groups() if g is not None).strip())
            end = span.end()
        return ", ".join(run)
    end = _SENTENCE_END.search(rest)
    answer = (rest[: end.start()] if end else rest).strip()
    verbs = list(_IS.finditer(answer))  # "The largest $n$ is 34": what the sentence says it is
    if verbs:
        verb = verbs[-1]
        answer = answer[verb.end() :].strip()
        spans = _math_spans(answer)
        if len(spans) == 1 and _MATH_SPAN.fullmatch(answer):
            answer = spans[0]
    return answer or None


def _math_spans(text: str) -> list[str]:
    """The contents of the math spans (``$...$``, ``$$...$$``, ``\\(...\\)``, ``\\[...\\]``) of
    ``text``, in order; an escaped dollar ``\\$`` opens nothing."""
    return [next(g for g in m.groups() if g is not None).strip() for m in _MATH_SPAN.finditer(text)]


def _final_spans(text: str) -> str | None:
    """The last math span of ``text``, with the spans just before it that only connectors separate
    from it, as one list (``$1$ and $2$`` is ``1, 2``); ``None`` without a math span."""
    matches = list(_MATH_SPAN.finditer(text))
    if not matches:
        return None
    run = [matches[-1]]
    for m in reversed(matches[:-1]):
        if len(run) >= _MAX_SPANS or not CONNECTOR.fullmatch(text, m.end(), run[0].start()):
            break
        run.insert(0, m)
    parts = [next(g for g in m.groups() if g is not None).strip() for m in run]
    return ", ".join(parts) if all(parts) else None


def _unboxed_answer(response: str) -> tuple[str, str] | None:
    """The answer of a response without a box, and the rule that found it: the text after a final
    "the answer is" (``phrase``, or its last number when it is a sentence: ``phrase_number``); the
    response when it is one math span or a short bare answer (``whole``); the last number of prose
    in a sentence after the last math span (``last_number``, :func:`_prose_number`); else the last
    math span of the answer region (``last_math``)."""
    phrase = _fallback_answer(response)
    if phrase is not None:
        number = _prose_number(phrase) if _prose(phrase) else None
        return (number, "phrase_number") if number else (phrase, "phrase")
    offset, status = answer_region(response)
    region = response[offset:].strip().rstrip(".").strip()
    if status != "ok" or not region:
        return None
    spans = _math_spans(region)
    if len(spans) == 1 and _MATH_SPAN.fullmatch(region):
        return spans[0], "whole"
    short = len(region) <= _SHORT_ANSWER and "\n" not in region and _bare(region)
    if short and not spans:
        return region, "whole"
    number = _prose_number(region, after_math=True)
    if number is not None:
        return number, "last_number"
    last = _final_spans(region)
    if last:
        return last, "last_math"
    if short:
        return region, "whole"
    return None


def _prose(text: str) -> bool:
    """Whether an answer phrase is a sentence (three or more words) rather than an answer."""
    return not _MATH_SPAN.search(text) and len(_WORD.findall(_LATEX_COMMAND.sub(" ", text))) >= 3


def _prose_number(text: str, *, after_math: bool = False) -> str | None:
    """The last number written in plain prose in ``text`` (``1,000.99``, ``2/3``, ``100%``), or
    ``None``. With ``after_math``, only a number in a sentence after the last math span (a span in
    the same sentence is the answer that sentence states: ``$x = 5$ for part 1`` is ``x = 5``)."""
    spans = list(_MATH_SPAN.finditer(text))
    start = spans[-1].end() if spans else 0
    numbers = list(_PROSE_NUMBER.finditer(text, start))
    if not numbers:
        return None
    last = numbers[-1]
    if spans and after_math and not _sentence_ends(text, spans[-1], last.start()):
        return None
    head, tail = text[: last.start()].rstrip(), text[last.end() :].lstrip()
    before, after = head[-1:], tail[:1]
    if before in _OPERATORS or (after in _OPERATORS and after != "-"):  # "3x - y + 13 = 0": an equation
        return None
    if before == "(" and head[-2:-1].isalpha():  # "sqrt(12)": a function's argument, not an answer
        return None
    if _ALTERNATIVE.search(head):  # "1/2 or 1/3", "between 5 and 6": one of several, not an answer
        return None
    if VALUE_WORDS.match(tail):  # "1 million", "3 squared": the words change the value
        return None
    return _with_unit(last.group().strip(), tail[:40])


def _with_unit(number: str, rest: str) -> str:
    """``number`` with the unit the next one or two words name (``5 m``, ``3 square feet``), so a
    unit stated in prose still has to agree with the gold's; the bare number otherwise."""
    words = rest.split()
    for n in (2, 1):  # "3 square feet", then "5 m"
        candidate = " ".join([number, *words[:n]]).rstrip(".,;:!?")
        if len(words) >= n and normalize(candidate).unit:
            return candidate
    return number


def _sentence_ends(text: str, span: re.Match[str], before: int) -> bool:
    """Whether the sentence of a math ``span`` ends before index ``before``: a display span
    (``$$...$$``, ``\\[...\\]``) or one that ends with a full stop is a sentence of its own."""
    content = next(g for g in span.groups() if g is not None).rstrip()
    display = span.group().startswith(("$$", "\\["))
    return display or content.endswith(".") or bool(_SENTENCE_END.search(text, span.end(), before))


def _bare(text: str) -> bool:
    """Whether a short text reads as a bare answer, not a sentence: one word (``Yes``), or no word
    of three or more letters except a unit or percent word after a number (``28 percent``)."""
    if _ONE_WORD.match(text):
        return True
    return not _FREE_WORD.search(_ASCII_NAMES.sub(" ", _LATEX_COMMAND.sub(" ", text)))


def gold_answer(gold: str) -> str:
    """The answer a gold text states: the content of its last box when it has any (with the boxes
    that only connectors separate from it: ``\\boxed{1}\\boxed{2}`` is ``1, 2``), or its one math
    span (``$x \\in [0, 1)$``), else the text itself."""
    gold = undouble_backslashes(gold)
    if "\\boxed" in gold or "\\fbox" in gold:
        boxes = gold_boxes(gold)
        if boxes:
            return ", ".join(boxes) if len(boxes) > 1 else boxes[0]
    stripped = gold.strip().rstrip(".").strip()
    spans = _math_spans(stripped)
    if len(spans) == 1 and _MATH_SPAN.fullmatch(stripped):
        return spans[0]
    if len(spans) > 1 or (spans and _FALLBACK.search(stripped)):  # a worked solution: its final answer
        found = _unboxed_answer(stripped)
        if found is not None:
            return found[0]
    return gold


_COMMA_DECIMAL = re.compile(r"-?\d+,\d+")
_POINT_DECIMAL = re.compile(r"-?\d+\.\d+")
_THOUSANDS_GROUPS = re.compile(r"-?[1-9]\d{0,2}(?:,\d{3})+")


def _decimal_comma(a: str, b: str) -> bool:
    """Whether ``a`` is the number ``b`` written with a decimal comma: ``1,22`` for ``1.22``,
    ``1000,99`` for ``1000.99``, ``0,111`` for ``0.111``. Only where the comma cannot be a
    thousands separator (``12,102`` is 12102), and only against a number written with a decimal
    point (``3,0`` against ``3``, ``1, 22`` with a space, or ``1,22`` against a list, stays a list)."""
    if not _COMMA_DECIMAL.fullmatch(a) or _THOUSANDS_GROUPS.fullmatch(a) or not _POINT_DECIMAL.fullmatch(b):
        return False
    return Fraction(a.replace(",", ".")) == Fraction(b)


def _part_count(gold: str) -> int:
    """How many top-level items the gold answer lists (``(3, 3), (1, 1)`` has 2); 1 for anything
    that is not a bare list, and on any doubt."""
    if "," not in gold and "and" not in gold and "or" not in gold:
        return 1  # no separator a list could be made of: spare the hot path a second normalisation
    try:
        listed = split_list(normalize(gold).text)
    except Exception:  # noqa: BLE001 - a count, never a failure
        return 1
    return len(listed[1]) if listed is not None and listed[0] == "" else 1


def _restated(text: str) -> set[str]:
    return {name for name, pattern in _RESTATED.items() if pattern.search(text)}


def _within(tolerance: Tolerance | None, g: Fraction, p: Fraction) -> bool:
    """Whether ``p`` is within the problem's explicit ``tolerance`` of ``g`` (exact without one)."""
    if p == g:
        return True
    if not tolerance:
        return False
    diff = abs(p - g)
    return diff <= Fraction(tolerance.get("abs", 0)) or diff <= Fraction(tolerance.get("rel", 0)) * abs(g)


def _readings(answer: Answer, value: Fraction, other: Answer) -> list[Fraction]:
    """The values ``answer`` may mean when compared with ``other``. A number with a percent sign
    the other side lacks is ``v/100``; it is also the bare number ``v`` (the sign dropped) only when
    ``|v| > 1``, where reading it as a fraction of a whole is implausible: ``50\\%`` means 0.5 or
    50, ``0.5\\%`` means only 0.005."""
    if not answer.percent or other.percent:
        return [value]
    return [value / 100, value] if abs(value) > 1 else [value / 100]


def _scalars_match(gold: Answer, g: Fraction, pred: Answer, p: Fraction, tolerance: Tolerance | None) -> bool:
    return any(_within(tolerance, ga, pa) for ga in _readings(gold, g, pred) for pa in _readings(pred, p, gold))


def _structures_match(g: Structure, p: Structure, tolerance: Tolerance | None = None) -> bool:
    kinds = {g.kind, p.kind}
    if kinds <= {"set", "bare"}:
        return all(any(_within(tolerance, a, b) for b in p.items) for a in g.items) and all(
            any(_within(tolerance, a, b) for a in g.items) for b in p.items
        )
    if kinds <= {"tuple", "bare"}:
        pairs = zip(g.items, p.items, strict=False)
        return len(g.items) == len(p.items) and all(_within(tolerance, a, b) for a, b in pairs)
    return False  # a point is not a set


def _empty(i: Interval) -> bool:
    """An interval whose bounds are out of order (``1 < x < -5``): it describes no number."""
    if i.lo is None or i.hi is None:
        return False
    return i.lo > i.hi or (i.lo == i.hi and not (i.lo_closed and i.hi_closed))


def _bounds_match(g: Fraction | None, p: Fraction | None, tolerance: Tolerance | None) -> bool:
    """Equal interval ends: both infinite (``None``), or numbers within the explicit tolerance."""
    return g == p if g is None or p is None else _within(tolerance, g, p)


def _intervals_match(g: Interval, p: Interval | Structure, tolerance: Tolerance | None = None) -> bool:
    if _empty(g) or (isinstance(p, Interval) and _empty(p)):
        return False  # bounds must be ordered: "1 < x < -5" is not the point "(1, -5)"
    if isinstance(p, Structure):  # "(a, b)" with a < b may be an open interval as well as a point
        p = Interval(p.items[0], p.items[1], False, False) if p.kind == "tuple" and len(p.items) == 2 else None
        if p is None or _empty(p):
            return False
    elif g.variable and p.variable and g.variable != p.variable:
        return False
    closed = (g.lo_closed, g.hi_closed) == (p.lo_closed, p.hi_closed)
    return closed and _bounds_match(g.lo, p.lo, tolerance) and _bounds_match(g.hi, p.hi, tolerance)


def _rational_verdict(gold: Answer, pred: Answer, tolerance: Tolerance | None = None) -> bool | None:
    """The verdict when both answers are rational shapes :func:`evaluate` reads (numbers, lists,
    intervals, solved inequalities, assignments), else ``None``. Raises ``TooLarge`` for numbers
    over the size bounds."""
    try:
        g = evaluate(gold.text)
        p = evaluate(pred.text)
    except NotRational:
        return None
    if isinstance(g, Assignment) and isinstance(p, Assignment) and g.variable != p.variable:
        return False
    g = g.value if isinstance(g, Assignment) else g  # "x = 3" answers "3", and the other way
    p = p.value if isinstance(p, Assignment) else p
    if isinstance(g, Interval) or isinstance(p, Interval):
        if isinstance(g, Interval):
            return _intervals_match(g, p, tolerance) if isinstance(p, Interval | Structure) else False
        return isinstance(g, Structure) and _intervals_match(p, g, tolerance)
    if isinstance(g, Structure) and isinstance(p, Structure):
        return _structures_match(g, p, tolerance)
    if isinstance(g, Structure) or isinstance(p, Structure):
        structure, scalar = (g, p) if isinstance(g, Structure) else (p, g)
        if structure.kind not in ("set", "bare") or len(set(structure.items)) != 1:
            return False  # a number is not a list of several numbers
        g, p = (structure.items[0], scalar) if structure is g else (scalar, structure.items[0])
    return _scalars_match(gold, g, pred, p, tolerance)


def check_tolerance(tolerance: object) -> Tolerance | None:
    """``tolerance`` as the verifier uses it, or a ``ValueError`` naming what is wrong. ``None``
    (exact) or a mapping with ``"abs"`` and/or ``"rel"``: finite numbers >= 0, e.g. ``{"abs":
    0.01}`` (``|pred - gold| <= 0.01``) or ``{"rel": 1e-3}`` (``|pred - gold| <= 0.001 |gold|``)."""
    if tolerance is None:
        return None
    if not isinstance(tolerance, Mapping) or not tolerance or not set(tolerance) <= {"abs", "rel"}:
        raise ValueError(
            f'tolerance must be None or a dict with "abs" and/or "rel" (e.g. {{"abs": 0.01}}), got {tolerance!r}'
        )
    checked = {}
    for key, value in tolerance.items():
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < float("inf"):
            raise ValueError(f"tolerance[{key!r}] must be a finite number >= 0, got {value!r}")
        checked[str(key)] = float(value)
    return checked


def _tolerance_fractions(tolerance: Tolerance | None) -> Tolerance | None:
    return None if not tolerance else {k: Fraction(str(v)) for k, v in tolerance.items()}  # type: ignore[misc]


def _ratio_verdict(gold: Answer, pred: Answer) -> bool | None:
    """Numeric ratios: ``6:4`` answers ``3:2`` (and ``\\frac32``); ``None`` when either side is
    not a ratio of rational numbers."""
    g_parts, p_parts = ratio_parts(gold.text), ratio_parts(pred.text)
    if g_parts is None and p_parts is None:
        return None
    try:
        gv = [evaluate(x) for x in g_parts] if g_parts else [evaluate(gold.text)]
        pv = [evaluate(x) for x in p_parts] if p_parts else [evaluate(pred.text)]
    except NotRational:
        return None
    if not all(isinstance(v, Fraction) and v != 0 for v in gv + pv):
        return None
    if len(gv) == 1 and len(pv) == 2:
        return gv[0] == pv[0] / pv[1]
    if len(pv) == 1 and len(gv) == 2:
        return pv[0] == gv[0] / gv[1]
    return len(gv) == len(pv) and all(p * gv[0] == g * pv[0] for g, p in zip(gv, pv, strict=True))


def _unlabelled(text: str, order: list[str] | None = None) -> str:
    """The values of a labelled answer (see :func:`labels`), in ``order`` of labels when given."""
    found = labels(text)
    if found is None:
        return text
    pairs, is_tuple = found
    if order is not None:
        by_label = dict(pairs)
        pairs = [(name, by_label[name]) for name in order]
        is_tuple = True
    values = [value for _, value in pairs]
    if len(values) == 1:
        return values[0]
    return f"({', '.join(values)})" if is_tuple else ", ".join(values)


def _strip_labels(gold: str, pred: str) -> tuple[str, str] | None:
    """Gold and prediction without their labels (``f(x)=2x+3`` -> ``2x+3``); when both are
    labelled, the prediction's values in the gold's order of labels. ``None``: both are labelled
    with different labels (a wrong answer)."""
    g, p = labels(gold), labels(pred)
    if g is None and p is None:
        return gold, pred
    if g is not None and p is not None:
        g_names, p_names = [n for n, _ in g[0]], [n for n, _ in p[0]]
        if sorted(g_names) != sorted(p_names):
            return None
        if len(set(g_names)) != len(g_names):  # "x = 2, x = 3": one name, several values, no order
            return _unlabelled(gold), _unlabelled(pred)
        ordered = len(g_names) > 1
        return _unlabelled(gold, g_names if ordered else None), _unlabelled(pred, g_names if ordered else None)
    return _unlabelled(gold), _unlabelled(pred)


Judgement = tuple[bool, str, dict[str, object]]


def _ask_worker(g: Answer, p: Answer, timeout: float, options: dict[str, object]) -> Judgement:
    """The SymPy stage in a worker process. A check that overruns ``timeout`` is retried once with
    :data:`_RETRY_FACTOR` times the budget, and a crashed worker once, before the verdict says so."""
    request = {"gold": asdict(g), "pred": asdict(p), "options": options}
    budget = timeout
    for attempt in range(2):
        try:
            reply = get_pool().call(request, budget)
        except (EOFError, OSError) as err:
            if attempt:
                return False, "worker_error", {"error": repr(err), "retried": True}
            continue
        if reply is None:
            if attempt:
                return False, "timeout", {"timeout_s": budget, "retried": True}
            budget = timeout * _RETRY_FACTOR
            continue
        if reply["reason"] == "worker_error" and not attempt:
            continue
        return bool(reply["correct"]), str(reply["reason"]), dict(reply["details"])
    raise AssertionError("unreachable")


def _judge(pred: str, gold: str, timeout: float, options: dict[str, object]) -> Judgement:
    """(correct, reason, details) for two extracted answers."""
    if max(len(pred), len(gold)) > _MAX_RAW_CHARS or max(nesting_depth(pred), nesting_depth(gold)) > _MAX_DEPTH:
        same = pred.strip() == gold.strip()
        return same, "correct" if same else "too_large", {} if same else {"guard": "length or nesting"}
    g, p = normalize(undouble_backslashes(gold)), normalize(undouble_backslashes(pred))
    if not g.text:
        return False, "invalid_gold", {}
    if not p.text:
        return False, "no_answer", {}
    if g.unit and p.unit and g.unit != p.unit:  # "1.5 cm" is not "1.5 m" (no unit is converted)
        return False, "wrong_answer", {"units": f"{p.unit} vs {g.unit}"}
    if p.key == g.key and p.percent == g.percent:  # "0.5\\%" is not "0.5"
        return True, "correct", {}
    if _decimal_comma(g.text, p.text) or _decimal_comma(p.text, g.text):
        return True, "correct", {"decimal_comma": True}
    restated = _restated(p.text) - _restated(g.text)
    if restated:
        return False, "restates_problem", {"unevaluated": sorted(restated)}
    letter = choice_letter(g, gold=True)
    if letter is not None:
        ok = choice_letter(p, gold=False) == letter
        return ok, "correct" if ok else "wrong_answer", {}
    gold_words = words(gold, gold=True)
    if gold_words is not None:
        ok = words(pred, gold=False) == gold_words
        return ok, "correct" if ok else "wrong_answer", {}
    if max(len(g.text), len(p.text)) > _MAX_CHARS:
        return False, "too_large", {"guard": "length"}
    stripped = _strip_labels(g.text, p.text)
    if stripped is None:
        return False, "wrong_answer", {"labels": "differ"}
    if stripped != (g.text, p.text):
        g, p = replace(g, text=stripped[0], key=stripped[0]), replace(p, text=stripped[1], key=stripped[1])
        if p.key == g.key:
            return True, "correct", {}
    tolerance = options.get("tolerance")
    try:
        ratio = _ratio_verdict(g, p)
        if ratio is not None:
            return ratio, "correct" if ratio else "wrong_answer", {}
        if ":" in g.text or ":" in p.text:  # times, and ratios of non-rational numbers: strings only
            return False, "wrong_answer", {}
        fast = _rational_verdict(g, p, _tolerance_fractions(tolerance))  # type: ignore[arg-type]
    except TooLarge as err:
        return False, "too_large", {"guard": str(err)}
    if fast is not None:
        return fast, "correct" if fast else "wrong_answer", {}
    guard = size_guard(p.text) or size_guard(g.text)
    if guard:
        return False, "too_large", {"guard": guard}
    return _ask_worker(g, p, timeout, options)


def _safe_judge(pred: str, gold: str, timeout: float, options: dict[str, object]) -> Judgement:
    """:func:`_judge`, with any unexpected exception turned into an ``internal_error`` verdict: a
    reward function must not stop a training run (the tests assert this reason never occurs)."""
    try:
        return _judge(pred, gold, timeout, options)
    except Exception as err:  # noqa: BLE001 - the last line of the never-raise contract
        return False, "internal_error", {"error": repr(err)[:200]}


def _options(tolerance: object, positive: bool, seed: int | None) -> dict[str, object]:
    if not isinstance(positive, bool):
        raise ValueError(f"positive must be True or False, got {positive!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        raise ValueError(f"seed must be None or an int, got {seed!r}")
    return {"tolerance": check_tolerance(tolerance), "positive": positive, "seed": seed}


def is_equivalent(
    pred: str,
    gold: str,
    *,
    timeout: float = 5.0,
    tolerance: Tolerance | None = None,
    positive: bool = False,
    seed: int | None = None,
) -> bool:
    """Whether the answer ``pred`` is equivalent to the gold answer ``gold`` (both the bare
    answer text, e.g. the content of a box). ``False`` for non-string input, and when the
    verifier cannot decide; the keyword arguments are those of :func:`verify`."""
    if not isinstance(pred, str) or not isinstance(gold, str):
        return False
    return _safe_judge(pred, gold, timeout, _options(tolerance, positive, seed))[0]


def verify(
    response: str,
    gold: str,
    *,
    timeout: float = 5.0,
    tolerance: Tolerance | None = None,
    positive: bool = False,
    seed: int | None = None,
) -> Verdict:
    """Checks the final answer of a model ``response`` against ``gold``.

    Args:
        timeout: seconds the SymPy stage (a worker process) may take; a check that overruns is
            retried once with 4x the budget, then the verdict is ``timeout``.
        tolerance: the problem's explicit numeric tolerance, ``{"abs": x}`` and/or ``{"rel": x}``
            (:func:`check_tolerance`); ``None`` (the default): numbers must be exactly equal.
        positive: the problem says its variables are positive (identities are tested at positive
            points only, so ``\\sqrt{x^2}`` answers ``x``).
        seed: makes the random points of the identity test reproducible (debugging); by default
            they are fresh for every call, from ``os.urandom``.

    Returns a :class:`~thinkgym.core.Verdict`: ``score`` 1.0 when correct, else 0.0; ``format_ok``
    when an answer could be extracted; ``details["extracted"]`` holds the answer text (first 200
    characters). When the verifier cannot decide (``timeout``, ``worker_error``, ``internal_error``,
    ``invalid_gold``) the verdict has ``verifier_error=True`` and ``correct`` and ``format_ok``
    False. Bad input gives ``reason="invalid_input"``; only a malformed ``tolerance``, ``positive``
    or ``seed`` (the caller's configuration) raises a ``ValueError``."""
    options = _options(tolerance, positive, seed)
    if not isinstance(response, str) or not isinstance(gold, str):
        bad = "response" if not isinstance(response, str) else "gold"
        return Verdict(False, False, 0.0, "invalid_input", {"error": f"{bad} must be a str"})
    gold_text = gold_answer(gold)
    turn_end = _TURN_END.search(response)
    if turn_end:
        response = response[: turn_end.start()]
    run, status = final_run(response)
    details: dict[str, object] = {}
    if status == "ok":
        answer = ", ".join(str(box.content) for box in run)  # "\\boxed{1} and \\boxed{2}": a list
        parts = final_parts(response, _part_count(gold_text)) if len(run) == 1 else []
        if parts:  # "\\boxed{(3, 3)} for part (a) and \\boxed{(1, 1)}", for a gold of two parts
            answer, details["parts"] = ", ".join(parts), len(parts)
        restated = _fallback_answer(response, after=run[-1].end)
        if restated is not None and _MATHY.search(restated):  # "\\boxed{255} ... The final answer is $10,455$"
            answer, details["fallback"] = restated, "phrase_after_box"
    elif status == "no_answer":
        fallback = _unboxed_answer(response)
        if fallback is None:
            return Verdict(False, False, 0.0, "no_answer", details)
        answer, details["fallback"] = fallback[0], fallback[1]
    else:
        return Verdict(False, False, 0.0, status, details)
    details["extracted"] = answer[:200]
    correct, reason, extra = _safe_judge(answer, gold_text, timeout, options)
    details.update(extra)
    if reason in VERIFIER_ERRORS:
        return Verdict(False, False, 0.0, reason, details, verifier_error=True)
    format_ok = reason != "no_answer"
    return Verdict(correct, format_ok, 1.0 if correct else 0.0, reason, details)
