"""``BandCurriculum``: move the difficulty level to keep the training pass rate inside a band.

GRPO learns only from groups whose rewards differ: a group that is all correct or all wrong has
zero advantage everywhere (DeepSeekMath arXiv 2402.03300 Eq. 3; the dynamic sampling of DAPO,
arXiv 2503.14476, over-samples to drop such groups). A pass rate p gives a mixed group of G
samples with probability 1 − p^G − (1 − p)^G: at G = 8 that is 83% for p = 0.2 or 0.8 and 99%
for p = 0.5, so keeping p inside [lo, hi] keeps most groups useful.
This controller does that online from the training rollouts themselves, where SATURN's controller
(:class:`~thinkgym.curriculum.saturn.SaturnCurriculum`) gates each step up on a held-out
validation set.

Rule: results are kept in a window of the last ``window`` results *at the current level* (cleared
on every move). Once it holds ``min_samples`` results, a windowed pass rate above ``hi`` moves one
level up, below ``lo`` one level down. Hysteresis: a move straight back to the level just left
needs a full window of evidence, so noise near a band edge does not flip the level back and forth.
When no level's pass rate lies in the band (one level is too easy and the next too hard), the
controller alternates between those two, every ``window`` results.

Usage::

    band = BandCurriculum(levels=range(1, 16), lo=0.2, hi=0.8)
    prompt, info = env.reset(options={"level": band.level})
    ...
    band.update(group_correct, level=info["level"])   # True when the level changed
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["BandCurriculum"]


class BandCurriculum:
    """Pass-rate band controller (see the module docstring).

    Args:
        levels: the levels in order of difficulty, easiest first (e.g. ``sorted(env.levels)``).
        lo, hi: the band; move down below ``lo``, up above ``hi``.
        window: how many recent results at the current level the pass rate is measured on.
        min_samples: results needed at a level before the first move away from it.
        start: the starting level (default: the easiest).
    """

    def __init__(
        self,
        levels: Iterable[int],
        *,
        lo: float = 0.2,
        hi: float = 0.8,
        window: int = 64,
        min_samples: int = 32,
        start: int | None = None,
    ) -> None:
        self.levels: Sequence[int] = list(levels)
        if not self.levels:
            raise ValueError("levels must name at least one level")
        if len(set(self.levels)) != len(self.levels):
            raise ValueError(f"levels must be distinct, got {self.levels}")
        if not 0.0 <= lo < hi <= 1.0:
            raise ValueError(f"need 0 <= lo < hi <= 1, got lo={lo}, hi={hi}")
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        if not 1 <= min_samples <= window:
            raise ValueError(f"min_samples must be in 1..window={window}, got {min_samples}")
        if start is not None and start not in self.levels:
            raise ValueError(f"start must be one of {self.levels}, got {start!r}")
        self.lo, self.hi = lo, hi
        self.window, self.min_samples = window, min_samples
        self.index = 0 if start is None else self.levels.index(start)
        self.previous: int | None = None  # index of the level left by the last move
        self.recent: deque[bool] = deque(maxlen=window)
        self.history: list[dict[str, Any]] = []

    @property
    def level(self) -> int:
        return self.levels[self.index]

    @property
    def pass_rate(self) -> float | None:
        """The windowed pass rate at the current level (None before any result)."""
        return sum(self.recent) / len(self.recent) if self.recent else None

    def update(self, results: bool | Iterable[bool], level: int | None = None) -> bool:
        """Records results (one bool or many, e.g. a GRPO group's correctness) and moves when the
        rule says so. ``level``: the level the results were played at; results from another level
        (rollouts started before the last move) are ignored. Returns True when the level changed."""
        if level is not None and level != self.level:
            return False
        self.recent.extend((bool(r) for r in results) if isinstance(results, Iterable) else [bool(results)])
        rate = self.pass_rate
        if rate is None or len(self.recent) < self.min_samples:
            return False
        if rate > self.hi and self.index < len(self.levels) - 1:
            target = self.index + 1
        elif rate < self.lo and self.index > 0:
            target = self.index - 1
        else:
            return False
        if target == self.previous and len(self.recent) < self.window:
            return False
        move = {"level": self.level, "to": self.levels[target], "pass_rate": rate, "samples": len(self.recent)}
        self.history.append(move)
        self.previous, self.index = self.index, target
        self.recent.clear()
        return True

    def state_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "previous": self.previous,
            "recent": list(self.recent),
            "history": [dict(h) for h in self.history],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        index = int(state["index"])
        if not 0 <= index < len(self.levels):
            raise ValueError(f"state index {index} is outside these {len(self.levels)} levels")
        self.index = index
        self.previous = None if state["previous"] is None else int(state["previous"])
        self.recent = deque((bool(r) for r in state["recent"]), maxlen=self.window)
        self.history = [dict(h) for h in state["history"]]
