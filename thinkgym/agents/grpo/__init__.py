"""The bundled GRPO agent (needs the ``train`` extra: torch, transformers).

    from thinkgym.agents.grpo import GRPOConfig, train
    history = train(GRPOConfig(env="Saturn-SAT-v0", env_kwargs={"level": 1}, model="tiny", steps=10))

Modules, in the order a step uses them: :mod:`.chat` (prompt ids), :mod:`.sampling` (batched
generation), :mod:`.rollout` (episodes, single- and multi-turn), :mod:`.advantages` (group
shapers), :mod:`.loss` (GRPO / Dr. GRPO / DAPO), :mod:`.trainer` (the loop), :mod:`.checkpoint`;
plus :mod:`.policy` (a model behind the Policy API), :mod:`.sft` and :mod:`.redi` (supervised
and REDI), :mod:`.ray_rollout` (Ray actors), :mod:`.vllm_sampler` (optional vLLM) and
:mod:`.cli`. Importing this package does not import torch; :func:`train` and :func:`supervise`
import it when called.
"""

from __future__ import annotations

from typing import Any

from thinkgym.agents.grpo.config import GRPOConfig, SFTConfig

__all__ = ["GRPOConfig", "SFTConfig", "supervise", "train"]


def train(cfg: GRPOConfig, **kwargs: Any) -> list[dict[str, Any]]:
    """GRPO training; see :func:`thinkgym.agents.grpo.trainer.train`."""
    from thinkgym.agents.grpo.trainer import train as _train

    return _train(cfg, **kwargs)


def supervise(cfg: SFTConfig) -> list[dict[str, Any]]:
    """SFT warm start or REDI; see :func:`thinkgym.agents.grpo.sft.supervise`."""
    from thinkgym.agents.grpo.sft import supervise as _supervise

    return _supervise(cfg)
