"""The logic-puzzle verifier: parse the boxed answer and check every rule of the puzzle directly.

Nothing is compared with the reference answer: the answer is read in the family's documented
format and each constraint (rows, columns, boxes, givens, edges, clues, statements, ...) is
checked in Python, so any answer that satisfies all of them is correct, including solutions other
than the stored one where a family has several. The answer is the last ``\\boxed{}`` after any
``</think>`` (:mod:`thinkgym.verifiers.extract`); one ``\\text{...}``-style wrapper is removed.

Reasons. No answer read (``format_ok=False``): ``no_answer``, ``unclosed_box``,
``unfinished_thinking``. Answer read but malformed (``format_ok=True``): ``wrong_rows``,
``wrong_length``, ``bad_char``, ``bad_value``, ``not_a_permutation``. Answer well formed but
breaking a rule (``format_ok=True``), e.g. ``given_changed``, ``repeat_in_row``,
``repeat_in_column``, ``repeat_in_box``, ``inequality_violated``, ``edge_conflict``,
``queens_attack``, ``clue_violated``, ``statement_inconsistent``, ``row_clue``, ``column_clue``,
``view_clue``. An unknown puzzle or a crashing check is a ``verifier_error`` verdict.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from thinkgym.core import Problem, Verdict
from thinkgym.generators.logic.knights_knaves import statement_true
from thinkgym.generators.logic.nonogram import runs
from thinkgym.generators.logic.skyscrapers import SIDES, line_cells, visible
from thinkgym.generators.logic.zebra import clue_holds
from thinkgym.verifiers.extract import last_boxed
from thinkgym.verifiers.sat import read_assignment

__all__ = ["CHECKERS", "check_answer", "verify"]

Failure = tuple[str, dict[str, Any]]
_SPACE = re.compile(r"\s+")


class Reject(Exception):
    """A failed check: ``reason`` and ``details`` become the verdict."""

    def __init__(self, reason: str, **details: Any) -> None:
        super().__init__(reason)
        self.reason, self.details = reason, details


def parse_grid(text: str, rows: int, cols: int, alphabet: str) -> list[list[int]]:
    """``rows`` rows of ``cols`` characters from ``alphabet`` separated by '/' (whitespace
    ignored) -> rows of indices into ``alphabet`` (digits read as their value for '0123...')."""
    parts = _SPACE.sub("", text).split("/")
    if len(parts) != rows:
        raise Reject("wrong_rows", expected_rows=rows, rows=len(parts))
    grid = []
    for r, part in enumerate(parts):
        if len(part) != cols:
            raise Reject("wrong_length", row=r, expected_length=cols, length=len(part))
        bad = next((i for i, ch in enumerate(part) if ch not in alphabet), None)
        if bad is not None:
            raise Reject("bad_char", row=r, column=bad, char=part[bad], allowed=alphabet)
        grid.append([alphabet.index(ch) for ch in part])
    return grid


def parse_list(text: str, length: int, lo: int, hi: int) -> list[int]:
    """``length`` integers in lo..hi separated by commas (whitespace ignored)."""
    parts = _SPACE.sub("", text).split(",")
    if len(parts) != length:
        raise Reject("wrong_length", expected_length=length, length=len(parts))
    values = []
    for i, part in enumerate(parts):
        if not (part.isascii() and part.isdigit()) or not lo <= int(part) <= hi:
            raise Reject("bad_value", position=i, value=part[:20], allowed=f"{lo}..{hi}")
        values.append(int(part))
    return values


def _digits(n: int) -> str:
    return "0123456789"[: n + 1]


def check_latin(grid: list[list[int]], givens: list[list[int]] | None, n: int) -> None:
    """Values 1..n, givens kept, no value twice in a row or column."""
    for r in range(n):
        for c in range(n):
            if grid[r][c] == 0:
                raise Reject("bad_char", row=r, column=c, char="0", allowed=_digits(n)[1:])
            if givens and givens[r][c] and givens[r][c] != grid[r][c]:
                raise Reject("given_changed", row=r, column=c, given=givens[r][c], value=grid[r][c])
    for r in range(n):
        if len(set(grid[r])) != n:
            raise Reject("repeat_in_row", row=r)
    for c in range(n):
        if len({grid[r][c] for r in range(n)}) != n:
            raise Reject("repeat_in_column", column=c)


def check_sudoku(text: str, inst: dict[str, Any]) -> None:
    n, (h, w) = inst["size"], inst["box"]
    grid = parse_grid(text, n, n, _digits(n))
    check_latin(grid, inst["grid"], n)
    for br in range(0, n, h):
        for bc in range(0, n, w):
            if len({grid[br + i][bc + j] for i in range(h) for j in range(w)}) != n:
                raise Reject("repeat_in_box", box_row=br // h, box_column=bc // w)


def check_futoshiki(text: str, inst: dict[str, Any]) -> None:
    n = inst["size"]
    grid = parse_grid(text, n, n, _digits(n))
    check_latin(grid, inst["grid"], n)
    for a, b in inst["inequalities"]:
        if not grid[a[0]][a[1]] < grid[b[0]][b[1]]:
            raise Reject("inequality_violated", smaller=[a[0] + 1, a[1] + 1], larger=[b[0] + 1, b[1] + 1])


def check_skyscrapers(text: str, inst: dict[str, Any]) -> None:
    n = inst["size"]
    grid = parse_grid(text, n, n, _digits(n))
    check_latin(grid, inst["grid"], n)
    for side in SIDES:
        for i, clue in enumerate(inst["clues"][side]):
            seen = visible([grid[r][c] for r, c in line_cells(side, i, n)])
            if clue and seen != clue:
                raise Reject("view_clue", side=side, line=i + 1, clue=clue, visible=seen)


def check_graph_colouring(text: str, inst: dict[str, Any]) -> None:
    colour = parse_list(text, inst["vertices"], 1, inst["colours"])
    for a, b in inst["edges"]:
        if colour[a - 1] == colour[b - 1]:
            raise Reject("edge_conflict", edge=[a, b], colour=colour[a - 1])


def check_n_queens(text: str, inst: dict[str, Any]) -> None:
    n = inst["n"]
    cols = parse_list(text, n, 1, n)
    for r, c in inst["queens"]:
        if cols[r - 1] != c:
            raise Reject("given_changed", row=r, column=c, value=cols[r - 1])
    for r1 in range(n):
        for r2 in range(r1 + 1, n):
            if cols[r1] == cols[r2] or abs(cols[r1] - cols[r2]) == r2 - r1:
                raise Reject("queens_attack", queens=[[r1 + 1, cols[r1]], [r2 + 1, cols[r2]]])


def check_knights_knaves(text: str, inst: dict[str, Any]) -> None:
    names = inst["people"]
    words = _SPACE.sub("", text).lower().split(",")
    if len(words) != len(names):
        raise Reject("wrong_length", expected_length=len(names), length=len(words))
    bad = next((i for i, w in enumerate(words) if w not in ("knight", "knave")), None)
    if bad is not None:
        raise Reject("bad_value", position=bad, value=words[bad][:20], allowed="knight, knave")
    knights = [w == "knight" for w in words]
    for index, st in enumerate(inst["statements"]):
        if statement_true(st["kind"], [knights[i] for i in st["about"]]) != knights[st["speaker"]]:
            raise Reject("statement_inconsistent", statement=index, speaker=names[st["speaker"]])


def check_zebra(text: str, inst: dict[str, Any]) -> None:
    n, categories = inst["houses"], list(inst["categories"].items())
    parts = _SPACE.sub("", text).lower().split(";")
    if len(parts) != len(categories):
        raise Reject("wrong_length", expected_categories=len(categories), categories=len(parts))
    house: dict[tuple[int, int], int] = {}
    for c, (part, (name, values)) in enumerate(zip(parts, categories, strict=True)):
        given = part.split(",")
        lowered = [v.lower() for v in values]
        if len(given) != n:
            raise Reject("wrong_length", category=name, expected_length=n, length=len(given))
        bad = next((v for v in given if v not in lowered), None)
        if bad is not None:
            raise Reject("bad_value", category=name, value=bad[:20], allowed=", ".join(values))
        if len(set(given)) != n:
            raise Reject("not_a_permutation", category=name)
        house.update({(c, lowered.index(v)): h + 1 for h, v in enumerate(given)})
    for index, clue in enumerate(inst["clues"]):
        if not clue_holds(clue, house):
            raise Reject("clue_violated", clue=index + 1)


def check_nonogram(text: str, inst: dict[str, Any]) -> None:
    h, w = len(inst["rows"]), len(inst["columns"])
    grid = parse_grid(text, h, w, "01")
    for r, row in enumerate(inst["givens"]):
        for c, g in enumerate(row):
            if g >= 0 and grid[r][c] != g:
                raise Reject("given_changed", row=r + 1, column=c + 1, given=g)
    for r in range(h):
        if runs(grid[r]) != inst["rows"][r]:
            raise Reject("row_clue", row=r + 1, clue=inst["rows"][r], runs=runs(grid[r]))
    for c in range(w):
        column = runs([grid[r][c] for r in range(h)])
        if column != inst["columns"][c]:
            raise Reject("column_clue", column=c + 1, clue=inst["columns"][c], runs=column)


CHECKERS: dict[str, Callable[[str, dict[str, Any]], None]] = {
    "sudoku": check_sudoku,
    "futoshiki": check_futoshiki,
    "skyscrapers": check_skyscrapers,
    "graph_colouring": check_graph_colouring,
    "n_queens": check_n_queens,
    "knights_knaves": check_knights_knaves,
    "zebra": check_zebra,
    "nonogram": check_nonogram,
}


def check_answer(text: str, puzzle: str, instance: dict[str, Any]) -> Failure | None:
    """None when the answer text (the boxed content) satisfies every rule, else (reason, details)."""
    try:
        CHECKERS[puzzle](read_assignment(text), instance)
    except Reject as r:
        return r.reason, r.details
    return None


def verify(response: str, problem: Problem | dict[str, Any]) -> Verdict:
    """Judges ``response`` against a logic problem (a :class:`Problem`, or its ``metadata``)."""
    metadata = problem.metadata if isinstance(problem, Problem) else problem
    boxed = last_boxed(response)
    if boxed.content is None:
        return Verdict(False, False, 0.0, boxed.status)
    puzzle = metadata.get("puzzle")
    if puzzle not in CHECKERS:
        return Verdict(False, False, 0.0, "unknown_puzzle", {"puzzle": str(puzzle)}, verifier_error=True)
    try:
        failure = check_answer(boxed.content, puzzle, metadata["instance"])
    except Exception as exc:  # a malformed instance, never the response: the verifier cannot decide
        return Verdict(False, False, 0.0, "internal_error", {"error": repr(exc)[:200]}, verifier_error=True)
    details = {"answer": boxed.content[:200]}
    if failure is not None:
        return Verdict(False, True, 0.0, failure[0], {**details, **failure[1]})
    return Verdict(True, True, 1.0, "correct", details)
