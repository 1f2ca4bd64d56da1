"""thinkgym.verifiers.math against Hugging Face's Math-Verify, on the same pairs in one run.

Usage::

    pip install math-verify==0.9.0   # benchmark-only dependency
    python benchmarks/bench_math_verify.py [--table tests/data/math_pairs.jsonl] [--gold-wrap boxed|dollar]

For every row of the labelled pair table both checkers see the same response: the ``pred``
wrapped as ``The answer is $\\boxed{pred}$.`` (rows of category ``extraction`` are whole
responses and are used as they are). Math-Verify is scored through its documented API:
``verify(parse(gold), parse(response))``, with the gold wrapped as ``\\boxed{gold}`` (or
``$gold$``), as its README and the verl/open-r1 integrations do.

Before timing, both checkers are warmed up on the same pairs (``math_compare.WARM_UP_PAIRS``, the
pairs our worker process parses once at start-up; none is in the table), and Math-Verify's answer
caches are cleared. Then the table is checked twice, each pair once per pass, sequentially, in this
thread:

- pass 1, *first sight*: no checker has seen these answers; the LaTeX parser (ANTLR) still has
  to build its prediction cache for every new shape of input, which dominates both checkers' cost;
- pass 2, *seen before*: Math-Verify's answer caches are cleared again (ours keeps none), but the
  parser's prediction cache and SymPy's internal cache stay warm in both, as in a long RL run
  where the same golds and similar answers recur.

Printed per pass: accuracy, false positives and false negatives against the labels; median, mean
and 90th-percentile milliseconds per pair; pairs per second over the whole table and the ratio.
Then pass 3, *unseen shapes*: seeded random pairs of nested expressions (no labels: the two
checkers' agreement is printed), whose shapes neither parser has met. Last, the time our checker
takes to settle each adversarial input (Math-Verify is not run on those: several of them hang it
for minutes, its issue #65).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from thinkgym.verifiers.math import verify as our_verify  # noqa: E402
from thinkgym.verifiers.math_compare import WARM_UP_PAIRS  # noqa: E402

ISSUE_65 = "\\dfrac{5^{\\left(5^{\\left(5^{\\left(5^5\\right)}\\right)} - 4\\right)} - 5}{16}"

A6_NOTE = "verifiers.md A6"  # how the table's notes mark the pairs taken from the reference table
ADVERSARIAL: list[tuple[str, str, str]] = [
    ("power tower 9^{9^{9^9}}", "\\boxed{9^{9^{9^9}}}", "5"),
    ("power tower vs symbolic gold", "\\boxed{9^{9^{9^9}}}", "x+1"),
    ("Math-Verify issue #65", "\\boxed{" + ISSUE_65 + "}", "3"),
    ("(10^{100})!", "\\boxed{(10^{100})!}", "1"),
    ("2^{3^{4^{5}}}", "\\boxed{2^{3^{4^{5}}}}", "2"),
    ("10^{10^{10}}", "\\boxed{10^{10^{10}}}", "10"),
    ("x^{10^{10}}", "\\boxed{x^{10^{10}}}", "x"),
    ("e^{e^{e^{10}}}", "\\boxed{e^{e^{e^{10}}}}", "1"),
    ("huge binomial", "\\boxed{\\binom{10^{9}}{5\\cdot10^{8}}}", "2"),
    ("10,000-deep braces", "\\boxed{" + "{" * 10_000 + "1" + "}" * 10_000 + "}", "1"),
    ("10,000-deep parentheses", "\\boxed{" + "(" * 10_000 + "1" + ")" * 10_000 + "}", "1"),
    ("10,000-deep fractions", "\\boxed{" + "\\frac{1}{" * 10_000 + "2" + "}" * 10_000 + "}", "1"),
    ("1 MB response, no answer", "lorem ipsum " * 90_000, "1"),
    ("1 MB inside a box", "\\boxed{" + "x+" * 500_000 + "1}", "1"),
    ("1 MB of digits", "\\boxed{" + "1" * 1_000_000 + "}", "1"),
    ("100,000 boxes", "\\boxed{1} " * 100_000, "2"),
    ("1 MB of unclosed braces", "\\boxed{" + "{" * 1_000_000, "1"),
    ("sin(10^{100})", "\\boxed{\\sin(10^{100})}", "0"),
    ("(x+y+z)^{100} vs reordered", "\\boxed{(x+y+z)^{100}}", "(z+y+x)^{100}"),
    ("issue #65 mixed text", "\\boxed{{@Neillier 1276915 4951077 {1,1-3-10);5_GENERAL2 }}", "92.5857658508735"),
]


def synthetic_pairs(n: int, seed: int = 5) -> list[tuple[str, str]]:
    """``n`` random (gold, prediction) pairs of nested expressions, sets, tuples and relations."""
    rng = random.Random(seed)
    atoms = ["3", "12", "x", "y", "\\pi", "e", "2", "5", "\\frac{1}{2}", "\\sqrt{3}"]

    def expr(depth: int = 0) -> str:
        if depth > 1 or rng.random() < 0.35:
            return rng.choice(atoms)
        a, b = expr(depth + 1), expr(depth + 1)
        forms = [f"{a}+{b}", f"{a}-{b}", f"{a}{b}", f"\\frac{{{a}}}{{{b}}}", f"{a}^2", f"\\sqrt{{{a}}}", f"\\sin({a})"]
        return rng.choice([*forms, f"\\ln({a})", f"({a})"])

    def shape() -> str:
        a, b = expr(), expr()
        return rng.choice(
            [expr(), expr(), expr(), f"({a}, {b})", f"\\{{{a}, {b}\\}}", f"x={a}", f"x<{a}", f"[{a}, {b})"]
        )

    pairs = []
    for _ in range(n):
        gold = shape()
        pred = gold if rng.random() < 0.2 else (shape() if rng.random() < 0.5 else gold.replace("2", "4"))
        pairs.append((gold, pred))
    return pairs


def load_table(path: Path) -> list[dict[str, object]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def response_for(row: dict[str, object]) -> str:
    pred = str(row["pred"])
    return pred if row["category"] == "extraction" else f"The answer is $\\boxed{{{pred}}}$."


def math_verify_checker(gold_wrap: str) -> tuple[Callable[[str, str], bool], Callable[[], None]]:
    from math_verify import parse, verify
    from math_verify import parser as mv_parser

    def check(response: str, gold: str) -> bool:
        wrapped = f"\\boxed{{{gold}}}" if gold_wrap == "boxed" else f"${gold}$"
        try:
            return bool(verify(parse(wrapped), parse(response)))
        except Exception:  # noqa: BLE001 - count any failure as "not correct", as its users do
            return False

    def clear_caches() -> None:
        for name in dir(mv_parser):
            cache_clear = getattr(getattr(mv_parser, name), "cache_clear", None)
            if callable(cache_clear):
                cache_clear()

    return check, clear_caches


def score(check: Callable[[str, str], bool], rows: list[dict[str, object]]) -> dict[str, object]:
    times, fp, fn, fp_rows, fn_rows = [], 0, 0, [], []
    start = time.perf_counter()
    for row in rows:
        t0 = time.perf_counter()
        got = check(response_for(row), str(row["gold"]))
        times.append(time.perf_counter() - t0)
        if got and not row["expected"]:
            fp += 1
            fp_rows.append(row)
        elif not got and row["expected"]:
            fn += 1
            fn_rows.append(row)
    total = time.perf_counter() - start
    return {
        "a6_rows": sum(str(row["note"]).startswith(A6_NOTE) for row in rows),
        "accuracy": 1 - (fp + fn) / len(rows),
        "fp": fp,
        "fn": fn,
        "fp_rows": fp_rows,
        "fn_rows": fn_rows,
        "median_ms": statistics.median(times) * 1e3,
        "mean_ms": statistics.fmean(times) * 1e3,
        "p90_ms": sorted(times)[int(0.9 * len(times))] * 1e3,
        "pairs_per_s": len(rows) / total,
    }


def version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def print_pass(title: str, results: dict[str, dict[str, object]], show_errors: bool) -> None:
    print(title)
    header = ("checker", "accuracy", "FP", "FN", "median ms", "mean ms", "p90 ms", "pairs/s")
    print("{:<12} {:>9} {:>4} {:>4} {:>10} {:>8} {:>7} {:>8}".format(*header))
    for name, r in results.items():
        print(
            f"{name:<12} {r['accuracy']:>9.3f} {r['fp']:>4} {r['fn']:>4} {r['median_ms']:>10.3f} "
            f"{r['mean_ms']:>8.2f} {r['p90_ms']:>7.2f} {r['pairs_per_s']:>8.1f}"
        )
    ratio = results["thinkgym"]["pairs_per_s"] / results["math-verify"]["pairs_per_s"]
    print(f"throughput ratio (thinkgym / math-verify): {ratio:.2f}x")
    for name, r in results.items():
        wrong = [row for row in r["fp_rows"] + r["fn_rows"] if str(row["note"]).startswith(A6_NOTE)]
        print(f"{name}: {len(wrong)} misjudged of the {r['a6_rows']} pairs taken from verifiers.md section A6")
    print()
    if show_errors:
        for name, r in results.items():
            for kind in ("fp_rows", "fn_rows"):
                for row in r[kind]:
                    print(f"  {name} {kind[:2].upper()}: gold={row['gold']!r} pred={row['pred']!r} ({row['category']})")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--table", type=Path, default=ROOT / "tests" / "data" / "math_pairs.jsonl")
    ap.add_argument("--gold-wrap", choices=("boxed", "dollar"), default="boxed")
    ap.add_argument("--show-errors", action="store_true", help="list every misjudged pair")
    ap.add_argument("--synthetic", type=int, default=200, help="random pairs in pass 3 (0: skip it)")
    args = ap.parse_args()
    rows = load_table(args.table)

    def ours(response: str, gold: str) -> bool:
        return our_verify(response, gold).correct

    mv, mv_clear = math_verify_checker(args.gold_wrap)
    for gold, pred in WARM_UP_PAIRS:
        ours(f"\\boxed{{{pred}}}", gold)
        mv(f"\\boxed{{{pred}}}", gold)
    mv_clear()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    print(
        f"versions: sympy {version('sympy')}, latex2sympy2_extended {version('latex2sympy2_extended')}, "
        f"antlr4-python3-runtime {version('antlr4-python3-runtime')}, math-verify {version('math-verify')}"
    )
    print(f"table: {args.table} ({len(rows)} pairs); Math-Verify gold wrapped as {args.gold_wrap}\n")

    first = {"thinkgym": score(ours, rows), "math-verify": score(mv, rows)}
    print_pass("pass 1, first sight:", first, args.show_errors)
    mv_clear()
    second = {"thinkgym": score(ours, rows), "math-verify": score(mv, rows)}
    print_pass("pass 2, seen before (answer caches cleared, parser and SymPy caches warm):", second, False)

    if args.synthetic:
        pairs = synthetic_pairs(args.synthetic)
        times, verdicts = {}, {}
        for name, check in (("thinkgym", ours), ("math-verify", mv)):
            t0 = time.perf_counter()
            verdicts[name] = [check(f"The answer is $\\boxed{{{pred}}}$.", gold) for gold, pred in pairs]
            times[name] = time.perf_counter() - t0
        agree = sum(a == b for a, b in zip(verdicts["thinkgym"], verdicts["math-verify"], strict=True))
        print(f"pass 3, unseen shapes: {len(pairs)} random pairs, verdicts agree on {agree}")
        for name, seconds in times.items():
            print(f"{name:<12} {len(pairs) / seconds:8.1f} pairs/s")
        print(f"throughput ratio (thinkgym / math-verify): {times['math-verify'] / times['thinkgym']:.2f}x\n")

    print("adversarial inputs (thinkgym only):")
    worst = 0.0
    for label, response, gold in ADVERSARIAL:
        t0 = time.perf_counter()
        verdict = our_verify(response, gold)
        dt = time.perf_counter() - t0
        worst = max(worst, dt)
        print(f"  {label:<32} {dt * 1e3:9.1f} ms  correct={verdict.correct!s:<5} reason={verdict.reason}")
    print(f"worst adversarial time: {worst * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
