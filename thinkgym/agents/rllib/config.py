"""``ppo_config``: a ready RLlib ``PPOConfig`` that trains a causal LM on a thinkgym env, token by token.

The env is registered with ``ray.tune.register_env`` as ``thinkgym-tokens/<env_id>``: every env
runner builds ``TokenEnv(gymnasium.make(env_id, **env_kwargs), tokenizer)`` itself, and the
policy is :class:`thinkgym.agents.rllib.module.CausalLMModule` around the same model, trained by
:class:`thinkgym.agents.rllib.learner.ReferenceKLPPOLearner` (PPO, plus a KL penalty to the
starting model when ``ref_kl_coeff > 0``). The defaults are sized for a laptop CPU (one env
runner, 64-token train batches); scale out with ``num_env_runners``, ``num_learners``,
``num_gpus_per_learner`` (see ``docs/rllib.md``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium
from ray.rllib.algorithms.ppo import PPOConfig
from ray.rllib.core.rl_module.rl_module import RLModuleSpec
from ray.tune.registry import register_env

from thinkgym.agents.grpo.rollout import held_out_seeds
from thinkgym.agents.models import build_tiny_tokenizer
from thinkgym.agents.rllib.learner import ReferenceKLPPOLearner
from thinkgym.agents.rllib.module import CausalLMModule
from thinkgym.agents.rllib.token_env import SkipProblems, TokenEnv

__all__ = ["ppo_config", "make_token_env"]

# Small enough that two training iterations of the tiny model take seconds on one CPU core.
_DEFAULTS: dict[str, Any] = {
    "num_env_runners": 1,
    "minibatch_size": 32,
    "num_epochs": 2,
    "lr": 1e-4,
    "gamma": 1.0,
    "lambda_": 0.95,
}


def _tokenizer(model: str) -> Any:
    if model == "tiny":
        return build_tiny_tokenizer()
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(model, local_files_only=True)


def make_token_env(env_config: dict[str, Any]) -> TokenEnv:
    """The env creator RLlib calls on each env runner: ``env_config`` holds ``env_id``, ``env_kwargs``,
    ``model``, ``max_length``, ``max_new_tokens`` and ``held_out`` (skip the first N held-out
    problems of ``thinkgym train``, the ones its evaluation uses)."""
    inner = gymnasium.make(env_config["env_id"], **env_config["env_kwargs"])
    if env_config.get("held_out"):
        ids = {inner.reset(seed=seed)[1]["problem"]["id"] for seed in held_out_seeds(env_config["held_out"])}
        inner = SkipProblems(inner, ids)
    return TokenEnv(
        inner,
        _tokenizer(env_config["model"]),
        max_length=env_config["max_length"],
        max_new_tokens=env_config["max_new_tokens"],
    )


def ppo_config(
    env_id: str,
    model: str | Path = "tiny",
    env_kwargs: dict[str, Any] | None = None,
    *,
    max_length: int = 1024,
    max_new_tokens: int = 32,
    held_out: int = 0,
    ref_kl_coeff: float = 0.0,
    ref_kl_estimator: str = "k3",
    kv_cache: bool = True,
    **overrides: Any,
) -> PPOConfig:
    """PPO on ``env_id`` (a thinkgym env id) with ``model`` (``"tiny"`` or a local HF folder) as the policy.

    ``max_length`` / ``max_new_tokens`` size the token env (prompt plus response, response per
    turn). Defaults: one env runner, ``gamma=1`` (the reward comes at the end of the response),
    ``lambda_=0.95``, train batches of ``max(64, 2 * max_new_tokens)`` tokens, minibatches of 32,
    2 epochs. ``held_out``: never train on the first N held-out problems of ``thinkgym train``
    (so :func:`thinkgym.agents.grpo.trainer.evaluate_model` measures unseen problems).
    ``ref_kl_coeff`` / ``ref_kl_estimator``: the KL penalty to the starting model (0: off; see
    :mod:`thinkgym.agents.rllib.learner`). ``kv_cache``: env runners keep a per-episode KV cache
    (see :mod:`thinkgym.agents.rllib.module`). ``overrides`` set any ``PPOConfig`` attribute
    (``lr=...``, ``num_env_runners=...``, ``num_learners=...``, ``num_gpus_per_learner=...``); a
    name PPOConfig lacks is a ``ValueError``.
    """
    model = "tiny" if str(model) == "tiny" else str(Path(model).resolve())  # env runners may run elsewhere
    config = PPOConfig()
    unknown = sorted(key for key in overrides if not hasattr(config, key))
    if unknown:
        raise ValueError(f"unknown PPOConfig setting(s) {unknown}")
    name = f"thinkgym-tokens/{env_id}"
    register_env(name, make_token_env)
    env_config = {
        "env_id": env_id,
        "env_kwargs": dict(env_kwargs or {}),
        "model": model,
        "max_length": max_length,
        "max_new_tokens": max_new_tokens,
        "held_out": int(held_out),
    }
    config.environment(name, env_config=env_config)
    config.rl_module(
        rl_module_spec=RLModuleSpec(module_class=CausalLMModule, model_config={"model": model, "kv_cache": kv_cache})
    )
    config.learners(
        learner_class=ReferenceKLPPOLearner,
        learner_config_dict={"ref_kl_coeff": float(ref_kl_coeff), "ref_kl_estimator": ref_kl_estimator},
    )
    # at least two whole responses per batch, so every iteration reports an episode return
    batch = {"train_batch_size_per_learner": max(64, 2 * max_new_tokens)}
    return config.update_from_dict({**_DEFAULTS, **batch, **overrides})
