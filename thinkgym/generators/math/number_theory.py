"""Family ``number_theory``: gcd, lcm, number of divisors, modular inverses, modular powers and
the Chinese remainder theorem, all answered by one non-negative integer.

Steps by kind: ``gcd``/``lcm`` run the Euclidean algorithm (one step per division, each result the
remainder); ``divisor_count`` finds the primes, then their exponents, then ``prod(e_i + 1)``; ``mod_inverse`` runs the
extended Euclidean algorithm (each step's result is the remainder; the last one back-substitutes);
``mod_power`` squares repeatedly (each result ``a^(2^i) mod m``) then multiplies the squares the
exponent's binary digits select; ``crt`` merges one congruence at a time (inverse, then the
multiplier, then the merged residue).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from thinkgym.generators.math.family import MathFamily, Solution, Step, check_int, check_kinds
from thinkgym.generators.math.latex import latex

__all__ = ["FAMILY", "KINDS", "LEVELS", "NumberTheoryConfig"]

KINDS = ("gcd", "lcm", "divisor_count", "mod_inverse", "mod_power", "crt")
# the smallest moduli bound with that many pairwise coprime moduli in 3..bound
_CRT_MIN_TOP = {2: 5, 3: 5, 4: 7}


def _crt_top(max_value: int, k: int) -> int:
    """The largest r with r**k <= max_value."""
    r = round(max_value ** (1 / k))
    while r**k > max_value:
        r -= 1
    while (r + 1) ** k <= max_value:
        r += 1
    return r


@dataclass(frozen=True)
class NumberTheoryConfig:
    """Knobs: ``kinds`` (a list from :data:`KINDS`; each problem draws one), ``max_value`` (the
    numbers and moduli, 20..100000; for ``crt`` it bounds the product of the moduli),
    ``max_exponent`` (``mod_power``, 3..10**9) and ``num_congruences`` (``crt``, 2..4)."""

    kinds: tuple[str, ...] = ("gcd", "divisor_count")
    max_value: int = 100
    max_exponent: int = 10
    num_congruences: int = 2

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", check_kinds("kinds", self.kinds, KINDS))
        check_int("max_value", self.max_value, 20, 100_000)
        check_int("max_exponent", self.max_exponent, 3, 10**9)
        check_int("num_congruences", self.num_congruences, 2, 4)
        least = _CRT_MIN_TOP[self.num_congruences] ** self.num_congruences
        if "crt" in self.kinds and self.max_value < least:
            raise ValueError(
                f"max_value must be in {least}..100000 for crt with num_congruences={self.num_congruences}, "
                f"got {self.max_value}"
            )

    @property
    def difficulty(self) -> float:
        """log2 of the numbers, plus half the log2 of the exponent bound, plus the mean rank of the
        kinds in :data:`KINDS`, plus one per congruence beyond two."""
        kinds = sum(KINDS.index(k) for k in self.kinds) / len(self.kinds)
        congruences = self.num_congruences - 2 if "crt" in self.kinds else 0
        return round(math.log2(self.max_value) + math.log2(self.max_exponent) / 2 + kinds + congruences, 3)


LEVELS = {
    1: {"kinds": ["gcd", "divisor_count"], "max_value": 100, "max_exponent": 10, "num_congruences": 2},
    2: {
        "kinds": ["gcd", "lcm", "divisor_count", "mod_power"],
        "max_value": 200,
        "max_exponent": 20,
        "num_congruences": 2,
    },
    3: {
        "kinds": ["lcm", "divisor_count", "mod_inverse", "mod_power"],
        "max_value": 500,
        "max_exponent": 100,
        "num_congruences": 2,
    },
    4: {"kinds": ["mod_inverse", "mod_power", "crt"], "max_value": 1000, "max_exponent": 1000, "num_congruences": 2},
    5: {"kinds": ["mod_inverse", "mod_power", "crt"], "max_value": 5000, "max_exponent": 100_000, "num_congruences": 3},
}


def _euclid(a: int, b: int) -> list[tuple[int, int, int, int]]:
    """The divisions ``a = q*b + r`` of the Euclidean algorithm, down to remainder 0."""
    rows = []
    while b:
        rows.append((a, b, a // b, a % b))
        a, b = b, a % b
    return rows


def _euclid_steps(a: int, b: int) -> list[Step]:
    return [Step(f"${x} = {q} \\cdot {y} + {r}$, remainder ${r}$.", str(r)) for x, y, q, r in _euclid(a, b)]


def _pair(config: NumberTheoryConfig, rng: random.Random) -> tuple[int, int]:
    """Two numbers in 2..max_value sharing a factor g (often > 1), neither dividing the other,
    larger first."""
    g = rng.randint(1, max(1, config.max_value // 12))
    while True:
        u, v = sorted(rng.sample(range(2, config.max_value // g + 1), 2))
        if v % u:
            return v * g, u * g


def _gcd(config: NumberTheoryConfig, rng: random.Random) -> Solution:
    a, b = _pair(config, rng)
    g = math.gcd(a, b)
    steps = _euclid_steps(a, b)
    steps.append(Step(f"The last non-zero remainder is the gcd: $\\gcd({a}, {b}) = {g}$.", str(g)))
    return Solution(f"Find $\\gcd({a}, {b})$.", g, steps, {"kind": "gcd", "a": a, "b": b})


def _lcm(config: NumberTheoryConfig, rng: random.Random) -> Solution:
    a, b = _pair(config, rng)
    g, lcm = math.gcd(a, b), math.lcm(a, b)
    steps = _euclid_steps(a, b)
    steps.append(Step(f"The last non-zero remainder is $\\gcd({a}, {b}) = {g}$.", str(g)))
    steps.append(Step(f"$\\operatorname{{lcm}}({a}, {b}) = \\frac{{{a} \\cdot {b}}}{{{g}}} = {lcm}$.", str(lcm)))
    question = f"Find the least common multiple $\\operatorname{{lcm}}({a}, {b})$."
    return Solution(question, lcm, steps, {"kind": "lcm", "a": a, "b": b})


def _factorize(n: int) -> list[tuple[int, int]]:
    out, d = [], 2
    while d * d <= n:
        e = 0
        while n % d == 0:
            n //= d
            e += 1
        if e:
            out.append((d, e))
        d += 1
    if n > 1:
        out.append((n, 1))
    return out


def _divisor_count(config: NumberTheoryConfig, rng: random.Random) -> Solution:
    n = rng.randint(config.max_value // 3, config.max_value)
    factors = _factorize(n)
    shown = " \\cdot ".join(f"{p}^{{{e}}}" if e > 1 else str(p) for p, e in factors)
    count = math.prod(e + 1 for _, e in factors)
    product = " \\cdot ".join(f"({e} + 1)" for _, e in factors)
    primes = frozenset(p for p, _ in factors)
    exponents = tuple(e for _, e in factors)
    steps = [
        Step(f"The primes dividing ${n}$ are ${latex(primes)}$.", latex(primes)),
        Step(
            f"${n} = {shown}$, so in increasing order of the primes the exponents are ${latex(exponents)}$.",
            latex(exponents),
        ),
        Step(f"A divisor picks each prime's exponent independently, so there are ${product} = {count}$.", str(count)),
    ]
    question = f"How many positive divisors does ${n}$ have?"
    return Solution(question, count, steps, {"kind": "divisor_count", "n": n})


def _mod_inverse(config: NumberTheoryConfig, rng: random.Random) -> Solution:
    m = rng.randint(7, config.max_value)
    a = rng.randint(2, m - 2)
    while math.gcd(a, m) != 1:
        a = rng.randint(2, m - 2)
    inverse = pow(a, -1, m)
    steps = _euclid_steps(m, a)
    t = (1 - a * inverse) // m
    steps.append(
        Step(
            f"Back-substituting through these divisions writes $1 = {inverse} \\cdot {a} - {-t} \\cdot {m}$, "
            f"so ${a}^{{-1}} \\equiv {inverse} \\pmod{{{m}}}$.",
            str(inverse),
        )
    )
    question = (
        f"Find the inverse of ${a}$ modulo ${m}$: the integer $x$ with $0 \\le x < {m}$ and "
        f"${a}x \\equiv 1 \\pmod{{{m}}}$."
    )
    return Solution(question, inverse, steps, {"kind": "mod_inverse", "a": a, "m": m})


def _mod_power(config: NumberTheoryConfig, rng: random.Random) -> Solution:
    m = rng.randint(7, config.max_value)
    a = rng.randint(2, m - 1)
    e = rng.randint(3, config.max_exponent)
    steps, square, squares = [], a, {}
    for i in range(e.bit_length()):
        if i:
            prev = square
            square = square * square % m
            steps.append(Step(f"${a}^{{{2**i}}} \\equiv {prev}^2 \\equiv {square} \\pmod{{{m}}}$.", str(square)))
        squares[i] = square
    bits = [i for i in range(e.bit_length()) if e >> i & 1]
    value = math.prod(squares[i] for i in bits) % m
    powers = " + ".join(str(2**i) for i in reversed(bits))
    chosen = " \\cdot ".join(str(squares[i]) for i in reversed(bits))
    steps.append(
        Step(f"${e} = {powers}$, so ${a}^{{{e}}} \\equiv {chosen} \\equiv {value} \\pmod{{{m}}}$.", str(value))
    )
    question = f"Find ${a}^{{{e}}} \\bmod {m}$ (the remainder, from $0$ to ${m - 1}$)."
    return Solution(question, value, steps, {"kind": "mod_power", "a": a, "e": e, "m": m})


def _crt(config: NumberTheoryConfig, rng: random.Random) -> Solution:
    k = config.num_congruences
    top = _crt_top(config.max_value, k)
    while True:
        moduli = rng.sample(range(3, top + 1), k)
        if all(math.gcd(p, q) == 1 for i, p in enumerate(moduli) for q in moduli[i + 1 :]):
            break
    residues = [rng.randint(0, m - 1) for m in moduli]
    x, big_m, steps = residues[0], moduli[0], []
    for r, m in zip(residues[1:], moduli[1:], strict=True):
        inverse = pow(big_m, -1, m)
        t = (r - x) * inverse % m
        steps.append(
            Step(
                f"Write $x = {x} + {big_m}t$; we need ${big_m}t \\equiv {r - x} \\pmod{{{m}}}$, and "
                f"${big_m}^{{-1}} \\equiv {inverse} \\pmod{{{m}}}$.",
                str(inverse),
            )
        )
        steps.append(Step(f"$t \\equiv {inverse} \\cdot ({r - x}) \\equiv {t} \\pmod{{{m}}}$.", str(t)))
        x, big_m = x + big_m * t, big_m * m
        steps.append(Step(f"$x \\equiv {x} \\pmod{{{big_m}}}$.", str(x)))
    system = ", ".join(f"$x \\equiv {r} \\pmod{{{m}}}$" for r, m in zip(residues, moduli, strict=True))
    question = f"Find the smallest non-negative integer $x$ with {system}."
    return Solution(question, x, steps, {"kind": "crt", "residues": residues, "moduli": moduli})


_BUILDERS = {
    "gcd": _gcd,
    "lcm": _lcm,
    "divisor_count": _divisor_count,
    "mod_inverse": _mod_inverse,
    "mod_power": _mod_power,
    "crt": _crt,
}


def build(config: NumberTheoryConfig, rng: random.Random) -> Solution:
    return _BUILDERS[rng.choice(config.kinds)](config, rng)


FAMILY = MathFamily("number_theory", NumberTheoryConfig, LEVELS, build)
