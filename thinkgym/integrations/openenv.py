"""OpenEnv adapter: any thinkgym env served over OpenEnv's protocol, and a client for it.

``thinkgym serve --env ENV [--env-kwargs JSON] --port P`` (or :func:`serve`) runs OpenEnv's
FastAPI server (``openenv.core.env_server.create_fastapi_app``) around a thinkgym env. Every
WebSocket connection (``/ws``, what OpenEnv's ``EnvClient`` speaks) is one session with its own
``gymnasium.make(ENV)``, so its own problem, transcript and (CodeInterpreter) sandbox; the
session's env is closed, and its sandbox with it, when the client sends ``close``, disconnects,
or stays idle longer than ``session_timeout``. OpenEnv's plain HTTP ``/reset`` and ``/step``
build a fresh env per request, so a ``/step`` never sees the problem of the ``/reset`` before it
(the fresh env answers that it needs a reset): episodes need the WebSocket.
``GET /thinkgym/stats`` says how many envs are open and how many processes (sandboxes and their
zygote) the server has below it.

Wire types (pydantic, OpenEnv's base classes):

- :class:`TextAction`: ``text``, the model's response (or next segment for multi-turn envs);
- :class:`ThinkgymObservation`: ``text`` (the prompt after ``reset``, the env's reply after a
  step), ``info`` (the env's info made JSON-safe: ``problem``, ``verdict``, ``stop`` ...),
  ``truncated``, and OpenEnv's ``reward`` (``None`` after reset) and ``done``
  (``terminated or truncated``);
- :class:`ThinkgymState`: ``env_id``, ``problem_id``, ``seed``, plus OpenEnv's ``episode_id`` and
  ``step_count``.

``reset(seed=s, options={...})`` goes to the env's ``reset`` unchanged, so a seed gives the same
problem as a local ``gymnasium.make(ENV).reset(seed=s)``. Any OpenEnv client works (e.g.
``GenericEnvClient`` with ``{"text": ...}`` actions); :class:`ThinkgymClient` parses the typed
observation::

    with ThinkgymClient(base_url="http://127.0.0.1:8000").sync() as client:
        first = client.reset(seed=7)
        result = client.step(TextAction(text="\\\\boxed{42}"))
        print(result.reward, result.observation.info["verdict"])
"""

from __future__ import annotations

import json
import os
import threading
from typing import Any

import gymnasium
from openenv.core.client_types import StepResult
from openenv.core.env_client import EnvClient
from openenv.core.env_server import Action, Environment, Observation, State
from pydantic import Field

__all__ = [
    "TextAction",
    "ThinkgymClient",
    "ThinkgymEnvironment",
    "ThinkgymObservation",
    "ThinkgymState",
    "descendants",
    "live_sessions",
    "make_app",
    "serve",
]


class TextAction(Action):
    """The model's text: a whole response, or the next segment of a multi-turn episode."""

    text: str


class ThinkgymObservation(Observation):
    """What the env returned; ``info`` is the env's info, JSON-safe."""

    text: str = ""
    info: dict[str, Any] = Field(default_factory=dict)
    truncated: bool = False


class ThinkgymState(State):
    """The session's env id, its current problem id and the seed of its last reset."""

    env_id: str = ""
    problem_id: str | None = None
    seed: int | None = None


