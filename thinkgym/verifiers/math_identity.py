"""Identity of two expressions by randomized evaluation; runs inside the worker process.

:func:`identical` decides whether two SymPy expressions in the same variables are the same
function, by evaluating both at fresh random points drawn for every call (from ``os.urandom``, or
from ``seed`` when one is passed, for debugging). How many points, and how they are evaluated,
depends on the expressions:

**Rational functions** (only ``+ - * /``, integer powers, rational numbers and variables) are
evaluated *exactly*, with :class:`fractions.Fraction`, at points whose coordinates are drawn
uniformly from the integers in ``S = [-2^32, 2^32)``. Write ``g - p = A/B`` with polynomials
``A`` and ``B``; :func:`degree_bound` bounds ``deg A`` by ``d`` from the expression trees. If
``g != p`` then ``A != 0``, and by the Schwartz-Zippel lemma (Schwartz, J. ACM 27(4), 1980,
Lemma 1; Zippel, EUROSAM 1979) a uniform random point is a root of ``A`` with probability at most
``d / |S|``. ``k`` independent points all miss with probability ``(d/|S|)^k``; :func:`identical`
takes the smallest ``k`` with ``(d/|S|)^k <= 2^-30 < 10^-9`` (two points for any degree up to
2^12; higher degrees are evaluated numerically, as below, to bound the size of exact values).

**Everything else** (radicals, trigonometric, exponential and logarithmic functions, absolute
values, constants such as pi) is evaluated in :mod:`mpmath` at 60 significant digits or more (the
caller raises the precision with the size of the numbers written: see :func:`identical`), at
:data:`NUMERIC_POINTS` points. Each coordinate is a random 41-bit mantissa times a power of two,
so its magnitude lies in ``[2^-6, 2^7)``, and its sign is balanced across the points: for up to
four variables every sign pattern (orthant) gets the same number of points, in random order. The
argument: ``D = g - p`` is a nonzero expression built from analytic functions, so on each
connected piece of its real domain it vanishes only on a set of measure zero, and a point drawn
from a continuous distribution lands within 10^-45 (relative) of that set with negligible
probability (an expression with ``m`` zeros per unit length, such as ``sin(660 pi x)``, is hit
with probability about ``m * 10^-45`` per point). What sampling can miss is a difference confined
to a region: ``sqrt(x) - sqrt(|x|)`` is zero for ``x > 0``. Every point where either side is
defined counts, and a point where one side is undefined (a pole, a logarithm of zero) or complex
while the other is real is a disagreement, so such a difference is caught by every point in its
region; with one variable half the points are negative, so ``x + sqrt(x) - sqrt(|x|)`` is always
rejected. A difference confined to a region holding a fraction ``q`` of the sampling distribution
survives with probability ``(1-q)^30``: below 10^-9 for ``q >= 1/2`` (a sign of one variable) and
about 2e-4 for ``q = 1/4``. This bound is weaker than Schwartz-Zippel's, and is stated as such in
docs/math-verifier.md.

Thirty points are needed only where a difference can be confined to a region: when either side
holds a function with a branch cut or a non-analytic one (a non-integer power of a variable, a
logarithm, an inverse trigonometric function, ``|x|``, floor, sign). When both sides are
*meromorphic* in their variables (``+ - * /``, integer powers, ``c^x`` for a constant ``c > 0``,
exp, trigonometric and hyperbolic functions, factorial, gamma, binomial; :func:`meromorphic`),
both are real at real points where defined, undefined only at isolated poles, and a nonzero
difference vanishes only at isolated points: no region exists to be missed, each point alone
exposes a wrong answer except with the negligible probability above, and
:data:`MEROMORPHIC_POINTS` (8) points are used.

A value agrees when the two sides differ by at most ``10^-(dps-15)`` times the largest term met
while evaluating either side (so cancellation does not count as disagreement); a difference
between that and ``10^-20`` of the scale is settled again at 2.5 times the digits. When too few points are
defined on both sides (the expressions are undefined almost everywhere), or an expression holds
something this evaluator does not model, :func:`identical` returns ``None`` and the caller asks
SymPy (``simplify(g - p) == 0``).
"""

from __future__ import annotations

import functools
import math
import os
import random
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import mpmath
import sympy
from mpmath.libmp import from_man_exp
from sympy.core.function import AppliedUndef

__all__ = ["MEROMORPHIC_POINTS", "NUMERIC_POINTS", "degree_bound", "identical", "make_rng", "meromorphic"]

