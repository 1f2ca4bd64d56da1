"""``MarkovianThinking``: reason in fixed-size chunks with a bounded carryover (Delethink).

Source: "The Markovian Thinker", arXiv 2510.06557 (McGill-NLP); code McGill-NLP/the-markovian-thinker,
``verl/experimental/agent_loop/delethink_agent_loop.py`` with the ``progressive`` trimmer of
``delethink_trimmers.py``. Symbols and defaults follow shared/reference/mechanics.md §2.1: chunk size C = 8192,
carryover m = C/2 = 4096, head = 100 (so the tail keeps m − head = 3996), at most I = 5 chunks.

Wraps any single-turn thinkgym env (reset -> prompt, one scored step). The policy thinks in chunks; the context it
sees never exceeds the query plus C tokens, so compute grows linearly with the thinking length and memory stays
flat (benchmarks/bench_markovian.py measures both).

Observation: at reset the query (the inner env's prompt). After a chunk that does not end the episode, the query
followed by the carryover: the first ``head`` tokens of chunk 1 and the last ``carryover − head`` tokens of the
trace kept so far (the previous carryover plus the latest chunk), cut on token ids of the policy's tokenizer and
decoded (mechanics.md §2.2). ``info["carryover_ids"]`` holds those ids verbatim: a byte-level cut can split a
character, so a policy should build its next prompt as its own prompt ids for the query followed by
``carryover_ids`` (Delethink's ``orig_prompt_ids ++ carry``), not by re-encoding the decoded text.

Action: the next chunk (``str``). Chunk 1 may have at most C tokens and every later chunk at most C − m (so the
active context stays within query + C); a longer chunk is a ``ValueError`` that names the limit.
``info["max_new_tokens"]`` is the budget of the next chunk. The chunk is encoded with the tokenizer (without
special tokens added); a chunk that ends with the tokenizer's ``eos_token`` text ended on EOS.

Episode end: on EOS (Delethink's only early stop) or as soon as the inner env's verifier reads a final answer
(``Verdict.format_ok``) in the carryover plus the latest chunk; that text is then scored by the inner env's
``step`` (mechanics.md §2.3: Delethink scores the final chunk's carryover plus response), ``terminated=True``.
After ``max_chunks`` chunks without either the episode is truncated (``truncated=True``) and the same text is
scored. ``info["finish_reason"]`` is ``"eos"``, ``"answer"`` or ``"max_chunks"``.

Reward: 0 for every chunk but the last; the inner env's reward for the last.

Info: the inner env's info plus ``thinking_budget`` = C + (I−1)(C−m) (mechanics.md §2.1: 24,576 at the defaults),
``chunks`` (one ``{"prompt_ids", "completion_ids"}`` per chunk so far, the prompt being ``query_ids`` plus the
carryover ids), ``trace_length`` (generated tokens so far); at reset ``query_ids``; while the
episode runs ``max_new_tokens`` and ``carryover_ids`` for the next chunk. :func:`training_rows` turns ``chunks``
into Delethink's training rows. Completion ids are the tokenizer's encoding of the chunk text: exactly what a
byte-level tokenizer sampled, a canonical re-encoding for a BPE one.

Arguments: ``env``, ``tokenizer`` (anything with ``encode(str) -> ids`` and ``decode(ids) -> str``, e.g. a
Hugging Face tokenizer; :class:`CharTokenizer` by default in the factories), ``chunk_size`` (C), ``carryover``
(m), ``head``, ``max_chunks`` (I), ``eos_token`` (the stop text, e.g. ``"<|im_end|>"`` for a chat model; default
``tokenizer.eos_token``; with neither, only a final answer ends an episode early). Every info is a fresh deep copy
and the wrapper keeps its own copy of the problem, so editing an info changes no later chunk, verdict or reward.
A verdict the verifier could not reach (``verifier_error``) counts as a final answer read: the text is scored by the
inner env, which pays its ``rewards["verifier_error"]``. Registered as
``Markovian-SAT-v0`` and ``Markovian-Math-v0`` (:func:`make_markovian`, ``preset="delethink"`` or ``"tiny"``).

Version history: v0 — first release.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

import gymnasium
from gymnasium.envs.registration import load_env_creator
from gymnasium.error import ResetNeeded

from thinkgym.core import Problem
from thinkgym.envs.base import fresh, own_problem
from thinkgym.envs.registration import ENVS

__all__ = [
    "PRESETS",
    "CharTokenizer",
    "MarkovianThinking",
    "make_markovian",
    "make_markovian_math",
    "make_markovian_sat",
    "training_rows",
]

# Delethink's 24K setting (mechanics.md §2.1) and a small one for tests and CPU demos.
PRESETS: dict[str, dict[str, int]] = {
    "delethink": {"chunk_size": 8192, "carryover": 4096, "head": 100, "max_chunks": 5},
    "tiny": {"chunk_size": 64, "carryover": 32, "head": 8, "max_chunks": 4},
}
_WRAPPER_ARGS = ("chunk_size", "carryover", "head", "max_chunks", "eos_token")


class Tokenizer(Protocol):
    """What the wrapper needs of a tokenizer (a Hugging Face tokenizer qualifies)."""

    def encode(self, text: str) -> Sequence[int]: ...

    def decode(self, ids: Sequence[int]) -> str: ...


class CharTokenizer:
    """One token per Unicode character (its code point), plus one end-of-sequence token: ``eos_token`` encodes to
    the single id ``eos_token_id``, one past the last code point. Every string round-trips exactly."""

    eos_token = "<|endoftext|>"
    eos_token_id = 0x110000

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for i, piece in enumerate(text.split(self.eos_token)):
            if i:
                ids.append(self.eos_token_id)
            ids.extend(map(ord, piece))
        return ids

    def decode(self, ids: Iterable[int]) -> str:
        return "".join(self.eos_token if i == self.eos_token_id else chr(i) for i in ids)


def _encoder(tokenizer: Tokenizer) -> Callable[[str], list[int]]:
    """``tokenizer.encode`` without BOS or other special tokens added, where the tokenizer has that switch."""
    if not (callable(getattr(tokenizer, "encode", None)) and callable(getattr(tokenizer, "decode", None))):
        raise TypeError(f"tokenizer must have encode(str) and decode(ids) methods, got {type(tokenizer).__name__}")
    try:
        params = inspect.signature(tokenizer.encode).parameters
    except (TypeError, ValueError):  # some builtins have no signature
        params = {}
    if "add_special_tokens" in params:
        return lambda text: [int(i) for i in tokenizer.encode(text, add_special_tokens=False)]
    return lambda text: [int(i) for i in tokenizer.encode(text)]


def _check_int(name: str, value: Any, low: int, high: int | None, why: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        valid = f">= {low}" if high is None else f"in {low}..{high}"
        raise ValueError(f"{name} must be an int {valid} ({why}), got {value!r}")
    return value


class MarkovianThinking(gymnasium.Wrapper[str, str, str, str]):
    """Delethink's chunked rollout over a single-turn text env (see the module docstring)."""

    def __init__(
        self,
        env: gymnasium.Env[str, str],
        tokenizer: Tokenizer,
        chunk_size: int = 8192,
        carryover: int = 4096,
        head: int = 100,
        max_chunks: int = 5,
        eos_token: str | None = None,
    ) -> None:
        super().__init__(env)
        self.tokenizer = tokenizer
        self._encode = _encoder(tokenizer)
        self.chunk_size = _check_int("chunk_size", chunk_size, 2, None, "tokens per chunk, C")
        self.carryover = _check_int("carryover", carryover, 1, chunk_size - 1, "carried tokens m, below chunk_size")
        self.head = _check_int("head", head, 0, carryover - 1, "kept tokens of chunk 1, below carryover")
        self.max_chunks = _check_int("max_chunks", max_chunks, 1, None, "chunks per episode, I")
        if eos_token is None:
            eos_token = getattr(tokenizer, "eos_token", None)
        if eos_token is not None and (not isinstance(eos_token, str) or not eos_token):
            raise ValueError(f"eos_token must be a non-empty str or None, got {eos_token!r}")
        self.eos_token = eos_token
        self._problem: Problem | None = None  # the wrapper's own copy: no info holds it
        self._query = ""
        self._query_ids: list[int] = []
        self._chunks: list[dict[str, list[int]]] = []
        self._carry_ids: list[int] = []
        self._carry_text = ""
        self._last_text = ""

    @property
    def thinking_budget(self) -> int:
        """C + (I−1)(C−m): the most tokens one episode can generate (mechanics.md §2.1)."""
        return self.chunk_size + (self.max_chunks - 1) * (self.chunk_size - self.carryover)

    def max_new_tokens(self, chunk: int) -> int:
        """The token budget of chunk number ``chunk`` (1-based): C for the first, C − m after."""
        return self.chunk_size if chunk == 1 else self.chunk_size - self.carryover

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
        prompt, info = self.env.reset(seed=seed, options=options)
        self._problem = own_problem(Problem.from_dict(info["problem"]))
        self._query, self._query_ids = prompt, self._encode(prompt)
        self._chunks, self._carry_ids, self._carry_text = [], [], ""
        self._last_text = prompt
        return prompt, {**info, **self._progress(), "query_ids": list(self._query_ids)}

    def step(self, action: str) -> tuple[str, float, bool, bool, dict[str, Any]]:
        if not isinstance(action, str):
            raise TypeError(f"action must be a str (the model's next chunk), got {type(action).__name__}")
        if self._problem is None:
            raise ResetNeeded("call reset() before step(), and again after an episode ends")
        index = len(self._chunks) + 1
        ids = self._encode(action)
        limit = self.max_new_tokens(index)
        # A sampled chunk that ends mid-character (or a byte-level model's invalid bytes) decodes to
        # U+FFFD, which re-encodes longer than the one token sampled: count each as one token.
        replaced = action.count("\ufffd")
        extra = (len(self._encode("\ufffd")) - 1) * replaced if replaced else 0
        if len(ids) - extra > limit:
            raise ValueError(
                f"chunk {index} has {len(ids)} tokens; the limit is {limit} tokens "
                f"(chunk_size={self.chunk_size} for chunk 1, chunk_size - carryover = "
                f"{self.chunk_size - self.carryover} for later chunks)"
            )
        self._chunks.append({"prompt_ids": self._query_ids + self._carry_ids, "completion_ids": ids})
        self._last_text = action
        scored = self._carry_text + action
        if self.eos_token is not None and action.endswith(self.eos_token):
            finish = "eos"
        elif self._answer_read(scored):
            finish = "answer"
        elif index == self.max_chunks:
            finish = "max_chunks"
        else:
            self._carry_over(ids)
            if self.render_mode == "human":
                self.render()  # the inner env renders the last chunk, when it scores it
            info = {"problem": fresh(self._problem.to_dict()), **self._progress()}
            return self._query + self._carry_text, 0.0, False, False, info
        self._problem = None
        _, reward, _, _, info = self.env.step(scored)
        truncated = finish == "max_chunks"
        return "", reward, not truncated, truncated, {**info, **self._progress(), "finish_reason": finish}

    def _answer_read(self, text: str) -> bool:
        """Whether the inner env's verifier reads a final answer in ``text`` (or reads one it cannot judge)."""
        verdict = self.env.unwrapped.verify(text, own_problem(self._problem))
        return verdict.format_ok or verdict.verifier_error

    def _carry_over(self, ids: list[int]) -> None:
        """The ``progressive`` trimmer: head + tail of (previous carryover ++ latest chunk), token-exact."""
        kept = self._carry_ids + ids
        if len(kept) > self.carryover:
            kept = kept[: self.head] + kept[len(kept) - (self.carryover - self.head) :]
        self._carry_ids = kept
        self._carry_text = self.tokenizer.decode(kept)

    def _progress(self) -> dict[str, Any]:
        progress: dict[str, Any] = {
            "thinking_budget": self.thinking_budget,
            "chunks": fresh(self._chunks),
            "trace_length": sum(len(c["completion_ids"]) for c in self._chunks),
        }
        if self._problem is not None:
            progress["max_new_tokens"] = self.max_new_tokens(len(self._chunks) + 1)
            progress["carryover_ids"] = list(self._carry_ids)
        return progress

    def render(self) -> str | None:
        """The latest chunk (the query after reset): returned in ``"ansi"`` mode, printed in ``"human"`` mode."""
        if self.render_mode == "ansi":
            return self._last_text
        if self.render_mode == "human":
            print(self._last_text)
        return None


