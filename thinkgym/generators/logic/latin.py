"""Grid helpers shared by the Latin-square families (Sudoku, Futoshiki, Skyscrapers): the one-hot
CNF of a Latin square, random Latin squares, the grid answer format and a row-wise random guess.

Answer format of every grid family: the rows from the top, each as its digits, separated by ``/``
(``1234/3412/2143/4321``); the verifier ignores whitespace.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache

from thinkgym.generators.logic.pysat_tools import CNF, solve_first

__all__ = [
    "GRID_ANSWER_FORMAT",
    "cell_var",
    "decode_grid",
    "describe_grid",
    "format_grid",
    "latin_square_cnf",
    "random_latin",
    "random_row_fill",
]

Cell = Callable[[int, int, int], int]

# The answer format of every Latin-square family (a grid written by format_grid).
GRID_ANSWER_FORMAT = (
    "the completed grid, row by row from the top, each row as its N digits, rows separated by '/', "
    "e.g. 123/231/312 (whitespace is ignored)."
)


def format_grid(grid: list[list[int]]) -> str:
    return "/".join("".join(str(v) for v in row) for row in grid)


def describe_grid(grid: list[list[int]]) -> str:
    """Rows of space-separated values, ``.`` for an empty cell (value 0)."""
    return "\n".join(" ".join(str(v) if v else "." for v in row) for row in grid)


def cell_var(n: int) -> Cell:
    """x(r, c, v): the variable (1..n^3) saying cell (r, c) (0-based) holds v (1..n)."""

    def x(r: int, c: int, v: int) -> int:
        return 1 + (r * n + c) * n + (v - 1)

    return x


def latin_square_cnf(n: int, native: bool = False) -> tuple[CNF, Cell]:
    """One-hot Latin square of order n: x(r, c, v) true when cell (r, c) holds v (1..n); every cell
    one value, every row and column each value once. Returns (a fresh cnf, x). ``native``: the
    at-most-one halves are native AtMost-1 constraints (``cnf.atmosts``, Minicard)."""
    rules = _latin_rules(n, native)
    cnf = CNF(native_cardinality=native)
    cnf.top, cnf.clauses, cnf.atmosts = rules.top, list(rules.clauses), list(rules.atmosts)
    return cnf, cell_var(n)


@cache
def _latin_rules(n: int, native: bool) -> CNF:
    """The rules, built once per order (never mutated: ``latin_square_cnf`` copies the outer lists;
    inner lists are shared)."""
    cnf = CNF(native_cardinality=native)
    cnf.top = n * n * n
    x = cell_var(n)
    for r in range(n):
        for c in range(n):
            cnf.exactly_one([x(r, c, v) for v in range(1, n + 1)])
    for v in range(1, n + 1):
        for i in range(n):
            cnf.exactly_one([x(i, c, v) for c in range(n)])
            cnf.exactly_one([x(r, i, v) for r in range(n)])
    return cnf


def decode_grid(n: int, x: Cell, true: set[int]) -> list[list[int]]:
    return [[next(v for v in range(1, n + 1) if x(r, c, v) in true) for c in range(n)] for r in range(n)]


def random_latin(n: int, rng: random.Random) -> list[list[int]]:
    """A random Latin square: MiniSat completes a random first row plus a few random cell values
    (dropped one by one while they make it unsatisfiable), then rows, columns and symbols are
    shuffled. Not uniform over Latin squares, but not confined to one isotopy class either."""
    cnf, x = latin_square_cnf(n)
    first = rng.sample(range(1, n + 1), n)
    extra = [x(rng.randrange(1, n), rng.randrange(n), rng.randrange(1, n + 1)) for _ in range(n)]
    while True:
        model = solve_first(cnf.clauses, [x(0, c, v) for c, v in enumerate(first)] + extra)
        if model is not None:
            break
        extra.pop()
    grid = decode_grid(n, x, set(model))
    rows, cols = rng.sample(range(n), n), rng.sample(range(n), n)
    return [[grid[r][c] for c in cols] for r in rows]


def random_row_fill(grid: list[list[int]], n: int, rng: random.Random) -> list[list[int]]:
    """Givens kept, each row's blanks filled with a random permutation of its missing values."""
    out = []
    for row in grid:
        missing = [v for v in range(1, n + 1) if v not in row]
        rng.shuffle(missing)
        it = iter(missing)
        out.append([v if v else next(it) for v in row])
    return out