NUMERIC_POINTS = 30
MEROMORPHIC_POINTS = 8  # for differences that can vanish only at isolated points (see module docstring)
_EXACT_BITS = 32  # exact-mode coordinates are integers in [-2^32, 2^32)
_TARGET_BITS = 30  # a wrong answer survives with probability at most 2^-30 (< 1e-9)
_MAX_DEGREE = 1 << 12  # above it, exact values grow past 135,000 bits: evaluated numerically
DPS = 60  # working precision (digits) for expressions of ordinary size; see identical()
_SETTLE = 15  # digits of working precision that may be lost to rounding: agreement is to dps - 15
_DISAGREE_AT = mpmath.mpf(10) ** -20  # a relative difference over this disagrees at any precision
_MAX_TRIES = 4  # points drawn per needed point before giving up on undefined ones


class _Undefined(Exception):
    """The expression has no finite value at this point."""


class _NotModelled(Exception):
    """The expression holds something the evaluator does not model."""


def make_rng(seed: int | None) -> random.Random:
    """A generator seeded from ``os.urandom`` (unpredictable, fresh for every call), or from
    ``seed`` when one is given (reproducible, for debugging)."""
    return random.Random(int.from_bytes(os.urandom(32), "big") if seed is None else seed)


# --- exact evaluation of rational functions ------------------------------------------------------


def degree_bound(expr: Any) -> tuple[int, int] | None:
    """``(n, d)``: bounds on the degrees of a numerator and denominator of ``expr`` as a rational
    function of its variables, or ``None`` when ``expr`` is not a rational function."""
    if isinstance(expr, sympy.Rational):
        return (0, 0)
    if isinstance(expr, sympy.Symbol):
        return (1, 0)
    if isinstance(expr, sympy.Add):
        n = d = 0
        for arg in expr.args:
            b = degree_bound(arg)
            if b is None:
                return None
            n, d = max(n + b[1], b[0] + d), d + b[1]
        return (n, d)
    if isinstance(expr, sympy.Mul):
        n = d = 0
        for arg in expr.args:
            b = degree_bound(arg)
            if b is None:
                return None
            n, d = n + b[0], d + b[1]
        return (n, d)
    if isinstance(expr, sympy.Pow) and isinstance(expr.exp, sympy.Integer):
        b = degree_bound(expr.base)
        if b is None:
            return None
        e = int(expr.exp)
        return (b[0] * e, b[1] * e) if e >= 0 else (b[1] * -e, b[0] * -e)
    return None


def _exact(expr: Any, point: dict[Any, Fraction]) -> Fraction:
    if isinstance(expr, sympy.Rational):
        return Fraction(int(expr.p), int(expr.q))
    if isinstance(expr, sympy.Symbol):
        return point[expr]
    if isinstance(expr, sympy.Add):
        return sum((_exact(a, point) for a in expr.args), Fraction(0))
    if isinstance(expr, sympy.Mul):
        value = Fraction(1)
        for a in expr.args:
            value *= _exact(a, point)
        return value
    base = _exact(expr.base, point)  # a Pow with an integer exponent (see degree_bound)
    e = int(expr.exp)
    if base == 0 and e < 0:
        raise _Undefined
    return base**e


def _exact_points(needed: int, symbols: list[Any], rng: random.Random, positive: bool) -> list[dict[Any, Fraction]]:
    low = 1 if positive else -(1 << _EXACT_BITS)
    return [
        {s: Fraction(rng.randrange(low, 1 << _EXACT_BITS)) for s in symbols} for _ in range(needed * _MAX_TRIES)
    ]


def _exact_identity(g: Any, p: Any, symbols: list[Any], rng: random.Random, positive: bool) -> bool | None:
    bg, bp = degree_bound(g), degree_bound(p)
    if bg is None or bp is None:
        return None
    degree = max(bg[0] + bp[1], bp[0] + bg[1], 1)  # of the numerator of g - p
    if degree >= _MAX_DEGREE:
        return None
    per_point = (_EXACT_BITS + (0 if positive else 1)) - math.log2(degree)  # bits of -log2(d/|S|)
    needed = max(1, math.ceil(_TARGET_BITS / per_point))
    agreed = 0
    for point in _exact_points(needed, symbols, rng, positive):
        try:
            vg = _exact(g, point)
        except _Undefined:
            vg = None
        try:
            vp = _exact(p, point)
        except _Undefined:
            vp = None
        if vg is None and vp is None:
            continue
        if vg != vp:  # a different value, or defined on one side only
            return False
        agreed += 1
        if agreed == needed:
            return True
    return None


# --- numeric evaluation at high precision ---------------------------------------------------------

