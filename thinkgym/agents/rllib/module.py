"""``CausalLMModule``: a Hugging Face causal LM as an RLlib (new API stack) policy and value function.

Input: :class:`thinkgym.agents.rllib.token_env.TokenEnv` observations, a batch of ``(2, L)`` int
tensors (token ids, attention mask; right-padded). The batch is cut to its longest sequence, run
through the LM's decoder with the attention mask, and the last hidden state at each row's last
real token feeds both heads (rows that are prefixes of other rows share their forward pass):

* action logits: the LM head there, restricted to the action space (``Discrete(len(tokenizer))``;
  a model's embedding table may have spare rows);
* value: a linear head on the same hidden state (zero-initialised, so the first values are 0).

The LM trunk is shared by the policy and the value function, as in PPO for RLHF. ``model_config``:
``{"model": "tiny" | PATH}`` (see :func:`thinkgym.agents.models.load_model`); weights load in
float32 whatever the checkpoint's dtype, so the optimizer and RLlib's numpy conversions get float32.
"""

from __future__ import annotations

from typing import Any

import torch
from ray.rllib.core.columns import Columns
from ray.rllib.core.rl_module.apis import ValueFunctionAPI
from ray.rllib.core.rl_module.torch import TorchRLModule

from thinkgym.agents.models import load_model

__all__ = ["CausalLMModule", "prefix_owners"]


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

    def last_hidden(self, obs: torch.Tensor) -> torch.Tensor:
        """Hidden state of the last real token of each observation, shape ``(B, hidden)``.

        A row that is a prefix of a longer row (the earlier steps of the same episode) takes its
        hidden state from the longer row's forward pass: under causal attention the state at a
        position depends only on the tokens up to it. A batch of whole episodes then costs one
        forward pass per episode instead of one per token.
        """
        ids, mask = obs[:, 0], obs[:, 1]
        lengths = mask.sum(dim=-1)
        owners, shared = prefix_owners(ids.cpu(), lengths.cpu())
        width = int(lengths.max())
        out = self.lm.base_model(input_ids=ids[shared, :width], attention_mask=mask[shared, :width])
        return out.last_hidden_state[owners.to(obs.device), lengths - 1]

    def _logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.lm.get_output_embeddings()(hidden)[:, : self.action_space.n]

    def _forward(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {Columns.ACTION_DIST_INPUTS: self._logits(self.last_hidden(batch[Columns.OBS]))}

    def _forward_train(self, batch: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        hidden = self.last_hidden(batch[Columns.OBS])
        return {Columns.ACTION_DIST_INPUTS: self._logits(hidden), Columns.EMBEDDINGS: hidden}

    def compute_values(self, batch: dict[str, Any], embeddings: torch.Tensor | None = None) -> torch.Tensor:
        if embeddings is None:
            embeddings = self.last_hidden(batch[Columns.OBS])
        return self.value_head(embeddings).squeeze(-1)
