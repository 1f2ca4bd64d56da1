"""TokenEnv: a thinkgym text env as a numeric token-level MDP (Box of ids + mask, Discrete vocabulary),
checked with gymnasium's checker, teacher-forced answers, multi-turn envs, vector envs and
stable-baselines3."""

from __future__ import annotations

import warnings
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.envs.registration import ENVS
from thinkgym.spaces import UnicodeText

pytest.importorskip("transformers")

from thinkgym.agents.models import build_tiny_tokenizer  # noqa: E402
from thinkgym.agents.rllib import TokenEnv  # noqa: E402

SAT = {"n": 3, "k": 5, "l": 5}
EOS, IM_END, THINK, END_THINK = 256, 258, 259, 260  # the tiny tokenizer's special tokens


@pytest.fixture(scope="module")
def tokenizer():
    return build_tiny_tokenizer()


def _sat(tokenizer, **kwargs) -> TokenEnv:
    return TokenEnv(gymnasium.make("Saturn-SAT-v0", **SAT), tokenizer, **kwargs)


def _ids(tokenizer, text: str) -> list[int]:
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def _play(env: TokenEnv, tokens: list[int]) -> list[tuple]:
    return [env.step(t) for t in tokens]


def test_check_env_passes_and_spaces_are_numeric(tokenizer):
    env = TokenEnv(gymnasium.make("Saturn-SAT-v0", render_mode="ansi", **SAT), tokenizer)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*different from the unwrapped version")
        check_env(env)
    assert env.observation_space.shape == (2, 1024) and env.observation_space.dtype == np.int64
    assert env.action_space == gymnasium.spaces.Discrete(len(tokenizer))


@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_every_registered_env_becomes_a_checked_token_mdp(tokenizer, env_id):
    prompt, _ = gymnasium.make(env_id).reset(seed=0)
    # room for longer prompts at the other seeds check_env resets with
    env = TokenEnv(gymnasium.make(env_id), tokenizer, max_length=2 * len(prompt.encode()) + 200, max_new_tokens=8)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*different from the unwrapped version")
        check_env(env, skip_render_check=True)
    env.reset(seed=0)
    *steps, (_, reward, terminated, truncated, info) = _play(env, _ids(tokenizer, "SELECT 1"))
    assert all(step[1:4] == (0.0, False, False) for step in steps)
    assert info["response"] == "SELECT 1" and isinstance(reward, float)
    # the turn's outcome is exactly what the text env gives the same response
    text_env = gymnasium.make(env_id)
    text_env.reset(seed=0)
    _, want_reward, want_terminated, want_truncated, _ = text_env.step("SELECT 1")
    assert (reward, terminated, truncated) == (want_reward, want_terminated, want_truncated)
    if terminated:
        assert "verdict" in info


def test_observation_is_the_chat_prompt_right_padded_with_its_mask(tokenizer):
    env = _sat(tokenizer)
    obs, info = env.reset(seed=0)
    n = int(obs[1].sum())
    assert obs[1, :n].all() and not obs[1, n:].any() and not obs[0, n:].any()
    chat = tokenizer.apply_chat_template(
        [{"role": "user", "content": info["problem"]["prompt"]}], tokenize=False, add_generation_prompt=True
    )
    assert tokenizer.decode(obs[0, :n].tolist()) == chat
    again, _ = env.reset(seed=0)
    assert np.array_equal(obs, again)


def test_teacher_forced_answer_scores_one_and_reward_comes_only_at_the_end(tokenizer):
    env = _sat(tokenizer)
    obs, info = env.reset(seed=1)
    start = int(obs[1].sum())
    answer = _ids(tokenizer, "\\boxed{" + info["problem"]["answer"] + "}")
    steps = _play(env, [*answer, IM_END])
    for i, (obs, reward, terminated, truncated, step_info) in enumerate(steps[:-1]):
        assert (reward, terminated, truncated, step_info) == (0.0, False, False, {})
        assert int(obs[1].sum()) == start + i + 1 and obs[0, start + i] == answer[i]
    _, reward, terminated, truncated, info = steps[-1]
    assert (reward, terminated, truncated) == (1.0, True, False)
    assert info["verdict"]["reason"] == "correct" and info["response"] == "\\boxed{" + info["problem"]["answer"] + "}"
    with pytest.raises(gymnasium.error.ResetNeeded):
        env.step(0)


