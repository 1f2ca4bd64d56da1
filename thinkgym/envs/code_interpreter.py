"""CodeInterpreter: multi-turn Python tool use, CoRT-style, around any single-turn task env.

Source: Li et al., "CoRT: Code-integrated Reasoning within Thinking", arXiv 2506.09820; code
ChengpengLi1003/CoRT (``vllm_rollout_with_executor``, ``math_reward_hybrid.py``). Notes in
shared/reference/mechanics.md §3. The code runs in a :class:`thinkgym.sandbox.PythonSandbox`
(one per episode, variables persist across its cells).

Observation: after ``reset``, the task prompt followed by CoRT's instruction (and the optional
``"start"`` hint as a prefill, also in ``info["prefill"]``). After each non-final step, only
the text the environment appends to the transcript: ```` ```output\\n<result>\\n```\\n ```` after
a code call (the result keeps the first ``output_head`` and last ``output_tail`` characters),
``""`` after a stop with nothing to run.

Action: the model's next segment, generated until one of ``info["stop"]`` (```` ```\\n ````,
the end of a code fence) and *including* it. A segment whose last fenced block is a
```` ```python ```` block with nothing but whitespace after it is a tool call: that block runs
(a block left unclosed, as when a sampler strips the stop string, runs too, and the closing
fence is written for it). A segment that stops at another fence, or at an empty python block,
continues the episode without output. Anything else is the final segment.

Episode end: the final segment ends the episode (terminated=True). The wrapped env's verifier
judges the model's own text, all segments joined (never the environment's outputs, so code
cannot print a boxed answer for the model). After ``max_tool_calls`` stops the code budget is
spent: the output of the last call carries CoRT's warning, ``info["stop"]`` becomes ``[]``, and
the next segment is final.

Reward (default, CoRT paper Eq. 3): ``R = R_a + ω·R_c``, ``R_a`` = 1 when the verdict is
correct else 0, ``R_c`` = −1 when every executed cell failed (raised, timed out, crashed or
printed nothing), ω = 0.1. As in CoRT's code, an episode without any cell counts as "all
failed" (``all([])``). Pass ``reward_fn(verdict, cells) -> float`` to change it, e.g.
``lambda v, cells: float(v.correct)``. A verdict the verifier could not reach (``verifier_error``)
pays the wrapped env's ``rewards["verifier_error"]`` instead, whatever ``reward_fn`` says.

Info, every step: ``problem`` (as the wrapped env's), ``stop`` (stop strings for the next segment), ``tool_calls`` and
``tool_calls_left``, ``turn`` (``"tool_call"``, ``"continue"`` or ``"final"``), ``env_text``
(what the environment wrote this turn: mask it out of the loss, CoRT §3.4) and ``segments``
(the transcript after the prompt as ``{"source": "model"|"env", "text"}`` items, for masking a
whole response). Every info is a fresh copy: editing one (its ``segments`` included) changes
neither the transcript the verifier judges nor the reward. ``cell`` after a tool call (the
:class:`ExecResult` as a dict). At the end,
the wrapped env's ``verdict`` and ``problem``, and ``all_cells_failed``.

Arguments: ``max_tool_calls`` (15, CoRT's inference setting), ``output_head`` / ``output_tail``
(400 / 400), ``instruction`` (CoRT's; ``None`` leaves the prompt as is), ``hints``
(Hint-Engineering, paper Sec. 2.2: ``{"start": text}`` is a prefill after the prompt,
``{"after_output": text}`` follows every output; :data:`HINT_ENGINEERING` holds CoRT's two),
``reward_fn``, ``sandbox_options`` (arguments of :class:`~thinkgym.sandbox.PythonSandbox`, whose
timeout defaults to 5 s as in CoRT's RL rollouts).

Version history: v0 — first release.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import gymnasium
from gymnasium.envs.registration import load_env_creator
from gymnasium.error import ResetNeeded

from thinkgym.core import Verdict
from thinkgym.envs.base import fresh
from thinkgym.sandbox import ExecResult, PythonSandbox, SandboxPool

__all__ = [
    "BUDGET_WARNING",
    "CORT_INSTRUCTION",
    "CodeInterpreter",
    "HINT_ENGINEERING",
    "STOP",
    "cell_failed",
    "cort_reward",
    "format_output",
    "make_math_env",
    "make_sat_env",
]

CORT_INSTRUCTION = (
    "Please integrate natural language reasoning with python programs to solve the problem above, "
    "and put your final answer within \\boxed{}."
)
STOP = ["```\n"]
BUDGET_WARNING = (
    "\n\n[SYSTEM]\nYou have exceeded the allowed number of code executions. You can no longer write or run code. "
    "Please continue solving the problem using your reasoning and analytical skills."
)
HINT_ENGINEERING = {
    "start": "Okay, let's try to solve this problem step by step using multiple python code calls",
    "after_output": "We don't need to doubt the accuracy of python calculations.",
}
_FENCE = "```"
_PY_FENCE = "```python"


def cell_failed(result: ExecResult) -> bool:
    """A cell fails for the reward when it raised, timed out or crashed, or printed nothing.
    (CoRT matches strings instead: empty, ``Done``, ``[]``, or any "error", "exception",
    "traceback" in the output.)"""
    return not result.ok or not result.stdout.strip()


def cort_reward(verdict: Verdict, cells: Sequence[ExecResult], omega: float = 0.1) -> float:
    """CoRT's reward (paper Eq. 3): ``float(correct) - omega`` when every cell failed (also
    when there was none, as ``all([])`` in CoRT's code), else ``float(correct)``."""
    return float(verdict.correct) - (omega if all(cell_failed(c) for c in cells) else 0.0)


