"""Saturn-SAT-v0 speed, and thinkgym's SAT pipeline side by side with SATURN's own code.

Measures, in one process:
  1. reset+step (generate, format, parse, verify) at (3,5,5) through gymnasium.make, episodes/s;
  2. verifying one answer at k=400, l=1,700 (q-hidden), median microseconds;
  3. with --saturn-code DIR (a checkout of gtxygyzb/Saturn-code; its code is run, not copied):
     - instances with their prompts generated per second: SATURN's pipeline as its
       build_sat_dataset.sh runs it (single_clause.py, combine.py, train_prompt.py; pool building
       included, once per run) vs thinkgym's generator, at (3,5,5) and (3,7,40), each at SATURN's
       own instance count for that (n,k,l) (its data/train/Train_prompt_3_5_5_270: 270; its
       data/test/n3_k7_length40_sample100: 100) and at 2,000;
     - correct answers scored per second at (3,7,40), both scorers starting from the same input,
       the response and SATURN's formula string ("!A!BF & ..."): SATURN's reward code
       (re.findall + calc_sat_value, which parses the string on every call) vs thinkgym's verifier
       after parsing the same string into clauses; plus, for reference, thinkgym from the clause
       lists it stores (what the env does, no parsing);
     - how many malformed answers each scorer accepts as correct (truncated, empty, padded and
       non-binary assignments, which SATURN reads as 0s).
     Both sides run interleaved, ``--repeats`` rounds each; the medians and their ratio are printed.

     With --baseline-generator FILE (another version's thinkgym/generators/sat.py), that
     generator runs as a third interleaved side on the same seeds, in a row of its own.

Run:  python benchmarks/bench_sat.py [--saturn-code /path/to/Saturn-code] [--repeats 5]
          [--baseline-generator FILE]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import math
import os
import platform
import random
import re
import runpy
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


# SATURN's own instance counts for the two benchmarked (n,k,l): its training set at (3,5,5)
# (data/train/Train_prompt_3_5_5_270) and its SATURN-2.6k test file at (3,7,40)
# (data/test/n3_k7_length40_sample100)
SATURN_COUNTS = {(3, 5, 5): 270, (3, 7, 40): 100}
LARGE_COUNT = 2_000


def _saturn_modules(path: str):
    build = os.path.join(path, "src", "Build_SAT_Datasets")
    sys.path.insert(0, build)
    import combine
    import single_clause

    reward_src = open(os.path.join(path, "src", "reward_function", "reward_func.py")).read()
    namespace: dict = {}
    # reward_func.py imports torch at the top only to build a tensor of rewards; run the scorer
    # function itself, defined by the file, without that import
    exec(compile(reward_src.replace("import torch", ""), "reward_func.py", "exec"), namespace)
    return single_clause, combine, os.path.join(build, "train_prompt.py"), namespace["calc_sat_value"]


def saturn_generation_seconds(
    single_clause, combine, train_prompt: str, n: int, k: int, l: int, samples: int
) -> tuple[float, float]:
    """(seconds to the instances, seconds to the instances with prompts) of SATURN's pipeline for
    ``samples`` instances, as its build_sat_dataset.sh runs it: the clause pool (once per (n,k,l)),
    the combination, then the prompts (train_prompt.py is a script; it runs here in-process,
    without starting a new interpreter as the shell script does)."""
    pool = min(10000, math.comb(k, n) * 2**k * (2**n - 1))
    with tempfile.TemporaryDirectory() as tmp:
        single = os.path.join(tmp, f"n{n}_k{k}_single{pool}.jsonl")
        multi = os.path.join(tmp, f"n{n}_k{k}_length{l}_sample{samples}.jsonl")
        argv = sys.argv
        sys.argv = [train_prompt, "--n_sat", str(n), "--k", str(k), "--length", str(l), "--n_sample", str(samples)]
        sys.argv += ["--seed_datasets_dir", tmp, "--prompt_dir", os.path.join(tmp, "prompts")]
        try:
            start = time.perf_counter()
            single_clause.generate_dataset(n, k, single, pool)
            if combine.combine_dataset(single, multi, n, k, l, samples) != 1:
                raise RuntimeError(f"SATURN's combine.py could not draw {samples} instances at ({n},{k},{l})")
            instances = time.perf_counter() - start
            with contextlib.redirect_stdout(io.StringIO()):  # its "Prompt file generated" line
                runpy.run_path(train_prompt, run_name="__main__")
            elapsed = time.perf_counter() - start
        finally:
            sys.argv = argv
        with open(os.path.join(tmp, "prompts", "train.jsonl")) as f:
            written = sum(1 for _ in f)
        if os.path.exists(os.path.join(tmp, "prompts", "test.jsonl")):
            with open(os.path.join(tmp, "prompts", "test.jsonl")) as f:
                written += sum(1 for _ in f)
        assert written == samples, (written, samples)
        return instances, elapsed


def thinkgym_generation_seconds(n: int, k: int, l: int, samples: int, first_seed: int = 0, generator=sat) -> float:
    """Seconds thinkgym's generator takes for ``samples`` problems (instance, prompt, id)."""
    params = generator.check_params(n, k, l)
    start = time.perf_counter()
    for s in range(first_seed, first_seed + samples):
        generator.generate(params, s)
    return time.perf_counter() - start