def test_max_new_tokens_ends_the_turn_and_the_response_is_scored(tokenizer):
    _, info = _sat(tokenizer).reset(seed=2)
    answer = _ids(tokenizer, "\\boxed{" + info["problem"]["answer"] + "}")
    env = _sat(tokenizer, max_new_tokens=len(answer))
    env.reset(seed=2)
    *_, (_, reward, terminated, _, info) = _play(env, answer)
    assert (reward, terminated, info["verdict"]["reason"]) == (1.0, True, "correct")
    env = _sat(tokenizer, max_new_tokens=3)
    env.reset(seed=2)
    *_, (_, reward, terminated, _, info) = _play(env, _ids(tokenizer, "abc"))
    assert (reward, terminated, info["response"], info["verdict"]["reason"]) == (-1.0, True, "abc", "no_answer")


def test_eos_ends_the_turn_and_think_tags_reach_the_verifier(tokenizer):
    env = _sat(tokenizer)
    _, info = env.reset(seed=3)
    wrong_inside_think = _ids(tokenizer, "\\boxed{00000}")
    right = _ids(tokenizer, "\\boxed{" + info["problem"]["answer"] + "}")
    *_, (_, reward, _, _, info) = _play(env, [THINK, *wrong_inside_think, END_THINK, *right, EOS])
    assert reward == 1.0 and info["response"].startswith("<think>\\boxed{00000}</think>")


def test_bad_input_is_a_clear_error(tokenizer):
    env = _sat(tokenizer)
    with pytest.raises(gymnasium.error.ResetNeeded):
        env.step(0)
    env.reset(seed=0)
    for action in (len(tokenizer), -1, "a", 1.5):
        with pytest.raises(ValueError, match="token id"):
            env.step(action)
    with pytest.raises(ValueError, match="max_length=512"):
        _sat(tokenizer, max_length=512).reset(seed=0)
    with pytest.raises(ValueError, match="max_new_tokens"):
        _sat(tokenizer, max_length=8, max_new_tokens=8)


class _TwoTurns(gymnasium.Env[str, str]):
    """A multi-turn text env: the first reply gets "again?", the second is scored 1 when it is "yes"."""

    observation_space = UnicodeText(100)
    action_space = UnicodeText(100)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict]:
        super().reset(seed=seed)
        self.turn = 0
        return "say something", {}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict]:
        self.turn += 1
        if self.turn == 1:
            return "again?", 0.25, False, False, {"turn": 1}
        return "", float(action == "yes"), True, False, {"turn": 2}


def test_multi_turn_env_gets_each_response_and_its_reply_joins_the_context(tokenizer):
    env = TokenEnv(_TwoTurns(), tokenizer, max_length=128, max_new_tokens=4)
    env.reset()
    *_, (obs, reward, terminated, truncated, info) = _play(env, [*_ids(tokenizer, "hi"), IM_END])
    assert (reward, terminated, truncated, info["response"]) == (0.25, False, False, "hi")
    n = int(obs[1].sum())
    assert tokenizer.decode(obs[0, :n].tolist()).endswith(
        "<|im_start|>assistant\nhi<|im_end|>\n<|im_start|>user\nagain?<|im_end|>\n<|im_start|>assistant\n"
    )
    *_, (_, reward, terminated, _, info) = _play(env, [*_ids(tokenizer, "yes"), IM_END])
    assert (reward, terminated, info["response"], info["turn"]) == (1.0, True, "yes", 2)


def test_multi_turn_env_is_truncated_when_the_next_turn_does_not_fit(tokenizer):
    env = TokenEnv(_TwoTurns(), tokenizer, max_length=48, max_new_tokens=4)
    env.reset()
    *_, (_, reward, terminated, truncated, info) = _play(env, _ids(tokenizer, "hi!!"))
    assert (reward, terminated, truncated, info["turn"]) == (0.25, False, True, 1)


def test_vector_env_batches_observations_as_cleanrl_expects(tokenizer):
    envs = gymnasium.vector.SyncVectorEnv([lambda: _sat(tokenizer, max_new_tokens=2)] * 3)
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (3, *envs.single_observation_space.shape) and obs.dtype == np.int64
    envs.step(np.array([65, 66, 67]))
    obs, rewards, terminated, _, _ = envs.step(np.array([65, 66, 67]))
    assert terminated.all() and (rewards == -1.0).all()
    envs.close()


def test_stable_baselines3_ppo_trains_on_it_and_records_episode_returns(tokenizer):
    sb3 = pytest.importorskip("stable_baselines3", reason="stable-baselines3 is not installed (pip install it)")
    from stable_baselines3.common.monitor import Monitor

    env = Monitor(_sat(tokenizer, max_length=960, max_new_tokens=4))
    model = sb3.PPO("MlpPolicy", env, n_steps=32, batch_size=16, n_epochs=1, seed=0, device="cpu")
    model.learn(total_timesteps=64)
    episodes = list(model.ep_info_buffer)
    assert len(episodes) >= 64 // 4, "every episode ends within max_new_tokens steps"
    assert all(e["l"] <= 4 and e["r"] in (-1.0, 0.0, 1.0) for e in episodes)
