"""Group advantages and group filtering.

A group shaper is any callable ``(rewards: np.ndarray, **group_info) -> advantages`` called once
per group, with ``group_info`` = ``correct`` (bool array), ``lengths`` (policy tokens per episode)
and ``episodes`` (the :class:`~thinkgym.agents.grpo.rollout.Episode` objects); a shaper takes what
it needs and ignores the rest through ``**kwargs``. Built in, from :mod:`thinkgym.rewards.group`:

* ``"grpo"``: ``A_i = (r_i - mean r) / (std r + 1e-6)`` (DeepSeekMath Eq. 3, outcome supervision);
* ``"dr_grpo"``: ``A_i = r_i - mean r`` (Dr. GRPO, arXiv 2503.20783 Sec. 3.1);
* ``"mgpo"``: ``w_ME(p_c) * A_i`` (VibeThinker Sec. 3.4), ``advantage_kwargs={"lam": ...}``.

Any other name ``"package.module:function"`` is imported. Zero-variance filtering (DAPO's
dynamic-sampling condition ``0 < #correct < G``, applied to rewards) drops groups that carry no
learning signal (peers.md (c)5).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np

from thinkgym.agents.grpo.rollout import Episode
from thinkgym.rewards.group import dr_grpo_advantages, grpo_advantages, mgpo_advantages

__all__ = ["GroupShaper", "SHAPERS", "episode_advantages", "has_variance", "resolve_shaper"]

GroupShaper = Callable[..., np.ndarray]


def _grpo(rewards: np.ndarray, eps: float = 1e-6, **_: Any) -> np.ndarray:
    return grpo_advantages(rewards, eps=eps)


def _dr_grpo(rewards: np.ndarray, **_: Any) -> np.ndarray:
    return dr_grpo_advantages(rewards)


def _mgpo(rewards: np.ndarray, correct: np.ndarray, lam: float = 1.0, eps: float = 1e-6, **_: Any) -> np.ndarray:
    return mgpo_advantages(rewards, correct, lam=lam, eps=eps)


SHAPERS: dict[str, GroupShaper] = {"grpo": _grpo, "dr_grpo": _dr_grpo, "mgpo": _mgpo}
_LOSS_DEFAULT = {"grpo": "grpo", "dr_grpo": "dr_grpo", "dapo": "grpo"}


def resolve_shaper(spec: str | GroupShaper | None, loss_type: str) -> GroupShaper:
    """The shaper named by ``spec`` (None: the one that goes with ``loss_type``)."""
    if callable(spec):
        return spec
    name = _LOSS_DEFAULT[loss_type] if spec is None else spec
    if name in SHAPERS:
        return SHAPERS[name]
    if ":" not in name:
        raise ValueError(f"advantage must be one of {sorted(SHAPERS)} or 'module:function', got {name!r}")
    module, _, attr = name.partition(":")
    return getattr(importlib.import_module(module), attr)


def has_variance(episodes: list[Episode]) -> bool:
    """A group teaches something only when its rewards are not all equal."""
    return len({e.reward for e in episodes}) > 1


def episode_advantages(groups: list[list[Episode]], shaper: GroupShaper, **shaper_kwargs: Any) -> list[np.ndarray]:
    """One advantage array per group, from ``shaper(rewards, correct=, lengths=, episodes=, **shaper_kwargs)``."""
    out = []
    for episodes in groups:
        rewards = np.array([e.reward for e in episodes], dtype=np.float64)
        correct = np.array([e.correct for e in episodes], dtype=bool)
        lengths = np.array([e.policy_tokens for e in episodes], dtype=np.int64)
        adv = np.asarray(
            shaper(rewards, correct=correct, lengths=lengths, episodes=episodes, **shaper_kwargs), dtype=np.float64
        )
        if adv.shape != rewards.shape:
            raise ValueError(f"the advantage function returned shape {adv.shape} for a group of {rewards.size}")
        out.append(adv)
    return out
