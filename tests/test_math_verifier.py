"""thinkgym.verifiers.math: the labelled pair table, extraction rules, the size guards, never
raising on hostile input, and the hard timeout from threads and asyncio.

Rows of ``tests/data/math_pairs.jsonl`` have ``pred``, ``gold``, ``expected``, ``category`` and
``note``; rows of category ``extraction`` hold a whole response, every other ``pred`` is wrapped as
``The answer is $\\boxed{pred}$.`` (as in benchmarks/bench_math_verify.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thinkgym.core import Verdict
from thinkgym.verifiers.extract import last_boxed
from thinkgym.verifiers.math import is_equivalent, verify
from thinkgym.verifiers.math_normalize import normalize
from thinkgym.verifiers.math_rational import NotRational, TooLarge, evaluate, size_guard

TABLE = Path(__file__).parent / "data" / "math_pairs.jsonl"
ROWS = [json.loads(line) for line in TABLE.read_text(encoding="utf-8").splitlines() if line.strip()]
CATEGORIES = set(
    "decimal fraction integer big_integer tiny_magnitude thousands percent units degrees mixed_number symbolic "
    "trig_log equation interval set tuple plus_minus matrix complex multiple_choice text restates_problem "
    "extraction gold_hygiene malformed".split()
)


def response_for(row: dict[str, object]) -> str:
    pred = str(row["pred"])
    return pred if row["category"] == "extraction" else f"The answer is $\\boxed{{{pred}}}$."


# --- the pair table ---------------------------------------------------------------------------


def test_table_shape() -> None:
    assert len(ROWS) >= 150
    for row in ROWS:
        assert set(row) == {"pred", "gold", "expected", "category", "note"}
        assert isinstance(row["expected"], bool)
        assert row["category"] in CATEGORIES
    assert {row["category"] for row in ROWS} == CATEGORIES
    assert len({(row["gold"], row["pred"]) for row in ROWS}) == len(ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[f"{i}-{r['category']}" for i, r in enumerate(ROWS)])
def test_pair_table(row: dict[str, object]) -> None:
    verdict = verify(response_for(row), str(row["gold"]))
    assert isinstance(verdict, Verdict)
    assert verdict.correct is row["expected"], (row, verdict)
    assert verdict.score == (1.0 if row["expected"] else 0.0)
    assert (verdict.reason == "correct") is verdict.correct


def test_is_equivalent_matches_verify_on_boxed_rows() -> None:
    for row in ROWS[:60]:
        if row["category"] != "extraction":
            assert is_equivalent(str(row["pred"]), str(row["gold"])) is row["expected"], row


# --- extraction and verdict fields ------------------------------------------------------------


@pytest.mark.parametrize(
    ("response", "reason", "format_ok"),
    [
        ("no box here", "no_answer", False),
        ("<think>so \\boxed{3}", "unfinished_thinking", False),
        ("The answer is \\boxed{3", "unclosed_box", False),
        ("\\boxed{}", "no_answer", False),
        ("\\boxed{4}", "wrong_answer", True),
        ("\\boxed{\\int_0^3 1\\,dx}", "restates_problem", True),
        ("\\boxed{\\frac{d}{dx}(3x)}", "restates_problem", True),
        ("\\boxed{x^{2}+(}", "unparseable", True),
        ("\\boxed{9^{9^{9^9}}}", "too_large", True),
    ],
)
def test_failure_reasons(response: str, reason: str, format_ok: bool) -> None:
    verdict = verify(response, "3")
    assert (verdict.correct, verdict.score, verdict.reason, verdict.format_ok) == (False, 0.0, reason, format_ok)


def test_last_box_after_thinking_counts() -> None:
    verdict = verify("<think>\\boxed{3}</think> so \\boxed{4} and finally \\fbox{3}", "3")
    assert verdict.correct and verdict.details["extracted"] == "3"
    assert not verify("<think>\\boxed{3}</think> the result is \\boxed{4}", "3").correct


def test_fallback_phrase_is_recorded() -> None:
    verdict = verify("Working... The final answer is $\\frac{1}{2}$. I hope it is correct.", "0.5")
    assert verdict.correct and verdict.format_ok and verdict.details["fallback"] == "phrase"
    boxed = verify("So \\boxed{0.5}", "\\frac12")
    assert boxed.correct and "fallback" not in boxed.details
    assert verify("Final answer: 7", "7").details["fallback"] == "phrase"
    assert verify("<think>the answer is 7</think>", "7").reason == "no_answer"


@pytest.mark.parametrize(
    ("response", "gold"),
    [(None, "1"), (12, "12"), (b"\\boxed{1}", "1"), ("\\boxed{1}", None), ("\\boxed{1}", 1), (["1"], "1")],
)
def test_non_string_input_is_a_verdict(response: object, gold: object) -> None:
    verdict = verify(response, gold)  # type: ignore[arg-type]
    assert (verdict.correct, verdict.format_ok, verdict.reason) == (False, False, "invalid_input")
    assert is_equivalent(response, gold) is False  # type: ignore[arg-type]


def test_gold_that_normalises_to_nothing() -> None:
    assert verify("\\boxed{1}", "$ $").reason == "invalid_gold"


# --- normalisation and the in-process rational stage -------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1,000", "1000"),
        ("1{,}000", "1000"),
        ("1\\,000\\,000", "1000000"),
        ("\\$12.50", "12.50"),
        ("3\\frac{1}{2}", "(3+\\frac{1}{2})"),
        ("\\left( 1,2 \\right)", "(1,2)"),
        ("\\dfrac{3}{4}", "\\frac{3}{4}"),
        ("5\\text{ cm}^2", "5"),
        ("0.\\overline{6}", "\\frac{2}{3}"),
    ],
)
def test_normalize(text: str, value: str) -> None:
    assert normalize(text).key == value


def test_normalize_markers_and_lists() -> None:
    assert normalize("50\\%").percent and normalize("30^{\\circ}").degrees
    assert normalize("1,2").bare_list and not normalize("1,234").bare_list
    assert normalize("(12,102)").text == "(12,102)" and normalize("\\{12,102\\}").text == "\\{12,102\\}"
    assert normalize("12,102").text == "12102" and normalize("32,\\! 349").text == "32349"


@pytest.mark.parametrize(
    "text",
    ["9^{9^{9^9}}", "2^{3^{4^{5}}}", "10^{10^{10}}", "(10^{100})!", "\\binom{10^9}{5\\cdot 10^8}", "1" * 5000],
)
def test_rational_stage_refuses_huge_numbers(text: str) -> None:
    with pytest.raises(TooLarge):
        evaluate(text)


def test_rational_stage_is_exact() -> None:
    assert evaluate("\\frac{2^{2005}+1}{3\\cdot2^{2006}}") != evaluate("\\frac{1}{3\\cdot2^{2006}}")
    assert evaluate("\\sqrt[3]{\\frac{8}{27}}") == evaluate("\\frac{2}{3}")
    with pytest.raises(NotRational):
        evaluate("\\sqrt{2}")


@pytest.mark.parametrize("text", ["x^{9^{9^9}}", "y\\cdot 2^{3^{4^5}}", "x(10^{100})!", "t^{10^{6}}"])
def test_size_guard_catches_numbers_inside_symbolic_answers(text: str) -> None:
    assert size_guard(text) is not None
    assert verify(f"\\boxed{{{text}}}", "x").reason == "too_large"


def test_in_process_verdicts_agree_with_sympy() -> None:
    """Every pair the in-process rational stage decides gets the same verdict from the SymPy stage."""
    from thinkgym.verifiers.math import _rational_verdict
    from thinkgym.verifiers.math_compare import judge

    decided = 0
    for row in ROWS:
        gold, pred = normalize(str(row["gold"])), normalize(str(row["pred"]))
        if row["category"] == "extraction" or gold.key == pred.key:
            continue
        try:
            fast = _rational_verdict(gold, pred)
        except TooLarge:
            continue
        if fast is not None:
            assert judge(asdict(gold), asdict(pred))["correct"] is fast, row
            decided += 1
    assert decided > 80


def _evaluated(obj: object) -> object:
    try:
        return obj.doit()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - latex2sympy's chained relations cannot be rebuilt
        return obj


def test_two_stage_parser_builds_the_same_objects() -> None:
    """The SLL-first parser, the shortcuts below the top rule and the letter-power braces change
    speed only, never the result: every table answer, and lists, sets, tuples and intervals of
    table expressions, parse to what the plain library builds."""
    import sympy
    from latex2sympy2_extended.latex2sympy2 import latex2sympy

    from thinkgym.verifiers import math_compare

    texts = [normalize(str(row[key])).text for row in ROWS for key in ("gold", "pred")]
    plain_exprs = list(dict.fromkeys(t for t in texts if t and not math_compare._STRUCTURE.search(t)))[:40]
    for a, b in zip(plain_exprs, plain_exprs[1:], strict=False):
        texts += [f"{a}, {b}", f"\\{{{a}, {b}\\}}", f"({a}, {b})", f"[{a}, {b})", f"({a}, {b}, {a})"]
    seen = 0
    for text in texts:
        try:
            plain = latex2sympy(
                math_compare._exact_decimals(text), normalization_config=None, conversion_config=math_compare._CONFIG
            )
        except Exception:  # noqa: BLE001 - the plain parser rejects it; nothing to compare
            continue
        if plain.has(sympy.Symbol("i")):
            plain = plain.xreplace({sympy.Symbol("i"): sympy.I})
        assert _evaluated(math_compare._parse(text)) == _evaluated(plain), text
        seen += 1
    assert seen > 350


# --- never raising, and settling hostile input -------------------------------------------------

ISSUE_65 = "\\dfrac{5^{\\left(5^{\\left(5^{\\left(5^5\\right)}\\right)} - 4\\right)} - 5}{16}"  # Math-Verify #65
# fragments that random answers are built from (split on spaces)
LATEX_TOKENS = (
    "\\frac{ }{ } { \\sqrt ^ _ ( ) [ ] \\{ \\} x y 2 10 0 . , = < \\le + - \\cdot \\pi i e ! \\int \\infty "
    "\\pm \\text{ \\% ^\\circ \\begin{pmatrix} \\\\ & \\end{pmatrix} | \\sin \\ln"
).split()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.text(max_size=40))
def test_never_raises_on_random_text(response: str, gold: str) -> None:
    verdict = verify(response, gold, timeout=2.0)
    assert isinstance(verdict, Verdict) and verdict.score in (0.0, 1.0)
    assert verdict.reason not in ("internal_error", "worker_error"), verdict


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(LATEX_TOKENS), max_size=25), st.lists(st.sampled_from(LATEX_TOKENS), max_size=8))
def test_never_raises_on_random_latex(pred: list[str], gold: list[str]) -> None:
    response = "\\boxed{" + "".join(pred) + "}"
    verdict = verify(response, "".join(gold) or "1", timeout=2.0)
    assert isinstance(verdict, Verdict) and verdict.reason not in ("internal_error", "worker_error"), verdict
    assert verdict.verifier_error is (verdict.reason in ("timeout", "invalid_gold")), verdict
    if last_boxed(response).content == "".join(pred) and verdict.reason != "timeout":
        # the bare-answer API gives the boxed response's verdict (fresh random points each call
        # cannot change it: a wrong answer survives them with probability below 1e-9)
        assert is_equivalent("".join(pred), "".join(gold) or "1", timeout=2.0) is verdict.correct, verdict


@pytest.mark.parametrize(
    ("response", "gold", "reasons"),
    [
        ("\\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}", "1", {"too_large"}),
        ("\\boxed{" + "(" * 10_000 + "1" + ")" * 10_000 + "}", "1", {"too_large"}),
        ("\\boxed{" + "\\frac{1}{" * 10_000 + "2" + "}" * 10_000 + "}", "0", {"too_large"}),
        ("\\boxed{" + "{" * 1_000_000, "1", {"unclosed_box"}),
        ("lorem ipsum " * 90_000, "1", {"no_answer"}),
        ("\\boxed{" + "x+" * 500_000 + "1}", "1", {"too_large"}),
        ("\\boxed{" + "1" * 1_000_000 + "}", "1", {"too_large"}),
        ("\\boxed{1} " * 100_000, "2", {"wrong_answer"}),
        ("\\boxed{9^{9^{9^9}}}", "5", {"too_large"}),
        ("\\boxed{9^{9^{9^9}}}", "x+1", {"too_large"}),
        ("\\boxed{" + ISSUE_65 + "}", "3", {"too_large"}),
        ("\\boxed{e^{e^{e^{10}}}}", "1", {"too_large"}),
        ("\\boxed{x^{10^{10}}}", "x", {"too_large"}),
    ],
    ids=(
        "deep-braces deep-parens deep-fracs megabyte-unclosed megabyte-no-box megabyte-box megabyte-digits "
        "many-boxes power-tower power-tower-symbolic issue-65 exp-tower huge-exponent-on-symbol"
    ).split(),
)
def test_adversarial_inputs_are_settled(response: str, gold: str, reasons: set[str]) -> None:
    verdict = verify(response, gold)
    assert not verdict.correct and verdict.reason in reasons


def test_identical_huge_answers_still_match() -> None:
    assert verify("\\boxed{9^{9^{9^9}}}", "9^{9^{9^9}}").correct


# --- the hard timeout: any thread, asyncio, and recovery ---------------------------------------

SYMBOLIC = ("\\boxed{(x+1)^2}", "x^2+2x+1")


def test_timeout_is_a_verdict_and_the_pool_recovers() -> None:
    assert verify(*SYMBOLIC).correct  # starts the worker
    verdict = verify(*SYMBOLIC, timeout=1e-6)
    assert (verdict.correct, verdict.reason, verdict.format_ok) == (False, "timeout", False)
    assert verdict.verifier_error
    assert verdict.details["retried"] is True
    assert verify(*SYMBOLIC).correct  # a fresh worker replaced the killed one


def test_timeout_from_a_non_main_thread() -> None:
    results: list[Verdict] = []
    thread = threading.Thread(target=lambda: results.extend([verify(*SYMBOLIC, timeout=1e-6), verify(*SYMBOLIC)]))
    thread.start()
    thread.join(60)
    assert [v.reason for v in results] == ["timeout", "correct"]


def test_timeout_inside_asyncio() -> None:
    async def main() -> list[Verdict]:
        direct = verify(*SYMBOLIC, timeout=1e-6)
        in_executor = await asyncio.to_thread(verify, *SYMBOLIC, timeout=1e-6)
        return [direct, in_executor, await asyncio.to_thread(verify, *SYMBOLIC)]

    assert [v.reason for v in asyncio.run(main())] == ["timeout", "timeout", "correct"]


def test_concurrent_threads_get_their_own_answers() -> None:
    rows = [r for r in ROWS if r["category"] in ("symbolic", "equation", "interval", "matrix")]
    with ThreadPoolExecutor(max_workers=6) as pool:
        got = list(pool.map(lambda r: verify(response_for(r), str(r["gold"])).correct, rows))
    assert got == [r["expected"] for r in rows]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_child_gets_its_own_workers() -> None:
    from thinkgym.verifiers.math_worker import get_pool

    assert verify(*SYMBOLIC).correct
    parent_pool = get_pool()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        ok = get_pool() is not parent_pool and verify(*SYMBOLIC).correct
        ok = ok and not verify("\\boxed{x^2}", "x^3").correct
        parent_pool.close()  # what an inherited atexit hook does: must not touch the parent's workers
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    assert get_pool() is parent_pool and verify(*SYMBOLIC).correct
