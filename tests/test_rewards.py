"""Per-episode rewards (thinkgym.rewards.length / format), the env wrappers that apply them, and
the TRL adapter. Expected values are computed by hand from the papers' formulas in the comments."""

from __future__ import annotations

import json
import math

import gymnasium
import pytest

import thinkgym  # noqa: F401  (registers Saturn-SAT-v0)
from thinkgym.envs.sat import SaturnSATEnv
from thinkgym.rewards import (
    HapoReward,
    LaserReward,
    OpenRSReward,
    OverlongPenalty,
    cosine_length_reward,
    dapo_overlong_penalty,
    hapo_length_reward,
    laser_de_reward,
    laser_reward,
    length_counter,
    open_rs_format_reward,
    trl_reward_func,
)

# ---------------------------------------------------------------------------------------------
# LASER (arXiv 2505.15612 Sec. 4): r = C(y) + 0.5·1[correct and L <= L_T], C = 1 / -0.5 / -1


@pytest.mark.parametrize(
    ("correct", "length", "format_ok", "expected"),
    [
        (True, 100, True, 1.5),  # 1 + 0.5: L = L_T exactly still gets the bonus
        (True, 99, True, 1.5),
        (True, 101, True, 1.0),  # 1 + 0: one past the target
        (False, 10, True, -0.5),  # wrong: no bonus even when short
        (False, 10, False, -1.0),  # no answer (format failure / truncated)
        (True, 10, False, -1.0),  # a format failure is never rewarded as correct
    ],
)
def test_laser_reward_table(correct, length, format_ok, expected):
    assert laser_reward(correct, length, 100, format_ok) == expected


def test_laser_reward_alpha():
    assert laser_reward(True, 5, 10, alpha=0.2) == pytest.approx(1.2)  # 1 + 0.2


@pytest.mark.parametrize(
    ("correct", "length", "format_ok", "repetitive", "expected"),
    [
        (False, 200, True, False, 0.0),  # LASER-DE: -0.5 + 0.5 for a long, non-repetitive wrong answer
        (False, 200, True, True, -0.5),  # repetitive: no exploration bonus
        (False, 100, True, False, -0.5),  # L = target is not "longer than the target"
        (False, 200, False, False, -1.0),  # format failures get nothing
        (True, 100, True, False, 1.5),  # correct cases are LASER's
        (True, 200, True, False, 1.0),
    ],
)
def test_laser_de_reward(correct, length, format_ok, repetitive, expected):
    assert laser_de_reward(correct, length, 100, format_ok, repetitive) == expected


# ---------------------------------------------------------------------------------------------
# Open-RS cosine: r = v_min + 0.5 (v_max - v_min)(1 + cos(pi L / L_max)), r(0) = at_zero


@pytest.mark.parametrize(
    ("length", "at_zero", "at_max", "expected"),
    [
        (0, 1.0, 0.5, 1.0),  # 0.5 + 0.25·(1 + 1)
        (1792, 1.0, 0.5, 0.75),  # half way: cos(pi/2) = 0 -> 0.5 + 0.25
        (896, 1.0, 0.5, 0.5 + 0.25 * (1 + math.sqrt(0.5))),  # cos(pi/4) = 0.70711 -> 0.92678
        (3584, 1.0, 0.5, 0.5),  # cos(pi) = -1
        (0, 0.0, -0.5, 0.0),  # wrong answers: 0.0 at L = 0 ...
        (1792, 0.0, -0.5, -0.25),
        (3584, 0.0, -0.5, -0.5),  # ... down to -0.5 at L_max
        (7168, 1.0, 0.5, 0.5),  # clamped: Open-RS's code would wrap around to 1.0 at 2·L_max
        (5376, 1.0, 0.5, 0.5),  # clamped (unclamped: cos(1.5 pi) = 0 -> 0.75)
    ],
)
def test_cosine_length_reward(length, at_zero, at_max, expected):
    assert cosine_length_reward(length, 3584, at_zero, at_max) == pytest.approx(expected)


def test_cosine_length_reward_rejects_bad_max_length():
    with pytest.raises(ValueError, match="max_length"):
        cosine_length_reward(10, 0, 1.0, 0.5)


def test_open_rs_format_reward():
    assert open_rs_format_reward("<think>\nreasoning\n</think>\nanswer") == 1.0
    assert open_rs_format_reward("reasoning\n</think>\nanswer") == 1.0  # <think> is not checked
    assert open_rs_format_reward("reasoning</think>answer") == 0.0  # needs the newlines
    assert open_rs_format_reward("a\n</think>\nb\n</think>\nc") == 0.0  # exactly one
    assert open_rs_format_reward("no tags at all") == 0.0


