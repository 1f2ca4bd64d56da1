"""Delethink's linear-compute claim, measured: time per generated token and peak memory as the thinking length grows,
for one long chain of thought (LongCoT) against Markovian chunks (MarkovianThinking).

Source of the claim: "The Markovian Thinker", arXiv 2510.06557 (shared/reference/mechanics.md §2.6): with a
chunk of C tokens and a carryover of m, every chunk's context is at most query + C, so compute is linear in the
thinking length and memory flat, while LongCoT's attention makes compute quadratic and its KV cache grows.

Both methods run through the same env and policy loop, so they differ only in chunking: a random-weight Qwen2-style
model (``build_tiny_model``; hidden size 256 and 4 layers by default, so attention over a long cache costs more
than the fixed per-token work) generates greedily, restricted to ASCII letters, digits and spaces (no EOS, no
``\\boxed``), through ``Markovian-SAT-v0``'s wrapper with the model's byte-level tokenizer:

* LongCoT: one chunk of L tokens (C = L, I = 1), one KV cache that grows to query + L;
* Markovian: C = 1024, m = 512, head = 32 (Delethink's C/2 and about its head/m ratio) and
  I = 1 + (L − C)/(C − m) chunks; each chunk rebuilds its KV cache from query + carryover (the prefill is timed
  too) and decodes at most C − m new tokens.

Time per token = CPU time of the whole episode (prefills, decoding, env steps) / L generated tokens. torch runs on
one thread, so CPU time is the work done; it is the headline because on a shared machine wall time also counts
waiting for a core (reported too). Prompts are prefilled 128 tokens per forward (chunked prefill, as inference
engines do): CPU attention materialises the score matrix of a prefill, so one 640-token forward alone peaks
at ~17 MiB here, more than the whole KV cache, an artefact of the kernel rather than of either method.

Memory, two ways, each configuration and repeat in a fresh forked process (tracemalloc cannot see torch's CPU
allocations, and a process's high-water mark never comes down, so processes are not reused):

* KV cache: the largest total size in bytes of the cache's key and value tensors at the end of any chunk (exact);
* RSS high-water delta: after building the model and a short warm-up, the process's peak RSS (``VmHWM``) is reset
  by writing 5 to ``/proc/self/clear_refs``; the delta is ``VmHWM`` after the episode minus ``VmRSS`` before it.
  It adds activations, logits, allocator slack and the cache's copy-on-grow transients to the KV cache.

Each number is the median over ``--repeats`` processes. One torch thread also because on a shared 2-core machine
two threads were up to 30x slower per token from contention. Linux only (``/proc``); needs the ``train`` extra.

    python benchmarks/bench_markovian.py [--lengths 1024,2048,4096,8192] [--repeats 3] [--plot docs/img/markovian.png]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import platform
import re
import statistics
import time
from pathlib import Path
from typing import Any

import torch
from transformers import DynamicCache

from thinkgym.agents.models import build_tiny_model, build_tiny_tokenizer
from thinkgym.envs.markovian import make_markovian_sat

PROMPT = "Find a satisfying assignment of {instance}. Put it in \\boxed{{}}."
ROOT = Path(__file__).resolve().parents[1]


def memory_kib() -> dict[str, int]:
    """Current (VmRSS) and peak (VmHWM) resident set size of this process, in KiB."""
    status = Path("/proc/self/status").read_text()
    return {key: int(re.search(rf"^{key}:\s+(\d+) kB", status, re.M).group(1)) for key in ("VmRSS", "VmHWM")}


def reset_peak_rss() -> bool:
    """Sets this process's VmHWM to its current RSS (Linux >= 4.0); False where that is not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def generate(model: Any, prompt_ids: list[int], n: int, allowed: torch.Tensor, block: int) -> tuple[list[int], int]:
    """Greedy decoding of n tokens from ``allowed`` after prefilling ``prompt_ids`` into a fresh KV cache, ``block``
    tokens at a time. Returns the tokens and the cache's final size in bytes (its peak: it only grows)."""
    cache = DynamicCache()

    def next_logits(ids: list[int]) -> torch.Tensor:
        return model(input_ids=torch.tensor([ids]), cache=cache, use_cache=True, logits_to_keep=1).logits[0, -1]

    for start in range(0, len(prompt_ids), block):
        logits = next_logits(prompt_ids[start : start + block])
    tokens: list[int] = []
    while True:
        tokens.append(int(allowed[logits[allowed].argmax()]))
        if len(tokens) == n:
            return tokens, sum(layer.keys.nbytes + layer.values.nbytes for layer in cache.layers)
        logits = next_logits(tokens[-1:])


