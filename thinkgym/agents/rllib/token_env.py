"""``TokenEnv``: any thinkgym env as a numeric token-level MDP, for RLlib, stable-baselines3 or CleanRL.

The text env's prompt becomes token ids; the policy writes the response one token per step; the
decoded response is scored by the inner env when the turn ends.

Observation: ``Box(shape=(2, max_length), dtype=int64)``. Row 0 holds the token ids (the prompt,
rendered with the tokenizer's chat template when it has one, then the tokens generated so far),
right-padded with 0; row 1 is the attention mask (1 on real tokens, 0 on padding). One plain Box,
not a ``Dict``: every numeric library takes it as it is (stable-baselines3's ``MlpPolicy``,
CleanRL's ``single_observation_space.shape`` buffers, RLlib's default connectors, gymnasium's
vector envs), where a ``Dict`` needs ``MultiInputPolicy`` in stable-baselines3, breaks CleanRL's
scripts and must be flattened or special-cased in RLlib.

Action: ``Discrete(len(tokenizer))``: the next token id.

Reward: 0 on every step that does not end a turn; at the end of a turn, the inner env's reward
for the decoded response.

Episode end: a turn ends at an end-of-turn token (the tokenizer's EOS or the chat template's
closer, e.g. ``<|im_end|>``) or after ``max_new_tokens`` tokens; the response (without that token)
goes to the inner env's ``step``, whose ``terminated`` / ``truncated`` end the episode. A
multi-turn inner env that goes on has its reply appended as a new user turn (append-only, see
:class:`thinkgym.agents.grpo.chat.ChatFormat`); when the reply and a full response no longer fit
in ``max_length`` the episode is truncated. ``info`` is empty on intermediate steps; at the end
of a turn it is the inner env's ``info`` plus ``"response"`` (the decoded text).

Arguments: ``env`` (a text env: ``str`` observations and actions), ``tokenizer`` (a Hugging Face
tokenizer), ``max_length`` (observation width, prompt plus response), ``max_new_tokens`` (per
turn). A prompt longer than ``max_length - max_new_tokens`` tokens is a ``ValueError`` at reset.
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from thinkgym.agents.grpo.chat import ChatFormat

__all__ = ["SkipProblems", "TokenEnv"]


class TokenEnv(gymnasium.Wrapper[np.ndarray, np.int64, str, str], gymnasium.utils.RecordConstructorArgs):
    """A text env as a token-level MDP (see the module docstring)."""

    def __init__(
        self, env: gymnasium.Env[str, str], tokenizer: Any, *, max_length: int = 1024, max_new_tokens: int = 32
    ) -> None:
        gymnasium.utils.RecordConstructorArgs.__init__(
            self, tokenizer=tokenizer, max_length=max_length, max_new_tokens=max_new_tokens
        )
        super().__init__(env)
        if max_new_tokens < 1 or max_length <= max_new_tokens:
            raise ValueError(f"need 1 <= max_new_tokens < max_length, got {max_new_tokens=} and {max_length=}")
        self.chat = ChatFormat(tokenizer)
        self.max_length = max_length
        self.max_new_tokens = max_new_tokens
        vocab = len(tokenizer)
        high = np.stack([np.full(max_length, vocab - 1), np.ones(max_length)]).astype(np.int64)
        self.observation_space = spaces.Box(low=0, high=high, shape=(2, max_length), dtype=np.int64)
        self.action_space = spaces.Discrete(vocab)
        self._ids: list[int] = []
        self._turn_start = 0
        self._active = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        text, info = self.env.reset(seed=seed, options=options)
        ids = self.chat.prompt_ids(text, info)
        if len(ids) + self.max_new_tokens > self.max_length:
            raise ValueError(
                f"the prompt has {len(ids)} tokens; max_length={self.max_length} leaves room for "
                f"{self.max_length - self.max_new_tokens} prompt tokens with max_new_tokens={self.max_new_tokens}"
            )
        self._ids = ids
        self._turn_start = len(ids)
        self._active = True
        return self._observation(), info

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self._active:
            raise gymnasium.error.ResetNeeded("call reset() before step(), and again after an episode ends")
        if not self.action_space.contains(action):
            raise ValueError(f"action must be a token id in {self.action_space}, got {action!r}")
        token = int(action)
        self._ids.append(token)
        response = self._ids[self._turn_start :]
        if token not in self.chat.stop_ids and len(response) < self.max_new_tokens:
            return self._observation(), 0.0, False, False, {}
        text = self.chat.decode(response)
        reply, reward, terminated, truncated, info = self.env.step(text)
        if not (terminated or truncated):
            turn = self.chat.env_turn_ids(reply, token)
            if len(self._ids) + len(turn) + self.max_new_tokens > self.max_length:
                truncated = True
            else:
                self._ids += turn
                self._turn_start = len(self._ids)
        self._active = not (terminated or truncated)
        return self._observation(), float(reward), terminated, truncated, {**info, "response": text}

    def _observation(self) -> np.ndarray:
        obs = np.zeros((2, self.max_length), dtype=np.int64)
        obs[0, : len(self._ids)] = self._ids
        obs[1, : len(self._ids)] = 1
        return obs


class SkipProblems(gymnasium.Wrapper[str, str, str, str]):
    """A text env that never starts an episode on a problem whose id is in ``ids`` (held-out
    problems): an unseeded ``reset`` draws again, up to ``max_draws`` times."""

    def __init__(self, env: gymnasium.Env[str, str], ids: set[str], *, max_draws: int = 1000) -> None:
        super().__init__(env)
        self.ids, self.max_draws = frozenset(ids), max_draws

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        for draw in range(self.max_draws):
            text, info = self.env.reset(seed=seed if draw == 0 else None, options=options)
            if info["problem"]["id"] not in self.ids:
                return text, info
        raise RuntimeError(
            f"{self.max_draws} problems in a row were held out: the env has too few distinct problems "
            "for this many held-out ones"
        )