_FUNCTIONS: dict[type, Any] = {
    sympy.sin: mpmath.sin,
    sympy.cos: mpmath.cos,
    sympy.tan: mpmath.tan,
    sympy.cot: mpmath.cot,
    sympy.sec: mpmath.sec,
    sympy.csc: mpmath.csc,
    sympy.asin: mpmath.asin,
    sympy.acos: mpmath.acos,
    sympy.atan: mpmath.atan,
    sympy.acot: mpmath.acot,
    sympy.asec: mpmath.asec,
    sympy.acsc: mpmath.acsc,
    sympy.sinh: mpmath.sinh,
    sympy.cosh: mpmath.cosh,
    sympy.tanh: mpmath.tanh,
    sympy.coth: mpmath.coth,
    sympy.sech: mpmath.sech,
    sympy.csch: mpmath.csch,
    sympy.asinh: mpmath.asinh,
    sympy.acosh: mpmath.acosh,
    sympy.atanh: mpmath.atanh,
    sympy.exp: mpmath.exp,
    sympy.Abs: abs,
    sympy.factorial: mpmath.factorial,
    sympy.gamma: mpmath.gamma,
    sympy.binomial: mpmath.binomial,
    sympy.re: mpmath.re,
    sympy.im: mpmath.im,
    sympy.conjugate: mpmath.conj,
    sympy.arg: mpmath.arg,
    sympy.atan2: mpmath.atan2,
}
_REAL_ONLY: dict[type, Any] = {sympy.floor: mpmath.floor, sympy.ceiling: mpmath.ceil, sympy.sign: mpmath.sign}
_CONSTANTS: dict[Any, Any] = {
    sympy.pi: lambda: mpmath.mp.pi,
    sympy.E: lambda: mpmath.mp.e,
    sympy.EulerGamma: lambda: mpmath.mp.euler,
    sympy.GoldenRatio: lambda: mpmath.mp.phi,
    sympy.Catalan: lambda: mpmath.mp.catalan,
    sympy.I: lambda: mpmath.mpc(0, 1),
}


class _Numeric:
    """Evaluates one expression at one point; ``scale`` is the largest magnitude of a term met."""

    def __init__(self, point: dict[Any, Any]) -> None:
        self.point = point
        self.scale = mpmath.mpf(0)

    def __call__(self, expr: Any) -> Any:
        try:
            value = self.value(expr)
        except (ZeroDivisionError, ValueError, OverflowError) as err:
            raise _Undefined from err
        if not mpmath.isfinite(value):
            raise _Undefined
        return value

    def value(self, expr: Any) -> Any:
        if isinstance(expr, sympy.Symbol):
            return self.point[expr]
        if isinstance(expr, sympy.Rational):
            return mpmath.mpf(int(expr.p)) / int(expr.q) if expr.q != 1 else mpmath.mpf(int(expr.p))
        if isinstance(expr, sympy.Float):
            return mpmath.mpf(expr._mpf_)
        if expr in _CONSTANTS:
            return _CONSTANTS[expr]()
        if isinstance(expr, sympy.Add):
            terms = [self.value(a) for a in expr.args]
            self.scale = max([self.scale, *(abs(t) for t in terms)])
            return mpmath.fsum(terms)
        if isinstance(expr, sympy.Mul):
            return mpmath.fprod(self.value(a) for a in expr.args)
        if isinstance(expr, sympy.Pow):
            base, exponent = self.value(expr.base), self.value(expr.exp)
            if base == 0 and mpmath.re(exponent) < 0:
                raise _Undefined
            if isinstance(expr.exp, sympy.Rational) and expr.exp.q == 2 and isinstance(base, mpmath.mpf) and base >= 0:
                return mpmath.sqrt(base) ** int(expr.exp.p)
            return mpmath.power(base, exponent)
        if isinstance(expr, sympy.log):
            args = [self.value(a) for a in expr.args]
            if any(a == 0 for a in args):
                raise _Undefined
            return mpmath.log(args[0]) if len(args) == 1 else mpmath.log(args[0]) / mpmath.log(args[1])
        func = _FUNCTIONS.get(type(expr))
        if func is not None:
            return func(*[self.value(a) for a in expr.args])
        func = _REAL_ONLY.get(type(expr))
        if func is not None:
            args = [self.value(a) for a in expr.args]
            if any(isinstance(a, mpmath.mpc) and a.imag != 0 for a in args):
                raise _Undefined
            return func(*[mpmath.re(a) for a in args])
        if isinstance(expr, (sympy.Min, sympy.Max)):
            args = [self.value(a) for a in expr.args]
            if any(isinstance(a, mpmath.mpc) and a.imag != 0 for a in args):
                raise _Undefined
            reals = [mpmath.re(a) for a in args]
            return min(reals) if isinstance(expr, sympy.Min) else max(reals)
        if expr.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
            raise _Undefined
        raise _NotModelled(type(expr).__name__)


def _numeric_points(symbols: list[Any], rng: random.Random, positive: bool, count: int) -> Iterator[dict[Any, Any]]:
    """``count`` points, drawn as they are asked for; see the module docstring for the
    distribution."""
    n = len(symbols)
    order = list(range(count))
    rng.shuffle(order)
    flips = [rng.getrandbits(1) for _ in symbols]
    for j in order:
        point = {}
        for i, s in enumerate(symbols):
            value = mpmath.mpf(from_man_exp(rng.randrange(1 << 40, 1 << 41), rng.randint(-46, -34)))
            negative = ((j >> i) & 1) ^ flips[i] if n <= 4 else rng.getrandbits(1)
            point[s] = value if positive or not negative else -value
        yield point


