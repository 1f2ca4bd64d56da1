"""Property-based adversarial tests of the math verifier (issue #14, item 6).

For random golds ``g`` (polynomials, rational functions, radicals, trigonometric and exponential
expressions in one or two variables, and constants) and random nonzero terms ``t``, the verifier
never accepts ``g + t``, ``g (1 + t)``, a rounded decimal of an irrational gold, or a perturbed
numeric gold; and it accepts random equivalent rewrites (expanded, factored, reordered,
rationalised, combined over one denominator). Golds and answers are written by ``sympy.latex``,
so the verifier reads LaTeX it was not written against.
"""

from __future__ import annotations

import random

import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thinkgym.verifiers.math import verify

X, Y = sympy.symbols("x y")
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

small = st.integers(min_value=-9, max_value=9)
nonzero = small.filter(lambda n: n != 0)
positive = st.integers(min_value=1, max_value=9)


@st.composite
def polynomials(draw: st.DrawFn, variables: tuple[sympy.Symbol, ...] = (X,)) -> sympy.Expr:
    terms = draw(st.lists(st.tuples(nonzero, st.integers(0, 4), st.integers(0, 2)), min_size=1, max_size=4))
    expr = sympy.Integer(0)
    for c, i, j in terms:
        expr += c * variables[0] ** i * (variables[-1] ** j if len(variables) > 1 else 1)
    return expr if expr != 0 else variables[0] + 1


@st.composite
def golds(draw: st.DrawFn) -> sympy.Expr:
    """A random expression of one of several kinds."""
    kind = draw(st.sampled_from(["poly", "poly2", "rational", "radical", "trig", "exp", "log"]))
    p = draw(polynomials())
    if kind == "poly":
        return p
    if kind == "poly2":
        return draw(polynomials((X, Y)))
    if kind == "rational":
        return p / (X + draw(nonzero))
    if kind == "radical":
        return draw(nonzero) * sympy.sqrt(X + draw(positive)) + p
    if kind == "trig":
        f = draw(st.sampled_from([sympy.sin, sympy.cos, sympy.tan]))
        return draw(nonzero) * f(draw(nonzero) * X) + p
    if kind == "exp":
        return sympy.exp(draw(nonzero) * X) + p
    return sympy.log(X**2 + draw(positive)) + p


@st.composite
def terms(draw: st.DrawFn) -> sympy.Expr:
    """A random nonzero term: a monomial, a constant, or a function of x."""
    kind = draw(st.sampled_from(["monomial", "constant", "tiny", "sin", "sqrt", "abs"]))
    c = draw(nonzero)
    if kind == "monomial":
        return c * X ** draw(st.integers(1, 6))
    if kind == "constant":
        return sympy.Rational(c, draw(positive))
    if kind == "tiny":
        return sympy.Rational(c, 10 ** draw(st.integers(3, 40)))
    if kind == "sin":
        return c * sympy.sin(draw(positive) * sympy.pi * X)
    if kind == "sqrt":
        return sympy.sqrt(X) - sympy.sqrt(sympy.Abs(X))  # zero for x >= 0 only
    return sympy.Abs(X) - X  # zero for x >= 0 only


def boxed(expr: object) -> str:
    text = expr if isinstance(expr, str) else sympy.latex(expr)
    return f"The answer is $\\boxed{{{text}}}$."


@SETTINGS
@given(golds(), terms())
def test_never_accepts_gold_plus_a_term(gold: sympy.Expr, term: sympy.Expr) -> None:
    wrong = gold + term  # every term is a nonzero function, so this is a different function
    verdict = verify(boxed(wrong), sympy.latex(gold))
    assert not verdict.correct, (sympy.latex(gold), sympy.latex(wrong), verdict)


@SETTINGS
@given(golds(), terms())
def test_never_accepts_gold_times_one_plus_a_term(gold: sympy.Expr, term: sympy.Expr) -> None:
    wrong = gold * (1 + term)
    verdict = verify(boxed(wrong), sympy.latex(gold))
    assert not verdict.correct, (sympy.latex(gold), sympy.latex(wrong), verdict)


