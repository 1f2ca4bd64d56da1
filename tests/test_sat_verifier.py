"""The SAT verifier: strict, correct on solver answers, never fooled, never raises."""

import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thinkgym.agents.policies import OraclePolicy
from thinkgym.generators import sat
from thinkgym.verifiers.extract import last_boxed
from thinkgym.verifiers.sat import first_unsatisfied, verify

PROBLEM = sat.generate(sat.check_params(3, 5, 13), 3)
CLAUSES, K = PROBLEM.metadata["clauses"], PROBLEM.metadata["num_vars"]


def _violating(clauses, k, rng):
    """An assignment that falsifies one clause (all its literals false), the rest random."""
    bits = [rng.choice("01") for _ in range(k)]
    for lit in rng.choice(clauses):
        bits[abs(lit) - 1] = "0" if lit > 0 else "1"
    return "".join(bits)


def test_oracle_answers_score_correct_and_violations_never_do_across_all_levels():
    rng = random.Random(0)
    oracle = OraclePolicy()
    levels = sorted(sat.LEVELS)
    for episode in range(1000):
        level = levels[episode % len(levels)]
        p = sat.generate(sat.check_params(**sat.LEVELS[level]), episode)
        info = {"problem": p.to_dict()}
        clauses, k = p.metadata["clauses"], p.metadata["num_vars"]
        verdict = verify(oracle.act(p.prompt, info), clauses, k)
        assert verdict.correct and verdict.reason == "correct", (level, episode, verdict)
        bad = _violating(clauses, k, rng)
        verdict = verify(f"\\boxed{{{bad}}}", clauses, k)
        assert not verdict.correct and verdict.reason == "unsatisfied_clause"
        assert verdict.format_ok and verdict.score == 0.0


@pytest.mark.parametrize(
    "response,reason,format_ok",
    [
        ("", "no_answer", False),
        ("the answer is 10101", "no_answer", False),
        ("\\boxed{10101", "unclosed_box", False),
        ("<think>\\boxed{" + PROBLEM.answer + "}", "unfinished_thinking", False),
        ("\\boxed{}", "wrong_length", True),
        ("\\boxed{" + PROBLEM.answer + "0}", "wrong_length", True),
        ("\\boxed{" + PROBLEM.answer[:-1] + "}", "wrong_length", True),
        ("\\boxed{1a101}", "bad_char", True),
        ("\\boxed{1 1 0}", "bad_char", True),
        ("\\boxed{ABCDE}", "bad_char", True),
        ("\\boxed{-1101}", "bad_char", True),
    ],
)
def test_malformed_answers_have_reasons(response, reason, format_ok):
    verdict = verify(response, CLAUSES, K)
    assert (verdict.correct, verdict.reason, verdict.format_ok) == (False, reason, format_ok)


def test_saturn_length_hole_is_closed():
    # SATURN's scorer reads missing positions as 0: for a formula of only negated literals an empty
    # box "satisfies" it there. Here it is a wrong_length.
    only_negative = [[-1, -2, -3], [-2, -3, -4]]
    assert verify("\\boxed{}", only_negative, 4).reason == "wrong_length"
    assert verify("\\boxed{0000}", only_negative, 4).correct


def test_answer_rules():
    good = PROBLEM.answer
    assert verify(f"think... \\boxed{{0}} then \\boxed{{{good}}}", CLAUSES, K).correct  # last box counts
    bad = _violating(CLAUSES, K, random.Random(1))
    assert verify(f"\\boxed{{{good}}} no wait \\boxed{{{bad}}}", CLAUSES, K).reason == "unsatisfied_clause"
    assert verify(f"<think>\\boxed{{{'x' * K}}}</think> so \\boxed{{ {good} }}", CLAUSES, K).correct
    assert verify(f"\\boxed{{\\text{{{good}}}}}", CLAUSES, K).correct
    assert verify(f"\\fbox{{{good}}}", CLAUSES, K).correct
    assert verify(f"<think>\\boxed{{{good}}}</think>no final box", CLAUSES, K).reason == "no_answer"


def test_adversarial_sizes_do_not_raise():
    huge = "1" * 1_000_000
    assert verify(f"\\boxed{{{huge}}}", CLAUSES, K).reason == "wrong_length"
    assert verify("{" * 10_000 + "\\boxed{" + "{" * 10_000, CLAUSES, K).reason == "unclosed_box"
    assert verify("\\boxed{" * 100_000, CLAUSES, K).reason == "unclosed_box"
    nested = "\\boxed{" * 5_000 + "1" + "}" * 5_000
    assert verify(nested, CLAUSES, K).reason == "wrong_length"
    assert verify("\x00\ud800" * 1000, CLAUSES, K).reason == "no_answer"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.sampled_from(list("01{}\\boxedfx <>/think2 \n")) | st.characters(), max_size=300))
def test_any_text_gives_a_verdict_and_correct_means_satisfying(text):
    verdict = verify(text, CLAUSES, K)
    assert isinstance(verdict.reason, str)
    if verdict.correct:
        content = last_boxed(text).content.strip()
        assert first_unsatisfied(content, CLAUSES) == -1 and len(content) == K


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="01", min_size=0, max_size=8), st.text(max_size=50), st.text(max_size=50))
def test_boxed_assignments_are_judged_exactly(bits, before, after):
    before = before.replace("\\", "").replace("<think>", "")
    after = after.replace("\\", "").replace("{", "").replace("}", "")
    verdict = verify(f"{before}\\boxed{{{bits}}}{after}", CLAUSES, K)
    expected = len(bits) == K and first_unsatisfied(bits, CLAUSES) == -1
    assert verdict.correct == expected
