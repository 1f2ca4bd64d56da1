"""Logic puzzles with pysat-backed generators: one module per family, one shared pysat helper.

Every family is a :class:`~thinkgym.generators.logic.base.Puzzle`; :data:`FAMILIES` maps its name
to the instance. ``generate(puzzle, params, seed)`` gives a :class:`~thinkgym.core.Problem` whose
``metadata["solver"]`` holds the measured solver effort (see :mod:`.pysat_tools`), and
``solve(instance_metadata)`` is the pysat oracle. See docs/logic.md.
"""

from __future__ import annotations

from typing import Any

from thinkgym.core import Problem
from thinkgym.generators.logic.base import Puzzle
from thinkgym.generators.logic.futoshiki import Futoshiki
from thinkgym.generators.logic.graph_colouring import GraphColouring
from thinkgym.generators.logic.knights_knaves import KnightsKnaves
from thinkgym.generators.logic.n_queens import NQueens
from thinkgym.generators.logic.nonogram import Nonogram
from thinkgym.generators.logic.skyscrapers import Skyscrapers
from thinkgym.generators.logic.sudoku import Sudoku
from thinkgym.generators.logic.zebra import Zebra

__all__ = ["FAMILIES", "Puzzle", "generate", "get", "solve"]

FAMILIES: dict[str, Puzzle] = {
    p.name: p
    for p in (Sudoku(), GraphColouring(), NQueens(), Futoshiki(), Skyscrapers(), KnightsKnaves(), Zebra(), Nonogram())
}


def get(puzzle: str) -> Puzzle:
    """The family named ``puzzle``; ``ValueError`` listing the valid names otherwise."""
    try:
        return FAMILIES[puzzle]
    except (KeyError, TypeError):
        raise ValueError(f"puzzle must be one of {sorted(FAMILIES)}, got {puzzle!r}") from None


def generate(puzzle: str, params: dict[str, Any], seed: int) -> Problem:
    """One problem of family ``puzzle`` from its parameters and an integer seed."""
    return get(puzzle).generate(params, seed)


def solve(metadata: dict[str, Any]) -> str | None:
    """The pysat oracle's answer text for a logic problem's ``metadata``."""
    return get(metadata["puzzle"]).solve(metadata["instance"])
