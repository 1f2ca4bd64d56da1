"""Graph colouring: colour V vertices with k colours so that no edge joins two vertices of the same
colour; many solutions (any proper colouring is accepted).

A planted balanced colouring (class sizes differ by at most one) and E distinct edges drawn uniformly
among the pairs it colours differently, so every instance is k-colourable by construction. Swapping
colour names alone gives k! solutions, so uniqueness is neither sought nor possible; the number of
solutions up to the cap is in ``metadata["solver"]["solutions"]``.

Parameters: ``vertices`` (3..40), ``colours`` (2..min(6, vertices)), ``edges`` (1..the number of
pairs a balanced k-colouring colours differently).
"""

from __future__ import annotations

import random
from typing import Any

from thinkgym.generators.logic.base import Puzzle, int_param
from thinkgym.generators.logic.pysat_tools import CNF

__all__ = ["GraphColouring"]


class GraphColouring(Puzzle):
    name = "graph_colouring"
    title = "graph colouring"
    unique = False
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
        cnf = CNF()
        cnf.top = v * k

        def x(i: int, c: int) -> int:  # vertex i (1-based) has colour c
            return (i - 1) * k + c

        for i in range(1, v + 1):
            cnf.exactly_one([x(i, c) for c in range(1, k + 1)])
        for a, b in instance["edges"]:
            for c in range(1, k + 1):
                cnf.add([-x(a, c), -x(b, c)])

        def decode(true: set[int]) -> list[int]:
            return [next(c for c in range(1, k + 1) if x(i, c) in true) for i in range(1, v + 1)]

        return cnf, list(range(1, v * k + 1)), decode

    def describe(self, instance: dict[str, Any]) -> str:
        edges = ", ".join(f"{a}-{b}" for a, b in instance["edges"])
        return f"Vertices: 1 to {instance['vertices']}\nColours: 1 to {instance['colours']}\nEdges: {edges}"

    def format_answer(self, solution: Any) -> str:
        return ",".join(map(str, solution))

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        return ",".join(str(rng.randint(1, instance["colours"])) for _ in range(instance["vertices"]))
