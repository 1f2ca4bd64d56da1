"""Curricula: the pass-rate band controller (unit rules, exact resume, and settling on the real
SAT env under a scripted policy of fixed skill) and SIRI's cosine length schedule."""

from __future__ import annotations

import json
import math
import random
from itertools import pairwise

import pytest

from thinkgym.curriculum.band import BandCurriculum
from thinkgym.curriculum.siri import siri_max_length
from thinkgym.envs.sat import SaturnSATEnv

# ---------------------------------------------------------------------------------------------
# Band rules


def test_moves_up_above_hi_and_down_below_lo():
    band = BandCurriculum([1, 2, 3], lo=0.2, hi=0.8, window=4, min_samples=2)
    assert band.update([True, True]) and band.level == 2  # rate 1.0 > 0.8
    assert band.pass_rate is None  # the window restarts at the new level
    assert band.update([True, True]) and band.level == 3
    assert not band.update([True, True]) and band.level == 3  # already at the top
    band = BandCurriculum([1, 2, 3], window=4, min_samples=2, start=3)
    assert band.update([False, False]) and band.level == 2  # rate 0 < 0.2
    assert band.history == [{"level": 3, "to": 2, "pass_rate": 0.0, "samples": 2}]


def test_no_move_before_min_samples_or_inside_the_band():
    band = BandCurriculum([1, 2], window=10, min_samples=5)
    for _ in range(4):
        assert not band.update(True)
    assert band.update(True) and band.level == 2  # 5th result: rate 1.0
    band = BandCurriculum([1, 2, 3], window=10, min_samples=2, start=2)
    for r in [True, False] * 20:  # 0.5, inside [0.2, 0.8]
        assert not band.update(r)
    assert band.level == 2 and band.pass_rate == 0.5


def test_moving_straight_back_needs_a_full_window():
    band = BandCurriculum([1, 2, 3], window=4, min_samples=2)
    assert band.update([True, True]) and band.level == 2
    # back down to 1 is a reversal: 2 results (min_samples) are not enough, 4 (window) are
    assert not band.update([False, False]) and band.level == 2
    assert band.update([False, False]) and band.level == 1
    # and straight back up to 2 needs a full window again
    assert not band.update([True, True])
    assert band.update([True, True]) and band.level == 2


def test_window_forgets_old_results():
    band = BandCurriculum([1, 2, 3], window=4, min_samples=4, start=2)
    band.update([False, True, True, True])  # 0.75: stay
    assert band.level == 2
    assert band.update(True) and band.level == 3  # window now [T, T, T, T]: the False fell out


def test_stale_results_from_another_level_are_ignored():
    band = BandCurriculum([1, 2], window=4, min_samples=2)
    assert not band.update([True, True, True], level=2)  # played at 2 while the band is at 1
    assert band.pass_rate is None
    assert band.update([True, True], level=1) and band.level == 2


def test_state_dict_resumes_exactly():
    rng = random.Random(0)
    results = [[rng.random() < 0.3 + 0.1 * (i % 5) for _ in range(8)] for i in range(200)]
    a = BandCurriculum(range(1, 8), window=16, min_samples=8)
    b = BandCurriculum(range(1, 8), window=16, min_samples=8)
    for batch in results[:77]:
        a.update(batch)
        b.update(batch)
    state = json.loads(json.dumps(b.state_dict()))  # JSON-serialisable
    c = BandCurriculum(range(1, 8), window=16, min_samples=8)
    c.load_state_dict(state)
    levels_a, levels_c = [], []
    for batch in results[77:]:
        a.update(batch)
        c.update(batch)
        levels_a.append(a.level)
        levels_c.append(c.level)
    assert levels_a == levels_c and a.state_dict() == c.state_dict()
    assert len(set(levels_a)) > 1  # the check covered moves, not a constant level


@pytest.mark.parametrize(
    "kwargs",
    [
        {"levels": []},
        {"levels": [1, 1]},
        {"levels": [1, 2], "lo": 0.8, "hi": 0.2},
        {"levels": [1, 2], "window": 0},
        {"levels": [1, 2], "window": 4, "min_samples": 5},
        {"levels": [1, 2], "start": 7},
    ],
)
def test_rejects_bad_configuration(kwargs):
    with pytest.raises(ValueError):
        BandCurriculum(**kwargs)


def test_load_rejects_a_state_for_other_levels():
    band = BandCurriculum([1, 2])
    with pytest.raises(ValueError, match="outside"):
        band.load_state_dict({"index": 5, "previous": None, "recent": [], "history": []})


