"""``CausalLMModule``: a Hugging Face causal LM as an RLlib (new API stack) policy and value function.

Input: :class:`thinkgym.agents.rllib.token_env.TokenEnv` observations, a batch of ``(2, L)`` int
tensors (token ids, attention mask; right-padded). The batch is cut to its longest sequence, run
through the LM's decoder with the attention mask, and the last hidden state at each row's last
real token feeds both heads (rows that are prefixes of other rows share their forward pass):

* action logits: the LM head there, restricted to the action space (``Discrete(len(tokenizer))``;
  a model's embedding table may have spare rows);
* value: a linear head on the same hidden state (zero-initialised, so the first values are 0).

The LM trunk is shared by the policy and the value function, as in PPO for RLHF. ``model_config``:
``{"model": "tiny" | PATH, "kv_cache": True}`` (see :func:`thinkgym.agents.models.load_model`);
weights load in float32 whatever the checkpoint's dtype, so the optimizer and RLlib's numpy
conversions get float32.

KV cache (sampling only): on an env runner, the observation of step t+1 of a turn is the
observation of step t plus one token. The module keeps each row's key/value cache keyed by the
row's token ids; a row whose ids minus the last token are in the cache runs the LM on that one
token only, so sampling a turn of T tokens costs O(T) forward tokens instead of O(T^2). A row
with no cached prefix (the first token of a turn, a multi-turn env's reply) runs in full and
starts a new entry. Entries are least-recently-used beyond ``kv_cache_size`` (default 256) and
all are dropped when new weights arrive (``set_state``), so every sampled token comes from the
current policy. Training (with gradients) never uses the cache.
"""

from __future__ import annotations

import inspect
from collections import OrderedDict
from typing import Any

import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule
from transformers import DynamicCache

from thinkgym.agents.models import load_model

__all__ = ["CausalLMModule", "last_hidden", "prefix_owners"]


def prefix_owners(ids: torch.Tensor, lengths: torch.Tensor) -> tuple[torch.Tensor, list[int]]:
    """``(owners, shared)``: ``shared`` lists the rows to run through the model, ``owners[i]`` is the
    position in ``shared`` of a row that row ``i`` is a prefix of (itself, when it is run).

    ``ids``: ``(B, L)`` right-padded token ids; ``lengths``: ``(B,)`` real tokens per row.
    """
    owners = torch.empty_like(lengths)
    shared: list[int] = []
    for row in torch.argsort(lengths, descending=True).tolist():
        n = int(lengths[row])
        match = (ids[shared, :n] == ids[row, :n]).all(dim=-1).nonzero()
        if len(match):
            owners[row] = match[0, 0]
        else:
            owners[row] = len(shared)
            shared.append(row)
    return owners, shared


def last_hidden(lm: Any, obs: torch.Tensor) -> torch.Tensor:
    """Hidden state of ``lm``'s decoder at the last real token of each ``(2, L)`` observation.

    A row that is a prefix of a longer row (the earlier steps of the same episode) takes its
    hidden state from the longer row's forward pass: under causal attention the state at a
    position depends only on the tokens up to it. A batch of whole episodes then costs one
    forward pass per episode instead of one per token.
    """
    ids, mask = obs[:, 0], obs[:, 1]
    lengths = mask.sum(dim=-1)
    owners, shared = prefix_owners(ids.cpu(), lengths.cpu())
    width = int(lengths.max())
    out = lm.base_model(input_ids=ids[shared, :width], attention_mask=mask[shared, :width])
    return out.last_hidden_state[owners.to(obs.device), lengths - 1]


def _decode(lm: Any, cache: Any = None, **inputs: Any) -> tuple[torch.Tensor, Any]:
    """(last hidden states, KV cache) of ``lm``'s decoder; the cache argument is called ``cache``
    from transformers 5.20 on and ``past_key_values`` before."""
    name = "cache" if "cache" in inspect.signature(type(lm.base_model).forward).parameters else "past_key_values"
    out = lm.base_model(**inputs, **{name: cache}, use_cache=True)
    return out.last_hidden_state, getattr(out, "cache", None) or out.past_key_values


