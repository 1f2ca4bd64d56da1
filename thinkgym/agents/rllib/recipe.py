"""The CPU recipe that shows RLlib PPO learning on the token MDP, shared by
``examples/rllib_ppo_sat.py --learn`` and ``tests/test_rllib_learns.py``.

Task: the unit-clause SAT task of the GRPO recipe (:data:`thinkgym.agents.grpo.recipe.UNIT_CLAUSE_SAT`:
three of eight variables fixed by unit clauses, a uniform guess is right 1 time in 8). Recipe:
the same 300-step SFT warm start as the GRPO recipe, then RLlib PPO (token-level, GAE with the
value head, KL penalty to the warm-started model) on problems that are never the held-out ones.
Held-out pass@1 is measured before and after with one sample per problem at temperature 1, by the
GRPO agent's :func:`~thinkgym.agents.grpo.trainer.evaluate_model` on the saved LM, so both agents
are judged by the same sampler, prompts and problems.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

from thinkgym.agents.grpo.recipe import UNIT_CLAUSE_SAT, grpo_config, sft_config, wilson

__all__ = ["PPO_SETTINGS", "learn", "save_policy", "two_proportion_z"]

# Token-level PPO settings that learn the task in a few CPU minutes (see docs/rllib.md).
PPO_SETTINGS: dict[str, Any] = {
    "lr": 1e-3,
    "lambda_": 1.0,
    "num_envs_per_env_runner": 32,
    "train_batch_size_per_learner": 4096,
    "minibatch_size": 1024,
    "num_epochs": 2,
    "entropy_coeff": 0.0,
    "vf_loss_coeff": 0.5,
}


def two_proportion_z(before: float, after: float, n: int) -> float:
    """The two-proportion z statistic of ``after`` vs ``before``, each over ``n`` trials (unpooled)."""
    se = math.sqrt(before * (1 - before) / n + after * (1 - after) / n)
    return (after - before) / se if se > 0 else 0.0


def save_policy(algo: Any, tokenizer_from: str | Path, out: str | Path) -> Path:
    """Writes the trained LM of ``algo`` (its value head left out) with the tokenizer of
    ``tokenizer_from`` as a Hugging Face folder that ``--model`` and ``evaluate_model`` accept."""
    from transformers import AutoTokenizer

    out = Path(out)
    module = algo.get_module()
    module.lm.save_pretrained(out)
    AutoTokenizer.from_pretrained(str(tokenizer_from), local_files_only=True).save_pretrained(out)
    return out


def learn(
    out: str | Path,
    *,
    seed: int = 0,
    iterations: int = 12,
    held_out: int = 256,
    ref_kl_coeff: float = 0.01,
    num_env_runners: int = 1,
    num_learners: int = 0,
    log: Any = print,
    **overrides: Any,
) -> dict[str, float]:
    """SFT warm start, held-out pass@1, ``iterations`` of RLlib PPO, held-out pass@1 again.

    Returns ``before``, ``after``, ``z`` and the PPO seconds. Ray must be initialised by the caller.
    """
    import torch

    from thinkgym.agents.grpo.sft import supervise
    from thinkgym.agents.grpo.trainer import evaluate_model
    from thinkgym.agents.rllib.config import ppo_config

    out = Path(out)
    supervise(sft_config(out / "sft", seed=seed, held_out=held_out))
    sft_model = out / "sft" / "model"
    judge = grpo_config(sft_model, out / "eval", seed=seed, held_out=held_out)
    before = evaluate_model(sft_model, judge)["pass@1"]
    config = ppo_config(
        "Saturn-SAT-v0",
        model=sft_model,
        env_kwargs=UNIT_CLAUSE_SAT,
        max_length=128,
        max_new_tokens=judge.max_new_tokens,
        held_out=held_out,
        ref_kl_coeff=ref_kl_coeff,
        num_env_runners=num_env_runners,
        num_learners=num_learners,
        **{**PPO_SETTINGS, **overrides},
    ).debugging(seed=seed)
    torch.manual_seed(seed)
    algo = config.build_algo()
    start = time.perf_counter()
    try:
        for iteration in range(1, iterations + 1):
            result = algo.train()
            runners = result["env_runners"]
            learner = result["learners"]["default_policy"]
            log(
                f"iteration {iteration:>2}: return {runners['episode_return_mean']:+.3f}  "
                f"ref_kl {float(learner.get('ref_kl', float('nan'))):.4f}  "
                f"episodes {runners['num_episodes']}  {time.perf_counter() - start:.0f} s"
            )
        seconds = time.perf_counter() - start
        trained = save_policy(algo, sft_model, out / "ppo" / "model")
    finally:
        algo.stop()
    after = evaluate_model(trained, judge)["pass@1"]
    z = two_proportion_z(before, after, held_out)
    lo_b, hi_b = wilson(before, held_out)
    lo_a, hi_a = wilson(after, held_out)
    log(
        f"held-out pass@1 before {before:.3f} [{lo_b:.3f}, {hi_b:.3f}] "
        f"after {after:.3f} [{lo_a:.3f}, {hi_a:.3f}] z={z:.2f}"
    )
    return {"before": before, "after": after, "z": z, "ppo_seconds": seconds}
