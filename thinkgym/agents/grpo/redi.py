"""REDI: Reinforcement Distillation from positive and negative traces (arXiv 2505.24850 §2.2).

Reference-free, per (x, y_w, y_l) pair, minimised (paper Eq. 5; objectives.md §7)::

    L_REDI = E[ -log pi(y_w|x) / |y_w|  +  alpha * log pi(y_l|x) / |y_l| ],   alpha = 0.8

with log pi(y|x) the sum of the response's token log-probabilities and |y| its token count (the
official ``loss_type="reinforce"`` with coefficients 1.0 and 0.8). alpha = 0 is SFT on the
positives, which is what ``thinkgym sft`` trains without ``--redi-alpha``.

Traces are JSON lines ``{"prompt": str, "response": str, "correct": bool, ...}``, as
``thinkgym train --save-traces`` writes them. For each prompt, its i-th correct trace is paired
with its i-th incorrect one (prompts lacking either give no pair). A trace whose verifier could
not decide (``"verifier_error": true``, or ``"verdict": {"verifier_error": true}``: a timeout or a
crashed checker) says nothing about its answer, so it is neither a positive nor a negative:
:func:`make_pairs` leaves it out and logs how many it left out.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from pathlib import Path

import torch

from thinkgym.agents.grpo.loss import RowBatch, token_logprobs

__all__ = ["is_verifier_error", "make_pairs", "read_traces", "redi_loss", "sequence_mean_logprobs"]

log = logging.getLogger(__name__)


def read_traces(path: str | Path) -> list[dict]:
    """The traces in a JSONL file; each needs ``prompt``, ``response`` and ``correct``."""
    traces = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        trace = json.loads(line)
        missing = {"prompt", "response", "correct"} - set(trace)
        if missing:
            raise ValueError(f"{path}:{number}: a trace needs prompt, response and correct; missing {sorted(missing)}")
        traces.append(trace)
    return traces


def is_verifier_error(trace: dict) -> bool:
    """Whether the trace's verdict is one the verifier could not reach (its top-level
    ``verifier_error``, as ``thinkgym train --save-traces`` writes it, or its ``verdict``'s)."""
    verdict = trace.get("verdict")
    return bool(trace.get("verifier_error")) or (isinstance(verdict, dict) and bool(verdict.get("verifier_error")))


def make_pairs(traces: list[dict]) -> list[tuple[str, str, str]]:
    """(prompt, positive response, negative response) triples, in first-seen prompt order.
    Traces with a verifier error are in neither list; their number is logged (a warning)."""
    positives: dict[str, list[str]] = defaultdict(list)
    negatives: dict[str, list[str]] = defaultdict(list)
    excluded = 0
    for t in traces:
        if is_verifier_error(t):
            excluded += 1
            continue
        (positives if t["correct"] else negatives)[t["prompt"]].append(t["response"])
    if excluded:
        log.warning(
            "REDI pairs: left out %d of %d traces whose verifier could not decide (verifier_error): "
            "neither positives nor negatives",
            excluded,
            len(traces),
        )
    prompts = dict.fromkeys(t["prompt"] for t in traces)
    return [(p, w, lose) for p in prompts for w, lose in zip(positives[p], negatives[p], strict=False)]


def sequence_mean_logprobs(model: torch.nn.Module, batch: RowBatch) -> torch.Tensor:
    """log pi(y|x) / |y| per row [R]: the mean log-probability of the masked (response) tokens."""
    logp, _ = token_logprobs(model, batch)
    return (logp * batch.mask).sum(-1) / batch.mask.sum(-1).clamp(min=1.0)


def redi_loss(positive: torch.Tensor, negative: torch.Tensor | None, alpha: float) -> torch.Tensor:
    """Eq. 5 from per-pair length-normalised log-likelihoods: ``mean(-positive + alpha * negative)``."""
    loss = -positive.mean()
    if alpha:
        loss = loss + alpha * negative.mean()
    return loss
