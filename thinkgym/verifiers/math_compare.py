"""Symbolic comparison of two normalised answers with SymPy; runs inside the worker process.

:func:`judge` parses both answers with ``latex2sympy2_extended`` (an ANTLR grammar: model text
never reaches ``eval``, ``sympify`` or ``parse_expr``) and decides equivalence by the kind of the
gold answer:

- expressions: exact when both sides are rational; constants agree to 40 significant digits;
  expressions with symbols are the same function by randomized evaluation at fresh random points
  (:mod:`thinkgym.verifiers.math_identity`: exact Schwartz-Zippel for rational functions, 60-digit
  mpmath otherwise, a domain mismatch is a disagreement), with SymPy's ``simplify`` where that
  cannot decide; a prediction may not bring in symbols the gold lacks (``\\sin^2x+\\cos^2x`` is
  not an answer for ``1``);
- numbers are exact: a decimal gold equals only the same rational value, unless the problem
  carries an explicit tolerance (``options["tolerance"]``);
- equations: ``x=5`` matches ``5`` and ``5`` matches ``x=5`` (a leading symbol is an assignment;
  every part of a chain ``x = 5+6 = 11`` must match, so an inconsistent ``x = 3 = 7`` matches nothing);
  two equations match when one is a non-zero multiple of the other (``y=2x+1`` and ``2x-y+1=0``);
- inequalities, intervals, unions and sets compare as subsets of the real line; a predicted
  inequality must be solved (a bare variable against a constant) or linear in its variable
  (``-x > -1``), so restating ``x^2<9`` for ``(-3,3)`` earns nothing;
- tuples compare in order, sets and bare lists without order, matrices by shape and entries (a
  sum or product of explicit matrices is evaluated first);
- unevaluated integrals, limits, sums, products and derivatives the gold does not contain are
  "restates_problem".

Before anything is evaluated, :func:`_magnitude` bounds the size of every number the expression
can build (``e^{e^{e^{10}}}`` is refused), complementing the text-level
:func:`thinkgym.verifiers.math_rational.size_guard`.

The parser is the library's, made faster without changing what it builds: SLL prediction first
(:func:`_sll`), plain expressions and lists of them parsed below the grammar's top rule
(:class:`_Converter`), and a parser warmed up on typical answers in the zygote (:func:`warm_up`).
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, field
from typing import Any

import sympy
from antlr4 import Token
from antlr4.atn.PredictionMode import PredictionMode
from antlr4.error.Errors import ParseCancellationException
from antlr4.error.ErrorStrategy import BailErrorStrategy
from latex2sympy2_extended.latex2sympy2 import ConversionConfig, _Latex2Sympy, comma_number_regex
from latex2sympy2_extended.sets import FiniteSet
from sympy.core.function import AppliedUndef
from sympy.core.relational import Relational

from thinkgym.verifiers.math_identity import DPS, identical, make_rng
from thinkgym.verifiers.math_normalize import split_list

__all__ = ["WARM_UP_PAIRS", "judge", "warm_up"]

_CONFIG = ConversionConfig(
    interpret_as_mixed_fractions=False,  # math_normalize decides what a mixed number is
    interpret_simple_eq_as_assignment=False,
    interpret_contains_as_eq=True,
    lowercase_symbols=False,
)
_MAX_BITS = 100_000
_MAX_DPS = 2_000  # numeric comparisons never work at more digits than this
_DIGITS_PER_BIT = 0.302  # log10(2)
_DIGITS = 50
_IDENTITY_TOL = sympy.Float(10) ** -30
_RESTATED = (sympy.Integral, sympy.Limit, sympy.Sum, sympy.Product, sympy.Derivative)
_DECIMAL = re.compile(r"(?<![\d.])(\d*)\.(\d+)(?![\d.])")
_LETTER_POWER = re.compile(r"(\\[a-zA-Z]+)|([a-zA-Z])(?=\s*\^)")
# anything that may make an answer more than one expression: lists, relations, sets
_STRUCTURE = re.compile(
    r"[,;<>=]|\\[{}]|\\(?:leq|geq|neq|in|notin|cup|cap|setminus|pm|mp|subset|subseteq|supset|approx|to"
    r"|emptyset|mathbb)(?![a-zA-Z])"
)
_IMAGINARY = sympy.Symbol("i")


@dataclass
class _Options:
    """What one :func:`judge` call was asked for: the random source of its identity tests, whether
    variables are positive, and the problem's explicit numeric tolerance (``None``: exact)."""

    rng: random.Random = field(default_factory=lambda: make_rng(None))
    positive: bool = False
    tolerance: dict[str, float] | None = None
    dps: int = DPS  # working precision of numeric comparisons, raised with the size of the numbers


