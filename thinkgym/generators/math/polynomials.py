"""Family ``polynomial_roots``: find all real roots of an integer polynomial, answered as a set.

The roots are planted: distinct integers, distinct non-integer rationals ``p/q`` (``q`` in 2..3,
each contributing the factor ``qx - p``) and optionally a conjugate pair ``p ± k sqrt(m)``
(factor ``x^2 - 2px + p^2 - k^2 m``). The product is primitive (Gauss's lemma), so every
quotient below has integer coefficients.

Steps: divide out one rational root at a time (rational root theorem, then division; each
result is the quotient) until a quadratic is left, then its discriminant, its two roots, and the
set of all roots.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from fractions import Fraction

from thinkgym.generators.math.family import MathFamily, Solution, Step, check_bool, check_int
from thinkgym.generators.math.latex import Number, Surd, latex, poly_latex, sqrt_exact, terms_latex

__all__ = ["FAMILY", "LEVELS", "PolynomialRootsConfig"]

RADICANDS = (2, 3, 5, 6, 7)


def _rational_candidates(max_root: int) -> list[Fraction]:
    """The non-integer roots p/q, q in {2, 3}, |p| <= max_root, in a fixed order."""
    values = {Fraction(p, q) for q in (2, 3) for p in range(-max_root, max_root + 1) if p % q}
    return sorted(values)


@dataclass(frozen=True)
class PolynomialRootsConfig:
    """Knobs: ``degree`` (2..6), integer roots in ``-max_root..max_root`` (``max_root`` 1..20),
    ``rational_roots`` non-integer rational roots, and an ``irrational_pair`` of conjugate surd
    roots."""

    degree: int = 2
    max_root: int = 6
    rational_roots: int = 0
    irrational_pair: bool = False

    def __post_init__(self) -> None:
        check_int("degree", self.degree, 2, 6)
        check_int("max_root", self.max_root, 1, 20)
        check_bool("irrational_pair", self.irrational_pair)
        free = self.degree - 2 * self.irrational_pair
        check_int("rational_roots", self.rational_roots, 0, min(free, len(_rational_candidates(self.max_root))))
        integers = free - self.rational_roots
        if integers > 2 * self.max_root + 1:
            raise ValueError(
                f"max_root must be in {integers // 2}..20 to give {integers} distinct integer roots, "
                f"got {self.max_root}"
            )

    @property
    def difficulty(self) -> float:
        """Degree, plus one per non-integer rational root, plus two for a surd pair, plus a tenth
        of the root range."""
        return round(self.degree + self.rational_roots + 2 * self.irrational_pair + self.max_root / 10, 3)


LEVELS = {
    1: {"degree": 2, "max_root": 6, "rational_roots": 0, "irrational_pair": False},
    2: {"degree": 3, "max_root": 5, "rational_roots": 0, "irrational_pair": False},
    3: {"degree": 3, "max_root": 5, "rational_roots": 1, "irrational_pair": False},
    4: {"degree": 4, "max_root": 6, "rational_roots": 1, "irrational_pair": False},
    5: {"degree": 4, "max_root": 5, "rational_roots": 1, "irrational_pair": True},
}


def _multiply(p: list[int], q: list[int]) -> list[int]:
    out = [0] * (len(p) + len(q) - 1)
    for i, a in enumerate(p):
        for j, b in enumerate(q):
            out[i + j] += a * b
    return out


def _divide(poly: list[int], lead: int, const: int) -> list[int]:
    """``poly / (lead x + const)``, which divides it exactly with an integer quotient."""
    rest, quotient = list(poly), []
    for i in range(len(poly) - 1):
        quotient.append(rest[i] // lead)
        rest[i + 1] -= quotient[-1] * const
    return quotient


def _factor(root: Fraction) -> tuple[int, int]:
    """(lead, const) of the primitive linear factor ``lead x + const`` vanishing at ``root``."""
    return root.denominator, -root.numerator


def _quadratic_roots(a: int, b: int, c: int) -> tuple[int, list[Number]]:
    disc = b * b - 4 * a * c
    root = sqrt_exact(disc)
    if isinstance(root, Surd):
        return disc, [Surd(Fraction(-b, 2 * a), sign * root.coef / (2 * a), root.radicand) for sign in (1, -1)]
    return disc, [Fraction(-b + sign * root, 2 * a) for sign in (1, -1)]


def build(config: PolynomialRootsConfig, rng: random.Random) -> Solution:
    free = config.degree - 2 * config.irrational_pair
    integers = rng.sample(range(-config.max_root, config.max_root + 1), free - config.rational_roots)
    rationals = [Fraction(r) for r in integers]
    rationals += rng.sample(_rational_candidates(config.max_root), config.rational_roots)
    rng.shuffle(rationals)
    poly = [rng.choice((1, -1))]
    for r in rationals:
        poly = _multiply(poly, list(_factor(r)))
    instance = {"roots": [str(r) for r in sorted(rationals)]}
    if config.irrational_pair:
        p, k, m = rng.randint(-3, 3), rng.randint(1, 2), rng.choice(RADICANDS)
        poly = _multiply(poly, [1, -2 * p, p * p - k * k * m])
        instance["pair"] = {"p": p, "k": k, "m": m}
    instance["coefficients"] = poly

    steps, current = [], poly
    divided = rationals if config.irrational_pair else rationals[:-2]
    for r in divided:
        lead, const = _factor(r)
        quotient = _divide(current, lead, const)
        factor = terms_latex([(lead, "x"), (const, "")])
        steps.append(
            Step(
                f"By the rational root theorem try $x = {latex(r)}$: it makes ${poly_latex(current)}$ vanish, so "
                f"$({factor})$ is a factor, and dividing by it leaves ${poly_latex(quotient)}$.",
                poly_latex(quotient),
            )
        )
        current = quotient
    a, b, c = current
    disc, pair = _quadratic_roots(a, b, c)
    steps.append(
        Step(f"For the quadratic ${poly_latex(current)}$ the discriminant is $b^2 - 4ac = {disc}$.", str(disc))
    )
    pair_set = frozenset(pair)
    steps.append(
        Step(
            f"By the quadratic formula $x = \\frac{{-b \\pm \\sqrt{{{disc}}}}}{{2a}}$ the quadratic's roots are "
            f"${latex(pair_set)}$.",
            latex(pair_set),
        )
    )
    roots = frozenset(divided) | pair_set
    if divided:
        steps.append(Step(f"Together with the roots divided out, the real roots are ${latex(roots)}$.", latex(roots)))
    question = (
        f"Find all real solutions of ${poly_latex(poly)} = 0$. "
        f"Give them as a set of exact values, for example $\\{{-1, \\frac{{1}}{{2}}\\}}$."
    )
    return Solution(question, roots, steps, instance)


FAMILY = MathFamily("polynomial_roots", PolynomialRootsConfig, LEVELS, build)
