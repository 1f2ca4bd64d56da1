"""GPU check of the GRPO agent: a short bf16 GRPO job on a random Qwen2-style model of a few
hundred million parameters, with the in-process learner on one GPU, then with one Ray learner
per visible GPU (NCCL, DDP; and FSDP2), and with the vLLM sampler when vLLM is installed. Prints
generated tokens/s (after the first step) and the peak GPU memory of each learner.

Without CUDA it says so and exits 0. Meant to finish in under 8 minutes on one node.

Run:  python benchmarks/gpu_check.py [--hidden 1024 --layers 16 --steps 4]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def peak_gib() -> float:
    import torch

    return round(torch.cuda.max_memory_allocated() / 2**30, 2)


def run(name: str, folder: str, out: str, steps: int, **overrides) -> dict:
    import torch

    from thinkgym.agents.grpo import distributed
    from thinkgym.agents.grpo.config import GRPOConfig
    from thinkgym.agents.grpo.trainer import train

    peaks: list[float] = []
    close = distributed.LearnerGroup.close

    def close_and_measure(group):  # the learners' peaks, read just before they end
        peaks.extend(group.ray.get([a.__ray_call__.remote(lambda self: peak_gib()) for a in group.actors]))
        close(group)

    distributed.LearnerGroup.close = close_and_measure
    torch.cuda.reset_peak_memory_stats()
    cfg = GRPOConfig(
        model=folder,
        out=out,
        steps=steps,
        prompts_per_step=8,
        group_size=8,
        max_new_tokens=128,
        micro_batch_size=16,
        lr=1e-6,
        eval_every=0,
        save_every=10_000,
        progress=False,
        **overrides,
    )
    began = time.perf_counter()
    try:
        history = train(cfg)
    finally:
        distributed.LearnerGroup.close = close
    rates = [m["tokens_per_s"] for m in history[1:]] or [history[0]["tokens_per_s"]]
    result = {
        "run": name,
        "tokens_per_s": round(sum(rates) / len(rates), 1),
        "step_s": round(sum(m["step_s"] for m in history[1:]) / max(1, len(history) - 1), 2),
        "driver_peak_gib": peak_gib(),
        "learner_peak_gib": peaks or [peak_gib()],
        "wall_s": round(time.perf_counter() - began, 1),
    }
    print(json.dumps(result), flush=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--layers", type=int, default=16)
    parser.add_argument("--steps", type=int, default=4)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("gpu_check: torch is not installed; nothing to check")
        return 0
    if not torch.cuda.is_available():
        print("gpu_check: no CUDA device visible; nothing to check (the CPU tests cover the same code with gloo)")
        return 0
    import ray

    from thinkgym.agents.models import build_tiny_model, build_tiny_tokenizer

    gpus = torch.cuda.device_count()
    print(f"gpu_check: {gpus} x {torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
    root = tempfile.mkdtemp(prefix="gpu_check_")
    folder = os.path.join(root, "model")
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(
        len(tokenizer),
        hidden_size=args.hidden,
        num_layers=args.layers,
        num_attention_heads=16,
        num_key_value_heads=4,
        intermediate_size=4 * args.hidden,
    )
    print(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.0f}M parameters (random, bf16 autocast)")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    del model
    ray.init(include_dashboard=False, log_to_driver=False)
    common = dict(device="cuda")
    results = [run("1 GPU, in-process learner", folder, os.path.join(root, "one"), args.steps, **common)]
    if gpus > 1:
        for shard in (False, True):
            kind = "FSDP2" if shard else "DDP"
            try:
                results.append(
                    run(
                        f"{gpus} GPUs, {gpus} Ray learners ({kind}, NCCL)",
                        folder,
                        os.path.join(root, f"many-{kind}"),
                        args.steps,
                        num_learners=gpus,
                        shard=shard,
                        **common,
                    )
                )
            except Exception as exc:  # report and go on: the other rows are still worth having
                print(f"{gpus} learners {kind} failed: {type(exc).__name__}: {exc}", flush=True)
    else:
        print("one GPU visible: the multi-learner rows need 2 or more (NCCL forbids two ranks on one GPU)")
    try:
        import vllm  # noqa: F401
    except ImportError:
        print("vLLM not installed: no vLLM row")
    else:
        try:
            results.append(
                run("1 GPU, vLLM sampler", folder, os.path.join(root, "vllm"), args.steps, backend="vllm", **common)
            )
        except Exception as exc:
            print(f"vLLM run failed: {type(exc).__name__}: {exc}", flush=True)
    ray.shutdown()
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
