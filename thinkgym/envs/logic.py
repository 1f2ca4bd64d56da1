"""Logic-<Name>-v0 and Logic-Mix-v0: constraint puzzles with pysat-backed generators, exact verifiers
and difficulty measured by solver effort.

Source: SATURN (Liu et al., arXiv 2505.16368) for the idea that SAT gives controllable difficulty
and exact checking; the families follow reasoning-gym's and the reasoning-model literature's
puzzles. Generators: :mod:`thinkgym.generators.logic`; verifier: :mod:`thinkgym.verifiers.logic`;
guide: docs/logic.md.

Observation: the prompt (``str``): the rules, the answer format, one worked example and the puzzle.

Action: the model's full response (``str``). The answer is the last ``\\boxed{}`` after any
``</think>``, in the family's documented format (e.g. Sudoku ``1234/3412/2143/4321``).

Reward: 1 when the answer satisfies every rule of the puzzle (any such answer; the verifier checks
the constraints, not the stored answer), 0 for a wrong or malformed answer, -1 when no boxed answer
can be read, ``rewards["verifier_error"]`` (0) when the verifier cannot decide. Override with
``rewards={...}``.

Episode end: after one step (terminated=True). ``info["verdict"]`` says why.

Arguments: ``level`` (each family's numbered levels, ordered so that the median MiniSat effort
rises with the level) or the family's generator parameters (e.g. Sudoku ``size``, ``holes``);
Logic-Mix-v0 takes ``mixture`` (family -> weight; default all equally) and ``level`` (family level
``min(level, that family's top level)``); ``rewards``; ``max_text_length``; ``render_mode``.

``info["problem"]["metadata"]`` carries ``puzzle`` (the family), ``instance`` (what the verifier
checks against), ``solver`` (MiniSat 2.2 decisions, conflicts, propagations, effort, solutions up
to a cap of 10), ``unique`` and ``seed``. ``problem.difficulty`` is ``log2(1 + effort)``.

Version history: v0 — first release.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any, ClassVar

from thinkgym.core import Problem, Verdict
from thinkgym.envs.base import ReasoningEnv
from thinkgym.generators import logic as logic_gen
from thinkgym.verifiers import logic as logic_verifier

__all__ = [
    "LOGIC_ENVS",
    "LogicEnv",
    "LogicFutoshikiEnv",
    "LogicGraphColouringEnv",
    "LogicKnightsKnavesEnv",
    "LogicMixEnv",
    "LogicNQueensEnv",
    "LogicNonogramEnv",
    "LogicSkyscrapersEnv",
    "LogicSudokuEnv",
    "LogicZebraEnv",
    "check_mixture",
]


class LogicEnv(ReasoningEnv):
    """One puzzle family (``puzzle``); a subclass per family is registered as Logic-<Name>-v0."""

    family = "logic"
    puzzle: ClassVar[str] = ""

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return logic_gen.get(self.puzzle).validate(params)

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        return logic_gen.get(self.puzzle).generate(params, seed)

    def verify(self, response: str, problem: Problem) -> Verdict:
        return logic_verifier.verify(response, problem)


def _family_env(puzzle: str, class_name: str) -> type[LogicEnv]:
    """The env class of one family: ``LogicEnv`` with ``puzzle`` and that family's levels."""
    fam = logic_gen.get(puzzle)
    doc = f"{fam.title} (see the module docstring and docs/logic.md); levels {min(fam.levels)}..{max(fam.levels)}."
    namespace = {"puzzle": puzzle, "levels": fam.levels, "__doc__": doc, "__module__": __name__}
    return type(class_name, (LogicEnv,), namespace)


LogicSudokuEnv = _family_env("sudoku", "LogicSudokuEnv")
LogicGraphColouringEnv = _family_env("graph_colouring", "LogicGraphColouringEnv")
LogicNQueensEnv = _family_env("n_queens", "LogicNQueensEnv")
LogicFutoshikiEnv = _family_env("futoshiki", "LogicFutoshikiEnv")
LogicSkyscrapersEnv = _family_env("skyscrapers", "LogicSkyscrapersEnv")
LogicKnightsKnavesEnv = _family_env("knights_knaves", "LogicKnightsKnavesEnv")
LogicZebraEnv = _family_env("zebra", "LogicZebraEnv")
LogicNonogramEnv = _family_env("nonogram", "LogicNonogramEnv")

# env id -> class, in the order of docs/logic.md
LOGIC_ENVS: dict[str, type[LogicEnv]] = {
    "Logic-Sudoku-v0": LogicSudokuEnv,
    "Logic-GraphColouring-v0": LogicGraphColouringEnv,
    "Logic-NQueens-v0": LogicNQueensEnv,
    "Logic-Futoshiki-v0": LogicFutoshikiEnv,
    "Logic-Skyscrapers-v0": LogicSkyscrapersEnv,
    "Logic-KnightsKnaves-v0": LogicKnightsKnavesEnv,
    "Logic-Zebra-v0": LogicZebraEnv,
    "Logic-Nonogram-v0": LogicNonogramEnv,
}


def check_mixture(mixture: Mapping[str, float] | None) -> dict[str, float]:
    """Family weights (sorted by name, zero weights dropped); every family equally when None."""
    valid = sorted(logic_gen.FAMILIES)
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


MIX_LEVELS = max(len(p.levels) for p in logic_gen.FAMILIES.values())


class LogicMixEnv(ReasoningEnv):
    """Logic-Mix-v0: each episode's family is drawn from the reset seed with ``mixture`` weights."""

    family = "logic"
    levels = {n: {"level": n} for n in range(1, MIX_LEVELS + 1)}

    def __init__(self, *, mixture: Mapping[str, float] | None = None, **kwargs: Any) -> None:
        self.mixture = check_mixture(mixture)
        super().__init__(**kwargs)

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        if set(params) != {"level"} or params["level"] not in self.levels:
            raise ValueError(f"Logic-Mix-v0 takes only level (1..{MIX_LEVELS}), got {params!r}")
        return params

    def draw_family(self, seed: int) -> str:
        """The family of the episode with seed ``seed`` (a random stream of its own)."""
        names = list(self.mixture)
        return random.Random(f"logic-mixture:{seed}").choices(names, weights=list(self.mixture.values()))[0]

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        puzzle = logic_gen.get(self.draw_family(seed))
        return puzzle.generate(puzzle.levels[min(params["level"], max(puzzle.levels))], seed)

    def verify(self, response: str, problem: Problem) -> Verdict:
        return logic_verifier.verify(response, problem)
