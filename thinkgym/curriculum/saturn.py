"""SATURN's curriculum controller, for any thinkgym env with named levels.

SATURN (arXiv 2505.16368, Secs. 2.1 and 3.2) alternates two loops: (1) build a fresh validation
set at the current difficulty and measure pass@1; if pass@1 > epsilon, move to a harder level;
(2) otherwise train on new instances at the same level, re-measuring pass@1 on the validation set
every 250 training samples, until it exceeds epsilon. epsilon = 0.5 for the 1.5B model (0.75 for
7B); the paper stops after a preset number of level changes (2). The paper does not say how the
next level is chosen; here it is the next level in the given order (thinkgym's SAT levels are
ordered by SATURN's D).

Validation problems come from seeds in a reserved range that ``reset()`` without a seed never
draws (``>= 2**63``), and their ids are kept so a trainer can skip any training problem that
happens to coincide (``is_held_out``), keeping training instances disjoint from validation.

Usage::

    cur = SaturnCurriculum(levels=[1, 2, 3], epsilon=0.5, eval_every=250, validation_size=64)
    env = gymnasium.make("Saturn-SAT-v0")
    ...
    if cur.record(num_new_samples):            # an evaluation is due
        cur.update(cur.evaluate(env, policy))  # moves up when pass@1 > epsilon
    prompt, info = env.reset(options={"level": cur.level})
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["SaturnCurriculum", "VALIDATION_SEED_BASE"]

VALIDATION_SEED_BASE = 2**63


class SaturnCurriculum:
    """Validation-gated level-up controller (SATURN's Curriculum Estimation Loop).

    Args:
        levels: the level sequence to climb, easiest first.
        epsilon: move up when validation pass@1 is strictly above this (paper: 0.5 / 0.75).
        eval_every: training samples between validation runs (paper: 250).
        validation_size: problems per validation set.
        max_level_changes: stop climbing after this many moves (paper: 2); None = climb to the end.
        seed: base of the validation seeds (different bases give different validation sets).
    """

    def __init__(
        self,
        levels: Sequence[int],
        *,
        epsilon: float = 0.5,
        eval_every: int = 250,
        validation_size: int = 100,
        max_level_changes: int | None = None,
        seed: int = 0,
    ) -> None:
        if not levels:
            raise ValueError("levels must name at least one level")
        if not 0.0 <= epsilon < 1.0:
            raise ValueError(f"epsilon must be in [0, 1), got {epsilon}")
        if eval_every < 1:
            raise ValueError(f"eval_every must be >= 1 training samples, got {eval_every}")
        if validation_size < 1:
            raise ValueError(f"validation_size must be >= 1, got {validation_size}")
        if max_level_changes is not None and max_level_changes < 0:
            raise ValueError(f"max_level_changes must be >= 0 or None, got {max_level_changes}")
        self.levels = list(levels)
        self.epsilon = epsilon
        self.eval_every = eval_every
        self.validation_size = validation_size
        self.max_level_changes = max_level_changes
        self.seed = seed
        self.index = 0
        self.samples_since_eval = 0
        self.history: list[dict[str, Any]] = []
        self.held_out_ids: set[str] = set()

    @property
    def level(self) -> int:
        return self.levels[self.index]

    @property
    def level_changes(self) -> int:
        return self.index

    @property
    def done(self) -> bool:
        """No further move is possible: last level reached or max_level_changes used up."""
        at_top = self.index == len(self.levels) - 1
        return at_top or (self.max_level_changes is not None and self.index >= self.max_level_changes)

    def validation_seeds(self) -> list[int]:
        """Seeds of the current level's validation set (a reserved range; fixed per level)."""
        base = VALIDATION_SEED_BASE + (self.seed * 1009 + self.index) * 1_000_003
        return [base + i for i in range(self.validation_size)]

    def record(self, num_samples: int) -> bool:
        """Counts trained samples; True when a validation run is due (every ``eval_every``)."""
        if num_samples < 0:
            raise ValueError(f"num_samples must be >= 0, got {num_samples}")
        self.samples_since_eval += num_samples
        return self.samples_since_eval >= self.eval_every

    def update(self, pass_at_1: float) -> bool:
        """Feeds a validation pass@1; moves to the next level when it exceeds epsilon.
        Returns True when the level changed."""
        if not 0.0 <= pass_at_1 <= 1.0:
            raise ValueError(f"pass_at_1 must be in [0, 1], got {pass_at_1}")
        self.samples_since_eval = 0
        moved = pass_at_1 > self.epsilon and not self.done
        self.history.append({"level": self.level, "pass@1": pass_at_1, "moved": moved})
        if moved:
            self.index += 1
        return moved

    def evaluate(self, env: Any, policy: Callable[[str, dict[str, Any]], str]) -> float:
        """pass@1 of ``policy`` (``(observation, info) -> response``) on the current level's
        validation set, played through ``env`` (any thinkgym env with levels)."""
        correct = 0
        for seed in self.validation_seeds():
            obs, info = env.reset(seed=seed, options={"level": self.level})
            self.held_out_ids.add(info["problem"]["id"])
            _, _, _, _, info = env.step(policy(obs, info))
            correct += bool(info["verdict"]["correct"])
        return correct / self.validation_size

    def is_held_out(self, problem_id: str) -> bool:
        """True for a problem that is in a validation set: train on it and validation leaks."""
        return problem_id in self.held_out_ids

    def state_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "samples_since_eval": self.samples_since_eval,
            "history": list(self.history),
            "held_out_ids": sorted(self.held_out_ids),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.index = int(state["index"])
        self.samples_since_eval = int(state["samples_since_eval"])
        self.history = list(state["history"])
        self.held_out_ids = set(state["held_out_ids"])
