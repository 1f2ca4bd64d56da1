"""``ReasoningEnv``: the single-turn text environment every task env derives from.

One episode is one problem: ``reset`` returns the prompt, ``step(response)`` scores the response
with the task's verifier and ends the episode. A subclass supplies four things:

* ``family`` and ``levels`` (named difficulty levels: level number -> generator parameters);
* ``check_params(params) -> params`` (validate and complete; ``ValueError`` naming the parameter
  and its valid range);
* ``generate(params, seed) -> Problem`` (deterministic in ``seed``);
* ``verify(response, problem) -> Verdict`` (never raises on any string).

Seeding contract (DESIGN.md): ``reset(seed=s)`` gives the same problem for the same ``s`` and
parameters on every machine, so the G samples of a GRPO group can share one instance. Without a
seed the next problem seed is drawn from the env's ``np_random``.

Isolation contract: the env keeps its own deep copy of the problem (a generated one, or one
replayed through ``options["problem"]``), and every ``info`` that ``reset`` and ``step`` return is a
fresh deep copy (:func:`fresh`): no two infos share a mutable object, and editing one never
changes the env's problem or any later verdict or reward.
"""

from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any, ClassVar

import gymnasium
from gymnasium.error import ResetNeeded

from thinkgym.core import Problem, Verdict
from thinkgym.spaces import MAX_TEXT_LENGTH, UnicodeText

__all__ = ["ReasoningEnv", "DEFAULT_REWARDS", "fresh", "own_problem"]

# SATURN's scheme (paper Sec. 2.4): 1 correct, 0 wrong, -1 when no answer can be read; a verdict
# the verifier could not reach (timeout, crashed checker) pays 0 and trainers drop it from the loss.
DEFAULT_REWARDS: dict[str, float] = {"correct": 1.0, "wrong": 0.0, "format_error": -1.0, "verifier_error": 0.0}


def fresh(data: Any) -> Any:
    """A deep copy of ``data``: what an env hands out in ``info``, so that no two infos share a
    mutable object and editing one never reaches the env's own state. A pickle round trip (several
    times faster than ``copy.deepcopy`` on the nested lists of clauses and table rows that problems
    carry); ``copy.deepcopy`` for anything that does not pickle."""
    try:
        return pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL))
    except (pickle.PicklingError, TypeError, AttributeError):
        return copy.deepcopy(data)


def own_problem(problem: Problem) -> Problem:
    """A copy of ``problem`` that shares no mutable object with it (its ``params`` and ``metadata``
    are deep copies): the env's own copy, which no caller holds."""
    return dataclasses.replace(problem, params=fresh(problem.params), metadata=fresh(problem.metadata))


