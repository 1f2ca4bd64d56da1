"""Many live sandboxes at once: cells per second and memory per live sandbox.

``SandboxPool`` hands out ``--live`` sandboxes (default 64), all alive together; ``--threads``
threads (default 8, as a vector env's or rollout worker's) run cells on them round-robin, one
cell per sandbox at a time, for ``--seconds`` (default 60). Cells alternate between a trivial
one (``x += 1``) and a small numpy one. Reported: cells per second overall, memory per live
sandbox (what its cgroup is charged: pages of its own; the zygote's preloaded libraries are
shared), the drop of the machine's MemAvailable per live sandbox, the host process's RSS growth,
and leaks afterwards (processes left under the zygote, descriptors).

Run: ``python benchmarks/bench_sandbox_load.py [--live 64] [--threads 8] [--seconds 60]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor

from thinkgym.sandbox import SandboxPool

CELLS = ("x += 1", "import numpy as np\ny = float(np.arange(100).sum())")


def mem_available_mb() -> float:
    with open("/proc/meminfo") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("MemAvailable:")) / 1024


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:")) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--live", type=int, default=64)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()

    with SandboxPool(size=1) as warm:
        warm.acquire().run("pass")  # the zygote is up
    fds, rss, available = len(os.listdir("/proc/self/fd")), rss_mb(), mem_available_mb()
    failed = done = 0
    with SandboxPool(size=4) as pool, ThreadPoolExecutor(args.threads) as threads:
        start = time.monotonic()
        boxes = list(threads.map(lambda _: pool.acquire(), range(args.live)))
        for box in boxes:
            box.run("x = 0")
        started = time.monotonic() - start
        start = time.monotonic()
        rounds = 0
        while time.monotonic() - start < args.seconds:
            results = list(threads.map(lambda box, code: box.run(code), boxes, [CELLS[rounds % 2]] * len(boxes)))
            failed += sum(not r.ok for r in results)
            done += len(results)
            rounds += 1
        elapsed = time.monotonic() - start
        assert all(box.run("print(x)").stdout == f"{(rounds + 1) // 2}\n" for box in boxes), "state lost"
        charged = [box.memory_used() or 0 for box in boxes]
        drop = available - mem_available_mb()
        growth = rss_mb() - rss
        for box in boxes:
            pool.release(box)
    time.sleep(1)
    left = len(os.listdir("/proc/self/fd")) - fds
    load = os.getloadavg()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}, "
          f"Python {platform.python_version()}, uid {os.geteuid()}, load {load[0]:.1f} / {load[1]:.1f}")  # fmt: skip
    print()
    print("| measure | value |")
    print("|---|---:|")
    print(f"| live sandboxes, threads | {args.live}, {args.threads} |")
    print(f"| start of {args.live} sandboxes from the pool | {started:.1f} s |")
    print(f"| cells run, failed | {done:,}, {failed} |")
    print(f"| cells per second (all sandboxes together) | {done / elapsed:,.0f} |")
    print(f"| memory charged per live sandbox (cgroup) | {sum(charged) / len(charged) / 2**20:.1f} MB |")
    print(f"| MemAvailable drop per live sandbox | {drop / args.live:.1f} MB |")
    print(f"| host process RSS growth | {growth:.1f} MB |")
    print(f"| descriptors left after release | {left} |")


if __name__ == "__main__":
    main()
