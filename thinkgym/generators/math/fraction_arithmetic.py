"""Family ``fractions``: evaluate a chain of fraction operations, e.g.
``(1/2 + 3/4) * 2/5 - 1/3``.

The expression is built left to right with parentheses wherever standard precedence would
otherwise regroup it, so its value is the left-to-right value. Steps: for ``+``/``-`` the least
common denominator, then the combined value; for ``*`` the product; for ``/`` the reciprocal, then
the product.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

from thinkgym.generators.math.family import MathFamily, Solution, Step, check_bool, check_int
from thinkgym.generators.math.latex import latex

__all__ = ["FAMILY", "LEVELS", "FractionsConfig"]

OPERATIONS = "+-*/"
_OP_LATEX = {"+": "+", "-": "-", "*": "\\times", "/": "\\div"}
_MAX_SIZE = 10**5  # intermediate numerators and denominators stay below this


@dataclass(frozen=True)
class FractionsConfig:
    """Knobs: ``num_terms`` fractions (2..8), denominators up to ``max_denominator`` (2..100),
    operators drawn from ``operations`` (distinct characters of ``+-*/``), and negative terms
    when ``allow_negative``."""

    num_terms: int = 2
    max_denominator: int = 9
    operations: str = "+-"
    allow_negative: bool = False

    def __post_init__(self) -> None:
        check_int("num_terms", self.num_terms, 2, 8)
        check_int("max_denominator", self.max_denominator, 2, 100)
        ops = self.operations
        if not isinstance(ops, str) or not ops or len(set(ops)) != len(ops) or not set(ops) <= set(OPERATIONS):
            raise ValueError(
                f"operations must be a non-empty string of distinct characters from {OPERATIONS!r}, got {ops!r}"
            )
        check_bool("allow_negative", self.allow_negative)

    @property
    def difficulty(self) -> float:
        """Operations times log2 of the denominator range, plus one per extra operator kind and
        one for negative terms."""
        extra = len(self.operations) - 1 + int(self.allow_negative)
        return round((self.num_terms - 1) * math.log2(self.max_denominator) + extra, 3)


LEVELS = {
    1: {"num_terms": 2, "max_denominator": 9, "operations": "+-", "allow_negative": False},
    2: {"num_terms": 3, "max_denominator": 12, "operations": "+-", "allow_negative": False},
    3: {"num_terms": 3, "max_denominator": 15, "operations": "+-*", "allow_negative": True},
    4: {"num_terms": 4, "max_denominator": 20, "operations": "+-*/", "allow_negative": True},
    5: {"num_terms": 5, "max_denominator": 30, "operations": "+-*/", "allow_negative": True},
}


def _term(rng: random.Random, config: FractionsConfig) -> Fraction:
    """A non-integer fraction in lowest terms."""
    while True:
        value = Fraction(rng.randint(1, config.max_denominator), rng.randint(2, config.max_denominator))
        if value.denominator > 1:
            return -value if config.allow_negative and rng.random() < 0.5 else value


def _operand(x: Fraction) -> str:
    return f"\\left({latex(x)}\\right)" if x < 0 else latex(x)


def _apply(value: Fraction, op: str, term: Fraction) -> tuple[Fraction, list[Step]]:
    shown = f"{latex(value)} {_OP_LATEX[op]} {_operand(term)}"
    if op in "+-":
        lcd = math.lcm(value.denominator, term.denominator)
        result = value + term if op == "+" else value - term
        a, b = value * lcd, term * lcd
        combined = f"\\frac{{{a} {op} {f'({b})' if b < 0 else b}}}{{{lcd}}}"
        return result, [
            Step(f"The least common denominator of ${latex(value)}$ and ${latex(term)}$ is ${lcd}$.", str(lcd)),
            Step(f"Over the denominator ${lcd}$: ${shown} = {combined} = {latex(result)}$.", latex(result)),
        ]
    if op == "*":
        result = value * term
        num, den = value.numerator * term.numerator, value.denominator * term.denominator
        product = f"{'-' if num < 0 else ''}\\frac{{{abs(num)}}}{{{den}}}"
        if den != result.denominator:
            product += f" = {latex(result)}"
        return result, [Step(f"Multiply numerators and denominators: ${shown} = {product}$.", latex(result))]
    reciprocal = 1 / term
    result = value * reciprocal
    return result, [
        Step(f"Dividing by ${latex(term)}$ is multiplying by its reciprocal ${latex(reciprocal)}$.", latex(reciprocal)),
        Step(
            f"${latex(value)} \\times {_operand(reciprocal)} = {latex(result)}$, so ${shown} = {latex(result)}$.",
            latex(result),
        ),
    ]


def build(config: FractionsConfig, rng: random.Random) -> Solution:
    while True:
        terms = [_term(rng, config) for _ in range(config.num_terms)]
        ops = [rng.choice(config.operations) for _ in range(config.num_terms - 1)]
        value, steps, values = terms[0], [], []
        for op, term in zip(ops, terms[1:], strict=True):
            value, new = _apply(value, op, term)
            steps.extend(new)
            values.append(value)
        if all(abs(v.numerator) < _MAX_SIZE and v.denominator < _MAX_SIZE for v in values):
            break
    expr, additive = latex(terms[0]), False
    for op, term in zip(ops, terms[1:], strict=True):
        if op in "*/" and additive:
            expr = f"\\left({expr}\\right)"
        expr = f"{expr} {_OP_LATEX[op]} {_operand(term)}"
        additive = op in "+-"
    question = f"Compute the exact value of ${expr}$. Give the answer as an integer or a fraction in lowest terms."
    instance = {"terms": [str(t) for t in terms], "ops": ops}
    return Solution(question, value, steps, instance)


FAMILY = MathFamily("fractions", FractionsConfig, LEVELS, build)
