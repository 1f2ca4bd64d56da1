"""VibeThinker's Spectrum-to-Signal recipe on the tiny model, against the plain path (docs/grpo.md).

    python examples/spectrum_to_signal.py --out runs/s2s

Task: Math-RLVR-v0 at level 1, a mixture of three families where the tiny model learns something
in a few hundred SFT steps (number_theory: gcds and divisor counts with few distinct answers;
linear_equation: integer x in -10..10; counting: small binomials and permutations).

1. SFT on reference answers of the mixture, keeping a checkpoint every ``--save-every`` steps.
2. Probe every checkpoint: pass@k per family on the *probe* problems (held-out seeds 0..P-1).
3. Merge the best checkpoint of each family (equal weights per family, so a checkpoint that is
   best for two families weighs 2/3).
4. GRPO from the merged model with the ``mgpo`` shaper (the recipe), and GRPO from the last SFT
   checkpoint with the plain GRPO advantage (the plain path): same steps, seed and problems.
5. pass@1 and pass@k per family of every stage on the *test* problems (the held-out seeds after
   the probe's, so the checkpoint choice is not scored on the problems that made it), with 95%
   Wilson intervals over the test problems; and the paired differences merged − last and
   recipe − plain, problem by problem on the same test problems, with 95% normal intervals.

SFT and GRPO run with ``eval_problems`` = every held-out seed the probe and test sets reach, so
neither trains on any of those problems (they skip them by content id).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch

from thinkgym.agents.grpo.config import GRPOConfig, SFTConfig
from thinkgym.agents.grpo.sft import supervise
from thinkgym.agents.grpo.trainer import train
from thinkgym.agents.merge import merge_models
from thinkgym.experiments.probe import (
    correct_counts,
    find_checkpoints,
    paired_difference,
    probe,
    probe_problems,
    summarise,
    write_probe,
)
from thinkgym.experiments.sweep import markdown_table, write_results

ENV = "Math-RLVR-v0"
ENV_KWARGS = {"mixture": {"number_theory": 1, "linear_equation": 1, "counting": 1}, "level": 1}
MAX_NEW_TOKENS = 12  # "\boxed{-120}" plus the end-of-turn token


def grpo(model: str | Path, out: Path, advantage: str, args: argparse.Namespace, held_out: int) -> Path:
    """GRPO on the mixture from ``model``; returns the final model folder."""
    cfg = GRPOConfig(
        env=ENV,
        env_kwargs=ENV_KWARGS,
        model=str(model),
        out=str(out),
        seed=args.seed,
        steps=args.grpo_steps,
        group_size=8,
        prompts_per_step=8,
        max_new_tokens=MAX_NEW_TOKENS,
        advantage=advantage,
        advantage_kwargs={"lam": args.lam} if advantage == "mgpo" else {},
        lr=1e-3,
        warmup_steps=max(1, args.grpo_steps // 4),
        micro_batch_size=64,
        eval_every=0,  # the stages are scored below, on the test problems
        eval_problems=held_out,
        save_every=args.grpo_steps,
        progress=False,
    )
    train(cfg)
    return out / "checkpoints" / f"step-{args.grpo_steps:06d}" / "model"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="runs/s2s")
    parser.add_argument("--sft-steps", type=int, default=200)
    parser.add_argument("--save-every", type=int, default=50)
    parser.add_argument("--grpo-steps", type=int, default=20)
    parser.add_argument("--probe-problems", type=int, default=24, help="probe problems per family")
    parser.add_argument("--test-problems", type=int, default=40, help="test problems per family")
    parser.add_argument("--k", type=int, default=4)
    parser.add_argument("--samples", type=int, default=8, help="samples per problem (n of pass@k)")
    parser.add_argument("--lam", type=float, default=1.0, help="MGPO lambda (the report does not give its value)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1: fastest on a busy machine)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    out = Path(args.out)
    began = time.perf_counter()

    # held-out problems: the probe set first, the test set after it; training skips both
    _, probe_scanned = probe_problems([ENV], ENV_KWARGS, "family", args.probe_problems)
    test_groups, held_out = probe_problems([ENV], ENV_KWARGS, "family", args.test_problems, skip=probe_scanned)

    # 1. SFT with checkpoints
    supervise(
        SFTConfig(
            env=ENV,
            env_kwargs=ENV_KWARGS,
            out=str(out / "sft"),
            seed=args.seed,
            steps=args.sft_steps,
            batch_size=16,
            lr=3e-3,
            warmup_steps=20,
            save_every=args.save_every,
            eval_problems=held_out,
            progress=False,
        )
    )
    # 2. probe: pass@k per family of every checkpoint, on the probe problems
    result = probe(
        out / "sft",
        [ENV],
        by="family",
        k=args.k,
        problems=args.probe_problems,
        samples=args.samples,
        env_kwargs=ENV_KWARGS,
        max_new_tokens=MAX_NEW_TOKENS,
        progress=False,
    )
    paths = write_probe(result, out / "probe", title=f"SFT checkpoints, pass@{args.k} per family (probe problems)")
    print(f"## Probe (pass@{args.k} on {args.probe_problems} probe problems per family)\n")
    print(paths["md"].read_text())

    # 3. merge the per-family experts; 4. GRPO both ways
    experts = [best["path"] for best in result["best"].values()]
    merged = merge_models(experts, out / "merged")
    last = find_checkpoints(out / "sft")[-1][1]
    plain = grpo(last, out / "grpo-plain", "grpo", args, held_out)
    recipe = grpo(merged, out / "grpo-mgpo", "mgpo", args, held_out)

    # 5. every stage on the test problems
    stages = {
        "SFT, last checkpoint": last,
        "SFT, merged experts": merged,
        "plain: last + GRPO": plain,
        "recipe: merged + MGPO": recipe,
    }
    k = f"pass@{args.k}"
    counts, rows = {}, []
    for stage, model in stages.items():
        counts[stage] = correct_counts(
            model, test_groups, env_kwargs=ENV_KWARGS, samples=args.samples, max_new_tokens=MAX_NEW_TOKENS
        )
        for family, family_counts in counts[stage].items():
            row = summarise(family, family_counts, args.samples, args.k)
            rows.append(
                {
                    "stage": stage,
                    "family": family,
                    "pass@1": f"{row['pass@1']:.3f} [{row['pass@1_lo']:.3f}, {row['pass@1_hi']:.3f}]",
                    k: f"{row[k]:.3f} [{row[k + '_lo']:.3f}, {row[k + '_hi']:.3f}]",
                }
            )
    # the same test problems for every stage, so compare them problem by problem
    pairs = [("SFT, last checkpoint", "SFT, merged experts"), ("plain: last + GRPO", "recipe: merged + MGPO")]
    differences = []
    for before, after in pairs:
        for family in counts[before]:
            row = {"change": f"{after} − {before}", "family": family}
            for j in (1, args.k):
                mean, lo, hi = paired_difference(counts[before][family], counts[after][family], args.samples, j)
                row[f"Δpass@{j}"] = f"{mean:+.3f} [{lo:+.3f}, {hi:+.3f}]"
            differences.append(row)
    write_results(rows, out, "stages")
    write_results(differences, out, "differences")
    (out / "experts.json").write_text(json.dumps(result["best"], indent=2) + "\n")
    print(
        f"## Stages on the test problems ({args.test_problems} per family, {args.samples} samples each; "
        f"95% Wilson intervals over problems)\n"
    )
    print(markdown_table(rows))
    print("\n## Paired differences on the same test problems (95% normal intervals over problems)\n")
    print(markdown_table(differences))
    print(f"\nexperts: { {d: b['checkpoint'] for d, b in result['best'].items()} }; merged into {merged}")
    print(
        f"held-out seeds: probe 0..{probe_scanned - 1}, test {probe_scanned}..{held_out - 1} (eval_problems={held_out})"
    )
    print(f"wall time {time.perf_counter() - began:.0f} s; tables in {out}/probe and {out}/stages.md")


if __name__ == "__main__":
    main()
