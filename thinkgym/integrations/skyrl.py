"""SkyRL-gym adapter: any thinkgym env as a SkyRL text env (``skyrl_gym.envs.base_text_env.BaseTextEnv``).

SkyRL's generator (``SkyRLGymGenerator.agent_loop``) builds one env per trajectory with
``skyrl_gym.make(env_class, env_config=cfg.environment.skyrl_gym.<env_class>, extras=row)``, calls
``init(prompt)``, then alternates generation and ``step(output)`` until the env says ``done``.
:class:`ThinkgymTextEnv` maps that onto the gymnasium env:

- ``env_config``: ``{"env_id": "Saturn-SAT-v0", **make_kwargs}`` (``env_id`` may also come from
  the registration's kwargs, see :func:`register_envs`);
- ``extras`` (the dataset row minus ``prompt``/``env_class``): the problem to replay, from
  ``extras["extra_info"]["problem"]`` (what ``thinkgym export --format verl`` writes, as JSON or a
  dict) or ``extras["problem"]``; else a seed from ``extras["extra_info"]["seed"]`` or
  ``extras["seed"]``; with neither, the env draws a problem;
- ``init(prompt)``: resets the env and returns the row's chat prompt (or, when the row has none,
  the env's prompt as one user message) and ``{"problem": ...}``;
- ``step(text)``: one gymnasium ``step``. ``reward`` is the env's reward, ``done`` is
  ``terminated or truncated``, ``observations`` is the env's next observation as one user message
  (``[]`` when done or when the env wrote nothing, as after a CodeInterpreter segment that only
  closed a fence), ``metadata`` holds the verdict and the env's info. Multi-turn envs
  (``CodeInterpreter-*``, ``Markovian-*``) end their episodes themselves, as SkyRL requires.

Register with :func:`register_envs` inside the trainer's Ray entrypoint. For CodeInterpreter set
``generator.sampling_params.stop`` to the env's stop strings (```` ```\\n ````), ``generator.batched=false``
and ``use_conversation_multi_turn=false`` (the tool output continues the assistant's text, CoRT's style).
"""

from __future__ import annotations

import json
from typing import Any

import gymnasium
from skyrl_gym.envs.base_text_env import BaseTextEnv, BaseTextEnvStepOutput

__all__ = ["ThinkgymTextEnv", "register_envs"]


def _row_problem(extras: dict[str, Any]) -> tuple[dict[str, Any] | None, int | None]:
    """The problem to replay and the seed, from a SkyRL dataset row (see the module docstring)."""
    extra_info = extras.get("extra_info") or {}
    if isinstance(extra_info, str):
        extra_info = json.loads(extra_info)
    problem = extra_info.get("problem", extras.get("problem"))
    if isinstance(problem, str):
        problem = json.loads(problem)
    seed = extra_info.get("seed", extras.get("seed"))
    return problem, None if seed is None else int(seed)


class ThinkgymTextEnv(BaseTextEnv):
    """One trajectory of a thinkgym env behind SkyRL's ``BaseTextEnv`` interface."""

    def __init__(self, env_config: Any = None, extras: dict[str, Any] | None = None, env_id: str | None = None) -> None:
        super().__init__()
        import thinkgym  # noqa: F401  (registers the envs in a fresh Ray worker)

        config = dict(env_config or {})
        env_id = config.pop("env_id", env_id)
        if not env_id:
            raise ValueError("ThinkgymTextEnv needs env_config={'env_id': ...}; `thinkgym list` shows the ids")
        self.env_id = env_id
        self.env = gymnasium.make(env_id, **config)
        self.extras = dict(extras or {})
        self.problem, self.seed = _row_problem(self.extras)
        self.last_info: dict[str, Any] = {}
        self._episode_reward = 0.0

    def init(self, prompt: list[dict[str, Any]] | None) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        options = {"problem": self.problem} if self.problem is not None else None
        text, info = self.env.reset(seed=self.seed, options=options)
        self.turns, self._episode_reward, self.last_info = 0, 0.0, info
        messages = list(prompt) if prompt else [{"role": "user", "content": text}]
        return messages, {"problem": info.get("problem")}

    def step(self, action: str) -> BaseTextEnvStepOutput:
        self.turns += 1
        obs, reward, terminated, truncated, info = self.env.step(action)
        done = bool(terminated or truncated)
        self.last_info = info
        self._episode_reward += float(reward)
        observations = [] if done or not obs else [{"role": "user", "content": obs}]
        metadata = {"verdict": info.get("verdict"), "info": info, "truncated": bool(truncated)}
        return BaseTextEnvStepOutput(
            observations=observations, reward=float(reward), done=done, metadata=metadata, postprocessed_action=None
        )

    def get_metrics(self) -> dict[str, Any]:
        verdict = self.last_info.get("verdict") or {}
        return {
            "turns": self.turns,
            "episode_reward": self._episode_reward,
            "correct": float(bool(verdict.get("correct"))),
            "format_ok": float(bool(verdict.get("format_ok"))),
        }

    def close(self) -> None:
        self.env.close()


def register_envs(env_ids: list[str] | None = None, prefix: str = "thinkgym/") -> list[str]:
    """Registers thinkgym envs with ``skyrl_gym`` as ``prefix + env_id`` (every thinkgym env by
    default; an id already registered is left alone, since skyrl_gym raises on duplicates).
    Returns the SkyRL ids."""
    import skyrl_gym

    from thinkgym.envs.registration import ENVS

    ids = []
    for env_id in env_ids or list(ENVS):
        if env_id not in ENVS:
            raise ValueError(f"unknown thinkgym env {env_id!r}; `thinkgym list` shows every env")
        skyrl_id = prefix + env_id
        if skyrl_id not in skyrl_gym.registry:
            skyrl_gym.register(
                id=skyrl_id, entry_point="thinkgym.integrations.skyrl:ThinkgymTextEnv", kwargs={"env_id": env_id}
            )
        ids.append(skyrl_id)
    return ids
