"""Graph colouring: colour V vertices with k colours so that no edge joins two vertices of the same
colour; many solutions (any proper colouring is accepted).

A planted balanced colouring (class sizes differ by at most one) and E distinct edges drawn uniformly
among the pairs it colours differently, so every instance is k-colourable by construction. Swapping
colour names alone gives k! solutions, so uniqueness is neither sought nor possible; the number of
solutions up to the cap is in ``metadata["solver"]["solutions"]``.

Solving, and so the measured effort, has two stages, as in graph-colouring solvers:

1. **Peel** (:func:`peel`): a vertex with fewer than k neighbours left can always be coloured after
   them, so it is removed; repeating leaves the k-core (Matula and Beck 1983; a graph is
   k-colourable exactly when its k-core is). Colouring the peeled vertices in reverse order never
   backtracks: the stage counts one decision per peeled vertex and one propagation per edge it
   removes (the colour that edge rules out for the vertex coloured later).
2. **Search**: Minicard on the k-core, "solve, block, solve again" as for every family
   (:meth:`GraphColouring.search_features`, equal field by field to the general
   :meth:`Puzzle.solver_features` of the core, a test checks). Each vertex's "exactly one colour"
   is a clause and a native AtMost-1 constraint. Counting uses the colour-renaming symmetry
   (:class:`ColourRenaming`): a solution using u colours stands for k!/(k-u)! solutions, and its
   whole class is blocked while the count is within the cap, so every later model is a new class
   and the count is settled in two or three solver calls instead of eleven.

The solution count up to the cap: a peeled vertex that had d neighbours left has at least k - d
colours free whatever they got, so the graph has at least prod(k - d) x (core solutions) solutions;
when that bound passes the cap the count is capped, otherwise every class of core colourings is
extended over the peeled vertices by depth-first search (:func:`_extensions`; renaming colours maps
one colouring's extensions onto its renaming's, so one per class is enough). Tests check the core,
the bound and every count against brute force.

The vertex labelling and the edges come from :func:`~thinkgym.generators.logic.base.hash_words`
(SHAKE-128 of the seed) rather than a Mersenne Twister seeded per item, whose seeding alone is a
fifth of a 10-vertex item's cost.

Parameters: ``vertices`` (3..40), ``colours`` (2..min(6, vertices)), ``edges`` (1..the number of
pairs a balanced k-colouring colours differently).
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator, Mapping
from functools import cache
from itertools import chain, permutations
from typing import Any

from thinkgym.generators.logic.base import Puzzle, hash_words, int_param
from thinkgym.generators.logic.pysat_tools import CNF, SOLUTION_CAP, Symmetry, new_solver

__all__ = ["ColourRenaming", "GraphColouring", "peel"]


@cache
def _vertex_rules(v: int, k: int) -> CNF:
    """Every vertex has exactly one of k colours, x(i, c) = (i-1)*k + c; built once per (v, k)."""
    cnf = CNF(native_cardinality=True)
    cnf.top = v * k
    for i in range(v):
        cnf.exactly_one(range(i * k + 1, i * k + k + 1))
    return cnf


@cache
def _slot_pairs(v: int, k: int) -> tuple[tuple[int, int], ...]:
    """The pairs of slots 0..v-1 that the balanced colouring "slot i has colour i % k + 1" colours
    differently: the edges a planted instance may have, before its vertices are labelled."""
    return tuple((a, b) for a in range(v) for b in range(a + 1, v) if a % k != b % k)


_DIGITS = "0123456789"


@cache
def _pair_texts(sep: str, v: int) -> dict[int, dict[int, str]]:
    """``f"{a}{sep}{b}"`` for vertex numbers 1..v, looked up rather than formatted (a quarter of the
    time; the id and the prompt each write every edge)."""
    return {a: {b: f"{a}{sep}{b}" for b in range(1, v + 1)} for a in range(1, v + 1)}


def _edge_texts(instance: dict[str, Any], sep: str) -> list[str]:
    v = instance["vertices"]
    if type(v) is int and 1 <= v <= 40:  # the sizes check_params allows
        table = _pair_texts(sep, v)
        try:
            return [table[a][b] for a, b in instance["edges"]]
        except (KeyError, TypeError):  # numbers outside 1..vertices: formatted below
            pass
    return [f"{a}{sep}{b}" for a, b in instance["edges"]]


def peel(v: int, k: int, edges: list[list[int]]) -> tuple[int, int, list[int]]:
    """The k-core peel of a graph on vertices 1..v: ``(peeled, bound, core)``.

    Vertices with fewer than k neighbours left are removed one at a time until none is left (the
    rest, ``core``, sorted, is the k-core). ``bound`` is the product over peeled vertices of k minus
    the neighbours each still had when removed: coloured in reverse order of removal, each has at
    least that many colours free, so the graph has at least ``bound`` colourings per colouring of
    its core. The order tried first is by number of neighbours, fewest first (ties: smaller
    number first), which peels everything when every vertex has fewer than k neighbours after it
    in that order (the neighbours it still has when removed); otherwise vertices are removed from a
    stack as they fall below k.
    """
    rank = list(range(v + 1))  # (neighbours, number) as one int: number + neighbours * (v + 1)
    for a, b in edges:
        rank[a] += v + 1
        rank[b] += v + 1
    later = [0] * (v + 1)
    for a, b in edges:
        later[a if rank[a] < rank[b] else b] += 1
    if max(later) < k:  # that order peels everything
        return v, math.prod([k - d for d in later[1:]]), []
    order, bound, core = _peel_order(_adjacency(v, edges), k)
    return len(order), bound, core


def _adjacency(v: int, edges: list[list[int]]) -> list[list[int]]:
    adj: list[list[int]] = [[] for _ in range(v + 1)]
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    return adj


def _peel_order(adj: list[list[int]], k: int) -> tuple[list[int], int, list[int]]:
    """:func:`peel` with a stack: ``(removal order, bound, core)``."""
    v = len(adj) - 1
    deg = [len(neighbours) for neighbours in adj]  # neighbours not yet removed
    stack = [i for i in range(v, 0, -1) if deg[i] < k]
    gone = [False] * (v + 1)
    order, bound = [], 1
    while stack:
        i = stack.pop()
        gone[i] = True
        order.append(i)
        bound *= k - deg[i]
        for j in adj[i]:
            if not gone[j]:
                deg[j] -= 1
                if deg[j] == k - 1:  # just fell below k: queued once
                    stack.append(j)
    return order, bound, [i for i in range(1, v + 1) if not gone[i]]


def _extensions(adj: list[list[int]], order: list[int], colour: list[int], k: int, limit: int) -> int:
    """How many ways (up to ``limit``) the vertices of ``order`` can be coloured given ``colour``
    (0..k-1 for the core, -1 for the rest), by depth-first search in reverse order of removal: a
    peeled vertex's core and later neighbours are coloured before it, so every step has a colour
    free and the search never dead-ends."""
    count = 0

    def extend(i: int) -> bool:  # True: the limit is reached
        nonlocal count
        if i < 0:
            count += 1
            return count >= limit
        x = order[i]
        taken = {colour[y] for y in adj[x]}
        for c in range(k):
            if c not in taken:
                colour[x] = c
                if extend(i - 1):
                    return True
        colour[x] = -1
        return False

    extend(len(order) - 1)
    return count


def _no_shared_colour(a: int, b: int, k: int) -> tuple[tuple[int, int], ...]:
    """Edge a-b's clauses: no colour c at both ends, -x(a, c) or -x(b, c), for c in 1..k, with
    x(i, c) = (i-1)*k + c."""
    return tuple((-c - a * k + k, -c - b * k + k) for c in range(1, k + 1))


@cache
def _edge_clause_table(v: int, k: int) -> dict[int, dict[int, tuple[tuple[int, int], ...]]]:
    """:func:`_no_shared_colour` for every pair of vertices in 1..v, written once per (v, k)."""
    return {a: {b: _no_shared_colour(a, b, k) for b in range(1, v + 1)} for a in range(1, v + 1)}


def _edge_clauses(v: int, k: int, edges: list[list[int]]) -> list[tuple[int, int]]:
    """Every edge's clauses, in edge order (looked up; computed for numbers outside 1..v)."""
    table = _edge_clause_table(v, k)
    try:
        return list(chain.from_iterable([table[a][b] for a, b in edges]))
    except (KeyError, TypeError):
        return list(chain.from_iterable(_no_shared_colour(a, b, k) for a, b in edges))


