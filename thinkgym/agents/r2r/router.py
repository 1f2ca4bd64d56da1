"""The R2R router and its training (thu-nics/R2R ``r2r/models/router.py``,
``HiddenStatesTokenLMHeadLogitsClassifier``; paper arXiv 2505.21600 §4).

Inputs, all from the small model at the current position: its last-layer hidden state, the
embedding of the token it sampled (initialised from its own embedding table), and its top-k
next-token logits (softmax-normalised). The logits are projected to the hidden size, the three
parts are concatenated and projected, then pass residual pre-LayerNorm MLP blocks (expansion 4,
GELU, dropout) to one logit: sigmoid(logit) >= threshold sends the token to the large model.

Training is binary cross-entropy with ``pos_weight = (n0/n1) * recall_factor`` (the paper's class
weighting, which keeps the recall of divergent tokens high); :func:`choose_threshold` picks the
threshold that routes a target fraction of tokens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

__all__ = ["Router", "train_router", "choose_threshold"]


class _Block(nn.Module):
    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(width)
        self.mlp = nn.Sequential(
            nn.Linear(width, 4 * width), nn.GELU(), nn.Dropout(dropout), nn.Linear(4 * width, width)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.mlp(self.norm(x))


class Router(nn.Module):
    """Args: ``embeddings`` (the small model's input embedding table, copied), ``top_k`` logits
    kept (the paper: 100), ``width`` of the MLP blocks, ``blocks`` how many, ``dropout``."""

    def __init__(
        self, embeddings: torch.Tensor, *, top_k: int = 100, width: int = 128, blocks: int = 2, dropout: float = 0.1
    ) -> None:
        super().__init__()
        vocab, hidden = embeddings.shape
        self.top_k = min(top_k, vocab)
        self.token_embedding = nn.Embedding(vocab, hidden)
        with torch.no_grad():
            self.token_embedding.weight.copy_(embeddings)
        self.logit_proj = nn.Linear(self.top_k, hidden)
        self.inp = nn.Linear(3 * hidden, width)
        self.blocks = nn.Sequential(*(_Block(width, dropout) for _ in range(blocks)))
        self.out = nn.Sequential(nn.LayerNorm(width), nn.Linear(width, 1))

    def features(self, logits: torch.Tensor) -> torch.Tensor:
        """Top-k softmax-normalised logits, sorted descending (shape [..., top_k])."""
        return torch.softmax(logits.float(), dim=-1).topk(self.top_k, dim=-1).values

    def forward(self, hidden: torch.Tensor, token: torch.Tensor, topk: torch.Tensor) -> torch.Tensor:
        """One logit per position; ``hidden`` [B, H], ``token`` [B], ``topk`` [B, top_k]."""
        x = torch.cat([hidden.float(), self.token_embedding(token), self.logit_proj(topk)], dim=-1)
        return self.out(self.blocks(self.inp(x))).squeeze(-1)

    @torch.no_grad()
    def probability(self, hidden: torch.Tensor, token: int, logits: torch.Tensor) -> float:
        """P(route to the large model) for one position."""
        self.eval()
        t = torch.tensor([token], device=hidden.device)
        return float(torch.sigmoid(self(hidden[None], t, self.features(logits)[None]))[0])


def train_router(
    router: Router,
    examples: Sequence[Any],
    *,
    epochs: int = 30,
    lr: float = 1e-3,
    batch_size: int = 64,
    recall_factor: float = 1.0,
    seed: int = 0,
) -> dict[str, float]:
    """Fits the router on :class:`~thinkgym.agents.r2r.labels.RouterExample` s with BCE and
    ``pos_weight = (n0/n1)*recall_factor``; returns the final loss and the training recall and
    accuracy at threshold 0.5."""
    if not examples:
        raise ValueError("no router examples to train on")
    hidden = torch.stack([e.hidden for e in examples]).float()
    tokens = torch.tensor([e.token for e in examples])
    topk = torch.stack([router.features(e.logits) for e in examples])
    labels = torch.tensor([float(e.divergent) for e in examples])
    n1 = float(labels.sum())
    n0 = len(labels) - n1
    pos_weight = torch.tensor((n0 / n1) * recall_factor if n1 else 1.0)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
    opt = torch.optim.AdamW(router.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    router.train()
    loss = torch.tensor(0.0)
    for _ in range(epochs):
        order = torch.randperm(len(labels), generator=gen)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            loss = loss_fn(router(hidden[idx], tokens[idx], topk[idx]), labels[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    router.eval()
    with torch.no_grad():
        pred = torch.sigmoid(router(hidden, tokens, topk)) >= 0.5
    recall = float((pred & (labels == 1)).sum() / n1) if n1 else float("nan")
    return {
        "loss": loss.item(),
        "recall": recall,
        "accuracy": float((pred == (labels == 1)).float().mean()),
        "positives": n1,
        "negatives": n0,
    }


@torch.no_grad()
def choose_threshold(router: Router, examples: Sequence[Any], target_fraction: float) -> float:
    """The threshold that routes ``target_fraction`` of the given positions to the large model
    (the (1 - target) quantile of the router's probabilities on them)."""
    if not 0.0 <= target_fraction <= 1.0:
        raise ValueError(f"target_fraction must be in [0, 1], got {target_fraction}")
    if not examples:
        raise ValueError("no examples to calibrate the threshold on")
    router.eval()
    hidden = torch.stack([e.hidden for e in examples]).float()
    tokens = torch.tensor([e.token for e in examples])
    topk = torch.stack([router.features(e.logits) for e in examples])
    probs = torch.sigmoid(router(hidden, tokens, topk)).sort().values
    if target_fraction == 0.0:
        return float("inf")
    index = int(round((1.0 - target_fraction) * (len(probs) - 1)))
    return float(probs[index])
