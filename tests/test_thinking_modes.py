"""Thinking modes: the ThinkingMode wrapper (AdaptThink / AutoThink prefills), mode detection,
AutoThink's per-episode reward and degeneracy test, and the AutoThinkReward wrapper."""

from __future__ import annotations

import pytest

from thinkgym.envs.sat import SaturnSATEnv
from thinkgym.envs.thinking import PREFILLS, ThinkingMode, thinking_mode
from thinkgym.rewards import AutoThinkReward, autothink_reward, is_degenerate


def _boxed_answer(info) -> str:
    return f"\\boxed{{{info['problem']['answer']}}}"


def _boxed_wrong(info) -> str:
    bits = list(info["problem"]["answer"])
    for literal in info["problem"]["metadata"]["clauses"][0]:  # falsify the first clause
        bits[abs(literal) - 1] = "0" if literal > 0 else "1"
    return f"\\boxed{{{''.join(bits)}}}"


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        ("<think>\n</think>\nSo \\boxed{1}", "nothinking"),  # AdaptThink's empty block
        ("<think>\n...\n</think>\n\n\\boxed{1}", "nothinking"),  # AutoThink's ellipsis, closed at once
        ("</think>\n\n\\boxed{1}", "nothinking"),  # the template opened the block
        ("<think>\n \n\t</think>\\boxed{1}", "nothinking"),  # whitespace only
        ("<think>\nLet x = 1, then...\n</think>\n\\boxed{1}", "thinking"),
        ("<think>\n...\nWait, check x.\n</think>\\boxed{1}", "thinking"),  # reasoned after the ellipsis
        ("<think>\nstill going", "thinking"),  # never closed (truncated)
        ("\\boxed{1}", "nothinking"),  # no think block at all
    ],
)
def test_thinking_mode_detection(text, mode):
    assert thinking_mode(text) == mode


def test_prefills_are_the_papers_texts():
    assert PREFILLS["nothinking"] == "<think>\n</think>"  # AdaptThink: first token </think>
    assert PREFILLS["thinking"] == "<think>\nAlright"  # AdaptThink: first token "Alright"
    assert PREFILLS["ellipsis"] == "<think>\n...\n"  # AutoThink


def test_nothinking_prefills_an_empty_think_block():
    env = ThinkingMode(SaturnSATEnv(level=1), mode="nothinking")
    obs, info = env.reset(seed=0)
    assert obs == info["problem"]["prompt"] + "\n<think>\n</think>"
    assert info["prefill"] == "<think>\n</think>" and info["prompt_mode"] == "nothinking"
    _, reward, terminated, _, info = env.step("\nThe answer is " + _boxed_answer(info))
    assert terminated and reward == 1.0 and info["thinking_mode"] == "nothinking"


def test_ellipsis_lets_the_response_choose():
    env = ThinkingMode(SaturnSATEnv(level=1), mode="ellipsis")
    _, info = env.reset(seed=0)
    _, reward, _, _, out = env.step("</think>\n\n" + _boxed_answer(info))
    assert reward == 1.0 and out["thinking_mode"] == "nothinking"
    _, info = env.reset(seed=0)
    _, reward, _, _, out = env.step("Try A=1 first.\n</think>\n" + _boxed_answer(info))
    assert reward == 1.0 and out["thinking_mode"] == "thinking"


def test_prefill_is_scored_with_the_response():
    # After "<think>\n...\n" a response that never closes the block is still thinking: no answer.
    env = ThinkingMode(SaturnSATEnv(level=1), mode="ellipsis")
    _, info = env.reset(seed=0)
    response = "maybe " + _boxed_answer(info)
    _, reward, _, _, out = env.step(response)
    assert reward == -1.0 and out["verdict"]["reason"] == "unfinished_thinking"
    assert out["thinking_mode"] == "thinking"
    bare = SaturnSATEnv(level=1)  # the same text without the prefill would count
    bare.reset(seed=0)
    assert bare.step(response)[1] == 1.0