def training_rows(
    chunks: Sequence[Mapping[str, Sequence[int]]], advantage: float, query_ids: Sequence[int] | None = None
) -> list[dict[str, Any]]:
    """Delethink's training rows for one trajectory (mechanics.md §2.4, verl/trainer/delethink_ppo/ray_trainer.py).

    One row per chunk, ``(prompt_ids, completion_ids)``, each with the trajectory's scalar ``advantage`` (GRPO on
    the final-chunk reward, computed per trajectory before flattening; step 2) and ``loss_weight`` = 1 / L_traj,
    where L_traj = Σ_t |r_t| counts the generated tokens of all the trajectory's chunks (step 3, loss mode
    ``seq-mean-token-norm-trace-length`` with ``use_flat_batch_correction_ratio``). The loss is then

        L = (1/B) Σ_traj (1/L_traj) Σ_chunks Σ_tokens ℓ_tok = (1/B) Σ_rows loss_weight · Σ_tokens ℓ_tok,

    with B the number of trajectories (not rows): a token mean within each trajectory across its chunks, then a
    mean over trajectories, so a long trajectory split into many rows weighs as much as a short one.

    ``query_ids``: the policy's own ids for the query (e.g. chat-templated), put in place of the env's plain
    encoding at the start of every prompt; the carryover ids after it are kept as they are.
    """
    trace_length = sum(len(chunk["completion_ids"]) for chunk in chunks)
    weight = 1.0 / trace_length if trace_length else 0.0
    plain_query = len(chunks[0]["prompt_ids"]) if chunks else 0  # chunk 1's prompt is the query alone
    rows = []
    for chunk in chunks:
        prompt = list(chunk["prompt_ids"])
        if query_ids is not None:
            prompt = list(query_ids) + prompt[plain_query:]
        rows.append(
            {
                "prompt_ids": prompt,
                "completion_ids": list(chunk["completion_ids"]),
                "advantage": float(advantage),
                "loss_weight": weight,
            }
        )
    return rows


