"""SATURN's curriculum controller on the real SAT env with real policies."""

import gymnasium
import pytest

from thinkgym.agents.policies import OraclePolicy, RandomPolicy
from thinkgym.curriculum import SaturnCurriculum


def test_oracle_climbs_and_random_stays():
    env = gymnasium.make("Saturn-SAT-v0")
    cur = SaturnCurriculum(levels=[1, 2, 3, 4], epsilon=0.5, eval_every=10, validation_size=40)
    oracle = OraclePolicy()
    while not cur.done:
        assert cur.record(10)
        assert cur.update(cur.evaluate(env, oracle)) is True
    assert cur.level == 4 and cur.level_changes == 3
    assert cur.update(1.0) is False, "nothing above the last level"

    # a uniform random policy solves level 4 (3,5,13) well under half the time: it never moves
    cur = SaturnCurriculum(levels=[4, 6], epsilon=0.5, eval_every=10, validation_size=60)
    score = cur.evaluate(env, RandomPolicy(seed=1))
    assert 0.0 < score < 0.5
    assert cur.update(score) is False and cur.level == 4


def test_record_counts_samples_between_evaluations():
    cur = SaturnCurriculum(levels=[1, 2], eval_every=250)
    assert not cur.record(100) and not cur.record(149) and cur.record(1)
    cur.update(0.2)
    assert cur.samples_since_eval == 0 and cur.level == 1
    assert cur.history == [{"level": 1, "pass@1": 0.2, "moved": False}]


def test_epsilon_is_strict_and_max_level_changes_stops():
    cur = SaturnCurriculum(levels=[1, 2, 3], epsilon=0.5, max_level_changes=1)
    assert cur.update(0.5) is False  # SATURN: move up only when pass@1 > epsilon
    assert cur.update(0.51) is True and cur.level == 2
    assert cur.done and cur.update(1.0) is False and cur.level == 2


def test_validation_is_held_out_and_state_resumes():
    env = gymnasium.make("Saturn-SAT-v0")
    cur = SaturnCurriculum(levels=[1, 2], validation_size=20)
    cur.evaluate(env, OraclePolicy())
    seeds = cur.validation_seeds()
    assert min(seeds) >= 2**63, "validation seeds lie outside the range unseeded resets draw from"
    _, info = env.reset(seed=seeds[3], options={"level": 1})
    assert cur.is_held_out(info["problem"]["id"])
    training_ids = {env.reset()[1]["problem"]["id"] for _ in range(50)}
    assert sum(cur.is_held_out(i) for i in training_ids) <= 1
    cur.update(0.9)
    clone = SaturnCurriculum(levels=[1, 2], validation_size=20)
    clone.load_state_dict(cur.state_dict())
    assert clone.level == cur.level and clone.history == cur.history and clone.held_out_ids == cur.held_out_ids


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"levels": []}, "levels"),
        ({"levels": [1], "epsilon": 1.0}, "epsilon"),
        ({"levels": [1], "eval_every": 0}, "eval_every"),
    ],
)
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SaturnCurriculum(**kwargs)
