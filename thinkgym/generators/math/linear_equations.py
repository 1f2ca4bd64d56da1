"""Family ``linear_equation``: solve one linear equation in ``x``.

Forms, easy to hard: ``ax + b = c`` (``one_side``), ``ax + b = cx + d`` (``both_sides``),
``a(bx + c) = d(ex + f) + g`` (``brackets``) and ``(ax + b)/p ± (cx + d)/q = r`` (``fractions``).
Every form is first reduced to ``Ax + B = C`` (expanding, collecting or clearing denominators,
one step each), then ``Ax = C - B`` and ``x = (C - B)/A``. With ``integer_solution`` the solution
is planted as an integer; otherwise the coefficients are drawn freely and the solution is whatever
rational they give.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from thinkgym.generators.math.family import MathFamily, Solution, Step, check_bool, check_int
from thinkgym.generators.math.latex import latex, terms_latex

__all__ = ["FAMILY", "FORMS", "LEVELS", "LinearEquationConfig"]

FORMS = ("one_side", "both_sides", "brackets", "fractions")


@dataclass(frozen=True)
class LinearEquationConfig:
    """Knobs: the equation ``form`` (one of :data:`FORMS`), coefficient size ``max_coef``
    (2..100) and whether the solution is an integer (``integer_solution``)."""

    form: str = "one_side"
    max_coef: int = 10
    integer_solution: bool = True

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ValueError(f"form must be one of {list(FORMS)}, got {self.form!r}")
        check_int("max_coef", self.max_coef, 2, 100)
        check_bool("integer_solution", self.integer_solution)

    @property
    def difficulty(self) -> float:
        """Two per form rank, plus log2 of the coefficient size, plus one for rational solutions."""
        return round(2 * FORMS.index(self.form) + math.log2(self.max_coef) + (not self.integer_solution), 3)


LEVELS = {
    1: {"form": "one_side", "max_coef": 10, "integer_solution": True},
    2: {"form": "both_sides", "max_coef": 12, "integer_solution": True},
    3: {"form": "both_sides", "max_coef": 20, "integer_solution": False},
    4: {"form": "brackets", "max_coef": 12, "integer_solution": False},
    5: {"form": "fractions", "max_coef": 9, "integer_solution": False},
}


# (the equation's LaTeX, (A, B, C) of the equivalent Ax + B = C, the steps reaching it, the instance)
Reduced = tuple[str, tuple[int, int, int | Fraction], list[Step], dict[str, Any]]


def _nonzero(rng: random.Random, lo: int, hi: int) -> int:
    """A random integer with lo <= |n| <= hi and a random sign."""
    return rng.randint(lo, hi) * rng.choice((1, -1))


def _lin(a: int | Fraction, b: int | Fraction) -> str:
    return terms_latex([(a, "x"), (b, "")])


def _scaled(k: int, a: int, b: int) -> str:
    """``k(ax + b)``, the factor omitted when it is 1."""
    return f"{k if k != 1 else ''}({_lin(a, b)})"


def _remove(coef: int | Fraction, monomial: str) -> str:
    """The move that cancels the term ``coef * monomial``: "subtract $3x$ from" or "add $3x$ to"."""
    verb, prep = ("subtract", "from") if coef > 0 else ("add", "to")
    return f"{verb} ${terms_latex([(abs(coef), monomial)])}$ {prep}"


def _one_side(config: LinearEquationConfig, rng: random.Random, x0: int | None) -> Reduced:
    m = config.max_coef
    a, b = _nonzero(rng, 2, m), _nonzero(rng, 1, m)
    c = a * x0 + b if x0 is not None else rng.randint(-2 * m, 2 * m)
    return f"{_lin(a, b)} = {c}", (a, b, c), [], {"a": a, "b": b, "c": c}


def _both_sides(config: LinearEquationConfig, rng: random.Random, x0: int | None) -> Reduced:
    m = config.max_coef
    a, b, c = _nonzero(rng, 1, m), _nonzero(rng, 1, m), _nonzero(rng, 1, m)
    while c == a:
        c = _nonzero(rng, 1, m)
    d = (a - c) * x0 + b if x0 is not None else _nonzero(rng, 1, m)
    step = Step(
        f"To collect the $x$ terms on the left, {_remove(c, 'x')} both sides: ${_lin(a - c, b)} = {d}$.",
        _lin(a - c, b),
    )
    return f"{_lin(a, b)} = {_lin(c, d)}", (a - c, b, d), [step], {"a": a, "b": b, "c": c, "d": d}


def _brackets(config: LinearEquationConfig, rng: random.Random, x0: int | None) -> Reduced:
    m = config.max_coef
    k = max(2, m // 3)
    while True:
        a, d = _nonzero(rng, 2, k), _nonzero(rng, 2, k)
        b, e = rng.randint(1, 3), rng.randint(1, 3)
        c, f = _nonzero(rng, 1, m), _nonzero(rng, 1, m)
        if a * b != d * e:
            break
    g = (a * b - d * e) * x0 + a * c - d * f if x0 is not None else rng.randint(-m, m)
    left, right = _scaled(a, b, c), terms_latex([(1, _scaled(d, e, f)), (g, "")])
    big_a, big_b, big_c = a * b - d * e, a * c, d * f + g
    steps = [
        Step(f"Expand the left side: ${left} = {_lin(a * b, a * c)}$.", _lin(a * b, a * c)),
        Step(
            f"Expand the right side to ${_lin(d * e, big_c)}$ and {_remove(d * e, 'x')} both sides of "
            f"${_lin(a * b, a * c)} = {_lin(d * e, big_c)}$: ${_lin(big_a, big_b)} = {big_c}$.",
            _lin(big_a, big_b),
        ),
    ]
    return f"{left} = {right}", (big_a, big_b, big_c), steps, {"a": a, "b": b, "c": c, "d": d, "e": e, "f": f, "g": g}


def _fractions(config: LinearEquationConfig, rng: random.Random, x0: int | None) -> Reduced:
    m = config.max_coef
    while True:
        p, q = rng.sample(range(2, max(m, 3) + 1), 2)
        a, c = rng.randint(1, 3), rng.randint(1, 3)
        b, d = _nonzero(rng, 1, m), _nonzero(rng, 1, m)
        sign = rng.choice((1, -1))
        lcd = math.lcm(p, q)
        big_a = lcd // p * a + sign * lcd // q * c
        if big_a != 0:
            break
    big_b = lcd // p * b + sign * lcd // q * d
    if x0 is not None:
        r = Fraction(a * x0 + b, p) + sign * Fraction(c * x0 + d, q)
    else:
        r = Fraction(rng.randint(-m, m))
    op = "+" if sign > 0 else "-"
    lhs = f"\\frac{{{_lin(a, b)}}}{{{p}}} {op} \\frac{{{_lin(c, d)}}}{{{q}}}"
    steps = [
        Step(f"The least common denominator of ${p}$ and ${q}$ is ${lcd}$.", str(lcd)),
        Step(
            f"Multiply both sides by ${lcd}$; the left side becomes "
            f"${_scaled(lcd // p, a, b)} {op} {_scaled(lcd // q, c, d)} = {_lin(big_a, big_b)}$.",
            _lin(big_a, big_b),
        ),
    ]
    instance = {"a": a, "b": b, "p": p, "sign": sign, "c": c, "d": d, "q": q, "r": str(r)}
    return f"{lhs} = {latex(r)}", (big_a, big_b, lcd * r), steps, instance


_BUILDERS = {"one_side": _one_side, "both_sides": _both_sides, "brackets": _brackets, "fractions": _fractions}


def build(config: LinearEquationConfig, rng: random.Random) -> Solution:
    x0 = rng.randint(-config.max_coef, config.max_coef) if config.integer_solution else None
    equation, (big_a, big_b, big_c), steps, instance = _BUILDERS[config.form](config, rng, x0)
    rhs = Fraction(big_c) - big_b
    x = rhs / big_a
    if config.form == "fractions":
        lead = f"The right side becomes ${latex(big_c)}$"
    else:
        lead = f"The equation is ${_lin(big_a, big_b)} = {latex(big_c)}$"
    if big_b:
        lead += f"; {_remove(big_b, '')} both sides"
    steps += [
        Step(f"{lead}: ${_lin(big_a, 0)} = {latex(rhs)}$.", latex(rhs)),
        Step(f"Divide both sides by ${big_a}$: $x = {latex(x)}$.", latex(x)),
    ]
    instance = {"form": config.form, **instance}
    question = f"Solve for $x$: ${equation}$. Give $x$ as an integer or a fraction in lowest terms."
    return Solution(question, x, steps, instance)


FAMILY = MathFamily("linear_equation", LinearEquationConfig, LEVELS, build)
