"""Math-RLVR-v0: procedurally generated math problems with exact answers (outcome-only RLVR).

Sources: reinforcement learning with verifiable rewards as named by Tulu 3 (Lambert et al., arXiv
2411.15124) and used by DeepSeek-R1 (arXiv 2501.12948): a rule-based reward from an exact answer
check. The problems come from seeded per-family generators in the style of reasoning-gym
(:mod:`thinkgym.generators.math`).

Observation: the problem followed by "Please reason step by step, and put your final answer within
\\boxed{}." (``str``).

Action: the model's full response (``str``); the answer is the last ``\\boxed{}`` after the last
``</think>`` (:mod:`thinkgym.envs.math.common`).

Reward: 1 when :func:`thinkgym.verifiers.math.verify` judges the answer equivalent to the reference,
0 for a wrong answer, -1 when no answer can be read (or, with ``require_think=True``, when the
response has no ``</think>``). Change it with ``rewards={"correct": .., "wrong": .., "format_error": ..}``.

Episode end: after one step (terminated=True). ``info["verdict"]`` says why.

Arguments: ``family`` (one of :func:`thinkgym.generators.math.list_families`) or ``mixture`` (a
weighted mixture, e.g. ``{"fractions": 2, "counting": 1}``; the family of each episode is drawn
from the reset seed); neither means every family, equally weighted. ``level`` (1..5: each family's
own level of that number) or, with a single ``family``, that family's generator knobs (optionally
on top of ``level`` through ``reset(options={"params": {...}})``). ``require_think``; ``timeout``
(the verifier's SymPy deadline, s); ``rewards``; ``max_text_length``; ``render_mode``.

Seeding: ``reset(seed=s)`` gives ``thinkgym.generators.math.generate(family, s, level)``, with the
family drawn from ``s`` by a stream independent of the generator's, so a single-family env gives
exactly the generator's problem for the same seed.

``info["problem"]["metadata"]`` carries ``family`` (the sub-family), ``answer_exact`` (sympy-parsable),
``answer_kind`` (number, tuple or set), ``steps`` (the worked solution) and ``instance``.

Version history: v0 — first release.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

from thinkgym.core import Problem
from thinkgym.envs.math.common import MathEnv
from thinkgym.generators import math as math_gen

__all__ = ["LEVELS", "MathRLVREnv", "check_mixture"]

LEVELS = range(1, 6)


def check_mixture(family: str | None, mixture: Mapping[str, float] | None) -> dict[str, float]:
    """The family weights (sorted by name, zero weights dropped) from ``family=`` or ``mixture=``;
    all families, equally weighted, when neither is given."""
    valid = math_gen.list_families()
    if family is not None and mixture is not None:
        raise ValueError("give family= or mixture=, not both")
    if family is not None:
        if family not in valid:
            raise ValueError(f"family must be one of {valid}, got {family!r}")
        return {family: 1.0}
    if mixture is None:
        return dict.fromkeys(valid, 1.0)
    if not isinstance(mixture, Mapping) or not mixture:
        raise ValueError(f"mixture must be a non-empty dict family -> weight, families from {valid}; got {mixture!r}")
    unknown = sorted(set(mixture) - set(valid), key=str)
    if unknown:
        raise ValueError(f"mixture: unknown family(ies) {unknown}; valid: {valid}")
    for name, weight in mixture.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight < math.inf:
            raise ValueError(f"mixture weight of {name!r} must be a finite number >= 0, got {weight!r}")
    if not any(mixture.values()):
        raise ValueError(f"mixture needs at least one positive weight, got {dict(mixture)!r}")
    return {name: float(mixture[name]) for name in sorted(mixture) if mixture[name] > 0}


class MathRLVREnv(MathEnv):
    """Procedural math problems, one family or a weighted mixture (see the module docstring)."""

    family = "math"
    levels = {n: {"level": n} for n in LEVELS}
    default_level = 1

    def __init__(self, *, family: str | None = None, mixture: Mapping[str, float] | None = None, **kwargs: Any) -> None:
        self.mixture = check_mixture(family, mixture)
        super().__init__(**kwargs)

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        knobs = dict(params)
        level = knobs.pop("level", None)
        if level is not None and (isinstance(level, bool) or level not in LEVELS):
            raise ValueError(f"level must be one of 1..5, got {level!r}")
        if knobs:
            if len(self.mixture) != 1:
                raise ValueError(
                    f"generator knobs {sorted(knobs)} need a single family= (knobs differ between families); "
                    f"this env mixes {list(self.mixture)}"
                )
            math_gen.FAMILIES[next(iter(self.mixture))].config(level, **knobs)  # ValueError names a bad knob
        return {"level": level, **knobs}

    def draw_family(self, seed: int) -> str:
        """The sub-family of the episode with seed ``seed`` (its own random stream, by name)."""
        names = list(self.mixture)
        if len(names) == 1:
            return names[0]
        return random.Random(f"math-mixture:{seed}").choices(names, weights=list(self.mixture.values()))[0]

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        return math_gen.generate(self.draw_family(seed), seed, **params)