_OPTIONS = _Options()  # set by judge() for the one comparison a worker runs at a time


class _TooLarge(ValueError):
    pass


def _exact_decimals(text: str) -> str:
    """``2.5`` -> ``(\\frac{25}{10})``: decimals are exact rationals here."""
    return _DECIMAL.sub(lambda m: f"(\\frac{{{m.group(1)}{m.group(2)}}}{{1{'0' * len(m.group(2))}}})", text)


def _brace_letter_powers(text: str) -> str:
    """``x^2`` -> ``{x}^2``: the same tree, but one the fast SLL stage (:func:`_sll`)
    accepts (it rejects a power of a bare letter)."""
    return _LETTER_POWER.sub(lambda m: m.group(1) or f"{{{m.group(2)}}}", text)


def _sll(converter: _Latex2Sympy, text: str, rule: str) -> Any:
    """The tree of grammar ``rule`` over the whole of ``text``, parsed in ANTLR's SLL mode, or
    ``None`` when SLL reports an error or the rule stops before the end.

    SLL never falls back to full-context prediction. Where it succeeds it builds the same tree as
    full LL; on this grammar it is about ten times faster, because full-context predictions are never
    cached. Trying SLL first and LL only on failure is ANTLR's two-stage strategy (Parr, Harwell &
    Fisher, "Adaptive LL(*) Parsing", OOPSLA 2014)."""
    parser = _Latex2Sympy.create_parser(converter, text)
    parser.removeErrorListeners()
    parser._interp.predictionMode = PredictionMode.SLL
    parser._errHandler = BailErrorStrategy()
    try:
        tree = getattr(parser, rule)()
    except ParseCancellationException:
        return None
    return tree if parser.getTokenStream().LA(1) == Token.EOF else None


def _interval(left: Any, right: Any, left_open: bool, right_open: bool) -> Any:
    """An interval as latex2sympy2_extended builds it: a pair when it would be empty."""
    try:
        if (left_open and right_open and right <= left) or (not left_open and not right_open and right < left):
            return sympy.Tuple(left, right)
    except Exception:  # noqa: BLE001 - as the library does: e.g. an undecidable symbolic comparison
        pass
    return sympy.Interval(left, right, left_open=left_open, right_open=right_open)


class _Converter(_Latex2Sympy):
    """latex2sympy2_extended's converter with the two-stage parser, shortcuts below the top rule,
    and integers built directly (the original goes through ``sympy.Number(str)``, i.e. SymPy's
    string parser, at about a millisecond per numeral)."""

    def parse(self, latex_str: str) -> Any:
        # The top rule chooses between its alternatives with a look-ahead over the whole input,
        # which ANTLR has to compute anew for every new shape of input. A plain expression, or a
        # list of plain expressions, is parsed below it instead and built as the top rule builds it.
        if not _STRUCTURE.search(latex_str):
            tree = _sll(self, latex_str, "expr")
            if tree is not None:
                return self.convert_expr(tree)
        else:
            listed = self._plain_list(latex_str)
            if listed is not None:
                return listed
        return super().parse(latex_str)

    def _plain_list(self, text: str) -> Any:
        """``a, b``, ``\\{a, b\\}``, ``(a, b, c)`` or an interval of plain expressions, as the top
        rule would build it; ``None`` for anything else."""
        listed = split_list(text)
        if listed is None or comma_number_regex.match(text):
            return None
        brackets, parts = listed
        if any(not part.strip() or _STRUCTURE.search(part) for part in parts):
            return None
        trees = [_sll(self, part, "expr") for part in parts]
        if any(tree is None for tree in trees):
            return None
        items = [self.convert_expr(tree) for tree in trees]
        if not brackets:
            return self.convert_elements_to_set_or_tuple([items])
        if brackets == "\\{\\}":
            return FiniteSet(*items)
        if len(items) == 2:
            return _interval(items[0], items[1], brackets[0] == "(", brackets[1] == ")")
        return sympy.Tuple(*items) if brackets == "()" else None

    def create_parser(self, latex_str: str) -> Any:
        return _TopRule(self, latex_str)

    def parse_number(self, text: str) -> Any:
        digits = text.replace(",", "")
        return sympy.Integer(int(digits)) if digits.isascii() and digits.isdigit() else super().parse_number(text)


