"""Batched sampling with a KV cache: prompts (token ids) in, completions (token ids) out.

A plain decoding loop over any Hugging Face causal LM: left-pad the prompts, run them once, then
feed one sampled token per step through the model's KV cache. Temperature (0 = greedy), nucleus
(top-p) sampling, stop token ids (end of turn) and stop strings, and a per-row token budget. The
ids returned are exactly the ids sampled, so training sees the tokens that were generated.

Randomness comes from the ``torch.Generator`` passed in, so a rollout is reproducible from its
seed alone (the trainer derives one per step; Ray workers derive one per step and worker).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

__all__ = ["Completion", "HFSampler", "sample", "sample_next", "step_seed"]


def step_seed(*parts: int) -> int:
    """A 63-bit seed from integers (run seed, step, round, turn, worker ...), the same on every machine."""
    return int(np.random.SeedSequence([int(p) % 2**63 for p in parts]).generate_state(2, np.uint64)[0] >> 1)


@dataclass
class Completion:
    ids: list[int]
    stopped: bool  # ended by a stop token or stop string; False = ran out of tokens


def sample_next(logits: torch.Tensor, temperature: float, top_p: float, generator: torch.Generator) -> torch.Tensor:
    """One token per row from ``logits`` [B, V]: greedy when ``temperature == 0``, otherwise
    softmax(logits / T) restricted to the smallest set of tokens with mass >= top_p."""
    if temperature == 0:
        return logits.argmax(dim=-1)
    probs = torch.softmax(logits.float() / temperature, dim=-1)
    if top_p < 1.0:
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        outside = sorted_probs.cumsum(dim=-1) - sorted_probs >= top_p  # mass before this token already >= p
        sorted_probs = sorted_probs.masked_fill(outside, 0.0)
        probs = torch.zeros_like(probs).scatter(-1, order, sorted_probs)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


@torch.no_grad()
def sample(
    model: torch.nn.Module,
    prompts: Sequence[Sequence[int]],
    *,
    max_new_tokens: int | Sequence[int],
    temperature: float = 1.0,
    top_p: float = 1.0,
    stop_ids: set[int] | frozenset[int] = frozenset(),
    stop_strings: Sequence[Sequence[str]] | None = None,
    decode: Callable[[list[int]], str] | None = None,
    pad_id: int = 0,
    generator: torch.Generator | None = None,
) -> list[Completion]:
    """Samples one completion per prompt. ``max_new_tokens`` is one budget or one per prompt;
    ``stop_strings`` holds one list per prompt and needs ``decode`` (ids -> text). The stop token
    or string is kept at the end of the completion."""
    n = len(prompts)
    stops = [list(s) for s in stop_strings] if stop_strings is not None else [[] for _ in range(n)]
    if any(stops) and decode is None:
        raise ValueError("stop_strings need a decode function")
    device = next(model.parameters()).device
    budgets = [max_new_tokens] * n if isinstance(max_new_tokens, int) else list(max_new_tokens)
    width = max(len(p) for p in prompts)
    input_ids = torch.full((n, width), pad_id, dtype=torch.long, device=device)
    attention = torch.zeros((n, width), dtype=torch.long, device=device)
    for i, p in enumerate(prompts):  # left padding: every row's next token goes in the same column
        input_ids[i, width - len(p) :] = torch.tensor(p, dtype=torch.long)
        attention[i, width - len(p) :] = 1
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    cache_name = _cache_argument(model)
    out = model(input_ids=input_ids, attention_mask=attention, position_ids=positions, use_cache=True)
    # A stop string of c characters spans at most 4c byte-level tokens (UTF-8 has <= 4 bytes per char).
    windows = [4 * max((len(s) for s in row), default=0) for row in stops]

    completions = [Completion([], False) for _ in range(n)]
    done = [b <= 0 for b in budgets]
    for _ in range(max(budgets)):
        tokens = sample_next(out.logits[:, -1, :], temperature, top_p, generator).tolist()
        for i, token in enumerate(tokens):
            if done[i]:
                continue
            c = completions[i]
            c.ids.append(token)
            if token in stop_ids or (windows[i] and any(s in decode(c.ids[-windows[i] :]) for s in stops[i])):
                c.stopped = done[i] = True
            elif len(c.ids) >= budgets[i]:
                done[i] = True
        if all(done):
            break
        attention = torch.cat([attention, attention.new_ones((n, 1))], dim=1)
        positions = positions[:, -1:] + 1
        next_ids = torch.tensor(tokens, dtype=torch.long, device=device).unsqueeze(-1)
        cache = {cache_name: out[cache_name]}
        out = model(input_ids=next_ids, attention_mask=attention, position_ids=positions, use_cache=True, **cache)
    return completions


def _cache_argument(model: torch.nn.Module) -> str:
    """The KV-cache argument's name: ``cache`` from transformers 5.2x, ``past_key_values`` before."""
    return "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"


class HFSampler:
    """The rollout sampler over the training model itself (no copy, so nothing to sync):
    ``sampler(prompts, temperature, seed, max_new_tokens, stop) -> completions`` with one budget
    and one list of stop strings per prompt, in bf16 autocast on CUDA."""

    def __init__(self, model: torch.nn.Module, chat: Any, top_p: float = 1.0) -> None:
        self.model, self.chat, self.top_p = model, chat, top_p

    def __call__(
        self, prompts: list[list[int]], temperature: float, seed: int, max_new_tokens: list[int], stop: list[list[str]]
    ) -> list[Completion]:
        device = next(self.model.parameters()).device
        generator = torch.Generator(device=device).manual_seed(seed)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else contextlib.nullcontext()
        with autocast:
            return sample(
                self.model,
                prompts,
                max_new_tokens=max_new_tokens,
                temperature=temperature,
                top_p=self.top_p,
                stop_ids=self.chat.stop_ids,
                stop_strings=stop,
                decode=self.chat.decode,
                pad_id=self.chat.pad_id,
                generator=generator,
            )

    def sync(self, model: torch.nn.Module) -> None:
        """Nothing to do: this sampler runs the training model."""
