"""Family ``counting``: permutations and combinations, with and without constraints.

Kinds: ``permutations`` (k of n in a row), ``combinations`` (k of n), ``word`` (rearrangements of
letters with repeats), ``row`` / ``circle`` (n people in a row / at a round table, with two or
three of them together, or not), ``committee`` (k of w women and m men with at least j women) and
``digits`` (d-digit numbers with distinct digits from a given set that are even, odd or divisible
by 5). Each step's result is a running count; the last is the answer.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from thinkgym.generators.math.family import MathFamily, Solution, Step, check_int, check_kinds

__all__ = ["FAMILY", "KINDS", "LEVELS", "CountingConfig"]

KINDS = ("permutations", "combinations", "word", "row", "circle", "committee", "digits")
_RANK = dict(zip(KINDS, (1, 1, 2, 2, 3, 3, 4), strict=True))
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


@dataclass(frozen=True)
class CountingConfig:
    """Knobs: ``kinds`` (a list from :data:`KINDS`; each problem draws one) and ``max_n``
    (4..12), which sizes the problems: up to ``max_n`` books or people (and up to 8 letters),
    teams chosen from up to ``max_n + 4`` people, committee pools of up to ``min(max_n, 8)`` per
    gender, and numbers of 2..``min(4, max_n // 2)`` digits."""

    kinds: tuple[str, ...] = ("permutations", "combinations", "word")
    max_n: int = 8

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", check_kinds("kinds", self.kinds, KINDS))
        check_int("max_n", self.max_n, 4, 12)

    @property
    def difficulty(self) -> float:
        """The mean kind rank (1 plain, 2 one idea, 3 complement or cases, 4 casework on digits)
        plus log2 of the group size."""
        return round(sum(_RANK[k] for k in self.kinds) / len(self.kinds) + math.log2(self.max_n), 3)


LEVELS = {
    1: {"kinds": ["permutations", "combinations", "word"], "max_n": 8},
    2: {"kinds": ["permutations", "combinations", "word", "row"], "max_n": 9},
    3: {"kinds": ["word", "row", "committee"], "max_n": 10},
    4: {"kinds": ["row", "circle", "committee", "digits"], "max_n": 11},
    5: {"kinds": ["circle", "committee", "digits"], "max_n": 12},
}


def _permutations(config: CountingConfig, rng: random.Random) -> Solution:
    n = rng.randint(4, config.max_n)
    k = rng.randint(2, min(n, 4))
    steps = [Step(f"Shelf position 1 can hold any of the ${n}$ books.", str(n))]
    value, factors = n, [str(n)]
    for i in range(1, k):
        value *= n - i
        factors.append(str(n - i))
        product = " \\times ".join(factors)
        text = f"Position {i + 1} can hold any of the ${n - i}$ books not yet placed: ${product} = {value}$."
        steps.append(Step(text, str(value)))
    question = f"In how many ways can {k} of {n} different books be placed in a row on a shelf?"
    return Solution(question, value, steps, {"kind": "permutations", "n": n, "k": k})


def _combinations(config: CountingConfig, rng: random.Random) -> Solution:
    n = rng.randint(5, config.max_n + 4)
    k = rng.randint(2, n - 2)
    ordered = math.perm(n, k)
    value = math.comb(n, k)
    steps = [
        Step(
            f"Picking the members one at a time in order gives $\\frac{{{n}!}}{{{n - k}!}} = {ordered}$ ordered "
            f"selections.",
            str(ordered),
        ),
        Step(
            f"Each group of {k} is counted ${k}! = {math.factorial(k)}$ times, so there are "
            f"$\\frac{{{ordered}}}{{{math.factorial(k)}}} = {value}$ groups.",
            str(value),
        ),
    ]
    question = f"In how many ways can a team of {k} be chosen from {n} people?"
    return Solution(question, value, steps, {"kind": "combinations", "n": n, "k": k})


def _word(config: CountingConfig, rng: random.Random) -> Solution:
    length = rng.randint(4, min(config.max_n, 8))
    distinct = rng.randint(2, length - 1)
    cuts = sorted(rng.sample(range(1, length), distinct - 1))
    counts = [b - a for a, b in zip([0, *cuts], [*cuts, length], strict=True)]
    letters = rng.sample(LETTERS, distinct)
    chars = [c for c, count in zip(letters, counts, strict=True) for _ in range(count)]
    rng.shuffle(chars)
    word = "".join(chars)
    total = math.factorial(length)
    repeats = [(c, count) for c, count in sorted(zip(letters, counts, strict=True)) if count > 1]
    divisor = math.prod(math.factorial(count) for _, count in repeats)
    shown = " \\cdot ".join(f"{count}!" for _, count in repeats)
    names = ", ".join(f"{c} ({count} times)" for c, count in repeats)
    value = total // divisor
    steps = [
        Step(f"If all {length} letters were different there would be ${length}! = {total}$ orders.", str(total)),
        Step(
            f"Swapping equal letters ({names}) gives the same string, so divide by ${shown} = {divisor}$: "
            f"$\\frac{{{total}}}{{{divisor}}} = {value}$.",
            str(value),
        ),
    ]
    question = f"How many distinct strings can be made by rearranging all the letters of {word}?"
    return Solution(question, value, steps, {"kind": "word", "word": word})


def _group(rng: random.Random, config: CountingConfig) -> tuple[int, int, bool, str]:
    """(group size, people, together?, the group's names) for the row and circle kinds."""
    size = rng.choice((2, 3))
    n = rng.randint(size + 2, max(size + 2, config.max_n))
    return size, n, rng.random() < 0.5, "Alice and Bob" if size == 2 else "Alice, Bob and Carol"


def _group_condition(size: int, together: bool, names: str, places: str) -> str:
    if size == 2:
        return f"are {names} {'' if together else 'not '}next to each other"
    return f"are {names} {'' if together else 'not all '}in three consecutive {places}"


def _row(config: CountingConfig, rng: random.Random) -> Solution:
    size, n, together, names = _group(rng, config)
    units = n - size + 1
    blocks = math.factorial(units)
    glued = math.factorial(size) * blocks
    steps = [
        Step(f"Glue {names} into one block: ${units}$ units in a row, in ${units}! = {blocks}$ orders.", str(blocks)),
        Step(
            f"Inside the block they stand in ${size}! = {math.factorial(size)}$ orders: "
            f"${math.factorial(size)} \\cdot {blocks} = {glued}$.",
            str(glued),
        ),
    ]
    value = glued
    if not together:
        value = math.factorial(n) - glued
        steps.append(
            Step(
                f"Of all ${n}! = {math.factorial(n)}$ orders, the rest avoid that: "
                f"${math.factorial(n)} - {glued} = {value}$.",
                str(value),
            )
        )
    question = (
        f"{n} people, including {names}, stand in a row. In how many orders "
        f"{_group_condition(size, together, names, 'places')}?"
    )
    return Solution(question, value, steps, {"kind": "row", "n": n, "group": size, "together": together})


def _circle(config: CountingConfig, rng: random.Random) -> Solution:
    size, n, together, names = _group(rng, config)
    units = n - size + 1
    rotations = math.factorial(units - 1)
    glued = math.factorial(size) * rotations
    steps = [
        Step(
            f"Glue {names} into one block: ${units}$ units around the table; fixing the block's seat to remove "
            f"rotations, the others fill the rest in ${units - 1}! = {rotations}$ ways.",
            str(rotations),
        ),
        Step(
            f"Inside the block they sit in ${size}! = {math.factorial(size)}$ orders: "
            f"${math.factorial(size)} \\cdot {rotations} = {glued}$.",
            str(glued),
        ),
    ]
    value = glued
    if not together:
        total = math.factorial(n - 1)
        value = total - glued
        steps.append(
            Step(
                f"Of all ${n - 1}! = {total}$ seatings up to rotation, the rest avoid that: "
                f"${total} - {glued} = {value}$.",
                str(value),
            )
        )
    question = (
        f"{n} people, including {names}, sit around a round table. Seatings that differ only by a rotation "
        f"count as the same. In how many seatings {_group_condition(size, together, names, 'seats')}?"
    )
    return Solution(question, value, steps, {"kind": "circle", "n": n, "group": size, "together": together})


def _committee(config: CountingConfig, rng: random.Random) -> Solution:
    pool = min(config.max_n, 8)
    while True:
        women, men = rng.randint(3, pool), rng.randint(3, pool)
        k = rng.randint(3, 5)
        least = rng.randint(1, min(women, k) - 1)
        cases = [i for i in range(least, min(women, k) + 1) if k - i <= men]
        if len(cases) >= 2:
            break
    steps, value = [], 0
    for i in cases:
        ways = math.comb(women, i) * math.comb(men, k - i)
        value += ways
        steps.append(
            Step(
                f"Exactly {i} {'woman' if i == 1 else 'women'}: "
                f"$\\binom{{{women}}}{{{i}}}\\binom{{{men}}}{{{k - i}}} = {ways}$; running total ${value}$.",
                str(value),
            )
        )
    question = (
        f"A club has {women} women and {men} men. In how many ways can a committee of {k} be chosen "
        f"with at least {least} {'woman' if least == 1 else 'women'}?"
    )
    return Solution(question, value, steps, {"kind": "committee", "women": women, "men": men, "k": k, "least": least})


_RULES = {"even": frozenset({0, 2, 4, 6, 8}), "odd": frozenset({1, 3, 5, 7, 9}), "divisible by 5": frozenset({0, 5})}


def _digits(config: CountingConfig, rng: random.Random) -> Solution:
    d = rng.randint(2, min(4, config.max_n // 2))
    while True:
        digits = sorted(rng.sample(range(10), rng.randint(5, 9)))
        rule = rng.choice(sorted(_RULES))
        last = [x for x in digits if x in _RULES[rule] and x]
        if last:
            break
    t, zero = len(digits), 0 in digits
    first = t - 1 - zero  # neither 0 nor the last digit
    middle = math.perm(t - 2, d - 2)
    other = len(last) * first * middle
    shown_last = ", ".join(map(str, last))
    if zero and 0 in _RULES[rule]:
        zero_case = math.perm(t - 1, d - 1)
        value = zero_case + other
        steps = [
            Step(
                f"Last digit $0$: the other {d - 1} digits are an ordered choice from the ${t - 1}$ others: "
                f"${zero_case}$.",
                str(zero_case),
            ),
            Step(
                f"Last digit one of ${shown_last}$: ${len(last)}$ choices, then ${first}$ for the first digit "
                f"(not $0$, not the last) and ${middle}$ for the middle: ${other}$ more, "
                f"${zero_case} + {other} = {value}$ in all.",
                str(value),
            ),
        ]
    else:
        value = other
        steps = [
            Step(f"The last digit is one of ${shown_last}$: ${len(last)}$ choices.", str(len(last))),
            Step(
                f"The first digit is neither $0$ nor the last digit: ${first}$ choices, "
                f"${len(last)} \\cdot {first} = {len(last) * first}$.",
                str(len(last) * first),
            ),
        ]
        if d > 2:
            middle_digits = "The middle digit is any" if d == 3 else f"The {d - 2} middle digits are an ordered choice"
            steps.append(
                Step(
                    f"{middle_digits} of the ${t - 2}$ digits left: ${len(last) * first} \\cdot {middle} = {value}$.",
                    str(value),
                )
            )
    allowed = ", ".join(map(str, digits))
    question = (
        f"How many {d}-digit positive integers use only the digits ${allowed}$, have all digits different, "
        f"and are {rule}?"
    )
    return Solution(question, value, steps, {"kind": "digits", "d": d, "digits": digits, "rule": rule})


_BUILDERS = {
    "permutations": _permutations,
    "combinations": _combinations,
    "word": _word,
    "row": _row,
    "circle": _circle,
    "committee": _committee,
    "digits": _digits,
}


def build(config: CountingConfig, rng: random.Random) -> Solution:
    return _BUILDERS[rng.choice(config.kinds)](config, rng)


FAMILY = MathFamily("counting", CountingConfig, LEVELS, build)
