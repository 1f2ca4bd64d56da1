"""Checkpoint probing by pass@k per sub-domain (``thinkgym probe``): the "domain-aware diversity
probing" of VibeThinker's Two-Stage Diversity-Exploring Distillation (WeiboAI, arXiv 2511.06221).
The SFT stage is tuned for diversity: for each sub-domain i the checkpoint kept as its expert is
the one with the highest pass@k on held-out problems of that sub-domain,
``M_i* = argmax_t pass@k_i(M_t)``, and the experts are then fused by weight averaging
(:mod:`thinkgym.agents.merge`).

Sub-domains: ``by="family"`` splits one env by ``info["problem"]["metadata"]["family"]`` (for
``Math-RLVR-v0``: the families of its ``mixture``, all nine by default); ``by="env"`` makes each of
several envs a sub-domain (``env_kwargs`` then go to every env).

Problems: ``M`` per sub-domain from the held-out seeds of ``thinkgym sft`` / ``thinkgym train``
(``2**62 + i``, :func:`~thinkgym.agents.grpo.rollout.held_out_seeds`), scanned in order from index
``skip``; with ``by="family"`` each seed's problem goes to its family until every family has
``M``. Training never uses these seeds (its seeds stay below ``2**62``) and skips any problem whose
id (a content hash) is among the first ``eval_problems`` held-out ones, so the probe problems are
disjoint from the training problems, by content, exactly when the run's ``eval_problems`` is at
least the number of held-out seeds the probe scanned (``scanned``). When the checkpoints' folder
(or its parent) holds the run's ``config.json``, :func:`probe` checks this and refuses otherwise.
Use ``skip`` to keep a later test set (seeds after the probe's) apart from the probe set, so the
selection is not scored on the problems that chose it.

Scores: each problem is sampled ``samples`` (n) times at ``temperature``; pass@1 and pass@k are the
unbiased estimator of Chen et al. (2021) (:func:`thinkgym.metrics.pass_at_k`) averaged over the
problems, with 95% Wilson intervals over the ``M`` problems (each problem's pass@k is a number in
[0, 1]; treating it as one Bernoulli trial per problem gives an interval no narrower than the
problems support). Sampling is batched through the HF sampler and seeded, the same noise for every
checkpoint.

Best checkpoint per sub-domain: the highest pass@k; ties go to the higher pass@1, then to the
earlier checkpoint (lower step, then name), so the choice is deterministic.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from thinkgym.agents.grpo.recipe import wilson
from thinkgym.agents.grpo.rollout import EVAL_SEED_BASE
from thinkgym.metrics import pass_at_k

__all__ = [
    "best_checkpoints",
    "correct_counts",
    "find_checkpoints",
    "paired_difference",
    "plot_probe",
    "probe",
    "probe_problems",
    "score_model",
    "summarise",
    "write_probe",
]

PROBE_SAMPLING_SEED = 251106221  # the sampling noise of every probe (the paper's arXiv id)


def _step_of(name: str) -> int | None:
    match = re.search(r"(\d+)$", name)
    return int(match.group(1)) if match else None


def find_checkpoints(directory: str | Path) -> list[tuple[str, Path]]:
    """(name, model folder) of every checkpoint under ``directory``, in step order: its
    ``checkpoints/step-*`` (a ``thinkgym sft --save-every`` or ``thinkgym train`` output folder),
    else its own subfolders that are model folders (``step-*/`` or ``step-*/model/``)."""
    from thinkgym.agents.merge import model_folder

    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"--checkpoints {str(directory)!r} is not a folder")
    root = directory / "checkpoints" if (directory / "checkpoints").is_dir() else directory
    found = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.endswith(".tmp")):
        try:
            found.append((sub.name, model_folder(sub)))
        except ValueError:
            continue
    if not found:
        raise ValueError(
            f"no checkpoints in {str(root)!r}: expected model folders such as step-000100/ "
            "(thinkgym sft --save-every N writes them)"
        )
    return sorted(found, key=lambda item: (_step_of(item[0]) is None, _step_of(item[0]) or 0, item[0]))


def _run_config(directory: Path) -> dict[str, Any] | None:
    for candidate in (directory / "config.json", directory.parent / "config.json"):
        if candidate.is_file():
            data = json.loads(candidate.read_text())
            if "eval_problems" in data:
                return data
    return None


def probe_problems(
    envs: Sequence[str], env_kwargs: dict[str, Any] | None, by: str, problems: int, skip: int = 0
) -> tuple[dict[str, tuple[str, list[int]]], int]:
    """({sub-domain: (env id, seeds)}, scanned): ``problems`` held-out seeds per sub-domain, and
    the number of held-out seeds from index 0 the selection reaches (the ``eval_problems`` a
    training run needs to have skipped them)."""
    import gymnasium

    if problems < 1 or skip < 0:
        raise ValueError(f"need problems >= 1 and skip >= 0, got {problems}, {skip}")
    if by == "env":
        if len(envs) < 2:
            raise ValueError("--by env needs several envs (--env A,B); for one Math-RLVR-v0 env use --by family")
        seeds = [EVAL_SEED_BASE + skip + i for i in range(problems)]
        return {env_id: (env_id, seeds) for env_id in envs}, skip + problems
    if by != "family":
        raise ValueError(f"--by must be family or env, got {by!r}")
    if len(envs) != 1:
        raise ValueError(f"--by family splits one env, got {len(envs)}: {list(envs)}")
    env = gymnasium.make(envs[0], **(env_kwargs or {}))
    families = sorted(getattr(env.unwrapped, "mixture", None) or {})
    if not families:
        raise ValueError(f"--by family needs an env with families (e.g. Math-RLVR-v0); {envs[0]} has none")
    chosen: dict[str, list[int]] = {f: [] for f in families}
    index = skip
    limit = skip + 200 * problems * len(families)
    while any(len(s) < problems for s in chosen.values()):
        if index >= limit:
            short = [f for f, s in chosen.items() if len(s) < problems]
            raise ValueError(f"found fewer than {problems} held-out problems of {short} in {limit - skip} seeds")
        _, info = env.reset(seed=EVAL_SEED_BASE + index)
        family = info["problem"]["metadata"]["family"]
        if len(chosen[family]) < problems:
            chosen[family].append(EVAL_SEED_BASE + index)
        index += 1
    env.close()
    return {f: (envs[0], s) for f, s in chosen.items()}, index


def correct_counts(
    model: str | Path,
    groups: dict[str, tuple[str, list[int]]],
    *,
    env_kwargs: dict[str, Any] | None = None,
    samples: int,
    temperature: float = 1.0,
    max_new_tokens: int = 256,
    batch_episodes: int = 256,
    device: str = "auto",
) -> dict[str, list[int]]:
    """{sub-domain: correct samples out of ``samples`` for each of its problems} for ``model``
    (``"tiny"`` or a model folder) on ``groups`` (from :func:`probe_problems`), sampled in batches
    of ``batch_episodes`` with the probe's fixed sampling seed."""
    from thinkgym.agents.grpo.chat import ChatFormat
    from thinkgym.agents.grpo.config import GRPOConfig
    from thinkgym.agents.grpo.sampling import HFSampler, step_seed
    from thinkgym.agents.grpo.trainer import LocalRollouts, resolve_device
    from thinkgym.agents.models import load_model

    policy, tokenizer = load_model(model)
    chat = ChatFormat(tokenizer)
    sampler = HFSampler(policy.to(resolve_device(device)).eval(), chat)
    counts = {}
    for name, (env_id, seeds) in groups.items():
        cfg = GRPOConfig(env=env_id, env_kwargs=dict(env_kwargs or {}), max_new_tokens=max_new_tokens)
        rollouts = LocalRollouts(sampler, chat, cfg)
        flat = [s for s in seeds for _ in range(samples)]
        correct: list[bool] = []
        try:
            for start in range(0, len(flat), batch_episodes):
                episodes = rollouts.play(
                    flat[start : start + batch_episodes],
                    temperature=temperature,
                    seed=step_seed(PROBE_SAMPLING_SEED, start),
                )
                correct += [e.correct for e in episodes]
        finally:
            rollouts.close()
        counts[name] = [sum(correct[i * samples : (i + 1) * samples]) for i in range(len(seeds))]
    return counts


