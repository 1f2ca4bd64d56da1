"""The GRPO training loop: rollout, advantages, loss, update. Read :func:`train` top to bottom.

Each step:

1. sample ``prompts_per_step`` training problems; each is played ``group_size`` times from the
   same seeded ``reset`` (one group = one instance), in-process or on Ray actors;
2. leave out every episode whose verifier could not decide (``Verdict.verifier_error``: a timeout
   or crashed checker is neither right nor wrong, so it gets no advantage and no loss; counted as
   ``verifier_errors``), then optionally drop zero-variance groups, re-sampling until the batch is
   full (DAPO dynamic sampling);
3. group advantages from a pluggable shaper (:mod:`.advantages`);
4. ``num_iterations`` optimiser steps on the loss of :mod:`.loss`, accumulating gradients over
   micro-batches, clipping the gradient norm, then one LR-scheduler step;
5. every ``eval_every`` steps pass@1 / pass@k on held-out problems (seeds no training problem
   uses, and training skips any problem whose id is held out); every ``save_every`` steps (and at
   the end) a checkpoint for exact resume; one line of ``metrics.jsonl`` per step.

Sampling noise is seeded per step (``step_seed``), so a resumed run samples what the
uninterrupted run would have.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import torch

from thinkgym.agents.grpo.advantages import episode_advantages, has_variance, resolve_shaper
from thinkgym.agents.grpo.chat import ChatFormat
from thinkgym.agents.grpo.checkpoint import (
    MetricsLog,
    latest_checkpoint,
    load_state,
    restore_optimizer,
    save_checkpoint,
)
from thinkgym.agents.grpo.config import GRPOConfig
from thinkgym.agents.grpo.distributed import make_learners
from thinkgym.agents.grpo.loss import RowBatch, collate
from thinkgym.agents.grpo.rollout import EnvPool, Episode, ProblemStream, held_out_seeds, play_episodes
from thinkgym.agents.grpo.sampling import HFSampler, step_seed
from thinkgym.agents.grpo.update import update  # noqa: F401 (re-exported: callers import it from here)
from thinkgym.agents.models import load_model
from thinkgym.curriculum.saturn import SaturnCurriculum
from thinkgym.metrics import pass_at_k

__all__ = ["LocalRollouts", "evaluate", "evaluate_model", "make_scheduler", "train"]

NO_SIGNAL_STEPS = 10  # consecutive steps without reward variance in any group before train() warns
TRAIN_SEED_STRIDE = 2**40  # training problems of run seed s start at s * stride (SFT's at + 2**39)
EVAL_SAMPLING_SEED = 12345  # the same sampling noise at every evaluation


def resolve_device(spec: str) -> torch.device:
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(spec)


def make_scheduler(
    optimizer: torch.optim.Optimizer, kind: str, warmup: int, total: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """Linear warmup over ``warmup`` steps, then constant, linear to 0, or cosine to 0 at ``total``."""

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(1.0, (step - warmup) / max(1, total - warmup))
        if kind == "linear":
            return 1.0 - progress
        if kind == "cosine":
            return 0.5 * (1.0 + math.cos(math.pi * progress))
        return 1.0

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


class LocalRollouts:
    """Rollouts in this process, with any sampler (the training model itself, or vLLM)."""

    def __init__(self, sampler: Any, chat: ChatFormat, cfg: GRPOConfig) -> None:
        self.sampler, self.chat, self.cfg = sampler, chat, cfg
        self.pool = EnvPool(cfg.env, cfg.env_kwargs, chat)

    def sync(self, model: torch.nn.Module) -> None:
        self.sampler.sync(model)

    def play(
        self,
        seeds: list[int],
        *,
        temperature: float,
        seed: int,
        options: dict[str, Any] | None = None,
    ) -> list[Episode]:
        return play_episodes(
            self.pool.get(len(seeds)),
            seeds,
            self.sampler,
            self.chat,
            temperature=temperature,
            seed=seed,
            max_new_tokens=self.cfg.max_new_tokens,
            max_turns=self.cfg.max_turns,
            stop=self.cfg.stop,
            options=options,
        )

    def close(self) -> None:
        self.pool.close()
        if hasattr(self.sampler, "close"):  # a vLLM engine's worker processes
            self.sampler.close()


def make_rollouts(cfg: GRPOConfig, model: torch.nn.Module, chat: ChatFormat) -> Any:
    if cfg.num_rollout_workers > 0:
        from thinkgym.agents.grpo.ray_rollout import RayRollouts

        return RayRollouts(cfg)
    if cfg.backend == "vllm":
        from thinkgym.agents.grpo.vllm_sampler import VLLMSampler

        sampler = VLLMSampler.from_config(cfg, chat)
    else:
        sampler = HFSampler(model, chat, top_p=cfg.top_p)
    return LocalRollouts(sampler, chat, cfg)


def evaluate(
    rollouts: Any,
    seeds: list[int],
    *,
    samples: int,
    k: int,
    temperature: float,
    batch_episodes: int,
    options: dict[str, Any] | None = None,
) -> dict[str, float]:
    """pass@1 and pass@k (unbiased estimator, ``samples`` per problem) on the problems of ``seeds``."""
    episodes: list[Episode] = []
    flat = [s for s in seeds for _ in range(samples)]
    for start in range(0, len(flat), batch_episodes):
        episodes += rollouts.play(
            flat[start : start + batch_episodes],
            temperature=temperature,
            seed=step_seed(EVAL_SAMPLING_SEED, start),
            options=options,
        )
    correct = [sum(e.correct for e in episodes[g * samples : (g + 1) * samples]) for g in range(len(seeds))]
    return {
        "pass@1": float(np.mean([pass_at_k(samples, c, 1) for c in correct])),
        f"pass@{k}": float(np.mean([pass_at_k(samples, c, k) for c in correct])),
        "reward_mean": float(np.mean([e.reward for e in episodes])),
        "response_length": float(np.mean([e.policy_tokens for e in episodes])),
    }


def evaluate_model(model: str | Path, cfg: GRPOConfig) -> dict[str, float]:
    """:func:`evaluate` of a saved model (``"tiny"`` or a folder) on ``cfg``'s held-out problems,
    with ``cfg``'s evaluation settings: the "before" of a run, or any checkpoint afterwards."""
    device = resolve_device(cfg.device)
    policy, tokenizer = load_model(model, seed=cfg.seed)
    chat = ChatFormat(tokenizer)
    rollouts = LocalRollouts(HFSampler(policy.to(device).eval(), chat, top_p=cfg.top_p), chat, cfg)
    temperature = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
    try:
        return evaluate(
            rollouts,
            held_out_seeds(cfg.eval_problems),
            samples=cfg.eval_samples,
            k=cfg.eval_k,
            temperature=temperature,
            batch_episodes=cfg.prompts_per_step * cfg.group_size,
        )
    finally:
        rollouts.close()


