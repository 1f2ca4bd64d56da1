"""Supervised warm start (``thinkgym sft``) and REDI, one loop for both.

Without ``--data``, every step draws ``batch_size`` fresh problems from the env's generator and
trains on ``reasoning_prefix + \\boxed{reference answer}`` followed by the end-of-turn token, the
policy's chat format exactly as GRPO will prompt it. Problems in the held-out set of
``thinkgym train`` (same ``eval_problems``) are skipped, so a warm-started GRPO run still
evaluates on unseen problems.

With ``--data traces.jsonl`` the examples are traces: SFT on the correct ones, or with
``--redi-alpha`` > 0 REDI on (positive, negative) pairs (:mod:`.redi`, paper Eq. 5).

The loss is REDI's in both cases (alpha = 0 is SFT): the mean over examples of the mean token
log-likelihood of each response. The model is saved to ``OUT/model``, a valid ``--model PATH``.
With ``save_every = N`` > 0 the model after every N-th step (and after the last) is also kept as
``OUT/checkpoints/step-NNNNNN/``, itself a model folder with its tokenizer (a valid ``--model
PATH``), so ``thinkgym probe`` can compare them by pass@k (VibeThinker's diversity probing,
arXiv 2511.06221; :mod:`thinkgym.experiments.probe`).
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path
from typing import Any

import gymnasium
import torch

from thinkgym.agents.grpo.chat import ChatFormat
from thinkgym.agents.grpo.config import SFTConfig
from thinkgym.agents.grpo.loss import collate
from thinkgym.agents.grpo.redi import make_pairs, read_traces, redi_loss, sequence_mean_logprobs
from thinkgym.agents.grpo.rollout import ProblemStream, held_out_seeds
from thinkgym.agents.grpo.trainer import TRAIN_SEED_STRIDE, make_scheduler, resolve_device
from thinkgym.agents.models import load_model

__all__ = ["reference_examples", "save_model_folder", "supervise"]


def save_model_folder(model: Any, tokenizer: Any, folder: str | Path) -> Path:
    """Writes ``model`` and ``tokenizer`` (``save_pretrained``) to ``folder`` through a temporary
    sibling renamed into place, so a crash never leaves a half-written model folder."""
    final = Path(folder)
    tmp = final.with_name(final.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    return final


def reference_examples(env: gymnasium.Env, seeds: list[int], prefix: str = "") -> list[tuple[str, dict, str]]:
    """(observation, info, ``prefix + \\boxed{answer}``) for the generator's reference answers."""
    examples = []
    for seed in seeds:
        observation, info = env.reset(seed=seed)
        examples.append((observation, info, f"{prefix}\\boxed{{{info['problem']['answer']}}}"))
    return examples


def _trace_batches(cfg: SFTConfig) -> Any:
    """Endless shuffled batches of (prompt, positive, negative-or-None) from ``cfg.data``."""
    traces = read_traces(cfg.data)
    if cfg.redi_alpha > 0:
        items = list(make_pairs(traces))
    else:
        items = [(t["prompt"], t["response"], None) for t in traces if t["correct"]]
    if not items:
        raise ValueError(f"{cfg.data} holds no usable {'pairs' if cfg.redi_alpha > 0 else 'correct traces'}")
    rng = random.Random(cfg.seed)
    while True:
        rng.shuffle(items)
        for start in range(0, len(items), cfg.batch_size):
            yield items[start : start + cfg.batch_size]


def supervise(cfg: SFTConfig) -> list[dict[str, Any]]:
    """Runs SFT (or REDI) as ``cfg`` says; returns the per-step metrics."""
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))  # first: probe reads eval_problems
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)
    model, tokenizer = load_model(cfg.model, seed=cfg.seed)
    model.to(device).train()
    chat = ChatFormat(tokenizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    scheduler = make_scheduler(optimizer, cfg.lr_schedule, cfg.warmup_steps, cfg.steps)

    def rows(prompts: list[list[int]], responses: list[str]) -> Any:
        completions = [chat.encode(r) + [chat.end_id] for r in responses]
        batch = collate(
            [(p, c, [1] * len(c)) for p, c in zip(prompts, completions, strict=True)],
            [0.0] * len(prompts),
            list(range(len(prompts))),
            chat.pad_id,
        )
        return batch.to(device)

    env = gymnasium.make(cfg.env, **cfg.env_kwargs)
    if cfg.data is None:
        held_out = {env.reset(seed=s)[1]["problem"]["id"] for s in held_out_seeds(cfg.eval_problems)}
        stream = ProblemStream(cfg.seed * TRAIN_SEED_STRIDE + 2**39, held_out.__contains__)
    else:
        batches = _trace_batches(cfg)

    from tqdm.auto import tqdm

    history = []
    with (out / "metrics.jsonl").open("w") as log:
        for step in tqdm(range(1, cfg.steps + 1), desc="sft", disable=not cfg.progress):
            if cfg.data is None:
                examples = reference_examples(env, stream.take(env, cfg.batch_size), cfg.reasoning_prefix)
                prompts = [chat.prompt_ids(obs, info) for obs, info, _ in examples]
                positives, negatives = [r for _, _, r in examples], None
            else:
                batch = next(batches)
                prompts = [chat.prompt_ids(p) for p, _, _ in batch]
                positives = [w for _, w, _ in batch]
                negatives = [lose for _, _, lose in batch] if cfg.redi_alpha > 0 else None

            positive = sequence_mean_logprobs(model, rows(prompts, positives))
            negative = sequence_mean_logprobs(model, rows(prompts, negatives)) if negatives else None
            loss = redi_loss(positive, negative, cfg.redi_alpha)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.max_grad_norm)
            optimizer.step()
            scheduler.step()

            metrics = {"step": step, "loss": loss.item(), "logp_positive": positive.mean().item()}
            if negative is not None:
                metrics["logp_negative"] = negative.mean().item()
            log.write(json.dumps(metrics) + "\n")
            log.flush()
            history.append(metrics)
            if cfg.save_every and (step % cfg.save_every == 0 or step == cfg.steps):
                save_model_folder(model, tokenizer, out / "checkpoints" / f"step-{step:06d}")
    env.close()
    save_model_folder(model, tokenizer, out / "model")
    return history
