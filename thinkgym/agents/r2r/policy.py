"""``RoutedPolicy``: the small model writes every token, the router sends the few that matter to
the large model (R2R, arXiv 2505.21600; thu-nics/R2R ``r2r/models/dynamic_sglang_selector.py``).

At each step the small model proposes a token; the router reads the small model's last hidden
state, that token's embedding and the small model's top-k logits, and when
``P(divergent) >= threshold`` the large model regenerates the token from the same prefix. Both
models keep KV caches: the small one advances every token, the large one catches up lazily on the
tokens it has not seen the next time it is called, so each model processes every token once.

With ``threshold=0`` every token is routed and the output is the large model's own decoding, token
for token; with a threshold above 1 none is, and the output is the small model's. Activated
parameters per token follow the paper: the small model's count, plus the large model's times the
routed fraction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from thinkgym.agents.policies import Policy
from thinkgym.agents.r2r.lm import LMState
from thinkgym.agents.r2r.router import Router

__all__ = ["RoutedPolicy", "RoutingStats"]


@dataclass
class RoutingStats:
    """Totals over everything a policy generated: tokens, routed tokens, and model sizes."""

    tokens: int = 0
    routed: int = 0
    small_params: int = 0
    large_params: int = 0

    @property
    def routed_fraction(self) -> float:
        return self.routed / self.tokens if self.tokens else 0.0

    @property
    def activated_params_per_token(self) -> float:
        return self.small_params + self.routed_fraction * self.large_params


def _param_count(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


class RoutedPolicy(Policy):
    """Args:
    small, large: causal LMs sharing ``tokenizer``'s vocabulary. router: a trained :class:`Router`.
    threshold: route when the router's probability is at least this.
    max_tokens: new tokens per response. temperature: 0 = greedy, else sampling (both models).
    seed: for sampling. chat_template: format prompts with the tokenizer's template when it has one.
    """

    name = "r2r"

    def __init__(
        self,
        small: Any,
        large: Any,
        tokenizer: Any,
        router: Router,
        threshold: float = 0.5,
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
        seed: int = 0,
        chat_template: bool = True,
    ) -> None:
        small_vocab = small.get_input_embeddings().weight.shape[0]
        large_vocab = large.get_input_embeddings().weight.shape[0]
        if small_vocab != large_vocab:
            raise ValueError(f"small and large models must share a vocabulary: {small_vocab} vs {large_vocab} tokens")
        self.small, self.large, self.tokenizer, self.router = small.eval(), large.eval(), tokenizer, router.eval()
        self.threshold, self.max_tokens, self.temperature = threshold, max_tokens, temperature
        self.chat_template = chat_template and bool(getattr(tokenizer, "chat_template", None))
        self.generator = torch.Generator().manual_seed(seed)
        self.stats = RoutingStats(small_params=_param_count(small), large_params=_param_count(large))

    def prompt_ids(self, prompt: str) -> list[int]:
        if self.chat_template:
            text = self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
            return self.tokenizer.encode(text, add_special_tokens=False)
        return self.tokenizer.encode(prompt, add_special_tokens=False)

    def _pick(self, logits: torch.Tensor) -> int:
        if self.temperature <= 0:
            return int(logits.argmax())
        probs = torch.softmax(logits.float() / self.temperature, dim=-1).cpu()
        return int(torch.multinomial(probs, 1, generator=self.generator))

    def generate_ids(self, prompt_ids: list[int]) -> tuple[list[int], list[bool]]:
        """(new token ids, whether each was routed to the large model)."""
        ids = list(prompt_ids)
        small, large = LMState(self.small), LMState(self.large)
        logits, hidden = small.catch_up(ids, hidden=True)
        new, routed = [], []
        eos = self.tokenizer.eos_token_id
        for _ in range(self.max_tokens):
            token = self._pick(logits)
            use_large = self.router.probability(hidden, token, logits) >= self.threshold
            if use_large:
                token = self._pick(large.catch_up(ids)[0])
            ids.append(token)
            new.append(token)
            routed.append(use_large)
            if token == eos:
                break
            logits, hidden = small.catch_up(ids, hidden=True)
        return new, routed

    def act(self, observation: str, info: dict[str, Any]) -> str:
        return self.act_batch([observation], [info])[0]

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[str]:
        texts, usage = [], []
        for prompt in observations:
            new, routed = self.generate_ids(self.prompt_ids(prompt))
            self.stats.tokens += len(new)
            self.stats.routed += sum(routed)
            if new and new[-1] == self.tokenizer.eos_token_id:
                new = new[:-1]
            texts.append(self.tokenizer.decode(new, skip_special_tokens=False))
            usage.append({"completion_tokens": len(routed), "routed_tokens": sum(routed)})
        self.last_usage = usage
        return texts
