"""One GRPO update: ``num_iterations`` optimiser steps on a batch of rows, accumulating gradients
over micro-batches, clipping the gradient norm. Shared by the in-process learner (:func:`update`,
called by :func:`thinkgym.agents.grpo.trainer.train`) and every data-parallel learner
(:class:`thinkgym.agents.grpo.distributed.Learner`), which passes its gradient-sync context, its
loss scale and its all-reduce of the logged sums.

The loss is :func:`.loss.policy_loss` with the row weights of :func:`.loss.row_weights`, fixed over
the whole batch before it is cut into micro-batches, so the accumulated gradient is exactly the
full-batch gradient. With ``num_iterations > 1`` the old log-probabilities (pi_old) are computed
once before the first step; with one step pi_old is pi_theta itself (ratio 1), so no extra pass.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

import torch

from thinkgym.agents.grpo.config import GRPOConfig
from thinkgym.agents.grpo.loss import RowBatch, policy_loss, row_weights, token_logprobs

__all__ = ["MicroBatch", "autocast", "micro_batches", "optimise", "update"]

# (rows, their loss weights w, real): real False marks a zero-weight filler that only keeps a
# data-parallel rank's collectives in step with the others
MicroBatch = tuple[RowBatch, torch.Tensor, bool]


def autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """bf16 autocast on CUDA (fp32 master weights); plain fp32 on CPU."""
    return torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()


def micro_batches(batch: RowBatch, weights: torch.Tensor, start: int, stop: int, size: int) -> list[MicroBatch]:
    """Rows ``start:stop`` of ``batch`` with their ``weights``, cut into micro-batches of ``size`` rows."""
    return [
        (batch.rows(s, min(s + size, stop)), weights[s : min(s + size, stop)], True) for s in range(start, stop, size)
    ]


def optimise(
    model: torch.nn.Module,
    ref_model: torch.nn.Module | None,
    optimizer: torch.optim.Optimizer,
    micro: list[MicroBatch],
    cfg: GRPOConfig,
    device: torch.device,
    *,
    loss_scale: float = 1.0,
    sync: Callable[[bool], contextlib.AbstractContextManager] | None = None,
    reduce: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> dict[str, Any]:
    """``cfg.num_iterations`` optimiser steps on ``micro`` (already on ``device``); returns the
    first step's statistics (loss, grad_norm, and per-token kl, entropy, clip_fraction).

    ``model`` is what runs the forward (a DDP or FSDP2 module on a learner); the optimiser's
    parameters are clipped. A learner backpropagates ``loss_scale * loss``, enters ``sync(last)``
    around each micro-batch's backward (``last``: the final one) and sums its statistics over the
    ranks with ``reduce``."""
    micro = [(mb.to(device), w.to(device), real) for mb, w, real in micro]
    with torch.no_grad(), autocast(device):
        ref = [token_logprobs(ref_model, mb, cfg.temperature)[0] for mb, _, _ in micro] if ref_model else None
        old = (
            [token_logprobs(model, mb, cfg.temperature)[0] for mb, _, _ in micro] if cfg.num_iterations > 1 else None
        )
    params = [p for group in optimizer.param_groups for p in group["params"]]
    stats: dict[str, Any] = {}
    for iteration in range(cfg.num_iterations):
        optimizer.zero_grad(set_to_none=True)
        sums = torch.zeros(5, dtype=torch.float64)  # loss, kl, entropy, clipped, tokens
        for k, (mb, w, real) in enumerate(micro):
            with sync(k == len(micro) - 1) if sync else contextlib.nullcontext():
                with autocast(device):
                    logp, entropy = token_logprobs(model, mb, cfg.temperature)
                loss, parts = policy_loss(
                    logp,
                    old[k] if old else logp.detach(),
                    mb.advantages,
                    mb.mask,
                    w,
                    eps_low=cfg.eps_low,
                    eps_high=cfg.eps_high,
                    beta=cfg.beta,
                    ref_logp=ref[k] if ref else None,
                    entropy=entropy,
                    entropy_coef=cfg.entropy_coef,
                )
                (loss * loss_scale if loss_scale != 1.0 else loss).backward()
            if real:
                tokens = mb.mask
                sums += torch.tensor(
                    [
                        loss.item(),
                        (parts["kl"] * tokens).sum().item(),
                        (entropy.detach() * tokens).sum().item(),
                        (parts["clipped"] * tokens).sum().item(),
                        tokens.sum().item(),
                    ],
                    dtype=torch.float64,
                )
        grad_norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        if hasattr(grad_norm, "full_tensor"):  # FSDP2: a DTensor
            grad_norm = grad_norm.full_tensor()
        optimizer.step()
        if iteration == 0:
            loss_sum, kl, entropy_sum, clipped, count = (reduce(sums) if reduce else sums).tolist()
            stats = {
                "loss": loss_sum,
                "grad_norm": float(grad_norm),
                "kl": kl / max(count, 1.0) if ref_model is not None else None,  # no reference when beta = 0
                "entropy": entropy_sum / max(count, 1.0),
                "clip_fraction": clipped / max(count, 1.0),
            }
    return stats


def update(
    model: torch.nn.Module,
    ref_model: torch.nn.Module | None,
    optimizer: torch.optim.Optimizer,
    batch: RowBatch,
    num_episodes: int,
    cfg: GRPOConfig,
    device: torch.device,
) -> dict[str, Any]:
    """The in-process learner's update: :func:`optimise` on the whole ``batch`` of ``num_episodes``
    episodes; logs the statistics of the first step."""
    weights = row_weights(batch.mask, batch.episode, num_episodes, cfg.loss_type, cfg.max_new_tokens)
    micro = micro_batches(batch, weights, 0, batch.input_ids.shape[0], cfg.micro_batch_size)
    return optimise(model, ref_model, optimizer, micro, cfg, device)