def _features(
    decisions: int, conflicts: int, propagations: int, count: int, v: int, k: int, e: int, extra: Mapping[str, int] = {}
) -> dict[str, Any]:
    """The ``metadata["solver"]`` dict: effort figures, the count up to the cap (``count`` past
    it: capped), the whole graph's CNF sizes and ``extra``."""
    effort = decisions + conflicts + propagations
    return {
        "decisions": decisions,
        "conflicts": conflicts,
        "propagations": propagations,
        "effort": effort,
        "solutions": min(count, SOLUTION_CAP),
        "solutions_capped": count > SOLUTION_CAP,
        "variables": v * k,
        "clauses": v + k * e,
        "cardinality_constraints": v,
        **extra,
        "log_effort": round(math.log2(1 + effort), 4),
    }


def _renamings(colours: list[int], k: int) -> Iterator[dict[int, int]]:
    """Every renaming of ``colours`` (0-based, one per vertex) as a map from the colours it uses to
    0..k-1: each injective map, in ``permutations`` order."""
    used = sorted(set(colours))
    for image in permutations(range(k), len(used)):
        yield dict(zip(used, image, strict=True))


def _block_renamings(solver: Any, colours: list[int], k: int) -> None:
    """Adds a blocking clause for every renaming of ``colours``."""
    for rename in _renamings(colours, k):
        solver.add_clause([-(i * k + rename[c] + 1) for i, c in enumerate(colours)])