# ---------------------------------------------------------------------------------------------
# Settling on the real SAT env


class FixedSkillPolicy:
    """Answers correctly (the planted assignment) with probability sigmoid((D0 - D) / s), D being
    the problem's SATURN difficulty; otherwise an assignment that falsifies the first clause."""

    def __init__(self, d0: float, scale: float, seed: int) -> None:
        self.d0, self.scale, self.rng = d0, scale, random.Random(seed)

    def p_correct(self, difficulty: float) -> float:
        return 1.0 / (1.0 + math.exp((difficulty - self.d0) / self.scale))

    def __call__(self, info) -> str:
        problem = info["problem"]
        bits = list(problem["answer"])
        if self.rng.random() >= self.p_correct(problem["difficulty"]):
            for literal in problem["metadata"]["clauses"][0]:
                bits[abs(literal) - 1] = "0" if literal > 0 else "1"
        return f"\\boxed{{{''.join(bits)}}}"


@pytest.mark.parametrize("start", [1, 15])
def test_band_settles_where_the_policy_pass_rate_is_in_the_band(start):
    env = SaturnSATEnv(level=1)
    levels = list(range(1, 16))  # ordered by SATURN's D: 5.63 ... 12.78
    difficulty = {lv: env.reset(seed=0, options={"level": lv})[1]["problem"]["difficulty"] for lv in levels}
    # Centre the skill on level 8 (D = 9.63): p = 0.5 there, 0.97 at level 7 (D = 9.20) and above,
    # 0.007 at level 9 (D = 10.23) and below: exactly one level lies inside [0.2, 0.8].
    policy = FixedSkillPolicy(d0=difficulty[8], scale=0.12, seed=start)
    in_band = [lv for lv in levels if 0.2 <= policy.p_correct(difficulty[lv]) <= 0.8]
    assert in_band == [8]

    band = BandCurriculum(levels, lo=0.2, hi=0.8, window=64, min_samples=32, start=start)
    visited, outcomes = [], {lv: [] for lv in levels}
    for step in range(150):  # 150 GRPO groups of 8 = 1200 episodes
        level = band.level
        group = []
        for _ in range(8):
            _, info = env.reset(seed=step, options={"level": level})
            group.append(env.step(policy(info))[4]["verdict"]["correct"])
        outcomes[level].extend(group)
        band.update(group, level=level)
        visited.append(band.level)

    arrival = visited.index(8)
    assert arrival < 60  # it got there ...
    assert set(visited[arrival:]) == {8}  # ... and stayed
    measured = sum(outcomes[8]) / len(outcomes[8])
    assert 0.2 <= measured <= 0.8
    assert [h["to"] for h in band.history] == list(range(start + 1, 9) if start < 8 else range(start - 1, 7, -1))


# ---------------------------------------------------------------------------------------------
# SIRI cosine schedule: L(t) = L_low + (L_high - L_low)(1 + cos(2 pi t / T)) / 2


@pytest.mark.parametrize(
    ("step", "expected"),
    [
        (0, 16384),  # starts at L_high, compresses first
        (20, 14336),  # cos(pi/3) = 0.5: 8192 + 8192·0.75
        (30, 12288),  # cos(pi/2) = 0: half way
        (40, 10240),  # cos(2pi/3) = -0.5: 8192 + 8192·0.25
        (60, 8192),  # T/2: end of compression
        (90, 12288),  # expanding again
        (120, 16384),  # T: one iteration done
        (180, 8192),  # second iteration's trough
        (360, 16384),  # three iterations
    ],
)
def test_siri_cosine_schedule(step, expected):
    assert siri_max_length(step, period=120) == expected


def test_siri_schedule_compresses_then_expands():
    lengths = [siri_max_length(t, period=100, low=1000, high=3000) for t in range(101)]
    assert all(a >= b for a, b in pairwise(lengths[:51]))
    assert all(a <= b for a, b in pairwise(lengths[50:]))
    assert min(lengths) == 1000 and max(lengths) == 3000


@pytest.mark.parametrize(
    "kwargs", [{"step": -1, "period": 10}, {"step": 0, "period": 0}, {"step": 0, "period": 10, "low": 5, "high": 4}]
)
def test_siri_rejects_bad_input(kwargs):
    with pytest.raises(ValueError):
        siri_max_length(**kwargs)