def run_episode(config: dict[str, Any]) -> dict[str, Any]:
    """One episode of ``config`` (method, length, model size, chunking) in this process; see the module docstring."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tokenizer = build_tiny_tokenizer()
    model = build_tiny_model(
        len(tokenizer), hidden_size=config["hidden"], num_layers=config["layers"], max_positions=config["positions"]
    ).eval()
    allowed = torch.tensor(tokenizer.encode("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "))
    length = config["length"]
    if config["method"] == "longcot":
        chunking = {"chunk_size": length, "carryover": 1, "head": 0, "max_chunks": 1}
    else:
        chunk, carry = config["chunk"], config["carryover"]
        chunking = {
            "chunk_size": chunk,
            "carryover": carry,
            "head": config["head"],
            "max_chunks": 1 + (length - chunk) // (chunk - carry),
        }
    env = make_markovian_sat(tokenizer=tokenizer, level=1, prompt_template=PROMPT, **chunking)
    with torch.inference_mode():
        generate(model, list(range(97, 113)), 8, allowed, config["block"])  # warm-up
        exact_peak = reset_peak_rss()
        before = memory_kib()
        start, cpu_start = time.perf_counter(), time.process_time()
        _, info = env.reset(seed=0)
        query_ids = info["query_ids"]
        prompt_ids, kv_peak, prefill, done = query_ids, 0, 0, False
        while not done:
            tokens, kv_bytes = generate(model, prompt_ids, info["max_new_tokens"], allowed, config["block"])
            kv_peak, prefill = max(kv_peak, kv_bytes), prefill + len(prompt_ids)
            _, _, terminated, truncated, info = env.step(tokenizer.decode(tokens))
            assert info["chunks"][-1]["completion_ids"] == tokens, "ASCII tokens must re-encode exactly"
            done = terminated or truncated
            if not done:
                prompt_ids = query_ids + info["carryover_ids"]
        seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start
        after = memory_kib()
    assert info["trace_length"] == length and info["finish_reason"] == "max_chunks", info["finish_reason"]
    return {
        "chunks": len(info["chunks"]),
        "seconds": seconds,
        "ms_per_token": 1e3 * cpu_seconds / length,
        "wall_ms_per_token": 1e3 * seconds / length,
        "kv_mib": kv_peak / 2**20,
        "rss_mib": (after["VmHWM"] - before["VmRSS"]) / 1024,
        "prefill_tokens": prefill,
        "exact_peak": exact_peak,
    }


def _child(conn: Any, config: dict[str, Any]) -> None:
    conn.send(run_episode(config))
    conn.close()


def in_fresh_process(config: dict[str, Any]) -> dict[str, Any]:
    """``run_episode`` in a forked child (torch and transformers are already imported, so forking is cheap)."""
    ctx = mp.get_context("fork")
    receive, send = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(send, config))
    process.start()
    send.close()
    try:
        return receive.recv()
    except EOFError:
        raise RuntimeError(f"the benchmark process for {config} died without a result") from None
    finally:
        process.join()


def measure(args: argparse.Namespace) -> list[dict[str, Any]]:
    """Every configuration ``args.repeats`` times, interleaved (repeat after repeat of the whole set, so a change
    in the machine's load hits every configuration alike), each run in a fresh process; medians per configuration."""
    configs = [
        {
            "method": method,
            "length": length,
            "hidden": args.hidden,
            "layers": args.layers,
            "positions": max(args.lengths) + 256,
            "chunk": args.chunk,
            "carryover": args.carryover,
            "head": args.head,
            "block": args.prefill_block,
        }
        for length in args.lengths
        for method in ("longcot", "markovian")
    ]
    runs: list[list[dict[str, Any]]] = [[] for _ in configs]
    for repeat in range(args.repeats):
        for config, config_runs in zip(configs, runs, strict=True):
            run = in_fresh_process(config)
            config_runs.append(run)
            print(
                f"  [{repeat + 1}/{args.repeats}] {config['method']:9s} L={config['length']:5d}: "
                f"{run['ms_per_token']:.2f} CPU ms/token ({run['wall_ms_per_token']:.2f} wall), "
                f"KV {run['kv_mib']:.1f} MiB, RSS peak delta {run['rss_mib']:.1f} MiB",
                flush=True,
            )
    rows = []
    for config, config_runs in zip(configs, runs, strict=True):
        row = {"method": config["method"], "length": config["length"], "chunks": config_runs[0]["chunks"]}
        for key in ("seconds", "ms_per_token", "wall_ms_per_token", "kv_mib", "rss_mib", "prefill_tokens"):
            row[key] = statistics.median(run[key] for run in config_runs)
        row["ms_min"] = min(run["ms_per_token"] for run in config_runs)
        row["ms_max"] = max(run["ms_per_token"] for run in config_runs)
        row["exact_peak"] = all(run["exact_peak"] for run in config_runs)
        rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| thinking length L | method | chunks | CPU ms / token (median [min–max]) | wall ms / token "
        "| KV cache peak (MiB) | RSS peak Δ (MiB) | prefilled tokens |",
        "|---:|---|---:|---|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['length']:,} | {r['method']} | {r['chunks']} | {r['ms_per_token']:.2f} "
            f"[{r['ms_min']:.2f}–{r['ms_max']:.2f}] | {r['wall_ms_per_token']:.2f} | {r['kv_mib']:.2f} | "
            f"{r['rss_mib']:.1f} | {int(r['prefill_tokens']):,} |"
        )
    return "\n".join(lines)


