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
* :func:`measure` solves the final puzzle with a fresh solver, blocks the solution and solves
  again (that second call proves uniqueness or finds another solution) and reports pysat's
  ``accum_stats()`` (decisions, conflicts, propagations) of those two calls, plus the number of
  solutions up to a cap. The solver is MiniSat 2.2, or Minicard (MiniSat 2.2 with native AtMostK
  constraints) for a CNF built with ``native_cardinality=True`` (N-queens, graph colouring: a
  few dozen native constraints load much faster than hundreds of pairwise clauses). Both are
  deterministic for a given constraint order, so the features are the same on every machine with
  the same pysat version, and a fresh solver per instance keeps them independent of what was
  generated before. ``effort = decisions + conflicts + propagations`` is the scalar the levels are
  ordered by; ``difficulty = log2(1 + effort)``.
* Counting up to the cap is cheaper where a family says so: a one-hot answer (every solution makes
  the same number of answer variables true) is blocked by its true literals only, and a family with
  a known symmetry (graph colouring: renaming colours) counts a whole symmetry class per solve
  (:class:`Symmetry`) instead of one solution, and blocks the whole class while it counts (the
  first block included), so every later model is a new class.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Sequence
from typing import Any

from pysat.card import CardEnc, EncType
from pysat.solvers import Minicard, Minisat22

try:  # pysat's C extension: loading a few hundred constraints is the main cost of a small puzzle
    import pysolvers as _raw
except ImportError:  # pragma: no cover - another pysat layout: the public wrappers are used
    _raw = None

__all__ = ["CNF", "SOLUTION_CAP", "Symmetry", "UniqueChecker", "measure", "minimise", "new_solver", "solve_first"]

SOLUTION_CAP = 10


class CNF:
    """Clauses over variables 1..top (DIMACS signed ints) with helpers for common constraints.

    With ``native_cardinality=True``, ``at_most_one`` (and so ``exactly_one``) records a native
    AtMost-1 constraint in ``atmosts`` instead of clauses; such a CNF must be loaded with
    :func:`new_solver` (Minicard), never by feeding ``clauses`` alone to a solver."""

    def __init__(self, native_cardinality: bool = False) -> None:
        self.clauses: list[list[int]] = []
        self.atmosts: list[tuple[list[int], int]] = []
        self.native = native_cardinality
        self.top = 0

    def var(self) -> int:
        self.top += 1
        return self.top

    def add(self, clause: Iterable[int]) -> None:
        self.clauses.append(list(clause))

    def at_most_one(self, lits: Sequence[int]) -> None:
        if self.native:
            if len(lits) > 1:
                self.atmosts.append((list(lits), 1))
        elif len(lits) <= 10:
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


class _RawMinicard:
    """Minicard through pysat's C functions directly: the same solver as ``pysat.solvers.Minicard``
    (same calls in the same order, so the same models and statistics) without its per-call Python
    layer, which costs as much as the search itself on a puzzle of a few dozen constraints. Offers
    the subset of the pysat solver interface the logic families use. Solves run without pysat's
    SIGINT handler (puzzle solves take milliseconds)."""

    __slots__ = ("handle",)

    def __init__(self, clauses: Iterable[Sequence[int]], atmosts: Sequence[tuple[Sequence[int], int]]) -> None:
        self.handle = handle = _raw.minicard_new()
        add_cl, add_am = _raw.minicard_add_cl, _raw.minicard_add_am
        for clause in clauses:
            add_cl(handle, clause)
        for lits, bound in atmosts:
            add_am(handle, lits, bound)

    def add_clause(self, clause: Sequence[int]) -> None:
        _raw.minicard_add_cl(self.handle, clause)

    def solve(self, assumptions: Sequence[int] = ()) -> bool:
        return _raw.minicard_solve(self.handle, assumptions, 0)

    def get_model(self) -> list[int]:
        return _raw.minicard_model(self.handle)

    def accum_stats(self) -> dict[str, int]:
        return _raw.minicard_acc_stats(self.handle)

    def delete(self) -> None:
        if self.handle is not None:
            _raw.minicard_del(self.handle)
            self.handle = None

    def __enter__(self) -> _RawMinicard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.delete()