def test_per_episode_mode_override_and_other_options_pass_through():
    env = ThinkingMode(SaturnSATEnv(level=1), mode="thinking")
    obs, info = env.reset(seed=3, options={"thinking_mode": "nothinking", "level": 2})
    assert obs.endswith("<think>\n</think>") and info["level"] == 2 and info["prompt_mode"] == "nothinking"
    _, _, _, _, out = env.step(_boxed_answer(info))
    assert out["prompt_mode"] == "nothinking"
    obs, info = env.reset(seed=3)  # back to the wrapper's mode
    assert obs.endswith("<think>\nAlright") and info["prompt_mode"] == "thinking"
    _, _, _, _, out = env.step(", so A=1.\n</think>\n" + _boxed_answer(info))
    assert out["thinking_mode"] == "thinking"


def test_bad_mode_and_bad_action():
    with pytest.raises(ValueError, match="thinking mode"):
        ThinkingMode(SaturnSATEnv(level=1), mode="sometimes")
    env = ThinkingMode(SaturnSATEnv(level=1))
    with pytest.raises(ValueError, match="thinking mode"):
        env.reset(options={"thinking_mode": "maybe"})
    env.reset(seed=0)
    with pytest.raises(TypeError, match="str"):
        env.step(123)


# ---------------------------------------------------------------------------------------------
# AutoThink's base reward and degeneracy test (code math_reward.py)


@pytest.mark.parametrize(
    ("correct", "thinking", "format_ok", "degenerate", "expected"),
    [
        (True, True, True, False, 1.0),
        (False, True, True, False, 0.0),
        (True, False, True, False, 2.0),
        (False, False, True, False, -1.0),
        (False, False, True, True, -2.0),  # degenerate no-think wrong answer
        (False, True, True, True, 0.0),  # only a negative reward becomes -2
        (True, False, True, True, 2.0),
        (False, False, False, True, 0.0),  # format error: 0 whatever the mode
        (False, True, False, False, 0.0),
    ],
)
def test_autothink_reward_table(correct, thinking, format_ok, degenerate, expected):
    assert autothink_reward(correct, thinking, format_ok, degenerate) == expected


@pytest.mark.parametrize(
    ("text", "degenerate"),
    [
        ("no " * 10, True),  # 10 identical 1-grams in a row
        ("no " * 9 + "yes", False),  # only 9
        ("x" * 120, True),  # one 120-character token
        ("x" * 119 + " y", False),
        ("a b " * 10, True),  # 10 identical 2-gram chunks from the start
        ("c " + "a b " * 10, False),  # chunks are cut from the start: (c a)(b a)x9 is a run of 9
        ("c " + "a b " * 11, True),  # (c a)(b a)x10
        ("The answer follows from the clause structure, see below. " * 3, False),
        ("", False),
    ],
)
def test_is_degenerate(text, degenerate):
    assert is_degenerate(text) is degenerate


def test_autothink_reward_wrapper():
    env = AutoThinkReward(ThinkingMode(SaturnSATEnv(level=1), mode="ellipsis"))

    def play(make):
        _, info = env.reset(seed=0)
        return env.step(make(info))

    _, r, _, _, info = play(lambda i: "</think>\n\n" + _boxed_answer(i))
    assert r == 2.0 and info["reward_parts"] == {"correctness": 2.0, "degenerate": 0.0}
    assert info["base_reward"] == 1.0
    assert play(lambda i: "</think>\n\n" + _boxed_wrong(i))[1] == -1.0
    _, r, _, _, info = play(lambda i: "</think>\n\n" + "no " * 12 + _boxed_wrong(i))
    assert r == -2.0 and info["reward_parts"] == {"correctness": -1.0, "degenerate": -1.0}
    assert play(lambda i: "A=1?\n</think>\n" + _boxed_answer(i))[1] == 1.0
    assert play(lambda i: "A=1?\n</think>\n" + "no " * 12 + _boxed_wrong(i))[1] == 0.0  # thinking: no -2
    assert play(lambda i: "A=1?\n</think>\nno idea")[1] == 0.0  # format error


def test_autothink_reward_needs_thinking_mode():
    env = AutoThinkReward(SaturnSATEnv(level=1))
    env.reset(seed=0)
    with pytest.raises(ValueError, match="ThinkingMode"):
        env.step("\\boxed{00000}")
