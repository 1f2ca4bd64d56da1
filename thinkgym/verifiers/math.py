"""Math answer checking: :func:`verify` (a whole response against a gold answer) and
:func:`is_equivalent` (two answers).

The pipeline, cheapest first:

1. **Extract** the final answer: the last top-level ``\\boxed{}``/``\\fbox{}`` after the last
   ``</think>`` (:func:`thinkgym.verifiers.extract.last_boxed`). Without a box, the text after the
   last "the answer is" / "final answer:" is used (``details["fallback"]``); an unclosed box or an
   unfinished ``<think>`` is a format error.
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

Rules for numbers: a gold written as a decimal with d places accepts any answer within half a unit
of its last place (gold ``3.14`` accepts ``3.1416`` and ``\\pi``, not ``3.1``); any other gold needs
an exactly equal value (``0.5`` matches ``\\frac12``, ``1.414`` does not match ``\\sqrt2``, ``0.333``
does not match ``\\frac13``, ``0.\\overline{3}`` does). A percent sign may be dropped or added on
one side (gold ``50\\%`` accepts ``50`` and ``0.5``); a degree sign likewise (``45^\\circ`` matches
``\\frac{\\pi}{4}``). Units are ignored.

Verdict reasons: ``correct``, ``wrong_answer``, ``no_answer``, ``unclosed_box``,
``unfinished_thinking``, ``unparseable``, ``restates_problem``, ``too_large`` (an answer over the
size bounds that is not identical to the gold), ``timeout``, ``worker_error``, ``invalid_gold``,
``invalid_input`` (a non-string argument) and ``internal_error`` (a bug caught at the boundary).
Nothing here raises on any input.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from fractions import Fraction

from thinkgym.core import Verdict
from thinkgym.verifiers.extract import answer_region, last_boxed
from thinkgym.verifiers.math_normalize import Answer, choice_letter, nesting_depth, normalize, words
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

__all__ = ["is_equivalent", "verify"]

_MAX_RAW_CHARS = 20_000  # longer answers are only compared as exact strings
_MAX_DEPTH = 40  # more deeply nested answers likewise
_MAX_CHARS = 1_000  # longest normalised answer handed to a parser
_FALLBACK_WINDOW = 4_000  # the fallback phrase is searched in this many final characters
_FALLBACK = re.compile(r"(?:final answer|the answer)\s*(?:is|:)\s*:?", re.IGNORECASE)
_FALLBACK_MATH = re.compile(r"\s*(\$\$?)(.+?)\1|\s*\\\((.+?)\\\)", re.DOTALL)
_SENTENCE_END = re.compile(r"\.(?:\s|$)|\n")
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


def _fallback_answer(response: str) -> str | None:
    """The answer after the last "the answer is" / "final answer:" in the answer region."""
    offset, _ = answer_region(response)
    start = max(offset, len(response) - _FALLBACK_WINDOW)
    last = None
    for match in _FALLBACK.finditer(response, start):
        last = match
    if last is None:
        return None
    rest = response[last.end() :]
    math = _FALLBACK_MATH.match(rest)
    if math:
        return (math.group(2) or math.group(3)).strip()
    end = _SENTENCE_END.search(rest)
    answer = (rest[: end.start()] if end else rest).strip()
    return answer or None


def _restated(text: str) -> set[str]:
    return {name for name, pattern in _RESTATED.items() if pattern.search(text)}


def _scalars_match(gold: Answer, g: Fraction, pred: Answer, p: Fraction) -> bool:
    golds = [g, g / 100] if gold.percent and not pred.percent else [g]
    preds = [p, p / 100] if pred.percent and not gold.percent else [p]
    for i, ga in enumerate(golds):
        for pa in preds:
            if i == 0 and gold.decimal_places is not None:
                if abs(pa - ga) <= Fraction(5, 10 ** (gold.decimal_places + 1)):
                    return True
            elif pa == ga:
                return True
    return False


def _structures_match(g: Structure, p: Structure) -> bool:
    kinds = {g.kind, p.kind}
    if kinds <= {"set", "bare"}:
        return set(g.items) == set(p.items)
    if kinds <= {"tuple", "bare"}:
        return g.items == p.items
    return False  # a point is not a set


def _intervals_match(g: Interval, p: Interval | Structure) -> bool:
    ends = (g.lo, g.hi, g.lo_closed, g.hi_closed)
    if isinstance(p, Structure):  # "(a, b)" may be an open interval as well as a point
        return p.kind == "tuple" and len(p.items) == 2 and ends == (*p.items, False, False)
    if g.variable and p.variable and g.variable != p.variable:
        return False
    return ends == (p.lo, p.hi, p.lo_closed, p.hi_closed)


def _rational_verdict(gold: Answer, pred: Answer) -> bool | None:
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
            return _intervals_match(g, p) if isinstance(p, Interval | Structure) else False
        return isinstance(g, Structure) and _intervals_match(p, g)
    if isinstance(g, Structure) and isinstance(p, Structure):
        return _structures_match(g, p)
    if isinstance(g, Structure) or isinstance(p, Structure):
        structure, scalar = (g, p) if isinstance(g, Structure) else (p, g)
        if structure.kind not in ("set", "bare") or len(set(structure.items)) != 1:
            return False  # a number is not a list of several numbers
        g, p = (structure.items[0], scalar) if structure is g else (scalar, structure.items[0])
    return _scalars_match(gold, g, pred, p)


def _judge(pred: str, gold: str, timeout: float) -> tuple[bool, str, dict[str, object]]:
    """(correct, reason, details) for two extracted answers."""
    if max(len(pred), len(gold)) > _MAX_RAW_CHARS or max(nesting_depth(pred), nesting_depth(gold)) > _MAX_DEPTH:
        same = pred.strip() == gold.strip()
        return same, "correct" if same else "too_large", {} if same else {"guard": "length or nesting"}
    g, p = normalize(gold), normalize(pred)
    if not g.text:
        return False, "invalid_gold", {}
    if not p.text:
        return False, "no_answer", {}
    if p.key == g.key:
        return True, "correct", {}
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
    if ":" in g.text or ":" in p.text:  # times and ratios are compared as strings only
        return False, "wrong_answer", {}
    try:
        fast = _rational_verdict(g, p)
    except TooLarge as err:
        return False, "too_large", {"guard": str(err)}
    if fast is not None:
        return fast, "correct" if fast else "wrong_answer", {}
    guard = size_guard(p.text) or size_guard(g.text)
    if guard:
        return False, "too_large", {"guard": guard}
    try:
        reply = get_pool().call({"gold": asdict(g), "pred": asdict(p)}, timeout)
    except (EOFError, OSError) as err:
        return False, "worker_error", {"error": repr(err)}
    if reply is None:
        return False, "timeout", {"timeout_s": timeout}
    return bool(reply["correct"]), str(reply["reason"]), dict(reply["details"])


def _safe_judge(pred: str, gold: str, timeout: float) -> tuple[bool, str, dict[str, object]]:
    """:func:`_judge`, with any unexpected exception turned into an ``internal_error`` verdict: a
    reward function must not stop a training run (the tests assert this reason never occurs)."""
    try:
        return _judge(pred, gold, timeout)
    except Exception as err:  # noqa: BLE001 - the last line of the never-raise contract
        return False, "internal_error", {"error": repr(err)[:200]}


def is_equivalent(pred: str, gold: str, *, timeout: float = 5.0) -> bool:
    """Whether the answer ``pred`` is equivalent to the gold answer ``gold`` (both the bare
    answer text, e.g. the content of a box). ``False`` for non-string input; never raises."""
    if not isinstance(pred, str) or not isinstance(gold, str):
        return False
    return _safe_judge(pred, gold, timeout)[0]


def verify(response: str, gold: str, *, timeout: float = 5.0) -> Verdict:
    """Checks the final answer of a model ``response`` against ``gold``.

    ``timeout`` bounds, in seconds, the SymPy stage that runs in a worker process. Returns a
    :class:`~thinkgym.core.Verdict`: ``score`` 1.0 when correct, else 0.0; ``format_ok`` when an
    answer could be extracted; ``details["extracted"]`` holds the answer text (first 200
    characters). Never raises: bad input gives ``reason="invalid_input"``."""
    if not isinstance(response, str) or not isinstance(gold, str):
        bad = "response" if not isinstance(response, str) else "gold"
        return Verdict(False, False, 0.0, "invalid_input", {"error": f"{bad} must be a str"})
    box = last_boxed(response)
    details: dict[str, object] = {}
    if box.status == "ok" and box.content is not None:
        answer = box.content
    elif box.status == "no_answer":
        fallback = _fallback_answer(response)
        if fallback is None:
            return Verdict(False, False, 0.0, "no_answer", details)
        answer, details["fallback"] = fallback, True
    else:
        return Verdict(False, False, 0.0, box.status, details)
    details["extracted"] = answer[:200]
    correct, reason, extra = _safe_judge(answer, gold, timeout)
    details.update(extra)
    format_ok = reason != "no_answer"
    return Verdict(correct, format_ok, 1.0 if correct else 0.0, reason, details)
