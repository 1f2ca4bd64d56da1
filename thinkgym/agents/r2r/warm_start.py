"""A short supervised warm start for an in-memory model: steps on ``\\boxed{reference answer}`` of
an env's problems, in the tokenizer's chat format. R2R's two models differ in size, so the
``thinkgym sft`` command (which builds its own model from a name or folder) does not fit here; this
trains the objects given, so their answers are sometimes right and sometimes differ."""

from __future__ import annotations

from typing import Any

import gymnasium
import torch

__all__ = ["warm_start"]


def warm_start(
    model: Any, tokenizer: Any, env: gymnasium.Env, steps: int, *, seed: int = 0, batch_size: int = 8, lr: float = 3e-3
) -> Any:
    """Trains ``model`` for ``steps`` AdamW steps on fresh problems of ``env`` (seeded); returns it in
    eval mode. The loss covers only the answer and the end-of-sequence token."""
    opt = torch.optim.AdamW(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        pairs = []
        for s in torch.randint(0, 10**6, (batch_size,), generator=gen).tolist():
            prompt, info = env.reset(seed=s)
            text = tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
            answer = tokenizer.encode("\\boxed{" + info["problem"]["answer"] + "}", add_special_tokens=False)
            pairs.append((tokenizer.encode(text, add_special_tokens=False), answer + [tokenizer.eos_token_id]))
        width = max(len(a) + len(b) for a, b in pairs)
        ids = torch.full((len(pairs), width), tokenizer.pad_token_id)
        labels = torch.full((len(pairs), width), -100)
        for j, (a, b) in enumerate(pairs):
            ids[j, : len(a) + len(b)] = torch.tensor(a + b)
            labels[j, len(a) : len(a) + len(b)] = torch.tensor(b)
        loss = model(ids, labels=labels).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()
