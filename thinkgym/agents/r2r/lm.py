"""Incremental decoding helpers shared by the routed policy and the label pipeline: one forward
step with a KV cache, under whichever cache keyword the installed transformers uses."""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any

import torch

__all__ = ["LMState", "step"]


@cache
def _cache_kw(model_type: type) -> str:
    params = inspect.signature(model_type.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


class LMState:
    """A model, its KV cache, and how many tokens of the shared sequence the cache has consumed."""

    def __init__(self, model: Any) -> None:
        self.model, self.cache, self.consumed = model, None, 0

    def catch_up(self, ids: list[int], hidden: bool = False) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Feeds the tokens of ``ids`` the cache has not seen (at least one); returns the
        next-token logits and, when asked, the last layer's hidden state at the last position."""
        new = ids[self.consumed :]
        if not new:
            raise ValueError("nothing to feed: the cache is already at the end of the sequence")
        return self._forward(new, hidden)

    def _forward(self, new: list[int], hidden: bool) -> tuple[torch.Tensor, torch.Tensor | None]:
        kwargs = {_cache_kw(type(self.model)): self.cache} if self.cache is not None else {}
        out = step(self.model, new, output_hidden_states=hidden, **kwargs)
        self.cache = out["cache"] if "cache" in out else out["past_key_values"]
        self.consumed += len(new)
        h = out["hidden_states"][-1][0, -1] if hidden else None
        return out["logits"][0, -1], h


@torch.no_grad()
def step(model: Any, ids: list[int], **kwargs: Any) -> Any:
    """One forward pass over ``ids`` (a single sequence) with the cache on."""
    device = next(model.parameters()).device
    return model(torch.tensor([ids], device=device), use_cache=True, **kwargs)
