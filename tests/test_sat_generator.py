"""The SAT generator: SATURN's (n, k, l) contract, satisfiability, determinism, bad parameters."""

import random

import pytest

from thinkgym.generators import sat
from thinkgym.verifiers.sat import first_unsatisfied


@pytest.mark.parametrize("level", sorted(sat.LEVELS))
def test_every_level_gives_well_formed_satisfiable_instances(level):
    params = sat.check_params(**sat.LEVELS[level])
    n, k, l = params["n"], params["k"], params["l"]
    for seed in range(25):
        p = sat.generate(params, seed)
        clauses = p.metadata["clauses"]
        assert p.metadata["num_vars"] == k and p.family == "sat"
        assert len(clauses) == l
        assert len({tuple(c) for c in clauses}) == l, "clauses must be distinct"
        for clause in clauses:
            variables = [abs(x) for x in clause]
            assert len(clause) == n and len(set(variables)) == n, "n distinct variables per clause"
            assert all(1 <= v <= k for v in variables) and 0 not in clause
        assert len(p.answer) == k and set(p.answer) <= {"0", "1"}
        assert first_unsatisfied(p.answer, clauses) == -1, "the planted assignment satisfies the formula"
        solved = sat.solve(clauses, k)
        assert solved is not None and first_unsatisfied(solved, clauses) == -1
        assert p.difficulty == pytest.approx(sat.difficulty(n, k, l))


def test_difficulty_matches_saturn_table():
    # mechanics.md §1.7, computed from paper Eq. 2
    for (n, k, l), d in {
        (3, 5, 5): 5.63,
        (3, 5, 13): 8.39,
        (6, 7, 40): 8.62,
        (4, 8, 40): 11.64,
        (3, 7, 40): 12.78,
    }.items():
        assert sat.difficulty(n, k, l) == pytest.approx(d, abs=0.005)


def test_named_levels_are_ordered_by_difficulty_and_contain_saturn_levels():
    ds = [sat.difficulty(p["n"], p["k"], p["l"]) for _, p in sorted(sat.LEVELS.items())]
    assert ds == sorted(ds)
    nkl = {(p["n"], p["k"], p["l"]) for p in sat.LEVELS.values()}
    train = {(3, 5, 5), (3, 5, 6), (3, 5, 8), (3, 5, 13), (3, 5, 15)}
    test = {
        (3, 5, 20),
        (3, 5, 25),
        (3, 6, 20),
        (3, 7, 20),
        (3, 7, 40),
        (4, 7, 20),
        (4, 7, 40),
        (4, 8, 40),
        (5, 8, 40),
        (6, 7, 40),
    }
    assert train | test <= nkl


def test_same_seed_same_instance_and_seeds_differ():
    params = sat.check_params(**sat.LEVELS[4])
    assert sat.generate(params, 123) == sat.generate(params, 123)
    ids = {sat.generate(params, s).id for s in range(200)}
    assert len(ids) == 200


def test_generation_is_fixed_across_machines():
    # Python's random.Random is specified bit-for-bit; this pins the instance so a change to the
    # generator (which would silently change every published data set) is caught.
    p = sat.generate(sat.check_params(3, 5, 5), 0)
    assert p.answer == "11011"
    assert p.metadata["clauses"] == [[-2, 4, -5], [-1, -3, 4], [1, 4, -5], [2, 3, 4], [2, 4, 5]]
    assert p.id == "sat-ca4a6592a7c874bc238cc822"


def test_dense_instances_use_every_clause():
    # l equal to the number of distinct satisfied clauses: C(4,3)*(2^3-1) = 28
    p = sat.generate(sat.check_params(3, 4, 28), 5)
    assert len({tuple(c) for c in p.metadata["clauses"]}) == 28


def _literal_agreement(planting, seeds=30):
    agree = total = 0
    params = sat.check_params(3, 200, 800, planting)
    for seed in range(seeds):
        p = sat.generate(params, seed)
        sigma = p.answer
        for clause in p.metadata["clauses"]:
            for lit in clause:
                total += 1
                agree += (lit > 0) == (sigma[abs(lit) - 1] == "1")
    return agree / total


def test_q_hidden_removes_the_literal_bias_of_naive_planting():
    # naive planting: 4/7 of literals agree with sigma; q-hidden: 1/2 (Jia-Moore-Strain 2007)
    assert _literal_agreement("naive") == pytest.approx(4 / 7, abs=0.01)
    assert _literal_agreement("q-hidden") == pytest.approx(0.5, abs=0.01)


