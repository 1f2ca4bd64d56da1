"""Family ``probability``: exact probabilities, answered as fractions in lowest terms.

Kinds: ``dice`` (the sum of k fair dice equals, or is at least, t), ``coins`` (exactly or at least
j heads in n fair tosses), ``urn`` (exactly j red among k balls drawn without replacement),
``at_least_one`` (at least one success in n independent trials with success probability p) and
``bayes`` (which of two bags a red ball came from). Steps count the favourable outcomes (or the
complement) and then divide; everything is ``int`` and ``Fraction``.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

from thinkgym.generators.math.family import MathFamily, Solution, Step, check_int, check_kinds
from thinkgym.generators.math.latex import latex

__all__ = ["FAMILY", "KINDS", "LEVELS", "ProbabilityConfig"]

KINDS = ("dice", "coins", "urn", "at_least_one", "bayes")
_RANK = dict(zip(KINDS, (1, 1, 2, 2, 3), strict=True))
_BAG_CHANCES = tuple(Fraction(a, b) for b in (2, 3, 4, 5, 6) for a in range(1, b) if math.gcd(a, b) == 1)


@dataclass(frozen=True)
class ProbabilityConfig:
    """Knobs: ``kinds`` (a list from :data:`KINDS`; each problem draws one), ``max_trials``
    (2..8: dice rolled (at most 4), coins tossed (up to ``max_trials + 3``), balls drawn (at most
    5), independent trials) and ``max_balls`` (2..20 balls of each colour in a bag)."""

    kinds: tuple[str, ...] = ("dice", "coins", "urn")
    max_trials: int = 3
    max_balls: int = 5

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", check_kinds("kinds", self.kinds, KINDS))
        check_int("max_trials", self.max_trials, 2, 8)
        check_int("max_balls", self.max_balls, 2, 20)

    @property
    def difficulty(self) -> float:
        """The mean kind rank (1 counting, 2 combinations or complement, 3 conditioning) plus
        log2 of the trials plus half the log2 of the bag size."""
        rank = sum(_RANK[k] for k in self.kinds) / len(self.kinds)
        return round(rank + math.log2(self.max_trials) + math.log2(self.max_balls) / 2, 3)


LEVELS = {
    1: {"kinds": ["dice", "coins", "urn"], "max_trials": 3, "max_balls": 5},
    2: {"kinds": ["dice", "coins", "urn"], "max_trials": 4, "max_balls": 8},
    3: {"kinds": ["dice", "coins", "urn", "at_least_one"], "max_trials": 5, "max_balls": 10},
    4: {"kinds": ["dice", "urn", "at_least_one", "bayes"], "max_trials": 6, "max_balls": 12},
    5: {"kinds": ["urn", "at_least_one", "bayes"], "max_trials": 8, "max_balls": 15},
}


def _dice_ways(k: int, sides: int) -> list[int]:
    """ways[t]: the number of rolls of k dice with ``sides`` faces summing to t."""
    ways = [1]
    for _ in range(k):
        new = [0] * (len(ways) + sides)
        for total, count in enumerate(ways):
            for face in range(1, sides + 1):
                new[total + face] += count
        ways = new
    return ways


def _ratio_step(count: int, total: int, what: str) -> tuple[Fraction, Step]:
    value = Fraction(count, total)
    shown = f"\\frac{{{count}}}{{{total}}}"
    if value.denominator != total:
        shown += f" = {latex(value)}"
    return value, Step(f"There are ${total}$ equally likely {what}, so the probability is ${shown}$.", latex(value))


def _count(n: int, noun: str) -> str:
    """``1 head``, ``3 heads``."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _dice(config: ProbabilityConfig, rng: random.Random) -> Solution:
    k, sides = rng.randint(2, min(config.max_trials, 4)), rng.choice((4, 6, 8))
    t = rng.randint(k + 1, k * sides)
    at_least = rng.random() < 0.5
    ways = _dice_ways(k, sides)
    count = sum(ways[t:]) if at_least else ways[t]
    event = f"at least ${t}$" if at_least else f"exactly ${t}$"
    value, last = _ratio_step(count, sides**k, "rolls")
    steps = [Step(f"Count the ordered rolls of {k} dice whose sum is {event}: ${count}$.", str(count)), last]
    question = (
        f"{k} fair {sides}-sided dice (faces $1$ to ${sides}$) are rolled. "
        f"What is the probability that the sum is {event}?"
    )
    return Solution(question, value, steps, {"kind": "dice", "k": k, "sides": sides, "t": t, "at_least": at_least})


