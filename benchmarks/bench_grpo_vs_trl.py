"""GRPO training throughput: thinkgym's agent side by side with TRL's ``GRPOTrainer``.

Both train the same offline tiny model (``load_model("tiny")``, same seed) on the same
Saturn-SAT-v0 prompts through the same chat template, with identical settings: P prompts x G
samples per step, one optimiser step per rollout batch (no micro-batching), the same completion
budget and stop tokens (end of turn and EOS), temperature 1, top-p 1, lr, beta = 0 (no reference
model), the GRPO loss, gradient clipping 1.0, no gradient checkpointing, no vLLM. TRL scores completions with thinkgym's
``trl_reward_func`` on the same env. The measure is completion tokens per second of training
(generation + scoring + update), over every step but the first (warm-up), timed per step on both
sides (TRL: a ``TrainerCallback`` from ``on_step_begin`` to ``on_step_end``). The two run
alternately ``--repeats`` times and the best run of each is reported, so a shared machine's
changing load does not decide the ratio.

Run:  python benchmarks/bench_grpo_vs_trl.py [--steps 8 --prompts 8 --group-size 8 --max-new-tokens 64 --threads 1
      --repeats 2]
Needs ``pip install trl`` (it pulls accelerate and datasets); nothing is downloaded at run time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import gymnasium  # noqa: E402
import torch  # noqa: E402

import thinkgym  # noqa: E402, F401  (registers the envs)
from thinkgym.agents.grpo.chat import ChatFormat  # noqa: E402
from thinkgym.agents.grpo.config import GRPOConfig  # noqa: E402
from thinkgym.agents.grpo.rollout import held_out_seeds  # noqa: E402
from thinkgym.agents.grpo.trainer import train  # noqa: E402
from thinkgym.agents.models import load_model  # noqa: E402
from thinkgym.rewards.trl import trl_reward_func  # noqa: E402

ENV = "Saturn-SAT-v0"


def run_thinkgym(args: argparse.Namespace, out: str) -> dict[str, float]:
    cfg = GRPOConfig(
        env=ENV,
        env_kwargs=args.env_kwargs,
        model="tiny",
        out=out,
        steps=args.steps,
        seed=args.seed,
        prompts_per_step=args.prompts,
        group_size=args.group_size,
        max_new_tokens=args.max_new_tokens,
        max_turns=1,
        lr=args.lr,
        beta=0.0,
        loss_type="grpo",
        micro_batch_size=args.prompts * args.group_size,
        eval_every=0,
        save_every=10**9,
        progress=False,
    )
    history = train(cfg)[1:]  # the first step is warm-up
    tokens = sum(m["response_length"] * args.prompts * args.group_size for m in history)
    seconds = sum(m["step_s"] for m in history)
    return {
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_s": tokens / seconds,
        "median_step_s": statistics.median(m["step_s"] for m in history),
        "reward_mean": statistics.mean(m["reward_mean"] for m in history),
    }


def run_trl(args: argparse.Namespace, out: str) -> dict[str, float]:
    from datasets import Dataset
    from transformers import TrainerCallback
    from transformers.trainer_callback import PrinterCallback
    from trl import GRPOConfig as TRLConfig
    from trl import GRPOTrainer

    env = gymnasium.make(ENV, **args.env_kwargs)
    rows = []
    for seed in range(args.seed * 2**40, args.seed * 2**40 + args.prompts * args.steps):
        prompt, info = env.reset(seed=seed)
        rows.append({"prompt": [{"role": "user", "content": prompt}], "problem": json.dumps(info["problem"])})
    model, tokenizer = load_model("tiny", seed=args.seed)
    # stop where thinkgym stops: at the chat template's end of turn as well as at EOS (as a Qwen
    # checkpoint's generation_config says; the tiny model has none)
    model.generation_config.eos_token_id = sorted(ChatFormat(tokenizer).stop_ids)

    class StepTimer(TrainerCallback):
        def __init__(self) -> None:
            self.times: list[float] = []

        def on_step_begin(self, *_: object, **__: object) -> None:
            self.began = time.perf_counter()

        def on_step_end(self, *_: object, **__: object) -> None:
            self.times.append(time.perf_counter() - self.began)

    config = TRLConfig(
        output_dir=out,
        max_steps=args.steps,
        per_device_train_batch_size=args.prompts * args.group_size,
        num_generations=args.group_size,
        max_completion_length=args.max_new_tokens,
        temperature=1.0,
        top_p=1.0,
        learning_rate=args.lr,
        lr_scheduler_type="constant",
        beta=0.0,
        loss_type="grpo",
        max_grad_norm=1.0,
        gradient_accumulation_steps=1,
        steps_per_generation=1,
        num_iterations=1,
        gradient_checkpointing=False,
        use_vllm=False,
        use_cpu=True,
        bf16=False,
        logging_steps=1,
        report_to="none",
        save_strategy="no",
        shuffle_dataset=False,
        seed=args.seed,
        disable_tqdm=True,
    )
    timer = StepTimer()
    trainer = GRPOTrainer(
        model=model,
        reward_funcs=trl_reward_func(env),
        args=config,
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[timer],
    )
    trainer.remove_callback(PrinterCallback)  # no per-step log dicts on stdout
    trainer.train()
    logs = [log for log in trainer.state.log_history if "completions/mean_length" in log][1:]
    tokens = sum(log["completions/mean_length"] * args.prompts * args.group_size for log in logs)
    seconds = sum(timer.times[1:])
    return {
        "tokens": tokens,
        "seconds": seconds,
        "tokens_per_s": tokens / seconds,
        "median_step_s": statistics.median(timer.times[1:]),
        "reward_mean": statistics.mean(log["reward"] for log in logs),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--prompts", type=int, default=8, help="prompts per step")
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads (both sides)")
    parser.add_argument("--env-kwargs", type=json.loads, default={"level": 1})
    parser.add_argument("--repeats", type=int, default=2, help="interleaved runs per side; the best is reported")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    assert held_out_seeds(1)[0] > args.seed * 2**40 + args.prompts * args.steps  # TRL's prompts are training seeds
    import transformers
    import trl

    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__} "
        f"({args.threads} threads), transformers {transformers.__version__}, trl {trl.__version__}"
    )
    print(
        f"settings: {ENV} {args.env_kwargs}, tiny model, {args.prompts} prompts x G={args.group_size}, "
        f"{args.max_new_tokens} new tokens, {args.steps} steps (first one not timed)\n"
    )
    results: dict[str, list[dict[str, float]]] = {"thinkgym": [], "TRL": []}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):  # interleaved, so a change in machine load hits both sides
            results["thinkgym"].append(run_thinkgym(args, os.path.join(tmp, f"thinkgym{r}")))
            results["TRL"].append(run_trl(args, os.path.join(tmp, f"trl{r}")))
    best = {name: max(runs, key=lambda x: x["tokens_per_s"]) for name, runs in results.items()}
    print(f"{'':<10}{'tokens/s (best)':>16}{'all runs':>22}{'median step s':>15}{'reward':>9}")
    for name, r in best.items():
        runs = " ".join(f"{x['tokens_per_s']:.0f}" for x in results[name])
        print(f"{name:<10}{r['tokens_per_s']:>16.0f}{runs:>22}{r['median_step_s']:>15.2f}{r['reward_mean']:>9.3f}")
    print(
        f"\nthroughput ratio thinkgym / TRL (best of {args.repeats}): "
        f"{best['thinkgym']['tokens_per_s'] / best['TRL']['tokens_per_s']:.2f}x"
    )


if __name__ == "__main__":
    main()
