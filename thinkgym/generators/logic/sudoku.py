"""Sudoku on 4x4 (2x2 boxes), 6x6 (2x3 boxes) and 9x9 (3x3 boxes) grids; unique solution.

A full grid comes from the classic pattern ``(w*(r % h) + r // h + c) % n`` (boxes of h rows x w
columns) shuffled by digit relabelling, rows within bands, bands, columns within stacks and
stacks. Givens are then removed in random order while MiniSat proves the solution unique
(:func:`~thinkgym.generators.logic.pysat_tools.minimise`), up to ``holes`` removals; with
``holes >= n*n`` the result is a minimal puzzle (no given can go).

Parameters: ``size`` (4, 6 or 9), ``holes`` (0..size^2: how many givens to try to remove).
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any

from thinkgym.generators.logic.base import Puzzle, int_param
from thinkgym.generators.logic.latin import (
    cell_var,
    decode_grid,
    describe_grid,
    format_grid,
    latin_square_cnf,
    random_row_fill,
)
from thinkgym.generators.logic.pysat_tools import CNF, UniqueChecker, minimise

__all__ = ["BOXES", "Sudoku", "shuffled_latin"]

BOXES = {4: (2, 2), 6: (2, 3), 9: (3, 3)}


def shuffled_latin(n: int, h: int, w: int, rng: random.Random) -> list[list[int]]:
    """A random grid with the sudoku pattern (a Latin square whose h x w boxes are complete)."""
    base = [[(w * (r % h) + r // h + c) % n for c in range(n)] for r in range(n)]
    digits = list(range(1, n + 1))
    rng.shuffle(digits)
    bands = list(range(n // h))
    rng.shuffle(bands)
    rows = [b * h + i for b in bands for i in rng.sample(range(h), h)]
    stacks = list(range(n // w))
    rng.shuffle(stacks)
    cols = [s * w + j for s in stacks for j in rng.sample(range(w), w)]
    return [[digits[base[r][c]] for c in cols] for r in rows]


@cache
def _box_rules(n: int) -> CNF:
    """Each value once per box, at-most-one as native constraints (built once per size, never
    mutated)."""
    cnf, x = CNF(native_cardinality=True), cell_var(n)
    h, w = BOXES[n]
    for v in range(1, n + 1):
        for br in range(0, n, h):
            for bc in range(0, n, w):
                cnf.exactly_one([x(br + i, bc + j, v) for i in range(h) for j in range(w)])
    return cnf


class Sudoku(Puzzle):
    name = "sudoku"
    title = "Sudoku"
    unique = True
    param_names = ("size", "holes")
    # With one-hot rules MiniSat's effort is set mostly by the grid size; within 9x9 a minimal
    # puzzle needs search (decisions, conflicts) that a half-empty one does not.
    levels = {
        1: {"size": 4, "holes": 6},
        2: {"size": 6, "holes": 36},
        3: {"size": 9, "holes": 40},
        4: {"size": 9, "holes": 81},
    }
    example_params = {"size": 4, "holes": 10}
    rules = (
        "Fill every empty cell (shown as .) so that each row, each column and each box contains every "
        "number from 1 to N exactly once. The grid is N x N; for N=4 the boxes are 2x2, for N=6 they are "
        "2 rows x 3 columns, for N=9 they are 3x3. The given numbers must stay."
    )
    answer_format = (
        "the completed grid, row by row from the top, each row as its N digits, rows separated by '/', "
        "e.g. 1234/3412/2143/4321 (whitespace is ignored)."
    )

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        size = params.get("size")
        if size not in BOXES or isinstance(size, bool):
            raise ValueError(f"size must be one of {sorted(BOXES)}, got {size!r}")
        holes = int_param(params, "holes", 0, size * size)
        return {"size": size, "holes": holes}

    def cnf(self, n: int) -> tuple[CNF, Any]:
        """The rules, each "exactly one" (per cell, and per value in each row, column and box) as a
        clause and a native AtMost-1 constraint (Minicard): 8n² calls to load instead of the
        pairwise encoding's 4n²(1 + n(n-1)/2) clauses (648 instead of 11,988 for 9x9)."""
        cnf, x = latin_square_cnf(n, native=True)
        box = _box_rules(n)
        cnf.clauses += box.clauses
        cnf.atmosts += box.atmosts
        return cnf, x

    def build(self, params: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], Any]:
        n = params["size"]
        h, w = BOXES[n]
        solution = shuffled_latin(n, h, w, rng)
        cnf, x = self.cnf(n)
        givens = [x(r, c, solution[r][c]) for r in range(n) for c in range(n)]
        checker = UniqueChecker(cnf.clauses, cnf.top, givens, cnf.atmosts)
        kept = set(minimise(checker, givens, rng, params["holes"]))
        checker.close()
        grid = [[solution[r][c] if x(r, c, solution[r][c]) in kept else 0 for c in range(n)] for r in range(n)]
        return {"size": n, "box": [h, w], "grid": grid}, solution

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        n = instance["size"]
        cnf, x = self.cnf(n)
        for r, row in enumerate(instance["grid"]):
            for c, v in enumerate(row):
                if v:
                    cnf.add([x(r, c, v)])
        return cnf, list(range(1, n**3 + 1)), lambda true: decode_grid(n, x, true)

    def describe(self, instance: dict[str, Any]) -> str:
        n, (h, w) = instance["size"], instance["box"]
        return f"N = {n} (boxes of {h} rows x {w} columns):\n{describe_grid(instance['grid'])}"

    def format_answer(self, solution: Any) -> str:
        return format_grid(solution)

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        return format_grid(random_row_fill(instance["grid"], instance["size"], rng))