class _TopRule:
    """What :meth:`_Latex2Sympy.parse` gets from ``create_parser``: its ``math()`` parses the
    top rule in SLL mode, and again in full LL mode (with the original error reporting) only when
    that fails."""

    def __init__(self, converter: _Latex2Sympy, text: str) -> None:
        self.converter = converter
        self.text = text

    def math(self) -> Any:
        tree = _sll(self.converter, self.text, "math")
        return tree if tree is not None else _Latex2Sympy.create_parser(self.converter, self.text).math()


def _parse(text: str) -> Any:
    obj = _Converter(config=_CONFIG).parse(_brace_letter_powers(_exact_decimals(text)))
    if isinstance(obj, sympy.Basic) and obj.has(_IMAGINARY):
        obj = obj.xreplace({_IMAGINARY: sympy.I})
    elif isinstance(obj, sympy.MatrixBase):
        obj = obj.applyfunc(lambda e: e.xreplace({_IMAGINARY: sympy.I}))
    return obj


def _magnitude(obj: Any, symbol_bits: float = 8.0) -> float:
    """An upper bound on |log2| of the numbers that evaluating ``obj`` builds (symbols count as
    the small test values substituted for them); raises ``_TooLarge`` over :data:`_MAX_BITS`."""
    if isinstance(obj, sympy.MatrixBase):
        return max((_magnitude(e, symbol_bits) for e in obj), default=0.0)
    if not isinstance(obj, sympy.Basic):
        result = 0.0
    elif isinstance(obj, sympy.Rational):
        result = float(max(obj.p.bit_length(), obj.q.bit_length()))
    elif isinstance(obj, sympy.Float):
        result = abs(float(sympy.log(abs(obj), 2))) + 64 if obj else 64.0
    elif obj.is_Symbol:
        result = symbol_bits
    elif not obj.args:
        result = 2.0
    else:
        sizes = [_magnitude(a, symbol_bits) for a in obj.args]
        if isinstance(obj, sympy.Pow):  # b^(p/q) needs |p| times the bits of b; other exponents up to 2^bits
            e = obj.args[1]
            result = sizes[0] * (float(abs(e.p)) if isinstance(e, sympy.Rational) else 2.0 ** min(sizes[1], 1000.0))
        elif isinstance(obj, sympy.exp):
            result = 1.5 * 2.0 ** min(sizes[0], 1000.0)
        elif isinstance(obj, (sympy.factorial, sympy.gamma)):
            result = 2.0 ** min(sizes[0], 1000.0) * max(sizes[0], 1.0)
        elif isinstance(obj, sympy.binomial):  # a product of k factors, or gamma(n) for a non-integer k
            result = 2.0 ** min(max(sizes), 1000.0) * max(sizes[0], 1.0)
        elif isinstance(obj, sympy.Mul):
            result = sum(sizes)
        else:
            result = max(sizes) + len(sizes)
    if result > _MAX_BITS:
        raise _TooLarge(type(obj).__name__)
    return result


def _value(expr: Any) -> Any:
    return expr.doit() if isinstance(expr, sympy.Basic) else expr


def _finite(v: Any) -> bool:
    return (
        isinstance(v, sympy.Number | sympy.Add | sympy.Mul)
        and v.is_number
        and not v.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
    )


def _close(a: Any, b: Any, tol: Any) -> bool:
    scale = max(abs(a), abs(b))
    return scale == 0 or abs(a - b) <= tol * scale


def _constants_equal(a: Any, b: Any) -> bool:
    if a.is_Rational and b.is_Rational:
        return a == b
    if a.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan) or b.has(sympy.oo, -sympy.oo, sympy.zoo, sympy.nan):
        return a == b
    verdict = identical(a, b, _OPTIONS.rng, dps=_OPTIONS.dps)  # one evaluation: there is no variable
    if verdict is not None:
        return verdict
    va, vb = sympy.N(a, _OPTIONS.dps), sympy.N(b, _OPTIONS.dps)
    if not (_finite(va) and _finite(vb)):
        return False
    return _close(va, vb, sympy.Float(10, _OPTIONS.dps) ** (15 - _OPTIONS.dps))


