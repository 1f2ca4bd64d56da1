"""Exact answer values and their canonical text.

An exact value is an ``int``, a :class:`fractions.Fraction` or a :class:`Surd`
(``rational + coef * sqrt(radicand)``). An answer is one value, a ``tuple`` of values (ordered:
a point, a system's solution) or a ``frozenset`` of values (all the roots of an equation).

Two renderings:

* :func:`latex`: the canonical LaTeX a math checker parses and the form every reference answer and
  step result takes: ``42``, ``-\\frac{3}{4}``, ``2\\sqrt{3}``, ``1 - \\sqrt{2}``, ``(1, \\frac{1}{2})``,
  ``\\{-2, 3\\}`` (set elements sorted ascending);
* :func:`exact_str`: the same value as sympy-parsable text (``"-3/4"``, ``"1 - sqrt(2)"``), a list
  of those for a tuple or a set; stored as ``metadata["answer_exact"]``.

Only ``int`` and ``Fraction`` arithmetic happens here; no value ever passes through a float.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import cmp_to_key

__all__ = ["Answer", "Number", "Surd", "exact_str", "latex", "poly_latex", "sorted_exact", "sqrt_exact", "terms_latex"]


@dataclass(frozen=True)
class Surd:
    """``rational + coef * sqrt(radicand)`` with ``radicand`` square-free and > 1, ``coef != 0``."""

    rational: Fraction
    coef: Fraction
    radicand: int


Number = int | Fraction | Surd
Answer = Number | tuple | frozenset


def _square_part(n: int) -> tuple[int, int]:
    """(s, m) with n = s^2 * m and m square-free, for n >= 1 (trial division)."""
    s, m, d = 1, 1, 2
    while d * d <= n:
        while n % (d * d) == 0:
            n //= d * d
            s *= d
        if n % d == 0:
            n //= d
            m *= d
        d += 1
    return s, m * n


def sqrt_exact(value: int | Fraction) -> int | Fraction | Surd:
    """The square root of a non-negative rational in simplest radical form:
    ``sqrt(p/q) = sqrt(p*q)/q = (s/q) sqrt(m)``."""
    value = Fraction(value)
    if value < 0:
        raise ValueError(f"sqrt_exact needs a non-negative value, got {value}")
    s, m = _square_part(value.numerator * value.denominator)
    coef = Fraction(s, value.denominator)
    if m == 1:
        return coef.numerator if coef.denominator == 1 else coef
    return Surd(Fraction(0), coef, m)


def _frac_latex(x: int | Fraction) -> str:
    x = Fraction(x)
    if x.denominator == 1:
        return str(x.numerator)
    sign = "-" if x < 0 else ""
    return f"{sign}\\frac{{{abs(x.numerator)}}}{{{x.denominator}}}"


def _radical_latex(coef: Fraction, radicand: int) -> str:
    """LaTeX of ``|coef| * sqrt(radicand)``."""
    num, den = abs(coef.numerator), coef.denominator
    top = f"\\sqrt{{{radicand}}}" if num == 1 else f"{num}\\sqrt{{{radicand}}}"
    return top if den == 1 else f"\\frac{{{top}}}{{{den}}}"


def _radical_str(coef: Fraction, radicand: int) -> str:
    """sympy text of ``|coef| * sqrt(radicand)``."""
    num, den = abs(coef.numerator), coef.denominator
    top = f"sqrt({radicand})" if num == 1 else f"{num}*sqrt({radicand})"
    return top if den == 1 else f"{top}/{den}"


def _number_text(x: Number, rational: Callable[[int | Fraction], str], radical: Callable[[Fraction, int], str]) -> str:
    if not isinstance(x, Surd):
        return rational(x)
    rad = radical(x.coef, x.radicand)
    if x.rational == 0:
        return rad if x.coef > 0 else f"-{rad}"
    return f"{rational(x.rational)} {'+' if x.coef > 0 else '-'} {rad}"


def _fraction_str(x: int | Fraction) -> str:
    return str(Fraction(x))


def latex(value: Answer) -> str:
    """Canonical LaTeX of an exact answer (see the module docstring)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(latex(v) for v in value) + ")"
    if isinstance(value, frozenset):
        return "\\{" + ", ".join(latex(v) for v in sorted_exact(value)) + "\\}"
    return _number_text(value, _frac_latex, _radical_latex)


def exact_str(value: Answer) -> str | list[str]:
    """sympy-parsable text of an exact answer; a list for a tuple or a (sorted) set."""
    if isinstance(value, tuple):
        return [exact_str(v) for v in value]
    if isinstance(value, frozenset):
        return [exact_str(v) for v in sorted_exact(value)]
    return _number_text(value, _fraction_str, _radical_str)


def _parts(x: Number) -> tuple[Fraction, Fraction, int]:
    if isinstance(x, Surd):
        return x.rational, x.coef, x.radicand
    return Fraction(x), Fraction(0), 1


def _compare(x: Number, y: Number) -> int:
    """Exact sign of x - y for rationals and surds over one radicand."""
    (a1, b1, m1), (a2, b2, m2) = _parts(x), _parts(y)
    if b1 and b2 and m1 != m2:
        raise ValueError(f"cannot order surds with different radicands {m1} and {m2}")
    u, v, m = a1 - a2, b1 - b2, max(m1, m2)
    # sign of u + v*sqrt(m): the signs agree, or the larger square wins.
    su, sv = (u > 0) - (u < 0), (v > 0) - (v < 0)
    if su == sv or sv == 0:
        return su
    if su == 0:
        return sv
    return su if u * u > v * v * m else sv


def sorted_exact(values: frozenset | list) -> list[Number]:
    """Values sorted ascending, compared exactly."""
    return sorted(values, key=cmp_to_key(_compare))


def terms_latex(terms: list[tuple[int | Fraction, str]]) -> str:
    """A signed sum such as ``2x^{2} - x + \\frac{1}{2}`` from (coefficient, monomial) pairs; the
    monomial ``""`` marks the constant, zero terms are dropped, and an empty sum is ``0``."""
    out = ""
    for coef, monomial in terms:
        if coef == 0:
            continue
        magnitude = abs(Fraction(coef))
        body = _frac_latex(magnitude) if not monomial or magnitude != 1 else ""
        body += monomial
        if not out:
            out = ("-" if coef < 0 else "") + body
        else:
            out += (" - " if coef < 0 else " + ") + body
    return out or "0"


def poly_latex(coeffs: list[int | Fraction], var: str = "x") -> str:
    """A polynomial from its coefficients, highest degree first."""
    degree = len(coeffs) - 1
    monomials = [
        f"{var}^{{{degree - i}}}" if degree - i > 1 else (var if degree - i == 1 else "") for i in range(degree + 1)
    ]
    return terms_latex(list(zip(coeffs, monomials, strict=True)))
