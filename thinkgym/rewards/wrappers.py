"""Gymnasium wrappers that reshape the reward of any thinkgym env with the functions of
:mod:`thinkgym.rewards.length`, :mod:`thinkgym.rewards.format` and :mod:`thinkgym.rewards.modes`.

Each wrapper shapes the step that ends an episode (``terminated`` or ``truncated``): it reads
``info["verdict"]`` from the inner env's step and measures the episode's response in characters,
or in tokens when given a ``tokenizer`` (anything with ``encode(text)``; special tokens are left
out where ``encode`` accepts ``add_special_tokens``). The returned reward is the sum of
``info["reward_parts"]``; ``info["base_reward"]`` is the inner env's reward for that step and
``info["response_length"]`` the measured length.

Multi-turn envs (:class:`~thinkgym.envs.code_interpreter.CodeInterpreter`,
:class:`~thinkgym.envs.markovian.MarkovianThinking`) score only their last step. A step that does
not end the episode passes through untouched: the inner env's observation, reward, flags and the
very same ``info`` object (no verdict, no ``reward_parts``). The episode's response is every action
since ``reset``, in order: its length is the sum of the actions' lengths (each segment or chunk
counted as the policy generated it), and text rules (Open-RS's format, AutoThink's degeneracy) read
the actions joined. Interpreter outputs and Markovian carryovers are written by the env, not the
policy, and are not counted. A step that ends the episode without a verdict is a ``ValueError``.

A verdict the verifier could not reach (``info["verdict"]["verifier_error"]``) is neither right
nor wrong: every wrapper passes the inner env's reward through unchanged (its
``rewards["verifier_error"]``, default 0) as the single part ``verifier_error``, and learns nothing
from the episode (HAPO records no length for it).

Sources: LASER (arXiv 2505.15612), HAPO (arXiv 2505.11225), Open-RS (arXiv 2503.16219), DAPO
(arXiv 2503.14476), AutoThink (arXiv 2505.10832); see each wrapper.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import gymnasium

from thinkgym.rewards.format import open_rs_format_reward
from thinkgym.rewards.length import (
    LASER_ALPHA,
    cosine_length_reward,
    dapo_overlong_penalty,
    hapo_length_reward,
    laser_reward,
    laser_score,
)
from thinkgym.rewards.modes import autothink_reward, is_degenerate

__all__ = ["AutoThinkReward", "HapoReward", "LaserReward", "OpenRSReward", "OverlongPenalty", "length_counter"]


def length_counter(tokenizer: Any = None) -> Callable[[str], int]:
    """``len`` (characters) without a tokenizer; otherwise the number of ids ``tokenizer.encode``
    returns, without special tokens when its ``encode`` takes ``add_special_tokens`` (Hugging Face
    tokenizers would otherwise count a BOS token, as HAPO's ``add_special_tokens=False`` avoids)."""
    if tokenizer is None:
        return len
    encode = getattr(tokenizer, "encode", None)
    if not callable(encode):
        raise TypeError(f"tokenizer must have an encode(text) method, got {type(tokenizer).__name__}")
    try:
        params = inspect.signature(encode).parameters
    except (TypeError, ValueError):  # builtins without a signature
        params = {}
    if "add_special_tokens" in params:
        return lambda text: len(encode(text, add_special_tokens=False))
    return lambda text: len(encode(text))


class _ShapedReward(gymnasium.Wrapper[str, str, str, str]):
    """Common step: run the inner env, then replace its reward by ``sum(self.parts(...))``."""

    def __init__(self, env: gymnasium.Env[str, str], tokenizer: Any = None) -> None:
        super().__init__(env)
        self.count = length_counter(tokenizer)
        self._actions: list[str] = []  # the policy's actions since reset (one per step)

    def parts(self, response: str, length: int, reward: float, info: dict[str, Any]) -> dict[str, float]:
        raise NotImplementedError

    def skip(self, info: dict[str, Any]) -> None:
        """Called instead of :meth:`parts` for an episode whose verifier could not decide."""

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        self._actions = []
        return self.env.reset(seed=seed, options=options)

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        result = self.env.step(action)
        obs, reward, terminated, truncated, info = result
        self._actions.append(action)
        if not (terminated or truncated):
            return result  # a non-final step of a multi-turn env: nothing to shape yet
        actions, self._actions = self._actions, []
        if "verdict" not in info:
            raise ValueError(
                f"{type(self).__name__}: the step that ended the episode has no info['verdict'] to shape "
                f"(info keys: {sorted(info)}); wrap an env whose last step is scored, and let the env end "
                "its episodes rather than a TimeLimit"
            )
        response = "".join(actions)
        length = sum(self.count(a) for a in actions)
        if info["verdict"].get("verifier_error", False):
            self.skip(info)
            parts = {"verifier_error": float(reward)}
        else:
            parts = self.parts(response, length, reward, info)
        info = {**info, "base_reward": reward, "reward_parts": parts, "response_length": length}
        return obs, float(sum(parts.values())), terminated, truncated, info


class LaserReward(_ShapedReward):
    """LASER's reward (arXiv 2505.15612 Sec. 4; :func:`~thinkgym.rewards.length.laser_reward`):
    ``C(y) + α·1[correct and L ≤ target]``, C(y) = +1 / -0.5 / -1 for correct / wrong / no answer.
    Parts: ``correctness`` (C(y)) and ``length`` (0 or α). LASER's targets are 2048-8192 tokens."""

    def __init__(
        self, env: gymnasium.Env[str, str], target: int, *, alpha: float = LASER_ALPHA, tokenizer: Any = None
    ) -> None:
        super().__init__(env, tokenizer)
        if target <= 0:
            raise ValueError(f"target must be > 0, got {target}")
        self.target, self.alpha = target, alpha

    def parts(self, response: str, length: int, reward: float, info: dict[str, Any]) -> dict[str, float]:
        verdict = info["verdict"]
        score = laser_score(verdict["correct"], verdict["format_ok"])
        total = laser_reward(verdict["correct"], length, self.target, verdict["format_ok"], alpha=self.alpha)
        return {"correctness": score, "length": total - score}


class HapoReward(_ShapedReward):
    """HAPO's reward (arXiv 2505.11225; code ``grpo_trainer.py::combined_reward_func``):
    ``1[correct] + w·r_len(L, h_i)`` (:func:`~thinkgym.rewards.length.hapo_length_reward`), where
    h_i is the shortest correct length seen so far for problem i (keyed by ``info["problem"]["id"]``).

    HAPO scores a whole batch against the history from before it, then updates h_i with the batch's
    correct lengths. Here the history is updated every ``update_every`` episodes: set it to the
    number of episodes in one training batch (e.g. G for one group played in a row) so every sample
    of the batch sees the same h_i. ``state_dict`` / ``load_state_dict`` carry the history across
    restarts. Parts: ``correctness`` (1 or 0) and ``length`` (w·r_len).
    """

    def __init__(
        self, env: gymnasium.Env[str, str], *, weight: float = 1.0, update_every: int = 1, tokenizer: Any = None
    ) -> None:
        super().__init__(env, tokenizer)
        if not 0.0 <= weight <= 1.0:
            raise ValueError(f"weight (HAPO's w_lr) must be in [0, 1], got {weight}")
        if update_every < 1:
            raise ValueError(f"update_every must be >= 1, got {update_every}")
        self.weight, self.update_every = weight, update_every
        self.history: dict[str, int] = {}
        self._pending: dict[str, int] = {}
        self._episodes = 0

    def parts(self, response: str, length: int, reward: float, info: dict[str, Any]) -> dict[str, float]:
        problem_id = info["problem"]["id"]
        correct = bool(info["verdict"]["correct"])
        r_len = hapo_length_reward(length, self.history.get(problem_id), correct)
        if correct:
            self._pending[problem_id] = min(length, self._pending.get(problem_id, length))
        self._count_episode()
        return {"correctness": 1.0 if correct else 0.0, "length": self.weight * r_len}

    def skip(self, info: dict[str, Any]) -> None:
        self._count_episode()  # still one episode of the batch, but it records no length

    def _count_episode(self) -> None:
        self._episodes += 1
        if self._episodes % self.update_every == 0:
            for key, best in self._pending.items():
                self.history[key] = min(best, self.history.get(key, best))
            self._pending.clear()

    def state_dict(self) -> dict[str, Any]:
        return {"history": dict(self.history), "pending": dict(self._pending), "episodes": self._episodes}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.history = {str(k): int(v) for k, v in state["history"].items()}
        self._pending = {str(k): int(v) for k, v in state["pending"].items()}
        self._episodes = int(state["episodes"])


class OpenRSReward(_ShapedReward):
    """Open-RS's reward (arXiv 2503.16219; ``recipes/grpo.yaml``): ``1.0·format + 2.0·cosine`` with
    :func:`~thinkgym.rewards.format.open_rs_format_reward` and
    :func:`~thinkgym.rewards.length.cosine_length_reward` (correct: 1.0 at L = 0 down to 0.5 at
    ``max_length``; wrong: 0.0 down to -0.5). Open-RS counts characters, ``max_length`` = 3584.
    Parts: ``format`` and ``cosine``, each already weighted."""

    def __init__(
        self,
        env: gymnasium.Env[str, str],
        max_length: int = 3584,
        *,
        correct_range: tuple[float, float] = (1.0, 0.5),
        wrong_range: tuple[float, float] = (0.0, -0.5),
        format_weight: float = 1.0,
        cosine_weight: float = 2.0,
        tokenizer: Any = None,
    ) -> None:
        super().__init__(env, tokenizer)
        if max_length <= 0:
            raise ValueError(f"max_length must be > 0, got {max_length}")
        self.max_length = max_length
        self.correct_range, self.wrong_range = correct_range, wrong_range
        self.format_weight, self.cosine_weight = format_weight, cosine_weight

    def parts(self, response: str, length: int, reward: float, info: dict[str, Any]) -> dict[str, float]:
        at_zero, at_max = self.correct_range if info["verdict"]["correct"] else self.wrong_range
        return {
            "format": self.format_weight * open_rs_format_reward(response),
            "cosine": self.cosine_weight * cosine_length_reward(length, self.max_length, at_zero, at_max),
        }


class OverlongPenalty(_ShapedReward):
    """DAPO's soft overlong punishment (arXiv 2503.14476 Sec. 3.4, Eq. 13;
    :func:`~thinkgym.rewards.length.dapo_overlong_penalty`) added to the inner reward. DAPO's own
    base reward is +1 / -1: ``make(..., rewards={"wrong": -1.0})``. Parts: ``base`` and ``overlong``."""

    def __init__(self, env: gymnasium.Env[str, str], max_length: int, cache: int, *, tokenizer: Any = None) -> None:
        super().__init__(env, tokenizer)
        dapo_overlong_penalty(0, max_length, cache)  # validates the pair
        self.max_length, self.cache = max_length, cache

    def parts(self, response: str, length: int, reward: float, info: dict[str, Any]) -> dict[str, float]:
        return {"base": float(reward), "overlong": dapo_overlong_penalty(length, self.max_length, self.cache)}


class AutoThinkReward(_ShapedReward):
    """AutoThink's base reward (arXiv 2505.10832; :func:`~thinkgym.rewards.modes.autothink_reward`):
    +1 / 0 thinking, +2 / -1 (-2 if degenerate) not thinking, 0 on a format error. Needs
    ``info["thinking_mode"]``: wrap a :class:`~thinkgym.envs.thinking.ThinkingMode` env. Degeneracy
    is judged on the response alone. The batch-level stage shaping
    (:func:`~thinkgym.rewards.modes.autothink_batch_balance`,
    :func:`~thinkgym.rewards.modes.autothink_length_shaping`) runs in the trainer on these rewards.
    Parts: ``correctness`` (the table value) and ``degenerate`` (0, or -1 when -1 became -2)."""

    def parts(self, response: str, length: int, reward: float, info: dict[str, Any]) -> dict[str, float]:
        if "thinking_mode" not in info:
            raise ValueError("AutoThinkReward needs info['thinking_mode']: wrap the env in ThinkingMode first")
        verdict = info["verdict"]
        thinking = info["thinking_mode"] == "thinking"
        table = autothink_reward(verdict["correct"], thinking, verdict["format_ok"])
        total = table
        if table < 0 and is_degenerate(response):
            total = autothink_reward(verdict["correct"], thinking, verdict["format_ok"], degenerate=True)
        return {"correctness": table, "degenerate": total - table}
