"""The GRPO family of losses (objectives.md §10), written as one weighted sum over tokens.

Per trained token t of episode i (rho = pi_theta / pi_old, A_i the episode's advantage)::

    l_{i,t} = -min(rho_{i,t} A_i, clip(rho_{i,t}, 1 - eps_low, 1 + eps_high) A_i)     (clipped surrogate)
              + beta * D_{i,t}                                                       (k3 KL to pi_ref)
              - c_H * H_{i,t}                                                        (entropy bonus)
    D_{i,t} = pi_ref/pi_theta - log(pi_ref/pi_theta) - 1                             (k3, Schulman 2020)
    loss    = sum_{i,t} w_i l_{i,t}     (over trained tokens only)

and the variants differ only in the weights w (B episodes in the batch, |o_i| = trained tokens of
episode i over all its rows, L = max_new_tokens):

* GRPO (DeepSeekMath Eq. 3):  w = 1 / (B |o_i|)      -- mean over tokens, then over episodes;
* Dr. GRPO (arXiv 2503.20783): w = 1 / (B L)          -- token sum over a constant;
* DAPO (arXiv 2503.14476 Eq. 8): w = 1 / sum_i |o_i|  -- mean over all tokens of the batch.

eps_high > eps_low is DAPO's clip-higher. The entropy term is verl's ``loss = pg - c_H * H``
(1-shot RLVR, objectives.md §8), aggregated with the same weights. Because the weights are fixed
over the whole batch before it is split into micro-batches, accumulating micro-batch gradients
gives exactly the full-batch gradient. As in verl, log(pi_ref/pi_theta) is clamped to [-20, 20].
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass

import torch

__all__ = ["RowBatch", "collate", "k3_kl", "policy_loss", "row_weights", "token_logprobs"]


@dataclass
class RowBatch:
    """Training rows: prompts left-padded to a common width P, completions right-padded to C, so
    that the model computes logits for the C completion positions only (``logits_to_keep``)."""

    input_ids: torch.Tensor  # [R, P + C]
    attention_mask: torch.Tensor  # [R, P + C]
    mask: torch.Tensor  # [R, C] float, 1 where the completion token was sampled by the policy
    advantages: torch.Tensor  # [R]
    episode: torch.Tensor  # [R] long, which episode each row belongs to

    def rows(self, start: int, stop: int) -> RowBatch:
        """Rows ``start:stop``, without the padding columns none of them uses."""
        ids, attention, mask = self.input_ids[start:stop], self.attention_mask[start:stop], self.mask[start:stop]
        prompt_width = ids.shape[1] - mask.shape[1]
        lead = int((attention[:, :prompt_width].cumsum(-1) == 0).sum(-1).min())
        width = int(attention[:, prompt_width:].sum(-1).max())
        keep = slice(lead, prompt_width + width)
        return RowBatch(
            ids[:, keep], attention[:, keep], mask[:, :width], self.advantages[start:stop], self.episode[start:stop]
        )

    def to(self, device: torch.device | str) -> RowBatch:
        return RowBatch(*(t.to(device) for t in vars(self).values()))


def collate(
    rows: Sequence[tuple[list[int], list[int], list[int]]],
    advantages: Sequence[float],
    episodes: Sequence[int],
    pad_id: int,
) -> RowBatch:
    """Pads ``(prompt_ids, completion_ids, completion_mask)`` rows into a :class:`RowBatch`."""
    prompt_width = max(len(p) for p, _, _ in rows)
    width = max(len(c) for _, c, _ in rows)
    n = len(rows)
    input_ids = torch.full((n, prompt_width + width), pad_id, dtype=torch.long)
    attention = torch.zeros((n, prompt_width + width), dtype=torch.long)
    mask = torch.zeros((n, width))
    for r, (prompt, completion, completion_mask) in enumerate(rows):
        span = slice(prompt_width - len(prompt), prompt_width + len(completion))
        input_ids[r, span] = torch.tensor(prompt + completion, dtype=torch.long)
        attention[r, span] = 1
        mask[r, : len(completion)] = torch.tensor(completion_mask, dtype=torch.float)
    return RowBatch(
        input_ids,
        attention,
        mask,
        torch.tensor(advantages, dtype=torch.float),
        torch.tensor(episodes, dtype=torch.long),
    )


def token_logprobs(
    model: torch.nn.Module, batch: RowBatch, temperature: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """(log pi(token), entropy of pi) at each completion position, both [R, C], under the
    distribution the tokens were sampled from: softmax(logits / temperature), as in verl and TRL."""
    width = batch.mask.shape[1]
    positions = (batch.attention_mask.cumsum(-1) - 1).clamp(min=0)
    inputs = {"input_ids": batch.input_ids, "attention_mask": batch.attention_mask, "position_ids": positions}
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        inputs["logits_to_keep"] = width + 1
    logits = model(**inputs).logits[:, -(width + 1) : -1].float()
    if temperature > 0:
        logits = logits / temperature
    logp_all = torch.log_softmax(logits, dim=-1)
    logp = logp_all.gather(-1, batch.input_ids[:, -width:].unsqueeze(-1)).squeeze(-1)
    entropy = -(logp_all.exp() * logp_all).sum(-1)
    return logp, entropy


def k3_kl(logp: torch.Tensor, ref_logp: torch.Tensor) -> torch.Tensor:
    """k3 = r - log r - 1 with r = pi_ref / pi_theta, per token (>= 0, unbiased for KL(pi_theta||pi_ref))."""
    log_ratio = (ref_logp - logp).clamp(-20.0, 20.0)
    return torch.exp(log_ratio) - log_ratio - 1.0


def row_weights(
    mask: torch.Tensor, episode: torch.Tensor, num_episodes: int, loss_type: str, max_new_tokens: int
) -> torch.Tensor:
    """The w of the module docstring, one per row [R] (every trained token of a row has the same w)."""
    if loss_type == "grpo":
        tokens_per_episode = torch.zeros(num_episodes, dtype=mask.dtype).index_add(0, episode, mask.sum(-1))
        return 1.0 / (num_episodes * tokens_per_episode[episode].clamp(min=1.0))
    if loss_type == "dr_grpo":
        return torch.full((mask.shape[0],), 1.0 / (num_episodes * max_new_tokens))
    if loss_type == "dapo":
        return torch.full((mask.shape[0],), 1.0 / float(mask.sum().clamp(min=1.0)))
    raise ValueError(f"unknown loss_type {loss_type!r}; valid: grpo, dr_grpo, dapo")


def policy_loss(
    logp: torch.Tensor,
    old_logp: torch.Tensor,
    advantages: torch.Tensor,
    mask: torch.Tensor,
    weights: torch.Tensor,
    *,
    eps_low: float,
    eps_high: float,
    beta: float = 0.0,
    ref_logp: torch.Tensor | None = None,
    entropy: torch.Tensor | None = None,
    entropy_coef: float = 0.0,
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """``sum w * l`` over the trained tokens (module docstring), and per-token ``kl`` and
    ``clipped`` tensors for logging. ``advantages`` and ``weights`` are per row [R]; ``logp``,
    ``old_logp``, ``ref_logp``, ``entropy`` and ``mask`` are per token [R, T]."""
    ratio = torch.exp(logp - old_logp)
    adv = advantages.unsqueeze(-1)
    unclipped, clipped = ratio * adv, ratio.clamp(1.0 - eps_low, 1.0 + eps_high) * adv
    per_token = -torch.minimum(unclipped, clipped)
    kl = torch.zeros_like(logp) if ref_logp is None else k3_kl(logp, ref_logp)
    if beta > 0:
        if ref_logp is None:
            raise ValueError("beta > 0 needs ref_logp")
        per_token = per_token + beta * kl
    if entropy_coef:
        per_token = per_token - entropy_coef * entropy
    loss = (per_token * mask * weights.unsqueeze(-1)).sum()
    return loss, {"kl": kl.detach(), "clipped": (clipped < unclipped).float()}