def summarise(subdomain: str, counts: Sequence[int], samples: int, k: int) -> dict[str, Any]:
    """A table row: pass@1 and pass@k (the unbiased estimator averaged over the problems whose
    correct counts are ``counts``) with their 95% Wilson intervals over the problems."""
    if not 1 <= k <= samples:
        raise ValueError(f"need 1 <= k <= samples, got k={k}, samples={samples}")
    row: dict[str, Any] = {"subdomain": subdomain, "problems": len(counts), "samples": samples}
    for j in sorted({1, k}):
        value = sum(pass_at_k(samples, c, j) for c in counts) / len(counts)
        lo, hi = wilson(value, len(counts))
        row.update({f"pass@{j}": round(value, 6), f"pass@{j}_lo": round(lo, 6), f"pass@{j}_hi": round(hi, 6)})
    return row


def paired_difference(
    before: Sequence[int], after: Sequence[int], samples: int, k: int, z: float = 1.96
) -> tuple[float, float, float]:
    """(mean, lo, hi): the mean over problems of pass@k(after) − pass@k(before), two models'
    correct counts on the *same* problems, with a normal-approximation 95% interval of the mean
    (sd of the per-problem differences / sqrt(n)). Pairing removes the problem-to-problem spread
    that makes two separate Wilson intervals overlap."""
    if len(before) != len(after) or not before:
        raise ValueError(f"need the same non-empty problems, got {len(before)} and {len(after)} counts")
    diffs = [pass_at_k(samples, b, k) - pass_at_k(samples, a, k) for a, b in zip(before, after, strict=True)]
    n = len(diffs)
    mean = sum(diffs) / n
    sd = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1)) if n > 1 else 0.0
    half = z * sd / math.sqrt(n)
    return mean, mean - half, mean + half