# ---------------------------------------------------------------------------------------------
# DAPO Eq. 13 with L_max = 20480, L_cache = 4096 (free region ends at 16384)


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (0, 0.0),
        (16384, 0.0),  # L = L_max - L_cache: still free
        (16385, -1 / 4096),  # (16384 - 16385) / 4096 = -0.000244
        (18432, -0.5),  # (16384 - 18432) / 4096
        (20480, -1.0),  # L = L_max: (16384 - 20480) / 4096
        (20481, -1.0),  # past L_max
    ],
)
def test_dapo_overlong_penalty(length, expected):
    assert dapo_overlong_penalty(length, 20480, 4096) == pytest.approx(expected)


@pytest.mark.parametrize("cache", [0, -1, 20481])
def test_dapo_overlong_penalty_rejects_bad_cache(cache):
    with pytest.raises(ValueError, match="cache"):
        dapo_overlong_penalty(10, 20480, cache)


# ---------------------------------------------------------------------------------------------
# HAPO: f = cos(min(pi/2 · L/h, pi)); correct: max(f, -0.7); incorrect: min(f, 0)


@pytest.mark.parametrize(
    ("length", "correct", "expected"),
    [
        (0, True, 1.0),  # cos(0)
        (50, True, math.sqrt(0.5)),  # cos(pi/4) = 0.70711
        (50, False, 0.0),  # min(0.70711, 0): short wrong answers are not rewarded
        (100, True, 0.0),  # L = h: cos(pi/2) = 0
        (133, True, math.cos(1.33 * math.pi / 2)),  # -0.4955, above the -0.7 floor
        (150, True, -0.7),  # cos(3pi/4) = -0.70711 -> floored at -0.7
        (150, False, -math.sqrt(0.5)),  # incorrect: no floor
        (200, True, -0.7),  # L = 2h: cos(pi) = -1 -> -0.7
        (200, False, -1.0),
        (10_000, False, -1.0),  # L >= 2h stays at cos(pi)
    ],
)
def test_hapo_length_reward(length, correct, expected):
    assert hapo_length_reward(length, 100, correct) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("correct", [True, False])
def test_hapo_length_reward_without_history_is_zero(correct):
    assert hapo_length_reward(123, None, correct) == 0.0