def _identity(a: Any, b: Any) -> bool:
    """True when ``a`` and ``b`` are the same function of their variables: randomized evaluation
    (:func:`thinkgym.verifiers.math_identity.identical`), and SymPy's ``simplify`` where that
    cannot decide."""
    verdict = identical(a, b, _OPTIONS.rng, positive=_OPTIONS.positive, dps=_OPTIONS.dps)
    if verdict is not None:
        return verdict
    if _OPTIONS.positive:
        positive = {s: sympy.Dummy(s.name, positive=True) for s in (a.free_symbols | b.free_symbols)}
        a, b = a.xreplace(positive), b.xreplace(positive)
    return sympy.simplify(a - b) == 0


def _within_tolerance(g: Any, p: Any) -> bool:
    """Whether the number ``p`` is within the problem's explicit tolerance of the number ``g``."""
    tolerance = _OPTIONS.tolerance
    if not tolerance:
        return False
    vg, vp = sympy.N(g, _DIGITS), sympy.N(p, _DIGITS)
    if not (_finite(vg) and _finite(vp)) or abs(sympy.im(vg)) > _IDENTITY_TOL or abs(sympy.im(vp)) > _IDENTITY_TOL:
        return False
    diff = abs(sympy.re(vp) - sympy.re(vg))
    if "abs" in tolerance and diff <= sympy.Float(tolerance["abs"], _DIGITS):
        return True
    return "rel" in tolerance and diff <= sympy.Float(tolerance["rel"], _DIGITS) * abs(sympy.re(vg))


def _expr_equal(gold: Any, pred: Any) -> bool:
    if not (isinstance(gold, sympy.Expr) and isinstance(pred, sympy.Expr)):
        return False
    # an answer may not bring in a variable the gold lacks, even one that cancels: sin^2 x + cos^2 x
    # restates "simplify sin^2 x + cos^2 x" rather than answering 1 (as an unevaluated integral would)
    if not pred.free_symbols <= gold.free_symbols:  # as written, before anything cancels
        return False
    g, p = _value(gold), _value(pred)
    if not (isinstance(g, sympy.Expr) and isinstance(p, sympy.Expr)):
        return False
    if g == p:
        return True
    gs = g.free_symbols
    if not p.free_symbols <= gs:
        return False
    if not gs:
        return _constants_equal(g, p) or _within_tolerance(g, p)
    if g.atoms(AppliedUndef) != p.atoms(AppliedUndef):
        return False
    return _identity(g, p)


def _chain(obj: Any) -> list[Any] | None:
    """The parts of an equation or a chain ``a = b = c`` (``None`` for anything else)."""
    if isinstance(obj, sympy.Eq):
        return [obj.lhs, obj.rhs]
    if isinstance(obj, sympy.And) and obj.args and all(isinstance(a, sympy.Eq) for a in obj.args):
        args = getattr(obj, "_unsorted_args", obj.args)
        parts = [args[0].lhs]
        for eq in args:
            if eq.lhs != parts[-1]:
                return None
            parts.append(eq.rhs)
        return parts
    return None


def _proportional(dg: Any, dp: Any, positive_ratio: bool = False) -> bool:
    """True when ``dg = r * dp`` for a constant ``r != 0`` (``r > 0`` with ``positive_ratio``)."""
    dg, dp = _value(dg), _value(dp)
    if dg.free_symbols != dp.free_symbols:
        return False
    rng, symbols = _OPTIONS.rng, dg.free_symbols
    for _ in range(8):
        sign = 1 if _OPTIONS.positive else rng.choice((1, -1))
        point = {s: sign * sympy.Rational(rng.randrange(1, 1 << 20), rng.randrange(1, 1 << 10)) for s in symbols}
        vp = dp.xreplace(point)
        if vp.is_number and vp != 0 and _finite(sympy.N(vp, _DIGITS)):
            ratio = dg.xreplace(point) / vp
            if positive_ratio and not (ratio.is_real and ratio > 0):
                return False
            return ratio != 0 and _expr_equal(dg, ratio * dp)
    return False


_FLIPPED = {
    sympy.StrictGreaterThan: sympy.StrictLessThan,
    sympy.GreaterThan: sympy.LessThan,
    sympy.StrictLessThan: sympy.StrictLessThan,
    sympy.LessThan: sympy.LessThan,
}


def _same_relation(g: Any, p: Any) -> bool:
    """Two inequalities that say the same thing: written ``a < b`` or ``b > a`` and with the
    difference of their sides a positive constant multiple of the other's (``x^2 \\leq 2x`` is
    ``2x \\geq x^2``; ``x^2 - 3a < 0`` is ``3x^2 < 9a``). Exact: both describe the same set."""
    kinds = (type(g), type(p))
    if not all(k in _FLIPPED for k in kinds) or _FLIPPED[kinds[0]] is not _FLIPPED[kinds[1]]:
        return False
    dg = g.lhs - g.rhs if kinds[0] in (sympy.StrictLessThan, sympy.LessThan) else g.rhs - g.lhs
    dp = p.lhs - p.rhs if kinds[1] in (sympy.StrictLessThan, sympy.LessThan) else p.rhs - p.lhs
    return _proportional(dg, dp, positive_ratio=True)


