"""String normalisation of math answers, before any parsing.

:func:`normalize` turns the text of one answer (a boxed content or a gold answer) into an
:class:`Answer`: a canonical LaTeX string plus the markers that normalisation removed (a percent
sign, a degree sign) and whether it is a bare comma list. :func:`choice_letter` and :func:`words`
read multiple-choice letters and plain-word answers.

Thousands separators: a LaTeX-marked one (``1\\,000``, ``1{,}000``, ``32,\\! 349``) anywhere, a
plain comma (``12,102``) only when the number is the whole answer (or the value of ``x = ...``):
``(12,102)`` and ``\\{12,102\\}`` stay lists of two numbers.

Every step is a compiled regular expression without nested quantifiers or a single left-to-right
scan, so normalisation is linear in the length of the input. The caller caps that length.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

__all__ = [
    "ASCII_FUNCTION",
    "VALUE_WORDS",
    "Answer",
    "ascii_math",
    "choice_letter",
    "closes_at_end",
    "nesting_depth",
    "normalize",
    "split_items",
    "split_list",
    "undouble_backslashes",
    "words",
]


@dataclass(frozen=True)
class Answer:
    """A normalised answer.

    Attributes:
        text: canonical LaTeX (single spaces, no wrappers, markers removed).
        key: ``text`` without the spaces that carry no meaning; equal keys mean equal answers.
        percent: a percent sign (``\\%``, ``%``, ``percent``) was removed.
        degrees: a degree sign (``^\\circ``, ``°``, ``degrees``) was removed.
        bare_list: a top-level comma list without enclosing brackets, e.g. ``1, 2``.
        unit: the canonical unit removed from the end (``cm``, ``m^2``, ``h``), ``""`` for none or
            for a counting word (``units``, ``ways``, ``people``) that names no measure.
    """

    text: str
    key: str
    percent: bool = False
    degrees: bool = False
    bare_list: bool = False
    unit: str = ""


_UNICODE = {
    "\u2212": "-",
    "\u2013": "-",
    "\u00d7": "\\times ",
    "\u00f7": "\\div ",
    "\u00b7": "\\cdot ",
    "\u22c5": "\\cdot ",
    "\u03c0": "\\pi ",
    "\u221e": "\\infty ",
    "\u221a": "\\sqrt",
    "\u00b0": "^\\circ",
    "\u2264": "\\leq ",
    "\u2265": "\\geq ",
    "\u2260": "\\neq ",
    "\u222a": "\\cup ",
    "\u2229": "\\cap ",
    "\u2205": "\\emptyset ",
    "\u00b1": "\\pm ",
    "\u00a0": " ",
    "\u2009": " ",
    "\u202f": " ",
}
_UNICODE_RE = re.compile("|".join(map(re.escape, _UNICODE)))

_MAX_WRAPPERS = 8
_DELIMITERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_WRAPPERS = ("\\boxed", "\\fbox", "\\displaystyle", "\\textstyle")
_SIZING = re.compile(r"\\(?:left|right)\s*\.|\\(?:left|right|[bB]igg?[lr]?|middle)(?![a-zA-Z])")
_THOUSANDS_SPACE = re.compile(r"(?<=\d)\s?(?:\\,|\\ |~|\{\s?,\s?\}|\\!|\\;|\\:|,\s*\\!\s*)(?=\s?\d{3}(?!\d))")
_SPACING = re.compile(r"(?<!\\)\\[,!;:> ]|\\q?quad(?![a-zA-Z])|~")
_RENAMES = [
    (re.compile(r"\\[dtc]frac(?![a-zA-Z])"), r"\\frac"),
    (re.compile(r"\\[dt]binom(?![a-zA-Z])"), r"\\binom"),
    (re.compile(r"\\varnothing(?![a-zA-Z])|\\\{\s*\\\}"), r"\\emptyset"),
    (re.compile(r"\\(?:le|leqslant)(?![a-zA-Z])|<="), r"\\leq "),
    (re.compile(r"\\(?:ge|geqslant)(?![a-zA-Z])|>="), r"\\geq "),
    (re.compile(r"\\ne(?![a-zA-Z])|!="), r"\\neq "),
    (re.compile(r"\\lt(?![a-zA-Z])"), "<"),
    (re.compile(r"\\gt(?![a-zA-Z])"), ">"),
    (re.compile(r"\\(?:dots|ldots|cdots)(?![a-zA-Z])"), r"\\ldots"),
]
# \text-like commands whose content is kept as plain text; a space stands in for the command, so
# that "5\text{cm}" becomes "5 cm" and the unit rule below sees a separate word.
_TEXT_CMD = re.compile(
    r"\\(?:text|textbf|textit|textrm|textnormal|mathrm|mathbf|mathit|mathsf|mbox|boldsymbol|bm)\s*\{([^{}]*)\}"
)
_TEXT_TOKEN = re.compile(r"\\(?:text|textrm|mathrm|mathit|mathbf)\s+([a-zA-Z0-9])")
_DOLLAR = re.compile(r"\\?\$")
_TRIG_DEGREES = re.compile(
    r"(\\(?:sin|cos|tan|sec|csc|cot))\s*(\(?)\s*(\d+(?:\.\d+)?)\s*(?:\^\s*\{?\s*\\circ\s*\}?|\\degree)\s*(\)?)"
)
_DEGREE = re.compile(r"\^\s*\{?\s*\\circ\s*\}?|\\circ(?![a-zA-Z])|\\degree(?![a-zA-Z])")
_PERCENT = re.compile(r"\\?%")
_AND_OR = re.compile(r"\s+(?:and|or)\s+|(?<=[)\]}])\s*(?:and|or)\s*(?=[(\[{\\])")

_UNIT_WORDS = (
    "units?|sq(?:uare)? units?|cubic units?|cm|mm|km|(?:centi|milli|kilo)?(?:meters?|metres?)|"
    "inch(?:es)?|in|ft|feet|foot|yards?|yd|"
    "miles?|mi|mph|kph|km/h|m/s|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|yrs?|"
    "grams?|kg|mg|pounds?|lbs?|ounces?|oz|liters?|litres?|ml|mL|gallons?|gal|dollars?|cents?|euros?|"
    "radians?|rad|ways|people|persons?|students?|times|points?|steps?|numbers?|integers?|digits?|"
    "square feet|square inches|square meters|cubic feet|cubic inches|cubic meters"
)
_UNIT_NAMES = {
    "cm": ("cm", "centimeter", "centimetre"), "mm": ("mm", "millimeter", "millimetre"),
    "km": ("km", "kilometer", "kilometre"), "m": ("m", "meter", "metre"), "in": ("in", "inch", "inche"),
    "ft": ("ft", "feet", "foot"), "yd": ("yd", "yard"), "mi": ("mi", "mile"), "mph": ("mph",),
    "km/h": ("kph", "km/h"), "m/s": ("m/s",), "s": ("s", "second", "sec"), "min": ("minute", "min"),
    "h": ("hour", "hr"), "day": ("day",), "week": ("week",), "month": ("month",), "year": ("year", "yr"),
    "g": ("g", "gram"), "kg": ("kg",), "mg": ("mg",), "lb": ("pound", "lb"), "oz": ("ounce", "oz"),
    "L": ("l", "liter", "litre"), "mL": ("ml",), "gal": ("gallon", "gal"), "$": ("dollar",),
    "cent": ("cent",), "euro": ("euro",), "rad": ("radian", "rad"),
}
_UNIT_CANON = {alias: name for name, aliases in _UNIT_NAMES.items() for alias in aliases}
_UNIT_POWER = {"square": "^2", "sq": "^2", "cubic": "^3"}


def canonical_unit(text: str) -> str:
    """The unit a trailing unit text names, in one spelling (``centimeters`` and ``\\text{ cm}``
    are ``cm``; ``square feet`` and ``ft^2`` are ``ft^2``); ``""`` for a counting word (``units``,
    ``ways``, ``students``), which names no measure and agrees with any unit."""
    text = re.sub(r"\^\s*\{?\s*([23])\s*\}?", r"^\1", text)
    words = re.sub(r"[{}\\.]", " ", text).split()
    power = ""
    if words and words[0].lower() in _UNIT_POWER:
        power = _UNIT_POWER[words.pop(0).lower()]
    if words and re.fullmatch(r"\^[23]", words[-1]):
        power = words.pop()
    elif words and re.fullmatch(r"[^^]+\^[23]", words[-1]):
        base, _, exp = words.pop().partition("^")
        words.append(base)
        power = "^" + exp
    if len(words) != 1:
        return ""
    word = words[0].lower()
    name = _UNIT_CANON.get(word) or _UNIT_CANON.get(word[:-1] if word.endswith("s") else word, "")
    if word.endswith("es") and not name:
        name = _UNIT_CANON.get(word[:-2], "")
    return name + power if name else ""


# A trailing unit: a listed word (optionally squared/cubed) after a number, ")" or "}"; a single
# letter unit (m, s, g, L) only when a space separates it, so "2m" stays the product 2*m.
_UNIT = re.compile(rf"(?<=[\d)}}.])\s*(?:(?:{_UNIT_WORDS})|\s(?:m|s|g|L|l))(?:\^\{{?[23]\}}?)?\.?$")
_DEGREE_WORD = re.compile(r"(?<=[\d)}.])\s*(?:degrees?|deg)\.?$")
_PERCENT_WORD = re.compile(r"(?<=[\d)}.])\s*(?:percent(?:age)?|pct)\.?$")

_FRAC_DIGITS = re.compile(r"\\frac\s*(\d)\s*(\d)")
_FRAC_DIGIT_BRACE = re.compile(r"\\frac\s*(\d)\s*(?=\{)")
_FRAC_BRACE_DIGIT = re.compile(r"\\frac\s*(\{[^{}]*\})\s*(\d)")
_SQRT_TOKEN = re.compile(r"\\sqrt\s*([0-9a-zA-Z])")
_MIXED = re.compile(r"^(-?)\s*(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}$")
_MIXED_TEXT = re.compile(r"^(-?)\s*(\d+)\s+(\d+)\s*/\s*(\d+)$")  # "4 4/9", written in plain text
_TRAILING_COMMA = re.compile(r"(?<!\\),\s*$")
# "12,102" is twelve thousand one hundred and two only when it is the whole answer (or the value
# of "x = ..."): inside brackets or a longer list the comma separates items
_THOUSANDS = re.compile(r"^((?:[a-zA-Z]\s*=\s*)?[-+]?[1-9]\d{0,2})((?:,\d{3})+|(?: \d{3})+)((?:\.\d+)?)$")
# "a = b \approx c": the exact value b is the answer, c its approximation; "x \approx c" means x = c
_APPROX = re.compile(r"\\approx(?![a-zA-Z])")
_REPEATING = re.compile(r"(?<![\d.])(\d*)\.(\d*)\\overline\{(\d+)\}")
_SPACES = re.compile(r"\s+")
_KEY_SPACES = re.compile(r"(?<![a-zA-Z])\s|\s(?![a-zA-Z])")


def _strip_wrappers(s: str) -> str:
    """Removes math delimiters and ``\\boxed{...}`` wrapping the whole string, a few layers deep."""
    for _ in range(_MAX_WRAPPERS):
        s = s.strip()
        before = s
        for left, right in _DELIMITERS:
            if len(s) >= len(left) + len(right) and s.startswith(left) and s.endswith(right):
                s = s[len(left) : len(s) - len(right)]
                break
        if s.startswith("{") and _group_end(s, 0) == len(s) - 1:
            s = s[1:-1]  # "{1,3}": a group around the whole answer only groups
        for cmd in _WRAPPERS:
            if s.startswith(cmd):
                rest = s[len(cmd) :].lstrip()
                if cmd in ("\\displaystyle", "\\textstyle"):
                    s = rest
                elif rest.startswith("{") and _group_end(rest, 0) == len(rest) - 1:
                    s = rest[1:-1]
                break
        if s.endswith(".") and not s.endswith("\\."):
            s = s[:-1]
        if s == before:
            break
    return s


def _group_end(s: str, start: int) -> int:
    """Index of the bracket closing the one at ``start`` (escaped braces count as brackets of
    their own kind), or -1."""
    depth = 0
    for i in range(start, len(s)):
        c = s[i]
        if c == "{" and s[i - 1 : i] != "\\":
            depth += 1
        elif c == "}" and s[i - 1 : i] != "\\":
            depth -= 1
            if depth == 0:
                return i
    return -1


def nesting_depth(s: str) -> int:
    """The deepest nesting of ``{}``, ``()`` and ``[]`` in ``s`` (one linear scan)."""
    depth = best = 0
    for c in s:
        if c in "{([":
            depth += 1
            best = max(best, depth)
        elif c in "})]":
            depth -= 1
    return best


def split_list(s: str) -> tuple[str, list[str]] | None:
    """The brackets and top-level items of a list answer, or ``None`` for anything else: ``("",
    items)`` for a bare list ``a, b``; ``("\\{\\}", items)`` for a set ``\\{...\\}``; the two bracket
    characters (``"()"``, ``"[)"``, ...) for a bracketed list of at least two items."""
    items = split_items(s)
    if len(items) > 1:
        return "", items
    if s.startswith("\\{") and s.endswith("\\}") and closes_at_end(s, 1):
        return "\\{\\}", split_items(s[2:-2])
    if len(s) > 1 and s[0] in "([" and s[-1] in ")]" and closes_at_end(s, 0):
        inner = split_items(s[1:-1])
        if len(inner) > 1:
            return s[0] + s[-1], inner
    return None


def split_items(s: str, sep: str = ",") -> list[str]:
    """``s`` split at the commas (or ``sep``) outside any bracket."""
    parts, depth, start = [], 0, 0
    for i, c in enumerate(s):
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(s[start:i])
            start = i + 1
    parts.append(s[start:])
    return parts


def closes_at_end(s: str, open_index: int) -> bool:
    """True when the bracket at ``open_index`` is closed by the last character of ``s`` (any
    closing bracket closes any opening one, as in the interval ``[a, b)``)."""
    depth = 0
    for i in range(open_index, len(s)):
        if s[i] in "{([":
            depth += 1
        elif s[i] in "})]":
            depth -= 1
            if depth == 0:
                return i == len(s) - 1
    return False


def _repeating_decimal(m: re.Match[str]) -> str:
    whole, fixed, cycle = m.group(1) or "0", m.group(2), m.group(3)
    value = Fraction(int(whole)) + Fraction(int(fixed or "0"), 10 ** len(fixed))
    value += Fraction(int(cycle), (10 ** len(cycle) - 1) * 10 ** len(fixed))
    return f"\\frac{{{value.numerator}}}{{{value.denominator}}}"


def _trig_degrees(m: re.Match[str]) -> str:
    """``\\tan 60^\\circ`` -> ``\\tan(\\frac{60\\pi}{180})``."""
    func, opening, number, closing = m.groups()
    if bool(opening) != bool(closing):
        return m.group()
    return f"{func}(\\frac{{{number}\\pi}}{{180}})"


def _remove_markers(s: str) -> tuple[str, bool, bool, str]:
    """Removes units, degree and percent markers; returns (text, percent, degrees, unit)."""
    s = _TRIG_DEGREES.sub(_trig_degrees, s)
    s, n_deg = _DEGREE.subn("", s)
    s, n_pct = _PERCENT.subn("", s)
    percent, degrees, unit = n_pct > 0, n_deg > 0, ""
    for _ in range(3):
        s = s.rstrip()
        s, n = _DEGREE_WORD.subn("", s)
        degrees |= n > 0
        s, n2 = _PERCENT_WORD.subn("", s)
        percent |= n2 > 0
        found = _UNIT.search(s)
        if found:
            unit = unit or canonical_unit(found.group())
            s = s[: found.start()]
        if not (n or n2 or found):
            break
    return s, percent, degrees, unit


def normalize(text: str) -> Answer:
    """Normalises one answer; see the module docstring. Never raises on a ``str``."""
    s = _TRAILING_BACKSLASH.sub("", _UNICODE_RE.sub(lambda m: _UNICODE[m.group()], text))  # "185\\": a typo
    s = _strip_wrappers(s)
    s = _SIZING.sub("", s)
    s = _THOUSANDS_SPACE.sub("", s)
    s = _SPACING.sub(" ", s)
    for pattern, repl in _RENAMES:
        s = pattern.sub(repl, s)
    for _ in range(3):
        s, n = _TEXT_CMD.subn(r" \1", s)
        if not n:
            break
    s = _TEXT_TOKEN.sub(r" \1", s)
    s = ascii_math(s)
    s = _DOLLAR.sub("", s)
    s, percent, degrees, unit = _remove_markers(s)
    s = _AND_OR.sub(", ", s)
    s = _FRAC_DIGITS.sub(r"\\frac{\1}{\2}", s)
    s = _FRAC_DIGIT_BRACE.sub(r"\\frac{\1}", s)
    s = _FRAC_BRACE_DIGIT.sub(r"\\frac\1{\2}", s)
    s = _SQRT_TOKEN.sub(r"\\sqrt{\1}", s)
    s = _TRAILING_COMMA.sub("", _SPACES.sub(" ", s).strip().rstrip(".").strip())
    s = _THOUSANDS.sub(lambda m: m.group(1) + re.sub("[, ]", "", m.group(2)) + m.group(3), s)
    approx = _APPROX.search(s)
    exact = s[: approx.start()] if approx else ""
    if approx and ("=" in exact or _variable_free(exact)) and "," not in s:
        s = s[: approx.start()].strip()
    elif approx:
        s = _APPROX.sub("=", s)
    s = _equality_chain(s)
    annotated = _ANNOTATED_NUMBER.match(s)
    if annotated and not VALUE_WORDS.search(s):  # "17 any text", "17 apples": a unit or a note
        s = annotated.group(1)
    s = _REPEATING.sub(_repeating_decimal, s)
    s = _SPACES.sub(" ", s).strip().rstrip(".").strip()
    mixed = _MIXED.match(s) or _MIXED_TEXT.match(s)
    if mixed and int(mixed.group(3)) < int(mixed.group(4)):
        sign, whole, num, den = mixed.groups()
        s = f"{sign}({whole}+\\frac{{{num}}}{{{den}}})"
    listed = split_list(s)
    return Answer(
        text=s,
        key=_KEY_SPACES.sub("", s),
        percent=percent,
        degrees=degrees,
        unit=unit,
        bare_list=listed is not None and listed[0] == "",
    )


_CHOICE_GOLD = re.compile(r"^\(?([A-J])\)?$")
_CHOICE_PRED = re.compile(r"^(?:option|choice|answer)?\s*:?\s*\(?([A-Ja-j])\)?(?:[.:]?\s(.*))?$", re.IGNORECASE)
_OTHER_LETTER = re.compile(r"(?<![A-Za-z\\])\(?[A-J]\)?(?![A-Za-z])")


def choice_letter(answer: Answer, *, gold: bool) -> str | None:
    """The multiple-choice letter of an answer: a gold must be just ``A``/``(A)``; a prediction
    may add the option text (``(B) 42``) or use a lower-case letter, but names exactly one letter:
    ``B C``, ``B, C`` and ``(B) or (C)`` name none (the exact set of letters must match)."""
    if gold:
        m = _CHOICE_GOLD.match(answer.text)
        return m.group(1) if m else None
    m = _CHOICE_PRED.match(answer.text)
    if not m:
        return None
    rest = m.group(2) or ""
    if _OTHER_LETTER.search(rest) or rest.strip().startswith(","):
        return None
    return m.group(1).upper()


_WORD_TEXT = re.compile(r"^[A-Za-z][A-Za-z '\-]*$")
_COMMON_WORDS = frozenset(
    "yes no true false odd even neither none both always never infinite undefined impossible".split()
)


def words(raw: str, *, gold: bool) -> str | None:
    """The lower-cased words of a plain-word answer (``\\text{Yes}``, ``even``,
    ``\\textbf{Monday}``), or ``None`` when the answer is not made of words only.

    A gold counts as words when it was written in a text command, or is a common answer word (a
    bare ``ab`` stays an expression, a product of two symbols); a prediction needs only letters."""
    s = _strip_wrappers(_UNICODE_RE.sub(lambda m: _UNICODE[m.group()], raw))
    had_text = _TEXT_CMD.search(s) is not None
    for _ in range(3):
        s, n = _TEXT_CMD.subn(r" \1", s)
        if not n:
            break
    s = _SPACES.sub(" ", s).strip().rstrip(".").strip().lower()
    if not _WORD_TEXT.match(s) or len(s) < 2:
        return None
    if had_text or s in _COMMON_WORDS or not gold:
        return s
    return None


_SYMBOL = r"(?:[a-zA-Z]|\\[a-zA-Z]+)(?:_\{?[a-zA-Z0-9]+\}?)?"
# names that label a value rather than take part in an equation: a function value f(x), a
# segment AB, an angle, a ratio of segments; a plain letter labels only inside a list of labels
_NAME = (
    rf"{_SYMBOL}(?:\^\{{?-1\}}?)?\s*\([^()=]*\)|(?:m\s*)?\\angle\s*[A-Z]{{1,3}}|\\overline\{{[A-Z]{{2,3}}\}}"
    r"|[A-Z]{2,3}|\\frac\{[A-Z]{1,3}\}\{[A-Z]{1,3}\}"
)
_NAME += rf"|{_SYMBOL}(?:\s*:\s*{_SYMBOL})+|\|[A-Z]{{2,3}}\|"  # a ratio A:B, a length |AB|
_NAMED = re.compile(rf"^\s*({_NAME})\s*=\s*([^=]+)$")
_NAMED_OR_SYMBOL = re.compile(rf"^\s*({_NAME}|{_SYMBOL})\s*=\s*([^=]+)$")
_TUPLE_NAME = re.compile(rf"^\s*\(\s*({_SYMBOL}(?:\s*,\s*{_SYMBOL})+)\s*\)\s*=\s*(\(.*\))\s*$")


def labels(text: str) -> tuple[list[tuple[str, str]], bool] | None:
    """The ``(label, value)`` pairs of a labelled answer, and whether they form a tuple, or
    ``None``: ``f(x)=2x+3``, ``AB=4, CD=5``, ``(p,q)=(3,2)`` (a tuple), ``x=1, y=2``. A single
    ``x = 3`` is not a label here (it is an assignment, compared as one)."""
    m = _TUPLE_NAME.match(text)
    if m:
        names = [n.strip() for n in m.group(1).split(",")]
        values = split_items(m.group(2)[1:-1])
        if len(values) == len(names) and closes_at_end(m.group(2), 0):
            return [(n.replace(" ", ""), v.strip()) for n, v in zip(names, values, strict=True)], True
        tuples = split_items(m.group(2))  # "(x, y) = (5, 8), (8, 5)": the label names every tuple
        if len(tuples) > 1 and all(t.strip()[:1] == "(" and closes_at_end(t.strip(), 0) for t in tuples):
            return [("(" + ",".join(n.replace(" ", "") for n in names) + ")", m.group(2).strip())], False
        return None
    items = split_items(text)
    pattern = _NAMED if len(items) == 1 else _NAMED_OR_SYMBOL
    pairs = []
    for item in items:
        m = pattern.match(item)
        if not m or not m.group(2).strip():
            return None
        pairs.append((m.group(1).replace(" ", ""), m.group(2).strip()))
    return pairs, False


_PLAIN_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_ANNOTATED_NUMBER = re.compile(r"^(-?\d[\d.,]*(?:/\d+)?)\s+(?:[A-Za-z]{3,}\s*){1,4}$")
# words that change a number's value: "5 million" is not 5
VALUE_WORDS = re.compile(
    r"\b(?:squared|cubed|times|plus|minus|over|hundreds?|thousands?|millions?|billions?|trillions?|dozens?"
    r"|halfs?|halves|thirds?|quarters?|fourths?|fifths?|tenths?|hundredths?|percent|pi|root|sqrt|factorial"
    r"|less|fewer|more|greater|smaller|larger|per|divided|multiplied|added|subtracted|inverse|reciprocal"
    r"|powers?|exponent|negative|point)\b",
    re.IGNORECASE,
)
ASCII_FUNCTION = re.compile(
    r"(?<![A-Za-z\\])(arcsin|arccos|arctan|arcsec|arccsc|arccot|sinh|cosh|tanh|sech|csch|coth|sin|cos|tan|sec|csc"
    r"|cot|log|ln|exp)(?=\s*[(^]|\s+[A-Za-z0-9])"
)
_ASCII_CALL = re.compile(r"(?<![A-Za-z\\])(sqrt|abs)\s*\(")
_ASCII_PI = re.compile(r"(?<![A-Za-z\\])pi(?![A-Za-z])")
_CARET_GROUP = re.compile(r"\^\s*\(")
_CARET_SIGNED = re.compile(r"\^\s*-\s*([A-Za-z0-9]+(?:\.\d+)?)")
_CARET_DECIMAL = re.compile(r"\^\s*(\d+\.\d+)")


def _rewrite_groups(s: str, pattern: re.Pattern[str], rewrite: Callable[[re.Match[str], str], str]) -> str:
    """Up to 8 times, the first match of ``pattern`` (which ends at an opening parenthesis) through
    its closing parenthesis becomes ``rewrite(match, text inside)``: innermost groups come last."""
    for _ in range(8):
        m = pattern.search(s)
        if not m:
            break
        close = _matching_paren(s, m.end() - 1)
        if close < 0:
            break
        s = s[: m.start()] + rewrite(m, s[m.end() : close]) + s[close + 1 :]
    return s


def _matching_paren(s: str, open_index: int) -> int:
    depth = 0
    for i in range(open_index, len(s)):
        if s[i] == "(":
            depth += 1
        elif s[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def ascii_math(s: str) -> str:
    """Plain-text math as LaTeX (what a model writes without LaTeX, and Maxima/calculator
    syntax): ``sqrt(12)`` is ``\\sqrt{12}``, ``abs(x)`` is ``|x|``, ``cos(x)^2`` is ``\\cos(x)^2``,
    ``7pi`` is ``7\\pi``, ``x^(1/2)`` is ``x^{(1/2)}``, ``3^-x`` is ``3^{-x}``, ``x^0.2`` is ``x^{0.2}``.
    A name already written as a LaTeX command, or inside a word (``cost``), is left alone."""
    if not any(c.isalpha() or c == "^" for c in s):
        return s
    s = _rewrite_groups(s, _ASCII_CALL, lambda m, inner: f"\\sqrt{{{inner}}}" if m.group(1) == "sqrt" else f"|{inner}|")
    s = ASCII_FUNCTION.sub(r"\\\1", s)
    s = _ASCII_PI.sub(r"\\pi ", s)
    s = _rewrite_groups(s, _CARET_GROUP, lambda m, inner: f"^{{({inner})}}")
    s = _CARET_SIGNED.sub(r"^{-\1}", s)
    return _CARET_DECIMAL.sub(r"^{\1}", s)


_BACKSLASH_RUN = re.compile(r"\\+(?=[a-zA-Z])")
_LABEL_ONLY = re.compile(rf"\s*(?:{_NAME}|{_SYMBOL})\s*")
_COMMAND = re.compile(r"\\[a-zA-Z]+")
_OPEN, _CLOSE = "({[", ")}]"


_DOUBLED_COMMAND = re.compile(
    r"(?<!\\)\\\\(?=(?:[dt]?frac|sqrt|cdot|times|div|pm|mp|pi|infty|left|right|[lg]eq?|neq?|in|cup|cap"
    r"|text|mathrm|boxed|sin|cos|tan|log|ln|alpha|beta|theta)(?![a-zA-Z]))"
)
_TRAILING_BACKSLASH = re.compile(r"(?<!\\)\\\s*$")


def undouble_backslashes(text: str) -> str:
    """``text`` with its backslashes halved when it is LaTeX escaped twice (as in a JSON dump:
    ``\\\\frac{1}{2}``): every run of backslashes before a letter has an even length. In a text
    with a single backslash before a letter (``\\frac``, or a matrix's ``\\\\`` row break next to
    ``\\end``) only a doubled backslash directly before a common command name (``\\\\dfrac``,
    ``\\\\sqrt``) is halved: a row break followed by the letters "dfrac" means nothing."""
    runs = [len(m.group()) for m in _BACKSLASH_RUN.finditer(text)]
    if runs and not any(n % 2 for n in runs):
        return text.replace("\\\\", "\\")
    return _DOUBLED_COMMAND.sub(r"\\", text)  # "\\\\dfrac" alone: a row break never precedes "dfrac" text


def _equality_sides(s: str) -> list[str]:
    """``s`` split at its top-level ``=`` signs (not ``<=``, ``>=``, ``!=``, ``:=``, ``==``, nor
    inside brackets or braces)."""
    sides, depth, start = [], 0, 0
    for i, ch in enumerate(s):
        if ch in _OPEN:
            depth += 1
        elif ch in _CLOSE:
            depth -= 1
        elif ch == "=" and depth == 0:
            if s[i - 1 : i] in ("<", ">", "!", ":", "=") or s[i + 1 : i + 2] == "=":
                return [s]
            sides.append(s[start:i])
            start = i + 1
    sides.append(s[start:])
    return sides


def _variable_free(side: str) -> bool:
    return bool(side.strip()) and not re.search(r"[a-zA-Z]", _COMMAND.sub("", side))


def _equality_chain(s: str) -> str:
    """The value a chain of equalities states: its last side, when that side is a value (no
    variable). ``x = 5+5+1 = 11`` is ``x = 11`` (the first side labels it); ``\\frac12 = 0.5`` and
    ``1 + 1 = 2`` are ``0.5`` and ``2`` (the first side is a computation). An equation between
    expressions in variables (``x^2 + y^2 = 25``) and a single ``x = 3`` are left as they are, and
    so is any chain inside a list (a comma at top level)."""
    if "=" not in s or "," in s:
        return s
    sides = _equality_sides(s)
    if len(sides) < 2 or not _variable_free(sides[-1]):
        return s
    first, last = sides[0].strip(), sides[-1].strip()
    if len(sides) >= 3 and _LABEL_ONLY.fullmatch(first):
        return f"{first} = {last}"
    if len(sides) == 2 and _PLAIN_NUMBER.fullmatch(first):
        return s  # "1 = 1" computes nothing: compared as the equation it is
    return last if _variable_free(first) else s


_TIME = re.compile(r"^\d{1,2}:\d{2}(?::\d{2})?$")


def ratio_parts(text: str) -> list[str] | None:
    """The parts of a ratio ``a : b`` (``a:b:c``), or ``None`` (a time such as ``10:30`` is not a
    ratio)."""
    if ":" not in text or _TIME.match(text.replace(" ", "")):
        return None
    parts = split_items(text, ":")
    if len(parts) != text.count(":") + 1 or any(not part.strip() for part in parts):
        return None  # a colon inside brackets: not a ratio
    return [part.strip() for part in parts]
