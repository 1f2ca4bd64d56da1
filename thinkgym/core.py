"""The two types every layer shares: :class:`Problem` (a task instance) and :class:`Verdict`
(the judgement of one response to it).

Both are plain dataclasses that round-trip through JSON (``to_dict`` / ``from_dict``), so
problems can be exported, replayed through ``reset(options={"problem": ...})`` and shipped to
other processes. A problem's ``id`` is a stable content hash: the same content gives the same id
on every machine and Python version, which is what the leakage checks between splits rely on.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Problem", "Verdict", "stable_id"]


def _canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def stable_id(family: str, content: Any) -> str:
    """A machine-independent id: ``family`` plus the first 96 bits of the SHA-256 of the
    canonical JSON of ``content`` (keys sorted, no whitespace)."""
    digest = hashlib.sha256(_canonical_json([family, content]).encode("utf-8")).hexdigest()
    return f"{family}-{digest[:24]}"


@dataclass(kw_only=True)
class Problem:
    """One task instance.

    Attributes:
        id: stable hash of the content (computed from ``family``, ``prompt`` and ``answer``
            when not given; generators pass a hash of the instance itself, so re-wording the
            prompt does not change the id).
        prompt: the text shown to the model.
        answer: a reference answer as text (for SAT the planted assignment; any satisfying
            assignment is accepted by the verifier).
        params: the generator parameters that produced it.
        difficulty: a scalar difficulty estimate (for SAT, SATURN's D of paper Eq. 2).
        family: the task family, e.g. ``"sat"``.
        metadata: task-specific, JSON-serialisable fields (SAT: ``clauses``, ``num_vars``).
    """

    id: str = ""
    prompt: str
    answer: str
    params: dict[str, Any] = field(default_factory=dict)
    difficulty: float = 0.0
    family: str
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.id:
            self.id = stable_id(self.family, {"prompt": self.prompt, "answer": self.answer})

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict. ``params`` and ``metadata`` are shared, not copied."""
        return {
            "id": self.id,
            "prompt": self.prompt,
            "answer": self.answer,
            "params": self.params,
            "difficulty": self.difficulty,
            "family": self.family,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Problem:
        """Inverse of :meth:`to_dict`; unknown keys are a ``ValueError``."""
        if not isinstance(data, dict):
            raise TypeError(f"Problem.from_dict expects a dict, got {type(data).__name__}")
        known = {"id", "prompt", "answer", "params", "difficulty", "family", "metadata"}
        extra = set(data) - known
        if extra:
            raise ValueError(f"unknown Problem field(s) {sorted(extra)}; valid: {sorted(known)}")
        missing = {"prompt", "answer", "family"} - set(data)
        if missing:
            raise ValueError(f"Problem dict lacks required field(s) {sorted(missing)}")
        return cls(
            id=data.get("id", ""),
            prompt=data["prompt"],
            answer=data["answer"],
            params=dict(data.get("params") or {}),
            difficulty=float(data.get("difficulty", 0.0)),
            family=data["family"],
            metadata=dict(data.get("metadata") or {}),
        )

    def to_json(self) -> str:
        return _canonical_json(self.to_dict())


@dataclass
class Verdict:
    """The judgement of one response.

    Attributes:
        correct: the response solves the problem.
        format_ok: an answer could be read from the response at all.
        score: the task score in [0, 1] (1.0 when correct; partial credit where a task has it).
        reason: machine-readable cause, e.g. ``"correct"``, ``"no_answer"``, ``"wrong_length"``,
            ``"timeout"``.
        details: free-form diagnostics (the extracted answer, the first unsatisfied clause, ...).
        verifier_error: the verifier could not decide (timeout, crashed checking worker, internal
            error, invalid gold). Such a verdict is neither right nor wrong: ``correct`` and
            ``format_ok`` are False, envs pay ``rewards["verifier_error"]`` and trainers leave the
            episode out of the loss.
    """

    correct: bool
    format_ok: bool
    score: float
    reason: str
    details: dict[str, Any] = field(default_factory=dict)
    verifier_error: bool = False

    def __post_init__(self) -> None:
        if self.verifier_error and (self.correct or self.format_ok):
            raise ValueError("a verifier_error verdict is neither correct nor format_ok")

    def to_dict(self) -> dict[str, Any]:
        return {
            "correct": self.correct,
            "format_ok": self.format_ok,
            "score": self.score,
            "reason": self.reason,
            "details": self.details,
            "verifier_error": self.verifier_error,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(
            correct=bool(data["correct"]),
            format_ok=bool(data["format_ok"]),
            score=float(data["score"]),
            reason=str(data["reason"]),
            details=dict(data.get("details") or {}),
            verifier_error=bool(data.get("verifier_error", False)),
        )
