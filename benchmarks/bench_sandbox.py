"""Throughput and latency of PythonSandbox next to the peer a user would write instead: a fresh
interpreter per call (``subprocess.run([sys.executable, "-c", code])``), measured in one run.

Run: ``python benchmarks/bench_sandbox.py [--cells 3000] [--spawns 100]``. Prints a markdown
table: trivial cells per second in one warm sandbox (target >= 200/s), median time per trivial
cell, i.e. the sandbox's overhead (target < 5 ms), the same for a sympy cell, the start of a
fresh sandbox and the recovery after a timeout, each with the spawn-per-call figure and the ratio.

``--baseline DIR`` (a checkout of an earlier version, e.g. ``git worktree add /tmp/sb-base
<commit>``) instead compares this checkout's trivial cells per second with that version's, in
alternating rounds in one run (each round a fresh process per side), and prints the medians.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from thinkgym.sandbox import PythonSandbox

TRIVIAL = "x = 1"
SYMPY = "import sympy\nprint(sympy.factor(sympy.Symbol('x')**2 - 1))"


def timed(fn: Callable[[], object], n: int) -> list[float]:
    """Wall-clock seconds of ``n`` calls of ``fn``."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def spawn(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], capture_output=True, check=True)


def fresh_sandbox() -> None:
    with PythonSandbox() as box:
        box.run("pass")


_RATE = """
import sys, time
from thinkgym.sandbox import PythonSandbox
with PythonSandbox() as box:
    box.run("pass")
    start = time.perf_counter()
    for _ in range(int(sys.argv[1])):
        box.run("x = 1")
    print(int(sys.argv[1]) / (time.perf_counter() - start))
"""


def compare_with(baseline: str, cells: int, rounds: int) -> None:
    """Trivial cells per second, this checkout against ``baseline``, alternating."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rates: dict[str, list[float]] = {"this checkout": [], baseline: []}
    for _ in range(rounds):
        for name, root in (("this checkout", here), (baseline, baseline)):
            env = {**os.environ, "PYTHONPATH": root}
            out = subprocess.run([sys.executable, "-c", _RATE, str(cells)], env=env, capture_output=True, text=True)
            if out.returncode:
                raise SystemExit(out.stderr)
            rates[name].append(float(out.stdout))
    load = os.getloadavg()
    print(f"{rounds} alternating rounds of {cells} trivial cells; load average {load[0]:.1f} / {load[1]:.1f}")
    print("| version | trivial cells per second (median) | rounds |")
    print("|---|---:|---|")
    for name, values in rates.items():
        print(f"| {name} | {statistics.median(values):,.0f} | {', '.join(f'{v:,.0f}' for v in values)} |")
    ratio = statistics.median(rates["this checkout"]) / statistics.median(rates[baseline])
    print(f"ratio (this / baseline): {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=3000, help="trivial cells in the warm sandbox")
    parser.add_argument("--spawns", type=int, default=100, help="calls of the spawn-per-call baseline")
    parser.add_argument("--baseline", help="a checkout of an earlier version to compare cells/s with")
    parser.add_argument("--rounds", type=int, default=5, help="alternating rounds with --baseline")
    args = parser.parse_args()
    if args.baseline:
        compare_with(args.baseline, args.cells, args.rounds)
        return

    with PythonSandbox() as box:
        assert box.run("pass").ok  # the zygote and this sandbox are warm
        start = time.perf_counter()
        for _ in range(args.cells):
            box.run(TRIVIAL)
        warm_rate = args.cells / (time.perf_counter() - start)
        warm_trivial = statistics.median(timed(lambda: box.run(TRIVIAL), 500))
        box.run("import sympy")
        warm_sympy = statistics.median(timed(lambda: box.run(SYMPY), 50))
        recovery = (
            statistics.median(timed(lambda: (box.run("while True: pass", timeout=0.05), box.run("pass")), 20)) - 0.05
        )  # the time the dead cell was allowed to run is not overhead
        isolation = box.isolation()
    start_fresh = statistics.median(timed(fresh_sandbox, 30))

    start = time.perf_counter()
    spawn_trivial_all = timed(lambda: spawn(TRIVIAL), args.spawns)
    spawn_rate = args.spawns / (time.perf_counter() - start)
    spawn_trivial = statistics.median(spawn_trivial_all)
    spawn_sympy = statistics.median(timed(lambda: spawn(SYMPY), max(10, args.spawns // 5)))

    ms = 1000.0
    rows = [
        ("trivial cells per second (one warm sandbox)", f"{warm_rate:,.0f}", f"{spawn_rate:,.1f}",
         warm_rate / spawn_rate),
        ("median time per trivial cell (overhead)", f"{warm_trivial * ms:.2f} ms", f"{spawn_trivial * ms:.1f} ms",
         spawn_trivial / warm_trivial),
        ("median time per sympy cell", f"{warm_sympy * ms:.2f} ms", f"{spawn_sympy * ms:.1f} ms",
         spawn_sympy / warm_sympy),
        ("fresh sandbox: start, one cell, close", f"{start_fresh * ms:.1f} ms", f"{spawn_trivial * ms:.1f} ms",
         spawn_trivial / start_fresh),
        ("recovery after a timeout (kill, restart, next cell)", f"{recovery * ms:.1f} ms", "-", None),
    ]  # fmt: skip
    load = os.getloadavg()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Linux {platform.release()}, "
          f"Python {platform.python_version()}, uid {os.geteuid()}, "
          f"load average {load[0]:.1f} / {load[1]:.1f} (1 / 5 min)")  # fmt: skip
    inactive = [name for name, p in isolation.items() if not p.active]
    print(f"Protections active: {sum(p.active for p in isolation.values())} of {len(isolation)}"
          + (f" (inactive: {', '.join(inactive)})" if inactive else ""))  # fmt: skip
    print()
    print("| measure | PythonSandbox | spawn per call | ratio |")
    print("|---|---:|---:|---:|")
    for name, ours, theirs, ratio in rows:
        print(f"| {name} | {ours} | {theirs} | {'-' if ratio is None else f'{ratio:.1f}x'} |")
    print()
    print(f"targets: >= 200 cells/s: {'met' if warm_rate >= 200 else 'NOT met'}; "
          f"overhead < 5 ms: {'met' if warm_trivial < 0.005 else 'NOT met'}")  # fmt: skip


if __name__ == "__main__":
    main()
