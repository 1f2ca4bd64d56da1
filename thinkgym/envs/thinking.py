"""``ThinkingMode``: prefill the start of the answer to force or offer a thinking mode.

Sources:

* AdaptThink (Zhang et al., arXiv 2505.13417, Sec. 3.2; code THU-KEG/AdaptThink
  ``src/adapt_think_vllm_rollout.py``): after DeepSeek-R1's ``<think>\\n`` the first generated token
  is forced to ``</think>`` for NoThinking (an empty think block ``<think>\\n</think>``) or to
  ``Alright`` for Thinking.
* AutoThink (Tu et al., arXiv 2505.10832; code TU2021/AutoThink ``deepscaler/globals.py``):
  the ellipsis prompt ``<think>\\n...\\n`` leaves the choice to the model, which either closes the
  think block at once (no-think) or reasons.

Observation: the inner prompt, a newline, then the prefill. ``info["prefill"]`` holds the prefill
alone, for policies that apply a chat template: it is the start of the assistant turn.

Action: the model's continuation *after* the prefill. The inner env scores prefill + action, so
with the ellipsis prefill a response that never closes the think block has no answer.

Info: ``info["thinking_mode"]`` after each step is ``"thinking"`` or ``"nothinking"``, detected
from prefill + action by :func:`thinking_mode`; ``info["prompt_mode"]`` (reset and step) is the
prefill mode of the episode.

Arguments: ``mode`` (``"nothinking"``, ``"thinking"`` or ``"ellipsis"``, see ``PREFILLS``);
``reset(options={"thinking_mode": ...})`` overrides it for one episode (AdaptThink samples half
of each group in each mode).
"""

from __future__ import annotations

from typing import Any

import gymnasium

__all__ = ["PREFILLS", "ThinkingMode", "thinking_mode"]

PREFILLS: dict[str, str] = {
    "nothinking": "<think>\n</think>",  # AdaptThink NoThinking: first token </think>
    "thinking": "<think>\nAlright",  # AdaptThink Thinking: first token "Alright"
    "ellipsis": "<think>\n...\n",  # AutoThink: the model chooses
}
_OPEN, _CLOSE = "<think>", "</think>"


def thinking_mode(text: str) -> str:
    """``"nothinking"`` when the first think block is empty: nothing but whitespace, or AutoThink's
    ``...`` (its rule: ``<think>\\n...\\n</think>`` in prompt + response), or a response that
    starts with ``</think>`` (the template opened the block). A text with no think tags at all is
    ``"nothinking"`` too. Anything else, an unclosed think block included, is ``"thinking"``."""
    close = text.find(_CLOSE)
    opening = text.find(_OPEN)
    if close < 0:
        return "thinking" if opening >= 0 else "nothinking"
    start = opening + len(_OPEN) if 0 <= opening < close else 0
    return "nothinking" if text[start:close].strip() in ("", "...") else "thinking"


class ThinkingMode(gymnasium.Wrapper[str, str, str, str]):
    """Forces NoThinking or Thinking, or offers AutoThink's ellipsis choice (see the module docstring)."""

    def __init__(self, env: gymnasium.Env[str, str], mode: str = "ellipsis") -> None:
        super().__init__(env)
        self.mode = self._check(mode)
        self._episode_mode = self.mode

    @staticmethod
    def _check(mode: Any) -> str:
        if mode not in PREFILLS:
            raise ValueError(f"thinking mode must be one of {sorted(PREFILLS)}, got {mode!r}")
        return mode

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        options = dict(options or {})
        self._episode_mode = self._check(options.pop("thinking_mode", self.mode))
        prompt, info = self.env.reset(seed=seed, options=options or None)
        prefill = PREFILLS[self._episode_mode]
        return f"{prompt}\n{prefill}", {**info, "prefill": prefill, "prompt_mode": self._episode_mode}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if not isinstance(action, str):
            raise TypeError(f"action must be a str (the model's response), got {type(action).__name__}")
        text = PREFILLS[self._episode_mode] + action
        obs, reward, terminated, truncated, info = self.env.step(text)
        info = {**info, "thinking_mode": thinking_mode(text), "prompt_mode": self._episode_mode}
        return obs, reward, terminated, truncated, info
