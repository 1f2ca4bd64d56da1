"""What every math env shares: :class:`MathEnv`, the thinking-format rule and the answer check.

Where the answer is read (:mod:`thinkgym.verifiers.extract`): the content of the last top-level
``\\boxed{}`` (or ``\\fbox{}``) after the last ``</think>``. A response that opens ``<think>`` and
never closes it has no answer (``unfinished_thinking``), and boxes inside a thinking block never
count. Without any box the math verifier falls back to the text after a final "the answer is".

``require_think=True`` adds a format gate: a response without ``</think>`` is a format error with
reason ``no_think`` (reward ``format_error``), as 1-shot RLVR (Wang et al., arXiv 2504.20571)
requires for DeepSeek-R1-Distill models. Only the closing tag is required in the response: the
opening ``<think>`` is usually in the prompt (R1-style chat templates, the
:class:`~thinkgym.envs.thinking.ThinkingMode` prefills). An empty block (``<think>\\n</think>``,
NoThinking) is a closed block.
"""

from __future__ import annotations

from typing import Any

from thinkgym.core import Problem, Verdict
from thinkgym.envs.base import ReasoningEnv
from thinkgym.verifiers import math as math_verifier
from thinkgym.verifiers.extract import THINK_CLOSE

__all__ = ["MathEnv"]


class MathEnv(ReasoningEnv):
    """Base of the math envs: the ``require_think`` gate, then :meth:`judge` (by default the math
    verifier against ``problem.answer``).

    Args:
        require_think: a response without ``</think>`` is a format error (reason ``no_think``).
        timeout: seconds the math verifier's SymPy stage may take per response (then ``timeout``).
        **kwargs: :class:`~thinkgym.envs.base.ReasoningEnv` arguments and generator parameters.
    """

    def __init__(self, *, require_think: bool = False, timeout: float = 5.0, **kwargs: Any) -> None:
        if not isinstance(require_think, bool):
            raise ValueError(f"require_think must be True or False, got {require_think!r}")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not 0 < timeout < float("inf"):
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        self.require_think = require_think
        self.timeout = float(timeout)
        super().__init__(**kwargs)

    def verify(self, response: str, problem: Problem) -> Verdict:
        if self.require_think and THINK_CLOSE not in response:
            return Verdict(False, False, 0.0, "no_think", {"rule": "the response must close a <think> block"})
        return self.judge(response, problem)

    def judge(self, response: str, problem: Problem) -> Verdict:
        """The verdict once the format gate has passed: numbers are exact unless
        ``problem.metadata["tolerance"]`` gives a tolerance (``{"abs": x}`` / ``{"rel": x}``), and
        ``problem.metadata["positive_variables"]`` says the variables are positive."""
        metadata = problem.metadata
        return math_verifier.verify(
            response,
            problem.answer,
            timeout=self.timeout,
            tolerance=metadata.get("tolerance"),
            positive=bool(metadata.get("positive_variables", False)),
        )
