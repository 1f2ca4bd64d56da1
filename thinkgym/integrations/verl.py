"""verl adapter: ``compute_score`` for verl's reward manager, scoring with thinkgym's verifiers.

verl calls ``compute_score(data_source, solution_str, ground_truth, extra_info)`` once per
response (``reward.custom_reward_function.path`` / ``.name`` in its 0.9 config, or the legacy
top-level ``custom_reward_function.*``); point ``path`` at this file. With data exported by
``thinkgym export --format verl``, ``data_source`` is the env id and ``extra_info["problem"]`` the
problem as JSON, so the response is judged by exactly the env's verifier and reward scheme: the
problem is replayed with ``reset(options={"problem": ...})`` and the response is the ``step``.

Returns a dict, which verl logs column by column: ``score`` (the env's reward), ``acc`` (1.0 when
the verifier says correct) and ``format_ok``. verl's legacy ``PrimeRewardManager`` scores a whole
batch 0.0 when the function returns a dict; give it :func:`compute_score_float` (the same score, as
a float) instead. Extra keyword arguments (verl's ``reward_kwargs``) and the keys verl adds to
``extra_info`` (``num_turns``, ...) are ignored.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import gymnasium

__all__ = ["compute_score", "compute_score_float"]


_local = threading.local()


def _env(env_id: str) -> gymnasium.Env:
    """This thread's env for ``env_id``: verl's reward loop scores rows concurrently in executor
    threads, and one env must not be reset by one row while it steps another."""
    import thinkgym  # noqa: F401  (registers the envs in a fresh verl worker)

    envs = _local.__dict__.setdefault("envs", {})
    if env_id not in envs:
        envs[env_id] = gymnasium.make(env_id)
    return envs[env_id]


def compute_score(
    data_source: str,
    solution_str: str,
    ground_truth: Any = None,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> dict[str, float]:
    """Scores one response; ``extra_info["problem"]`` (JSON or dict) is required."""
    problem = (extra_info or {}).get("problem")
    if problem is None:
        raise ValueError("thinkgym's compute_score needs extra_info['problem']; export with --format verl")
    if isinstance(problem, str):
        problem = json.loads(problem)
    env = _env(data_source)
    env.reset(options={"problem": problem})
    _, reward, _, _, info = env.step(solution_str if isinstance(solution_str, str) else str(solution_str))
    verdict = info["verdict"]
    return {"score": float(reward), "acc": float(verdict["correct"]), "format_ok": float(verdict["format_ok"])}


def compute_score_float(
    data_source: str,
    solution_str: str,
    ground_truth: Any = None,
    extra_info: dict[str, Any] | None = None,
    **kwargs: Any,
) -> float:
    """:func:`compute_score`'s ``score`` alone, for reward managers that need a float."""
    return compute_score(data_source, solution_str, ground_truth, extra_info)["score"]
