"""The Logic-*-v0 envs: gymnasium compliance, seeding, replay, the weighted mixture, both curricula,
and `thinkgym sweep` / `thinkgym export` on every family."""

from __future__ import annotations

import csv
import random
from collections import Counter

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.agents.policies import OraclePolicy, make_policy
from thinkgym.cli import main
from thinkgym.curriculum import BandCurriculum, SaturnCurriculum
from thinkgym.envs.logic import LOGIC_ENVS, LogicMixEnv
from thinkgym.envs.registration import ENVS
from thinkgym.experiments.export import read_jsonl, row_problem
from thinkgym.generators import logic

ALL_IDS = [*LOGIC_ENVS, "Logic-Mix-v0"]


def pysat_oracle(observation: str, info: dict) -> str:
    return f"\\boxed{{{logic.solve(info['problem']['metadata'])}}}"


def random_guess(seed: int):
    rng = random.Random(seed)

    def policy(observation: str, info: dict) -> str:
        meta = info["problem"]["metadata"]
        return f"\\boxed{{{logic.get(meta['puzzle']).random_answer(meta['instance'], rng)}}}"

    return policy


def test_every_logic_env_is_registered():
    assert set(ALL_IDS) <= set(ENVS)
    assert {env.puzzle for env in LOGIC_ENVS.values()} == set(logic.FAMILIES)


@pytest.mark.parametrize("env_id", ALL_IDS)
def test_check_env_seeding_and_rewards(env_id):
    env = gymnasium.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    prompt, info = env.reset(seed=11)
    again, info2 = env.reset(seed=11)
    assert prompt == again and info["problem"]["id"] == info2["problem"]["id"]
    assert len({env.reset(seed=s)[1]["problem"]["id"] for s in range(12, 20)}) > 1
    env.reset(seed=11)
    _, reward, terminated, truncated, info = env.step(pysat_oracle(again, info2))
    assert (reward, terminated, truncated, info["verdict"]["reason"]) == (1.0, True, False, "correct")
    env.reset(seed=11)
    assert env.step("I give up")[1] == -1.0
    env.reset(seed=11)
    assert env.step("\\boxed{nonsense}")[1] == 0.0
    with pytest.raises(TypeError):
        env.reset(seed=1)
        env.step(42)


@pytest.mark.parametrize("env_id", list(LOGIC_ENVS))
def test_levels_params_and_replay(env_id):
    env = gymnasium.make(env_id).unwrapped
    top = max(env.levels)
    with pytest.raises(ValueError, match="level must be one of"):
        gymnasium.make(env_id, level=top + 1)
    with pytest.raises(ValueError, match="unknown"):
        env.reset(seed=0, options={"params": {"nope": 1}})
    _, info = env.reset(seed=3, options={"level": 2})
    assert info["level"] == 2 and info["problem"]["params"] == env.levels[2]
    problem = row_problem(dict(info["problem"]))
    prompt, replay = gymnasium.make("Logic-Mix-v0").unwrapped.reset(options={"problem": problem})
    assert replay["problem"]["id"] == info["problem"]["id"]
    _, info = env.reset(seed=3, options={"level": 2})
    answer = pysat_oracle("", info)
    info["problem"]["metadata"]["instance"] = {}  # editing info never changes the env's problem
    assert env.step(answer)[1] == 1.0


def test_mix_samples_families_by_weight_and_levels_cap():
    env = LogicMixEnv(mixture={"sudoku": 3, "zebra": 1, "nonogram": 0}, level=1)
    counts = Counter(env.draw_family(seed) for seed in range(2000))
    assert set(counts) == {"sudoku", "zebra"}
    assert 0.70 < counts["sudoku"] / 2000 < 0.80
    seen = set()
    for seed in range(20):
        _, info = env.reset(seed=seed)
        seen.add(info["problem"]["metadata"]["puzzle"])
        assert env.step(pysat_oracle("", info))[1] == 1.0
    assert seen == {"sudoku", "zebra"}
    top = LogicMixEnv(level=5)
    for seed in range(30):  # families with 4 levels play their level 4
        _, info = top.reset(seed=seed)
        fam = logic.get(info["problem"]["metadata"]["puzzle"])
        assert info["problem"]["params"] == fam.levels[max(fam.levels)]
    for bad in ({"chess": 1}, {"sudoku": -1}, {"sudoku": 0}, {}):
        with pytest.raises(ValueError, match="mixture"):
            LogicMixEnv(mixture=bad)