def _equations_equal(g: list[Any], p: list[Any]) -> bool:
    g_assign, p_assign = g[0].is_Symbol, p[0].is_Symbol
    if g_assign and p_assign and g[0] == p[0]:
        return all(_equivalent(g[-1], part) for part in p[1:])
    if len(g) != 2 or len(p) != 2:
        return False
    if not all(isinstance(part, sympy.Expr) for part in g + p):
        return False
    return _proportional(g[0] - g[1], p[0] - p[1])


def _solved(rel: Any) -> bool:
    """A relation with a bare symbol on one side and a constant on the other."""
    if isinstance(rel, (sympy.And, sympy.Or)):
        return all(_solved(a) for a in rel.args)
    if not isinstance(rel, Relational):
        return False
    lhs, rhs = rel.lhs, rel.rhs
    return (lhs.is_Symbol and not rhs.free_symbols) or (rhs.is_Symbol and not lhs.free_symbols)


def _linear(rel: Any) -> bool:
    """A relation in one variable that is linear with a constant nonzero slope on each side
    (``-x > -1``, ``2x + 1 \\leq 5``): solved up to one step, so accepted like a solved one."""
    if isinstance(rel, (sympy.And, sympy.Or)):
        return all(_linear(a) for a in rel.args)
    if not isinstance(rel, Relational) or isinstance(rel, sympy.Eq):
        return False
    difference = rel.lhs - rel.rhs
    if len(difference.free_symbols) != 1:
        return False
    try:
        poly = sympy.Poly(difference, *difference.free_symbols)
    except sympy.PolynomialError:
        return False
    return poly.degree() == 1 and all(c.is_number and c.is_real for c in poly.all_coeffs())


def _explicit(obj: Any) -> Any:
    """A sum or product of explicit matrices, evaluated (``A + B`` -> one matrix)."""
    if isinstance(obj, sympy.MatrixExpr) and not isinstance(obj, sympy.MatrixBase):
        try:
            value = obj.doit()
        except Exception:  # noqa: BLE001 - e.g. mismatched shapes: left as written, compared as such
            return obj
        return value if isinstance(value, sympy.MatrixBase) else obj
    return obj


def _solved_set(rel: Any) -> Any:
    """The set a solved relation (see :func:`_solved`) describes, built without solving."""
    if isinstance(rel, sympy.And):
        return sympy.Intersection(*[_solved_set(a) for a in rel.args])
    if isinstance(rel, sympy.Or):
        return sympy.Union(*[_solved_set(a) for a in rel.args])
    if not rel.lhs.is_Symbol:
        rel = rel.reversed
    c = _value(rel.rhs)
    if isinstance(rel, sympy.StrictLessThan):
        return sympy.Interval.open(-sympy.oo, c)
    if isinstance(rel, sympy.LessThan):
        return sympy.Interval(-sympy.oo, c)
    if isinstance(rel, sympy.StrictGreaterThan):
        return sympy.Interval.open(c, sympy.oo)
    if isinstance(rel, sympy.GreaterThan):
        return sympy.Interval(c, sympy.oo)
    return sympy.Union(sympy.Interval.open(-sympy.oo, c), sympy.Interval.open(c, sympy.oo))  # Ne


def _relation_set(rel: Any) -> Any:
    """The solution set of a relation in one variable as a SymPy set (``None`` otherwise)."""
    if not isinstance(rel, sympy.Basic) or len(rel.free_symbols) != 1:
        return None
    if _solved(rel):
        return _solved_set(rel)
    value = _value(rel)
    return value.as_set() if isinstance(value, sympy.Basic) and hasattr(value, "as_set") else None


def _is_relation(obj: Any) -> bool:
    if isinstance(obj, Relational) and not isinstance(obj, sympy.Eq):
        return True
    return isinstance(obj, (sympy.And, sympy.Or)) and all(isinstance(a, Relational) for a in obj.args)


