"""TRL adapter: turn a thinkgym reward into a reward function for TRL's ``GRPOTrainer``.

TRL calls each reward function as ``f(prompts=..., completions=..., completion_ids=..., **columns)``
where every dataset column other than ``prompt`` arrives as a list with one entry per completion
(newer versions add non-list extras such as ``trainer_state``), and logs it under ``f.__name__``.
A completion is a string, or in conversational datasets a list of messages
``[{"role": "assistant", "content": ...}]``. TRL itself is not imported here.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Sequence
from typing import Any

import gymnasium

__all__ = ["completion_text", "trl_reward_func"]


def completion_text(completion: str | Sequence[dict[str, Any]]) -> str:
    """The text of one completion: the string itself, or the assistant messages' contents joined
    by newlines (a tool-using completion also holds tool messages, which the model did not write)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict) or not isinstance(completion, Sequence):
        raise TypeError(f"a completion must be a str or a list of messages, got {type(completion).__name__}")
    texts = []
    for message in completion:
        if message.get("role", "assistant") != "assistant":
            continue
        content = message.get("content")
        if not isinstance(content, str):
            raise TypeError(f"message content must be a str, got {type(content).__name__}")
        texts.append(content)
    return "\n".join(texts)


def _env_scorer(env: gymnasium.Env[str, str]) -> Callable[..., float]:
    def score(completion: str, problem: dict[str, Any] | str | None = None) -> float:
        if problem is None:
            raise ValueError("scoring with an env needs a 'problem' dataset column (Problem.to_dict() or its JSON)")
        if isinstance(problem, str):
            problem = json.loads(problem)
        env.reset(options={"problem": problem})
        _, reward, terminated, truncated, _ = env.step(completion)
        if not (terminated or truncated):
            raise ValueError(
                f"{type(env).__name__} did not end its episode on the completion (a multi-turn env waiting for "
                "the next turn): a TRL reward scores one completion per episode, so pass a single-turn env, "
                "e.g. the env a CodeInterpreter or MarkovianThinking wraps"
            )
        return float(reward)

    return score


def trl_reward_func(
    reward: Callable[..., float] | gymnasium.Env[str, str], name: str | None = None
) -> Callable[..., list[float]]:
    """A TRL reward function ``f(prompts, completions, **columns) -> list[float]`` from either

    * an env (any thinkgym env, typically wrapped in a reward wrapper such as
      :class:`~thinkgym.rewards.wrappers.LaserReward`): each completion is replayed with
      ``reset(options={"problem": row["problem"]})`` then ``step(text)``, so the dataset needs a
      ``problem`` column holding ``Problem.to_dict()`` (or its JSON). That step must end the
      episode: a multi-turn env that waits for another turn is a ``ValueError``; or
    * a callable ``reward(text, **row) -> float`` such as
      :func:`~thinkgym.rewards.format.open_rs_format_reward`. It receives only the row fields its
      signature names (all of them if it takes ``**kwargs``); the row holds ``prompt`` and every
      per-completion column (``completion_ids`` included).

    ``name`` (default: the callable's or the env's name) is what TRL logs the reward under.
    """
    if isinstance(reward, gymnasium.Env):
        scorer, label = _env_scorer(reward), name or type(reward).__name__
    elif callable(reward):
        scorer, label = reward, name or getattr(reward, "__name__", type(reward).__name__)
    else:
        raise TypeError(f"reward must be a gymnasium env or a callable, got {type(reward).__name__}")
    params = inspect.signature(scorer).parameters
    takes_all = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())
    text_param = next(iter(params), None)  # the completion text; never also passed from the row

    def reward_func(prompts: Sequence[Any], completions: Sequence[Any], **columns: Any) -> list[float]:
        n = len(completions)
        if len(prompts) != n:
            raise ValueError(f"{len(prompts)} prompts but {n} completions")
        per_row = {k: v for k, v in columns.items() if isinstance(v, (list, tuple)) and len(v) == n}
        out = []
        for i, completion in enumerate(completions):
            row = {"prompt": prompts[i], **{k: v[i] for k, v in per_row.items()}}
            kwargs = {k: v for k, v in row.items() if k != text_param and (takes_all or k in params)}
            out.append(float(scorer(completion_text(completion), **kwargs)))
        return out

    reward_func.__name__ = label
    return reward_func
