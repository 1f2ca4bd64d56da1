"""Difficulty sweeps: pass@k per level of any thinkgym env under any policy.

For each level, ``episodes`` problems (seeds ``seed .. seed+episodes-1``) are each answered
``samples`` times (default ``k``); every sample re-plays the same instance through a seeded
``reset``, as a GRPO group would. pass@j for j = 1..k uses the unbiased estimator
(:func:`thinkgym.metrics.pass_at_k`) per problem, averaged over problems.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium

from thinkgym.agents.policies import Policy, make_policy
from thinkgym.metrics import pass_at_k

__all__ = ["sweep", "write_results", "markdown_table"]


def sweep(
    env_id: str,
    levels: Sequence[int],
    policy: str | Policy,
    *,
    k: int = 1,
    samples: int | None = None,
    episodes: int = 100,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """One result row per level: level, difficulty, pass@1..pass@k, mean response length (in
    characters), format-error rate (no answer could be read), mean reward."""
    samples = k if samples is None else samples
    if k < 1 or samples < k:
        raise ValueError(f"need 1 <= k <= samples, got k={k}, samples={samples}")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if not levels:
        raise ValueError("levels must name at least one level")
    policy = make_policy(policy, seed=seed)
    env = gymnasium.make(env_id, **(env_kwargs or {}))
    from tqdm.auto import tqdm

    bar = tqdm(
        total=len(levels) * episodes * samples, desc=f"{env_id} / {policy.name}", disable=not progress, unit="ep"
    )
    rows = []
    try:
        for level in levels:
            rows.append(_sweep_level(env, level, policy, k, samples, episodes, seed, bar))
    finally:
        bar.close()
        env.close()
    return rows


def _sweep_level(
    env: gymnasium.Env, level: int, policy: Policy, k: int, samples: int, episodes: int, seed: int, bar: Any
) -> dict[str, Any]:
    correct_counts, lengths, format_errors, rewards, difficulties = [], [], 0, [], []
    params: dict[str, Any] = {}
    for episode in range(episodes):
        correct = 0
        for _ in range(samples):
            obs, info = env.reset(seed=seed + episode, options={"level": level})
            response = policy.act(obs, info)
            _, reward, _, _, info = env.step(response)
            verdict = info["verdict"]
            correct += bool(verdict["correct"])
            format_errors += not verdict["format_ok"]
            lengths.append(len(response))
            rewards.append(reward)
            bar.update(1)
        correct_counts.append(correct)
        difficulties.append(info["problem"]["difficulty"])
        params = info["problem"]["params"]
    total = episodes * samples
    row: dict[str, Any] = {"level": level, **params, "difficulty": round(statistics.fmean(difficulties), 4)}
    row["episodes"], row["samples"] = episodes, samples
    for j in range(1, k + 1):
        row[f"pass@{j}"] = round(statistics.fmean(pass_at_k(samples, c, j) for c in correct_counts), 6)
    row["mean_response_chars"] = round(statistics.fmean(lengths), 2)
    row["format_error_rate"] = round(format_errors / total, 6)
    row["mean_reward"] = round(statistics.fmean(rewards), 6)
    return row


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a GitHub markdown table."""
    if not rows:
        return ""
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines.extend("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in rows)
    return "\n".join(lines)


def write_results(rows: list[dict[str, Any]], out: str | Path, name: str = "results") -> dict[str, Path]:
    """Writes ``name.csv``, ``name.json`` and ``name.md`` under ``out``; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out / f"{name}.csv", "json": out / f"{name}.json", "md": out / f"{name}.md"}
    fields: list[str] = []
    for r in rows:
        fields.extend(c for c in r if c not in fields)
    with paths["csv"].open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    paths["json"].write_text(json.dumps(rows, indent=2) + "\n")
    paths["md"].write_text(markdown_table(rows) + "\n")
    return paths