def _real(v: Any, scale: Any, dps: int) -> bool:
    return not isinstance(v, mpmath.mpc) or abs(v.imag) <= _agree(dps) * max(scale, abs(v), 1)


@functools.lru_cache(maxsize=64)
def _agree(dps: int) -> Any:
    """The relative difference below which two values agree at ``dps`` digits."""
    with mpmath.workdps(dps):
        return mpmath.mpf(10) ** (_SETTLE - dps)


def _compare(g: Any, p: Any, point: dict[Any, Any], dps: int, settled: bool = False) -> bool | None:
    """True/False: the two sides agree/disagree at ``point``; None: both undefined there. A
    difference too small to call at ``dps`` digits is settled again at 2.5 times the digits."""
    with mpmath.workdps(dps):
        results = []
        for expr in (g, p):
            evaluator = _Numeric(point)
            try:
                results.append((evaluator(expr), evaluator.scale))
            except _Undefined:
                results.append(None)
    if results[0] is None and results[1] is None:
        return None
    if results[0] is None or results[1] is None:
        return False
    (vg, sg), (vp, sp) = results
    scale = max(sg, sp, abs(vg), abs(vp))
    if _real(vg, scale, dps) != _real(vp, scale, dps):
        return False
    diff = abs(vg - vp)
    if diff <= _agree(dps) * scale:
        return True
    if diff > _DISAGREE_AT * scale or settled:
        return False
    return _compare(g, p, point, dps * 5 // 2, settled=True)


_MEROMORPHIC = (
    sympy.exp, sympy.sin, sympy.cos, sympy.tan, sympy.cot, sympy.sec, sympy.csc,
    sympy.sinh, sympy.cosh, sympy.tanh, sympy.coth, sympy.sech, sympy.csch,
    sympy.factorial, sympy.gamma, sympy.binomial,
)  # fmt: skip


def meromorphic(expr: Any) -> bool:
    """Whether ``expr`` is built only from operations that are meromorphic in its variables (no
    branch cut, no absolute value, floor or sign): then it is real at real points where defined,
    and a nonzero difference of two such expressions vanishes only at isolated points."""
    if not expr.free_symbols:
        return True
    if isinstance(expr, sympy.Symbol):
        return True
    if isinstance(expr, (sympy.Add, sympy.Mul)) or isinstance(expr, _MEROMORPHIC):
        return all(meromorphic(a) for a in expr.args)
    if isinstance(expr, sympy.Pow):
        if isinstance(expr.exp, sympy.Integer):
            return meromorphic(expr.base)
        base = expr.base  # c^f(x) with a constant c > 0 is exp(f(x) log c)
        return not base.free_symbols and bool(base.is_positive) and meromorphic(expr.exp)
    return False


def _numeric_identity(
    g: Any, p: Any, symbols: list[Any], rng: random.Random, positive: bool, dps: int
) -> bool | None:
    if not symbols:  # two constants: one evaluation decides
        return _compare(g, p, {}, dps)
    needed = MEROMORPHIC_POINTS if meromorphic(g) and meromorphic(p) else NUMERIC_POINTS
    agreed = 0
    for point in _numeric_points(symbols, rng, positive, needed * _MAX_TRIES):
        verdict = _compare(g, p, point, dps)
        if verdict is False:
            return False
        if verdict:
            agreed += 1
            if agreed == needed:
                return True
    return None


def identical(g: Any, p: Any, rng: random.Random, *, positive: bool = False, dps: int = DPS) -> bool | None:
    """Whether ``g`` and ``p`` are the same function of their variables (see the module
    docstring): True, False, or None when evaluation cannot decide. Applications of undefined
    functions (``f(x)``) count as independent variables. ``dps``: the working precision of the
    numeric stage; the caller raises it with the size of the numbers involved (a 50-digit
    decimal, ``e^{-1000}``), so that a tiny perturbation cannot hide below the precision."""
    undefined = sorted(g.atoms(AppliedUndef) | p.atoms(AppliedUndef), key=str)
    if undefined:
        stand_ins = {f: sympy.Dummy(f"u{i}") for i, f in enumerate(undefined)}
        g, p = g.xreplace(stand_ins), p.xreplace(stand_ins)
    symbols = sorted(g.free_symbols | p.free_symbols, key=str)
    exact = _exact_identity(g, p, symbols, rng, positive)
    if exact is not None:
        return exact
    try:
        return _numeric_identity(g, p, symbols, rng, positive, dps)
    except _NotModelled:
        return None
