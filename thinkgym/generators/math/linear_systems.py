"""Family ``linear_system``: solve a 2x2 or 3x3 linear system with a unique solution.

All coefficients are non-zero integers and the solution is planted: integers with
``max_denominator = 1``, otherwise fractions over a common denominator of at most
``max_denominator`` with at least one entry not an integer.

Steps are elimination then back substitution: for 2x2, eliminate ``x`` (giving ``y``), then ``x``;
for 3x3, eliminate ``x`` from (2) giving (4), eliminate ``x`` from (3) and then ``y`` with (4)
giving ``z``, then ``y`` from (4), then ``x`` from (1); the last step is the solution tuple.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

from thinkgym.generators.math.family import MathFamily, Solution, Step, check_int
from thinkgym.generators.math.latex import latex, terms_latex

__all__ = ["FAMILY", "LEVELS", "LinearSystemConfig"]

VARIABLES = ("x", "y", "z")


@dataclass(frozen=True)
class LinearSystemConfig:
    """Knobs: ``num_vars`` (2..3 equations and unknowns), ``max_coef`` (coefficients in
    ``±1..max_coef``, 2..20), ``max_solution`` (``|x_i|`` bound, 1..50) and ``max_denominator``
    (1 for integer solutions, up to 12 for rational ones)."""

    num_vars: int = 2
    max_coef: int = 5
    max_solution: int = 5
    max_denominator: int = 1

    def __post_init__(self) -> None:
        check_int("num_vars", self.num_vars, 2, 3)
        check_int("max_coef", self.max_coef, 2, 20)
        check_int("max_solution", self.max_solution, 1, 50)
        check_int("max_denominator", self.max_denominator, 1, 12)

    @property
    def difficulty(self) -> float:
        """Five per unknown, plus log2 of the coefficient and solution sizes, plus log2 of the
        solution denominators."""
        sizes = math.log2(self.max_coef) + math.log2(self.max_solution) + math.log2(self.max_denominator)
        return round(5 * self.num_vars + sizes, 3)


LEVELS = {
    1: {"num_vars": 2, "max_coef": 5, "max_solution": 5, "max_denominator": 1},
    2: {"num_vars": 2, "max_coef": 9, "max_solution": 9, "max_denominator": 1},
    3: {"num_vars": 2, "max_coef": 9, "max_solution": 9, "max_denominator": 6},
    4: {"num_vars": 3, "max_coef": 6, "max_solution": 6, "max_denominator": 1},
    5: {"num_vars": 3, "max_coef": 7, "max_solution": 6, "max_denominator": 6},
}

Equation = list[int]  # coefficients, then the right-hand side


def _det(rows: list[list[int]]) -> int:
    if len(rows) == 1:
        return rows[0][0]
    return sum((-1) ** j * rows[0][j] * _det([r[:j] + r[j + 1 :] for r in rows[1:]]) for j in range(len(rows)))


def _equation_latex(eq: Equation) -> str:
    return f"{terms_latex(list(zip(eq[:-1], VARIABLES[: len(eq) - 1], strict=True)))} = {eq[-1]}"


def _times(k: int, label: str) -> str:
    return label if k == 1 else f"{k} times {label}"


def _eliminate(e: Equation, f: Equation, i: int, e_label: str, f_label: str) -> tuple[Equation, str]:
    """``f`` without variable ``i`` (a positive multiple of ``f`` minus a multiple of ``e``, divided
    by its content), and the combination in words."""
    if f[i] == 0:
        return f, f"{f_label} as it stands"
    g = math.gcd(e[i], f[i])
    ke, kf = f[i] // g, e[i] // g
    if kf < 0:
        ke, kf = -ke, -kf
    new = [kf * b - ke * a for a, b in zip(e, f, strict=True)]
    content = math.gcd(*new)
    combo = f"{_times(kf, f_label)} {'minus' if ke > 0 else 'plus'} {_times(abs(ke), e_label)}"
    if content != 1:
        combo += f", divided by {content},"
    return [v // content for v in new], combo


def _solved(eq: Equation, i: int) -> str:
    """``$3y = 1$, so $y = 1/3$`` for an equation in variable ``i`` alone."""
    text = f"${_equation_latex(eq)}$"
    return text if eq[i] == 1 else f"{text}, so ${VARIABLES[i]} = {latex(Fraction(eq[-1], eq[i]))}$"


def _draw(config: LinearSystemConfig, rng: random.Random) -> tuple[list[list[int]], list[int]]:
    """Coefficients and right-hand sides with a planted solution ``y / q``: q = 1 for integer
    solutions, else q in 2..min(max_denominator, max_coef) with one ``y_j`` prime to q (so that
    entry is not an integer). In column j each row's coefficient is drawn from the residue class
    that makes ``row . y`` divisible by q, so every right-hand side is an integer."""
    n, m, s = config.num_vars, config.max_coef, config.max_solution
    q = 1 if config.max_denominator == 1 else rng.randint(2, min(config.max_denominator, m))
    j = rng.randrange(n)
    while True:
        y = [rng.randint(-s * q, s * q) for _ in range(n)]
        if math.gcd(y[j], q) == 1:
            break
    while True:
        coefs = []
        for _ in range(n):
            row = [rng.randint(1, m) * rng.choice((1, -1)) for _ in range(n)]
            partial = sum(a * v for i, (a, v) in enumerate(zip(row, y, strict=True)) if i != j)
            residue = -partial * pow(y[j], -1, q) % q if q > 1 else 0
            row[j] = rng.choice([v for v in range(-m, m + 1) if v and v % q == residue])
            coefs.append(row)
        if _det(coefs) != 0 and _det([row[:2] for row in coefs[:2]]) != 0:
            return coefs, [sum(a * v for a, v in zip(row, y, strict=True)) // q for row in coefs]


def _substitute(eq: Equation, i: int, known: dict[int, Fraction], label: str) -> tuple[Fraction, Step]:
    """Solve equation ``eq`` for variable ``i`` given the values in ``known``."""
    rest = eq[-1] - sum(eq[j] * v for j, v in known.items())
    value = Fraction(rest) / eq[i]
    names = " and ".join(f"${VARIABLES[j]} = {latex(v)}$" for j, v in sorted(known.items()))
    text = f"Substitute {names} into {label}: ${terms_latex([(eq[i], VARIABLES[i])])} = {latex(rest)}$"
    text += f", so ${VARIABLES[i]} = {latex(value)}$." if eq[i] != 1 else "."
    return value, Step(text, latex(value))


def build(config: LinearSystemConfig, rng: random.Random) -> Solution:
    coefs, rhs = _draw(config, rng)
    eqs = [row + [b] for row, b in zip(coefs, rhs, strict=True)]
    steps = []
    if config.num_vars == 2:
        e3, combo = _eliminate(eqs[0], eqs[1], 0, "(1)", "(2)")
        y = Fraction(e3[2], e3[1])
        steps.append(Step(f"Eliminate $x$: {combo} gives {_solved(e3, 1)}.", latex(y)))
        x, step = _substitute(eqs[0], 0, {1: y}, "(1)")
        steps.append(step)
        answer = (x, y)
    else:
        e4, combo4 = _eliminate(eqs[0], eqs[1], 0, "(1)", "(2)")
        steps.append(Step(f"Eliminate $x$: {combo4} gives (4) ${_equation_latex(e4)}$.", _equation_latex(e4)))
        e5, combo5 = _eliminate(eqs[0], eqs[2], 0, "(1)", "(3)")
        e6, combo6 = _eliminate(e4, e5, 1, "(4)", "(5)")
        z = Fraction(e6[3], e6[2])
        steps.append(
            Step(
                f"Eliminate $x$ again: {combo5} gives (5) ${_equation_latex(e5)}$. Eliminate $y$ with (4): "
                f"{combo6} gives {_solved(e6, 2)}.",
                latex(z),
            )
        )
        y, step = _substitute(e4, 1, {2: z}, "(4)")
        steps.append(step)
        x, step = _substitute(eqs[0], 0, {1: y, 2: z}, "(1)")
        steps.append(step)
        answer = (x, y, z)
    names = ", ".join(VARIABLES[: config.num_vars])
    steps.append(Step(f"The solution is $({names}) = {latex(answer)}$.", latex(answer)))
    lines = "\n".join(f"({i + 1}) ${_equation_latex(eq)}$" for i, eq in enumerate(eqs))
    question = (
        f"Solve the system of linear equations:\n{lines}\n"
        f"Give the solution as an ordered tuple $({names})$ of integers or fractions in lowest terms."
    )
    return Solution(question, answer, steps, {"coefficients": coefs, "rhs": rhs})


FAMILY = MathFamily("linear_system", LinearSystemConfig, LEVELS, build)
