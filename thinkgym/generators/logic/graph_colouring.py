"""Graph colouring: colour V vertices with k colours so that no edge joins two vertices of the same
colour; many solutions (any proper colouring is accepted).

A planted balanced colouring (class sizes differ by at most one) and E distinct edges drawn uniformly
among the pairs it colours differently, so every instance is k-colourable by construction. Swapping
colour names alone gives k! solutions, so uniqueness is neither sought nor possible; the number of
solutions up to the cap is in ``metadata["solver"]["solutions"]``. Counting uses that symmetry
(:class:`ColourRenaming`): a solution using u colours stands for k!/(k-u)! solutions, so the cap is
reached in two or three solver calls instead of eleven. Each vertex's "exactly one colour" is a
clause and a native AtMost-1 constraint (Minicard).

Parameters: ``vertices`` (3..40), ``colours`` (2..min(6, vertices)), ``edges`` (1..the number of
pairs a balanced k-colouring colours differently).
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from functools import cache
from itertools import chain, permutations
from typing import Any

from thinkgym.generators.logic.base import Puzzle, int_param
from thinkgym.generators.logic.pysat_tools import CNF, SOLUTION_CAP, Symmetry, new_solver

__all__ = ["ColourRenaming", "GraphColouring"]


@cache
def _vertex_rules(v: int, k: int) -> CNF:
    """Every vertex has exactly one of k colours, x(i, c) = (i-1)*k + c; built once per (v, k)."""
    cnf = CNF(native_cardinality=True)
    cnf.top = v * k
    for i in range(v):
        cnf.exactly_one(range(i * k + 1, i * k + k + 1))
    return cnf


def _first_use(colours: list[int]) -> tuple[int, ...]:
    """The colours renamed in order of first use: one key per colour-renaming class."""
    first: dict[int, int] = {}
    for c in colours:
        if c not in first:
            first[c] = len(first)
    return tuple(map(first.__getitem__, colours))


class ColourRenaming(Symmetry):
    """Renaming colours maps proper colourings to proper colourings: a colouring that uses u of the
    k colours has k!/(k-u)! distinct renamings (injective maps of its colours into 1..k). ``true``
    holds one literal x(i, c) = (i-1)*k + c per vertex, in vertex order."""

    def __init__(self, colours: int) -> None:
        self.k = colours

    def _colours(self, true: list[int]) -> list[int]:
        return [(lit - 1) % self.k for lit in true]

    def canon(self, true: list[int]) -> tuple[int, ...]:
        return _first_use(self._colours(true))

    def size(self, true: list[int]) -> int:
        return math.perm(self.k, len(set(self._colours(true))))

    def members(self, true: list[int]) -> Iterator[list[int]]:
        colours = self._colours(true)
        used = sorted(set(colours))
        for image in permutations(range(self.k), len(used)):
            rename = dict(zip(used, image, strict=True))
            yield [i * self.k + rename[c] + 1 for i, c in enumerate(colours)]


class GraphColouring(Puzzle):
    name = "graph_colouring"
    title = "graph colouring"
    unique = False
    one_hot_answer = True  # one colour per vertex in every solution
    param_names = ("vertices", "colours", "edges")
    levels = {
        1: {"vertices": 5, "colours": 3, "edges": 5},
        2: {"vertices": 8, "colours": 3, "edges": 13},
        3: {"vertices": 12, "colours": 3, "edges": 24},
        4: {"vertices": 20, "colours": 4, "edges": 70},
        5: {"vertices": 30, "colours": 4, "edges": 120},
    }
    example_params = {"vertices": 4, "colours": 3, "edges": 5}
    rules = (
        "Colour every vertex of the graph with one of the colours 1 to k so that the two ends of every "
        "edge have different colours. Vertices are numbered from 1."
    )
    answer_format = "the colour of each vertex in order from vertex 1, separated by commas, e.g. 1,2,3,1."

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        v = int_param(params, "vertices", 3, 40)
        k = int_param(params, "colours", 2, min(6, v))
        sizes = [v // k + (i < v % k) for i in range(k)]  # the planted colouring is balanced
        limit = v * (v - 1) // 2 - sum(s * (s - 1) // 2 for s in sizes)
        e = int_param(params, "edges", 1, limit)
        return {"vertices": v, "colours": k, "edges": e}

    def build(self, params: dict[str, Any], rng: random.Random) -> tuple[dict[str, Any], Any]:
        v, k, e = params["vertices"], params["colours"], params["edges"]
        colour = [i % k + 1 for i in range(v)]
        rng.shuffle(colour)
        pairs = [(a, b) for a in range(v) for b in range(a + 1, v) if colour[a] != colour[b]]
        edges = sorted(rng.sample(pairs, e))
        return {"vertices": v, "colours": k, "edges": [[a + 1, b + 1] for a, b in edges]}, colour

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        v, k = instance["vertices"], instance["colours"]
        rules = _vertex_rules(v, k)
        cnf = CNF(native_cardinality=True)
        cnf.top, cnf.atmosts = rules.top, list(rules.atmosts)

        def x(i: int, c: int) -> int:  # vertex i (1-based) has colour c
            return (i - 1) * k + c

        cnf.clauses = list(rules.clauses)
        for a, b in instance["edges"]:  # no colour c at both ends: -x(a, c) or -x(b, c)
            cnf.clauses += ([-c - (a - 1) * k, -c - (b - 1) * k] for c in range(1, k + 1))

        def decode(true: set[int]) -> list[int]:
            return [next(c for c in range(1, k + 1) if x(i, c) in true) for i in range(1, v + 1)]

        return cnf, list(range(1, v * k + 1)), decode

    def solver_features(self, instance: dict[str, Any]) -> dict[str, Any]:
        """:meth:`Puzzle.solver_features` without the general machinery: the same constraints
        added in the same order to the same fresh Minicard, the same two calls, the same count of
        whole colour-renaming classes, so the same numbers (a test compares them), with a
        solution handled as its list of colours rather than decoded and re-encoded."""
        v, k = instance["vertices"], instance["colours"]
        rules = _vertex_rules(v, k)
        ks = range(1, k + 1)
        edge_clauses = [(-c - a * k + k, -c - b * k + k) for a, b in instance["edges"] for c in ks]
        with new_solver(chain(rules.clauses, edge_clauses), rules.atmosts) as s:
            if not s.solve():
                raise ValueError("internal error: the generated puzzle has no solution")
            true = [lit for lit in s.get_model() if lit > 0]  # one literal per vertex, in vertex order
            s.add_clause([-lit for lit in true])
            found = s.solve()
            raw = s.accum_stats()
            colours = [(lit - 1) % k for lit in true]
            count = math.perm(k, len(set(colours)))
            classes = {_first_use(colours)}
            blocked = {tuple(colours)}
            while found and count <= SOLUTION_CAP:
                colours = [(lit - 1) % k for lit in s.get_model() if lit > 0]
                key = _first_use(colours)
                if key not in classes:
                    classes.add(key)
                    count += math.perm(k, len(set(colours)))
                    if count > SOLUTION_CAP:
                        break
                used = sorted(set(colours))
                for image in permutations(range(k), len(used)):  # block every renaming not yet blocked
                    rename = dict(zip(used, image, strict=True))
                    member = tuple(rename[c] for c in colours)
                    if member not in blocked:
                        blocked.add(member)
                        s.add_clause([-(i * k + c + 1) for i, c in enumerate(member)])
                found = s.solve()
        decisions, conflicts, propagations = int(raw["decisions"]), int(raw["conflicts"]), int(raw["propagations"])
        effort = decisions + conflicts + propagations
        return {
            "decisions": decisions,
            "conflicts": conflicts,
            "propagations": propagations,
            "effort": effort,
            "solutions": min(count, SOLUTION_CAP),
            "solutions_capped": count > SOLUTION_CAP,
            "variables": v * k,
            "clauses": v + len(edge_clauses),
            "cardinality_constraints": v,
            "log_effort": round(math.log2(1 + effort), 4),
        }

    def symmetry(self, instance: dict[str, Any]) -> ColourRenaming:
        return ColourRenaming(instance["colours"])

    def describe(self, instance: dict[str, Any]) -> str:
        edges = ", ".join(f"{a}-{b}" for a, b in instance["edges"])
        return f"Vertices: 1 to {instance['vertices']}\nColours: 1 to {instance['colours']}\nEdges: {edges}"

    def format_answer(self, solution: Any) -> str:
        return ",".join(map(str, solution))

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        return ",".join(str(rng.randint(1, instance["colours"])) for _ in range(instance["vertices"]))
