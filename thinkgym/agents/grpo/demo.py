"""The training section of ``thinkgym demo``: :mod:`.recipe`'s SFT warm start, then GRPO, on the
offline tiny model, with its reward curve and held-out pass@1 before and after."""

from __future__ import annotations

import json
from pathlib import Path

from thinkgym.agents.grpo.recipe import grpo_config, sft_config

__all__ = ["demo_training"]

HELD_OUT = 128


def demo_training(out: Path, *, steps: int = 60, seed: int = 0) -> str:
    """Runs SFT (300 steps) then ``steps`` GRPO steps; writes ``training.png``; returns markdown."""
    import torch

    from thinkgym.agents.grpo.sft import supervise
    from thinkgym.agents.grpo.trainer import evaluate_model, train

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # faster than two threads for a model this small
    try:
        supervise(sft_config(out / "sft", seed=seed, held_out=HELD_OUT))
        cfg = grpo_config(out / "sft" / "model", out / "grpo", steps=steps, seed=seed, held_out=HELD_OUT)
        before = evaluate_model(cfg.model, cfg)["pass@1"]
        history = train(cfg)
    finally:
        torch.set_num_threads(threads)
    after = history[-1].get("eval/pass@1", float("nan"))
    _plot(history, out / "training.png")
    (out / "training.json").write_text(json.dumps(history, indent=1) + "\n")
    return (
        "## 4. Training\n\n"
        f"The bundled GRPO agent on the offline tiny model (random weights, byte-level tokenizer): a 300-step SFT "
        f"warm start on reference answers, then {steps} GRPO steps (8 problems x 16 samples each) on Saturn-SAT-v0 "
        f"with n=1, k=8, l=3 (a random guess is right 1 time in 8). Held-out pass@1 ({HELD_OUT} problems never "
        f"trained on, one sample each at temperature 1): **{before:.3f} after SFT, {after:.3f} after GRPO**. "
        "Metrics per step: `grpo/metrics.jsonl`.\n\n![training](training.png)\n"
    )


def _plot(history: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = [h["step"] for h in history]
    rewards = [h["reward_mean"] for h in history]
    window = max(1, min(10, len(rewards) // 4))
    smooth = [
        sum(rewards[max(0, i - window + 1) : i + 1]) / len(rewards[max(0, i - window + 1) : i + 1])
        for i in range(len(rewards))
    ]
    fig, ax = plt.subplots(figsize=(6.5, 3.6))
    ax.plot(steps, rewards, marker=".", alpha=0.45, label="mean reward of the step's 128 rollouts")
    ax.plot(steps, smooth, linewidth=2.2, label=f"moving average over {window} steps")
    ax.set_xlabel("GRPO step")
    ax.set_ylabel("reward (1 correct, 0 wrong, -1 no answer)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.suptitle("GRPO on Saturn-SAT-v0 (n=1, k=8, l=3), tiny model")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
