"""Family ``coordinate_geometry``: distances, midpoints, slopes, intercepts and polygon areas from
integer points.

Kinds: ``distance_squared``, ``distance`` (simplest radical form, e.g. ``5\\sqrt{2}``),
``midpoint`` (an ordered pair), ``slope``, ``line_intercept`` (the y-intercept of the line through
two points) and ``area`` (a convex polygon with 3..``max_vertices`` vertices, listed in order, by
the shoelace formula; each step adds one edge's cross term to a running sum).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from fractions import Fraction

from thinkgym.generators.math.family import MathFamily, Solution, Step, check_int, check_kinds
from thinkgym.generators.math.latex import latex, sqrt_exact

__all__ = ["FAMILY", "KINDS", "LEVELS", "CoordinateGeometryConfig"]

KINDS = ("distance_squared", "midpoint", "slope", "distance", "line_intercept", "area")
_RANK = dict(zip(KINDS, (1, 1, 1, 2, 2, 2), strict=True))
LABELS = "ABCDEFGH"

Point = tuple[int, int]


@dataclass(frozen=True)
class CoordinateGeometryConfig:
    """Knobs: ``kinds`` (a list from :data:`KINDS`; each problem draws one), ``max_coord``
    (coordinates in ``-max_coord..max_coord``, 3..100) and ``max_vertices`` (3..8, for ``area``)."""

    kinds: tuple[str, ...] = ("distance_squared", "midpoint", "slope")
    max_coord: int = 6
    max_vertices: int = 3

    def __post_init__(self) -> None:
        object.__setattr__(self, "kinds", check_kinds("kinds", self.kinds, KINDS))
        check_int("max_coord", self.max_coord, 3, 100)
        check_int("max_vertices", self.max_vertices, 3, 8)

    @property
    def difficulty(self) -> float:
        """The mean kind rank plus log2 of the coordinate range, plus one per polygon vertex
        beyond three when ``area`` is drawn."""
        rank = sum(_RANK[k] for k in self.kinds) / len(self.kinds)
        vertices = self.max_vertices - 3 if "area" in self.kinds else 0
        return round(rank + math.log2(self.max_coord) + vertices, 3)


LEVELS = {
    1: {"kinds": ["distance_squared", "midpoint", "slope"], "max_coord": 6, "max_vertices": 3},
    2: {"kinds": ["distance_squared", "midpoint", "slope", "distance", "area"], "max_coord": 8, "max_vertices": 3},
    3: {"kinds": ["slope", "distance", "line_intercept", "area"], "max_coord": 10, "max_vertices": 4},
    4: {"kinds": ["distance", "line_intercept", "area"], "max_coord": 15, "max_vertices": 5},
    5: {"kinds": ["distance", "line_intercept", "area"], "max_coord": 25, "max_vertices": 6},
}


def _point(rng: random.Random, m: int) -> Point:
    return rng.randint(-m, m), rng.randint(-m, m)


def _two_points(rng: random.Random, m: int, vertical_ok: bool) -> tuple[Point, Point]:
    while True:
        p, q = _point(rng, m), _point(rng, m)
        if p != q and (vertical_ok or p[0] != q[0]):
            return p, q


def _pt(p: tuple) -> str:
    return f"({latex(p[0])}, {latex(p[1])})"


def _p(v: int) -> str:
    return f"({v})" if v < 0 else str(v)


def _squares(p: Point, q: Point) -> tuple[int, list[Step]]:
    dx, dy = q[0] - p[0], q[1] - p[1]
    total = dx * dx + dy * dy
    return total, [
        Step(f"$(x_2 - x_1)^2 = ({q[0]} - {_p(p[0])})^2 = {_p(dx)}^2 = {dx * dx}$.", str(dx * dx)),
        Step(
            f"$(y_2 - y_1)^2 = ({q[1]} - {_p(p[1])})^2 = {dy * dy}$, and ${dx * dx} + {dy * dy} = {total}$.", str(total)
        ),
    ]


def _distance_squared(config: CoordinateGeometryConfig, rng: random.Random) -> Solution:
    p, q = _two_points(rng, config.max_coord, vertical_ok=True)
    total, steps = _squares(p, q)
    question = f"Find the square of the distance between the points $P{_pt(p)}$ and $Q{_pt(q)}$."
    return Solution(question, total, steps, {"kind": "distance_squared", "p": list(p), "q": list(q)})


def _distance(config: CoordinateGeometryConfig, rng: random.Random) -> Solution:
    p, q = _two_points(rng, config.max_coord, vertical_ok=True)
    total, steps = _squares(p, q)
    d = sqrt_exact(total)
    steps.append(Step(f"$PQ = \\sqrt{{{total}}} = {latex(d)}$.", latex(d)))
    question = (
        f"Find the distance between the points $P{_pt(p)}$ and $Q{_pt(q)}$, in simplest radical form "
        f"if it is not an integer."
    )
    return Solution(question, d, steps, {"kind": "distance", "p": list(p), "q": list(q)})


def _midpoint(config: CoordinateGeometryConfig, rng: random.Random) -> Solution:
    p, q = _two_points(rng, config.max_coord, vertical_ok=True)
    mx, my = Fraction(p[0] + q[0], 2), Fraction(p[1] + q[1], 2)
    steps = [
        Step(f"$x = \\frac{{{p[0]} + {_p(q[0])}}}{{2}} = {latex(mx)}$.", latex(mx)),
        Step(
            f"$y = \\frac{{{p[1]} + {_p(q[1])}}}{{2}} = {latex(my)}$, so the midpoint is ${_pt((mx, my))}$.",
            latex((mx, my)),
        ),
    ]
    question = f"Find the midpoint of the segment from $P{_pt(p)}$ to $Q{_pt(q)}$, as an ordered pair $(x, y)$."
    return Solution(question, (mx, my), steps, {"kind": "midpoint", "p": list(p), "q": list(q)})


def _slope_steps(p: Point, q: Point) -> tuple[Fraction, list[Step]]:
    dy, dx = q[1] - p[1], q[0] - p[0]
    slope = Fraction(dy, dx)
    return slope, [
        Step(f"$\\Delta y = {q[1]} - {_p(p[1])} = {dy}$.", str(dy)),
        Step(
            f"$\\Delta x = {q[0]} - {_p(p[0])} = {dx}$, so the slope is $\\frac{{{dy}}}{{{dx}}} = {latex(slope)}$.",
            latex(slope),
        ),
    ]


def _slope(config: CoordinateGeometryConfig, rng: random.Random) -> Solution:
    p, q = _two_points(rng, config.max_coord, vertical_ok=False)
    slope, steps = _slope_steps(p, q)
    question = f"Find the slope of the line through $P{_pt(p)}$ and $Q{_pt(q)}$."
    return Solution(question, slope, steps, {"kind": "slope", "p": list(p), "q": list(q)})


def _line_intercept(config: CoordinateGeometryConfig, rng: random.Random) -> Solution:
    p, q = _two_points(rng, config.max_coord, vertical_ok=False)
    slope, steps = _slope_steps(p, q)
    intercept = p[1] - slope * p[0]
    steps.append(
        Step(
            f"The line is $y = {latex(slope)}x + b$ with ${p[1]} = {latex(slope)} \\cdot {_p(p[0])} + b$, "
            f"so $b = {latex(intercept)}$.",
            latex(intercept),
        )
    )
    question = f"Find the $y$-intercept of the line through $P{_pt(p)}$ and $Q{_pt(q)}$."
    return Solution(question, intercept, steps, {"kind": "line_intercept", "p": list(p), "q": list(q)})


def _cross(o: Point, a: Point, b: Point) -> int:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def _hull(points: list[Point]) -> list[Point]:
    """Vertices of the convex hull, counter-clockwise, no three collinear (monotone chain)."""
    pts = sorted(set(points))
    lower: list[Point] = []
    upper: list[Point] = []
    for chain, seq in ((lower, pts), (upper, reversed(pts))):
        for p in seq:
            while len(chain) >= 2 and _cross(chain[-2], chain[-1], p) <= 0:
                chain.pop()
            chain.append(p)
    return lower[:-1] + upper[:-1]


def _polygon(rng: random.Random, n: int, m: int) -> list[Point]:
    """n vertices of a convex polygon in order (a subset of a random hull keeps convexity), from a
    random start, in a random direction."""
    while True:
        hull = _hull([_point(rng, m) for _ in range(4 * n)])
        if len(hull) >= n:
            break
    chosen = [hull[i] for i in sorted(rng.sample(range(len(hull)), n))]
    if rng.random() < 0.5:
        chosen.reverse()
    start = rng.randrange(n)
    return chosen[start:] + chosen[:start]


def _area(config: CoordinateGeometryConfig, rng: random.Random) -> Solution:
    n = rng.randint(3, config.max_vertices)
    vertices = _polygon(rng, n, config.max_coord)
    steps, total = [], 0
    for i, (a, b) in enumerate(zip(vertices, vertices[1:] + vertices[:1], strict=True)):
        term = a[0] * b[1] - b[0] * a[1]
        total += term
        edge = f"{LABELS[i]}{LABELS[(i + 1) % n]}"
        steps.append(
            Step(
                f"Edge ${edge}$: $x_{{{LABELS[i]}}} y_{{{LABELS[(i + 1) % n]}}} - x_{{{LABELS[(i + 1) % n]}}} "
                f"y_{{{LABELS[i]}}} = {a[0]} \\cdot {_p(b[1])} - {_p(b[0])} \\cdot {_p(a[1])} = {term}$; "
                f"running sum ${total}$.",
                str(total),
            )
        )
    area = Fraction(abs(total), 2)
    steps.append(Step(f"By the shoelace formula the area is $\\frac{{|{total}|}}{{2}} = {latex(area)}$.", latex(area)))
    shown = ", ".join(f"{LABELS[i]}{_pt(v)}" for i, v in enumerate(vertices))
    name = "triangle" if n == 3 else "convex polygon"
    question = f"Find the area of the {name} with vertices, in order, ${shown}$."
    return Solution(question, area, steps, {"kind": "area", "vertices": [list(v) for v in vertices]})


_BUILDERS = {
    "distance_squared": _distance_squared,
    "distance": _distance,
    "midpoint": _midpoint,
    "slope": _slope,
    "line_intercept": _line_intercept,
    "area": _area,
}


def build(config: CoordinateGeometryConfig, rng: random.Random) -> Solution:
    return _BUILDERS[rng.choice(config.kinds)](config, rng)


FAMILY = MathFamily("coordinate_geometry", CoordinateGeometryConfig, LEVELS, build)