def clauses_from_saturn(formula: str) -> list[list[int]]:
    """SATURN's formula string (``"!AB!C & ..."``, variables A..Z) as DIMACS clauses."""
    clauses = []
    for part in formula.split(" & "):
        clause, negated = [], False
        for char in part:
            if char == "!":
                negated = True
            else:
                var = ord(char) - 64
                clause.append(-var if negated else var)
                negated = False
        clauses.append(clause)
    return clauses


def interleaved(repeats: int, *sides) -> list[float]:
    """Median seconds of each ``side(round)``, the sides run in turn ``repeats`` times each."""
    times: list[list[float]] = [[] for _ in sides]
    for r in range(repeats):
        for side, spent in zip(sides, times, strict=True):
            spent.append(side(r))
    return [statistics.median(spent) for spent in times]


def load_generator(path: str):
    """Another version of thinkgym/generators/sat.py (e.g. from ``git show REV:...``), loaded under
    its own module name so both versions run in this process."""
    spec = importlib.util.spec_from_file_location("baseline_sat", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def saturn_score(calc_sat_value, response: str, formula: str) -> float:
    matches = re.findall(r"\\boxed{(.*?)}", response)
    if not matches:
        return -1.0
    return 1.0 if calc_sat_value(formula, matches[-1]) else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--saturn-code", default=None, help="path to a checkout of gtxygyzb/Saturn-code")
    parser.add_argument("--repeats", type=int, default=5, help="interleaved rounds per side (medians reported)")
    parser.add_argument(
        "--baseline-generator",
        default=None,
        help="another version's thinkgym/generators/sat.py, generating as a third side (same seeds as thinkgym)",
    )
    args = parser.parse_args()
    baseline = load_generator(args.baseline_generator) if args.baseline_generator else None
    if baseline:  # the same work on both sides: the same problems for the same seeds
        for n, k, l in SATURN_COUNTS:
            params = sat.check_params(n, k, l)
            assert all(baseline.generate(params, s) == sat.generate(params, s) for s in range(200)), (n, k, l)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load {load}\n")
    eps = episodes_per_second()
    micros, ok = verify_micros()
    print("| measure | thinkgym |")
    print("|---|---|")
    print(f"| reset+step at (3,5,5), gymnasium.make, episodes/s | {eps:,.0f} |")
    print(f"| verify one answer, k=400 l=1700, median | {micros:.0f} µs (correct={ok}) |")
    if not args.saturn_code:
        return
    single_clause, combine, train_prompt, calc_sat_value = _saturn_modules(args.saturn_code)
    print(f"\n{args.repeats} interleaved rounds per side, medians\n")
    print("| measure | SATURN code | thinkgym | ratio |")
    print("|---|---|---|---|")
    for (n, k, l), own in SATURN_COUNTS.items():
        for count in (own, LARGE_COUNT):
            without_prompts = []

            def theirs(r, n=n, k=k, l=l, count=count, without_prompts=without_prompts):
                random.seed(r)
                instances, total = saturn_generation_seconds(single_clause, combine, train_prompt, n, k, l, count)
                without_prompts.append(instances)
                return total

            def ours(r, n=n, k=k, l=l, count=count):
                return thinkgym_generation_seconds(n, k, l, count, first_seed=r * count)

            def previous(r, n=n, k=k, l=l, count=count):
                return thinkgym_generation_seconds(n, k, l, count, first_seed=r * count, generator=baseline)

            sides = (theirs, ours, previous) if baseline else (theirs, ours)
            t_theirs, t_ours, *t_previous = interleaved(args.repeats, *sides)
            t_bare = statistics.median(without_prompts)
            label = "SATURN's own count" if count == own else "large"
            print(
                f"| instances with prompts generated/s at ({n},{k},{l}), {count:,} ({label}) "
                f"| {count / t_theirs:,.0f} | {count / t_ours:,.0f} | {t_theirs / t_ours:.1f}x |"
            )
            print(
                f"| the same, SATURN without its prompt step (thinkgym still writes prompts) "
                f"| {count / t_bare:,.0f} | {count / t_ours:,.0f} | {t_bare / t_ours:.1f}x |"
            )
            if baseline:
                print(
                    f"| the same, thinkgym's baseline generator in the SATURN column "
                    f"| {count / t_previous[0]:,.0f} | {count / t_ours:,.0f} | {t_previous[0] / t_ours:.1f}x |"
                )
    problems = [sat.generate(sat.check_params(3, 7, 40), s) for s in range(500)]
    formulas = [sat.format_instance(p.metadata["clauses"], 3, 7).split('"clause": "')[1].rstrip('"}') for p in problems]
    responses = ["<think>...</think> \\boxed{" + p.answer + "}" for p in problems]
    pairs = list(zip(responses, formulas, strict=True))
    assert all(saturn_score(calc_sat_value, r, f) == 1.0 for r, f in pairs)
    assert all(verify(r, clauses_from_saturn(f), 7).correct for r, f in pairs)
    rounds = 10

    def score_theirs(_):
        start = time.perf_counter()
        for _ in range(rounds):
            for r, f in pairs:
                saturn_score(calc_sat_value, r, f)
        return time.perf_counter() - start

    def score_ours_from_string(_):
        start = time.perf_counter()
        for _ in range(rounds):
            for r, f in pairs:
                verify(r, clauses_from_saturn(f), 7)
        return time.perf_counter() - start

    def score_ours_stored(_):
        start = time.perf_counter()
        for _ in range(rounds):
            for r, p in zip(responses, problems, strict=True):
                verify(r, p.metadata["clauses"], 7)
        return time.perf_counter() - start

    t_theirs, t_ours = interleaved(args.repeats, score_theirs, score_ours_from_string)
    t_stored = statistics.median(score_ours_stored(r) for r in range(args.repeats))
    scored = rounds * len(pairs)
    print(
        f"| correct answers scored/s at (3,7,40), both from SATURN's formula string "
        f"| {scored / t_theirs:,.0f} | {scored / t_ours:,.0f} | {t_theirs / t_ours:.1f}x |"
    )
    print(f"| (reference) thinkgym from its stored clause lists, no parsing | | {scored / t_stored:,.0f} | |")
    fooled_theirs = fooled_ours = total = 0
    for p, f in zip(problems, formulas, strict=True):
        for bad in (p.answer[:-1], p.answer[:-3], "", p.answer + "2", p.answer[:3] + "x" + p.answer[4:]):
            if bad == p.answer or (len(bad) == 7 and set(bad) <= {"0", "1"}):
                continue
            total += 1
            fooled_theirs += saturn_score(calc_sat_value, "\\boxed{" + bad + "}", f) == 1.0
            fooled_ours += verify("\\boxed{" + bad + "}", p.metadata["clauses"], 7).correct
    print(f"| malformed assignments accepted as correct (of {total}) | {fooled_theirs} | {fooled_ours} | |")
    print(f"\nload average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
