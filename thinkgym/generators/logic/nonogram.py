"""Nonograms: fill cells of a grid so that each row's and each column's runs of filled cells match
its clue; unique solution.

CNF: one variable per cell; for each line every placement of its runs is enumerated, a selector
per placement fixes every cell of the line, and at least one placement must be chosen (two
different placements disagree on some cell, so at most one can hold). Generation draws random
grids (each cell filled with probability ``density``/100) until MiniSat proves the clues have a
single solution (solve, block, solve again); after 50 draws it gives the cells that separate the
last grid from the other solutions as givens (filled ``#`` or empty ``x``), removed while the
solution stays unique, so every instance is unique.

Parameters: ``rows`` and ``columns`` (2..15), ``density`` (percent, 20..80).
"""

from __future__ import annotations

import itertools
import random
from typing import Any, ClassVar

from thinkgym.generators.logic.base import Puzzle, int_param
from thinkgym.generators.logic.pysat_tools import CNF, UniqueChecker, minimise

__all__ = ["Nonogram", "placements", "runs"]


def runs(line: list[int]) -> list[int]:
    """The lengths of the runs of 1s in ``line``, in order."""
    return [len(list(g)) for bit, g in itertools.groupby(line) if bit]


def placements(clue: list[int], length: int) -> list[list[int]]:
    """Every 0/1 line of ``length`` whose runs are ``clue``."""
    if not clue:
        return [[0] * length]
    out = []
    first, rest = clue[0], clue[1:]
    tail_min = sum(rest) + len(rest)
    for start in range(length - tail_min - first + 1):
        head = [0] * start + [1] * first
        if rest:
            for tail in placements(rest, length - start - first - 1):
                out.append(head + [0] + tail)
        else:
            out.append(head + [0] * (length - start - first))
    return out


class Nonogram(Puzzle):
    name = "nonogram"
    title = "nonogram"
    unique = True
    param_names = ("rows", "columns", "density")
    levels = {
        1: {"rows": 3, "columns": 3, "density": 50},
        2: {"rows": 5, "columns": 5, "density": 55},
        3: {"rows": 7, "columns": 7, "density": 55},
        4: {"rows": 10, "columns": 10, "density": 55},
        5: {"rows": 12, "columns": 12, "density": 55},
    }
    example_params = {"rows": 3, "columns": 4, "density": 50}
    tries: ClassVar[int] = 50  # random grids drawn before falling back to given cells (>= 1)
    rules = (
        "Fill cells of the grid. The clue of a row (left to right) or a column (top to bottom) lists the "
        "lengths of its blocks of consecutive filled cells, in order, with at least one empty cell between "
        "blocks; 0 means the line is empty. Cells shown as # are filled and x are empty in the solution."
    )
    answer_format = (
        "the grid row by row from the top, each row as a string of 1 (filled) and 0 (empty), rows "
        "separated by '/', e.g. 110/011/010 (whitespace is ignored)."
    )

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "rows": int_param(params, "rows", 2, 15),
            "columns": int_param(params, "columns", 2, 15),
            "density": int_param(params, "density", 20, 80),
        }

    def rules_cnf(self, row_clues: list[list[int]], col_clues: list[list[int]]) -> CNF:
        h, w = len(row_clues), len(col_clues)
        cnf = CNF()
        cnf.top = h * w
        lines = [(clue, [r * w + c + 1 for c in range(w)]) for r, clue in enumerate(row_clues)]
        lines += [(clue, [r * w + c + 1 for r in range(h)]) for c, clue in enumerate(col_clues)]
        for clue, cells in lines:
            options = placements(clue, len(cells))
            if len(options) == 1:
                cnf.clauses.extend([v if bit else -v] for v, bit in zip(cells, options[0], strict=True))
                continue
            chosen = []
            for option in options:
                p = cnf.var()
                chosen.append(p)
                cnf.clauses.extend([-p, v if bit else -v] for v, bit in zip(cells, option, strict=True))
            cnf.add(chosen)
        return cnf

    def build(self, params: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], Any]:
        h, w, p = params["rows"], params["columns"], params["density"] / 100
        for _ in range(self.tries):
            grid = [[int(rng.random() < p) for _ in range(w)] for _ in range(h)]
            row_clues = [runs(row) for row in grid]
            col_clues = [runs([grid[r][c] for r in range(h)]) for c in range(w)]
            cnf = self.rules_cnf(row_clues, col_clues)
            cells = [(r * w + c + 1) * (1 if grid[r][c] else -1) for r in range(h) for c in range(w)]
            checker = UniqueChecker(cnf.clauses, cnf.top, [v for v in cells if v > 0])
            if checker.unique([]):
                checker.close()
                givens = [[-1] * w for _ in range(h)]
                break
            checker.close()
        else:  # give cells: every cell as a hint, thinned while unique
            checker = UniqueChecker(cnf.clauses, cnf.top, cells)
            kept = set(minimise(checker, cells, rng))
            checker.close()
            givens = [[grid[r][c] if cells[r * w + c] in kept else -1 for c in range(w)] for r in range(h)]
        return {"rows": row_clues, "columns": col_clues, "givens": givens}, grid

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        cnf = self.rules_cnf(instance["rows"], instance["columns"])
        w = len(instance["columns"])
        for r, row in enumerate(instance["givens"]):
            for c, g in enumerate(row):
                if g >= 0:
                    cnf.add([(r * w + c + 1) * (1 if g else -1)])
        h = len(instance["rows"])

        def decode(true: set[int]) -> list[list[int]]:
            return [[int(r * w + c + 1 in true) for c in range(w)] for r in range(h)]

        return cnf, list(range(1, h * w + 1)), decode

    def describe(self, instance: dict[str, Any]) -> str:
        def clue(c: list[int]) -> str:
            return " ".join(map(str, c)) or "0"

        lines = [f"{len(instance['rows'])} rows x {len(instance['columns'])} columns"]
        lines += ["Row clues (top to bottom):"] + [f"row {i}: {clue(c)}" for i, c in enumerate(instance["rows"], 1)]
        lines += ["Column clues (left to right):"]
        lines += [f"column {i}: {clue(c)}" for i, c in enumerate(instance["columns"], 1)]
        if any(g >= 0 for row in instance["givens"] for g in row):
            lines.append("Given cells (# filled, x empty, . unknown):")
            lines += ["".join(".x#"[g + 1] for g in row) for row in instance["givens"]]
        return "\n".join(lines)

    def format_answer(self, solution: Any) -> str:
        return "/".join("".join(map(str, row)) for row in solution)

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        w = len(instance["columns"])
        return "/".join("".join(map(str, rng.choice(placements(c, w)))) for c in instance["rows"])