IRRATIONALS = st.sampled_from(
    [sympy.sqrt(2), sympy.sqrt(3) / 2, sympy.pi, sympy.E, sympy.pi / 6, sympy.log(2), sympy.cbrt(5), 1 + sympy.sqrt(5)]
)


@SETTINGS
@given(IRRATIONALS, st.integers(min_value=1, max_value=80), nonzero)
def test_never_accepts_a_rounded_decimal_of_an_irrational_gold(gold: sympy.Expr, digits: int, scale: int) -> None:
    gold = gold * scale
    rounded = sympy.N(gold, digits + 2)
    text = format(sympy.Float(rounded, digits + 2), f".{digits}f")
    verdict = verify(boxed(text), sympy.latex(gold))
    assert not verdict.correct, (sympy.latex(gold), text, verdict)


@SETTINGS
@given(small, positive, nonzero, st.integers(min_value=1, max_value=40), st.booleans())
def test_never_accepts_a_perturbed_numeric_gold(p: int, q: int, sign: int, k: int, as_decimal: bool) -> None:
    gold = sympy.Rational(p, q)
    wrong = gold + sympy.Rational(sign, 10**k)
    text = sympy.latex(wrong) if not as_decimal else sympy.N(wrong, k + 25).__format__(f".{k + 2}f")
    verdict = verify(boxed(text), sympy.latex(gold))
    assert not verdict.correct, (sympy.latex(gold), text, verdict)


def _reordered(expr: sympy.Expr, rng: random.Random) -> str:
    """The terms of a sum in a random order, each written by sympy.latex."""
    parts = list(sympy.Add.make_args(expr))
    rng.shuffle(parts)
    text = ""
    for part in parts:
        piece = sympy.latex(part)
        text += piece if not text or piece.startswith("-") else "+" + piece
    return text


@SETTINGS
@given(golds(), st.sampled_from(["expand", "factor", "reorder", "together", "apart", "trigexpand"]), st.randoms())
def test_accepts_equivalent_rewrites(gold: sympy.Expr, rewrite: str, rng: random.Random) -> None:
    if rewrite == "expand":
        answer: object = sympy.expand(gold)
    elif rewrite == "factor":
        answer = sympy.factor(gold)
    elif rewrite == "reorder":
        answer = _reordered(sympy.expand(gold), rng)
    elif rewrite == "together":
        answer = sympy.together(gold)
    elif rewrite == "apart":
        answer = sympy.apart(gold, X) if gold.is_rational_function(X) and gold.free_symbols == {X} else gold
    else:
        answer = sympy.expand_trig(gold)
    verdict = verify(boxed(answer), sympy.latex(gold))
    assert verdict.correct, (sympy.latex(gold), answer if isinstance(answer, str) else sympy.latex(answer), verdict)


@SETTINGS
@given(st.integers(min_value=2, max_value=50).filter(lambda n: sympy.sqrt(n).is_irrational), nonzero, positive)
def test_accepts_rationalised_forms(n: int, a: int, b: int) -> None:
    gold = sympy.Rational(a, b) / sympy.sqrt(n)  # sympy writes it rationalised: a sqrt(n) / (b n)
    unrationalised = f"\\frac{{{a}}}{{{b}\\sqrt{{{n}}}}}"
    assert verify(boxed(unrationalised), sympy.latex(gold)).correct
    assert verify(boxed(sympy.radsimp(gold)), unrationalised).correct
    assert not verify(boxed(f"\\frac{{{a}}}{{{b}\\sqrt{{{n + 1}}}}}"), sympy.latex(gold)).correct


# --- the extraction and reading rules added for recall: none of them lets a wrong answer through --

numbers = st.integers(min_value=-99_999, max_value=99_999)
offsets = st.integers(min_value=-50, max_value=50).filter(lambda n: n != 0)