def test_hapo_any_correct_beats_any_incorrect():
    # r = 1[correct] + w·r_len with w = 1: correct >= 1 - 0.7 = 0.3 > 0 >= incorrect
    for h in (1, 10, 1000):
        for length in range(0, 5 * h + 1, max(1, h // 7)):
            assert 1.0 + hapo_length_reward(length, h, True) >= 0.3 - 1e-12
            assert hapo_length_reward(length, h, False) <= 0.0


# ---------------------------------------------------------------------------------------------
# Wrappers on the real SAT env


def _sat(level: int = 1) -> SaturnSATEnv:
    return SaturnSATEnv(level=level)


def _wrong(info) -> str:
    """A k-bit assignment that falsifies the first clause (so it is wrong for sure)."""
    bits = list(info["problem"]["answer"])
    for literal in info["problem"]["metadata"]["clauses"][0]:
        bits[abs(literal) - 1] = "0" if literal > 0 else "1"
    return "".join(bits)


def _boxed(answer: str, total_length: int) -> str:
    """``x…x \\boxed{answer}`` padded with leading x's to exactly ``total_length`` characters."""
    core = f" \\boxed{{{answer}}}"
    assert total_length >= len(core)
    return "x" * (total_length - len(core)) + core


def _play(env, response: str, seed: int = 0):
    _, info = env.reset(seed=seed)
    text = response(info) if callable(response) else response
    return env.step(text)


def test_laser_wrapper_on_sat_env():
    env = LaserReward(gymnasium.make("Saturn-SAT-v0", level=1), target=40)
    _, r, terminated, _, info = _play(env, lambda i: _boxed(i["problem"]["answer"], 40))
    assert terminated and r == 1.5  # correct, 40 chars <= 40
    assert info["base_reward"] == 1.0 and info["response_length"] == 40
    assert info["reward_parts"] == {"correctness": 1.0, "length": 0.5}
    assert _play(env, lambda i: _boxed(i["problem"]["answer"], 41))[1] == 1.0
    _, r, _, _, info = _play(env, lambda i: _boxed(_wrong(i), 20))
    assert r == -0.5 and info["base_reward"] == 0.0
    _, r, _, _, info = _play(env, "I have no idea.")
    assert r == -1.0 and info["base_reward"] == -1.0


def test_reward_parts_sum_to_the_reward():
    wrappers = [
        LaserReward(_sat(), target=30),
        HapoReward(_sat()),
        OpenRSReward(_sat(), max_length=50),
        OverlongPenalty(_sat(), max_length=40, cache=20),
    ]
    for env in wrappers:
        for seed in range(3):
            for make in (lambda i: _boxed(i["problem"]["answer"], 35), lambda i: _boxed(_wrong(i), 25)):
                _, r, _, _, info = _play(env, make, seed)
                assert r == pytest.approx(sum(info["reward_parts"].values())), type(env).__name__


class _WordTokenizer:
    """Whitespace tokens; like Hugging Face tokenizers it adds a BOS id unless told not to."""

    def encode(self, text, add_special_tokens=True):
        return ([0] if add_special_tokens else []) + [1] * len(text.split())


class _PlainTokenizer:
    def encode(self, text):
        return text.split()


def test_length_counter():
    assert length_counter()("héllo wörld") == 11  # characters
    assert length_counter(_WordTokenizer())("a b c") == 3  # BOS left out
    assert length_counter(_PlainTokenizer())("a b c d") == 4
    with pytest.raises(TypeError, match="encode"):
        length_counter(object())


def test_laser_wrapper_counts_tokens_with_a_tokenizer():
    env = LaserReward(_sat(), target=3, tokenizer=_WordTokenizer())
    _, r, _, _, info = _play(env, lambda i: f"so then \\boxed{{{i['problem']['answer']}}}")  # 3 tokens
    assert info["response_length"] == 3 and r == 1.5
    _, r, _, _, info = _play(env, lambda i: f"so then so \\boxed{{{i['problem']['answer']}}}")  # 4 tokens
    assert info["response_length"] == 4 and r == 1.0


def test_hapo_wrapper_keeps_history_per_problem():
    env = HapoReward(_sat(), weight=1.0)
    right = lambda length: lambda i: _boxed(i["problem"]["answer"], length)  # noqa: E731
    # First encounter: h = None -> r = 1 + 0; then h = 50
    assert _play(env, right(50))[1] == 1.0
    # h = 50, L = 25: 1 + cos(pi/4) = 1.70711; then h = 25
    assert _play(env, right(25))[1] == pytest.approx(1 + math.sqrt(0.5))
    # h = 25, wrong, L = 60 >= 2h: 0 + min(-1, 0) = -1
    assert _play(env, lambda i: _boxed(_wrong(i), 60))[1] == pytest.approx(-1.0)
    assert list(env.history.values()) == [25]
    # another problem (seed 1) has no history yet: pure correctness
    _, r, _, _, info = _play(env, right(60), seed=1)
    assert r == 1.0 and info["reward_parts"] == {"correctness": 1.0, "length": 0.0}
    assert len(env.history) == 2


def test_hapo_wrapper_weight_scales_the_length_term():
    env = HapoReward(_sat(), weight=0.5)
    _play(env, lambda i: _boxed(i["problem"]["answer"], 40))  # h = 40
    # wrong, L = 80 = 2h: 0 + 0.5·(-1)
    assert _play(env, lambda i: _boxed(_wrong(i), 80))[1] == pytest.approx(-0.5)
    with pytest.raises(ValueError, match="weight"):
        HapoReward(_sat(), weight=1.5)


def test_hapo_wrapper_updates_once_per_batch():
    # update_every = 2: both samples of a group of 2 are scored against the history before it
    env = HapoReward(_sat(), update_every=2)
    right = lambda length: lambda i: _boxed(i["problem"]["answer"], length)  # noqa: E731
    assert _play(env, right(50))[1] == 1.0
    assert _play(env, right(30))[1] == 1.0  # still h = None, not 50
    assert list(env.history.values()) == [30]  # min of the batch
    # next group: h = 30, L = 30 -> 1 + cos(pi/2) = 1 ; L = 15 -> 1 + cos(pi/4)
    assert _play(env, right(30))[1] == pytest.approx(1.0)
    assert _play(env, right(15))[1] == pytest.approx(1 + math.sqrt(0.5))


def test_hapo_wrapper_state_dict_resumes_exactly():
    env = HapoReward(_sat(), update_every=2)
    _play(env, lambda i: _boxed(i["problem"]["answer"], 40))
    _play(env, lambda i: _boxed(i["problem"]["answer"], 40), seed=1)
    _play(env, lambda i: _boxed(i["problem"]["answer"], 30))  # pending, not yet committed
    state = json.loads(json.dumps(env.state_dict()))
    resumed = HapoReward(_sat(), update_every=2)
    resumed.load_state_dict(state)
    for seed, length in [(0, 20), (1, 35), (0, 50)]:
        expected = _play(env, lambda i, n=length: _boxed(i["problem"]["answer"], n), seed)[1]
        assert _play(resumed, lambda i, n=length: _boxed(i["problem"]["answer"], n), seed)[1] == expected
    assert resumed.history == env.history


def test_open_rs_wrapper():
    env = OpenRSReward(_sat(), max_length=80)
    think = "<think>\nhmm\n</think>\n"
    # 40 of 80 chars: cosine 0.75 -> 1·1 + 2·0.75 = 2.5
    _, r, _, _, info = _play(env, lambda i: think + _boxed(i["problem"]["answer"], 40 - len(think)))
    assert info["response_length"] == 40 and r == pytest.approx(2.5)
    assert info["reward_parts"] == pytest.approx({"format": 1.0, "cosine": 1.5})
    # wrong, 40 chars: 1 + 2·(-0.25) = 0.5
    assert _play(env, lambda i: think + _boxed(_wrong(i), 40 - len(think)))[1] == pytest.approx(0.5)
    # correct, no think block, 80 chars: 0 + 2·0.5 = 1.0
    assert _play(env, lambda i: _boxed(i["problem"]["answer"], 80))[1] == pytest.approx(1.0)


def test_overlong_wrapper():
    env = OverlongPenalty(_sat(), max_length=40, cache=20)
    # correct, L = 30: 1 + (20 - 30)/20 = 0.5
    _, r, _, _, info = _play(env, lambda i: _boxed(i["problem"]["answer"], 30))
    assert r == pytest.approx(0.5) and info["reward_parts"] == {"base": 1.0, "overlong": -0.5}
    # DAPO's +1/-1 base: wrong at L = 20 (free): -1 + 0
    dapo = OverlongPenalty(SaturnSATEnv(level=1, rewards={"wrong": -1.0}), max_length=40, cache=20)
    assert _play(dapo, lambda i: _boxed(_wrong(i), 20))[1] == -1.0
    with pytest.raises(ValueError, match="cache"):
        OverlongPenalty(_sat(), max_length=10, cache=20)


# ---------------------------------------------------------------------------------------------
# TRL adapter: f(prompts, completions, **columns) -> list[float], called as TRL calls it


def test_trl_adapter_wraps_a_text_reward_for_strings_and_messages():
    f = trl_reward_func(open_rs_format_reward)
    assert f.__name__ == "open_rs_format_reward"
    good, bad = "<think>\nx\n</think>\ny", "y"
    assert f(prompts=["p", "p"], completions=[good, bad]) == [1.0, 0.0]
    chat = [[{"role": "assistant", "content": good}], [{"role": "assistant", "content": bad}]]
    prompts = [[{"role": "user", "content": "p"}]] * 2
    assert f(prompts=prompts, completions=chat, completion_ids=[[1], [2]], trainer_state=object()) == [1.0, 0.0]


def test_trl_adapter_passes_only_the_named_columns():
    def contains_answer(text, answer):
        return float(answer in text)

    f = trl_reward_func(contains_answer, name="contains")
    out = f(prompts=["a", "b"], completions=["x 42", "x 41"], answer=["42", "42"], level=[1, 1])
    assert out == [1.0, 0.0] and f.__name__ == "contains"

    seen = []
    g = trl_reward_func(lambda text, **row: seen.append(row) or 0.0)
    g(prompts=["p"], completions=["c"], completion_ids=[[7, 8]], answer=["1"], trainer_state=object())
    assert seen == [{"prompt": "p", "completion_ids": [7, 8], "answer": "1"}]


def test_trl_adapter_replays_completions_through_a_wrapped_env():
    env = SaturnSATEnv(level=1)
    problems = []
    for seed in range(3):
        _, info = env.reset(seed=seed)
        problems.append(info["problem"])
    f = trl_reward_func(LaserReward(SaturnSATEnv(level=1), target=40))
    assert f.__name__ == "LaserReward"
    completions = [
        _boxed(problems[0]["answer"], 30),  # correct, short: 1.5
        [{"role": "assistant", "content": _boxed(problems[1]["answer"], 60)}],  # correct, long: 1.0
        _boxed(_wrong({"problem": problems[2]}), 20),  # wrong: -0.5
    ]
    columns = {"problem": [problems[0], json.dumps(problems[1]), problems[2]]}  # dicts or JSON
    assert f(prompts=[p["prompt"] for p in problems], completions=completions, **columns) == [1.5, 1.0, -0.5]
    with pytest.raises(ValueError, match="problem"):
        f(prompts=["p"], completions=["c"])


def test_trl_adapter_rejects_bad_input():
    with pytest.raises(TypeError):
        trl_reward_func(42)
    f = trl_reward_func(open_rs_format_reward)
    with pytest.raises(TypeError, match="completion"):
        f(prompts=["p"], completions=[{"content": "x"}])
    with pytest.raises(ValueError, match="prompts"):
        f(prompts=["p"], completions=["a", "b"])
