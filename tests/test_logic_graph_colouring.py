"""Graph colouring's two-stage solver (k-core peel, then Minicard on the core), its fast id and its
SHAKE-128 draws, checked against independent brute force on graphs the generator did not make."""

from __future__ import annotations

import itertools
import math
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thinkgym.generators import logic
from thinkgym.generators.logic.base import Puzzle, hash_words
from thinkgym.generators.logic.graph_colouring import peel
from thinkgym.generators.logic.pysat_tools import SOLUTION_CAP

FAM = logic.get("graph_colouring")


def colourings(v: int, k: int, edges: list[list[int]], keep: set[int] | None = None) -> int:
    """Proper k-colourings of the subgraph on ``keep`` (default: every vertex), by brute force."""
    verts = sorted(keep) if keep is not None else list(range(1, v + 1))
    inner = [(a, b) for a, b in edges if a in verts and b in verts]
    pos = {x: i for i, x in enumerate(verts)}
    return sum(all(c[pos[a]] != c[pos[b]] for a, b in inner) for c in itertools.product(range(k), repeat=len(verts)))


def naive_core(v: int, k: int, edges: list[list[int]]) -> list[int]:
    """The k-core by rounds: drop every vertex with fewer than k neighbours left, until none is."""
    alive = set(range(1, v + 1))
    while True:
        deg = Counter(x for a, b in edges if a in alive and b in alive for x in (a, b))
        low = {x for x in alive if deg[x] < k}
        if not low:
            return sorted(alive)
        alive -= low


@st.composite
def graphs(draw):
    v = draw(st.integers(2, 7))
    k = draw(st.integers(2, 3))
    pairs = [[a, b] for a in range(1, v + 1) for b in range(a + 1, v + 1)]
    edges = sorted(draw(st.lists(st.sampled_from(pairs), unique_by=tuple, max_size=len(pairs))))
    return v, k, edges


@settings(max_examples=300, deadline=None)
@given(graphs())
def test_peel_finds_the_k_core_and_a_true_lower_bound(graph):
    v, k, edges = graph
    peeled, bound, core = peel(v, k, edges)
    assert core == naive_core(v, k, edges)
    assert peeled == v - len(core) and bound >= 1
    core_count = colourings(v, k, edges, set(core)) if core else 1
    # every colouring of the core extends in at least `bound` ways
    assert bound * core_count <= colourings(v, k, edges)
    if not core:  # the order it found colours every vertex: k-colourable
        assert colourings(v, k, edges) >= bound
    n = colourings(v, k, edges)
    if n:  # the two-stage count on a graph the generator did not make
        stats = FAM.solver_features({"vertices": v, "colours": k, "edges": edges})
        assert (stats["solutions"], stats["solutions_capped"]) == (min(n, SOLUTION_CAP), n > SOLUTION_CAP)


