"""CodeInterpreter episodes for Prime Intellect ``verifiers`` 0.4 (its v1 API): a python tool that
runs in thinkgym's sandbox, one sandbox per rollout, and the env's reward.

:class:`ThinkgymCodeTaskset` yields one :class:`ThinkgymCodeTask` per problem of a
``CodeInterpreter-*`` env (the env's prompt, CoRT's instruction included; the problem in the task
data). Each task declares one per-rollout tool server, :class:`ThinkgymPythonToolset`, with one
tool, ``run_python(code)``. verifiers starts that server (``python -m`` this module, in its own
subprocess runtime) when the rollout starts and stops it when the rollout ends; the harness (e.g.
the ``null`` harness's chat loop) reaches it over MCP.

- Rollout start (``setup_task``): the server builds the rollout's thinkgym env
  (``gymnasium.make(env, **env_kwargs)``) and replays the task's problem in it. The env owns the
  sandbox (thinkgym's :class:`~thinkgym.sandbox.PythonSandbox`, started by the first cell;
  variables persist across cells).
- Each ``run_python(code)`` call is one env step with the segment
  ```` ```python\\n<code>\\n```\\n ```` (a tool call in the env's raw-continuation protocol); the
  tool's result is the env's reply, its ```` ```output ```` block. The segment and the cell's
  result go into the rollout's shared state (:class:`ThinkgymCodeState`). Once the env's code
  budget (``max_tool_calls``) is spent, further calls are answered without running anything.
- Rollout end: verifiers stops the server; its env, and the sandbox with it, is closed (and the
  sandbox's zygote ends its processes when the server goes away, however it ends).
- Reward (``@vf.reward thinkgym_reward``, after the rollout): the env's own reward for the
  episode, computed by a fresh env of the same id that steps the recorded segments and then the
  model's final reply; its sandbox is replaced by the recorded cell results (the code does not run
  twice), so the verdict, the code budget and the reward function (CoRT's, paper Eq. 3, by default)
  are the env's.

Mapping limits: the text the model writes in the same message as a tool call does not reach the
env (the tool server sees only the tool's arguments), so the verifier judges the code segments and
the final reply. A rollout whose model never replies without a tool call ends at the harness's
limits.

Expose the taskset from a module of your own, e.g. ``thinkgym_code_tasks.py`` on the Python path::

    from thinkgym.integrations.verifiers_code import ThinkgymCodeTaskset
    __all__ = ["ThinkgymCodeTaskset"]

then ``vf-eval thinkgym_code_tasks -m MODEL --client.base-url URL --env.agent.harness.id null
--env.agent.runtime.type subprocess --no-push`` (the model endpoint must stream and call tools).
"""

import asyncio
import json
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import gymnasium
import verifiers.v1 as vf
from pydantic import Field

from thinkgym.integrations.verifiers import ThinkgymData, ThinkgymTasksetConfig, task_data

__all__ = [
    "ThinkgymCodeState",
    "ThinkgymCodeTask",
    "ThinkgymCodeTaskset",
    "ThinkgymCodeTasksetConfig",
    "ThinkgymPythonToolset",
    "code_segment",
    "replay_reward",
]


def code_segment(code: str) -> str:
    """The env segment of one ``run_python`` call: a python block ending at the stop string."""
    return f"```python\n{code.rstrip()}\n```\n"


class ThinkgymCodeState(vf.State):
    """Per-rollout state shared by the tool server and the rollout (verifiers' state channel)."""

    segments: list[str] = Field(default_factory=list)
    """The segments the rollout's env stepped, one per ``run_python`` call that ran."""
    cells: list[dict[str, Any]] = Field(default_factory=list)
    """Each executed cell's result (``ExecResult.to_dict()``), in order."""


class ThinkgymPythonToolset(vf.Toolset[vf.ToolsetConfig, ThinkgymCodeState]):
    """``run_python``: the rollout's thinkgym CodeInterpreter env, in a server of its own."""

    TOOL_PREFIX = None  # the model sees the tool as ``run_python``

    def __init__(self, config: vf.ToolsetConfig) -> None:
        super().__init__(config)
        self._env: Any = None
        self._over = "the episode has not started"
        self._thread: ThreadPoolExecutor | None = None

    async def setup_task(self, task: ThinkgymData) -> None:
        """Rollout start: the rollout's env, replaying the task's problem."""

        def start() -> Any:
            import thinkgym  # noqa: F401  (registers the envs)

            env = gymnasium.make(task.env, **task.env_kwargs)
            env.reset(options={"problem": json.loads(task.problem)})
            return env

        # one thread for every env call: the sandbox is used from one thread at a time
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="thinkgym-env")
        self._exit_stack.callback(self._close)
        self._env = await asyncio.get_running_loop().run_in_executor(self._thread, start)
        self._over = ""

    def _close(self) -> None:
        """Rollout end: the env, and its sandbox, closed."""
        assert self._thread is not None
        if self._env is not None:
            self._thread.submit(self._env.close).result()
            self._env = None
        self._thread.shutdown()

    @vf.tool
    async def run_python(self, code: str) -> str:
        # the tool's description (the docstring verbatim, so kept on one line):
        """Run Python code in a sandbox; returns what it printed, and its error if it failed. Variables persist."""
        if self._over:
            return f"Nothing ran: {self._over}. Give your final answer without code."
        segment = code_segment(code)
        loop = asyncio.get_running_loop()
        text, _, terminated, truncated, info = await loop.run_in_executor(self._thread, self._env.step, segment)
        state = self.state
        state.segments.append(segment)
        if "cell" in info:
            state.cells.append(info["cell"])
        if terminated or truncated:
            self._over = "the episode is over"
        elif info["tool_calls_left"] <= 0:
            self._over = "the code budget is spent"
        return text or "(nothing ran: the code was empty)"