def collect_groups(
    rollouts: Any,
    problems: ProblemStream,
    probe: gymnasium.Env,
    cfg: GRPOConfig,
    step: int,
    options: dict[str, Any] | None,
) -> tuple[list[list[Episode]], list[Episode], int]:
    """(groups to train on, every episode sampled, sampling rounds). Without dynamic sampling one
    round; with it, rounds of ``prompts_per_step`` groups until that many have reward variance.
    Verifier-error episodes are left out of every group (a group left empty is dropped)."""
    keep_all = not (cfg.filter_zero_variance or cfg.dynamic_sampling)
    rounds = cfg.max_sampling_rounds if cfg.dynamic_sampling else 1
    kept: list[list[Episode]] = []
    sampled: list[Episode] = []
    for round_ in range(rounds):
        seeds = problems.take(probe, cfg.prompts_per_step, options)
        episodes = rollouts.play(
            [s for s in seeds for _ in range(cfg.group_size)],
            temperature=cfg.temperature,
            seed=step_seed(cfg.seed, step, round_),
            options=options,
        )
        sampled += episodes
        groups = [episodes[g * cfg.group_size : (g + 1) * cfg.group_size] for g in range(len(seeds))]
        groups = [[e for e in group if not e.verifier_error] for group in groups]
        kept += [group for group in groups if group and (keep_all or has_variance(group))]
        if len(kept) >= cfg.prompts_per_step:
            break
    return kept[: cfg.prompts_per_step], sampled, round_ + 1


def build_batch(groups: list[list[Episode]], advantages: list[np.ndarray], pad_id: int) -> RowBatch | None:
    """Every row of every episode, each with its episode's advantage (a Markovian episode's chunk
    rows all share it)."""
    rows, row_adv, row_episode = [], [], []
    episodes = [e for group in groups for e in group]
    flat_adv = [a for group_adv in advantages for a in group_adv]
    for index, (episode, adv) in enumerate(zip(episodes, flat_adv, strict=True)):
        for seg in episode.segments:
            if sum(seg.mask):
                rows.append((seg.prompt_ids, seg.completion_ids, seg.mask))
                row_adv.append(float(adv))
                row_episode.append(index)
    return collate(rows, row_adv, row_episode, pad_id) if rows else None