def _truncate(text: str, head: int, tail: int) -> str:
    """CoRT's ``PythonExecutor.truncate``: first ``head`` + ``"..."`` + last ``tail`` characters."""
    if len(text) <= head + tail:
        return text
    return text[:head] + "..." + (text[-tail:] if tail else "")


# Control characters other than newline and tab (C0, DEL, C1), shown escaped: raw terminal
# escape sequences or carriage returns from a cell never reach the model or a log viewer as such.
_CONTROL_ESCAPES = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if chr(c) not in "\n\t"}


def format_output(result: ExecResult, head: int = 400, tail: int = 400) -> str:
    """The text inside the output block: the stripped stdout, then, when the cell failed, the
    traceback (or the error line for timeouts and crashes), cut to head + tail characters, with
    control characters other than newline and tab escaped (``\\x1b``)."""
    parts = [result.stdout.strip()] if result.stdout.strip() else []
    if not result.ok:
        stderr = result.stderr.strip()
        if stderr:
            parts.append(stderr)
        if result.error and result.error not in stderr:
            parts.append(result.error)
    return _truncate("\n".join(parts), head, tail).translate(_CONTROL_ESCAPES)


def _code_call(segment: str) -> tuple[str, str] | None:
    """``(code, missing closing fence)`` when ``segment`` ends in a python block, else None."""
    start = segment.rfind(_PY_FENCE)
    if start < 0:
        return None
    newline = segment.find("\n", start)
    if newline < 0:
        return None
    body = segment[newline + 1 :]
    end = body.find(_FENCE)
    if end < 0:
        return body, "\n```\n" if body and not body.endswith("\n") else "```\n"
    if body[end + len(_FENCE) :].strip():
        return None
    return body[:end], "" if body.endswith("\n") else "\n"