class ThinkgymCodeTask(vf.Task[ThinkgymData, ThinkgymCodeState]):
    """One CodeInterpreter problem: the ``run_python`` tool and the env's reward."""

    @classmethod
    def toolsets(cls, config: vf.TaskConfig) -> list[vf.Toolset]:
        return [ThinkgymPythonToolset(vf.ToolsetConfig())]

    @vf.reward
    async def thinkgym_reward(self, trace: vf.Trace) -> float:
        """The env's reward for the episode: the recorded code segments, then the final reply."""
        data, state = self.data, trace.state
        return await asyncio.to_thread(
            replay_reward, data.env, dict(data.env_kwargs), data.problem, state.segments, state.cells, trace.last_reply
        )


class ThinkgymCodeTasksetConfig(ThinkgymTasksetConfig):
    env: str = "CodeInterpreter-Math-v0"
    """A CodeInterpreter thinkgym env id (`thinkgym list`)."""


class ThinkgymCodeTaskset(vf.Taskset[ThinkgymCodeTask, ThinkgymCodeTasksetConfig]):
    def load(self) -> Iterator[ThinkgymCodeTask]:
        config = self.config
        if not config.env.startswith("CodeInterpreter-"):
            raise ValueError(
                f"{config.env} is not a CodeInterpreter env; ThinkgymCodeTaskset takes CodeInterpreter-* "
                "envs (use ThinkgymTaskset for single-turn envs)"
            )
        for data in task_data(config):
            yield ThinkgymCodeTask(data, config.task)


class _RecordedCells:
    """The sandbox of a replayed episode: hands back the rollout's recorded cell results in order."""

    def __init__(self, cells: Sequence[dict[str, Any]]) -> None:
        self.left = list(cells)

    def run(self, code: str) -> Any:
        from thinkgym.sandbox import ExecResult

        if not self.left:
            raise ValueError("the replay ran more cells than the rollout recorded")
        return ExecResult(**self.left.pop(0))

    def close(self) -> None:
        pass


def replay_reward(
    env_id: str,
    env_kwargs: dict[str, Any],
    problem: dict[str, Any] | str,
    segments: Sequence[str],
    cells: Sequence[dict[str, Any]],
    final: str,
) -> float:
    """The reward a ``CodeInterpreter-*`` env gives the episode ``segments`` + ``final``, whose
    cells printed ``cells`` (recorded by the rollout's sandbox; nothing runs again)."""
    import thinkgym  # noqa: F401  (registers the envs)
    from thinkgym.envs.code_interpreter import CodeInterpreter

    env = gymnasium.make(env_id, **env_kwargs)
    try:
        env.reset(options={"problem": json.loads(problem) if isinstance(problem, str) else problem})
        wrapper = env
        while not isinstance(wrapper, CodeInterpreter):
            if not isinstance(wrapper, gymnasium.Wrapper):
                raise ValueError(f"{env_id} is not a CodeInterpreter env")
            wrapper = wrapper.env
        recorded = wrapper._sandbox = _RecordedCells(cells)  # the env's sandbox slot, filled after reset
        for segment in [*segments, final]:
            _, reward, terminated, truncated, _ = env.step(segment)
            if terminated or truncated:
                break
        else:
            raise ValueError("the replayed episode did not end at the final reply")
        if recorded.left:
            raise ValueError(f"the replay left {len(recorded.left)} recorded cell(s) unused")
        return float(reward)
    finally:
        env.close()


def _exit_on_sigterm(signum: int, frame: Any) -> None:
    raise SystemExit(0)


if __name__ == "__main__":  # verifiers starts the per-rollout tool server as `python -m` this module
    # verifiers stops the server with SIGTERM; uvicorn shuts down, then raises it again: exit by
    # unwinding then, so the server's exit stack closes the rollout's env and its sandbox
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    ThinkgymPythonToolset.run()
