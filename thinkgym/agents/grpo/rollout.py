"""Rollouts: play episodes of any thinkgym env with the policy, keeping the exact token ids.

One episode is a list of :class:`Segment` rows, each ``prompt_ids`` + ``completion_ids`` with a
``mask`` over the completion (1 = sampled by the policy and trained on, 0 = written by the env).
All episodes of a batch advance in lock-step, one model turn at a time, so every turn is one
batched call to the sampler. After a step that does not end the episode, the new observation is
placed according to :func:`observation_mode`:

* ``"user"`` (default): a new user message in the chat template, appended to the row (masked);
* ``"inline"``: raw text appended inside the model's turn, which then continues (masked). This is
  :class:`thinkgym.envs.code_interpreter.CodeInterpreter`'s protocol (its info has ``env_text``;
  CoRT §3.4 masks interpreter output), whose per-turn ``info["stop"]`` strings are honoured;
* ``"new_context"``: a fresh prompt, i.e. a new row. With
  :class:`thinkgym.envs.markovian.MarkovianThinking` (its info has ``carryover_ids``) the prompt
  is the episode's first prompt ids followed by the carryover ids verbatim (Delethink's
  ``orig_prompt_ids ++ carry``), the chunk budget is ``info["max_new_tokens"]``, and the response
  keeps its end-of-turn token so the wrapper can see the episode end. Every chunk row shares the
  episode's advantage (mechanics.md §2.4).

Earlier turns are never re-rendered or re-tokenised, so each row is exactly what the model saw.
The G episodes of a group share one instance: each is reset with the same seed. The episode's
reward is the sum of its step rewards; it is correct when the last ``info["verdict"]`` says so, and
a verifier error when that verdict says the verifier could not decide (``verifier_error``): the
trainer leaves such episodes out of the advantages and the loss.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import gymnasium

from thinkgym.agents.grpo.chat import ChatFormat
from thinkgym.agents.grpo.sampling import Completion, step_seed

__all__ = [
    "EVAL_SEED_BASE",
    "EnvPool",
    "Episode",
    "OBS_MODES",
    "ProblemStream",
    "Segment",
    "held_out_seeds",
    "observation_mode",
    "play_episodes",
]

OBS_MODES = ("user", "inline", "new_context")
EVAL_SEED_BASE = 2**62  # held-out problems; training seeds (run seed * 2**40 + position) stay below it
# (prompts, temperature, seed, max_new_tokens per prompt, stop strings per prompt) -> completions
Sampler = Callable[[list[list[int]], float, int, list[int], list[list[str]]], list[Completion]]


@dataclass
class Segment:
    """One training row: the policy is trained on ``completion_ids`` where ``mask`` is 1."""

    prompt_ids: list[int]
    completion_ids: list[int] = field(default_factory=list)
    mask: list[int] = field(default_factory=list)

    def extend(self, ids: list[int], trained: bool) -> None:
        self.completion_ids += ids
        self.mask += [int(trained)] * len(ids)


@dataclass
class Episode:
    """One played episode: its training rows, its return, and the texts the env received."""

    seed: int
    problem_id: str
    prompt: str
    segments: list[Segment]
    reward: float = 0.0
    correct: bool = False
    truncated: bool = False  # the model hit max_new_tokens in its last turn, or max_turns ran out
    verifier_error: bool = False  # the last verdict could not be reached (timeout, crashed checker)
    turns: int = 0
    responses: list[str] = field(default_factory=list)

    @property
    def policy_tokens(self) -> int:
        return sum(sum(s.mask) for s in self.segments)

    def trace(self) -> dict[str, Any]:
        """A JSON line for ``traces.jsonl``, the input format of REDI (:mod:`.redi`)."""
        return {
            "problem_id": self.problem_id,
            "seed": self.seed,
            "prompt": self.prompt,
            "response": "".join(self.responses),
            "reward": self.reward,
            "correct": self.correct,
            "turns": self.turns,
            "truncated": self.truncated,
            "verifier_error": self.verifier_error,
        }


class EnvPool:
    """``gymnasium.make(env_id, **env_kwargs)`` instances, one per concurrent episode, reused. An
    env keyword whose value is the string ``"policy"`` receives the policy's own object: the
    tokenizer for ``tokenizer``, the end-of-turn text for ``eos_token`` (what a Markovian-thinking
    env needs to cut chunks on the policy's token ids)."""

    def __init__(self, env_id: str, env_kwargs: dict[str, Any] | None = None, chat: ChatFormat | None = None) -> None:
        self.env_id, self.env_kwargs = env_id, dict(env_kwargs or {})
        policy_values = {"tokenizer": chat.tokenizer if chat else None, "eos_token": chat.end_text if chat else None}
        for key, value in self.env_kwargs.items():
            if value == "policy":
                if policy_values.get(key) is None:
                    raise ValueError(f"env kwarg {key}='policy': only tokenizer and eos_token can take the policy's")
                self.env_kwargs[key] = policy_values[key]
        self.envs: list[gymnasium.Env] = []

    def get(self, n: int) -> list[gymnasium.Env]:
        while len(self.envs) < n:
            self.envs.append(gymnasium.make(self.env_id, **self.env_kwargs))
        return self.envs[:n]

    def close(self) -> None:
        for env in self.envs:
            env.close()
        self.envs = []


def observation_mode(info: dict[str, Any]) -> str:
    """Where a non-final observation goes: ``info["obs_mode"]`` when the env says, else by the
    wrappers' protocols (``carryover_ids``: new_context, ``env_text``: inline), else ``"user"``."""
    if "obs_mode" in info:
        mode = info["obs_mode"]
    elif "carryover_ids" in info:
        mode = "new_context"
    elif "env_text" in info:
        mode = "inline"
    else:
        mode = "user"
    if mode not in OBS_MODES:
        raise ValueError(f"info['obs_mode'] must be one of {OBS_MODES}, got {mode!r}")
    return mode


def held_out_seeds(count: int) -> list[int]:
    """Seeds of the first ``count`` held-out problems (the same in ``thinkgym train`` and ``sft``)."""
    return [EVAL_SEED_BASE + i for i in range(count)]


class ProblemStream:
    """Training problem seeds ``base, base+1, ...``, skipping any problem whose id is held out.
    The position is the whole state, so a resumed run continues with the same problems."""

    def __init__(self, base: int, is_held_out: Callable[[str], bool]) -> None:
        self.base, self.is_held_out, self.position = base, is_held_out, 0

    def take(self, env: gymnasium.Env, count: int, options: dict[str, Any] | None = None) -> list[int]:
        seeds, skipped = [], 0
        while len(seeds) < count:
            seed = self.base + self.position
            self.position += 1
            _, info = env.reset(seed=seed, options=options)
            if not self.is_held_out(info["problem"]["id"]):
                seeds.append(seed)
            else:
                skipped += 1
                if skipped > 1000 + 100 * count:
                    raise ValueError(
                        "nearly every problem drawn is held out: the env has too few distinct problems "
                        "for this many held-out ones (lower eval_problems or make the task larger)"
                    )
        return seeds

    def state_dict(self) -> dict[str, int]:
        return {"position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.position = int(state["position"])


def play_episodes(
    envs: Sequence[gymnasium.Env],
    seeds: Sequence[int],
    sampler: Sampler,
    chat: ChatFormat,
    *,
    temperature: float,
    seed: int,
    max_new_tokens: int,
    max_turns: int = 1,
    stop: Sequence[str] = (),
    options: dict[str, Any] | None = None,
) -> list[Episode]:
    """Plays ``envs[i]`` from ``reset(seed=seeds[i], options=options)`` to the end (or
    ``max_turns`` model turns), sampling all live episodes together at each turn. A turn may
    generate ``max_new_tokens`` (less where the env's ``info["max_new_tokens"]`` says so) and
    stops at ``stop`` or the env's ``info["stop"]`` strings."""
    episodes, infos, first_prompts = [], [], []
    for env, s in zip(envs, seeds, strict=True):
        observation, info = env.reset(seed=s, options=options)
        problem_id = info.get("problem", {}).get("id", str(s))
        prompt_ids = chat.prompt_ids(observation, info)
        if "query_ids" in info and info["query_ids"] != chat.encode(observation):
            raise ValueError(
                "the env tokenises with another tokenizer than the policy's: pass it env kwargs "
                "tokenizer='policy' and eos_token='policy'"
            )
        episodes.append(Episode(s, problem_id, observation, [Segment(prompt_ids)]))
        infos.append(info)
        first_prompts.append(prompt_ids)
    live = list(range(len(episodes)))
    for turn in range(max_turns):
        contexts = [episodes[i].segments[-1].prompt_ids + episodes[i].segments[-1].completion_ids for i in live]
        budgets = [min(max_new_tokens, infos[i].get("max_new_tokens", max_new_tokens)) for i in live]
        stops = [[*stop, *infos[i].get("stop", [])] for i in live]
        completions = sampler(contexts, temperature, step_seed(seed, turn), budgets, stops)
        still_live = []
        for i, completion in zip(live, completions, strict=True):
            episode, env = episodes[i], envs[i]
            episode.segments[-1].extend(completion.ids, trained=True)
            response = chat.decode(completion.ids, keep_end="carryover_ids" in infos[i])
            episode.responses.append(response)
            observation, reward, terminated, truncated, info = env.step(response)
            infos[i] = info
            episode.reward += float(reward)
            episode.turns += 1
            episode.correct = bool(info.get("verdict", {}).get("correct", False))
            episode.verifier_error = bool(info.get("verdict", {}).get("verifier_error", False))
            if terminated or truncated:
                episode.truncated = truncated or not completion.stopped
                continue
            if turn == max_turns - 1:
                episode.truncated = True
                continue
            mode = observation_mode(info)
            if mode == "user":
                last = completion.ids[-1] if completion.ids else None
                episode.segments[-1].extend(chat.env_turn_ids(observation, last), trained=False)
            elif mode == "inline":
                episode.segments[-1].extend(chat.encode(observation), trained=False)
            elif "carryover_ids" in info:
                episode.segments.append(Segment(first_prompts[i] + list(info["carryover_ids"])))
            else:
                episode.segments.append(Segment(chat.prompt_ids(observation, info)))
            still_live.append(i)
        live = still_live
        if not live:
            break
    return episodes