def train(cfg: GRPOConfig, shaper: Callable[..., np.ndarray] | None = None) -> list[dict[str, Any]]:
    """Runs GRPO as ``cfg`` says; returns the metrics of the steps it ran. ``shaper`` overrides
    ``cfg.advantage`` with a Python callable (see :mod:`.advantages`)."""
    out = Path(cfg.out)
    checkpoint = latest_checkpoint(out) if cfg.resume else None
    if not cfg.resume and latest_checkpoint(out) is not None:
        raise ValueError(f"{out} already holds checkpoints; pass --resume to continue, or choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2))
    random.seed(cfg.seed)
    np.random.seed(cfg.seed % 2**32)
    torch.manual_seed(cfg.seed)
    device = resolve_device(cfg.device)

    # the policy (the checkpoint's weights on resume), and the frozen reference only when beta > 0
    model, tokenizer = load_model(checkpoint / "model" if checkpoint else cfg.model, seed=cfg.seed)
    model.to(device).eval()  # eval(): no dropout, so the sampled and the trained distributions agree
    ref_model = None
    if cfg.beta > 0:
        ref_model = load_model(cfg.model, seed=cfg.seed)[0].to(device).eval().requires_grad_(False)
    chat = ChatFormat(tokenizer)
    optimizer = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=cfg.adam_betas, weight_decay=cfg.weight_decay)
    scheduler = make_scheduler(optimizer, cfg.lr_schedule, cfg.warmup_steps, cfg.steps)
    group_shaper = shaper or resolve_shaper(cfg.advantage, cfg.loss_type)

    # problems: a fixed held-out set, an optional SATURN curriculum, and the training stream
    probe = EnvPool(cfg.env, cfg.env_kwargs, chat).get(1)[0]  # "policy" env kwargs resolved as in rollouts
    eval_seeds = held_out_seeds(cfg.eval_problems)  # held out even when eval_every = 0: evaluate_model may run later
    held_out = {probe.reset(seed=s)[1]["problem"]["id"] for s in eval_seeds}
    curriculum = None
    if cfg.curriculum_levels:
        curriculum = SaturnCurriculum(
            cfg.curriculum_levels,
            epsilon=cfg.curriculum_epsilon,
            eval_every=cfg.curriculum_eval_every,
            validation_size=cfg.curriculum_validation_size,
            seed=cfg.seed,
        )
    problems = ProblemStream(
        cfg.seed * TRAIN_SEED_STRIDE,
        lambda pid: pid in held_out or (curriculum is not None and curriculum.is_held_out(pid)),
    )

    def hold_out_validation() -> None:  # SATURN's validation set of the current level is never trained on
        level = {"level": curriculum.level}
        ids = (probe.reset(seed=s, options=level)[1]["problem"]["id"] for s in curriculum.validation_seeds())
        curriculum.held_out_ids.update(ids)

    start = 0
    if checkpoint is not None:
        state = load_state(checkpoint)
        start = state["step"]
        restore_optimizer(checkpoint, state, model, optimizer, learners_read_shards=cfg.shard)
        scheduler.load_state_dict(state["scheduler"])
        problems.load_state_dict(state["problems"])
        if curriculum is not None:
            curriculum.load_state_dict(state["curriculum"])
    elif cfg.resume:
        print(f"thinkgym train: no checkpoint in {out}, starting from step 0")
    if curriculum is not None:
        hold_out_validation()

    learners = make_learners(cfg, model, optimizer, checkpoint)  # None: the in-process learner
    rollouts = learners.rollouts() if cfg.learner_rollouts else make_rollouts(cfg, model, chat)
    log = MetricsLog(out, start)
    eval_temperature = cfg.temperature if cfg.eval_temperature is None else cfg.eval_temperature
    batch_episodes = cfg.prompts_per_step * cfg.group_size
    history: list[dict[str, Any]] = []
    no_signal = 0  # consecutive steps in which every group had equal rewards
    from tqdm.auto import tqdm

    bar = tqdm(range(start + 1, cfg.steps + 1), initial=start, total=cfg.steps, desc="grpo", disable=not cfg.progress)
    for step in bar:
        began = time.perf_counter()
        options = {"level": curriculum.level} if curriculum else None

        # 1-2. rollouts, with zero-variance filtering / dynamic sampling
        rollouts.sync(model)
        groups, sampled, rounds = collect_groups(rollouts, problems, probe, cfg, step, options)
        rollout_time = time.perf_counter() - began

        # 3. advantages  4. update
        advantages = episode_advantages(groups, group_shaper, **cfg.advantage_kwargs)
        batch = build_batch(groups, advantages, chat.pad_id)
        stats: dict[str, Any] = {"loss": 0.0, "grad_norm": 0.0, "kl": None, "entropy": None, "clip_fraction": 0.0}
        if batch is not None and learners is not None:  # data-parallel learners (.distributed)
            stats = learners.update(model, batch, [len(g) for g in groups])
        elif batch is not None:
            stats = update(model, ref_model, optimizer, batch, sum(len(g) for g in groups), cfg, device)
        scheduler.step()

        generated = sum(e.policy_tokens for e in sampled)
        elapsed = time.perf_counter() - began
        metrics: dict[str, Any] = {
            "step": step,
            "reward_mean": float(np.mean([e.reward for e in sampled])),
            "reward_std": float(np.std([e.reward for e in sampled])),
            "correct_rate": float(np.mean([e.correct for e in sampled])),
            **stats,
            "response_length": generated / len(sampled),
            "truncated_rate": float(np.mean([e.truncated for e in sampled])),
            "verifier_errors": sum(e.verifier_error for e in sampled),
            "groups_kept": len(groups),
            "sampling_rounds": rounds,
            "lr": scheduler.get_last_lr()[0],
            "tokens_per_s": generated / elapsed,
            "rollout_s": rollout_time,
            "step_s": elapsed,
        }
        if cfg.save_traces:
            with (out / "traces.jsonl").open("a") as f:
                f.writelines(json.dumps({"step": step, **e.trace()}) + "\n" for e in sampled)

        # 5. curriculum, evaluation, checkpoint, log
        if curriculum is not None and curriculum.record(len(sampled)):
            rollouts.sync(model)  # a vLLM engine or Ray worker still has the weights of before this update
            result = evaluate(
                rollouts,
                curriculum.validation_seeds(),
                samples=1,
                k=1,
                temperature=eval_temperature,
                batch_episodes=batch_episodes,
                options=options,
            )
            metrics["curriculum/pass@1"] = result["pass@1"]
            metrics["curriculum/moved"] = curriculum.update(result["pass@1"])
            metrics["curriculum/level"] = curriculum.level
            if metrics["curriculum/moved"]:
                hold_out_validation()
        if cfg.eval_every and step % cfg.eval_every == 0:
            rollouts.sync(model)  # evaluate this step's weights, as the HF sampler does, not the rollout's
            result = evaluate(
                rollouts,
                eval_seeds,
                samples=cfg.eval_samples,
                k=cfg.eval_k,
                temperature=eval_temperature,
                batch_episodes=batch_episodes,
            )
            metrics.update({f"eval/{key}": value for key, value in result.items()})
        log.write(metrics)  # before the checkpoint: a resume drops lines past its checkpoint's step
        if step % cfg.save_every == 0 or step == cfg.steps:
            save_checkpoint(
                out,
                step,
                model,
                tokenizer,
                {
                    "optimizer": None if learners else optimizer.state_dict(),  # learners: write_state
                    "scheduler": scheduler.state_dict(),
                    "problems": problems.state_dict(),
                    "curriculum": curriculum.state_dict() if curriculum else None,
                },
                learners.write_state if learners else None,
            )
        history.append(metrics)
        bar.set_postfix(
            reward=f"{metrics['reward_mean']:.3f}",
            correct=f"{metrics['correct_rate']:.3f}",
            loss=f"{metrics['loss']:.3g}",
        )
        no_signal = 0 if any(has_variance(g) for g in groups) else no_signal + 1
        if no_signal == NO_SIGNAL_STEPS:  # all advantages are 0: nothing to learn from, say so once per streak
            tqdm.write(
                f"thinkgym train: no learning signal: every group had equal rewards for {NO_SIGNAL_STEPS} steps "
                f"(reward {metrics['reward_mean']:.3f}), so every advantage and the loss are 0; e.g. warm-start "
                "with thinkgym sft (docs/grpo.md), or pick an easier level or larger --group-size",
                file=sys.stderr,
            )

    log.close()
    rollouts.close()
    if learners is not None:
        learners.close()
    probe.close()
    return history
