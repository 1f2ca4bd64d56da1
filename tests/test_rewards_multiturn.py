"""Reward wrappers over the multi-turn envs: CodeInterpreter (with a real sandbox) and
MarkovianThinking. A step that does not end the episode passes through untouched (same reward,
flags and the very same info object); the step that ends it is shaped with the whole episode's
response (every action since reset), not only its last segment or chunk."""

from __future__ import annotations

import gymnasium
import pytest

from thinkgym.envs.code_interpreter import CodeInterpreter
from thinkgym.envs.markovian import CharTokenizer, MarkovianThinking
from thinkgym.envs.sat import SaturnSATEnv
from thinkgym.envs.thinking import ThinkingMode
from thinkgym.rewards import (
    AutoThinkReward,
    HapoReward,
    LaserReward,
    OpenRSReward,
    OverlongPenalty,
    trl_reward_func,
)

pytestmark = pytest.mark.filterwarnings("ignore::thinkgym.sandbox.SandboxWarning")

SEED = 0


class Recorder(gymnasium.Wrapper):
    """Keeps the inner env's last step result, to compare with what the reward wrapper returns."""

    def step(self, action):
        self.last = self.env.step(action)
        return self.last


def answers() -> tuple[str, str]:
    """Level 1, seed SEED: the gold assignment, and one that falsifies the first clause."""
    problem = SaturnSATEnv(level=1).reset(seed=SEED)[1]["problem"]
    wrong = list(problem["answer"])
    for literal in problem["metadata"]["clauses"][0]:
        wrong[abs(literal) - 1] = "0" if literal > 0 else "1"
    return problem["answer"], "".join(wrong)


def code_interpreter_script(answer: str) -> list[str]:
    """A tool call that runs, a stop at a plain fence (continue), then the final segment."""
    return [
        "Let me check a product.\n```python\nprint(6 * 7)\n```\n",
        "The cell printed 42. A note:\n```\n",
        f"Done checking.\n</think>\nThe assignment is \\boxed{{{answer}}}.",
    ]


def markovian_script(answer: str) -> list[str]:
    """Two chunks without an answer, then a chunk (<= 32 characters) that ends with one."""
    return [
        "Thinking about the clauses one at a time. ",
        "Still thinking it over. ",
        f"\n</think>\n\\boxed{{{answer}}}",
    ]


def code_interpreter(inner):
    return CodeInterpreter(inner, sandbox_options={"timeout": 5})


def markovian(inner):
    return MarkovianThinking(inner, CharTokenizer(), chunk_size=64, carryover=32, head=8, max_chunks=4)


ENVS = {"code_interpreter": (code_interpreter, code_interpreter_script), "markovian": (markovian, markovian_script)}


# wrapper name -> (build(env, total, longest), expected parts(correct, total, base)).
# `total` is the episode's length (every action), `longest` its longest single action: each
# wrapper is set so the two give different rewards, so a wrapper that measured only the last
# action would fail.
WRAPPERS = {
    "laser": (
        lambda env, total, longest: LaserReward(env, target=longest),
        lambda correct, total, base: {"correctness": 1.0 if correct else -0.5, "length": 0.0},
    ),
    "hapo": (
        lambda env, total, longest: HapoReward(env),
        lambda correct, total, base: {"correctness": 1.0 if correct else 0.0, "length": 0.0},
    ),
    "open_rs": (  # at L = max_length the cosine term is 2 x at_max: 2 x 0.5 correct, 2 x -0.5 wrong
        lambda env, total, longest: OpenRSReward(env, max_length=total),
        lambda correct, total, base: {"format": 1.0, "cosine": 1.0 if correct else -1.0},
    ),
    "overlong": (  # total > max_length >= longest: overlong as an episode, no single action is
        lambda env, total, longest: OverlongPenalty(env, max_length=total - 1, cache=total - 1),
        lambda correct, total, base: {"base": base, "overlong": -1.0},
    ),
    "autothink": (  # ellipsis prefill, the model thinks: +1 correct, 0 wrong
        lambda env, total, longest: AutoThinkReward(env),
        lambda correct, total, base: {"correctness": 1.0 if correct else 0.0, "degenerate": 0.0},
    ),
}


def build(wrapper: str, env_name: str, script: list[str]):
    make_env, _ = ENVS[env_name]
    inner = SaturnSATEnv(level=1)
    if wrapper == "autothink":  # the mode is judged on the whole response the inner env scores
        inner = ThinkingMode(inner, mode="ellipsis")
    recorder = Recorder(make_env(inner))
    total, longest = sum(map(len, script)), max(map(len, script))
    assert longest < total - 1  # the wrappers above tell an episode from its longest action
    return WRAPPERS[wrapper][0](recorder, total, longest), recorder


