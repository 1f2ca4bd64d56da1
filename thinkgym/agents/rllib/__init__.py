"""Ray RLlib integration: thinkgym envs as token-level MDPs, and a causal LM as the RLlib policy.

* :class:`TokenEnv` (``token_env``): any thinkgym env as a numeric MDP (a ``Box`` of token ids plus
  attention mask, a ``Discrete`` vocabulary action), for RLlib, stable-baselines3 or CleanRL. It
  needs a tokenizer, not ray.
* :class:`CausalLMModule` (``module``): an RLlib new-API-stack ``TorchRLModule`` around a Hugging
  Face causal LM, with a value head.
* :func:`ppo_config` (``config``): a ready ``PPOConfig``; ``ppo_config(env_id).build_algo().train()``.

``TokenEnv`` imports eagerly; the ray-backed names load on first use (the ``rllib`` extra), so
stable-baselines3 and CleanRL users need no ray. See ``docs/rllib.md``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from thinkgym.agents.rllib.token_env import TokenEnv

__all__ = ["CausalLMModule", "TokenEnv", "make_token_env", "ppo_config"]

_LAZY = {"CausalLMModule": "module", "make_token_env": "config", "ppo_config": "config"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
