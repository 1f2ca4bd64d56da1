"""What every math family shares: the worked-solution types, knob validation, and
:class:`MathFamily`, which turns a family's config class, named levels and builder into a seeded
``generate(config_or_params, seed) -> Problem``.

A builder takes a validated config and a ``random.Random`` and returns a :class:`Solution`: the
question, the exact answer, the worked steps and the instance data (JSON-serialisable numbers that
fully determine the question; the problem id hashes them, so re-wording a prompt keeps its id).

Each step's ``result`` is the LaTeX of the value the step computes, and the last step's result is
the answer. Steps form a chain (each one uses a result of the one before), so masked steps can be
judged by their result and shuffled steps have one correct order (MR-RLVR, arXiv 2511.17473).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from thinkgym.core import Problem, stable_id
from thinkgym.generators.math.latex import Answer, exact_str, latex

__all__ = ["INSTRUCTION", "MathFamily", "Solution", "Step", "check_bool", "check_int", "check_kinds"]

INSTRUCTION = "Please reason step by step, and put your final answer within \\boxed{}."


@dataclass(frozen=True)
class Step:
    """One step of a worked solution: what is done, and the LaTeX of the value it yields."""

    text: str
    result: str

    def to_dict(self) -> dict[str, str]:
        return {"text": self.text, "result": self.result}


@dataclass(frozen=True)
class Solution:
    """A builder's output: one instance, its exact answer and the steps that reach it."""

    question: str
    answer: Answer
    steps: list[Step]
    instance: dict[str, Any]


def check_int(name: str, value: Any, lo: int, hi: int) -> None:
    """``ValueError`` unless ``value`` is an int (not a bool) in ``lo..hi``."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, got {value!r}")


def check_bool(name: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise ValueError(f"{name} must be True or False, got {value!r}")


def check_kinds(name: str, value: Any, valid: tuple[str, ...]) -> tuple[str, ...]:
    """A non-empty sequence of distinct names from ``valid``, as a tuple."""
    if isinstance(value, str) or not isinstance(value, (list, tuple)):
        raise ValueError(f"{name} must be a list of names from {list(valid)}, got {value!r}")
    if not value or len(set(value)) != len(value) or not set(value) <= set(valid):
        raise ValueError(f"{name} must be a non-empty list of distinct names from {list(valid)}, got {list(value)!r}")
    return tuple(value)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


class MathFamily:
    """One math sub-family: its knobs (``config_cls``, a frozen dataclass whose ``__post_init__``
    validates and whose ``difficulty`` property rises with level), named ``levels`` (level ->
    knobs, easy to hard) and ``build(config, rng) -> Solution``."""

    def __init__(
        self,
        name: str,
        config_cls: type,
        levels: dict[int, dict[str, Any]],
        build: Callable[[Any, random.Random], Solution],
    ) -> None:
        self.name = name
        self.config_cls = config_cls
        self.levels = levels
        self.build = build
        self.knobs = tuple(f.name for f in dataclasses.fields(config_cls))
        for knobs in levels.values():
            config_cls(**knobs)

    def __repr__(self) -> str:
        return f"MathFamily({self.name!r}, levels={min(self.levels)}..{max(self.levels)})"

    def config(self, level: int | None = None, **knobs: Any) -> Any:
        """A validated config: the level's knobs (the config defaults without one) with
        ``knobs`` on top."""
        if level is not None and (isinstance(level, bool) or level not in self.levels):
            raise ValueError(
                f"level must be one of {min(self.levels)}..{max(self.levels)} for {self.name}, got {level!r}"
            )
        unknown = set(knobs) - set(self.knobs)
        if unknown:
            raise ValueError(f"unknown {self.name} knob(s) {sorted(unknown)}; valid: {list(self.knobs)}")
        base = self.levels[level] if level is not None else {}
        return self.config_cls(**{**base, **knobs})

    def generate(self, config_or_params: Any, seed: int) -> Problem:
        """One problem, the same for the same config (or params) and seed on every machine.

        ``config_or_params`` is a config instance or a params dict: knobs, optionally ``level``
        (its knobs are the base) and ``family`` (must be this family's name), so a problem's own
        ``params`` regenerate it.
        """
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise TypeError(f"seed must be an int, got {type(seed).__name__}")
        if seed < 0:  # random.Random(-s) is random.Random(s): two seeds, one problem
            raise ValueError(f"seed must be a non-negative int, got {seed}")
        level = None
        if isinstance(config_or_params, self.config_cls):
            config = config_or_params
        elif isinstance(config_or_params, Mapping):
            knobs = dict(config_or_params)
            family = knobs.pop("family", self.name)
            if family != self.name:
                raise ValueError(f"params are for family {family!r}, this generator is {self.name!r}")
            level = knobs.pop("level", None)
            config = self.config(level, **knobs)
        else:
            raise TypeError(
                f"expected a {self.config_cls.__name__} or a params dict, got {type(config_or_params).__name__}"
            )
        solution = self.build(config, random.Random(seed))
        params = {"family": self.name, "level": level}
        params.update((k, _jsonable(getattr(config, k))) for k in self.knobs)
        return Problem(
            id=stable_id("math", {"family": self.name, "instance": solution.instance}),
            prompt=f"{solution.question}\n\n{INSTRUCTION}",
            answer=latex(solution.answer),
            params=params,
            difficulty=config.difficulty,
            family="math",
            metadata={
                "family": self.name,
                "answer_exact": exact_str(solution.answer),
                "answer_kind": _kind(solution.answer),
                "steps": [step.to_dict() for step in solution.steps],
                "instance": solution.instance,
            },
        )


def _kind(answer: Answer) -> str:
    if isinstance(answer, tuple):
        return "tuple"
    if isinstance(answer, frozenset):
        return "set"
    return "number"
