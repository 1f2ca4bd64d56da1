"""A policy backed by a local Hugging Face causal LM (``hf:PATH`` or ``hf:tiny``), for sweeps and
evaluation. Needs the ``train`` extra. Prompts go through the tokenizer's chat template when it has
one; generation is batched with left padding and the KV cache (``model.generate``).
"""

from __future__ import annotations

from typing import Any

from thinkgym.agents.policies import Policy

__all__ = ["HFPolicy"]


class HFPolicy(Policy):
    """Args:
    model: ``"tiny"`` or a local model folder.
    max_tokens: new tokens per response. temperature: 0 = greedy. top_p: nucleus sampling.
    batch_size: prompts per ``generate`` call. seed: torch seed for sampling.
    device: ``"cuda"`` when available unless given.
    """

    name = "hf"

    def __init__(
        self,
        model: str,
        *,
        max_tokens: int = 512,
        temperature: float = 0.6,
        top_p: float = 0.95,
        batch_size: int = 8,
        seed: int = 0,
        device: str | None = None,
    ) -> None:
        import torch

        from thinkgym.agents.models import load_model

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model, self.tokenizer = load_model(model, seed=seed)
        self.model.to(self.device).eval()
        self.tokenizer.padding_side = "left"
        self.max_tokens, self.temperature, self.top_p, self.batch_size = max_tokens, temperature, top_p, batch_size
        self.generator = torch.Generator().manual_seed(seed)
        self.name = f"hf:{model}"

    def _format(self, prompt: str) -> str:
        if getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        return prompt

    def act(self, observation: str, info: dict[str, Any]) -> str:
        return self.act_batch([observation], [info])[0]

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[str]:
        texts, usage = [], []
        for start in range(0, len(observations), self.batch_size):
            chunk = [self._format(o) for o in observations[start : start + self.batch_size]]
            enc = self.tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
            self.torch.manual_seed(int(self.torch.randint(0, 2**31 - 1, (1,), generator=self.generator)))
            sampling = (
                {"do_sample": True, "temperature": self.temperature, "top_p": self.top_p}
                if self.temperature > 0
                else {"do_sample": False}
            )
            with self.torch.no_grad():
                out = self.model.generate(
                    **enc, max_new_tokens=self.max_tokens, pad_token_id=self.tokenizer.pad_token_id, **sampling
                )
            new = out[:, enc["input_ids"].shape[1] :]
            for row in new.tolist():
                if self.tokenizer.eos_token_id in row:
                    row = row[: row.index(self.tokenizer.eos_token_id)]
                texts.append(self.tokenizer.decode(row, skip_special_tokens=False))
                usage.append({"prompt_tokens": int(enc["input_ids"].shape[1]), "completion_tokens": len(row)})
        self.last_usage = usage
        return texts