def new_solver(clauses: Iterable[Sequence[int]], atmosts: Sequence[tuple[Sequence[int], int]] = ()) -> Any:
    """A fresh solver loaded with ``clauses``: MiniSat 2.2, or Minicard when there are native
    AtMostK constraints ``atmosts`` (pairs of literals and bound). The caller deletes it (or uses
    it as a context manager)."""
    if not atmosts:
        return Minisat22(bootstrap_with=clauses)
    if _raw is not None:
        return _RawMinicard(clauses, atmosts)
    solver = Minicard()  # pragma: no cover - another pysat layout: the public wrapper
    for clause in clauses:
        solver.add_clause(clause)
    for lits, bound in atmosts:
        solver.add_atmost(lits, bound)
    return solver


def solve_first(
    clauses: list[list[int]], assumptions: Sequence[int] = (), atmosts: Sequence[tuple[Sequence[int], int]] = ()
) -> list[int] | None:
    """A model of ``clauses`` (and native ``atmosts``), or None when unsatisfiable."""
    with new_solver(clauses, atmosts) as s:
        return s.get_model() if s.solve(assumptions=list(assumptions)) else None


class Symmetry:
    """A symmetry group of a puzzle's solutions, for counting: a family subclasses it with
    ``size(true)`` (how many distinct solutions the class of a solution holds, from its true answer
    literals in increasing order) and ``members(true)`` (the true answer literals of each of
    them)."""

    def size(self, true: list[int]) -> int:
        raise NotImplementedError

    def members(self, true: list[int]) -> Iterable[list[int]]:
        raise NotImplementedError


class UniqueChecker:
    """Is ``solution`` (the true literals of the answer variables) the only solution of ``clauses``
    under a set of hint literals? One incremental solver, the blocking clause behind a selector."""

    def __init__(
        self,
        clauses: list[list[int]],
        top: int,
        solution: Sequence[int],
        atmosts: Sequence[tuple[Sequence[int], int]] = (),
    ) -> None:
        self.solver = new_solver(clauses, atmosts)
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
    clauses: list[list[int]],
    answer_vars: Sequence[int],
    cap: int = SOLUTION_CAP,
    top: int | None = None,
    *,
    atmosts: Sequence[tuple[Sequence[int], int]] = (),
    one_hot: bool = False,
    symmetry: Symmetry | None = None,
) -> tuple[list[int], dict[str, Any]]:
    """(first model, solver-effort features) of a puzzle's CNF: the solver's ``accum_stats()``
    over "solve, block the solution on ``answer_vars``, solve again", then the number of
    solutions up to ``cap``. ``one_hot``: every solution makes the same number of answer variables
    true, so a solution is blocked by the negation of its true ones alone. ``symmetry``: each
    solution found adds its whole symmetry class to the count, and while the count is within the
    cap the whole class is blocked (the first block too), so every model found is a new class and a
    symmetric puzzle reaches the cap, or proves it is not reached, in two or three calls. Raises ``ValueError`` for an
    unsatisfiable puzzle (a generator bug)."""
    answer_vars = list(answer_vars)

    def true_of(model: list[int]) -> list[int]:
        return [v for v in answer_vars if model[v - 1] > 0]

    def block(true: list[int]) -> list[int]:
        if one_hot:
            return [-v for v in true]
        chosen = set(true)
        return [-v if v in chosen else v for v in answer_vars]

    with new_solver(clauses, atmosts) as s:
        if not s.solve():
            raise ValueError("internal error: the generated puzzle has no solution")
        first = s.get_model()
        true = true_of(first)
        count = 1 if symmetry is None else symmetry.size(true)
        if symmetry is not None and count <= cap:  # still counting: block the whole class
            for member in symmetry.members(true):
                s.add_clause(block(member))
        else:
            s.add_clause(block(true))
        found = s.solve()
        raw = s.accum_stats()
        stats: dict[str, Any] = {k: int(raw.get(k, 0)) for k in ("decisions", "conflicts", "propagations")}
        if symmetry is None:
            while found and count < cap:
                count += 1
                s.add_clause(block(true_of(s.get_model())))
                found = s.solve()
            count += found  # found after the cap: "more than cap"
        else:
            while found and count <= cap:  # each model found is a new class: earlier ones are blocked
                true = true_of(s.get_model())
                count += symmetry.size(true)
                if count > cap:
                    break
                for member in symmetry.members(true):
                    s.add_clause(block(member))
                found = s.solve()
    effort = stats["decisions"] + stats["conflicts"] + stats["propagations"]
    stats.update(
        effort=effort,
        solutions=min(count, cap),
        solutions_capped=count > cap,
        variables=max(answer_vars, default=0) if top is None else top,
        clauses=len(clauses),
        cardinality_constraints=len(atmosts),
    )
    stats["log_effort"] = round(math.log2(1 + effort), 4)
    return first, stats