def make_markovian(
    env_id: str, *, tokenizer: Tokenizer | None = None, preset: str = "delethink", **kwargs: Any
) -> MarkovianThinking:
    """:class:`MarkovianThinking` over the registered single-turn env ``env_id`` (loaded from its entry point, so
    only on use). ``preset`` picks the defaults (:data:`PRESETS`); ``chunk_size``, ``carryover``, ``head``,
    ``max_chunks`` and ``eos_token`` override them; every other keyword goes to the inner env. The tokenizer
    defaults to :class:`CharTokenizer`: pass the policy's own for token-exact chunks."""
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    if env_id not in ENVS:
        raise ValueError(f"{env_id} is not a registered thinkgym env; known: {sorted(ENVS)}")
    wrapper_kwargs = {**PRESETS[preset], **{k: kwargs.pop(k) for k in _WRAPPER_ARGS if k in kwargs}}
    env = load_env_creator(ENVS[env_id][0])(**kwargs)
    return MarkovianThinking(env, tokenizer if tokenizer is not None else CharTokenizer(), **wrapper_kwargs)


def make_markovian_sat(**kwargs: Any) -> MarkovianThinking:
    """``Markovian-SAT-v0``: Saturn-SAT-v0 solved in Delethink chunks (keywords as :func:`make_markovian`)."""
    return make_markovian("Saturn-SAT-v0", **kwargs)


def make_markovian_math(**kwargs: Any) -> MarkovianThinking:
    """``Markovian-Math-v0``: Math-RLVR-v0 (thinkgym.envs.math) solved in Delethink chunks (keywords as
    :func:`make_markovian`)."""
    return make_markovian("Math-RLVR-v0", **kwargs)
