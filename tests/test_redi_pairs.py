"""REDI's pairs leave out traces whose verifier could not decide: such a verdict says nothing about
the answer, so the trace is neither a positive nor a negative, and the number left out is logged."""

import json
import logging

import pytest

pytest.importorskip("torch")

from thinkgym.agents.grpo.redi import is_verifier_error, make_pairs, read_traces  # noqa: E402


def trace(prompt, response, correct, verifier_error=False, **extra):
    """A line as ``thinkgym train --save-traces`` writes it (rollout.Episode.trace)."""
    return {
        "problem_id": f"id-{prompt}",
        "seed": 0,
        "prompt": prompt,
        "response": response,
        "reward": 1.0 if correct else 0.0,
        "correct": correct,
        "turns": 1,
        "truncated": False,
        "verifier_error": verifier_error,
        **extra,
    }


TRACES = [
    trace("a", "timeout-a", False, verifier_error=True),  # would be a's first negative
    trace("a", "w1", True),
    trace("a", "l1", False),
    trace("a", "w2", True),
    trace("b", "crash-b", False, verifier_error=True),  # b's only "negative"
    trace("b", "w3", True),
    # a line written by other tools: the flag inside the verdict, no top-level one
    {
        "prompt": "a",
        "response": "timeout-2",
        "correct": False,
        "verdict": {"reason": "timeout", "verifier_error": True},
    },
    trace("a", "l2", False),
]


def test_verifier_error_traces_are_neither_positives_nor_negatives(caplog):
    with caplog.at_level(logging.WARNING, logger="thinkgym.agents.grpo.redi"):
        pairs = make_pairs(TRACES)
    # a: positives w1, w2 and negatives l1, l2 (not the timeouts); b: no negative left, no pair
    assert pairs == [("a", "w1", "l1"), ("a", "w2", "l2")]
    responses = {r for pair in pairs for r in pair[1:]}
    assert not responses & {"timeout-a", "crash-b", "timeout-2"}
    [record] = caplog.records
    assert "left out 3 of 8 traces" in record.getMessage() and "verifier_error" in record.getMessage()


def test_no_warning_when_every_verdict_was_reached(caplog):
    clean = [t for t in TRACES if not is_verifier_error(t)]
    with caplog.at_level(logging.WARNING, logger="thinkgym.agents.grpo.redi"):
        assert make_pairs(clean) == [("a", "w1", "l1"), ("a", "w2", "l2")]
    assert caplog.records == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (trace("p", "r", False, verifier_error=True), True),
        (trace("p", "r", False), False),
        ({"prompt": "p", "response": "r", "correct": False, "verdict": {"verifier_error": True}}, True),
        ({"prompt": "p", "response": "r", "correct": False, "verdict": {"verifier_error": False}}, False),
        ({"prompt": "p", "response": "r", "correct": True}, False),  # older traces without the field
    ],
)
def test_is_verifier_error(line, expected):
    assert is_verifier_error(line) is expected


def test_a_file_whose_only_negatives_are_verifier_errors_gives_no_pairs(tmp_path):
    path = tmp_path / "traces.jsonl"
    lines = [trace("q", "right", True), trace("q", "timed out", False, verifier_error=True)]
    path.write_text("".join(json.dumps(t) + "\n" for t in lines))
    assert make_pairs(read_traces(path)) == []
