"""N-queens with pre-placed queens: complete a placement of n non-attacking queens on an n x n
board that keeps the given queens; usually several solutions (any one is accepted).

A random solution comes from a randomised backtracking search (columns tried in a shuffled order);
``placed`` of its queens, in random rows, are given. The number of completions up to the cap is
in ``metadata["solver"]["solutions"]``; the family does not force uniqueness (with few queens
placed most boards have several completions).

Parameters: ``n`` (4..14), ``placed`` (0..n-1).
"""

from __future__ import annotations

import random
from functools import cache
from typing import Any

from thinkgym.generators.logic.base import Puzzle, int_param
from thinkgym.generators.logic.pysat_tools import CNF

__all__ = ["NQueens", "random_solution"]


def random_solution(n: int, rng: random.Random) -> list[int]:
    """Columns (0-based) of a random n-queens solution, row by row (randomised backtracking)."""
    orders = [rng.sample(range(n), n) for _ in range(n)]
    cols: list[int] = []
    used, diag, anti = set(), set(), set()
    stack = [0]
    while len(cols) < n:
        r = len(cols)
        i = stack[-1]
        while i < n:
            c = orders[r][i]
            if c not in used and r - c not in diag and r + c not in anti:
                break
            i += 1
        if i == n:  # dead end: backtrack
            stack.pop()
            c = cols.pop()
            used.discard(c), diag.discard(r - 1 - c), anti.discard(r - 1 + c)
            stack[-1] += 1
            continue
        stack[-1] = i
        cols.append(c)
        used.add(c), diag.add(r - c), anti.add(r + c)
        stack.append(0)
    return cols


@cache
def _rules(n: int) -> tuple[tuple[list[int], ...], int]:
    """(clauses, top) of n queens on an n x n board, q(r, c) = r*n + c + 1 (0-based): one queen per
    row, at most one per column and diagonal. Built once per n and never mutated."""
    cnf = CNF()
    cnf.top = n * n

    def q(r: int, c: int) -> int:
        return r * n + c + 1

    for i in range(n):
        cnf.exactly_one([q(i, c) for c in range(n)])
        cnf.at_most_one([q(r, i) for r in range(n)])
    for d in range(-(n - 1), n):
        cnf.at_most_one([q(r, r - d) for r in range(n) if 0 <= r - d < n])
    for s in range(2 * n - 1):
        cnf.at_most_one([q(r, s - r) for r in range(n) if 0 <= s - r < n])
    return tuple(cnf.clauses), cnf.top


class NQueens(Puzzle):
    name = "n_queens"
    title = "N-queens"
    unique = False
    param_names = ("n", "placed")
    levels = {
        1: {"n": 5, "placed": 2},
        2: {"n": 6, "placed": 1},
        3: {"n": 8, "placed": 2},
        4: {"n": 10, "placed": 2},
        5: {"n": 12, "placed": 2},
    }
    example_params = {"n": 5, "placed": 2}
    rules = (
        "Place n queens on the n x n board so that no two queens attack each other: no two share a row, "
        "a column or a diagonal. The queens already on the board (Q; . is empty) must stay. Rows and "
        "columns are numbered from 1, top left."
    )
    answer_format = (
        "for each row from row 1 down, the column of its queen, separated by commas, e.g. 2,4,1,3 (the "
        "queen of row 1 is in column 2)."
    )

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        n = int_param(params, "n", 4, 14)
        return {"n": n, "placed": int_param(params, "placed", 0, n - 1)}

    def build(self, params: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], Any]:
        n = params["n"]
        cols = random_solution(n, rng)
        rows = sorted(rng.sample(range(n), params["placed"]))
        return {"n": n, "queens": [[r + 1, cols[r] + 1] for r in rows]}, [c + 1 for c in cols]

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        n = instance["n"]
        cnf = CNF()
        clauses, cnf.top = _rules(n)
        cnf.clauses = list(clauses)
        for r, c in instance["queens"]:
            cnf.add([r * n + c - n])  # q(r-1, c-1)

        def decode(true: set[int]) -> list[int]:
            return [next(c for c in range(n) if r * n + c + 1 in true) + 1 for r in range(n)]

        return cnf, list(range(1, n * n + 1)), decode

    def describe(self, instance: dict[str, Any]) -> str:
        n = instance["n"]
        board = [["."] * n for _ in range(n)]
        for r, c in instance["queens"]:
            board[r - 1][c - 1] = "Q"
        return f"n = {n}\n" + "\n".join(" ".join(row) for row in board)

    def format_answer(self, solution: Any) -> str:
        return ",".join(map(str, solution))

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        n = instance["n"]
        given = {r: c for r, c in instance["queens"]}
        free = [c for c in range(1, n + 1) if c not in given.values()]
        rng.shuffle(free)
        it = iter(free)
        return ",".join(str(given.get(r) or next(it)) for r in range(1, n + 1))