def _as_set(obj: Any) -> Any:
    """``obj`` as an evaluated SymPy set, or ``None`` when it is not one."""
    if isinstance(obj, sympy.FiniteSet) and obj.args and all(_is_relation(a) for a in obj.args):
        sets = [_relation_set(a) for a in obj.args]
        return None if any(s is None for s in sets) else sympy.Union(*sets)
    if isinstance(obj, sympy.Set):
        return _value(obj)
    return None


def _sets_equal(g: Any, p: Any) -> bool:
    if g == p:
        return True
    if isinstance(g, sympy.FiniteSet) and isinstance(p, sympy.FiniteSet):
        return _unordered_equal(list(g.args), list(p.args))
    if isinstance(g, sympy.Interval) and isinstance(p, sympy.Interval):
        return (g.left_open, g.right_open) == (p.left_open, p.right_open) and all(
            _equivalent(a, b) for a, b in ((g.start, p.start), (g.end, p.end))
        )
    if isinstance(g, sympy.Union) and isinstance(p, sympy.Union) and len(g.args) == len(p.args):
        return all(_sets_equal(a, b) for a, b in zip(g.args, p.args, strict=True))
    return False


def _unordered_equal(g: list[Any], p: list[Any]) -> bool:
    """Every element of each list has an equivalent in the other (duplicates do not count)."""
    return all(any(_equivalent(a, b) for b in p) for a in g) and all(any(_equivalent(a, b) for a in g) for b in p)


def _ordered(obj: Any) -> list[Any] | None:
    """The elements of a tuple, of a two-element open interval read as a point, or ``None``."""
    if isinstance(obj, sympy.Tuple):
        return list(obj.args)
    if isinstance(obj, sympy.Interval) and obj.left_open and obj.right_open:
        return [obj.start, obj.end]
    return None


def _equivalent(g: Any, p: Any, g_bare: bool = False, p_bare: bool = False) -> bool:
    """Whether prediction ``p`` answers gold ``g``; see the module docstring for the rules."""
    g, p = _explicit(g), _explicit(p)
    g_chain, p_chain = _chain(g), _chain(p)
    if g_chain and p_chain:
        return _equations_equal(g_chain, p_chain)
    if g_chain:
        return g_chain[0].is_Symbol and len(g_chain) == 2 and _equivalent(g_chain[1], p)
    if p_chain:
        parts = p_chain[1:] if p_chain[0].is_Symbol else p_chain  # every part of a chain: "x = 3 = 7" is not 7
        return all(_equivalent(g, part) for part in parts)
    if isinstance(g, Relational) and isinstance(p, Relational) and g.free_symbols == p.free_symbols:
        if _same_relation(g, p):
            return True
    if _is_relation(p) and not (_solved(p) or _linear(p)):
        return False
    if _is_relation(g) and _is_relation(p) and g.free_symbols != p.free_symbols:
        return False
    if _is_relation(g) or _is_relation(p):
        gs = _relation_set(g) if _is_relation(g) else _as_set(g)
        ps = _relation_set(p) if _is_relation(p) else _as_set(p)
        return gs is not None and ps is not None and _sets_equal(gs, ps)
    if isinstance(g, sympy.MatrixBase) or isinstance(p, sympy.MatrixBase):
        return (
            isinstance(g, sympy.MatrixBase)
            and isinstance(p, sympy.MatrixBase)
            and g.shape == p.shape
            and all(_equivalent(a, b) for a, b in zip(g, p, strict=True))
        )
    g_seq, p_seq = _ordered(g), _ordered(p)
    if g_bare and isinstance(g, sympy.FiniteSet) and p_seq is not None and isinstance(p, sympy.Tuple):
        g_seq = list(getattr(g, "_unsorted_args", g.args))
    if p_bare and isinstance(p, sympy.FiniteSet) and g_seq is not None and isinstance(g, sympy.Tuple):
        p_seq = list(getattr(p, "_unsorted_args", p.args))
    if g_seq is not None and p_seq is not None and (isinstance(g, sympy.Tuple) or isinstance(p, sympy.Tuple)):
        return len(g_seq) == len(p_seq) and all(_equivalent(a, b) for a, b in zip(g_seq, p_seq, strict=True))
    if isinstance(g, sympy.FiniteSet) and len(g.args) == 1 and isinstance(p, sympy.Expr):
        return _equivalent(g.args[0], p)
    if isinstance(p, sympy.FiniteSet) and len(p.args) == 1 and isinstance(g, sympy.Expr):
        return _equivalent(g, p.args[0])
    g_set, p_set = _as_set(g), _as_set(p)
    if g_set is not None or p_set is not None:
        return g_set is not None and p_set is not None and _sets_equal(g_set, p_set)
    if isinstance(g, sympy.Tuple) or isinstance(p, sympy.Tuple):
        return False
    return _expr_equal(g, p)


