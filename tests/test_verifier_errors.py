"""A verifier that cannot decide is neither right nor wrong: every env and every wrapper that computes
a reward pays ``rewards["verifier_error"]`` for such a verdict (the trainer side is in
test_grpo_verifier_errors.py, the SQL verifier's own failures in test_sql.py)."""

import gymnasium
import pytest

import thinkgym
from thinkgym.core import Verdict
from thinkgym.envs.markovian import CharTokenizer, MarkovianThinking
from thinkgym.envs.math import StepOrderEnv
from thinkgym.envs.thinking import ThinkingMode
from thinkgym.rewards.wrappers import AutoThinkReward, HapoReward, LaserReward, OpenRSReward, OverlongPenalty

PAID = 0.375  # a value no other part of any reward scheme produces
THINKGYM_IDS = sorted(
    env_id
    for env_id, spec in gymnasium.registry.items()
    if isinstance(spec.entry_point, str) and spec.entry_point.startswith("thinkgym.")
)


def undecidable(response, problem):
    return Verdict(False, False, 0.0, "timeout", {"stage": "test"}, verifier_error=True)


def episode(env, response="</think>\\boxed{1}"):
    env.reset(seed=0)
    env.unwrapped.verify = undecidable
    for _ in range(10):
        _, reward, terminated, truncated, info = env.step(response)
        if terminated or truncated:
            return reward, info
    raise AssertionError("the episode did not end")


@pytest.mark.parametrize("env_id", THINKGYM_IDS)
def test_every_registered_env_pays_the_verifier_error_reward(env_id):
    env = gymnasium.make(env_id, rewards={"verifier_error": PAID})
    try:
        reward, info = episode(env)
        assert reward == PAID
        assert info["verdict"]["verifier_error"] and not info["verdict"]["correct"]
        assert not info["verdict"]["format_ok"]
    finally:
        env.close()


def test_default_verifier_error_reward_is_zero_and_distinct_from_a_format_error():
    reward, info = episode(thinkgym.SaturnSATEnv())
    assert reward == 0.0 and info["verdict"]["reason"] == "timeout"  # a format error would pay -1


def test_step_order_partial_credit_does_not_apply_to_a_verifier_error():
    reward, _ = episode(StepOrderEnv(partial_credit=True, rewards={"verifier_error": PAID}))
    assert reward == PAID


def sat():
    return thinkgym.SaturnSATEnv(level=2, rewards={"verifier_error": PAID})


WRAPPERS = {
    "laser": lambda: LaserReward(sat(), target=100),
    "hapo": lambda: HapoReward(sat()),
    "open_rs": lambda: OpenRSReward(sat()),
    "overlong": lambda: OverlongPenalty(sat(), max_length=5, cache=4),  # the response is overlong
    "thinking_mode": lambda: ThinkingMode(sat(), mode="thinking"),
    "autothink": lambda: AutoThinkReward(ThinkingMode(sat(), mode="nothinking")),
    "markovian": lambda: MarkovianThinking(sat(), CharTokenizer(), 64, 32, 8, 4),
}


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_reward_wrappers_pass_the_verifier_error_reward_through(name):
    env = WRAPPERS[name]()
    reward, info = episode(env)
    assert reward == PAID and info["verdict"]["verifier_error"]
    if "reward_parts" in info:
        assert info["reward_parts"] == {"verifier_error": PAID}


def test_hapo_learns_no_length_from_a_verifier_error():
    env = HapoReward(sat())
    episode(env)
    assert env.history == {} and env._pending == {}


def test_code_interpreter_pays_the_verifier_error_reward_whatever_its_reward_fn():
    env = gymnasium.make(
        "CodeInterpreter-SAT-v0", rewards={"verifier_error": PAID}, reward_fn=lambda verdict, cells: 7.0
    )
    try:
        reward, info = episode(env)
        assert reward == PAID and info["turn"] == "final"
    finally:
        env.close()