class ReasoningEnv(gymnasium.Env[str, str]):
    """Base class of the single-turn reasoning environments.

    Args:
        level: a named difficulty level (see ``levels``); mutually exclusive with explicit
            generator parameters.
        rewards: override the reward scheme: keys ``correct``, ``wrong``, ``format_error``,
            ``verifier_error``.
        max_text_length: width of the observation and action :class:`UnicodeText` spaces.
        render_mode: ``"ansi"`` (``render()`` returns the text) or ``"human"`` (prints it).
        **params: generator parameters (task-specific).
    """

    metadata: ClassVar[dict[str, Any]] = {"render_modes": ["ansi", "human"], "render_fps": 4}
    family: ClassVar[str] = ""
    levels: ClassVar[dict[int, dict[str, Any]]] = {}
    default_level: ClassVar[int] = 1

    def __init__(
        self,
        *,
        level: int | None = None,
        rewards: dict[str, float] | None = None,
        max_text_length: int = MAX_TEXT_LENGTH,
        render_mode: str | None = None,
        **params: Any,
    ) -> None:
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {render_mode!r}")
        self.render_mode = render_mode
        self.rewards = dict(DEFAULT_REWARDS)
        if rewards is not None:
            unknown = set(rewards) - set(DEFAULT_REWARDS)
            if unknown:
                raise ValueError(f"rewards: unknown key(s) {sorted(unknown)}; valid: {sorted(DEFAULT_REWARDS)}")
            self.rewards.update({k: float(v) for k, v in rewards.items()})
        self.observation_space = UnicodeText(max_text_length)
        self.action_space = UnicodeText(max_text_length)
        self.level, self.params = self.resolve(level, params)
        self._problem: Problem | None = None  # the env's own copy until the step scores it; never handed out
        self._last_text = ""

    # -- what a task supplies -------------------------------------------------------------
    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """Validates and completes generator parameters; ``ValueError`` names the bad one."""
        raise NotImplementedError

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        raise NotImplementedError

    def verify(self, response: str, problem: Problem) -> Verdict:
        raise NotImplementedError

    # -- parameters and levels ------------------------------------------------------------
    def resolve(self, level: int | None, params: dict[str, Any]) -> tuple[int | None, dict[str, Any]]:
        """(level, full generator parameters) from a level number or explicit parameters."""
        if level is not None and params:
            raise ValueError(f"give either level= or generator parameters {sorted(params)}, not both")
        if level is None and not params:
            level = self.default_level
        if level is not None:
            if isinstance(level, bool) or not isinstance(level, int) or level not in self.levels:
                valid = f"{min(self.levels)}..{max(self.levels)}"
                raise ValueError(f"level must be one of {valid} for {type(self).__name__}, got {level!r}")
            params = dict(self.levels[level])
        return level, self.check_params(dict(params))

    # -- gymnasium API --------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        super().reset(seed=seed)
        options = dict(options or {})
        unknown = set(options) - {"level", "params", "problem"}
        if unknown:
            raise ValueError(f"reset options: unknown key(s) {sorted(unknown)}; valid: level, params, problem")
        if "problem" in options:
            problem = options["problem"]
            if isinstance(problem, dict):
                problem = Problem.from_dict(problem)
            if not isinstance(problem, Problem):
                raise TypeError(f"options['problem'] must be a Problem or its dict, got {type(problem).__name__}")
            if problem.family != self.family:
                raise ValueError(f"options['problem'] is of family {problem.family!r}; this env plays {self.family!r}")
            level = problem.params.get("level")
        else:
            if "level" in options or "params" in options:
                level, params = self.resolve(options.get("level"), dict(options.get("params") or {}))
            else:
                level, params = self.level, self.params
            problem_seed = seed if seed is not None else int(self.np_random.integers(0, 2**63 - 1))
            problem = self.generate(params, problem_seed)
        self._problem = problem = own_problem(problem)
        self._last_text = problem.prompt
        return problem.prompt, fresh({"problem": problem.to_dict(), "level": level})

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if not isinstance(action, str):
            raise TypeError(f"action must be a str (the model's response), got {type(action).__name__}")
        if self._problem is None:
            raise ResetNeeded("call reset() before step(), and again after an episode ends")
        problem = self._problem
        self._problem = None
        verdict = self.verify(action, problem)
        reward = self.reward(verdict)
        self._last_text = action
        if self.render_mode == "human":
            self.render()
        return "", reward, True, False, fresh({"problem": problem.to_dict(), "verdict": verdict.to_dict()})

    def reward(self, verdict: Verdict) -> float:
        """The reward scheme: ``correct`` / ``wrong`` / ``format_error`` (SATURN: 1 / 0 / -1), and
        ``verifier_error`` (default 0) when the verifier could not decide."""
        if verdict.verifier_error:
            return self.rewards["verifier_error"]
        if verdict.correct:
            return self.rewards["correct"]
        return self.rewards["wrong"] if verdict.format_ok else self.rewards["format_error"]

    def render(self) -> str | None:
        if self.render_mode == "ansi":
            return self._last_text
        if self.render_mode == "human":
            print(self._last_text)
        return None

    @property
    def problem(self) -> Problem | None:
        """A copy of the problem of the episode in progress (None before reset and after the step);
        editing it changes nothing."""
        return None if self._problem is None else own_problem(self._problem)