@settings(max_examples=150, deadline=None)
@given(st.integers(3, 9), st.integers(2, 4), st.integers(0, 10**9), st.data())
def test_features_are_the_peel_plus_minicard_on_the_core_and_the_count_is_exact(v, k, seed, data):
    k = min(k, v)
    sizes = [v // k + (i < v % k) for i in range(k)]  # the planted colouring's classes
    top = v * (v - 1) // 2 - sum(s * (s - 1) // 2 for s in sizes)
    params = {"vertices": v, "colours": k, "edges": data.draw(st.integers(1, top))}
    p = FAM.generate(params, seed)
    inst, stats = p.metadata["instance"], p.metadata["solver"]
    peeled, _, core = peel(v, k, inst["edges"])
    index = {x: i for i, x in enumerate(core, 1)}
    core_edges = [[index[a], index[b]] for a, b in inst["edges"] if a in index and b in index]
    search = FAM.search_features({"vertices": len(core), "colours": k, "edges": core_edges}) if core else None
    assert stats["peeled"] == peeled and stats["core_vertices"] == len(core)
    assert stats["core_edges"] == len(core_edges)
    assert stats["decisions"] == peeled + (search["decisions"] if search else 0)
    assert stats["conflicts"] == (search["conflicts"] if search else 0)
    assert stats["propagations"] == len(inst["edges"]) - len(core_edges) + (search["propagations"] if search else 0)
    assert stats["effort"] == stats["decisions"] + stats["conflicts"] + stats["propagations"]
    assert stats["log_effort"] == round(math.log2(1 + stats["effort"]), 4) == p.difficulty
    n = colourings(v, k, inst["edges"])
    assert (stats["solutions"], stats["solutions_capped"]) == (min(n, SOLUTION_CAP), n > SOLUTION_CAP)
    # the stored answer is a proper colouring with colours 1..k
    colour = [int(c) for c in p.answer.split(",")]
    assert len(colour) == v and set(colour) <= set(range(1, k + 1))
    assert all(colour[a - 1] != colour[b - 1] for a, b in inst["edges"])


def test_fast_id_equals_the_general_id():
    for params in [{"vertices": 10, "colours": 3, "edges": 9}, *FAM.levels.values()]:
        for seed in range(40):
            inst = FAM.generate(params, seed).metadata["instance"]
            assert FAM.instance_id(inst) == Puzzle.instance_id(FAM, inst)
    for edges in ([], [[1, 2]], [[41, 45], [1, 40]]):  # empty, and numbers outside the lookup table
        inst = {"vertices": 45, "colours": 2, "edges": edges}
        assert FAM.instance_id(inst) == Puzzle.instance_id(FAM, inst)


def test_hash_words_are_fixed_and_uniform():
    a = hash_words("graph_colouring", 7, 5)
    assert a == hash_words("graph_colouring", 7, 5) and len(a) == 5 and all(0 <= w < 2**32 for w in a)
    assert a != hash_words("graph_colouring", 8, 5) and a[0] != hash_words("other", 7, 1)[0]
    assert hash_words("graph_colouring", 7, 9)[:5] == a  # a longer stream starts the same
    # 20 equal bins over 40,000 words: chi-square with 19 degrees of freedom below 43.8 (p = 0.001)
    bins = Counter((w * 20) >> 32 for w in hash_words("uniformity", 0, 40_000))
    chi2 = sum((bins[i] - 2000) ** 2 / 2000 for i in range(20))
    assert chi2 < 43.8, chi2
    with pytest.raises(ValueError):  # build given too few words: the edges come short
        FAM.build({"vertices": 6, "colours": 3, "edges": 4}, hash_words("x", 0, 6))


def test_every_pair_and_every_balanced_colouring_is_equally_likely():
    # 6 vertices, 3 colours, 4 edges: the labelling is uniform, so by symmetry each of the 15 vertex
    # pairs is an edge equally often and each vertex's planted colour is uniform over the 3.
    v, k, e, n = 6, 3, 4, 6000
    pair_counts: Counter = Counter()
    colour_counts: Counter = Counter()
    for seed in range(n):
        inst, colour = FAM.build({"vertices": v, "colours": k, "edges": e}, FAM.rng({"vertices": v, "edges": e}, seed))
        assert len({tuple(x) for x in inst["edges"]}) == e and all(a < b for a, b in inst["edges"])
        assert sorted(Counter(colour).values()) == [2, 2, 2]
        assert all(colour[a - 1] != colour[b - 1] for a, b in inst["edges"])
        pair_counts.update(tuple(x) for x in inst["edges"])
        colour_counts.update(enumerate(colour))
    expected = n * e / 15
    chi2 = sum((pair_counts[p] - expected) ** 2 / expected for p in itertools.combinations(range(1, v + 1), 2))
    assert len(pair_counts) == 15 and chi2 < 36.1, chi2  # 14 degrees of freedom, p = 0.001
    expected = n / k
    chi2 = sum((colour_counts[(i, c)] - expected) ** 2 / expected for i in range(v) for c in range(1, k + 1))
    assert chi2 < 32.9, chi2  # 6 vertices x 2 degrees of freedom: p = 0.001


def test_parameters_are_remembered_without_leaking():
    params = {"vertices": 10, "colours": 3, "edges": 9}
    first = FAM.validate(params)
    first["edges"] = 1000  # a caller's change must not reach the next call
    assert FAM.validate(params) == params
    with pytest.raises(ValueError, match="vertices"):
        FAM.validate({"vertices": True, "colours": 3, "edges": 1})  # True is not taken for 1
    FAM.validate({"vertices": 3, "colours": 2, "edges": 1})
    with pytest.raises(ValueError, match="vertices"):
        FAM.validate({"vertices": True, "colours": 2, "edges": 1})
    with pytest.raises(ValueError, match="vertices"):
        FAM.validate({"vertices": [3], "colours": 2, "edges": 1})  # unhashable: checked, not remembered
