"""Futoshiki: a Latin square with inequality signs between neighbouring cells; unique solution.

A random Latin square (:func:`~thinkgym.generators.logic.latin.random_latin`) gives every given
and every inequality between orthogonal neighbours. Two passes of
:func:`~thinkgym.generators.logic.pysat_tools.minimise` then thin them while MiniSat proves the
solution unique: first the givens (all inequalities assumed), then the inequalities (the kept
givens assumed). Every inequality clause is guarded by its own selector literal, so the whole
search runs on one incremental solver.

Parameters: ``size`` (3..7).
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

__all__ = ["Futoshiki"]


def less_than(cnf: CNF, x: Cell, n: int, a: list[int], b: list[int], guard: int | None = None) -> None:
    """cell a < cell b (cells as [row, column]); every clause carries ``-guard`` when given."""
    tail = [] if guard is None else [-guard]
    for va in range(1, n + 1):
        for vb in range(1, va + 1):
            cnf.add([-x(a[0], a[1], va), -x(b[0], b[1], vb), *tail])


class Futoshiki(Puzzle):
    name = "futoshiki"
    title = "Futoshiki"
    unique = True
    param_names = ("size",)
    levels = {1: {"size": 3}, 2: {"size": 4}, 3: {"size": 5}, 4: {"size": 6}, 5: {"size": 7}}
    example_params = {"size": 3}
    rules = (
        "Fill the N x N grid with the numbers 1 to N so that every row and every column contains each "
        "number exactly once. Every inequality listed must hold: (r1,c1) < (r2,c2) means the number in "
        "row r1, column c1 is smaller than the number in row r2, column c2 (rows and columns count from "
        "1, top left). Given numbers (. is empty) must stay."
    )
    answer_format = GRID_ANSWER_FORMAT

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"size": int_param(params, "size", 3, 7)}

    def build(self, params: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], Any]:
        n = params["size"]
        sol = random_latin(n, rng)
        cnf, x = latin_square_cnf(n)
        pairs = [((r, c), (r, c + 1)) for r in range(n) for c in range(n - 1)]
        pairs += [((r, c), (r + 1, c)) for r in range(n - 1) for c in range(n)]
        ineqs, selectors = [], []
        for p, q in pairs:
            small, big = (p, q) if sol[p[0]][p[1]] < sol[q[0]][q[1]] else (q, p)
            ineqs.append([list(small), list(big)])
            selectors.append(cnf.var())
            less_than(cnf, x, n, *ineqs[-1], guard=selectors[-1])
        givens = [x(r, c, sol[r][c]) for r in range(n) for c in range(n)]
        checker = UniqueChecker(cnf.clauses, cnf.top, givens)
        kept_givens = minimise(checker, givens, rng, fixed=selectors)
        kept_sel = set(minimise(checker, selectors, rng, fixed=kept_givens))
        checker.close()
        grid = [[v if x(r, c, v) in set(kept_givens) else 0 for c, v in enumerate(row)] for r, row in enumerate(sol)]
        kept = sorted(ineq for ineq, s in zip(ineqs, selectors, strict=True) if s in kept_sel)
        return {"size": n, "grid": grid, "inequalities": kept}, sol

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        n = instance["size"]
        cnf, x = latin_square_cnf(n)
        for r, row in enumerate(instance["grid"]):
            for c, v in enumerate(row):
                if v:
                    cnf.add([x(r, c, v)])
        for a, b in instance["inequalities"]:
            less_than(cnf, x, n, a, b)
        return cnf, list(range(1, n**3 + 1)), lambda true: decode_grid(n, x, true)

    def describe(self, instance: dict[str, Any]) -> str:
        ineqs = ", ".join(f"({a[0] + 1},{a[1] + 1}) < ({b[0] + 1},{b[1] + 1})" for a, b in instance["inequalities"])
        return f"N = {instance['size']}\n{describe_grid(instance['grid'])}\nInequalities: {ineqs or 'none'}"

    def format_answer(self, solution: Any) -> str:
        return format_grid(solution)

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        return format_grid(random_row_fill(instance["grid"], instance["size"], rng))
