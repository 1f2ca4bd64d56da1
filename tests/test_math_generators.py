"""Math generators: every family and level gives deterministic, varied, well-formed problems whose
answers are re-derived here independently of the generator (the prompt's own math parsed with
sympy, solutions substituted back, counting and probability by brute-force enumeration), and bad
knobs are ValueErrors naming the knob."""

import dataclasses
import functools
import itertools
import json
import math
import re
from fractions import Fraction

import pytest
import sympy
from sympy.parsing.sympy_parser import implicit_multiplication_application, parse_expr, standard_transformations

from thinkgym.core import Problem, stable_id
from thinkgym.generators import math as gen
from thinkgym.generators.math import FAMILIES, INSTRUCTION

CASES = [(name, level) for name, family in FAMILIES.items() for level in sorted(family.levels)]
SEEDS = range(60)
X, Y, Z = sympy.symbols("x y z")
_TRANSFORMS = (*standard_transformations, implicit_multiplication_application)
_SYMPY_NAMES = dict(vars(sympy))  # parse_expr would otherwise run "from sympy import *" on every call
_INNERMOST = [
    (re.compile(r"\\frac\{([^{}]*)\}\{([^{}]*)\}"), r"((\1)/(\2))"),
    (re.compile(r"\\sqrt\{([^{}]*)\}"), r"sqrt(\1)"),
    (re.compile(r"\^\{([^{}]*)\}"), r"**(\1)"),
]


@functools.cache
def problems(name: str, level: int) -> tuple[Problem, ...]:
    return tuple(gen.generate(name, seed, level=level) for seed in SEEDS)


# -- reading the LaTeX the generators write ------------------------------------------------------
@functools.cache
def to_sympy(tex: str) -> sympy.Expr:
    """A LaTeX expression (fractions, surds, powers, \\times, \\div, implicit products) as sympy."""
    s = tex.replace("\\left(", "(").replace("\\right)", ")")
    s = s.replace("\\times", "*").replace("\\cdot", "*").replace("\\div", "/")
    changed = True
    while changed:
        before = s
        for pattern, repl in _INNERMOST:
            s = pattern.sub(repl, s)
        changed = s != before
    assert "\\" not in s and "{" not in s, f"unparsed LaTeX left in {s!r}"
    return parse_expr(s, local_dict={"x": X, "y": Y, "z": Z}, global_dict=_SYMPY_NAMES, transformations=_TRANSFORMS)


