"""Difficulty sweeps: pass@k per level of any thinkgym env under any policy, resumable.

For each level, ``episodes`` problems (seeds ``seed .. seed+episodes-1``) are each answered
``samples`` times (default ``k``); every sample replays the same instance, as a GRPO group would.
pass@j for j = 1..k uses the unbiased estimator (:func:`thinkgym.metrics.pass_at_k`) per problem,
averaged over problems.

With a ``journal`` path every answered sample is appended to a JSONL file as soon as it is
scored; a sweep started again with the same journal skips what is there, so a killed sweep picks
up where it stopped without asking the policy again. The journal's first line records the
settings, and a journal written with other settings is refused rather than mixed in. Nothing is
written before the first sample is scored, so a sweep that fails at the start (a bad policy, a
bad env argument, a dead endpoint) leaves no journal behind to refuse the corrected command.

Mixture envs (``Math-RLVR-v0`` with every family) draw each episode from one of several
families: a level's row then says ``family = "mixture"`` and keeps only the parameters every
episode shares, and with ``by_family=True`` a row per family follows it (``part_of = "mixture"``).
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


def _percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return float(ordered[index])


class _Journal:
    """Append-only JSONL of scored samples, keyed by (env, level, episode, sample)."""

    def __init__(self, path: Path | None, settings: dict[str, Any]) -> None:
        self.path, self.done, self.settings = path, {}, settings
        if path is None:
            return
        if path.exists() and path.stat().st_size:
            lines = path.read_text(encoding="utf-8").splitlines()
            header = json.loads(lines[0]).get("settings")
            if header != settings:
                raise ValueError(f"journal {path} was written with other settings {header}; use another --out")
            for line in lines[1:]:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut short when the sweep was killed
                    continue
                self.done[(rec["env"], rec["level"], rec["episode"], rec["sample"])] = rec

    def add(self, rec: dict[str, Any]) -> None:
        self.done[(rec["env"], rec["level"], rec["episode"], rec["sample"])] = rec
        if self.path is None:
            return
        if not (self.path.exists() and self.path.stat().st_size):  # the header comes with the first sample
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps({"settings": self.settings}) + "\n", encoding="utf-8")
        with self.path.open("a", encoding="utf-8") as f:
            f.write(json.dumps(rec) + "\n")


def sweep(
    env_id: str,
    levels: Sequence[int | None],
    policy: str | Policy,
    *,
    k: int = 1,
    samples: int | None = None,
    episodes: int = 100,
    seed: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    progress: bool = True,
    journal: str | Path | None = None,
    batch_size: int = 64,
    by_family: bool = False,
) -> list[dict[str, Any]]:
    """One result row per level: env, level, generator params, difficulty, pass@1..pass@k, mean
    and percentile response length (characters; completion tokens when the policy reports them),
    format-error rate (no answer could be read), mean reward. A level whose episodes come from
    several families says ``family = "mixture"``; ``by_family`` adds a row per family after it."""
    samples = k if samples is None else samples
    if k < 1 or samples < k:
        raise ValueError(f"need 1 <= k <= samples, got k={k}, samples={samples}")
    if episodes < 1:
        raise ValueError(f"episodes must be >= 1, got {episodes}")
    if not levels:
        raise ValueError("levels must name at least one level")
    spec = policy if isinstance(policy, str) else policy.name
    settings = {"policy": spec, "samples": samples, "seed": seed, "env_kwargs": env_kwargs or {}}
    book = _Journal(Path(journal) if journal else None, settings)
    env = gymnasium.make(env_id, **(env_kwargs or {}))
    from tqdm.auto import tqdm

    todo = [
        (level, episode, s)
        for level in levels
        for episode in range(episodes)
        for s in range(samples)
        if (env_id, level, episode, s) not in book.done
    ]
    policy_obj: Policy | None = None
    bar = tqdm(total=len(todo), desc=f"{env_id} / {spec}", disable=not progress or not todo, unit="sample")
    try:
        for start in range(0, len(todo), batch_size):
            if policy_obj is None:  # only load a model when there is work left
                policy_obj = make_policy(policy, seed=seed)
            batch = todo[start : start + batch_size]
            prompts, infos = [], []
            for level, episode, _ in batch:
                options = None if level is None else {"level": level}  # None: the env's own parameters
                obs, info = env.reset(seed=seed + episode, options=options)
                prompts.append(obs)
                infos.append(info)
            responses = policy_obj.act_batch(prompts, infos)
            usage = policy_obj.last_usage or [{}] * len(batch)
            for (level, episode, s), info, response, use in zip(batch, infos, responses, usage, strict=True):
                env.reset(options={"problem": info["problem"]})
                _, reward, _, _, step_info = env.step(response)
                verdict = step_info["verdict"]
                book.add(
                    {
                        "env": env_id,
                        "level": level,
                        "episode": episode,
                        "sample": s,
                        "problem_id": info["problem"]["id"],
                        "difficulty": info["problem"]["difficulty"],
                        "params": info["problem"]["params"],
                        "correct": bool(verdict["correct"]),
                        "format_ok": bool(verdict["format_ok"]),
                        "reason": verdict["reason"],
                        "reward": float(reward),
                        "chars": len(response),
                        "tokens": use.get("completion_tokens"),
                    }
                )
            bar.update(len(batch))
    finally:
        bar.close()
        env.close()
    rows = []
    for level in levels:
        by_episode = [[book.done[(env_id, level, e, s)] for s in range(samples)] for e in range(episodes)]
        rows.append(_level_row(env_id, level, by_episode, k))
        families = sorted({str(ep[0]["params"].get("family")) for ep in by_episode})
        if by_family and len(families) > 1:
            for family in families:
                part = [ep for ep in by_episode if str(ep[0]["params"].get("family")) == family]
                rows.append({**_level_row(env_id, level, part, k), "part_of": "mixture"})
    return rows


def _shared_params(recs: list[dict[str, Any]]) -> dict[str, Any]:
    """The generator parameters every record shares; ``family`` is ``"mixture"`` when it varies."""
    first = recs[0]["params"]
    shared = {key: value for key, value in first.items() if all(r["params"].get(key) == value for r in recs)}
    if "family" in first and "family" not in shared:
        shared = {"family": "mixture", **shared}
    return shared


def _level_row(env_id: str, level: int, by_episode: list[list[dict[str, Any]]], k: int) -> dict[str, Any]:
    """The row of one level from its records, ``by_episode[e][s]`` (sample ``s`` of episode ``e``)."""
    recs = [r for episode in by_episode for r in episode]
    episodes, samples = len(by_episode), len(by_episode[0])
    correct_counts = [sum(r["correct"] for r in episode) for episode in by_episode]
    chars = [r["chars"] for r in recs]
    row: dict[str, Any] = {"env": env_id, "level": level, **_shared_params(recs)}
    row["difficulty"] = round(statistics.fmean(r["difficulty"] for r in recs), 4)
    row["episodes"], row["samples"] = episodes, samples
    for j in range(1, k + 1):
        row[f"pass@{j}"] = round(statistics.fmean(pass_at_k(samples, c, j) for c in correct_counts), 6)
    row["mean_response_chars"] = round(statistics.fmean(chars), 2)
    row["p50_response_chars"] = _percentile(chars, 50)
    row["p90_response_chars"] = _percentile(chars, 90)
    tokens = [r["tokens"] for r in recs if r["tokens"] is not None]
    if tokens:
        row["mean_response_tokens"] = round(statistics.fmean(tokens), 2)
        row["p90_response_tokens"] = _percentile(tokens, 90)
    row["format_error_rate"] = round(sum(not r["format_ok"] for r in recs) / len(recs), 6)
    row["mean_reward"] = round(statistics.fmean(r["reward"] for r in recs), 6)
    return row


def markdown_table(rows: list[dict[str, Any]]) -> str:
    """The rows as a GitHub markdown table (columns: the union over rows, in first-seen order)."""
    if not rows:
        return ""
    cols: list[str] = []
    for r in rows:
        cols.extend(c for c in r if c not in cols)
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
