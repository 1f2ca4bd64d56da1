"""Seconds per GRPO update: the in-process learner against 2 data-parallel Ray learners (DDP, and
FSDP2 with ``--shard``), on CPU with gloo, for a random ~10M-parameter Qwen2-style model.

Every side runs the same update (:func:`thinkgym.agents.grpo.update.update` in-process,
:meth:`thinkgym.agents.grpo.distributed.LearnerGroup.update` on the learners) on the same random
batch of ``--groups`` x ``--group-size`` episodes with ``--tokens`` completion tokens each; the
learners' time includes sending the batch and getting the new weights back through the object
store. Sides alternate ``--repeats`` times after one warm-up update each, and the median is
reported, so a shared machine's changing load hits all sides alike. The in-process learner runs
with 1 and with 2 torch threads; each Ray learner has 1 CPU and 1 thread.

With ``--rollouts`` it times whole steps instead (sampling on Saturn-SAT-v0, advantages, update)
of 2 DDP learners, with the driver sampling the batch and the weights sent back every step,
against ``learner_rollouts`` (each learner samples its half of the groups, no weights sent).

Run:  python benchmarks/bench_learners.py [--hidden 384 --layers 8 --groups 4 --group-size 4
      --tokens 32 --prompt 16 --micro-batch 8 --repeats 3] [--rollouts]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np  # noqa: E402
import ray  # noqa: E402
import torch  # noqa: E402

from thinkgym.agents.grpo.config import GRPOConfig  # noqa: E402
from thinkgym.agents.grpo.distributed import LearnerGroup  # noqa: E402
from thinkgym.agents.grpo.loss import collate  # noqa: E402
from thinkgym.agents.grpo.update import update  # noqa: E402
from thinkgym.agents.models import build_tiny_model, build_tiny_tokenizer, load_model  # noqa: E402


def random_batch(groups: int, group_size: int, tokens: int, prompt: int, vocab: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    rows, adv = [], []
    for _ in range(groups):
        rewards = rng.integers(0, 2, group_size).astype(float)
        adv += list((rewards - rewards.mean()) / (rewards.std() + 1e-6))
        for _ in range(group_size):
            rows.append(
                (rng.integers(0, vocab, prompt).tolist(), rng.integers(0, vocab, tokens).tolist(), [1] * tokens)
            )
    return collate(rows, adv, list(range(len(rows))), pad_id=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--groups", type=int, default=4)
    parser.add_argument("--group-size", type=int, default=4)
    parser.add_argument("--tokens", type=int, default=32, help="completion tokens per episode")
    parser.add_argument("--prompt", type=int, default=16, help="prompt tokens per episode")
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-shard", action="store_true", help="skip the FSDP2 side")
    parser.add_argument("--rollouts", action="store_true", help="whole steps: driver vs learner rollouts")
    args = parser.parse_args()

    folder = tempfile.mkdtemp(prefix="bench_learners_")
    tokenizer = build_tiny_tokenizer()
    build_tiny_model(len(tokenizer), hidden_size=args.hidden, num_layers=args.layers).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    base = dict(model=folder, lr=1e-5, micro_batch_size=args.micro_batch, max_new_tokens=args.tokens, steps=1000)
    batch = random_batch(args.groups, args.group_size, args.tokens, args.prompt, len(tokenizer))
    sizes = [args.group_size] * args.groups

    if args.rollouts:
        return rollout_steps(args, folder, base)
    local, _ = load_model(folder)
    n_params = sum(p.numel() for p in local.parameters())
    local_cfg = GRPOConfig(**base)
    local_opt = torch.optim.AdamW(local.parameters(), lr=local_cfg.lr, weight_decay=0.0)

    def in_process(threads: int):
        def run() -> None:
            torch.set_num_threads(threads)
            update(local, None, local_opt, batch, sum(sizes), local_cfg, torch.device("cpu"))

        return run

    # 4 logical CPUs: both learner groups (2 x 1 CPU each) stay alive side by side, so their updates
    # can alternate with the in-process ones; only one side runs at a time
    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    sides = {"in-process, 1 thread": in_process(1), "in-process, 2 threads": in_process(2)}
    groups = []
    for shard in [False] if args.no_shard else [False, True]:
        cfg = GRPOConfig(**base, num_learners=2, shard=shard)
        model = load_model(folder)[0]
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr)
        group = LearnerGroup(cfg, model, opt)
        groups.append(group)
        sides[f"2 Ray learners, {'FSDP2' if shard else 'DDP'}"] = lambda g=group, m=model: (
            torch.set_num_threads(1),
            g.update(m, batch, sizes),
        )
    times: dict[str, list[float]] = {name: [] for name in sides}
    for repeat in range(args.repeats + 1):
        for name, run in sides.items():
            began = time.perf_counter()
            run()
            if repeat:  # the first round is the warm-up
                times[name].append(time.perf_counter() - began)
    for group in groups:
        group.close()
    ray.shutdown()

    base_time = statistics.median(times["in-process, 1 thread"])
    result = {
        "params": n_params,
        "batch": f"{args.groups}x{args.group_size} episodes, {args.tokens} completion + {args.prompt} prompt tokens",
        "cpus": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "seconds_per_update": {name: round(statistics.median(t), 3) for name, t in times.items()},
        "speedup_vs_in_process_1_thread": {
            name: round(base_time / statistics.median(t), 2) for name, t in times.items()
        },
    }
    print(json.dumps(result, indent=2))


def rollout_steps(args: argparse.Namespace, folder: str, base: dict) -> None:
    """Seconds per step (sample + advantages + update) of 2 DDP learners, driver vs learner rollouts."""
    from thinkgym.agents.grpo.advantages import episode_advantages, resolve_shaper
    from thinkgym.agents.grpo.chat import ChatFormat
    from thinkgym.agents.grpo.sampling import HFSampler
    from thinkgym.agents.grpo.trainer import LocalRollouts, build_batch

    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    torch.set_num_threads(1)
    env = {"n": 1, "k": 5, "l": 3, "prompt_template": "{instance}"}
    seeds = [s for s in range(args.groups) for _ in range(args.group_size)]
    sides, groups = {}, []
    for own in (False, True):
        cfg = GRPOConfig(**base, env_kwargs=env, group_size=args.group_size, num_learners=2, learner_rollouts=own)
        model, tokenizer = load_model(folder)
        chat = ChatFormat(tokenizer)
        group = LearnerGroup(cfg, model, torch.optim.AdamW(model.parameters(), lr=cfg.lr))
        groups.append(group)
        rollouts = group.rollouts() if own else LocalRollouts(HFSampler(model, chat), chat, cfg)
        shaper = resolve_shaper(cfg.advantage, cfg.loss_type)

        def step(rollouts=rollouts, group=group, model=model, chat=chat, shaper=shaper) -> None:
            episodes = rollouts.play(seeds, temperature=1.0, seed=0)
            played = [episodes[g * args.group_size : (g + 1) * args.group_size] for g in range(args.groups)]
            batch = build_batch(played, episode_advantages(played, shaper), chat.pad_id)
            group.update(model, batch, [len(g) for g in played])

        sides["driver samples, 2 DDP learners" if not own else "learners sample (--learner-rollouts)"] = step
    times: dict[str, list[float]] = {name: [] for name in sides}
    for repeat in range(args.repeats + 1):
        for name, run in sides.items():
            began = time.perf_counter()
            run()
            if repeat:
                times[name].append(time.perf_counter() - began)
    for group in groups:
        group.close()
    ray.shutdown()
    driver = statistics.median(times["driver samples, 2 DDP learners"])
    speedups = {name: round(driver / statistics.median(t), 2) for name, t in times.items()}
    print(
        json.dumps(
            {
                "batch": f"{args.groups}x{args.group_size} episodes, up to {args.tokens} new tokens, Saturn-SAT-v0",
                "cpus": os.cpu_count(),
                "seconds_per_step": {name: round(statistics.median(t), 3) for name, t in times.items()},
                "speedup_vs_driver_sampling": speedups,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
