"""The router's training labels, judged by thinkgym's exact verifiers (R2R, arXiv 2505.21600,
label pipeline ``script/data_labeling/step_0..step_4``).

For each problem of an env:

1. the large model writes a greedy response (the reference path);
2. the small model reads it teacher-forced: every position where its greedy next token differs
   from the large model's is a candidate divergence;
3. at each candidate, the large model continues greedily from the prefix plus the small token and
   from the prefix plus the large token, to the end of the response;
4. the position is **divergent** when the two continuations get different verdicts from the env's
   verifier (correct / format_ok). R2R asks an LLM judge whether the continuation "changes meaning,
   reasoning, logic or conclusions"; for verifiable tasks the verifier answers that exactly.

Positions where the two models agree are kept as non-divergent examples, as in R2R. Each
:class:`RouterExample` holds the router's inputs at that position: the small model's last hidden
state, its proposed token and its next-token logits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import gymnasium
import torch

from thinkgym.agents.r2r.lm import LMState, step

__all__ = ["RouterExample", "label_divergences"]


@dataclass
class RouterExample:
    hidden: torch.Tensor  # small model's last-layer hidden state before the token, [H]
    token: int  # the small model's greedy token
    logits: torch.Tensor  # the small model's next-token logits, [V]
    divergent: bool
    position: int  # index in the response
    problem_id: str


def _greedy(model: Any, ids: list[int], budget: int, eos: int) -> list[int]:
    state, ids, out = LMState(model), list(ids), []
    for _ in range(budget):
        token = int(state.catch_up(ids)[0].argmax())
        ids.append(token)
        out.append(token)
        if token == eos:
            break
    return out


def _verdict(env: gymnasium.Env, problem: dict[str, Any], text: str) -> tuple[bool, bool]:
    env.reset(options={"problem": problem})
    verdict = env.step(text)[4]["verdict"]
    return bool(verdict["correct"]), bool(verdict["format_ok"])


def label_divergences(
    env: gymnasium.Env,
    small: Any,
    large: Any,
    tokenizer: Any,
    seeds: Iterable[int],
    *,
    max_tokens: int = 64,
    options: dict[str, Any] | None = None,
    chat_template: bool = True,
) -> list[RouterExample]:
    """Router examples from the problems ``env.reset(seed=s, options=options)`` gives."""
    eos = tokenizer.eos_token_id
    use_template = chat_template and bool(getattr(tokenizer, "chat_template", None))
    examples: list[RouterExample] = []
    for seed in seeds:
        prompt, info = env.reset(seed=seed, options=options)
        problem = info["problem"]
        if use_template:
            prompt = tokenizer.apply_chat_template(
                [{"role": "user", "content": prompt}], tokenize=False, add_generation_prompt=True
            )
        prompt_ids = tokenizer.encode(prompt, add_special_tokens=False)
        response = _greedy(large, prompt_ids, max_tokens, eos)
        if not response:
            continue
        out = step(small, prompt_ids + response[:-1], output_hidden_states=True)
        start = len(prompt_ids) - 1
        hidden = out["hidden_states"][-1][0, start:]
        logits = out["logits"][0, start:]
        for j, large_token in enumerate(response):
            small_token = int(logits[j].argmax())
            divergent = False
            if small_token != large_token:
                prefix = prompt_ids + response[:j]
                budget = max_tokens - j - 1
                texts = []
                for first in (small_token, large_token):
                    cont = [first] + (_greedy(large, prefix + [first], budget, eos) if first != eos and budget else [])
                    new = response[:j] + cont
                    texts.append(tokenizer.decode([t for t in new if t != eos], skip_special_tokens=False))
                divergent = _verdict(env, problem, texts[0]) != _verdict(env, problem, texts[1])
            examples.append(
                RouterExample(hidden[j].clone(), small_token, logits[j].clone(), divergent, j, problem["id"])
            )
    return examples