def _coins(config: ProbabilityConfig, rng: random.Random) -> Solution:
    n = rng.randint(2, config.max_trials + 3)
    j = rng.randint(1, n)
    at_least = rng.random() < 0.5
    if at_least:
        count = sum(math.comb(n, i) for i in range(j, n + 1))
        terms = " + ".join(f"\\binom{{{n}}}{{{i}}}" for i in range(j, n + 1))
        first = Step(f"Sequences with at least {_count(j, 'head')}: ${terms} = {count}$.", str(count))
    else:
        count = math.comb(n, j)
        first = Step(f"Sequences with exactly {_count(j, 'head')}: $\\binom{{{n}}}{{{j}}} = {count}$.", str(count))
    value, last = _ratio_step(count, 2**n, "head/tail sequences")
    event = f"at least {_count(j, 'head')}" if at_least else f"exactly {_count(j, 'head')}"
    question = f"A fair coin is tossed {n} times. What is the probability of getting {event}?"
    return Solution(question, value, [first, last], {"kind": "coins", "n": n, "j": j, "at_least": at_least})


def _urn(config: ProbabilityConfig, rng: random.Random) -> Solution:
    red, blue = rng.randint(2, config.max_balls), rng.randint(2, config.max_balls)
    k = rng.randint(2, min(config.max_trials, 5))
    j = rng.randint(max(0, k - blue), min(k, red))
    pick_red, pick_blue, total = math.comb(red, j), math.comb(blue, k - j), math.comb(red + blue, k)
    favourable = pick_red * pick_blue
    value, last = _ratio_step(favourable, total, f"sets of {k} balls ($\\binom{{{red + blue}}}{{{k}}}$)")
    steps = [
        Step(f"Choose the {_count(j, 'red ball')}: $\\binom{{{red}}}{{{j}}} = {pick_red}$ ways.", str(pick_red)),
        Step(
            f"Choose the other {k - j} from the blue ones: $\\binom{{{blue}}}{{{k - j}}} = {pick_blue}$, so "
            f"${pick_red} \\cdot {pick_blue} = {favourable}$ favourable sets.",
            str(favourable),
        ),
        last,
    ]
    question = (
        f"A bag holds {red} red and {blue} blue balls. {k} balls are drawn at random without replacement. "
        f"What is the probability that exactly {j} of them {'is' if j == 1 else 'are'} red?"
    )
    return Solution(question, value, steps, {"kind": "urn", "red": red, "blue": blue, "k": k, "j": j})


def _at_least_one(config: ProbabilityConfig, rng: random.Random) -> Solution:
    n = rng.randint(2, config.max_trials)
    p = rng.choice(_BAG_CHANCES)
    miss = (1 - p) ** n
    value = 1 - miss
    steps = [
        Step(f"No hit in all {n} shots: $\\left({latex(1 - p)}\\right)^{{{n}}} = {latex(miss)}$.", latex(miss)),
        Step(f"At least one hit is the complement: $1 - {latex(miss)} = {latex(value)}$.", latex(value)),
    ]
    question = (
        f"An archer hits the target with probability ${latex(p)}$ on each shot, independently. "
        f"What is the probability of at least one hit in {n} shots?"
    )
    return Solution(question, value, steps, {"kind": "at_least_one", "n": n, "p": str(p)})


def _bayes(config: ProbabilityConfig, rng: random.Random) -> Solution:
    p_a = rng.choice(_BAG_CHANCES)
    red_a, blue_a, red_b, blue_b = (rng.randint(1, config.max_balls) for _ in range(4))
    joint_a = p_a * Fraction(red_a, red_a + blue_a)
    joint_b = (1 - p_a) * Fraction(red_b, red_b + blue_b)
    red = joint_a + joint_b
    value = joint_a / red
    steps = [
        Step(
            f"$P(\\text{{red}}) = {latex(p_a)} \\cdot \\frac{{{red_a}}}{{{red_a + blue_a}}} + {latex(1 - p_a)} "
            f"\\cdot \\frac{{{red_b}}}{{{red_b + blue_b}}} = {latex(joint_a)} + {latex(joint_b)} = {latex(red)}$.",
            latex(red),
        ),
        Step(
            f"By Bayes' rule, $P(A \\mid \\text{{red}}) = \\frac{{{latex(joint_a)}}}{{{latex(red)}}} "
            f"= {latex(value)}$.",
            latex(value),
        ),
    ]
    question = (
        f"Bag A holds {red_a} red and {blue_a} blue balls; bag B holds {red_b} red and {blue_b} blue balls. "
        f"Bag A is chosen with probability ${latex(p_a)}$, otherwise bag B, and one ball is drawn from it at "
        f"random. The ball is red. What is the probability that it came from bag A?"
    )
    instance = {"kind": "bayes", "p_a": str(p_a), "a": [red_a, blue_a], "b": [red_b, blue_b]}
    return Solution(question, value, steps, instance)


_BUILDERS = {"dice": _dice, "coins": _coins, "urn": _urn, "at_least_one": _at_least_one, "bayes": _bayes}


def build(config: ProbabilityConfig, rng: random.Random) -> Solution:
    return _BUILDERS[rng.choice(config.kinds)](config, rng)


FAMILY = MathFamily("probability", ProbabilityConfig, LEVELS, build)