def score_model(
    model: str | Path,
    groups: dict[str, tuple[str, list[int]]],
    *,
    samples: int,
    k: int,
    **kwargs: Any,
) -> list[dict[str, Any]]:
    """One row per sub-domain of ``groups``: :func:`summarise` of :func:`correct_counts`
    (``kwargs`` go to it: ``env_kwargs``, ``temperature``, ``max_new_tokens``, ...)."""
    if not 1 <= k <= samples:
        raise ValueError(f"need 1 <= k <= samples, got k={k}, samples={samples}")
    counts = correct_counts(model, groups, samples=samples, **kwargs)
    return [summarise(name, c, samples, k) for name, c in counts.items()]


def best_checkpoints(rows: Sequence[dict[str, Any]], k: int) -> dict[str, dict[str, Any]]:
    """{sub-domain: the row of its best checkpoint}: highest pass@k, ties to the higher pass@1,
    then to the earlier checkpoint (lower ``step``, then ``checkpoint`` name)."""
    best: dict[str, dict[str, Any]] = {}

    def key(r: dict[str, Any]) -> tuple:
        step = r.get("step")
        return (-r[f"pass@{k}"], -r["pass@1"], step is None, step if step is not None else 0, str(r["checkpoint"]))

    for row in rows:
        current = best.get(row["subdomain"])
        if current is None or key(row) < key(current):
            best[row["subdomain"]] = row
    return best