class CodeInterpreter(gymnasium.Wrapper[str, str, str, str]):
    """CoRT-style code-interpreter episodes around a thinkgym task env (see the module docstring)."""

    def __init__(
        self,
        env: gymnasium.Env[str, str],
        *,
        max_tool_calls: int = 15,
        output_head: int = 400,
        output_tail: int = 400,
        instruction: str | None = CORT_INSTRUCTION,
        hints: Mapping[str, str] | None = None,
        reward_fn: Callable[[Verdict, Sequence[ExecResult]], float] = cort_reward,
        sandbox_options: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(env)
        if isinstance(max_tool_calls, bool) or not isinstance(max_tool_calls, int) or max_tool_calls < 0:
            raise ValueError(f"max_tool_calls must be an int >= 0, got {max_tool_calls!r}")
        for name, value in (("output_head", output_head), ("output_tail", output_tail)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{name} must be an int >= 0, got {value!r}")
        unknown = set(hints or {}) - set(HINT_ENGINEERING)
        if unknown:
            raise ValueError(f"hints: unknown point(s) {sorted(unknown)}; valid: {list(HINT_ENGINEERING)}")
        if not callable(reward_fn):
            raise TypeError(f"reward_fn must be callable, got {type(reward_fn).__name__}")
        self.max_tool_calls = max_tool_calls
        self.output_head, self.output_tail = output_head, output_tail
        self.instruction = instruction
        self.hints = dict(hints or {})
        self.reward_fn = reward_fn
        self.sandbox_options = dict(sandbox_options or {})
        self._pool: SandboxPool | None = None
        self._sandbox: PythonSandbox | None = None
        self._active = False
        self._calls = 0
        self._cells: list[ExecResult] = []
        self._segments: list[dict[str, str]] = []
        self._problem: dict[str, Any] | None = None

    # -- helpers ---------------------------------------------------------------------------
    def _release_sandbox(self) -> None:
        if self._sandbox is not None:
            self._sandbox.close()
            self._sandbox = None

    def _run(self, code: str) -> ExecResult:
        if self._sandbox is None:
            if self._pool is None:
                self._pool = SandboxPool(1, **self.sandbox_options)
            self._sandbox = self._pool.acquire()
        return self._sandbox.run(code)

    def _info(self, turn: str, env_text: str) -> dict[str, Any]:
        left = self.max_tool_calls - self._calls
        return {
            "problem": fresh(self._problem),
            "stop": list(STOP) if left > 0 and turn != "final" else [],
            "tool_calls": self._calls,
            "tool_calls_left": left,
            "turn": turn,
            "env_text": env_text,
            "segments": fresh(self._segments),
        }

    def _write(self, source: str, text: str) -> None:
        if text:
            self._segments.append({"source": source, "text": text})

    # -- gymnasium API ---------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        self._release_sandbox()
        prompt, inner_info = self.env.reset(seed=seed, options=options)
        self._problem = fresh(inner_info.get("problem"))  # the wrapper's own copy: every info gets a fresh one
        self._active = True
        self._calls = 0
        self._cells = []
        self._segments = []
        if self.instruction:
            prompt = f"{prompt}\n{self.instruction}"
        prefill = self.hints.get("start", "")
        if prefill:
            prompt = f"{prompt}\n{prefill}"
            self._write("env", prefill)
        return prompt, {**inner_info, **self._info("reset", prefill), "prefill": prefill}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if not isinstance(action, str):
            raise TypeError(f"action must be a str (the model's next segment), got {type(action).__name__}")
        if not self._active:
            raise ResetNeeded("call reset() before step(), and again after an episode ends")
        self._write("model", action)
        call = _code_call(action) if self._calls < self.max_tool_calls else None
        stopped_at_fence = self._calls < self.max_tool_calls and action.rstrip().endswith(_FENCE)
        if call is not None and call[0].strip():
            code, closing = call
            result = self._run(code)
            self._cells.append(result)
            self._calls += 1
            body = format_output(result, self.output_head, self.output_tail)
            if self._calls == self.max_tool_calls:
                body += BUDGET_WARNING
            text = f"{closing}```output\n{body}\n```\n"
            if self.hints.get("after_output"):
                text += self.hints["after_output"]
            self._write("env", text)
            return text, 0.0, False, False, {**self._info("tool_call", text), "cell": result.to_dict()}
        if call is not None or stopped_at_fence:
            self._calls += 1
            return "", 0.0, False, False, self._info("continue", "")
        return self._finish()

    def _finish(self) -> tuple[str, float, bool, bool, dict[str, Any]]:
        self._active = False
        self._release_sandbox()
        response = "".join(s["text"] for s in self._segments if s["source"] == "model")
        obs, inner_reward, _, truncated, inner_info = self.env.step(response)
        verdict = Verdict.from_dict(fresh(inner_info["verdict"]))
        if verdict.verifier_error:  # the verifier could not decide: the inner env's rewards["verifier_error"]
            reward = float(inner_reward)
        else:
            reward = float(self.reward_fn(verdict, list(self._cells)))
        all_failed = all(cell_failed(c) for c in self._cells)
        return obs, reward, True, truncated, {**inner_info, **self._info("final", ""), "all_cells_failed": all_failed}

    def close(self) -> None:
        self._release_sandbox()
        if self._pool is not None:
            self._pool.close()
            self._pool = None
        super().close()


_WRAPPER_ARGS = ("max_tool_calls", "output_head", "output_tail", "instruction", "hints", "reward_fn", "sandbox_options")


def _make(task_id: str, kwargs: dict[str, Any]) -> CodeInterpreter:
    from thinkgym.envs.registration import ENVS

    if task_id not in ENVS:
        raise gymnasium.error.Error(f"{task_id} is not registered in thinkgym.envs.registration.ENVS")
    wrapper = {name: kwargs.pop(name) for name in _WRAPPER_ARGS if name in kwargs}
    return CodeInterpreter(load_env_creator(ENVS[task_id][0])(**kwargs), **wrapper)


def make_sat_env(**kwargs: Any) -> CodeInterpreter:
    """``CodeInterpreter-SAT-v0``: Saturn-SAT-v0 with Python tool calls. Wrapper arguments
    (``max_tool_calls``, ``hints``, ``sandbox_options``, ...) go to :class:`CodeInterpreter`,
    the rest to the SAT env (``level``, ``n``, ``k``, ``l``, ...)."""
    return _make("Saturn-SAT-v0", kwargs)


def make_math_env(**kwargs: Any) -> CodeInterpreter:
    """``CodeInterpreter-Math-v0``: Math-RLVR-v0 with Python tool calls (CoRT's setting).
    Arguments are split as in :func:`make_sat_env`."""
    return _make("Math-RLVR-v0", kwargs)
