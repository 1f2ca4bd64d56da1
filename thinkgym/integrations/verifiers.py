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

The taskset takes single-turn envs: ``CodeInterpreter-*`` envs have their own taskset, with a
python tool in thinkgym's sandbox (:mod:`thinkgym.integrations.verifiers_code`), and
``Markovian-*`` envs are refused with an error that says why (:func:`markovian_refusal`: a chunk
continues the model's raw text from a fresh context, which neither API's chat turns express).

The classic API (verifiers 0.3.x, ``vf.SingleTurnEnv`` / ``vf.MultiTurnEnv``; gone in 0.4):
:func:`load_environment` returns a ``SingleTurnEnv`` over the same problems whose rubric is the
same env reward, and for a ``CodeInterpreter-*`` env a ``MultiTurnEnv`` in which each rollout
holds one thinkgym env (one sandbox) for the whole episode: every assistant message is one
``step`` (one segment), the env's reply (the cell's ```` ```output ```` block) is the next user
message, the rollout stops when the env's episode ends, its reward is the env's final reward,
and the env and its sandbox are closed when the rollout ends (a ``@vf.cleanup`` handler, which
verifiers runs also after an error or a timeout). ``Markovian-*`` stays refused
(:func:`markovian_refusal`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import gymnasium
import verifiers.v1 as vf
from pydantic import Field

__all__ = [
    "ThinkgymData",
    "ThinkgymTask",
    "ThinkgymTaskset",
    "ThinkgymTasksetConfig",
    "load_environment",
    "markovian_refusal",
    "score",
    "task_data",
]


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


def _problems(env_id: str, env_kwargs: dict[str, Any], count: int, seed: int) -> Iterator[tuple[str, dict[str, Any]]]:
    """The env's (prompt, problem) for seeds ``seed .. seed + count - 1``."""
    import thinkgym  # noqa: F401  (registers the envs)

    env = gymnasium.make(env_id, **env_kwargs)
    try:
        for i in range(count):
            prompt, info = env.reset(seed=seed + i)
            yield prompt, info["problem"]
    finally:
        env.close()


def markovian_refusal(env_id: str) -> str:
    """Why a ``Markovian-*`` env is no verifiers environment (the error both APIs raise)."""
    return (
        f"{env_id}: Markovian thinking has no clean verifiers mapping. Each Delethink chunk continues the "
        "model's own text from a fresh context, the query followed by the carried-over tail cut on the "
        "policy's token ids. A v1 rollout is one chat grown by its harness (the null harness stops at the "
        "first reply without a tool call). A classic MultiTurnEnv could restart its context each turn, but "
        "a chat request cannot continue an assistant message's raw text, raw-text prompts need the "
        "completion API (message_type='completion', deprecated in 0.3), and the chunk limits count the "
        "policy's tokens, which an OpenAI endpoint does not expose. Serve it with OpenEnv "
        "(`thinkgym serve --env ...`) or run it with thinkgym's own policies (docs/integrations.md)"
    )


def task_data(config: ThinkgymTasksetConfig) -> Iterator[ThinkgymData]:
    """One :class:`ThinkgymData` per problem of ``config`` (the env's prompt and the problem)."""
    for i, (prompt, problem) in enumerate(_problems(config.env, config.env_kwargs, config.num_tasks, config.seed)):
        yield ThinkgymData(
            idx=i,
            id=problem["id"],
            prompt=prompt,
            env=config.env,
            env_kwargs=dict(config.env_kwargs),
            problem=json.dumps(problem),
        )


class ThinkgymTaskset(vf.Taskset[ThinkgymTask, ThinkgymTasksetConfig]):
    def load(self) -> Iterator[ThinkgymTask]:
        config = self.config
        if config.env.startswith("CodeInterpreter-"):
            raise ValueError(
                f"{config.env} is multi-turn; ThinkgymTaskset takes single-turn envs: use "
                "thinkgym.integrations.verifiers_code.ThinkgymCodeTaskset (a python tool in thinkgym's sandbox)"
            )
        if config.env.startswith("Markovian-"):
            raise ValueError(markovian_refusal(config.env))
        for data in task_data(config):
            yield ThinkgymTask(data, config.task)


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


def _episode_env(classic: Any, dataset: Any, **kwargs: Any) -> Any:
    """A classic ``vf.MultiTurnEnv`` whose rollouts each drive one thinkgym multi-turn env."""

    class ThinkgymMultiTurnEnv(classic.MultiTurnEnv):
        """One thinkgym env (and sandbox) per rollout; its replies are the environment turns."""

        def __init__(self, **options: Any) -> None:
            super().__init__(**options)
            self._episodes: dict[str, Any] = {}

        async def setup_state(self, state: Any) -> Any:
            info = state["info"]
            info = json.loads(info) if isinstance(info, str) else info

            def start() -> Any:
                import thinkgym  # noqa: F401  (registers the envs)

                env = gymnasium.make(info["env"], **info["env_kwargs"])
                env.reset(options={"problem": json.loads(info["problem"])})
                return env

            self._episodes[state["trajectory_id"]] = await asyncio.to_thread(start)
            state["thinkgym_reward"] = 0.0  # until the env's episode ends
            return state

        async def env_response(self, messages: Any, state: Any, **options: Any) -> Any:
            env = self._episodes[state["trajectory_id"]]
            text, reward, terminated, truncated, _ = await asyncio.to_thread(env.step, _last_reply(messages))
            if terminated or truncated:
                state["thinkgym_reward"] = float(reward)
                state["final_env_response"] = []
                return []
            return [{"role": "user", "content": text}]

        @classic.cleanup
        async def close_thinkgym_env(self, state: Any) -> None:
            env = self._episodes.pop(state["trajectory_id"], None)
            if env is not None:
                await asyncio.to_thread(env.close)

    async def thinkgym_reward(state: Any) -> float:
        return float(state.get("thinkgym_reward", 0.0))

    from thinkgym.envs.code_interpreter import STOP

    # the model stops after a code block (the env also runs a block whose closing fence the
    # server stripped with the stop string)
    sampling_args = dict(kwargs.pop("sampling_args", None) or {})
    sampling_args.setdefault("stop", list(STOP))
    rubric = classic.Rubric(funcs=[thinkgym_reward], weights=[1.0])
    return ThinkgymMultiTurnEnv(dataset=dataset, rubric=rubric, sampling_args=sampling_args, **kwargs)


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
    message. For a ``CodeInterpreter-*`` env, a ``vf.MultiTurnEnv`` instead (see the module
    docstring): one thinkgym env and sandbox per rollout, reward the env's at the episode's end.
    ``kwargs`` go to the env (``system_prompt``, ``sampling_args``, ...)."""
    import verifiers as classic
    from datasets import Dataset

    if not hasattr(classic, "SingleTurnEnv"):
        raise ImportError(
            f"load_environment needs the classic verifiers API (0.3.x); verifiers {classic.__version__} "
            "has tasksets only: use ThinkgymTaskset"
        )
    env_kwargs = dict(env_kwargs or {})
    if env.startswith("Markovian-"):
        raise ValueError(markovian_refusal(env))
    rows = [
        {
            "question": prompt,
            "answer": problem["answer"],
            "info": json.dumps({"env": env, "env_kwargs": env_kwargs, "problem": json.dumps(problem)}),
        }
        for prompt, problem in _problems(env, env_kwargs, num_examples, seed)
    ]
    if env.startswith("CodeInterpreter-"):
        return _episode_env(classic, Dataset.from_list(rows), **kwargs)

    async def thinkgym_reward(completion: Any, info: Any) -> float:
        info = json.loads(info) if isinstance(info, str) else info
        reply = _last_reply(completion)
        return await asyncio.to_thread(score, info["env"], info["env_kwargs"], info["problem"], reply)

    rubric = classic.Rubric(funcs=[thinkgym_reward], weights=[1.0])
    return classic.SingleTurnEnv(dataset=Dataset.from_list(rows), rubric=rubric, **kwargs)
