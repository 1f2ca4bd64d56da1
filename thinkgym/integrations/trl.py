"""TRL adapters: the single-turn reward function and a multi-turn ``environment_factory``.

Single turn: :func:`trl_reward_func` (from :mod:`thinkgym.rewards.trl`, re-exported here) turns an
env into a reward function in TRL's calling convention.

Multi-turn with tools: a TRL ``environment_factory`` for thinkgym tasks, a Python tool (thinkgym's
sandbox) and an answer tool judged by the task's verifier, for TRL's multi-turn ``GRPOTrainer``.

TRL (``GRPOTrainer(environment_factory=...)``, experimental in TRL 1.x) creates one instance per
rollout, calls ``reset(**row)`` with the dataset row, exposes every public method as a tool (its
docstring is the tool's schema), and, when the class has ``get_reward()``, uses it as a reward
source. Here ``reset`` replays the row's ``problem`` (``thinkgym export --format hf`` writes that
column) in the thinkgym env; ``run_python`` runs code in a :class:`~thinkgym.sandbox.PythonSandbox`
whose variables persist across calls (CoRT's setting); ``submit_answer`` scores an answer with
the env's verifier, and ``get_reward`` returns the env's reward for the last submitted answer (the
env's format-error reward when none was submitted).

    from thinkgym.integrations.trl import tool_environment_factory
    trainer = GRPOTrainer(model=..., train_dataset=load_from_disk("data/train"),
                          environment_factory=tool_environment_factory("Saturn-SAT-v0"), ...)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import gymnasium

from thinkgym.rewards.trl import completion_text, trl_reward_func

__all__ = ["ThinkgymToolEnv", "completion_text", "tool_environment_factory", "trl_reward_func"]


class ThinkgymToolEnv:
    """One rollout's environment (see the module docstring). ``sandbox_options`` go to
    :class:`~thinkgym.sandbox.PythonSandbox`; ``output_chars`` caps each tool answer (head and tail
    kept, as CoRT's 400 + 400)."""

    def __init__(
        self,
        env_id: str = "Saturn-SAT-v0",
        *,
        sandbox_options: dict[str, Any] | None = None,
        output_chars: int = 800,
        **env_kwargs: Any,
    ) -> None:
        import thinkgym  # noqa: F401  (registers the envs in a fresh worker)

        self._env = gymnasium.make(env_id, **env_kwargs)
        self._sandbox_options = {"timeout": 5.0, **(sandbox_options or {})}
        self._output_chars = output_chars
        self._sandbox: Any = None
        self._problem: dict[str, Any] | None = None
        self._reward: float | None = None

    def reset(self, **row: Any) -> str | None:
        """Starts a rollout on ``row["problem"]`` (a Problem dict or its JSON)."""
        problem = row.get("problem")
        if problem is None:
            raise ValueError("the dataset needs a 'problem' column (thinkgym export --format hf writes it)")
        self._problem = json.loads(problem) if isinstance(problem, str) else problem
        self._env.reset(options={"problem": self._problem})
        self._reward = None
        self._close_sandbox()
        return None

    def run_python(self, code: str) -> str:
        """Run Python code in a sandbox. Variables persist between calls; print what you want to see.

        Args:
            code: The Python source code to run.

        Returns:
            What the code printed, and the error if it failed.
        """
        from thinkgym.envs.code_interpreter import format_output
        from thinkgym.sandbox import PythonSandbox

        if self._sandbox is None:
            self._sandbox = PythonSandbox(**self._sandbox_options)
        half = self._output_chars // 2
        return format_output(self._sandbox.run(code), half, self._output_chars - half) or "(no output)"

    def submit_answer(self, answer: str) -> str:
        """Submit the final answer to the problem. The last submission counts.

        Args:
            answer: The final answer only, for example the assignment string of a SAT problem.

        Returns:
            Whether the answer was accepted.
        """
        if self._problem is None:
            raise RuntimeError("reset() must come before submit_answer()")
        self._env.reset(options={"problem": self._problem})
        _, reward, _, _, info = self._env.step(f"\\boxed{{{answer}}}")
        self._reward = float(reward)
        verdict = info["verdict"]
        return "accepted: correct" if verdict["correct"] else f"not correct ({verdict['reason']})"

    def get_reward(self) -> float:
        """The env's reward for the last submitted answer (its format-error reward if none)."""
        self._close_sandbox()
        if self._reward is None:
            return float(self._env.unwrapped.rewards["format_error"])
        return self._reward

    def _close_sandbox(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None


def tool_environment_factory(env_id: str = "Saturn-SAT-v0", **kwargs: Any) -> Callable[[], ThinkgymToolEnv]:
    """A zero-argument factory, as TRL's ``environment_factory`` expects."""

    def factory() -> ThinkgymToolEnv:
        return ThinkgymToolEnv(env_id, **kwargs)

    return factory
