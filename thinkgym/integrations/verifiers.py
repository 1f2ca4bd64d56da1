"""Prime Intellect ``verifiers`` adapter (0.4, its v1 API): thinkgym envs as a taskset.

:class:`ThinkgymTaskset` yields one :class:`ThinkgymTask` per problem: the env's prompt as the
user turn, the problem in the task data, and one ``@vf.reward`` that replays the problem in the
env (``reset(options={"problem": ...})``) and scores the model's last reply with ``step``, so the
reward is exactly the env's (its verifier and reward scheme). The verifier runs in a worker
thread, off verifiers' event loop. Config (``--env.taskset.<field>`` on the command line):
``env`` (a single-turn thinkgym env id, default ``Math-RLVR-v0``), ``env_kwargs``,
``num_tasks`` and ``seed`` (task ``i`` is the env's problem for ``seed + i``).

``vf-eval`` finds a taskset by a top-level module name, so expose it from a module of your own,
e.g. ``thinkgym_tasks.py`` on the Python path::

    from thinkgym.integrations.verifiers import ThinkgymTaskset
    __all__ = ["ThinkgymTaskset"]

then ``vf-eval thinkgym_tasks -m MODEL --client.base-url URL --env.taskset.env Saturn-SAT-v0
--env.agent.harness.id null --env.agent.runtime.type subprocess --no-push``.

Multi-turn envs (``CodeInterpreter-*``, ``Markovian-*``) are refused: their raw-continuation
protocol does not map onto v1's harness-driven chat turns (see docs/integrations.md).

The classic API (verifiers 0.3.x, ``vf.SingleTurnEnv``; gone in 0.4): :func:`load_environment`
returns a ``SingleTurnEnv`` over the same problems whose rubric is the same env reward.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import gymnasium
import verifiers.v1 as vf
from pydantic import Field

__all__ = ["ThinkgymData", "ThinkgymTask", "ThinkgymTaskset", "ThinkgymTasksetConfig", "load_environment", "score"]

_MULTI_TURN = ("CodeInterpreter-", "Markovian-")


class ThinkgymTasksetConfig(vf.TasksetConfig):
    env: str = "Math-RLVR-v0"
    """A single-turn thinkgym env id (`thinkgym list`)."""
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    """Keyword arguments of gymnasium.make, e.g. {"level": 3}."""
    num_tasks: int = 100
    """How many problems: task i is the env's problem for seed + i."""
    seed: int = 0


class ThinkgymData(vf.TaskData):
    env: str
    env_kwargs: dict[str, Any] = Field(default_factory=dict)
    problem: str
    """The problem as JSON (Problem.to_dict), replayed for scoring."""


def score(env_id: str, env_kwargs: dict[str, Any], problem: dict[str, Any] | str, response: str) -> float:
    """The env's reward for ``response`` to ``problem`` (a fresh env, so it is thread-safe)."""
    import thinkgym  # noqa: F401  (registers the envs)

    env = gymnasium.make(env_id, **env_kwargs)
    try:
        env.reset(options={"problem": json.loads(problem) if isinstance(problem, str) else problem})
        return float(env.step(response)[1])
    finally:
        env.close()


class ThinkgymTask(vf.Task[ThinkgymData]):
    @vf.reward
    async def thinkgym_reward(self, trace: vf.Trace) -> float:
        """The thinkgym env's reward for the model's last reply."""
        data = self.data
        return await asyncio.to_thread(score, data.env, dict(data.env_kwargs), data.problem, trace.last_reply)


class ThinkgymTaskset(vf.Taskset[ThinkgymTask, ThinkgymTasksetConfig]):
    def load(self) -> Iterator[ThinkgymTask]:
        import thinkgym  # noqa: F401  (registers the envs)

        config = self.config
        if config.env.startswith(_MULTI_TURN):
            raise ValueError(f"{config.env} is multi-turn; the verifiers taskset takes single-turn envs only")
        env = gymnasium.make(config.env, **config.env_kwargs)
        try:
            for i in range(config.num_tasks):
                prompt, info = env.reset(seed=config.seed + i)
                problem = info["problem"]
                data = ThinkgymData(
                    idx=i,
                    id=problem["id"],
                    prompt=prompt,
                    env=config.env,
                    env_kwargs=dict(config.env_kwargs),
                    problem=json.dumps(problem),
                )
                yield ThinkgymTask(data, config.task)
        finally:
            env.close()


def _last_reply(completion: Any) -> str:
    """The text of the last assistant message (a string completion is itself)."""
    if isinstance(completion, str):
        return completion
    for message in reversed(list(completion)):
        role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
        if role == "assistant":
            content = message.get("content") if isinstance(message, dict) else getattr(message, "content", None)
            return content if isinstance(content, str) else ""
    return ""


def load_environment(
    env: str = "Math-RLVR-v0",
    env_kwargs: dict[str, Any] | None = None,
    num_examples: int = 100,
    seed: int = 0,
    **kwargs: Any,
) -> Any:
    """The classic API (verifiers 0.3.x): a ``vf.SingleTurnEnv`` whose rows are the env's problems
    for seeds ``seed .. seed + num_examples - 1`` (``question``, ``answer``, ``info`` with the
    problem) and whose rubric is one async reward, the env's reward for the last assistant
    message. ``kwargs`` go to ``SingleTurnEnv`` (``system_prompt``, ``sampling_args``, ...)."""
    import verifiers as classic
    from datasets import Dataset

    if not hasattr(classic, "SingleTurnEnv"):
        raise ImportError(
            f"load_environment needs the classic verifiers API (0.3.x); verifiers {classic.__version__} "
            "has tasksets only: use ThinkgymTaskset"
        )
    env_kwargs = dict(env_kwargs or {})
    tasks = ThinkgymTaskset(ThinkgymTasksetConfig(env=env, env_kwargs=env_kwargs, num_tasks=num_examples, seed=seed))
    rows = [
        {
            "question": task.data.prompt,
            "answer": json.loads(task.data.problem)["answer"],
            "info": json.dumps({"env": env, "env_kwargs": env_kwargs, "problem": task.data.problem}),
        }
        for task in tasks
    ]

    async def thinkgym_reward(completion: Any, info: Any) -> float:
        info = json.loads(info) if isinstance(info, str) else info
        reply = _last_reply(completion)
        return await asyncio.to_thread(score, info["env"], info["env_kwargs"], info["problem"], reply)

    rubric = classic.Rubric(funcs=[thinkgym_reward], weights=[1.0])
    return classic.SingleTurnEnv(dataset=Dataset.from_list(rows), rubric=rubric, **kwargs)
