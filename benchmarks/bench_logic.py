"""Logic puzzles: thinkgym's generators and verifier side by side with reasoning-gym's.

For each family both projects have (Sudoku 9x9 and 4x4, Futoshiki, N-queens, graph colouring,
zebra puzzles, knights and knaves), at matched sizes, three measures:

1. Problems generated per second. Both sides generate ``--count`` problems, one item each in
   turn (``--block N``: N items each in turn, so each side runs with its own code and data warm in
   the CPU caches, as a loop generating one family does), so a shared machine's changing load hits
   both alike; set-up is counted once on each side
   (reasoning-gym's dataset construction, e.g. its list of every n-queens solution; thinkgym's
   per-process caches, e.g. its own list of every n-queens solution, the rule clauses per board
   size, the solver features of the last 4,096 n-queens boards, graph colouring's edge texts and
   clauses, and each family's remembered parameters, prompt head and worked example, are emptied
   before each row so the first item pays for them). The ratio is thinkgym / reasoning-gym from that one run. Time
   is the process's CPU time (``time.process_time``), not wall time, so other processes on a
   shared machine do not inflate either side, and the garbage collector is off while timing (as
   ``timeit`` does: with a few thousand problems kept, a collection's pause falls on whichever
   side happens to trigger it and moved single rows by 2x either way). thinkgym's figure
   includes what it does on top (proving uniqueness, counting solutions up to 10, recording the
   solver's effort). The distinct-problem counts (identical problems on each side) are reported
   separately, and for graph colouring the trivial instances too: those whose 3-core is empty, so
   that thinkgym's peel colours them with no SAT call (counted on both sides' graphs).
2. Whether each project's stored answer passes its own scorer (score == 1.0).
3. Valid-but-different answers: for every instance, MiniSat (through thinkgym's encodings, fed the
   other project's puzzle where needed) looks for a solution other than the stored one. Where one
   exists it is written in the project's own answer format and scored; the table gives how many
   instances have one and how many of those the scorer accepts with full marks. Zebra (reasoning-gym
   asks for one attribute) and knights and knaves (unique on both sides) are not applicable.

Run:  python benchmarks/bench_logic.py [--count 200]
      python benchmarks/bench_logic.py --speed-only [--count 2000] [--repeat 3] [--only N-queens,Graph]
                                        [--block 100]
      python benchmarks/bench_logic.py --scaling [--count 200]   # speed only, N-queens and
      graph colouring over board sizes, and one denser graph
Needs ``pip install reasoning-gym`` (0.1.25 was measured); nothing is downloaded at run time.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import platform
import sys
import time
from importlib.metadata import version
from typing import Any

import reasoning_gym

from thinkgym.generators import logic
from thinkgym.generators.logic.graph_colouring import peel
from thinkgym.generators.logic.pysat_tools import new_solver
from thinkgym.generators.logic.sudoku import BOXES
from thinkgym.verifiers.logic import verify

# label -> (reasoning-gym dataset, its config, thinkgym family, its parameters)
PAIRS: dict[str, tuple[str, dict[str, Any], str, dict[str, Any]]] = {
    "Sudoku 9x9": ("sudoku", {"min_empty": 40, "max_empty": 40}, "sudoku", {"size": 9, "holes": 40}),
    "Sudoku 4x4": ("mini_sudoku", {"min_empty": 10, "max_empty": 10}, "sudoku", {"size": 4, "holes": 10}),
    "Futoshiki 5x5": (
        "futoshiki",
        {"min_board_size": 5, "max_board_size": 5, "min_difficulty": 1, "max_difficulty": 1},
        "futoshiki",
        {"size": 5},
    ),
    "N-queens 8 (4 placed)": (
        "n_queens",
        {"n": 8, "min_remove": 4, "max_remove": 4},
        "n_queens",
        {"n": 8, "placed": 4},
    ),
    "Graph colouring 10 vertices, 3 colours": (
        "graph_color",
        {"num_colors": 3, "min_num_vertices": 10, "max_num_vertices": 10, "edge_probability": 0.2},
        "graph_colouring",
        {"vertices": 10, "colours": 3, "edges": 9},
    ),
    "Zebra 4 houses x 4 categories": (
        "zebra_puzzles",
        {"num_people": 4, "num_characteristics": 4},
        "zebra",
        {"houses": 4, "categories": 4},
    ),
    "Knights and knaves, 3 people": ("knights_knaves", {"n_people": 3}, "knights_knaves", {"people": 3}),
}


def _scaling_pairs() -> dict[str, tuple[str, dict[str, Any], str, dict[str, Any]]]:
    """N-queens (half the queens given) and graph colouring (3 colours, reasoning-gym's edge
    probability 0.1, thinkgym's edge count its expected value) over board sizes, and one denser
    graph (12 vertices, probability 0.35, thinkgym's level 3 density) where most graphs keep a
    3-core for the solver and reasoning-gym's greedy colouring often fails and redraws."""
    pairs = {}
    for n in (6, 8, 10, 12):
        cfg = {"n": n, "min_remove": n // 2, "max_remove": n // 2}
        pairs[f"N-queens {n} ({n - n // 2} placed)"] = ("n_queens", cfg, "n_queens", {"n": n, "placed": n - n // 2})
    for v, prob in ((10, 0.1), (20, 0.1), (30, 0.1), (12, 0.35)):
        cfg = {"num_colors": 3, "min_num_vertices": v, "max_num_vertices": v, "edge_probability": prob}
        edges = round(prob * v * (v - 1) / 2)
        pairs[f"Graph colouring {v} vertices, 3 colours, {edges} edges"] = (
            "graph_color",
            cfg,
            "graph_colouring",
            {"vertices": v, "colours": 3, "edges": edges},
        )
    return pairs


def clear_caches() -> None:
    """Empties thinkgym's per-process logic caches (rule clauses, n-queens solution lists, edge
    texts, each family's remembered parameters, prompt head and worked example), so the first
    problem of a row pays for them as reasoning-gym's dataset construction does."""
    for name, module in list(sys.modules.items()):
        if name.startswith("thinkgym.generators.logic"):
            for obj in vars(module).values():
                if isinstance(obj, functools._lru_cache_wrapper):
                    obj.cache_clear()
    for fam in logic.FAMILIES.values():
        fam.clear_memos()


def problem_key(item: Any) -> str:
    """What makes two generated problems identical: thinkgym's instance, reasoning-gym's question."""
    return json.dumps(item.metadata["instance"], sort_keys=True) if hasattr(item, "metadata") else item["question"]


def other_solution(puzzle: str, instance: dict[str, Any], stored: str) -> str | None:
    """The answer text of a solution other than ``stored`` (MiniSat / Minicard with blocking
    clauses), or None."""
    fam = logic.get(puzzle)
    cnf, answer_vars, decode = fam.encode(instance)
    with new_solver(cnf.clauses, cnf.atmosts) as s:
        while s.solve():
            true = set(s.get_model())
            text = fam.format_answer(decode(true))
            if text != stored:
                return text
            s.add_clause([-v if v in true else v for v in answer_vars])
    return None


def rg_graph_edges(item: dict[str, Any]) -> list[list[int]]:
    """A reasoning-gym graph-colouring item's edges, numbered from 1 as thinkgym numbers them."""
    return [[a + 1, b + 1] for a, b in item["metadata"]["puzzle"]["edges"]]


def rg_alternative(name: str, ds: Any, item: dict[str, Any]) -> str | None:
    """A valid answer to a reasoning-gym item other than its stored one, in its own format."""
    meta = item["metadata"]
    if name in ("sudoku", "mini_sudoku"):
        grid = meta["puzzle"]
        n = len(grid)
        stored = "/".join("".join(map(str, row)) for row in meta["solution"])
        alt = other_solution("sudoku", {"size": n, "box": list(BOXES[n]), "grid": grid}, stored)
        return None if alt is None else "\n".join(" ".join(row) for row in alt.split("/"))
    if name == "futoshiki":
        ineqs = []
        for r1, c1, r2, c2, sign in meta["constraints"]:
            a, b = [r1, c1], [r2, c2]
            ineqs.append([a, b] if sign == "<" else [b, a])
        stored = "/".join("".join(map(str, row)) for row in meta["solution"])
        instance = {"size": len(meta["puzzle"]), "grid": meta["puzzle"], "inequalities": ineqs}
        alt = other_solution("futoshiki", instance, stored)
        if alt is None:
            return None
        grid = [[int(ch) for ch in row] for row in alt.split("/")]
        return ds._puzzle_to_string(grid, {((r1, c1), (r2, c2)): sign for r1, c1, r2, c2, sign in meta["constraints"]})
    if name == "n_queens":
        board = meta["puzzle"]
        n = len(board)
        queens = [[r + 1, c + 1] for r in range(n) for c in range(n) if board[r][c] == "Q"]
        rows = item["answer"].split("\n")
        stored = ",".join(str(row.split(" ").index("Q") + 1) for row in rows)
        alt = other_solution("n_queens", {"n": n, "queens": queens}, stored)
        if alt is None:
            return None
        cols = [int(c) for c in alt.split(",")]
        return "\n".join(" ".join("Q" if c + 1 == cols[r] else "_" for c in range(n)) for r in range(n))
    if name == "graph_color":
        puzzle = meta["puzzle"]
        v = len(puzzle["vertices"])
        instance = {"vertices": v, "colours": puzzle["num_colors"], "edges": rg_graph_edges(item)}
        stored = ",".join(str(meta["possible_answer"][i]) for i in range(v))
        alt = other_solution("graph_colouring", instance, stored)
        return None if alt is None else json.dumps({str(i): int(c) for i, c in enumerate(alt.split(","))})
    return None  # zebra (one attribute asked), knights and knaves: not applicable


def run(count: int, pairs: dict[str, Any] = PAIRS, speed_only: bool = False, block: int = 1) -> list[dict[str, Any]]:
    rows = []
    ds = ours = rg_items = None
    for label, (rg_name, rg_cfg, puzzle, params) in pairs.items():
        fam = logic.get(puzzle)
        ds = ours = rg_items = None  # the last row's data is freed here, untimed, not inside a side's time
        clear_caches()
        gc.collect()
        t = time.process_time()
        ds = reasoning_gym.create_dataset(rg_name, size=count, seed=1000, **rg_cfg)
        rg_t, ours_t = time.process_time() - t, 0.0  # rg's dataset set-up (n-queens: all solutions) counts
        ours = []
        rg_items = []
        gc.collect()
        gc.disable()  # as timeit does: a collection's pause would land on whichever side triggered it
        try:
            for start in range(0, count, block):  # block items each, alternately (load hits both alike)
                stop = min(start + block, count)
                t = time.process_time()
                for i in range(start, stop):
                    rg_items.append(ds[i])
                t2 = time.process_time()
                for i in range(start, stop):
                    ours.append(fam.generate(params, i))
                ours_t += time.process_time() - t2
                rg_t += t2 - t
        finally:
            gc.enable()
        n = count
        empty_core: tuple[int, int] | None = None
        if puzzle == "graph_colouring":  # trivial instances: the peel alone colours them
            k = params["colours"]
            empty_core = (
                sum(p.metadata["solver"]["core_vertices"] == 0 for p in ours),
                sum(not peel(len(it["metadata"]["puzzle"]["vertices"]), k, rg_graph_edges(it))[2] for it in rg_items),
            )
        speed = {
            "family": label,
            "n": n,
            "block": block,
            "thinkgym_per_s": n / ours_t,
            "rg_per_s": n / rg_t,
            "ratio": (n / ours_t) / (n / rg_t),
            "thinkgym_distinct": len({problem_key(p) for p in ours}),
            "rg_distinct": len({problem_key(it) for it in rg_items}),
            "empty_core": empty_core,
        }
        if speed_only:
            rows.append(speed)
            print(json.dumps(rows[-1]), flush=True)
            continue
        rg_sets = [ds] * count
        rg_own = sum(ds.score_answer(it["answer"], it) == 1.0 for ds, it in zip(rg_sets, rg_items, strict=True))
        our_own = sum(verify(f"\\boxed{{{p.answer}}}", p).correct for p in ours)
        rg_alt = rg_acc = our_alt = our_acc = 0
        applicable = puzzle not in ("zebra", "knights_knaves")
        if applicable:
            for ds, it in zip(rg_sets, rg_items, strict=True):
                alt = rg_alternative(rg_name, ds, it)
                if alt is not None:
                    rg_alt += 1
                    rg_acc += ds.score_answer(alt, it) == 1.0
            for p in ours:
                alt = other_solution(puzzle, p.metadata["instance"], p.answer)
                if alt is not None:
                    our_alt += 1
                    our_acc += verify(f"\\boxed{{{alt}}}", p).correct
        rows.append(
            {
                **speed,
                "thinkgym_stored_pass": our_own,
                "rg_stored_pass": rg_own,
                "applicable": applicable,
                "thinkgym_alt": our_alt,
                "thinkgym_alt_accepted": our_acc,
                "rg_alt": rg_alt,
                "rg_alt_accepted": rg_acc,
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    return rows


def median_row(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median ratio, with the range of the ratio over all runs."""
    ordered = sorted(runs, key=lambda r: r["ratio"])
    return {**ordered[len(ordered) // 2], "runs": len(runs), "low": ordered[0]["ratio"], "high": ordered[-1]["ratio"]}


def speed_table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| family | problems | runs | thinkgym problems/s | reasoning-gym problems/s | ratio (median) | ratio range "
        "| distinct problems (thinkgym / rg) | empty 3-core: the peel alone colours it (thinkgym / rg) |",
        "|---|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        empty = r.get("empty_core")
        trivial = "n/a" if empty is None else f"{empty[0]} / {empty[1]}"
        out.append(
            f"| {r['family']} | {r['n']} | {r.get('runs', 1)} | {r['thinkgym_per_s']:.0f} | {r['rg_per_s']:.0f} | "
            f"{r['ratio']:.2f}x | {r.get('low', r['ratio']):.2f}-{r.get('high', r['ratio']):.2f}x | "
            f"{r['thinkgym_distinct']} / {r['rg_distinct']} | {trivial} |"
        )
    return "\n".join(out)


def table(rows: list[dict[str, Any]]) -> str:
    out = [
        "| family | thinkgym problems/s | reasoning-gym problems/s | ratio | stored answer passes own scorer "
        "(thinkgym / rg) | instances with another valid answer (thinkgym / rg) | of those, accepted (thinkgym / rg) |",
        "|---|---:|---:|---:|---|---|---|",
    ]
    for r in rows:
        alt = f"{r['thinkgym_alt']} / {r['rg_alt']}" if r["applicable"] else "n/a"
        acc = f"{r['thinkgym_alt_accepted']} / {r['rg_alt_accepted']}" if r["applicable"] else "n/a"
        out.append(
            f"| {r['family']} | {r['thinkgym_per_s']:.0f} | {r['rg_per_s']:.0f} | {r['ratio']:.2f}x | "
            f"{r['thinkgym_stored_pass']}/{r['n']} / {r['rg_stored_pass']}/{r['n']} | {alt} | {acc} |"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=200, help="problems per family and side")
    parser.add_argument("--scaling", action="store_true", help="speed only, over board sizes")
    parser.add_argument("--speed-only", action="store_true", help="the shared families, speed only")
    parser.add_argument(
        "--repeat", type=int, default=1, help="speed only: runs per row; the table gives the median ratio and its range"
    )
    parser.add_argument("--only", default="", help="comma-separated words; keep the rows whose label has one")
    parser.add_argument(
        "--block",
        type=int,
        default=1,
        help="items each side generates per turn (1: strictly alternating, the default; larger: each side "
        "runs with its own code and data warm in the CPU caches, as a loop that generates one family would)",
    )
    args = parser.parse_args()
    if args.block < 1:
        parser.error(f"--block must be at least 1, got {args.block}")
    print(
        f"machine: {platform.machine()}, {platform.python_version()}, reasoning-gym {version('reasoning-gym')}, "
        f"{args.block} item(s) per side per turn"
    )
    if args.scaling or args.speed_only:
        pairs = _scaling_pairs() if args.scaling else PAIRS
        words = [w for w in args.only.split(",") if w]
        pairs = {k: v for k, v in pairs.items() if not words or any(w in k for w in words)}
        runs = [run(args.count, pairs, speed_only=True, block=args.block) for _ in range(args.repeat)]
        print(speed_table([median_row([r[i] for r in runs]) for i in range(len(pairs))]))
        return
    rows = run(args.count, block=args.block)
    print(table(rows))
    print(speed_table(rows))


if __name__ == "__main__":
    main()
