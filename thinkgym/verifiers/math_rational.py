"""Exact rational arithmetic on normalised LaTeX, in-process and provably bounded.

:func:`evaluate` reads answers built only from numbers: integers, decimals, ``\\frac``, ``+ - * /``,
``\\cdot``, ``\\times``, ``\\div``, parentheses, integer powers, ``!``, ``\\binom`` and exact roots; comma
lists and ``\\pm`` of those; intervals with rational or infinite end points, and solved inequalities
(``-2 \\leq x < 3``, ``x \\in [0, 1]``); and assignments (``x = 3``). It returns a
:class:`fractions.Fraction`, :class:`Structure`, :class:`Interval` or :class:`Assignment`, raises
:class:`NotRational` for anything else (a symbol in an expression, ``\\pi``, an inexact root), and
raises :class:`TooLarge` before any operation whose result would exceed :data:`MAX_BITS` bits.

:func:`size_guard` applies the same bounds to the numeric parts of an answer that is not rational
(``x^{9^{9^9}}``), so that nothing handed to SymPy can start an unbounded big-integer computation.

Both run a recursive-descent parser over at most a few thousand tokens at a nesting depth the
caller has capped, so their cost is bounded by the input length.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction

from thinkgym.verifiers.math_normalize import closes_at_end, split_items, split_list

__all__ = ["MAX_BITS", "Assignment", "Interval", "NotRational", "Structure", "TooLarge", "evaluate", "size_guard"]

MAX_BITS = 100_000  # largest numerator or denominator, in bits, that exact arithmetic may build
MAX_EXPONENT = 100_000  # largest |exponent| allowed anywhere, even on a symbol
_MAX_ROOT_DEGREE = 64
_DIGIT_CHARS = frozenset("0123456789")  # str.isdigit() also accepts "²", which no parser here reads
_MAX_NUMERAL = 4000  # digits; Python refuses to convert longer numerals to int by default


class NotRational(ValueError):
    """The text is not an exact rational expression this module reads."""


class TooLarge(ValueError):
    """Evaluating the text would build numbers beyond the size bounds."""


@dataclass(frozen=True)
class Structure:
    """A comma list of rationals: ``kind`` is ``"tuple"`` for ``(a, b)`` (or ``[a, b, c]``),
    ``"set"`` for ``\\{a, b\\}`` and ``a \\pm b``, ``"bare"`` for an unbracketed ``a, b``."""

    kind: str
    items: tuple[Fraction, ...]


@dataclass(frozen=True)
class Interval:
    """A real interval; an end point of ``None`` is infinite. ``variable`` is the letter of an
    inequality (``x < 3``), ``None`` for interval notation (``(-\\infty, 3)``)."""

    lo: Fraction | None
    hi: Fraction | None
    lo_closed: bool
    hi_closed: bool
    variable: str | None = None


@dataclass(frozen=True)
class Assignment:
    """``variable = value`` (either way round), e.g. ``x = 3`` or ``k = \\pm 2``."""

    variable: str
    value: Fraction | Structure


_TOKEN = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+|\\[a-zA-Z]+|\\[{}]|\S)")
_MULTIPLY = frozenset({"*", "\\cdot", "\\times"})
_DIVIDE = frozenset({"/", "\\div"})


def _bits(x: Fraction) -> int:
    return max(x.numerator.bit_length(), x.denominator.bit_length())


def _check(x: Fraction) -> Fraction:
    if _bits(x) > MAX_BITS:
        raise TooLarge(f"a number of {_bits(x)} bits")
    return x


def _iroot(a: int, n: int) -> int | None:
    """The exact integer ``n``-th root of ``a >= 0``, or ``None``."""
    if a < 2:
        return a
    lo, hi = 0, 1 << (a.bit_length() // n + 1)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if mid**n <= a:
            lo = mid
        else:
            hi = mid - 1
    return lo if lo**n == a else None


def _power(base: Fraction, exponent: Fraction) -> Fraction:
    if abs(exponent) > MAX_EXPONENT and abs(base) not in (0, 1):
        raise TooLarge("exponent too large")
    if exponent.denominator != 1:
        if exponent.denominator > _MAX_ROOT_DEGREE or base < 0:
            raise NotRational("inexact power")
        base = _root(base, exponent.denominator)
        exponent = Fraction(exponent.numerator)
    if base == 0 and exponent < 0:
        raise NotRational("division by zero")
    if _bits(base) * abs(exponent) > MAX_BITS and abs(base) != 1:
        raise TooLarge("power too large")
    return base ** int(exponent)


def _root(x: Fraction, n: int) -> Fraction:
    if x < 0 and n % 2 == 0:
        raise NotRational("even root of a negative number")
    sign = -1 if x < 0 else 1
    num, den = _iroot(abs(x.numerator), n), _iroot(x.denominator, n)
    if num is None or den is None:
        raise NotRational("inexact root")
    return Fraction(sign * num, den)


def _factorial(n: Fraction) -> Fraction:
    if n.denominator != 1 or n < 0:
        raise NotRational("factorial of a non-natural number")
    k = int(n)
    if k > MAX_BITS or (k > 2 and k * math.log2(k) > MAX_BITS):
        raise TooLarge("factorial too large")
    return Fraction(math.factorial(k))


def _binomial(n: Fraction, k: Fraction) -> Fraction:
    if n.denominator != 1 or k.denominator != 1 or n < 0:
        raise NotRational("binomial of non-natural numbers")
    ni, ki = int(n), int(k)
    if ki < 0 or ki > ni:
        return Fraction(0)
    factors = min(ki, ni - ki)
    if factors > MAX_BITS or factors * math.log2(max(ni, 2)) > MAX_BITS:
        raise TooLarge("binomial too large")
    return Fraction(math.comb(ni, ki))


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _TOKEN.findall(text)
        self.pos = 0

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (expected is not None and tok != expected):
            raise NotRational(f"expected {expected!r}, got {tok!r}")
        self.pos += 1
        return tok

    def at_end(self) -> bool:
        return self.pos >= len(self.tokens)

    def expr(self) -> Fraction:
        value = self.term()
        while self.peek() in ("+", "-"):
            sign = self.take()
            rhs = self.term()
            value = _check(value + rhs if sign == "+" else value - rhs)
        return value

    def term(self) -> Fraction:
        value = self.unary()
        while True:
            tok = self.peek()
            if tok in _MULTIPLY:
                self.take()
                value = _check(value * self.unary())
            elif tok in _DIVIDE:
                self.take()
                rhs = self.unary()
                if rhs == 0:
                    raise NotRational("division by zero")
                value = _check(value / rhs)
            else:
                return value

    def unary(self) -> Fraction:
        tok = self.peek()
        if tok in ("-", "+"):
            self.take()
            value = self.unary()
            return -value if tok == "-" else value
        return self.postfix()

    def postfix(self) -> Fraction:
        value = self.primary()
        while True:
            tok = self.peek()
            if tok == "!":
                self.take()
                value = _factorial(value)
            elif tok == "^":
                self.take()
                value = _power(value, self.exponent())
            else:
                return value

    def exponent(self) -> Fraction:
        tok = self.peek()
        if tok in ("-", "+"):
            self.take()
            value = self.exponent()
            return -value if tok == "-" else value
        if tok is not None and tok[0] in _DIGIT_CHARS:
            return self.number(self.take())
        return self.postfix()

    def group(self) -> Fraction:
        self.take("{")
        value = self.expr()
        self.take("}")
        return value

    def number(self, tok: str) -> Fraction:
        if len(tok) > _MAX_NUMERAL:
            raise TooLarge("numeral too long")
        return Fraction(tok.rstrip(".") if tok.endswith(".") else tok)

    def primary(self) -> Fraction:
        tok = self.take()
        if tok[0] in _DIGIT_CHARS or (tok[0] == "." and len(tok) > 1):
            return self.number(tok)
        if tok == "(":
            value = self.expr()
            self.take(")")
            return value
        if tok == "{":
            value = self.expr()
            self.take("}")
            return value
        if tok == "\\frac":
            num, den = self.group(), self.group()
            if den == 0:
                raise NotRational("division by zero")
            return _check(num / den)
        if tok == "\\binom":
            return _binomial(self.group(), self.group())
        if tok == "\\sqrt":
            degree = 2
            if self.peek() == "[":
                self.take()
                d = self.expr()
                self.take("]")
                if d.denominator != 1 or not 2 <= d <= _MAX_ROOT_DEGREE:
                    raise NotRational("unsupported root degree")
                degree = int(d)
            return _root(self.group(), degree)
        raise NotRational(f"not a rational token: {tok!r}")


def _evaluate_scalar(text: str) -> Fraction:
    parser = _Parser(text)
    value = parser.expr()
    if not parser.at_end():
        raise NotRational(f"unexpected {parser.peek()!r}")
    return value


# a variable, or a function value such as f(x), which "0 < f(x) < 1" bounds as a variable
_VARIABLE = re.compile(
    r"^(?!(?:e|i|\\infty|\\pi)$)(?:[a-zA-Z](?:_\{?[a-zA-Z0-9]+\}?)?(?:\s*\([a-zA-Z]\))?|\\[a-zA-Z]+(?:_\{?[a-zA-Z0-9]+\}?)?)$"
)
_RELATION = re.compile(r"\\leq(?![a-zA-Z])|\\geq(?![a-zA-Z])|\\in(?![a-zA-Z])|<|>|=")
_INFINITY = {"\\infty": 1, "+\\infty": 1, "-\\infty": -1}


def _split_relations(s: str) -> tuple[list[str], list[str]]:
    """The parts of ``s`` between relation signs at bracket depth 0, and the signs."""
    parts, ops, depth, start, i = [], [], 0, 0, 0
    while i < len(s):
        c = s[i]
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif depth == 0 and (m := _RELATION.match(s, i)):
            parts.append(s[start:i].strip())
            ops.append(m.group())
            start = i = m.end()
            continue
        i += 1
    parts.append(s[start:].strip())
    return parts, ops


def _end_point(text: str, sign: int) -> Fraction | None:
    """A rational end point, or ``None`` for the infinity of the given sign."""
    if _INFINITY.get(text.replace(" ", "")) == sign:
        return None
    return _evaluate_scalar(text)


def _interval_notation(s: str) -> Interval | None:
    if s[:1] not in "([" or s[-1:] not in ")]" or not closes_at_end(s, 0):
        return None
    parts = split_items(s[1:-1])
    if len(parts) != 2 or (s[0] + s[-1] == "()" and not any(p.strip() in _INFINITY for p in parts)):
        return None  # (a, b) with finite ends may be a point: the caller reads it as a tuple
    lo, hi = _end_point(parts[0].strip(), -1), _end_point(parts[1].strip(), 1)
    return Interval(lo, hi, s[0] == "[" and lo is not None, s[-1] == "]" and hi is not None)


def _relation(parts: list[str], ops: list[str]) -> Interval | Assignment:
    """A solved inequality, ``x \\in`` an interval, or an assignment; ``NotRational`` otherwise."""
    variables = [i for i, part in enumerate(parts) if _VARIABLE.match(part)]
    if len(variables) != 1:
        raise NotRational("not a solved relation")
    v = variables[0]
    name = parts[v]
    if ops == ["="]:
        value = evaluate(parts[1 - v])
        if not isinstance(value, Fraction | Structure):
            raise NotRational("assignment of a non-number")
        return Assignment(name, value)
    if ops == ["\\in"] and v == 0:
        interval = _interval_notation(parts[1])
        if interval is None:
            raise NotRational("not an interval")
        return Interval(interval.lo, interval.hi, interval.lo_closed, interval.hi_closed, name)
    if any(op in ("=", "\\in") for op in ops) or len(ops) > 2:
        raise NotRational("not a solved inequality")
    ascending = {"<", "\\leq"}
    if len(ops) == 2 and (v != 1 or (ops[0] in ascending) != (ops[1] in ascending)):
        raise NotRational("not a chained inequality")
    lo = hi = None
    lo_closed = hi_closed = False
    for i, op in enumerate(ops):  # relation i holds between parts[i] and parts[i + 1]
        other = i + 1 if i == v else i
        up = (op in ascending) == (i == v)  # the variable is below the other part
        bound = _end_point(parts[other], 1 if up else -1)
        if up:
            hi, hi_closed = bound, op in ("\\leq", "\\geq") and bound is not None
        else:
            lo, lo_closed = bound, op in ("\\leq", "\\geq") and bound is not None
    return Interval(lo, hi, lo_closed, hi_closed, name)


def evaluate(text: str) -> Fraction | Structure | Interval | Assignment:
    """The exact value of ``text``; see the module docstring.

    Raises:
        NotRational: the text is not one of the shapes this module reads.
        TooLarge: some intermediate number would exceed the size bounds.
    """
    s = text.strip()
    parts, ops = _split_relations(s)
    if ops:
        return _relation(parts, ops)
    interval = _interval_notation(s)
    if interval is not None:
        return interval
    listed = split_list(s)
    if listed is not None:
        brackets, items = listed
        kind = {"": "bare", "\\{\\}": "set"}.get(brackets, "tuple")
        if kind != "tuple" or brackets in ("()", "[]"):
            return Structure(kind, tuple(_evaluate_scalar(p) for p in items))
        raise NotRational("mixed brackets around more than two items")
    pm = s.split("\\pm")
    if len(pm) == 2:
        a = _evaluate_scalar(pm[0]) if pm[0].strip() else Fraction(0)
        b = _evaluate_scalar(pm[1])
        return Structure("set", (a - b, a + b))
    return _evaluate_scalar(s)


def _operand_before(s: str, end: int) -> str | None:
    """The numeral or bracketed group ending just before ``end`` (exclusive), together with the
    base it is the exponent of (``9^{99}`` for the ``!`` in ``9^{99}!``), or ``None``."""
    i = end
    while i > 0 and s[i - 1] == " ":
        i -= 1
    if i == 0:
        return None
    if s[i - 1] in _DIGIT_CHARS:
        j = i
        while j > 0 and (s[j - 1] in _DIGIT_CHARS or s[j - 1] == "."):
            j -= 1
    elif s[i - 1] in ")}":
        closing = s[i - 1]
        opening = "(" if closing == ")" else "{"
        depth, j = 0, -1
        for j in range(i - 1, -1, -1):
            if s[j] == closing:
                depth += 1
            elif s[j] == opening:
                depth -= 1
                if depth == 0:
                    break
        if depth:
            return None
    else:
        return None
    if j > 0 and s[j - 1] == "^":
        base = _operand_before(s, j - 1)
        return None if base is None else base + s[j - 1 : i]
    return s[j:i]


def _operand_after(s: str, start: int) -> str | None:
    """The signed numeral or bracketed group starting at ``start`` (after spaces), or ``None``."""
    i = start
    while i < len(s) and s[i] == " ":
        i += 1
    if i < len(s) and s[i] in "-+":
        rest = _operand_after(s, i + 1)
        return s[i] + rest if rest is not None else None
    if i < len(s) and s[i] in _DIGIT_CHARS:
        j = i
        while j < len(s) and s[j] in _DIGIT_CHARS:
            j += 1
        return s[i:j]
    if i < len(s) and s[i] in "{(":
        opening, closing = s[i], "}" if s[i] == "{" else ")"
        depth = 0
        for j in range(i, len(s)):
            if s[j] == opening:
                depth += 1
            elif s[j] == closing:
                depth -= 1
                if depth == 0:
                    return s[i : j + 1]
    return None


def _value_or_none(text: str | None) -> Fraction | None:
    """The rational value of a small operand, ``None`` when it is not rational. ``TooLarge``
    propagates."""
    if text is None:
        return None
    try:
        return _evaluate_scalar(text)
    except (NotRational, ValueError, ZeroDivisionError) as err:
        if isinstance(err, TooLarge):
            raise
        return None


def size_guard(text: str) -> str | None:
    """Why ``text`` may not be handed to SymPy (a power, factorial or binomial whose numeric
    parts exceed the bounds), or ``None`` when it is safe."""
    try:
        for m in re.finditer(r"\^", text):
            exponent = _value_or_none(_operand_after(text, m.end()))
            if exponent is None:
                continue
            if abs(exponent) > MAX_EXPONENT:
                return "exponent too large"
            base = _value_or_none(_operand_before(text, m.start()))
            if base is not None and abs(base) not in (0, 1) and _bits(base) * abs(exponent) > MAX_BITS:
                return "power too large"
        for m in re.finditer(r"!", text):
            n = _value_or_none(_operand_before(text, m.start()))
            if n is not None and n.denominator == 1 and n > 0:
                _factorial(n)
        for m in re.finditer(r"\\binom\s*", text):  # the parser evaluates binomials as it reads them
            first = _operand_after(text, m.end())
            if first is None:
                continue
            n = _value_or_none(first)
            k = _value_or_none(_operand_after(text, m.end() + len(first)))
            if n is not None and k is not None and n.denominator == 1 and k.denominator == 1:
                _binomial(abs(n), k)
            elif n is not None and n.denominator == 1 and abs(n) > 2:
                _factorial(abs(n))  # a non-integer k goes through gamma(n + 1)
            elif k is not None and abs(k) > MAX_EXPONENT:
                return "binomial too large"
    except TooLarge as err:
        return str(err)
    return None
