"""Procedural math problem generators with exact answers and worked, step-by-step solutions.

Each sub-family (``fractions``, ``linear_equation``, ``linear_system``, ``polynomial_roots``,
``number_theory``, ``counting``, ``probability``, ``sequences``, ``coordinate_geometry``) has a
config dataclass of difficulty knobs, named levels 1..5 from easy to hard, and a seeded
``generate(config_or_params, seed) -> Problem``, as in reasoning-gym's per-task generators::

    from thinkgym.generators import math as gen
    problem = gen.generate("fractions", seed=0, level=3)
    problem.answer                     # "\\frac{19}{4}", canonical LaTeX
    problem.metadata["answer_exact"]   # "19/4", sympy-parsable
    problem.metadata["steps"]          # [{"text": ..., "result": ...}, ...]; the last result is the answer

Every problem has ``family="math"`` and ``params["family"]`` naming the sub-family; the same
family, knobs and seed give the same problem (id included) on every machine. Answers are
computed with ``int`` and ``Fraction`` only. The steps of a solution form a chain, the reference
traces for MR-RLVR's masked-step and step-order tasks (arXiv 2511.17473).
"""

from __future__ import annotations

from typing import Any

from thinkgym.core import Problem
from thinkgym.generators.math import (
    coordinate_geometry,
    counting,
    fraction_arithmetic,
    linear_equations,
    linear_systems,
    number_theory,
    polynomials,
    probability,
    sequences,
)
from thinkgym.generators.math.family import INSTRUCTION, MathFamily, Solution, Step

__all__ = ["FAMILIES", "INSTRUCTION", "MathFamily", "Solution", "Step", "generate", "list_families"]

FAMILIES: dict[str, MathFamily] = {
    module.FAMILY.name: module.FAMILY
    for module in (
        fraction_arithmetic,
        linear_equations,
        linear_systems,
        polynomials,
        number_theory,
        counting,
        probability,
        sequences,
        coordinate_geometry,
    )
}


def list_families() -> list[str]:
    """The sub-family names, sorted."""
    return sorted(FAMILIES)


def generate(family: str, seed: int, level: int | None = None, **knobs: Any) -> Problem:
    """One problem of ``family`` from a named ``level`` (its knobs are the base) and/or explicit
    knobs; with neither, the family's config defaults (its level 1)."""
    if family not in FAMILIES:
        raise ValueError(f"unknown math family {family!r}; valid: {list_families()}")
    return FAMILIES[family].generate({"level": level, **knobs}, seed)
