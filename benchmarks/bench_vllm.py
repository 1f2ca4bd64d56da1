"""vLLM against thinkgym's HF sampler, and GRPO steps with each backend against TRL's GRPOTrainer.

1. Sampling: random Qwen2-style models of about 0.1M, 10M and 100M parameters (byte-level
   tokenizer, head size 32-64, saved to a folder), P Saturn-SAT-v0 prompts x G samples, exactly
   T new tokens per sample on both sides (no stop token: HF with an empty stop set, vLLM with
   ``ignore_eos``), temperature 1. HF side: :func:`thinkgym.agents.grpo.sampling.sample` (the
   sampler ``backend="hf"`` uses: one batch, KV cache, fp32). vLLM side: one ``generate`` call of
   P x G seeded requests, as ``backend="vllm"`` sends them (prefix caching on), in fp32 (what the
   GRPO backend uses on CPU, exact with the learner) and in bf16. Engine start and a warm-up batch
   are not timed. Both sides get ``--threads`` compute threads (vLLM: ``OMP_NUM_THREADS``).
2. GRPO step: ``thinkgym train`` with ``backend="vllm"`` (and ``"hf"``) and TRL's
   ``GRPOTrainer`` (``use_vllm=False``) on the same saved model, prompts and settings as
   ``benchmarks/bench_grpo_vs_trl.py`` (whose TRL runner this reuses); completion tokens per
   second of training over every step but the first. The sides run one after the other within
   each of ``--repeats`` rounds (interleaved), and each side's ratio to TRL is taken within a
   round, then the median over rounds is reported.

Run:  python benchmarks/bench_vllm.py sampling [--sizes 0.1M,10M,100M --prompts 64 --group-size 8 --new-tokens 256]
      python benchmarks/bench_vllm.py grpo [--size 10M --steps 5 --prompts 8 --group-size 8 --max-new-tokens 64
                                           --backends vllm,hf --repeats 2]
      python benchmarks/bench_vllm.py trl-vllm   (does TRL's vLLM colocate mode run here? 2 steps, 0.1M model)
Needs vLLM (docs/vllm.md) and, for ``grpo``, trl.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

# (hidden, layers, attention heads, kv heads, intermediate): head size 32 or 64, as vLLM's CPU attention needs
SIZES = {
    "0.1M": (64, 2, 2, 1, 128),
    "10M": (384, 6, 6, 2, 1024),
    "100M": (768, 12, 12, 4, 3072),
}


def save_model(size: str, folder: Path) -> int:
    """Saves a random model of ``size`` with the tiny byte-level tokenizer; returns its parameter count."""
    from thinkgym.agents.models import build_tiny_model, build_tiny_tokenizer

    hidden, layers, heads, kv_heads, intermediate = SIZES[size]
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(
        len(tokenizer),
        hidden_size=hidden,
        num_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        intermediate_size=intermediate,
        max_positions=4096,
    )
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return sum(p.numel() for p in model.parameters())


def sat_prompts(chat, count: int) -> list[list[int]]:
    import gymnasium

    import thinkgym  # noqa: F401  (registers the envs)

    env = gymnasium.make("Saturn-SAT-v0", level=3)
    return [chat.prompt_ids(*env.reset(seed=s)) for s in range(count)]


def hf_tokens_per_s(folder: Path, prompts: list[list[int]], new_tokens: int) -> float:
    import torch

    from thinkgym.agents.grpo.sampling import sample
    from thinkgym.agents.models import load_model

    model = load_model(folder)[0].eval()
    sample(model, prompts[:2], max_new_tokens=4)  # warm-up
    began = time.perf_counter()
    out = sample(
        model,
        prompts,
        max_new_tokens=new_tokens,
        temperature=1.0,
        stop_ids=set(),
        generator=torch.Generator().manual_seed(0),
    )
    seconds = time.perf_counter() - began
    assert all(len(c.ids) == new_tokens for c in out)
    return sum(len(c.ids) for c in out) / seconds


def vllm_tokens_per_s(folder: Path, prompts: list[list[int]], new_tokens: int, dtype: str) -> float:
    from vllm import SamplingParams
    from vllm.inputs import TokensPrompt

    from thinkgym.agents.grpo.vllm_sampler import make_engine, shutdown

    llm = make_engine(folder, dtype=dtype, max_model_len=max(map(len, prompts)) + new_tokens + 8)
    try:
        requests = [TokensPrompt(prompt_token_ids=p) for p in prompts]

        def params(seed: int, tokens: int) -> SamplingParams:
            return SamplingParams(temperature=1.0, max_tokens=tokens, ignore_eos=True, detokenize=False, seed=seed)

        llm.generate(requests[:8], [params(i, 8) for i in range(8)], use_tqdm=False)  # warm-up
        llm.reset_prefix_cache()
        began = time.perf_counter()
        outputs = llm.generate(requests, [params(i, new_tokens) for i in range(len(requests))], use_tqdm=False)
        seconds = time.perf_counter() - began
        assert all(len(o.outputs[0].token_ids) == new_tokens for o in outputs)
        return sum(len(o.outputs[0].token_ids) for o in outputs) / seconds
    finally:
        shutdown(llm)


def run_sampling(args: argparse.Namespace, tmp: Path) -> None:
    from thinkgym.agents.grpo.chat import ChatFormat
    from thinkgym.agents.models import build_tiny_tokenizer

    chat = ChatFormat(build_tiny_tokenizer())
    print(
        f"{'model':>6} {'params':>8} {'rows x tokens':>14} {'HF tok/s':>9} "
        + " ".join(f"{'vLLM ' + d + ' tok/s':>20} {'x HF':>6}" for d in args.dtypes)
    )
    for size in args.sizes:
        folder = tmp / size
        params = save_model(size, folder)
        prompts = [p for p in sat_prompts(chat, args.prompts) for _ in range(args.group_size)]
        hf = hf_tokens_per_s(folder, prompts, args.new_tokens)
        row = f"{size:>6} {params / 1e6:>7.2f}M {len(prompts):>6} x {args.new_tokens:<5} {hf:>9.1f} "
        for dtype in args.dtypes:
            v = vllm_tokens_per_s(folder, prompts, args.new_tokens, dtype)
            row += f"{v:>20.0f} {v / hf:>5.1f}x "
        print(row, flush=True)


def thinkgym_grpo(args: argparse.Namespace, model: Path, out: Path, backend: str) -> dict[str, float]:
    from thinkgym.agents.grpo.config import GRPOConfig
    from thinkgym.agents.grpo.trainer import train

    cfg = GRPOConfig(
        env="Saturn-SAT-v0",
        env_kwargs=args.env_kwargs,
        model=str(model),
        out=str(out),
        steps=args.steps,
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
        backend=backend,
    )
    history = train(cfg)[1:]  # the first step is warm-up
    tokens = sum(m["response_length"] * args.prompts * args.group_size for m in history)
    seconds = sum(m["step_s"] for m in history)
    return {"tokens_per_s": tokens / seconds, "median_step_s": statistics.median(m["step_s"] for m in history)}


def run_grpo(args: argparse.Namespace, tmp: Path) -> None:
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import bench_grpo_vs_trl as peer

    from thinkgym.agents.models import load_model

    folder = tmp / args.size
    params = save_model(args.size, folder)
    peer.load_model = lambda spec, seed=0: load_model(folder)  # TRL trains the same saved model
    print(
        f"settings: Saturn-SAT-v0 {args.env_kwargs}, {args.size} model ({params / 1e6:.1f}M params), "
        f"{args.prompts} prompts x G={args.group_size}, {args.max_new_tokens} new tokens, {args.steps} steps "
        "(first one not timed)"
    )
    sides = {f"thinkgym {b}": (lambda r, b=b: thinkgym_grpo(args, folder, tmp / f"{b}{r}", b)) for b in args.backends}
    sides["TRL (no vLLM)"] = lambda r: peer.run_trl(args, str(tmp / f"trl{r}"))
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in sides}
    for r in range(args.repeats):  # the sides alternate, so a change in machine load hits all of them
        for name, run in sides.items():
            runs[name].append(run(r))
            print(f"round {r + 1}: {name}: {runs[name][-1]['tokens_per_s']:.1f} tokens/s", flush=True)
    # per round, each side against TRL in that round; the median over rounds
    ratios = {
        name: [x["tokens_per_s"] / t["tokens_per_s"] for x, t in zip(rs, runs["TRL (no vLLM)"], strict=True)]
        for name, rs in runs.items()
    }
    print(f"{'':<16}{'tokens/s (median)':>18}{'median step s':>15}{'x TRL per round':>22}{'median x TRL':>14}")
    for name, rs in runs.items():
        rate = statistics.median(x["tokens_per_s"] for x in rs)
        step = statistics.median(x["median_step_s"] for x in rs)
        per_round = " ".join(f"{x:.2f}" for x in ratios[name])
        print(f"{name:<16}{rate:>18.1f}{step:>15.2f}{per_round:>22}{statistics.median(ratios[name]):>14.2f}")


def run_trl_vllm(args: argparse.Namespace, tmp: Path) -> None:
    """Tries TRL's GRPOTrainer with its vLLM colocate mode on this machine, for 2 steps."""
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    import bench_grpo_vs_trl as peer
    from trl import GRPOConfig as TRLConfig

    from thinkgym.agents.models import load_model

    for key, value in {"RANK": "0", "LOCAL_RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1"}.items():
        os.environ.setdefault(key, value)  # colocate mode uses vLLM's external_launcher
    os.environ.setdefault("MASTER_PORT", "29533")
    folder = tmp / "0.1M"
    save_model("0.1M", folder)
    peer.load_model = lambda spec, seed=0: load_model(folder)
    real = TRLConfig.__init__

    def with_vllm(self, *a, **kw):  # the peer's settings, with vLLM colocated
        real(self, *a, **{**kw, "use_vllm": True, "vllm_mode": "colocate"})

    TRLConfig.__init__ = with_vllm
    args.steps = 2
    try:
        result = peer.run_trl(args, str(tmp / "trl-vllm"))
        print(f"TRL GRPOTrainer with vLLM colocate ran: {result['tokens_per_s']:.0f} tokens/s")
    except Exception as exc:  # the point of this part is to report what happens
        print(f"TRL GRPOTrainer with vLLM colocate failed on this machine: {type(exc).__name__}: {exc}")
    finally:
        TRLConfig.__init__ = real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=["sampling", "grpo", "trl-vllm"])
    parser.add_argument("--sizes", type=lambda s: s.split(","), default=list(SIZES))
    parser.add_argument("--size", default="10M", choices=list(SIZES), help="grpo: model size")
    parser.add_argument("--dtypes", type=lambda s: s.split(","), default=["float32", "bfloat16"])
    parser.add_argument("--prompts", type=int, default=None, help="default: 64 (sampling), 8 (grpo)")
    parser.add_argument("--group-size", type=int, default=8)
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--max-new-tokens", type=int, default=64, help="grpo: completion budget")
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--env-kwargs", type=__import__("json").loads, default={"level": 1})
    parser.add_argument("--threads", type=int, default=1, help="compute threads on each side")
    parser.add_argument("--backends", type=lambda s: s.split(","), default=["vllm", "hf"], help="grpo: thinkgym sides")
    parser.add_argument("--repeats", type=int, default=2, help="grpo: rounds; the sides alternate within each")
    args = parser.parse_args()
    args.prompts = args.prompts or (64 if args.part == "sampling" else 8)
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # the vLLM worker's threads
    import torch
    import transformers
    import vllm

    torch.set_num_threads(args.threads)
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores (shared), "
        f"torch {torch.__version__} ({args.threads} threads each side), transformers {transformers.__version__}, "
        f"vllm {vllm.__version__}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        {"sampling": run_sampling, "grpo": run_grpo, "trl-vllm": run_trl_vllm}[args.part](args, Path(tmp))


if __name__ == "__main__":
    main()
