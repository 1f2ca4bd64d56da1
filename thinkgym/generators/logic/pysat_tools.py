"""The pysat machinery every logic-puzzle family shares: a small CNF builder, uniqueness checks by
solve-block-solve, hint minimisation, and the solver-effort features that measure difficulty.

* :class:`CNF` numbers variables, adds clauses, one-hot and cardinality constraints (pysat's
  sequential counter) and Tseitin gates (``and_``, ``or_``, ``iff``), so a family writes its rules
  once, in terms of literals.
* :class:`UniqueChecker` holds one incremental MiniSat 2.2 solver with the puzzle's rules and a
  blocking clause for the intended solution behind a selector literal: ``unique(hints)`` asks "is
  there a solution other than the intended one under these hints?" with assumptions only, so
  removing givens one at a time costs one incremental solve each, not a re-encoding.
* :func:`minimise` removes hints in random order while the solution stays unique.
* :func:`measure` solves the final puzzle with a fresh MiniSat 2.2, blocks the solution and solves
  again (that second call proves uniqueness or finds another solution) and reports pysat's
  ``accum_stats()`` (decisions, conflicts, propagations) of those two calls, plus the number of
  solutions up to a cap. MiniSat is deterministic for a given clause order, so the features are the
  same on every machine with the same pysat version. ``effort = decisions + conflicts +
  propagations`` is the scalar the levels are ordered by; ``difficulty = log2(1 + effort)``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from typing import Any

from pysat.card import CardEnc, EncType
from pysat.solvers import Minisat22

__all__ = ["CNF", "SOLUTION_CAP", "UniqueChecker", "measure", "minimise", "solve_first"]

SOLUTION_CAP = 10


class CNF:
    """Clauses over variables 1..top (DIMACS signed ints) with helpers for common constraints."""

    def __init__(self) -> None:
        self.clauses: list[list[int]] = []
        self.top = 0

    def var(self) -> int:
        self.top += 1
        return self.top

    def add(self, clause: Iterable[int]) -> None:
        self.clauses.append(list(clause))

    def at_most_one(self, lits: Sequence[int]) -> None:
        if len(lits) <= 10:
            self.clauses.extend([-a, -b] for i, a in enumerate(lits) for b in lits[i + 1 :])
        else:
            self.cardinality(lits, 1, "atmost")

    def exactly_one(self, lits: Sequence[int]) -> None:
        self.add(lits)
        self.at_most_one(lits)

    def cardinality(self, lits: Sequence[int], bound: int, kind: str = "equals") -> None:
        """sum(lits) {== , <=, >=} bound, pysat's sequential counter."""
        encode = {"equals": CardEnc.equals, "atmost": CardEnc.atmost, "atleast": CardEnc.atleast}[kind]
        enc = encode(lits=list(lits), bound=bound, top_id=self.top, encoding=EncType.seqcounter)
        self.clauses.extend(enc.clauses)
        self.top = max(self.top, enc.nv)

    def and_(self, lits: Sequence[int]) -> int:
        """A fresh literal g with g <-> AND(lits)."""
        g = self.var()
        for a in lits:
            self.add([-g, a])
        self.add([g, *(-a for a in lits)])
        return g

    def or_(self, lits: Sequence[int]) -> int:
        """A fresh literal g with g <-> OR(lits)."""
        g = self.var()
        for a in lits:
            self.add([g, -a])
        self.add([-g, *lits])
        return g

    def iff(self, a: int, b: int) -> None:
        self.add([-a, b])
        self.add([a, -b])


def solve_first(clauses: list[list[int]], assumptions: Sequence[int] = ()) -> list[int] | None:
    """A model of ``clauses`` (MiniSat 2.2), or None when unsatisfiable."""
    with Minisat22(bootstrap_with=clauses) as s:
        return s.get_model() if s.solve(assumptions=list(assumptions)) else None


class UniqueChecker:
    """Is ``solution`` (the true literals of the answer variables) the only solution of ``clauses``
    under a set of hint literals? One incremental solver, the blocking clause behind a selector."""

    def __init__(self, clauses: list[list[int]], top: int, solution: Sequence[int]) -> None:
        self.solver = Minisat22(bootstrap_with=clauses)
        self.selector = top + 1
        self.solver.add_clause([-self.selector, *(-lit for lit in solution)])
        self.calls = 0

    def unique(self, hints: Iterable[int]) -> bool:
        self.calls += 1
        return not self.solver.solve(assumptions=[self.selector, *hints])

    def close(self) -> None:
        self.solver.delete()


def minimise(
    checker: UniqueChecker,
    hints: Sequence[int],
    rng: random.Random,
    max_removed: int | None = None,
    fixed: Sequence[int] = (),
) -> list[int]:
    """Removes hints in random order while the solution stays unique (at most ``max_removed``);
    returns the kept hints in their original order. ``fixed`` hints are assumed throughout."""
    if max_removed is None and checker.unique(fixed):
        return []  # unique without any of these hints
    kept = set(hints)
    order = list(hints)
    rng.shuffle(order)
    removed = 0
    for h in order:
        if max_removed is not None and removed >= max_removed:
            break
        kept.discard(h)
        if checker.unique([*fixed, *kept]):
            removed += 1
        else:
            kept.add(h)
    return [h for h in hints if h in kept]


def measure(
    clauses: list[list[int]], answer_vars: Sequence[int], cap: int = SOLUTION_CAP, top: int | None = None
) -> tuple[list[int], dict[str, Any]]:
    """(first model, solver-effort features) of a puzzle's CNF: MiniSat 2.2's ``accum_stats()``
    over "solve, block the solution on ``answer_vars``, solve again", then the number of
    solutions up to ``cap``. Raises ``ValueError`` for an unsatisfiable puzzle (a generator bug)."""
    with Minisat22(bootstrap_with=clauses) as s:
        if not s.solve():
            raise ValueError("internal error: the generated puzzle has no solution")
        first = s.get_model()
        model, count = first, 1
        stats: dict[str, Any] | None = None
        while True:
            chosen = set(model)
            s.add_clause([-v if v in chosen else v for v in answer_vars])
            found = s.solve()
            if stats is None:
                raw = s.accum_stats()
                stats = {k: int(raw.get(k, 0)) for k in ("decisions", "conflicts", "propagations")}
            if not found or count >= cap:
                break
            model = s.get_model()
            count += 1
    count = count + 1 if found else count  # found after the cap: "more than cap"
    effort = stats["decisions"] + stats["conflicts"] + stats["propagations"]
    stats.update(
        effort=effort,
        solutions=min(count, cap),
        solutions_capped=count > cap,
        variables=max(answer_vars, default=0) if top is None else top,
        clauses=len(clauses),
    )
    stats["log_effort"] = round(math.log2(1 + effort), 4)
    return first, stats