@pytest.mark.parametrize("correct", [True, False], ids=["correct", "wrong"])
@pytest.mark.parametrize("env_name", sorted(ENVS))
@pytest.mark.parametrize("wrapper", sorted(WRAPPERS))
def test_non_final_steps_pass_through_and_the_final_step_is_shaped(wrapper, env_name, correct):
    gold, wrong = answers()
    script = ENVS[env_name][1](gold if correct else wrong)
    env, recorder = build(wrapper, env_name, script)
    try:
        env.reset(seed=SEED)
        for action in script[:-1]:
            out = env.step(action)
            assert out == recorder.last and out[4] is recorder.last[4]  # untouched, not a copy
            assert not (out[2] or out[3]) and "verdict" not in out[4] and "reward_parts" not in out[4]
        obs, reward, terminated, truncated, info = env.step(script[-1])
        inner_obs, base, inner_terminated, inner_truncated, inner_info = recorder.last
        assert (obs, terminated, truncated) == (inner_obs, inner_terminated, inner_truncated) and terminated
        assert info["verdict"]["correct"] is correct and base == (1.0 if correct else 0.0)
        assert {k: info[k] for k in inner_info} == inner_info
        assert info["base_reward"] == base
        assert info["response_length"] == sum(map(len, script))
        assert info["reward_parts"] == WRAPPERS[wrapper][1](correct, sum(map(len, script)), base)
        assert reward == sum(info["reward_parts"].values())
    finally:
        env.close()


@pytest.mark.parametrize("env_name", sorted(ENVS))
def test_hapo_history_records_the_whole_episode_length(env_name):
    answer = answers()[0]
    script = ENVS[env_name][1](answer)
    env, _ = build("hapo", env_name, script)
    try:
        env.reset(seed=SEED)
        for action in script:
            *_, info = env.step(action)
        assert env.history == {info["problem"]["id"]: sum(map(len, script))}
        # The same episode again is exactly as long as the history: r_len = cos(pi/2) ~ 0, while a
        # history of only the last action would give it the floor, -0.7.
        env.reset(seed=SEED)
        for action in script:
            _, reward, *_ = env.step(action)
        assert reward == pytest.approx(1.0)
    finally:
        env.close()


def test_a_reset_mid_episode_starts_the_length_from_zero():
    answer = answers()[0]
    script = markovian_script(answer)
    env, _ = build("laser", "markovian", script)
    env.reset(seed=SEED)
    env.step("An abandoned first chunk, never finished. ")
    env.reset(seed=SEED)
    for action in script:
        *_, info = env.step(action)
    assert info["response_length"] == sum(map(len, script))


class WordTokenizer:
    def encode(self, text):
        return text.split()


def test_a_tokenizer_counts_each_action_as_generated():
    answer = answers()[0]
    script = markovian_script(answer)
    env = LaserReward(markovian(SaturnSATEnv(level=1)), target=1000, tokenizer=WordTokenizer())
    env.reset(seed=SEED)
    for action in script:
        _, reward, *_, info = env.step(action)
    assert info["response_length"] == sum(len(a.split()) for a in script) and reward == 1.5


def test_an_episode_cut_off_without_a_verdict_is_a_clear_error():
    env = LaserReward(gymnasium.wrappers.TimeLimit(code_interpreter(SaturnSATEnv(level=1)), max_episode_steps=1), 100)
    try:
        env.reset(seed=SEED)
        with pytest.raises(ValueError, match=r"no info\['verdict'\].*TimeLimit"):
            env.step(code_interpreter_script("0")[0])
    finally:
        env.close()


def test_a_trl_reward_scores_a_final_completion_and_refuses_a_mid_episode_one():
    gold, _ = answers()
    problem = SaturnSATEnv(level=1).reset(seed=SEED)[1]["problem"]
    env = LaserReward(code_interpreter(SaturnSATEnv(level=1)), target=1000)
    try:
        f = trl_reward_func(env)
        final = code_interpreter_script(gold)[-1]
        assert f(prompts=["p"], completions=[final], problem=[problem]) == [1.5]
        with pytest.raises(ValueError, match="did not end its episode.*single-turn env"):
            f(prompts=["p"], completions=[code_interpreter_script(gold)[0]], problem=[problem])
    finally:
        env.close()