def _has(obj: Any, cls: type) -> bool:
    return isinstance(obj, sympy.Basic | sympy.MatrixBase) and obj.has(cls)


def _readings(obj: Any, percent: bool, degrees: bool) -> list[tuple[Any, bool]]:
    """``(reading, needs_magnitude_over_one)`` pairs: ``obj`` and its readings with a percent or
    degree sign the other side lacks taken into account (see :func:`judge`)."""
    out = [(obj, percent)]
    if isinstance(obj, sympy.Expr):
        if percent:
            out.append((obj / 100, False))
        if degrees:
            out.append((obj * sympy.pi / 180, False))
    return out


def _over_one(obj: Any) -> bool:
    """Whether ``obj`` is a real number of magnitude over 1 (only such a number may be read as a
    count of percent whose sign was dropped)."""
    if not isinstance(obj, sympy.Expr) or obj.free_symbols:
        return False
    value = sympy.N(obj, _DIGITS)
    return _finite(value) and abs(sympy.im(value)) < _IDENTITY_TOL and abs(sympy.re(value)) > 1


def judge(gold: dict[str, Any], pred: dict[str, Any], options: dict[str, Any] | None = None) -> dict[str, Any]:
    """Compares two normalised answers (dicts with the fields of ``math_normalize.Answer``);
    returns ``{"correct": bool, "reason": str, "details": dict}``.

    ``options``: ``seed`` (an int makes the random points of the identity tests reproducible;
    default: fresh from ``os.urandom``), ``positive`` (variables are positive reals) and
    ``tolerance`` (``{"abs": x}`` and/or ``{"rel": x}``; default exact).

    Percent: when only one side carries a percent sign, its number ``v%`` is read as ``v/100``; it
    is also read as the bare number ``v`` (a sign dropped) only when that number is over 1 in
    magnitude, so ``50\\%`` answers ``50`` and ``0.5``, but ``0.5\\%`` does not answer ``0.5``.
    A SymPy error while comparing one reading counts as "not shown equivalent" (``details["error"]``)."""
    global _OPTIONS
    options = options or {}
    _OPTIONS = _Options(make_rng(options.get("seed")), bool(options.get("positive")), options.get("tolerance"))
    try:
        g = _parse(gold["text"])
    except Exception as err:  # noqa: BLE001 - any parser failure means the gold is unusable
        return {"correct": False, "reason": "invalid_gold", "details": {"gold_unparseable": str(err)[:200]}}
    try:
        p = _parse(pred["text"])
    except Exception as err:  # noqa: BLE001 - any parser failure means the prediction is unreadable
        return {"correct": False, "reason": "unparseable", "details": {"error": str(err)[:200]}}
    try:
        _magnitude(g)
        _magnitude(p)
        bits = max(_magnitude(g, 1.0), _magnitude(p, 1.0))  # what the numbers written need
    except _TooLarge as err:
        return {"correct": False, "reason": "too_large", "details": {"guard": str(err)}}
    _OPTIONS.dps = min(_MAX_DPS, DPS + math.ceil(bits * _DIGITS_PER_BIT))
    restated = [c.__name__ for c in _RESTATED if _has(p, c) and not _has(g, c)]
    if restated:
        return {"correct": False, "reason": "restates_problem", "details": {"unevaluated": restated}}
    golds = _readings(g, gold["percent"] and not pred["percent"], gold["degrees"] and not pred["degrees"])
    preds = _readings(p, pred["percent"] and not gold["percent"], pred["degrees"] and not gold["degrees"])
    details: dict[str, Any] = {}
    for ga, g_dropped in golds:
        for pa, p_dropped in preds:
            try:
                if (g_dropped and not _over_one(ga)) or (p_dropped and not _over_one(pa)):
                    continue
                if _equivalent(ga, pa, gold["bare_list"], pred["bare_list"]):
                    return {"correct": True, "reason": "correct", "details": {}}
            except Exception as err:  # noqa: BLE001 - e.g. a NaN comparison inside SymPy
                details["error"] = repr(err)[:200]
    return {"correct": False, "reason": "wrong_answer", "details": details}


