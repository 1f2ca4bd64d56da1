"""``ModelPolicy``: a language model behind thinkgym's Policy API (``act(observation, info) -> str``).

The model comes from :func:`thinkgym.agents.models.load_model` (``"tiny"`` or a local folder, such
as a ``thinkgym train`` checkpoint's ``model/``); prompts use the tokenizer's chat template when it
has one (:class:`~thinkgym.agents.grpo.chat.ChatFormat`). ``act_batch`` generates for all
observations in one batched call, so sweeps and curricula evaluate a model quickly::

    policy = ModelPolicy.load("runs/grpo/checkpoints/step-000100/model", temperature=0.0)
    response = policy.act(*env.reset(seed=0))
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from thinkgym.agents.grpo.chat import ChatFormat
from thinkgym.agents.grpo.sampling import HFSampler, step_seed
from thinkgym.agents.policies import Policy

__all__ = ["ModelPolicy"]


class ModelPolicy(Policy):
    """Samples one response per observation (greedy at ``temperature=0``, the default)."""

    name = "model"

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] = (),
        seed: int = 0,
    ) -> None:
        self.model = model.eval()
        self.chat = ChatFormat(tokenizer)
        self.sampler = HFSampler(model, self.chat, top_p=top_p)
        self.max_new_tokens, self.stop = max_new_tokens, list(stop)
        self.temperature, self.seed, self.calls = temperature, seed, 0

    @classmethod
    def load(cls, spec: str | Path, *, device: str | None = None, **kwargs: Any) -> ModelPolicy:
        """A policy from ``"tiny"`` or a local model folder, on ``device`` (default: cuda if present)."""
        import torch

        from thinkgym.agents.models import load_model

        model, tokenizer = load_model(spec)
        model.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        return cls(model, tokenizer, **kwargs)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        return self.act_batch([observation], [info])[0]

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[str]:
        prompts = [self.chat.prompt_ids(o, i) for o, i in zip(observations, infos, strict=True)]
        self.calls += 1
        completions = self.sampler(
            prompts,
            self.temperature,
            step_seed(self.seed, self.calls),
            [self.max_new_tokens] * len(prompts),
            [self.stop] * len(prompts),
        )
        return [self.chat.decode(c.ids) for c in completions]
