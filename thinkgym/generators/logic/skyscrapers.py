"""Skyscrapers: a Latin square of building heights with "how many buildings can you see" clues
around the edge; unique solution.

A clue outside a row or column says how many buildings are visible from there: a building is
visible when it is taller than every building in front of it. CNF (one-hot heights x(r, c, h)):
along each line seen from one side, ``m[i][h]`` ("everything before position i is lower than
h") is a Tseitin AND of ``m[i-1][h]`` and the negated heights >= h at position i-1; position i is
visible iff ``OR_h (x_i,h AND m[i][h])``; the clue is a cardinality constraint (pysat's sequential
counter) over those visibility literals, its clauses guarded by a selector.

Generation: a random Latin square gives all 4N clues and all N^2 givens; givens are removed while
the solution stays unique (all clues assumed), then clues (the kept givens assumed), both by
:func:`~thinkgym.generators.logic.pysat_tools.minimise`.

Parameters: ``size`` (3..6).
"""

from __future__ import annotations

import random
from typing import Any

from thinkgym.generators.logic.base import Puzzle, int_param
from thinkgym.generators.logic.latin import (
    GRID_ANSWER_FORMAT,
    Cell,
    decode_grid,
    describe_grid,
    format_grid,
    latin_square_cnf,
    random_latin,
    random_row_fill,
)
from thinkgym.generators.logic.pysat_tools import CNF, UniqueChecker, minimise

__all__ = ["SIDES", "Skyscrapers", "line_cells", "visible"]

SIDES = ("top", "bottom", "left", "right")


def line_cells(side: str, i: int, n: int) -> list[tuple[int, int]]:
    """The cells of line i as seen from ``side``, nearest first."""
    if side == "top":
        return [(r, i) for r in range(n)]
    if side == "bottom":
        return [(r, i) for r in reversed(range(n))]
    if side == "left":
        return [(i, c) for c in range(n)]
    return [(i, c) for c in reversed(range(n))]


def visible(heights: list[int]) -> int:
    """How many buildings are seen from the front of ``heights``."""
    count, tallest = 0, 0
    for h in heights:
        if h > tallest:
            count, tallest = count + 1, h
    return count


def view_clue(cnf: CNF, x: Cell, n: int, cells: list[tuple[int, int]], clue: int, guard: int | None) -> None:
    seen = []
    m: list[int | None] = [None] * (n + 1)  # m[h]: all cells so far are lower than h (None: true)
    for r, c in cells:
        terms = [x(r, c, h) if m[h] is None else cnf.and_([x(r, c, h), m[h]]) for h in range(1, n + 1)]
        seen.append(cnf.or_(terms))
        m = [None] + [
            cnf.and_(([] if m[h] is None else [m[h]]) + [-x(r, c, k) for k in range(h, n + 1)]) for h in range(1, n + 1)
        ]
    start = len(cnf.clauses)
    cnf.cardinality(seen, clue, "equals")
    if guard is not None:
        for clause in cnf.clauses[start:]:
            clause.append(-guard)


class Skyscrapers(Puzzle):
    name = "skyscrapers"
    title = "Skyscrapers"
    unique = True
    param_names = ("size",)
    levels = {1: {"size": 3}, 2: {"size": 4}, 3: {"size": 5}, 4: {"size": 6}}
    example_params = {"size": 3}
    rules = (
        "Each cell of the N x N grid holds a building of height 1 to N; every row and every column "
        "contains each height exactly once. A clue outside the grid says how many buildings are visible "
        "looking from that side along its row or column: a building is visible when it is taller than "
        "every building in front of it. Clues are listed per side: top and bottom from the leftmost "
        "column, left and right from the top row; - means no clue. Given heights (. is empty) must stay."
    )
    answer_format = GRID_ANSWER_FORMAT

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"size": int_param(params, "size", 3, 6)}

    def build(self, params: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], Any]:
        n = params["size"]
        sol = random_latin(n, rng)
        cnf, x = latin_square_cnf(n)
        clues, selectors = [], []
        for side in SIDES:
            for i in range(n):
                cells = line_cells(side, i, n)
                clues.append((side, i, visible([sol[r][c] for r, c in cells])))
                selectors.append(cnf.var())
                view_clue(cnf, x, n, cells, clues[-1][2], selectors[-1])
        givens = [x(r, c, sol[r][c]) for r in range(n) for c in range(n)]
        checker = UniqueChecker(cnf.clauses, cnf.top, givens)
        kept_givens = set(minimise(checker, givens, rng, fixed=selectors))
        kept_sel = set(minimise(checker, selectors, rng, fixed=sorted(kept_givens)))
        checker.close()
        grid = [[v if x(r, c, v) in kept_givens else 0 for c, v in enumerate(row)] for r, row in enumerate(sol)]
        views = {side: [0] * n for side in SIDES}
        for (side, i, clue), s in zip(clues, selectors, strict=True):
            if s in kept_sel:
                views[side][i] = clue
        return {"size": n, "grid": grid, "clues": views}, sol

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        n = instance["size"]
        cnf, x = latin_square_cnf(n)
        for r, row in enumerate(instance["grid"]):
            for c, v in enumerate(row):
                if v:
                    cnf.add([x(r, c, v)])
        for side in SIDES:
            for i, clue in enumerate(instance["clues"][side]):
                if clue:
                    view_clue(cnf, x, n, line_cells(side, i, n), clue, None)
        return cnf, list(range(1, n**3 + 1)), lambda true: decode_grid(n, x, true)

    def describe(self, instance: dict[str, Any]) -> str:
        views = "\n".join(
            f"{side}: {' '.join(str(v) if v else '-' for v in instance['clues'][side])}" for side in SIDES
        )
        return f"N = {instance['size']}\nClues:\n{views}\nGrid:\n{describe_grid(instance['grid'])}"

    def format_answer(self, solution: Any) -> str:
        return format_grid(solution)

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        return format_grid(random_row_fill(instance["grid"], instance["size"], rng))
