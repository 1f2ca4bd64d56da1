"""thinkgym envs as SkyRL-gym text envs: made by ``skyrl_gym.make`` from a SkyRL dataset row and
stepped the way SkyRL's generator steps them, with the reward equal to the thinkgym env's."""

import json

import gymnasium
import pytest

import thinkgym  # noqa: F401
from thinkgym.envs.code_interpreter import CodeInterpreter
from thinkgym.integrations.record import record

skyrl_gym = pytest.importorskip("skyrl_gym", reason="SkyRL-gym is not installed: pip install 'thinkgym[skyrl-gym]'")

from thinkgym.integrations.skyrl import ThinkgymTextEnv, register_envs  # noqa: E402


def skyrl_row(env_id, problem):
    """A row as SkyRL's dataset holds it (``thinkgym export --format verl`` plus ``env_class``)."""
    return {
        "data_source": env_id,
        "prompt": [{"role": "user", "content": problem["prompt"]}],
        "env_class": "thinkgym/" + env_id,
        "reward_spec": {"method": "rule", "ground_truth": problem["answer"]},
        "extra_info": {"problem": json.dumps(problem)},
    }


def agent_loop(row, responses, env_config=None, max_turns=8):
    """SkyRLGymGenerator.agent_loop without the model: make -> init -> step until done, the
    responses standing in for generations; the extras are the row minus prompt and env_class."""
    extras = {k: v for k, v in row.items() if k not in ("prompt", "env_class")} | {"max_turns": max_turns}
    env = skyrl_gym.make(row["env_class"], env_config=dict(env_config or {}), extras=extras)
    chat, _ = env.init(row["prompt"])
    rewards, outputs = [], []
    for response in responses:
        out = env.step(response)
        rewards.append(out["reward"])
        outputs.append(out)
        chat += [{"role": "assistant", "content": response}, *out["observations"]]
        if out["done"]:
            break
    metrics = env.get_metrics()
    env.close()
    return env, rewards, outputs, metrics


def local_rewards(env_id, problem, responses, **kwargs):
    env = gymnasium.make(env_id, **kwargs)
    env.reset(options={"problem": problem})
    rewards = []
    for response in responses:
        _, reward, terminated, truncated, _ = env.step(response)
        rewards.append(float(reward))
        if terminated or truncated:
            break
    env.close()
    return rewards


def test_single_turn_reward_equals_the_env_reward():
    (skyrl_id,) = register_envs(["Math-RLVR-v0"])
    assert skyrl_id == "thinkgym/Math-RLVR-v0" and register_envs(["Math-RLVR-v0"]) == [skyrl_id]
    local = gymnasium.make("Math-RLVR-v0", level=2)
    for seed in range(3):
        problem = local.reset(seed=seed)[1]["problem"]
        row = skyrl_row("Math-RLVR-v0", problem)
        for response in (f"so \\boxed{{{problem['answer']}}}", "\\boxed{-123456789}", "no answer"):
            env, rewards, outputs, metrics = agent_loop(row, [response], env_config={"level": 2})
            assert isinstance(env, ThinkgymTextEnv)
            assert rewards == local_rewards("Math-RLVR-v0", problem, [response])
            assert outputs[0]["done"] and outputs[0]["observations"] == []
            assert outputs[0]["metadata"]["verdict"]["correct"] == (response.startswith("so"))
        assert metrics["correct"] == 0.0 and metrics["turns"] == 1
    assert agent_loop(row, [f"\\boxed{{{problem['answer']}}}"])[1] == [1.0]
    record("SkyRL-gym", "reward", "`skyrl_gym.make` + `step`, reward = env's")
    record("SkyRL-gym", "single_turn", "Math-RLVR-v0 via `skyrl_gym.make`/`init`/`step`")


def test_a_seed_in_extra_info_gives_the_local_problem():
    (skyrl_id,) = register_envs(["Saturn-SAT-v0"])
    env = skyrl_gym.make(skyrl_id, env_config={"level": 3}, extras={"extra_info": {"seed": 5}})
    chat, meta = env.init([])
    prompt, info = gymnasium.make("Saturn-SAT-v0", level=3).reset(seed=5)
    assert chat == [{"role": "user", "content": prompt}] and meta["problem"] == info["problem"]
    out = env.step(f"\\boxed{{{info['problem']['answer']}}}")
    assert out["reward"] == 1.0 and out["done"]
    with pytest.raises(ValueError, match="env_id"):
        ThinkgymTextEnv(env_config={}, extras={})


def test_code_interpreter_episode_runs_its_tool_in_the_sandbox():
    (skyrl_id,) = register_envs(["CodeInterpreter-Math-v0"])
    problem = gymnasium.make("Math-RLVR-v0", level=1).reset(seed=4)[1]["problem"]
    row = skyrl_row("CodeInterpreter-Math-v0", problem)
    responses = ["Let me compute.\n```python\nx = 6 * 7\nprint(x)\n```\n", "```python\nprint(x + 1)\n```\n"]
    responses.append(f"So the answer is \\boxed{{{problem['answer']}}}.")
    env, rewards, outputs, metrics = agent_loop(row, responses)
    assert rewards == local_rewards("CodeInterpreter-Math-v0", problem, responses)
    assert rewards[-1] == 1.0 and [o["done"] for o in outputs] == [False, False, True]
    assert outputs[0]["observations"] == [{"role": "user", "content": "```output\n42\n```\n"}]
    assert outputs[1]["observations"][0]["content"] == "```output\n43\n```\n", "the sandbox keeps variables"
    assert metrics == {"turns": 3, "episode_reward": 1.0, "correct": 1.0, "format_ok": 1.0}
    wrapper = env.env
    while not isinstance(wrapper, CodeInterpreter):
        wrapper = wrapper.env
    assert wrapper._sandbox is None and wrapper._pool is None, "close() released the sandbox and its pool"
    assert ThinkgymTextEnv.aggregate_metrics([metrics, {**metrics, "correct": 0.0}])["correct"] == 0.5
    record("SkyRL-gym", "multi_turn", "CodeInterpreter-Math-v0: tool output as user messages, sandbox per env")
