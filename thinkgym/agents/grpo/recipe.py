"""The CPU recipe that shows GRPO learning in about a minute, shared by ``thinkgym demo``,
``examples/train_grpo_sat.py`` and ``tests/test_grpo_learns.py``.

Task: Saturn-SAT-v0 with unit clauses (n=1, k=8, l=3, the instance alone as the prompt): three of
the eight variables are fixed by the clauses, so an answer is right when the model reads the three
literals off the prompt; a uniform guess is right 1 time in 8. Recipe: a 300-step SFT warm start on
reference answers, then GRPO with G=16 x 8 problems, lr 1e-3 with warmup (without it one seed
collapsed to zero reward). Held-out problems are never trained on, by SFT or GRPO.
"""

from __future__ import annotations

import math
from pathlib import Path

from thinkgym.agents.grpo.config import GRPOConfig, SFTConfig

__all__ = ["UNIT_CLAUSE_SAT", "sft_config", "grpo_config", "wilson", "z_score"]

UNIT_CLAUSE_SAT = {"n": 1, "k": 8, "l": 3, "prompt_template": "{instance}"}


def sft_config(out: str | Path, *, seed: int = 0, held_out: int = 256, progress: bool = False) -> SFTConfig:
    """The warm start: 300 steps of 16 reference answers, lr 3e-3; the model lands in ``out/model``."""
    return SFTConfig(
        env_kwargs=UNIT_CLAUSE_SAT,
        steps=300,
        batch_size=16,
        lr=3e-3,
        seed=seed,
        out=str(out),
        eval_problems=held_out,
        progress=progress,
    )


def grpo_config(
    model: str | Path,
    out: str | Path,
    *,
    steps: int = 150,
    seed: int = 0,
    held_out: int = 256,
    eval_every: int | None = None,
    progress: bool = False,
) -> GRPOConfig:
    """GRPO from the warm-started ``model``; held-out pass@1 with one sample per problem at
    temperature 1, every ``eval_every`` steps (default: at the last step)."""
    return GRPOConfig(
        env_kwargs=UNIT_CLAUSE_SAT,
        model=str(model),
        out=str(out),
        seed=seed,
        steps=steps,
        group_size=16,
        prompts_per_step=8,
        max_new_tokens=20,
        lr=1e-3,
        warmup_steps=min(20, steps // 3),
        micro_batch_size=128,
        eval_every=eval_every or steps,
        eval_problems=held_out,
        eval_samples=1,
        eval_k=1,
        eval_temperature=1.0,
        progress=progress,
    )


def wilson(p: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a binomial proportion ``p`` observed over ``n`` trials."""
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def z_score(before: float, after: float, n_before: int, n_after: int) -> float:
    """The two-proportion z statistic of ``after - before`` (unpooled standard error); z > 2.33 is
    a one-sided test significant at p < 0.01."""
    se = math.sqrt(before * (1 - before) / n_before + after * (1 - after) / n_after)
    return (after - before) / se if se > 0 else math.copysign(math.inf, after - before) if after != before else 0.0