class ColourRenaming(Symmetry):
    """Renaming colours maps proper colourings to proper colourings: a colouring that uses u of the
    k colours has k!/(k-u)! distinct renamings (injective maps of its colours into 1..k). ``true``
    holds one literal x(i, c) = (i-1)*k + c per vertex, in vertex order."""

    def __init__(self, colours: int) -> None:
        self.k = colours

    def _colours(self, true: list[int]) -> list[int]:
        return [(lit - 1) % self.k for lit in true]

    def size(self, true: list[int]) -> int:
        return math.perm(self.k, len(set(self._colours(true))))

    def members(self, true: list[int]) -> Iterator[list[int]]:
        colours = self._colours(true)
        for rename in _renamings(colours, self.k):
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

    def rng(self, params: dict[str, Any], seed: int | str) -> tuple[int, ...]:
        """The seed's :func:`~thinkgym.generators.logic.base.hash_words`, exactly the V - 1 + E
        words :meth:`build` uses: seeding a Mersenne Twister would be a fifth of a 10-vertex
        item's cost."""
        return hash_words(self.name, seed, params["vertices"] - 1 + params["edges"])

    def build(self, params: dict[str, Any], rng: tuple[int, ...]) -> tuple[dict[str, Any], Any]:
        """Slot i of the balanced colouring has colour i % k + 1; a uniform random labelling of the
        slots (Fisher-Yates, V - 1 words) and E distinct pairs drawn uniformly from those the
        colouring allows (a partial Fisher-Yates over :func:`_slot_pairs`, E words). A word w picks
        one of m as ``(w * m) >> 32`` (bias at most 780 / 2**32)."""
        v, k, e = params["vertices"], params["colours"], params["edges"]
        if len(rng) < v - 1 + e:
            raise ValueError(f"graph colouring needs {v - 1 + e} random words, got {len(rng)}")
        words = iter(rng)
        label = list(range(1, v + 1))
        for i, w in zip(range(v - 1, 0, -1), words, strict=False):  # stops on the range: no word lost
            j = (w * (i + 1)) >> 32
            label[i], label[j] = label[j], label[i]
        pool = list(_slot_pairs(v, k))
        n = len(pool)
        keys = []  # each edge as smaller * 64 + larger (vertices <= 40): sorted as ints, then split
        for i, w in zip(range(e), words, strict=False):
            j = i + ((w * (n - i)) >> 32)
            pool[i], pool[j] = pool[j], pool[i]
            a, b = pool[i]
            a, b = label[a], label[b]
            keys.append(a * 64 + b if a < b else b * 64 + a)
        keys.sort()
        edges = [[key >> 6, key & 63] for key in keys]
        colour = [0] * v
        for slot, vertex in enumerate(label):
            colour[vertex - 1] = slot % k + 1
        return {"vertices": v, "colours": k, "edges": edges}, colour

    def encode(self, instance: dict[str, Any]) -> tuple[CNF, list[int], Any]:
        v, k = instance["vertices"], instance["colours"]
        rules = _vertex_rules(v, k)
        cnf = CNF(native_cardinality=True)
        cnf.top, cnf.atmosts = rules.top, list(rules.atmosts)

        def x(i: int, c: int) -> int:  # vertex i (1-based) has colour c
            return (i - 1) * k + c

        cnf.clauses = [*rules.clauses, *map(list, _edge_clauses(v, k, instance["edges"]))]

        def decode(true: set[int]) -> list[int]:
            return [next(c for c in range(1, k + 1) if x(i, c) in true) for i in range(1, v + 1)]

        return cnf, list(range(1, v * k + 1)), decode

    def solver_features(self, instance: dict[str, Any]) -> dict[str, Any]:
        """The two-stage effort (module docstring): the peel's decisions (one per peeled vertex)
        and propagations (one per edge it removes) plus Minicard's figures on the k-core, the
        solution count up to the cap, the sizes of the whole graph's CNF (``variables``,
        ``clauses``, ``cardinality_constraints``) and of the peel (``peeled``, ``core_vertices``,
        ``core_edges``)."""
        v, k, edges = instance["vertices"], instance["colours"], instance["edges"]
        peeled, bound, core = peel(v, k, edges)
        classes: list[tuple[list[int], int]] = [([], 1)]  # core colourings: (one of a class, its size)
        if core:
            index = {vertex: i for i, vertex in enumerate(core, 1)}
            core_edges = [[index[a], index[b]] for a, b in edges if a in index and b in index]
            search, classes = self._search({"vertices": len(core), "colours": k, "edges": core_edges})
            decisions, conflicts, propagations = search["decisions"], search["conflicts"], search["propagations"]
            count, capped = search["solutions"], search["solutions_capped"]
        else:
            core_edges, decisions, conflicts, propagations, count, capped = [], 0, 0, 0, 1, False
        decisions += peeled
        propagations += len(edges) - len(core_edges)
        if not capped and peeled:
            if bound * count > SOLUTION_CAP:  # at least bound colourings per colouring of the core
                capped = True
            else:  # the bound does not settle it: count the extensions of each core class
                count, capped = self._count_extensions(v, k, edges, core, classes)
        peel_sizes = {"peeled": peeled, "core_vertices": len(core), "core_edges": len(core_edges)}
        total = SOLUTION_CAP + 1 if capped else count
        return _features(decisions, conflicts, propagations, total, v, k, len(edges), peel_sizes)

    @staticmethod
    def _count_extensions(
        v: int, k: int, edges: list[list[int]], core: list[int], classes: list[tuple[list[int], int]]
    ) -> tuple[int, bool]:
        """The whole graph's colourings up to the cap, ``(count, capped)``, from every class of
        core colourings (all of them: the core's count was within the cap). Renaming colours maps
        a core colouring's extensions one to one onto its renaming's, so a class of size s whose
        representative extends in x ways adds s * x."""
        adj = _adjacency(v, edges)
        order = _peel_order(adj, k)[0]
        total = 0
        for core_colours, size in classes:
            colour = [-1] * (v + 1)
            for vertex, c in zip(core, core_colours, strict=True):
                colour[vertex] = c
            need = -(-(SOLUTION_CAP + 1 - total) // size)  # extensions that would pass the cap
            total += size * _extensions(adj, order, colour, k, need)
            if total > SOLUTION_CAP:
                return SOLUTION_CAP, True
        return total, False

    def search_features(self, instance: dict[str, Any]) -> dict[str, Any]:
        """Minicard's features on a whole instance: :meth:`Puzzle.solver_features` without the
        general machinery: the same constraints added in the same order to the same fresh
        Minicard, the same two calls, the same count of whole colour-renaming classes, so the same
        numbers (a test compares them), with a solution handled as its list of colours rather than
        decoded and re-encoded."""
        return self._search(instance)[0]

    def _search(self, instance: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[list[int], int]]]:
        """:meth:`search_features` and the classes found, each as one colouring (0-based, one per
        vertex) and its size: all of them when the count is within the cap."""
        v, k = instance["vertices"], instance["colours"]
        rules = _vertex_rules(v, k)
        edge_clauses = _edge_clauses(v, k, instance["edges"])
        with new_solver(chain(rules.clauses, edge_clauses), rules.atmosts) as s:
            if not s.solve():
                raise ValueError("internal error: the generated puzzle has no solution")
            colours = [(lit - 1) % k for lit in s.get_model() if lit > 0]  # one per vertex, in order
            count = math.perm(k, len(set(colours)))
            classes = [(colours, count)]
            if count <= SOLUTION_CAP:  # still counting: block the whole class
                _block_renamings(s, colours, k)
            else:
                s.add_clause([-(i * k + c + 1) for i, c in enumerate(colours)])
            found = s.solve()
            raw = s.accum_stats()
            while found and count <= SOLUTION_CAP:  # each model found is a new class
                colours = [(lit - 1) % k for lit in s.get_model() if lit > 0]
                size = math.perm(k, len(set(colours)))
                classes.append((colours, size))
                count += size
                if count > SOLUTION_CAP:
                    break
                _block_renamings(s, colours, k)
                found = s.solve()
        decisions, conflicts, propagations = int(raw["decisions"]), int(raw["conflicts"]), int(raw["propagations"])
        stats = _features(decisions, conflicts, propagations, count, v, k, len(instance["edges"]))
        return stats, classes

    def instance_id(self, instance: dict[str, Any]) -> str:
        """:meth:`Puzzle.instance_id` with the canonical JSON written directly (keys in sorted
        order, no spaces: what ``stable_id`` hashes), a few microseconds cheaper than the general
        encoder, for instances whose numbers are ints (as :meth:`build` makes them); a test checks
        that the two agree."""
        pairs = "],[".join(_edge_texts(instance, ","))
        edges = f"[[{pairs}]]" if pairs else "[]"
        text = (
            f'["logic",{{"instance":{{"colours":{instance["colours"]},"edges":{edges},'
            f'"vertices":{instance["vertices"]}}},"puzzle":"graph_colouring"}}]'
        )
        return f"logic-{hashlib.sha256(text.encode()).hexdigest()[:24]}"

    def symmetry(self, instance: dict[str, Any]) -> ColourRenaming:
        return ColourRenaming(instance["colours"])

    def describe(self, instance: dict[str, Any]) -> str:
        edges = ", ".join(_edge_texts(instance, "-"))
        return f"Vertices: 1 to {instance['vertices']}\nColours: 1 to {instance['colours']}\nEdges: {edges}"

    def format_answer(self, solution: Any) -> str:
        return ",".join(map(_DIGITS.__getitem__, solution))  # colours are 1..6

    def random_answer(self, instance: dict[str, Any], rng: random.Random) -> str:
        return ",".join(str(rng.randint(1, instance["colours"])) for _ in range(instance["vertices"]))