@pytest.mark.parametrize("env_id", list(LOGIC_ENVS))
def test_band_curriculum_climbs_with_the_oracle_and_falls_with_random_guesses(env_id):
    env = gymnasium.make(env_id)
    levels = sorted(env.unwrapped.levels)
    band = BandCurriculum(levels, lo=0.2, hi=0.8, window=6, min_samples=6)
    seed = 0
    while band.level != levels[-1]:
        _, info = env.reset(seed=seed, options={"level": band.level})
        _, _, _, _, info = env.step(pysat_oracle("", info))
        band.update(info["verdict"]["correct"], level=band.level)
        seed += 1
        assert seed < 100
    band = BandCurriculum(levels, lo=0.2, hi=0.8, window=6, min_samples=6, start=levels[-1])
    guess = random_guess(1)
    for seed in range(12):
        _, info = env.reset(seed=seed, options={"level": band.level})
        band.update(env.step(guess("", info))[4]["verdict"]["correct"], level=band.level)
    assert band.level < levels[-1] and band.history[0]["to"] == levels[-2]


@pytest.mark.parametrize("env_id", ["Logic-Sudoku-v0", "Logic-Zebra-v0", "Logic-Mix-v0"])
def test_saturn_curriculum_on_logic_envs(env_id):
    env = gymnasium.make(env_id)
    cur = SaturnCurriculum(levels=[1, 2, 3], epsilon=0.5, eval_every=10, validation_size=8)
    oracle = OraclePolicy()  # the built-in oracle boxes the reference answer
    while not cur.done:
        assert cur.record(10)
        assert cur.update(cur.evaluate(env, oracle)) is True
    assert cur.level == 3 and len(cur.held_out_ids) == 16  # two validation sets of 8 (levels 1, 2)
    cur = SaturnCurriculum(levels=[3, 4], epsilon=0.5, eval_every=10, validation_size=8)
    score = cur.evaluate(env, random_guess(2))
    assert score < 0.5 and cur.update(score) is False and cur.level == 3


def _csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_sweep_and_export_every_family(tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", "--env", ",".join(ALL_IDS), "--levels", "1,2", "--episodes", "3", "--out", str(out), "--quiet"]
    assert main(args) == 0
    rows = _csv(out / "results.csv")
    assert {r["env"] for r in rows} == set(ALL_IDS) and len(rows) == 2 * len(ALL_IDS)
    assert all(float(r["pass@1"]) == 1.0 for r in rows), "the oracle policy solves every logic problem"
    for env_id in ALL_IDS:
        path = tmp_path / f"{env_id}.jsonl"
        assert main(["export", "--env", env_id, "--levels", "1,2", "--count", "3", "--out", str(path)]) == 0
        exported = read_jsonl(path)
        assert len(exported) == 6 and len({r["id"] for r in exported}) == 6
        env = gymnasium.make(env_id)
        for row in exported:
            assert row["metadata"]["solver"]["effort"] > 0
            prompt, info = env.reset(options={"problem": row_problem(row)})
            assert prompt == row["prompt"]
            assert env.step(pysat_oracle(prompt, info))[1] == 1.0


def test_random_policy_guesses_well_formed_answers():
    # `thinkgym sweep --policy random` on a logic env: the built-in random policy answers in the
    # puzzle's own format (the family's random_answer), so it scores above zero where chance allows.
    policy = make_policy("random", seed=0)
    solved = Counter()
    for env_id in ("Logic-GraphColouring-v0", "Logic-NQueens-v0", "Logic-KnightsKnaves-v0"):
        env = gymnasium.make(env_id, level=1)
        for seed in range(30):
            prompt, info = env.reset(seed=seed)
            _, reward, *_, step_info = env.step(policy.act(prompt, info))
            assert step_info["verdict"]["format_ok"], step_info["verdict"]
            solved[env_id] += reward == 1.0
    assert all(0 < n < 30 for n in solved.values()), solved