WARM_UP_PAIRS: tuple[tuple[str, str], ...] = (
    # (gold, prediction): typical answer shapes, none of them in the test table. Parsing them fills
    # the parser's prediction cache (shared by every parser in a process) once, in the zygote.
    ("\\frac{3}{7}", "\\frac{6}{14}"),
    ("4\\sqrt{5}", "\\sqrt{80}"),
    ("t^3-8", "(t-2)(t^2+2t+4)"),
    ("\\cos^2 t", "1-\\sin^2 t"),
    ("\\tan \\theta", "\\frac{\\sin\\theta}{\\cos\\theta}"),
    ("\\log_5 125", "3"),
    ("\\ln(e^3)", "3"),
    ("e^{2t}", "(e^t)^2"),
    ("y=-x+4", "x+y-4=0"),
    ("z=2", "2"),
    ("[3,\\infty)", "t\\geq 3"),
    ("(-2,4]", "-2<t\\leq 4"),
    ("\\{5,6\\}\\cup\\{7\\}", "\\{5,6,7\\}"),
    ("(4,-1)", "(-1,4)"),
    ("(2,7,1)", "2,7,1"),
    ("\\begin{pmatrix}3\\\\-1\\end{pmatrix}", "\\begin{bmatrix}3\\\\-1\\end{bmatrix}"),
    ("\\begin{pmatrix}1&4\\\\2&5\\end{pmatrix}", "\\begin{pmatrix}1&4\\\\2&6\\end{pmatrix}"),
    ("4-2i", "-2i+4"),
    ("\\pm 5", "5,-5"),
    ("\\frac{2\\pi}{3}", "\\arccos(-\\frac{1}{2})"),
    ("|t-1|", "\\sqrt{(t-1)^2}"),
    ("\\binom{k}{3}", "\\frac{k(k-1)(k-2)}{6}"),
    ("\\sqrt[3]{16}", "2\\sqrt[3]{2}"),
    ("a_1 + a_2", "a_2 + a_1"),
    ("\\frac{a}{b}", "a/b"),
    ("k!", "k(k-1)!"),
    ("\\emptyset", "\\{0\\}"),
    ("(-\\infty, 0)\\cup(2, \\infty)", "t<0, t>2"),
    ("t \\neq 1", "(-\\infty,1)\\cup(1,\\infty)"),
    ("2^{t}", "2\\cdot 2^{t-1}"),
    ("\\sin 2t", "2\\sin t \\cos t"),
    ("1.25", "\\frac{5}{4}"),
    ("\\cos(\\frac{\\pi}{3})", "\\sin(\\frac{\\pi}{6})"),
    ("p^3-3p^2q+3pq^2-q^3", "(p-q)^3"),
    ("\\frac{u^2}{9}+\\frac{v^2}{4}=1", "4u^2+9v^2=36"),
    ("u^2/9+v^2/4=1", "v=2u-3"),
    ("\\{\\sqrt{3}, -\\sqrt{3}\\}", "\\pm\\sqrt{3}"),
    ("(\\sqrt{3}, 2)", "(2, \\sqrt{3})"),
    ("[0,\\infty)", "t\\geq 0"),
    ("[-2,0)\\cup(0,2]", "[-2,2]\\setminus\\{0\\}"),
    ("\\begin{pmatrix} \\frac{1}{3} \\\\ 2 \\end{pmatrix}", "\\begin{pmatrix} 0.25 \\\\ 2t \\end{pmatrix}"),
    ("w=4-5v", "5v+w=4"),
    ("(s-t)(s+t)", "s^2-t^2"),
    ("\\sin(3t)", "3\\sin t-4\\sin^3 t"),
    ("e \\cdot \\pi", "\\pi e"),
    ("e^{i\\pi/4}", "\\frac{\\sqrt{2}}{2}+\\frac{\\sqrt{2}}{2}i"),
    ("2\\ln 3", "\\ln 9"),
    ("2+\\sqrt{3}, 2-\\sqrt{3}", "2\\pm\\sqrt{3}"),
    ("\\frac{t+3}{5}", "\\frac{t}{5}+\\frac{3}{5}"),
)


def warm_up() -> None:
    """Judges :data:`WARM_UP_PAIRS`, so that processes forked afterwards start with the parser's
    prediction cache filled and SymPy's lazy imports done; then empties SymPy's cache, so that no
    warm-up answer is remembered."""
    flags = {"percent": False, "degrees": False, "bare_list": False}
    for gold, pred in WARM_UP_PAIRS:
        judge({"text": gold, **flags}, {"text": pred, **flags})
    sympy.core.cache.clear_cache()