def descendants(pid: int) -> list[int]:
    """Every live descendant process of ``pid`` (Linux ``/proc``), zombies left out."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            parents.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def _json_safe(value: Any) -> Any:
    return json.loads(json.dumps(value, default=repr))


_live_lock = threading.Lock()
_live = 0


def live_sessions() -> int:
    """How many :class:`ThinkgymEnvironment` s exist (built and not yet closed) in this process."""
    return _live


class ThinkgymEnvironment(Environment[TextAction, ThinkgymObservation, ThinkgymState]):
    """One OpenEnv session around one thinkgym env (``gymnasium.make(env_id, **env_kwargs)``)."""

    SUPPORTS_CONCURRENT_SESSIONS = True

    def __init__(self, env_id: str, env_kwargs: dict[str, Any] | None = None) -> None:
        global _live
        super().__init__()
        import thinkgym  # noqa: F401  (registers the envs)

        self.env_id = env_id
        self.env = gymnasium.make(env_id, **(env_kwargs or {}))
        self._state = ThinkgymState(env_id=env_id)
        self._closed = False
        with _live_lock:
            _live += 1

    def reset(
        self, seed: int | None = None, episode_id: str | None = None, options: dict[str, Any] | None = None, **_: Any
    ) -> ThinkgymObservation:
        text, info = self.env.reset(seed=seed, options=options)
        problem = info.get("problem") or {}
        self._state = ThinkgymState(
            env_id=self.env_id, episode_id=episode_id, step_count=0, problem_id=problem.get("id"), seed=seed
        )
        return ThinkgymObservation(text=text, info=_json_safe(info), done=False, reward=None)

    def step(self, action: TextAction, timeout_s: float | None = None, **_: Any) -> ThinkgymObservation:
        text, reward, terminated, truncated, info = self.env.step(action.text)
        self._state.step_count += 1
        done = bool(terminated or truncated)
        return ThinkgymObservation(
            text=text, info=_json_safe(info), done=done, reward=float(reward), truncated=bool(truncated)
        )

    @property
    def state(self) -> ThinkgymState:
        return self._state

    def close(self) -> None:
        global _live
        if self._closed:
            return
        self._closed = True
        self.env.close()
        with _live_lock:
            _live -= 1


class ThinkgymClient(EnvClient[TextAction, ThinkgymObservation, ThinkgymState]):
    """OpenEnv's WebSocket client with thinkgym's typed observation and state."""

    def _step_payload(self, action: TextAction) -> dict[str, Any]:
        return action.model_dump()

    def _parse_result(self, payload: dict[str, Any]) -> StepResult[ThinkgymObservation]:
        observation = ThinkgymObservation(
            **payload.get("observation", {}), done=payload.get("done", False), reward=payload.get("reward")
        )
        return StepResult(observation=observation, reward=payload.get("reward"), done=payload.get("done", False))

    def _parse_state(self, payload: dict[str, Any]) -> ThinkgymState:
        return ThinkgymState(**payload)


def make_app(
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    *,
    max_sessions: int = 64,
    session_timeout: float | None = 600.0,
) -> Any:
    """OpenEnv's FastAPI app serving ``env_id``: at most ``max_sessions`` WebSocket sessions at
    once (the next one is refused with ``CAPACITY_REACHED``), each closed after
    ``session_timeout`` idle seconds. Builds and closes one env first, so a bad id or keyword is
    a ``ValueError`` here rather than in every session."""
    from openenv.core.env_server import ConcurrencyConfig, create_fastapi_app

    if isinstance(max_sessions, bool) or not isinstance(max_sessions, int) or max_sessions < 1:
        raise ValueError(f"max_sessions must be an int >= 1, got {max_sessions!r}")
    kwargs = dict(env_kwargs or {})
    try:
        ThinkgymEnvironment(env_id, kwargs).close()
    except (gymnasium.error.Error, TypeError) as exc:
        raise ValueError(f"cannot build {env_id!r} with env kwargs {kwargs}: {exc}") from exc

    def factory() -> ThinkgymEnvironment:
        return ThinkgymEnvironment(env_id, kwargs)

    config = ConcurrencyConfig(max_concurrent_envs=max_sessions, session_timeout=session_timeout)
    app = create_fastapi_app(
        factory, TextAction, ThinkgymObservation, env_name=env_id, concurrency_config=config, state_cls=ThinkgymState
    )

    @app.get("/thinkgym/stats")
    def stats() -> dict[str, int]:
        """Live envs in this server and its descendant processes (sandboxes, their zygote)."""
        return {"live_envs": live_sessions(), "processes": len(descendants(os.getpid()))}

    return app


def serve(
    env_id: str,
    env_kwargs: dict[str, Any] | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    max_sessions: int = 64,
    session_timeout: float | None = 600.0,
) -> None:
    """Serves ``env_id`` until interrupted (see :func:`make_app`)."""
    import uvicorn

    app = make_app(env_id, env_kwargs, max_sessions=max_sessions, session_timeout=session_timeout)
    uvicorn.run(app, host=host, port=port, log_level="warning")