def probe(
    checkpoints: str | Path,
    envs: Sequence[str],
    *,
    by: str = "family",
    k: int = 8,
    problems: int = 64,
    samples: int | None = None,
    skip: int = 0,
    env_kwargs: dict[str, Any] | None = None,
    temperature: float = 1.0,
    max_new_tokens: int = 256,
    device: str = "auto",
    progress: bool = True,
) -> dict[str, Any]:
    """Probes every checkpoint under ``checkpoints`` (:func:`find_checkpoints`); returns
    ``{"rows", "best", "k", "scanned", "skip", "seeds"}``. ``samples`` defaults to ``2 * k``."""
    samples = 2 * k if samples is None else samples
    found = find_checkpoints(checkpoints)
    groups, scanned = probe_problems(envs, env_kwargs, by, problems, skip)
    run = _run_config(Path(checkpoints))
    if run is not None and run["eval_problems"] < scanned:
        raise ValueError(
            f"the probe problems are held-out seeds up to index {scanned}, but the run in {checkpoints} held out "
            f"only eval_problems={run['eval_problems']}, so it may have trained on some of them; "
            f"rerun sft/train with --eval-problems >= {scanned}, or lower --problems"
        )
    from tqdm.auto import tqdm

    rows = []
    for name, folder in tqdm(found, desc="probe", disable=not progress):
        for row in score_model(
            folder,
            groups,
            env_kwargs=env_kwargs,
            samples=samples,
            k=k,
            temperature=temperature,
            max_new_tokens=max_new_tokens,
            device=device,
        ):
            rows.append({"checkpoint": name, "step": _step_of(name), **row})
    return {
        "rows": rows,
        "best": {
            d: {"checkpoint": r["checkpoint"], "path": str(dict(found)[r["checkpoint"]])}
            for d, r in best_checkpoints(rows, k).items()
        },
        "k": k,
        "scanned": scanned,
        "skip": skip,
        "seeds": {d: seeds for d, (_, seeds) in groups.items()},
    }


def plot_probe(rows: Sequence[dict[str, Any]], k: int, path: str | Path, title: str = "") -> Path:
    """pass@k (solid) and pass@1 (dashed) against the checkpoint step, one colour per sub-domain,
    the best checkpoint of each ringed, with the Wilson intervals of pass@k as bands."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    best = best_checkpoints(rows, k)
    fig, ax = plt.subplots(figsize=(7.5, 4.5))
    for index, domain in enumerate(dict.fromkeys(r["subdomain"] for r in rows)):
        mine = [r for r in rows if r["subdomain"] == domain]
        xs = [r["step"] if r["step"] is not None else i for i, r in enumerate(mine)]
        color = f"C{index}"
        ax.plot(xs, [r[f"pass@{k}"] for r in mine], "-o", color=color, markersize=4, label=f"{domain} pass@{k}")
        ax.fill_between(
            xs, [r[f"pass@{k}_lo"] for r in mine], [r[f"pass@{k}_hi"] for r in mine], color=color, alpha=0.12
        )
        if k != 1:
            ax.plot(xs, [r["pass@1"] for r in mine], "--", color=color, alpha=0.8, label=f"{domain} pass@1")
        chosen = best[domain]
        x_best = xs[mine.index(chosen)]
        ax.plot([x_best], [chosen[f"pass@{k}"]], "o", markersize=12, markerfacecolor="none", color=color)
    ax.set_xlabel("checkpoint step")
    ax.set_ylabel("pass rate (held-out)")
    ax.set_ylim(0, min(1.0, max(r[f"pass@{k}_hi"] for r in rows) + 0.05))
    ax.grid(alpha=0.3)
    ax.set_title(title or f"pass@{k} per sub-domain (ringed: best checkpoint)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def write_probe(result: dict[str, Any], out: str | Path, title: str = "") -> dict[str, Path]:
    """``probe.csv``, ``probe.json`` (rows, best, seeds), ``probe.md`` and ``probe.png`` under ``out``."""
    from thinkgym.experiments.sweep import markdown_table, write_results

    out = Path(out)
    paths = write_results(result["rows"], out, "probe")
    paths["json"].write_text(json.dumps(result, indent=2) + "\n")
    best = "\n".join(f"- {d}: {b['checkpoint']} ({b['path']})" for d, b in result["best"].items())
    paths["md"].write_text(f"{markdown_table(result['rows'])}\n\nbest checkpoint by pass@{result['k']}:\n{best}\n")
    paths["png"] = plot_probe(result["rows"], result["k"], out / "probe.png", title)
    return paths
