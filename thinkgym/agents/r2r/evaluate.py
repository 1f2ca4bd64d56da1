"""Accuracy against routed fraction: the R2R trade-off curve on any thinkgym env, with the small
and the large model alone as its two ends (threshold above 1: never route; 0: always)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from thinkgym.agents.r2r.policy import RoutedPolicy
from thinkgym.agents.r2r.router import Router
from thinkgym.experiments.sweep import sweep

__all__ = ["routing_sweep"]

NEVER, ALWAYS = float("inf"), 0.0


def routing_sweep(
    env_id: str,
    levels: Sequence[int],
    small: Any,
    large: Any,
    tokenizer: Any,
    router: Router,
    thresholds: Sequence[float],
    *,
    episodes: int = 50,
    max_tokens: int = 64,
    env_kwargs: dict[str, Any] | None = None,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """One row per (setting, level): ``setting`` is ``small``, ``large`` or ``r2r@<threshold>``;
    columns: pass@1, routed_fraction, activated_params_per_token, mean_response_tokens."""
    settings = [("small", NEVER), ("large", ALWAYS)] + [(f"r2r@{t:g}", t) for t in thresholds]
    rows = []
    for name, threshold in settings:
        for level in levels:
            policy = RoutedPolicy(small, large, tokenizer, router, threshold, max_tokens=max_tokens, seed=seed)
            (row,) = sweep(env_id, [level], policy, episodes=episodes, seed=seed, env_kwargs=env_kwargs, progress=False)
            rows.append(
                {
                    "setting": name,
                    "threshold": threshold,
                    "level": level,
                    "pass@1": row["pass@1"],
                    "routed_fraction": round(policy.stats.routed_fraction, 4),
                    "activated_params_per_token": round(policy.stats.activated_params_per_token),
                    "mean_response_tokens": row.get("mean_response_tokens"),
                }
            )
    return rows