class CausalLMModule(TorchRLModule, ValueFunctionAPI):
    """A causal LM policy with a value head on its last hidden state (see the module docstring)."""

    def setup(self) -> None:
        self.lm, _ = load_model(self.model_config["model"], dtype=torch.float32)
        rows = self.lm.get_output_embeddings().out_features
        if rows < self.action_space.n:
            raise ValueError(f"the model has {rows} output rows, fewer than the {self.action_space.n} token actions")
        self.value_head = torch.nn.Linear(self.lm.config.hidden_size, 1)
        torch.nn.init.zeros_(self.value_head.weight)
        torch.nn.init.zeros_(self.value_head.bias)
        self.kv_cache_size = int(self.model_config.get("kv_cache_size", 256))
        self._kv: OrderedDict[bytes, Any] = OrderedDict()

    def last_hidden(self, obs: torch.Tensor) -> torch.Tensor:
        """Hidden state of the last real token of each observation, shape ``(B, hidden)``."""
        return last_hidden(self.lm, obs)

    def cached_last_hidden(self, obs: torch.Tensor) -> torch.Tensor:
        """:meth:`last_hidden` through the per-row KV cache (no gradients; see the module docstring).

        Rows without a cached prefix run alone over their whole prefix; rows with one run together
        as a batch of one new token each, their caches left-padded to a common length (the padding
        masked out, each row at its own position).
        """
        ids, lengths = obs[:, 0].cpu(), obs[:, 1].sum(dim=-1).cpu()
        seqs = [ids[row, : int(lengths[row])] for row in range(ids.shape[0])]
        past = [self._kv.pop(seq[:-1].numpy().tobytes(), None) for seq in seqs]
        hidden: list[torch.Tensor | None] = [None] * len(seqs)
        for row in [row for row, cache in enumerate(past) if cache is None]:
            states, cache = _decode(self.lm, input_ids=seqs[row][None].to(obs.device))
            hidden[row] = states[0, -1]
            self._store(seqs[row], [(layer.keys, layer.values) for layer in cache.layers])
        hits = [row for row, cache in enumerate(past) if cache is not None]
        if hits:
            width = max(len(seqs[row]) - 1 for row in hits)
            pads = [width - (len(seqs[row]) - 1) for row in hits]
            padded = [
                [[torch.nn.functional.pad(t, (0, 0, n, 0)) for t in kv] for kv in past[row]]
                for row, n in zip(hits, pads, strict=True)
            ]
            layers = [
                tuple(torch.cat([rows[i][j] for rows in padded]) for j in (0, 1)) for i in range(len(padded[0]))
            ]
            mask = torch.ones(len(hits), width + 1, dtype=torch.long)
            for i, n in enumerate(pads):
                mask[i, :n] = 0
            states, cache = _decode(
                self.lm,
                DynamicCache(ddp_cache_data=layers),
                input_ids=torch.stack([seqs[row][-1:] for row in hits]).to(obs.device),
                attention_mask=mask.to(obs.device),
                position_ids=torch.tensor([[len(seqs[row]) - 1] for row in hits], device=obs.device),
            )
            for i, (row, n) in enumerate(zip(hits, pads, strict=True)):
                hidden[row] = states[i, -1]
                layers = [
                    (layer.keys[i : i + 1, :, n:].clone(), layer.values[i : i + 1, :, n:].clone())
                    for layer in cache.layers
                ]
                self._store(seqs[row], layers)
        return torch.stack(hidden)

    def _store(self, seq: torch.Tensor, layers: list[tuple[torch.Tensor, torch.Tensor]]) -> None:
        self._kv[seq.numpy().tobytes()] = layers
        while len(self._kv) > self.kv_cache_size:
            self._kv.popitem(last=False)

    def set_state(self, state: dict[str, Any]) -> None:
        self._kv.clear()  # cached keys and values belong to the old weights
        super().set_state(state)

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.lm.get_output_embeddings()(hidden)[:, : self.action_space.n]

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        obs = batch[Columns.OBS]
        if self.model_config.get("kv_cache", True) and not torch.is_grad_enabled():
            return {Columns.ACTION_DIST_INPUTS: self._logits(self.cached_last_hidden(obs))}
        return {Columns.ACTION_DIST_INPUTS: self._logits(self.last_hidden(obs))}

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        hidden = self.last_hidden(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: self._logits(hidden), Columns.EMBEDDINGS: hidden}

    def compute_values(self, batch: dict[str, Any], embeddings: torch.Tensor | None = None) -> torch.Tensor:
        if embeddings is None:
            embeddings = self.last_hidden(batch[Columns.OBS])
        return self.value_head(embeddings).squeeze(-1)