def test_q_for_three_is_the_golden_ratio_conjugate():
    assert sat._q_for(3) == pytest.approx((5**0.5 - 1) / 2, abs=1e-12)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"n": 4, "k": 3, "l": 2}, r"n \(literals per clause\) must be in 1..k=3"),
        ({"n": 3, "k": 4, "l": 29}, r"l \(number of clauses\) must be in 1..28"),
        ({"n": 3, "k": 0, "l": 1}, r"k \(number of variables\) must be in"),
        ({"n": 3, "k": 5, "l": 0}, r"l \(number of clauses\)"),
        ({"n": 2, "k": 5, "l": 3, "planting": "q-hidden"}, r"n must be >= 3"),
        ({"n": 3, "k": 5, "l": 3, "planting": "magic"}, r"planting must be one of"),
        ({"n": 3.0, "k": 5, "l": 3}, r"n must be an int"),
        ({"n": True, "k": 5, "l": 3}, r"n must be an int"),
    ],
)
def test_impossible_parameters_name_the_parameter(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sat.check_params(**kwargs)


def test_dimacs_prompt_for_many_variables_and_custom_template():
    p = sat.generate(sat.check_params(3, 40, 50), 1)
    assert "p cnf 40 50" in p.prompt
    first = " ".join(map(str, p.metadata["clauses"][0])) + " 0"
    assert first in p.prompt
    custom = sat.generate(sat.check_params(3, 5, 5), 1, template="Solve {instance} with k={k}")
    assert custom.prompt.startswith('Solve {"n_sat": 3') and custom.prompt.endswith("with k=5")
    assert custom.id == sat.generate(sat.check_params(3, 5, 5), 1).id, "the id does not depend on wording"
    with pytest.raises(ValueError, match="instance"):
        sat.check_template("no field here")
    with pytest.raises(ValueError, match="may use only"):
        sat.check_template("{instance} {bogus}")


def test_saturn_prompt_encodes_the_clauses():
    p = sat.generate(sat.check_params(3, 5, 5), 0)
    letters = "ABCDE"
    encoded = sorted("".join(("!" if x < 0 else "") + letters[abs(x) - 1] for x in c) for c in p.metadata["clauses"])
    assert '"clause": "' + " & ".join(encoded) + '"' in p.prompt
    assert "\\boxed{}" in p.prompt


def test_random_generation_does_not_touch_global_random_state():
    random.seed(7)
    before = random.random()
    random.seed(7)
    sat.generate(sat.check_params(3, 5, 5), 99)
    assert random.random() == before


def _reference_draws(n, k, l, rng, sigma, planting):
    """The generator's draws written with random's own calls (sat._sample_distinct inlines them):
    the instances a seed gave before the inlining, which must not change."""
    q = sat._q_for(n) if planting == "q-hidden" else 1.0
    seen, out = set(), []
    while len(out) < l:
        vs = sorted(rng.sample(range(k), n))
        if planting == "naive":
            agree = rng.randint(1, (1 << n) - 1)
        else:
            agree = rng.getrandbits(n)
            t = agree.bit_count()
            if t == 0 or (t > 1 and rng.random() >= q ** (t - 1)):
                continue
        clause = tuple((v + 1) if sigma[v] == ((agree >> i) & 1) else -(v + 1) for i, v in enumerate(vs))
        if clause not in seen:
            seen.add(clause)
            out.append(clause)
    return out


@pytest.mark.parametrize(
    ("n", "k", "l", "planting"),
    [
        (3, 5, 5, "naive"),  # tables (every named level up to 15 uses them)
        (3, 7, 40, "naive"),
        (6, 7, 40, "naive"),
        (5, 8, 40, "naive"),
        (2, 2, 2, "naive"),
        (1, 4, 3, "naive"),  # n = 1: no tables
        (4, 21, 60, "naive"),  # sample's pool branch, too many pick sequences for tables
        (3, 22, 60, "naive"),  # sample's set branch (k above its pool limit of 21 for n <= 5)
        (6, 85, 50, "naive"),  # n > 5: the pool limit is 85
        (6, 86, 50, "naive"),
        (3, 7, 40, "q-hidden"),
        (3, 30, 128, "q-hidden"),
        (10, 12, 300, "q-hidden"),
    ],
)
def test_sampling_draws_exactly_what_random_sample_and_randint_draw(n, k, l, planting):
    for seed in range(25):
        ours, theirs = random.Random(seed), random.Random(seed)
        bits = ours.getrandbits(k)
        theirs.getrandbits(k)
        sigma = [(bits >> i) & 1 for i in range(k)]
        assert sat._sample_distinct(n, k, l, ours, sigma, planting) == _reference_draws(
            n, k, l, theirs, sigma, planting
        )
        assert ours.getstate() == theirs.getstate()  # a caller's generator continues as before


def test_every_named_level_up_to_15_samples_from_tables():
    assert all(sat._tables(p["n"], p["k"]) is not None for level, p in sat.LEVELS.items() if level <= 15)


def test_saturn_prompt_spells_every_literal():
    clauses = [[-26, -1, 2], [1, 25, 26]]
    assert sat.format_instance(clauses, 3, 26) == '{"n_sat": 3, "k": 26, "clause": "!Z!AB & AYZ"}'
