"""Exporting problems (JSONL, a Hugging Face dataset, verl parquet), and SATURN-2.6k-shaped
benchmark splits with a leakage check.

``jsonl``: one JSON object per line: the :class:`~thinkgym.core.Problem` fields (``id``,
``prompt``, ``answer``, ``params``, ``difficulty``, ``family``, ``metadata`` — for SAT ``metadata``
holds ``clauses`` and ``num_vars``) plus ``env``, ``level`` and ``split``. ``Problem.from_dict`` of
a row minus those three (:func:`row_problem`) gives the problem back; ``reset(options={"problem":
...})`` replays it.

``hf``: a ``datasets.Dataset`` saved to disk with flat columns ``id``, ``env``, ``level``,
``split``, ``prompt``, ``answer``, ``difficulty`` and ``problem`` (the Problem as JSON, since
metadata differs between task families): ready for TRL, whose reward functions receive the
``problem`` column (:func:`thinkgym.rewards.trl.trl_reward_func`).

``verl``: a parquet file in verl's RL data layout: ``data_source`` (the env id), ``prompt`` (chat
messages), ``ability``, ``reward_model`` (``{"style": "rule", "ground_truth": answer}``) and
``extra_info`` (``index`` and ``problem`` as JSON), scored by :func:`thinkgym.rewards.verl.compute_score`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import gymnasium

from thinkgym.generators.sat import SATURN_TEST_LEVELS

__all__ = [
    "export_problems",
    "find_leaks",
    "saturn_benchmark",
    "write_jsonl",
    "read_jsonl",
    "write_rows",
    "row_problem",
    "FORMATS",
]

FORMATS = ("jsonl", "hf", "verl")
_EXTRA = ("env", "level", "split")

# SATURN-2.6k (Saturn-code README, data/): 250/250/500/500 training instances of (3,5,5), (3,5,6),
# (3,5,13), (3,5,15); 20 same-difficulty test instances per training level; 100 per harder level.
# thinkgym levels 1, 2, 4, 6 are those four (level 3 is the paper's (3,5,8), which has no data set).
SATURN_2_6K_TRAIN = {1: 250, 2: 250, 4: 500, 6: 500}
SATURN_2_6K_SAME_TEST = 20
SATURN_2_6K_HARD_TEST = 100


def export_problems(
    env_id: str,
    counts: dict[int, int],
    *,
    seed: int = 0,
    split: str = "train",
    exclude_ids: Iterable[str] = (),
    env_kwargs: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """``counts[level]`` distinct problems per level, skipping any id in ``exclude_ids`` or already
    drawn (so a split never repeats a problem). Seeds start at ``seed`` and go up."""
    env = gymnasium.make(env_id, **(env_kwargs or {}))
    seen = set(exclude_ids)
    rows: list[dict[str, Any]] = []
    try:
        for level, count in counts.items():
            next_seed, made, misses = seed, 0, 0
            while made < count:
                _, info = env.reset(seed=next_seed, options={"level": level})
                next_seed += 1
                problem = info["problem"]
                if problem["id"] in seen:
                    misses += 1
                    if misses > 10 * count + 100:
                        raise ValueError(f"level {level} of {env_id} has too few distinct problems for {count}")
                    continue
                seen.add(problem["id"])
                rows.append({**problem, "env": env_id, "level": level, "split": split})
                made += 1
    finally:
        env.close()
    return rows


def saturn_benchmark(seed: int = 0) -> dict[str, list[dict[str, Any]]]:
    """A SATURN-2.6k-shaped benchmark: ``train`` (1,500 problems at the four training levels) and
    ``test`` (20 per training level plus 100 per harder test level: 1,080), disjoint by id."""
    train = export_problems("Saturn-SAT-v0", SATURN_2_6K_TRAIN, seed=seed, split="train")
    test_counts = {lv: SATURN_2_6K_SAME_TEST for lv in SATURN_2_6K_TRAIN}
    test_counts.update({lv: SATURN_2_6K_HARD_TEST for lv in SATURN_TEST_LEVELS})
    test = export_problems(
        "Saturn-SAT-v0", test_counts, seed=seed + 10_000_000, split="test", exclude_ids=(r["id"] for r in train)
    )
    leaks = find_leaks({"train": train, "test": test})
    if leaks:  # cannot happen: test generation excludes train ids; a failure here is a bug
        raise RuntimeError(f"leakage between splits: {leaks}")
    return {"train": train, "test": test}


def find_leaks(splits: dict[str, Sequence[dict[str, Any]]]) -> dict[str, list[str]]:
    """Problem ids that occur in more than one split: ``{"train&test": [ids...]}``; empty if none."""
    names = list(splits)
    ids = {name: {row["id"] for row in rows} for name, rows in splits.items()}
    leaks = {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            common = sorted(ids[a] & ids[b])
            if common:
                leaks[f"{a}&{b}"] = common
    return leaks


def write_jsonl(rows: Iterable[dict[str, Any]], path: str | Path) -> int:
    """Writes rows as JSON lines; returns how many."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Reads JSON lines; a bad line is a ``ValueError`` with its line number."""
    rows = []
    with Path(path).open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from None
    return rows


def row_problem(row: dict[str, Any]) -> dict[str, Any]:
    """The Problem dict of an exported jsonl row (the row without ``env``, ``level``, ``split``),
    ready for ``Problem.from_dict`` or ``reset(options={"problem": ...})``."""
    return {k: v for k, v in row.items() if k not in _EXTRA}


def _problem_json(row: dict[str, Any]) -> str:
    return json.dumps(row_problem(row), ensure_ascii=False)


def write_rows(rows: list[dict[str, Any]], path: str | Path, fmt: str = "jsonl") -> int:
    """Writes exported rows as ``jsonl`` (a file), ``hf`` (a dataset folder, ``save_to_disk``) or
    ``verl`` (a parquet file). ``hf`` and ``verl`` need the ``datasets`` package."""
    if fmt == "jsonl":
        return write_jsonl(rows, path)
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    try:
        import datasets
    except ImportError:
        raise ValueError(f"--format {fmt} needs the datasets package: pip install datasets") from None
    if fmt == "hf":
        table = [
            {
                "id": r["id"],
                "env": r["env"],
                "level": r["level"],
                "split": r["split"],
                "prompt": r["prompt"],
                "answer": r["answer"],
                "difficulty": r["difficulty"],
                "problem": _problem_json(r),
            }
            for r in rows
        ]
        datasets.Dataset.from_list(table).save_to_disk(str(path))
        return len(table)
    table = [
        {
            "data_source": r["env"],
            "prompt": [{"role": "user", "content": r["prompt"]}],
            "ability": r["family"],
            "reward_model": {"style": "rule", "ground_truth": r["answer"]},
            "extra_info": {"index": i, "split": r["split"], "problem": _problem_json(r)},
        }
        for i, r in enumerate(rows)
    ]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    datasets.Dataset.from_list(table).to_parquet(str(path))
    return len(table)
