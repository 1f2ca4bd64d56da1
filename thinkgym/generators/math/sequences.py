"""Family ``sequences``: arithmetic and geometric sums and linear recurrences.

Kinds: ``arithmetic_sum`` (first term and difference given), ``arithmetic_from_terms`` (two
terms given: the difference, the first term, the last term, the sum), ``geometric_sum`` (n terms,
ratio an integer or, with ``fraction_ratios``, a fraction), ``infinite_geometric`` (ratio a
fraction of absolute value below 1), ``affine_recurrence`` (``a_n = p a_{n-1} + c``) and
``linear_recurrence`` (``a_n = p a_{n-1} + q a_{n-2}``). Recurrence steps compute one term each.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

from thinkgym.generators.math.family import MathFamily, Solution, Step, check_bool, check_int, check_kinds
from thinkgym.generators.math.latex import latex, terms_latex

__all__ = ["FAMILY", "KINDS", "LEVELS", "SequencesConfig"]

KINDS = (
    "arithmetic_sum",
    "geometric_sum",
    "affine_recurrence",
    "arithmetic_from_terms",
    "infinite_geometric",
    "linear_recurrence",
)
_RANK = dict(zip(KINDS, (1, 1, 2, 2, 2, 3), strict=True))


@dataclass(frozen=True)
class SequencesConfig:
    """Knobs: ``kinds`` (a list from :data:`KINDS`; each problem draws one), ``max_terms``
    (4..30: terms summed, at most 8 for geometric sums; the index asked of a recurrence, at most
    10), ``max_value`` (2..100: first terms, differences, coefficients) and ``fraction_ratios``
    (geometric ratios may be fractions; required by ``infinite_geometric``)."""

    kinds: tuple[str, ...] = ("arithmetic_sum", "geometric_sum")
    max_terms: int = 6
    max_value: int = 10
    fraction_ratios: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", check_kinds("kinds", self.kinds, KINDS))
        check_int("max_terms", self.max_terms, 4, 30)
        check_int("max_value", self.max_value, 2, 100)
        check_bool("fraction_ratios", self.fraction_ratios)
        if "infinite_geometric" in self.kinds and not self.fraction_ratios:
            raise ValueError("fraction_ratios must be True when kinds include 'infinite_geometric', got False")

    @property
    def difficulty(self) -> float:
        """The mean kind rank, plus log2 of the term count and of the values, plus one for
        fraction ratios."""
        rank = sum(_RANK[k] for k in self.kinds) / len(self.kinds)
        return round(rank + math.log2(self.max_terms) + math.log2(self.max_value) + self.fraction_ratios, 3)


LEVELS = {
    1: {"kinds": ["arithmetic_sum", "geometric_sum"], "max_terms": 6, "max_value": 10, "fraction_ratios": False},
    2: {
        "kinds": ["arithmetic_sum", "geometric_sum", "affine_recurrence"],
        "max_terms": 8,
        "max_value": 12,
        "fraction_ratios": False,
    },
    3: {
        "kinds": ["arithmetic_from_terms", "geometric_sum", "infinite_geometric", "affine_recurrence"],
        "max_terms": 10,
        "max_value": 15,
        "fraction_ratios": True,
    },
    4: {
        "kinds": ["arithmetic_from_terms", "geometric_sum", "infinite_geometric", "linear_recurrence"],
        "max_terms": 12,
        "max_value": 20,
        "fraction_ratios": True,
    },
    5: {
        "kinds": ["arithmetic_from_terms", "infinite_geometric", "linear_recurrence"],
        "max_terms": 15,
        "max_value": 30,
        "fraction_ratios": True,
    },
}


def _p(v: int) -> str:
    """An integer for use after an operator: negatives in parentheses."""
    return f"({v})" if v < 0 else str(v)


def _signed(rng: random.Random, hi: int) -> int:
    return rng.randint(1, hi) * rng.choice((1, -1))


def _arithmetic_sum(config: SequencesConfig, rng: random.Random) -> Solution:
    a, d = rng.randint(-config.max_value, config.max_value), _signed(rng, config.max_value)
    n = rng.randint(4, config.max_terms)
    last = a + (n - 1) * d
    total = n * (a + last) // 2
    steps = [
        Step(f"The last term is $a_{{{n}}} = a_1 + {n - 1}d = {a} + {n - 1} \\cdot {_p(d)} = {last}$.", str(last)),
        Step(
            f"The sum is $\\frac{{{n}(a_1 + a_{{{n}}})}}{{2}} = \\frac{{{n}({a} + {_p(last)})}}{{2}} = {total}$.",
            str(total),
        ),
    ]
    question = (
        f"An arithmetic sequence has first term ${a}$ and common difference ${d}$. "
        f"Find the sum of its first ${n}$ terms."
    )
    return Solution(question, total, steps, {"kind": "arithmetic_sum", "a": a, "d": d, "n": n})


def _arithmetic_from_terms(config: SequencesConfig, rng: random.Random) -> Solution:
    a, d = rng.randint(-config.max_value, config.max_value), _signed(rng, config.max_value)
    n = rng.randint(6, max(6, config.max_terms))
    i, j = sorted(rng.sample(range(2, n + 1), 2))
    ai, aj = a + (i - 1) * d, a + (j - 1) * d
    last = a + (n - 1) * d
    total = n * (a + last) // 2
    steps = [
        Step(
            f"$a_{{{j}}} - a_{{{i}}} = {terms_latex([(j - i, 'd')])}$, "
            f"so $d = \\frac{{{aj} - {_p(ai)}}}{{{j - i}}} = {d}$.",
            str(d),
        ),
        Step(f"$a_1 = a_{{{i}}} - {terms_latex([(i - 1, 'd')])} = {ai} - {i - 1} \\cdot {_p(d)} = {a}$.", str(a)),
        Step(f"$a_{{{n}}} = a_1 + {n - 1}d = {a} + {n - 1} \\cdot {_p(d)} = {last}$.", str(last)),
        Step(
            f"The sum is $\\frac{{{n}(a_1 + a_{{{n}}})}}{{2}} = \\frac{{{n}({a} + {_p(last)})}}{{2}} = {total}$.",
            str(total),
        ),
    ]
    question = (
        f"In an arithmetic sequence, $a_{{{i}}} = {ai}$ and $a_{{{j}}} = {aj}$. Find the sum of the first ${n}$ terms."
    )
    return Solution(
        question, total, steps, {"kind": "arithmetic_from_terms", "i": i, "ai": ai, "j": j, "aj": aj, "n": n}
    )


def _ratio(config: SequencesConfig, rng: random.Random, below_one: bool) -> Fraction:
    """A geometric ratio: with fractions, p/q with q in 2..5 (|r| < 1 when ``below_one``);
    otherwise an integer in ±2..3."""
    if not config.fraction_ratios:
        return Fraction(rng.randint(2, 3) * rng.choice((1, -1)))
    while True:
        q = rng.randint(2, 5)
        p = _signed(rng, q - 1 if below_one else q + 2)
        r = Fraction(p, q)
        if r.denominator > 1:
            return r


def _geometric_sum(config: SequencesConfig, rng: random.Random) -> Solution:
    a = _signed(rng, config.max_value)
    r = _ratio(config, rng, below_one=False)
    n = rng.randint(3, min(config.max_terms, 8))
    power = r**n
    total = a * (1 - power) / (1 - r)
    steps = [
        Step(f"$r^{{{n}}} = \\left({latex(r)}\\right)^{{{n}}} = {latex(power)}$.", latex(power)),
        Step(
            f"$S_{{{n}}} = a\\frac{{1 - r^{{{n}}}}}{{1 - r}} "
            f"= {a} \\cdot \\frac{{1 - ({latex(power)})}}{{1 - ({latex(r)})}} = {latex(total)}$.",
            latex(total),
        ),
    ]
    question = (
        f"A geometric sequence has first term ${a}$ and common ratio ${latex(r)}$. "
        f"Find the sum of its first ${n}$ terms."
    )
    return Solution(question, total, steps, {"kind": "geometric_sum", "a": a, "r": str(r), "n": n})


def _infinite_geometric(config: SequencesConfig, rng: random.Random) -> Solution:
    a = _signed(rng, config.max_value)
    r = _ratio(config, rng, below_one=True)
    gap = 1 - r
    total = a / gap
    steps = [
        Step(
            f"$|r| = {latex(abs(r))} < 1$, so the series converges, and $1 - r = 1 - ({latex(r)}) = {latex(gap)}$.",
            latex(gap),
        ),
        Step(f"$S = \\frac{{a}}{{1 - r}} = \\frac{{{a}}}{{{latex(gap)}}} = {latex(total)}$.", latex(total)),
    ]
    question = f"Find the sum of the infinite geometric series with first term ${a}$ and common ratio ${latex(r)}$."
    return Solution(question, total, steps, {"kind": "infinite_geometric", "a": a, "r": str(r)})


def _recurrence(
    rng: random.Random, config: SequencesConfig, first: list[int], coefs: tuple[int, ...], constant: int
) -> tuple[int, int, list[Step]]:
    """Iterate ``a_n = sum(coefs[i] * a_{n-1-i}) + constant`` up to a random index; (index, value, steps)."""
    target = rng.randint(len(first) + 2, max(len(first) + 2, min(config.max_terms, 10)))
    terms = list(first)
    steps = []
    for n in range(len(first) + 1, target + 1):
        previous = terms[-len(coefs) :][::-1]
        terms.append(sum(c * t for c, t in zip(coefs, previous, strict=True)) + constant)
        products = [(1 if c > 0 else -1, f"{abs(c)} \\cdot {_p(t)}") for c, t in zip(coefs, previous, strict=True)]
        shown = terms_latex([*products, (constant, "")])
        steps.append(Step(f"$a_{{{n}}} = {shown} = {terms[-1]}$.", str(terms[-1])))
    return target, terms[-1], steps


def _affine_recurrence(config: SequencesConfig, rng: random.Random) -> Solution:
    p = rng.choice((-3, -2, 2, 3))
    c = _signed(rng, config.max_value)
    a1 = rng.randint(-config.max_value, config.max_value)
    rule = f"a_n = {terms_latex([(p, 'a_{n-1}'), (c, '')])}"
    target, value, steps = _recurrence(rng, config, [a1], (p,), c)
    question = f"A sequence has $a_1 = {a1}$ and ${rule}$ for $n \\ge 2$. Find $a_{{{target}}}$."
    return Solution(question, value, steps, {"kind": "affine_recurrence", "a1": a1, "p": p, "c": c, "n": target})


def _linear_recurrence(config: SequencesConfig, rng: random.Random) -> Solution:
    p, q = _signed(rng, 3), _signed(rng, 3)
    a1, a2 = rng.randint(-config.max_value, config.max_value), rng.randint(-config.max_value, config.max_value)
    rule = f"a_n = {terms_latex([(p, 'a_{n-1}'), (q, 'a_{n-2}')])}"
    target, value, steps = _recurrence(rng, config, [a1, a2], (p, q), 0)
    question = f"A sequence has $a_1 = {a1}$, $a_2 = {a2}$ and ${rule}$ for $n \\ge 3$. Find $a_{{{target}}}$."
    instance = {"kind": "linear_recurrence", "a1": a1, "a2": a2, "p": p, "q": q, "n": target}
    return Solution(question, value, steps, instance)


_BUILDERS = {
    "arithmetic_sum": _arithmetic_sum,
    "arithmetic_from_terms": _arithmetic_from_terms,
    "geometric_sum": _geometric_sum,
    "infinite_geometric": _infinite_geometric,
    "affine_recurrence": _affine_recurrence,
    "linear_recurrence": _linear_recurrence,
}


def build(config: SequencesConfig, rng: random.Random) -> Solution:
    return _BUILDERS[rng.choice(config.kinds)](config, rng)


FAMILY = MathFamily("sequences", SequencesConfig, LEVELS, build)