def _split_top(s: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(s):
        depth += 1 if ch in "({" else -1 if ch in ")}" else 0
        if ch == "," and depth == 0:
            parts.append(s[start:i])
            start = i + 1
    return [p.strip() for p in parts + [s[start:]]]


def answer_value(tex: str, kind: str):
    if kind == "set":
        assert tex.startswith("\\{") and tex.endswith("\\}"), tex
        return [to_sympy(v) for v in _split_top(tex[2:-2])]
    if kind == "tuple":
        assert tex.startswith("(") and tex.endswith(")"), tex
        return tuple(to_sympy(v) for v in _split_top(tex[1:-1]))
    return to_sympy(tex)


def exact_value(exact, kind: str):
    if kind == "set":
        return [sympy.sympify(v) for v in exact]
    if kind == "tuple":
        return tuple(sympy.sympify(v) for v in exact)
    return sympy.sympify(exact)


def math_segments(prompt: str) -> list[str]:
    return re.findall(r"\$([^$]+)\$", prompt)


def same(a, b) -> bool:
    return sympy.simplify(sympy.sympify(a) - sympy.sympify(b)) == 0


def numbers_in(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\d+", text)}


_UNSHOWN = {"roots", "pair", "group"}  # the planted answer, and a group named rather than counted


def instance_numbers(value) -> set[int]:
    """The absolute values of every integer (and fraction part) in an instance dict, but for the
    keys in ``_UNSHOWN``."""
    if isinstance(value, bool):
        return set()
    if isinstance(value, int):
        return {abs(value)}
    if isinstance(value, str) and re.fullmatch(r"-?\d+(/\d+)?", value):
        f = Fraction(value)
        return {abs(f.numerator), f.denominator} if f.denominator > 1 else {abs(f.numerator)}
    if isinstance(value, dict):
        return set().union(*(instance_numbers(v) for k, v in value.items() if k not in _UNSHOWN))
    if isinstance(value, list):
        return set().union(*map(instance_numbers, value))
    return set()


# -- independent re-derivation, one checker per family --------------------------------------------
def check_fractions(p: Problem) -> None:
    (expr,) = math_segments(p.prompt)
    assert to_sympy(expr) == to_sympy(p.answer)


def check_linear_equation(p: Problem) -> None:
    lhs, rhs = math_segments(p.prompt)[1].split(" = ")
    difference = sympy.expand(to_sympy(lhs) - to_sympy(rhs))
    slope = difference.coeff(X)
    assert slope != 0 and sympy.degree(difference, X) == 1, "exactly one solution"
    assert difference.subs(X, to_sympy(p.answer)) == 0


def check_linear_system(p: Problem) -> None:
    equations = [s for s in math_segments(p.prompt) if "=" in s]
    unknowns = [X, Y, Z][: len(equations)]
    matrix, rhs = sympy.linear_eq_to_matrix(
        [to_sympy(a) - to_sympy(b) for a, b in (e.split(" = ") for e in equations)], unknowns
    )
    assert matrix.det() != 0, "the solution is unique"
    answer = answer_value(p.answer, "tuple")
    assert matrix * sympy.Matrix(answer) == rhs
    values = dict(zip(unknowns, answer, strict=True))
    for step in p.metadata["steps"]:  # eliminated equations hold at the solution
        if "=" in step["result"]:
            a, b = step["result"].split(" = ")
            assert to_sympy(a).subs(values) == to_sympy(b)


def check_polynomial_roots(p: Problem) -> None:
    (equation,) = [s for s in math_segments(p.prompt) if s.endswith("= 0")]
    poly = sympy.Poly(to_sympy(equation[: -len(" = 0")]), X)
    roots = answer_value(p.answer, "set")
    assert len(roots) == poly.degree(), "as many distinct roots as the degree: the set is complete"
    assert len(set(roots)) == len(roots)
    for r in roots:
        assert sympy.expand(poly.as_expr().subs(X, r)) == 0
    for step in p.metadata["steps"]:  # every quotient divides the polynomial
        result = step["result"]
        if "x" in result:
            assert sympy.rem(poly, sympy.Poly(to_sympy(result), X)).is_zero


def check_number_theory(p: Problem) -> None:
    inst = p.metadata["instance"]
    kind = inst["kind"]
    if kind == "gcd":
        expected = sympy.gcd(inst["a"], inst["b"])
    elif kind == "lcm":
        expected = sympy.lcm(inst["a"], inst["b"])
    elif kind == "divisor_count":
        expected = sympy.divisor_count(inst["n"])
    elif kind == "mod_inverse":
        expected = sympy.mod_inverse(inst["a"], inst["m"])
    elif kind == "mod_power":
        expected = pow(inst["a"], inst["e"], inst["m"])
    else:
        expected = sympy.ntheory.modular.crt(inst["moduli"], inst["residues"])[0]
    assert to_sympy(p.answer) == expected


def _consecutive(positions: set[int], size: int, n: int, circular: bool) -> bool:
    starts = range(n) if circular else range(n - size + 1)
    return any(positions == {(s + i) % n for i in range(size)} for s in starts)


def _count_group(inst: dict, circular: bool) -> int:
    """Arrangements of n labelled people (0..size-1 the group) with the group consecutive or not;
    brute force up to 7 people, otherwise block positions times orders (a different argument from
    the generator's gluing); around a table, divided by the n rotations."""
    n, size, together = inst["n"], inst["group"], inst["together"]
    if n <= 7:
        count = sum(
            _consecutive({perm.index(i) for i in range(size)}, size, n, circular) == together
            for perm in itertools.permutations(range(n))
        )
    else:
        blocks = (n if circular else n - size + 1) * math.factorial(size) * math.factorial(n - size)
        count = blocks if together else math.factorial(n) - blocks
    return count // n if circular else count


def check_counting(p: Problem) -> None:
    inst = p.metadata["instance"]
    kind = inst["kind"]
    if kind == "permutations":
        expected = sum(1 for _ in itertools.permutations(range(inst["n"]), inst["k"]))
    elif kind == "combinations":
        expected = sum(1 for _ in itertools.combinations(range(inst["n"]), inst["k"]))
    elif kind == "word":
        assert inst["word"] in p.prompt
        expected = len(set(itertools.permutations(inst["word"])))
    elif kind in ("row", "circle"):
        expected = _count_group(inst, circular=kind == "circle")
    elif kind == "committee":
        people = ["w"] * inst["women"] + ["m"] * inst["men"]
        expected = sum(
            [people[i] for i in c].count("w") >= inst["least"]
            for c in itertools.combinations(range(len(people)), inst["k"])
        )
    else:
        d, allowed = inst["d"], set(map(str, inst["digits"]))
        rule = {"even": lambda v: v % 2 == 0, "odd": lambda v: v % 2 == 1, "divisible by 5": lambda v: v % 5 == 0}
        expected = sum(
            1
            for v in range(10 ** (d - 1), 10**d)
            if len(set(str(v))) == d and set(str(v)) <= allowed and rule[inst["rule"]](v)
        )
    assert to_sympy(p.answer) == expected


def check_probability(p: Problem) -> None:
    inst = p.metadata["instance"]
    kind = inst["kind"]
    if kind == "dice":
        rolls = list(itertools.product(range(1, inst["sides"] + 1), repeat=inst["k"]))
        hits = [r for r in rolls if (sum(r) >= inst["t"] if inst["at_least"] else sum(r) == inst["t"])]
        expected = Fraction(len(hits), len(rolls))
    elif kind == "coins":
        tosses = list(itertools.product((0, 1), repeat=inst["n"]))
        hits = [t for t in tosses if (sum(t) >= inst["j"] if inst["at_least"] else sum(t) == inst["j"])]
        expected = Fraction(len(hits), len(tosses))
    elif kind == "urn":
        balls = ["r"] * inst["red"] + ["b"] * inst["blue"]
        if math.comb(len(balls), inst["k"]) <= 5000:
            draws = list(itertools.combinations(range(len(balls)), inst["k"]))
            hits = [d for d in draws if [balls[i] for i in d].count("r") == inst["j"]]
            expected = Fraction(len(hits), len(draws))
        else:
            from sympy.stats import Hypergeometric, P

            drawn = Hypergeometric("X", len(balls), inst["red"], inst["k"])
            expected = Fraction(str(P(sympy.Eq(drawn, inst["j"]))))
    elif kind == "at_least_one":
        hit = Fraction(inst["p"])
        expected = sum(
            math.prod(hit if s else 1 - hit for s in shots)
            for shots in itertools.product((True, False), repeat=inst["n"])
            if any(shots)
        )
    else:
        p_a = Fraction(inst["p_a"])
        joint = {}
        for bag, weight in (("A", p_a), ("B", 1 - p_a)):
            red, blue = inst["a"] if bag == "A" else inst["b"]
            for ball in ["r"] * red + ["b"] * blue:
                joint[bag, ball] = joint.get((bag, ball), 0) + weight / (red + blue)
        expected = joint["A", "r"] / (joint["A", "r"] + joint["B", "r"])
    assert to_sympy(p.answer) == sympy.Rational(expected.numerator, expected.denominator)


def check_sequences(p: Problem) -> None:
    inst = p.metadata["instance"]
    kind = inst["kind"]
    if kind == "arithmetic_sum":
        expected = sum(inst["a"] + i * inst["d"] for i in range(inst["n"]))
    elif kind == "arithmetic_from_terms":
        a, d = sympy.symbols("a d")
        sol = sympy.solve([a + (inst["i"] - 1) * d - inst["ai"], a + (inst["j"] - 1) * d - inst["aj"]], [a, d])
        expected = sum(sol[a] + i * sol[d] for i in range(inst["n"]))
    elif kind == "geometric_sum":
        r = sympy.Rational(inst["r"])
        expected = sum(inst["a"] * r**i for i in range(inst["n"]))
    elif kind == "infinite_geometric":
        k = sympy.Symbol("k", integer=True, nonnegative=True)
        expected = sympy.summation(inst["a"] * sympy.Rational(inst["r"]) ** k, (k, 0, sympy.oo))
    else:
        terms = [inst["a1"]] if kind == "affine_recurrence" else [inst["a1"], inst["a2"]]
        while len(terms) < inst["n"]:
            if kind == "affine_recurrence":
                terms.append(inst["p"] * terms[-1] + inst["c"])
            else:
                terms.append(inst["p"] * terms[-1] + inst["q"] * terms[-2])
        expected = terms[inst["n"] - 1]
    assert to_sympy(p.answer) == expected


def check_coordinate_geometry(p: Problem) -> None:
    inst = p.metadata["instance"]
    kind = inst["kind"]
    if kind == "area":
        vertices = [sympy.Point(*v) for v in inst["vertices"]]
        for v in inst["vertices"]:
            assert f"({v[0]}, {v[1]})" in p.prompt
        polygon = sympy.Polygon(*vertices)
        assert polygon.is_convex() and len(polygon.vertices) == len(vertices)
        assert to_sympy(p.answer) == abs(polygon.area)
        return
    a, b = sympy.Point(*inst["p"]), sympy.Point(*inst["q"])
    assert f"P({inst['p'][0]}, {inst['p'][1]})" in p.prompt and f"Q({inst['q'][0]}, {inst['q'][1]})" in p.prompt
    if kind == "distance_squared":
        assert to_sympy(p.answer) == a.distance(b) ** 2
    elif kind == "distance":
        assert same(to_sympy(p.answer), a.distance(b))
    elif kind == "midpoint":
        assert answer_value(p.answer, "tuple") == tuple(a.midpoint(b))
    elif kind == "slope":
        assert to_sympy(p.answer) == sympy.Line(a, b).slope
    else:
        (crossing,) = sympy.Line(a, b).intersection(sympy.Line(sympy.Point(0, 0), sympy.Point(0, 1)))
        assert to_sympy(p.answer) == crossing.y


CHECKERS = {
    "fractions": check_fractions,
    "linear_equation": check_linear_equation,
    "linear_system": check_linear_system,
    "polynomial_roots": check_polynomial_roots,
    "number_theory": check_number_theory,
    "counting": check_counting,
    "probability": check_probability,
    "sequences": check_sequences,
    "coordinate_geometry": check_coordinate_geometry,
}


# -- the tests ---------------------------------------------------------------------------------
def test_registry_lists_at_least_eight_families_each_with_levels_one_to_five():
    assert gen.list_families() == sorted(FAMILIES) and len(FAMILIES) >= 8
    assert set(CHECKERS) == set(FAMILIES)
    for name, family in FAMILIES.items():
        assert family.name == name and sorted(family.levels) == [1, 2, 3, 4, 5]
        assert family.config_cls() == family.config(1), "the config defaults are level 1"


def test_unknown_family_is_a_value_error_listing_the_valid_ones():
    with pytest.raises(ValueError) as err:
        gen.generate("calculus", 0)
    for name in FAMILIES:
        assert name in str(err.value)


@pytest.mark.parametrize("name,level", CASES)
def test_answers_are_rederived_independently(name, level):
    for p in problems(name, level):
        CHECKERS[name](p)
        shown = {n for n in instance_numbers(p.metadata["instance"]) if n > 1}  # a coefficient 1 is implicit
        assert shown <= numbers_in(p.prompt), "the instance is the problem shown"


def _wrong(answer: str, kind: str) -> str:
    """A nearby wrong answer: one more, the first coordinate one more, or a root left out."""
    if kind == "set":
        return "\\{" + ", ".join(_split_top(answer[2:-2])[:-1]) + "\\}"
    if kind == "tuple":
        first, *rest = _split_top(answer[1:-1])
        return "(" + ", ".join([f"{first} + 1", *rest]) + ")"
    return f"{answer} + 1"


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_checkers_reject_wrong_answers(name):
    for level in FAMILIES[name].levels:
        for p in problems(name, level)[:6]:
            wrong = dataclasses.replace(p, answer=_wrong(p.answer, p.metadata["answer_kind"]))
            with pytest.raises(AssertionError):
                CHECKERS[name](wrong)


@pytest.mark.parametrize("name,level", CASES)
def test_problems_are_well_formed(name, level):
    for _seed, p in zip(SEEDS, problems(name, level), strict=True):
        assert p.family == "math" and p.metadata["family"] == name
        assert p.params["family"] == name and p.params["level"] == level
        assert p.prompt.endswith(INSTRUCTION)
        assert p.id == stable_id("math", {"family": name, "instance": p.metadata["instance"]})
        kind = p.metadata["answer_kind"]
        value = answer_value(p.answer, kind)
        assert value == exact_value(p.metadata["answer_exact"], kind)
        if kind == "set":
            assert [sympy.N(v, 30) for v in value] == sorted(sympy.N(v, 30) for v in value), "sets list ascending"
        steps = p.metadata["steps"]
        assert len(steps) >= 2 and all(set(s) == {"text", "result"} and s["text"] and s["result"] for s in steps)
        assert steps[-1]["result"] == p.answer
        assert len({s["text"] for s in steps}) == len(steps), "distinct steps, so an order can be checked"
        assert Problem.from_dict(json.loads(p.to_json())) == p


@pytest.mark.parametrize("name,level", CASES)
def test_same_seed_same_problem_and_params_replay_it(name, level):
    family = FAMILIES[name]
    for seed, p in list(zip(SEEDS, problems(name, level), strict=True))[:10]:
        assert gen.generate(name, seed, level=level) == p
        assert family.generate(p.params, seed) == p
        from_config = family.generate(family.config(level), seed)
        assert (from_config.id, from_config.prompt, from_config.answer) == (p.id, p.prompt, p.answer)


@pytest.mark.parametrize("name,level", CASES)
def test_sixty_seeds_give_at_least_forty_distinct_problems(name, level):
    ps = problems(name, level)
    ids, prompts = {p.id for p in ps}, {p.prompt for p in ps}
    assert len(ids) >= 40
    assert len({(p.id, p.prompt) for p in ps}) == len(ids) == len(prompts), "one id per distinct problem"


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_difficulty_rises_with_level(name):
    family = FAMILIES[name]
    difficulties = [family.config(level).difficulty for level in sorted(family.levels)]
    assert difficulties == sorted(difficulties) and len(set(difficulties)) == len(difficulties)
    for level in family.levels:
        assert problems(name, level)[0].difficulty == family.config(level).difficulty


def test_row_and_circle_counts_match_brute_force_on_small_groups():
    for seed in range(80):
        p = gen.generate("counting", seed, kinds=["row", "circle"], max_n=7)
        check_counting(p)


BAD_KNOBS = [
    ("fractions", {"num_terms": 1}, "num_terms"),
    ("fractions", {"num_terms": "3"}, "num_terms"),
    ("fractions", {"max_denominator": 1}, "max_denominator"),
    ("fractions", {"operations": "+x"}, "operations"),
    ("fractions", {"operations": ""}, "operations"),
    ("fractions", {"allow_negative": 1}, "allow_negative"),
    ("linear_equation", {"form": "quadratic"}, "form"),
    ("linear_equation", {"max_coef": 1}, "max_coef"),
    ("linear_equation", {"integer_solution": "yes"}, "integer_solution"),
    ("linear_system", {"num_vars": 4}, "num_vars"),
    ("linear_system", {"max_coef": 1}, "max_coef"),
    ("linear_system", {"max_solution": 0}, "max_solution"),
    ("linear_system", {"max_denominator": 13}, "max_denominator"),
    ("polynomial_roots", {"degree": 7}, "degree"),
    ("polynomial_roots", {"max_root": 0}, "max_root"),
    ("polynomial_roots", {"degree": 3, "rational_roots": 4}, "rational_roots"),
    ("polynomial_roots", {"degree": 6, "max_root": 2}, "max_root"),
    ("polynomial_roots", {"irrational_pair": "no"}, "irrational_pair"),
    ("number_theory", {"kinds": []}, "kinds"),
    ("number_theory", {"kinds": "gcd"}, "kinds"),
    ("number_theory", {"kinds": ["gcd", "totient"]}, "kinds"),
    ("number_theory", {"max_value": 10}, "max_value"),
    ("number_theory", {"max_exponent": 2}, "max_exponent"),
    ("number_theory", {"num_congruences": 5}, "num_congruences"),
    ("number_theory", {"kinds": ["crt"], "num_congruences": 4, "max_value": 1000}, "max_value"),
    ("counting", {"kinds": ["row", "row"]}, "kinds"),
    ("counting", {"max_n": 3}, "max_n"),
    ("counting", {"max_n": 13}, "max_n"),
    ("probability", {"kinds": ["poker"]}, "kinds"),
    ("probability", {"max_trials": 1}, "max_trials"),
    ("probability", {"max_balls": 21}, "max_balls"),
    ("sequences", {"kinds": ["infinite_geometric"], "fraction_ratios": False}, "fraction_ratios"),
    ("sequences", {"max_terms": 3}, "max_terms"),
    ("sequences", {"max_value": 1}, "max_value"),
    ("coordinate_geometry", {"max_coord": 2}, "max_coord"),
    ("coordinate_geometry", {"max_vertices": 9}, "max_vertices"),
]


@pytest.mark.parametrize("name,knobs,knob", BAD_KNOBS)
def test_bad_knobs_are_value_errors_naming_the_knob(name, knobs, knob):
    with pytest.raises(ValueError, match=knob):
        gen.generate(name, 0, **knobs)


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_bad_level_unknown_knob_wrong_family_and_bad_seed(name):
    family = FAMILIES[name]
    with pytest.raises(ValueError, match="level"):
        gen.generate(name, 0, level=6)
    with pytest.raises(ValueError, match="unknown"):
        gen.generate(name, 0, level=1, colour="red")
    other = next(n for n in FAMILIES if n != name)
    with pytest.raises(ValueError, match=other):
        family.generate({"family": other, "level": 1}, 0)
    with pytest.raises(TypeError, match="seed"):
        family.generate({"level": 1}, "0")


# random.Random(seed) is specified bit for bit, so these ids hold on every machine and under every
# PYTHONHASHSEED; a change here means a generator changed, which silently changes every data set
# drawn from it: bump the pins only on purpose.
PINNED_IDS = {
    (1, 0): {
        "fractions": "math-671b988559e18159b543ffd9",
        "linear_equation": "math-79d88474fabdb30a91b87117",
        "linear_system": "math-fa9eb701415a6f5539d8637a",
        "polynomial_roots": "math-8a25d86d0c9b36ee9f359497",
        "number_theory": "math-d079f158b0dc00d9282d8cb3",
        "counting": "math-bfa441b35b68e3336f63745a",
        "probability": "math-04a01892d17960704e512c32",
        "sequences": "math-3994a5d7a071c863d7bc10e8",
        "coordinate_geometry": "math-1fcfb92293736c4506084c28",
    },
    (5, 7): {
        "fractions": "math-97b534bb80a4b60722cae8dd",
        "linear_equation": "math-5567d2c8d3f9c56704eeefb4",
        "linear_system": "math-4d0cff080a8a372c25a760c0",
        "polynomial_roots": "math-590a2b12b328d331174aba23",
        "number_theory": "math-a813caadb2df6d8bcd7364dd",
        "counting": "math-4aad8e063b3786ed70c734a1",
        "probability": "math-136d8cf65f3a930f0384d743",
        "sequences": "math-4f834328221370f69a860c3e",
        "coordinate_geometry": "math-291b600bf57f0f72e4cc46b0",
    },
}


@pytest.mark.parametrize("level,seed", sorted(PINNED_IDS))
def test_generation_is_pinned_across_machines(level, seed):
    assert {name: gen.generate(name, seed, level=level).id for name in FAMILIES} == PINNED_IDS[level, seed]