def ratios(rows: list[dict[str, Any]]) -> str:
    """Each metric at 4x the thinking length over its value at L, per method, against the targets."""
    by_key = {(r["method"], r["length"]): r for r in rows}
    lines = [
        "| method | L → 4L | CPU ms / token ratio | KV cache ratio | RSS peak Δ ratio |",
        "|---|---|---:|---:|---:|",
    ]
    for method in ("longcot", "markovian"):
        for length in sorted({r["length"] for r in rows}):
            low, high = by_key.get((method, length)), by_key.get((method, 4 * length))
            if low is None or high is None:
                continue
            lines.append(
                f"| {method} | {length:,} → {4 * length:,} | {high['ms_per_token'] / low['ms_per_token']:.2f} | "
                f"{high['kv_mib'] / low['kv_mib']:.2f} | {high['rss_mib'] / low['rss_mib']:.2f} |"
            )
    lines.append("")
    lines.append("Targets for Markovian: time per token ratio ≤ 1.20, memory ratios ≤ 1.10.")
    return "\n".join(lines)


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    styles = {"longcot": ("LongCoT (one chain)", "tab:red", "o"), "markovian": ("Markovian chunks", "tab:blue", "s")}
    for method, (label, color, marker) in styles.items():
        series = [r for r in rows if r["method"] == method]
        lengths = [r["length"] for r in series]
        left.errorbar(
            lengths,
            [r["ms_per_token"] for r in series],
            yerr=[
                [r["ms_per_token"] - r["ms_min"] for r in series],
                [r["ms_max"] - r["ms_per_token"] for r in series],
            ],
            label=label,
            color=color,
            marker=marker,
            capsize=3,
        )
        right.plot(lengths, [r["rss_mib"] for r in series], label=f"{label}: RSS peak Δ", color=color, marker=marker)
        right.plot(lengths, [r["kv_mib"] for r in series], label=f"{label}: KV cache", color=color, ls="--")
    lengths = sorted({r["length"] for r in rows})
    for axis, ylabel in ((left, "CPU ms per generated token"), (right, "peak memory (MiB)")):
        axis.set_xscale("log", base=2)
        axis.set_xticks(lengths, [f"{n / 1024:g}K" for n in lengths])
        axis.set_xlabel("thinking length (tokens)")
        axis.set_ylabel(ylabel)
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lengths", default="1024,2048,4096,8192", help="thinking lengths L, comma-separated")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per configuration (median)")
    parser.add_argument("--chunk", type=int, default=1024, help="Markovian chunk size C")
    parser.add_argument("--carryover", type=int, default=512, help="Markovian carryover m")
    parser.add_argument("--head", type=int, default=32, help="kept tokens of chunk 1")
    parser.add_argument("--prefill-block", type=int, default=128, help="prefill this many prompt tokens per forward")
    parser.add_argument("--hidden", type=int, default=256, help="model hidden size")
    parser.add_argument("--layers", type=int, default=4, help="model layers")
    parser.add_argument("--plot", type=Path, default=ROOT / "docs" / "img" / "markovian.png")
    args = parser.parse_args()
    args.lengths = sorted(int(x) for x in args.lengths.split(","))
    step = args.chunk - args.carryover
    bad = [n for n in args.lengths if n < args.chunk or (n - args.chunk) % step]
    if bad:
        parser.error(f"every length must be chunk + k·(chunk − carryover) = {args.chunk} + k·{step}; not {bad}")
    cpu = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
    machine = f"{cpu.group(1) if cpu else platform.machine()}, {mp.cpu_count()} cores, torch {torch.__version__}"
    print(f"# Markovian vs LongCoT — {machine}, 1 torch thread, {args.repeats} repeats", flush=True)
    start = time.perf_counter()
    rows = measure(args)
    print()
    print(table(rows))
    print()
    print(ratios(rows))
    if not all(r["exact_peak"] for r in rows):
        print("\nNote: /proc/self/clear_refs was not writable; RSS deltas are measured from the warm-up peak.")
    title = (
        f"Markovian (C={args.chunk}, m={args.carryover}, head={args.head}) vs LongCoT; "
        f"Qwen2-style {args.layers}x{args.hidden}, random weights, 1 CPU thread"
    )
    plot(rows, args.plot, title)
    print(f"\nplot: {args.plot}; total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
