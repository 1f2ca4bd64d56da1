"""N-queens with pre-placed queens: complete a placement of n non-attacking queens on an n x n
board that keeps the given queens; usually several solutions (any one is accepted).

The hidden solution is drawn uniformly from every solution of the n x n board (enumerated once per
process and n, for n <= 12: 14,200 solutions at n = 12, about a second); for n = 13 and 14 it comes
from a randomised backtracking search (columns tried in a shuffled order). ``placed`` of its
queens, in random rows, are given. The number of completions up to the cap is
in ``metadata["solver"]["solutions"]``; the family does not force uniqueness (with few queens
placed most boards have several completions).

Parameters: ``n`` (4..14), ``placed`` (0..n-1).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from functools import cache, lru_cache
from typing import Any

from thinkgym.generators.logic.base import Puzzle, int_param
from thinkgym.generators.logic.pysat_tools import CNF, measure

__all__ = ["ENUMERATED_UP_TO", "NQueens", "all_solutions", "random_solution"]

ENUMERATED_UP_TO = 12  # boards up to this size draw from all their solutions


@cache
def all_solutions(n: int) -> tuple[tuple[int, ...], ...]:
    """Every n-queens solution (columns, 0-based, row by row) in lexicographic order; cached."""
    out: list[tuple[int, ...]] = []
    cols: list[int] = []
    full = (1 << n) - 1

    def place(used: int, diag: int, anti: int) -> None:
        # diag / anti: the squares of this row attacked along a diagonal, as column bits
        if used == full:
            out.append(tuple(cols))
            return
        free = full & ~(used | diag | anti)
        while free:
            bit = free & -free
            free ^= bit
            cols.append(bit.bit_length() - 1)
            place(used | bit, ((diag | bit) << 1) & full, (anti | bit) >> 1)
            cols.pop()

    place(0, 0, 0)
    return tuple(out)


def random_solution(n: int, rng: random.Random) -> list[int]:
    """Columns (0-based) of a random n-queens solution, row by row: depth-first search trying each
    row's columns in a shuffled order, the first complete placement wins. Columns and diagonals are
    bit masks (diagonal r - c is bit r - c + n - 1, anti-diagonal r + c is bit r + c)."""
    orders = [rng.sample(range(n), n) for _ in range(n)]
    cols: list[int] = []

    def place(r: int, used: int, diag: int, anti: int) -> bool:
        if r == n:
            return True
        for c in orders[r]:
            bc, bd, ba = 1 << c, 1 << (r - c + n - 1), 1 << (r + c)
            if not (used & bc or diag & bd or anti & ba):
                cols.append(c)
                if place(r + 1, used | bc, diag | bd, anti | ba):
                    return True
                cols.pop()
        return False

    place(0, 0, 0, 0)
    return cols


class NQueens(Puzzle):
    name = "n_queens"
    title = "N-queens"
    unique = False
    one_hot_answer = True  # n queens in every solution
    param_names = ("n", "placed")
    levels = {
        1: {"n": 5, "placed": 2},
        2: {"n": 7, "placed": 2},
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
        cols = rng.choice(all_solutions(n)) if n <= ENUMERATED_UP_TO else random_solution(n, rng)
        rows = sorted(rng.sample(range(n), params["placed"]))
        return {"n": n, "queens": [[r + 1, cols[r] + 1] for r in rows]}, [c + 1 for c in cols]

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        """The board left once the given queens are placed: one variable per free square (not in a
        given queen's row, column or diagonal), numbered row by row from 1; one queen per free row,
        at most one per column and diagonal, as native AtMost-1 constraints (Minicard). Givens that
        attack each other give an unsatisfiable CNF (an empty clause)."""
        n = instance["n"]
        given, free, clauses, atmosts = _free_board(n, instance["queens"])
        cnf = CNF(native_cardinality=True)
        cnf.clauses, cnf.atmosts, cnf.top = clauses, atmosts, len(free)

        def decode(true: set[int]) -> list[int]:
            placed = {**given, **{free[v - 1][0]: free[v - 1][1] for v in true if 0 < v <= len(free)}}
            return [placed[r] + 1 for r in range(n)]

        return cnf, list(range(1, len(free) + 1)), decode

    def solver_features(self, instance: dict[str, Any]) -> dict[str, Any]:
        """As :meth:`Puzzle.solver_features` (a fresh solver per board, so the features depend on
        the board alone), remembered for the last 4,096 boards: small boards repeat (n = 6 with 3
        queens placed has 80 possible puzzles)."""
        return dict(_board_features(instance["n"], tuple(map(tuple, instance["queens"]))))

    def describe(self, instance: dict[str, Any]) -> str:
        n = instance["n"]
        board = [" ".join("." * n)] * n  # one text line per row, squares 2 characters apart
        for r, c in instance["queens"]:
            line = board[r - 1]
            board[r - 1] = line[: 2 * c - 2] + "Q" + line[2 * c - 1 :]
        return f"n = {n}\n" + "\n".join(board)

    def format_answer(self, solution: Any) -> str:
        return ",".join(map(str, solution))

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        n = instance["n"]
        given = {r: c for r, c in instance["queens"]}
        free = [c for c in range(1, n + 1) if c not in given.values()]
        rng.shuffle(free)
        it = iter(free)
        return ",".join(str(given.get(r) or next(it)) for r in range(1, n + 1))


def _free_board(
    n: int, queens: Sequence[Sequence[int]]
) -> tuple[dict[int, int], list[tuple[int, int]], list[list[int]], list[tuple[list[int], int]]]:
    """:meth:`NQueens.encode`'s constraints: (the given queens as row -> column, the free squares
    in variable order, the clauses, the native AtMost-1 constraints), all 0-based but the
    variables. Givens that attack each other give an empty clause."""
    given = {r - 1: c - 1 for r, c in queens}
    cols = diags = antis = 0  # bit masks of the givens' columns c, diagonals c - r + n, anti-diagonals r + c
    for r, c in given.items():
        cols, diags, antis = cols | 1 << c, diags | 1 << (c - r + n), antis | 1 << (r + c)
    ok = len(given) == len(queens) == cols.bit_count() == diags.bit_count() == antis.bit_count()
    clauses: list[list[int]] = [] if ok else [[]]
    atmosts: list[tuple[list[int], int]] = []
    free: list[tuple[int, int]] = []
    lines: dict[int, list[int]] = {}  # keys: column c, diagonal 2n + r - c, anti-diagonal 4n + r + c
    var = 0
    for r in range(n):
        if r in given:
            continue
        blocked = cols | diags >> (n - r) | antis >> r  # bit c set: (r, c) is attacked
        first = var + 1
        for c in range(n):
            if not blocked >> c & 1:
                var += 1
                free.append((r, c))
                for key in (c, 2 * n + r - c, 4 * n + r + c):
                    if key in lines:
                        lines[key].append(var)
                    else:
                        lines[key] = [var]
        lits = list(range(first, var + 1))  # one queen in the row
        clauses.append(lits)
        if var > first:
            atmosts.append((lits, 1))
    atmosts += [(lits, 1) for lits in lines.values() if len(lits) > 1]
    return given, free, clauses, atmosts


@lru_cache(maxsize=4096)
def _board_features(n: int, queens: tuple[tuple[int, int], ...]) -> dict[str, Any]:
    _, free, clauses, atmosts = _free_board(n, queens)
    return measure(clauses, range(1, len(free) + 1), top=len(free), atmosts=atmosts, one_hot=True)[1]
