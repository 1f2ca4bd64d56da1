"""Saturn-SAT-v0 speed, and thinkgym's SAT pipeline side by side with SATURN's own code.

Measures, in one process:
  1. reset+step (generate, format, parse, verify) at (3,5,5) through gymnasium.make, episodes/s;
  2. verifying one answer at k=400, l=1,700 (q-hidden), median microseconds;
  3. with --saturn-code DIR (a checkout of gtxygyzb/Saturn-code; its code is run, not copied):
     instance generation per second with SATURN's single_clause.py + combine.py pipeline vs
     thinkgym's generator at (3,5,5) and (3,7,40); scoring speed of SATURN's reward code
     (re.findall + calc_sat_value) vs thinkgym's verifier; and how many adversarial answers each
     scorer accepts as correct (truncated and empty assignments, which SATURN reads as 0s).

Run:  python benchmarks/bench_sat.py [--saturn-code /path/to/Saturn-code]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time

import gymnasium

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.generators import sat
from thinkgym.verifiers.sat import verify


def episodes_per_second(n: int = 20_000, repeats: int = 5) -> float:
    env = gymnasium.make("Saturn-SAT-v0", n=3, k=5, l=5)
    rates = []
    for r in range(repeats):
        start = time.perf_counter()
        for s in range(n):
            _, info = env.reset(seed=r * n + s)
            env.step("<think>easy</think> \\boxed{" + info["problem"]["answer"] + "}")
        rates.append(n / (time.perf_counter() - start))
    return statistics.median(rates)


def verify_micros(k: int = 400, l: int = 1700, n: int = 3000) -> tuple[float, bool]:
    p = sat.generate(sat.check_params(3, k, l, "q-hidden"), 0)
    response = "\\boxed{" + p.answer + "}"
    clauses = p.metadata["clauses"]
    times = []
    for _ in range(n):
        t = time.perf_counter()
        v = verify(response, clauses, k)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6, v.correct


def _saturn_modules(path: str):
    sys.path.insert(0, os.path.join(path, "src", "Build_SAT_Datasets"))
    import combine
    import single_clause

    reward_src = open(os.path.join(path, "src", "reward_function", "reward_func.py")).read()
    namespace: dict = {}
    # reward_func.py imports torch at the top only to build a tensor of rewards; run the scorer
    # function itself, defined by the file, without that import
    exec(compile(reward_src.replace("import torch", ""), "reward_func.py", "exec"), namespace)
    return single_clause, combine, namespace["calc_sat_value"]


def saturn_generation_rate(single_clause, combine, n: int, k: int, l: int, samples: int = 200) -> float:
    """Instances/s of SATURN's pipeline, pool building included (it runs once per (n,k,l))."""
    pool = min(10000, __import__("math").comb(k, n) * 2**k * (2**n - 1))
    with tempfile.TemporaryDirectory() as tmp:
        single, multi = os.path.join(tmp, "single.jsonl"), os.path.join(tmp, "multi.jsonl")
        start = time.perf_counter()
        single_clause.generate_dataset(n, k, single, pool)
        combine.combine_dataset(single, multi, n, k, l, samples)
        return samples / (time.perf_counter() - start)


def thinkgym_generation_rate(n: int, k: int, l: int, samples: int = 200) -> float:
    params = sat.check_params(n, k, l)
    start = time.perf_counter()
    for s in range(samples):
        sat.generate(params, s)
    return samples / (time.perf_counter() - start)


def saturn_score(calc_sat_value, response: str, formula: str) -> float:
    matches = re.findall(r"\\boxed{(.*?)}", response)
    if not matches:
        return -1.0
    return 1.0 if calc_sat_value(formula, matches[-1]) else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saturn-code", default=None, help="path to a checkout of gtxygyzb/Saturn-code")
    args = parser.parse_args()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    eps = episodes_per_second()
    micros, ok = verify_micros()
    print("| measure | thinkgym |")
    print("|---|---|")
    print(f"| reset+step at (3,5,5), gymnasium.make, episodes/s | {eps:,.0f} |")
    print(f"| verify one answer, k=400 l=1700, median | {micros:.0f} µs (correct={ok}) |")
    if not args.saturn_code:
        return
    single_clause, combine, calc_sat_value = _saturn_modules(args.saturn_code)
    print("\n| measure | SATURN code | thinkgym | ratio |")
    print("|---|---|---|---|")
    for n, k, l in ((3, 5, 5), (3, 7, 40)):
        random.seed(0)
        theirs = saturn_generation_rate(single_clause, combine, n, k, l)
        ours = thinkgym_generation_rate(n, k, l)
        print(f"| instances/s generated at ({n},{k},{l}) | {theirs:,.0f} | {ours:,.0f} | {ours / theirs:.1f}x |")
    problems = [sat.generate(sat.check_params(3, 7, 40), s) for s in range(500)]
    formulas = [sat.format_instance(p.metadata["clauses"], 3, 7).split('"clause": "')[1].rstrip('"}') for p in problems]
    responses = ["<think>...</think> \\boxed{" + p.answer + "}" for p in problems]
    start = time.perf_counter()
    for _ in range(10):
        theirs_ok = [saturn_score(calc_sat_value, r, f) == 1.0 for r, f in zip(responses, formulas, strict=True)]
    theirs = 10 * len(problems) / (time.perf_counter() - start)
    start = time.perf_counter()
    for _ in range(10):
        ours_ok = [verify(r, p.metadata["clauses"], 7).correct for r, p in zip(responses, problems, strict=True)]
    ours = 10 * len(problems) / (time.perf_counter() - start)
    assert all(theirs_ok) and all(ours_ok)
    print(f"| correct answers scored/s at (3,7,40) | {theirs:,.0f} | {ours:,.0f} | {ours / theirs:.1f}x |")
    fooled_theirs = fooled_ours = total = 0
    for p, f in zip(problems, formulas, strict=True):
        for bad in (p.answer[:-1], p.answer[:-3], "", p.answer + "2", p.answer[:3] + "x" + p.answer[4:]):
            if bad == p.answer or (len(bad) == 7 and set(bad) <= {"0", "1"}):
                continue
            total += 1
            fooled_theirs += saturn_score(calc_sat_value, "\\boxed{" + bad + "}", f) == 1.0
            fooled_ours += verify("\\boxed{" + bad + "}", p.metadata["clauses"], 7).correct
    print(f"| malformed assignments accepted as correct (of {total}) | {fooled_theirs} | {fooled_ours} | |")


if __name__ == "__main__":
    main()