def sympy_ascii(expr: sympy.Expr) -> str:
    """``expr`` in plain-text syntax (``sqrt(x)``, ``sin(3*x)``, ``x**2`` as ``x^2``)."""
    return str(expr).replace("**", "^")


@SETTINGS
@given(numbers, offsets, st.sampled_from(["apples", "any text", "units in total"]))
def test_prose_reads_only_the_last_number(g: int, t: int, note: str) -> None:
    """Without a box, the last number of the final sentence is the answer: a wrong one is never
    accepted, and an earlier right one does not count once a later number follows it."""
    assert verify(f"So the total is {g} {note}.", str(g)).correct
    assert not verify(f"So the total is {g + t} {note}.", str(g)).correct
    assert not verify(f"First I had {g}, then the total is {g + t} {note}.", str(g)).correct
    assert not verify(f"The total is {g} million.", str(g)).correct or g == 0


@SETTINGS
@given(st.integers(0, 9999), st.integers(1, 99), st.integers(1, 99))
def test_decimal_comma_never_changes_the_value(whole: int, frac: int, other: int) -> None:
    gold = f"{whole}.{frac:02d}"
    assert verify(f"\\boxed{{{whole},{frac:02d}}}", gold).correct
    if other != frac:
        assert not verify(f"\\boxed{{{whole},{other:02d}}}", gold).correct


@SETTINGS
@given(numbers, offsets, offsets)
def test_a_chain_states_its_last_side_only(g: int, t: int, u: int) -> None:
    assert verify(f"\\boxed{{x = {g + t} + {-t} = {g}}}", f"x = {g}").correct
    assert not verify(f"\\boxed{{x = {g} = {g + u}}}", f"x = {g}").correct
    assert not verify(f"\\boxed{{y = {g + t} = {g}}}", f"x = {g}").correct  # the label still counts


@SETTINGS
@given(golds(), terms())
def test_plain_text_math_reads_the_same_as_latex(g: sympy.Expr, t: sympy.Expr) -> None:
    """The same expressions written in plain-text syntax (``sqrt(x+3)``, ``sin(2*x)``,
    ``exp(3*x)``): equal ones accepted, ``g + t`` never."""
    assert verify(boxed(sympy_ascii(g)), sympy.latex(g), seed=1).correct
    assert not verify(boxed(sympy_ascii(g + t)), sympy.latex(g)).correct


@SETTINGS
@given(polynomials(), nonzero, st.integers(1, 5))
def test_inequalities_up_to_a_positive_factor_only(p: sympy.Expr, c: int, k: int) -> None:
    p = p if p.free_symbols else p + X  # a relation in x, not a statement about numbers
    gold = f"{sympy.latex(p)} < {c}"
    assert verify(boxed(f"{sympy.latex(k * p)} < {k * c}"), gold).correct
    assert verify(boxed(f"{k * c} > {sympy.latex(k * p)}"), gold).correct
    assert not verify(boxed(f"{sympy.latex(-k * p)} < {-k * c}"), gold).correct  # the other direction
    assert not verify(boxed(f"{sympy.latex(k * p)} \\leq {k * c}"), gold).correct  # not strict


@SETTINGS
@given(numbers, numbers, offsets)
def test_boxes_read_as_parts_only_as_many_as_the_gold_has(a: int, b: int, t: int) -> None:
    gold = f"{a}, {b}"
    assert verify(f"\\boxed{{{a}}} for part (a) and \\boxed{{{b}}} for (b)", gold).correct
    assert not verify(f"\\boxed{{{a}}} for part (a) and \\boxed{{{b + t}}} for (b)", gold).correct
    assert not verify(f"\\boxed{{{a}}} is wrong, so \\boxed{{{b}}}", gold).correct or a == b
    assert verify(f"\\boxed{{{a + t}}}. Checking again: \\boxed{{{a}}}", str(a)).correct
