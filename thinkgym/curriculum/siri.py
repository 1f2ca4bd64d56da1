"""SIRI's cosine schedule for the maximum response length: compress, expand, repeat.

SIRI: Wen, Bai, Li and Tang, "SIRI: Scaling Iterative Reinforcement Learning with Interleaved
Compression", arXiv 2509.25176, Sec. 3 (released models THU-KEG/SIRI-{1.5B,7B}-{low,high}). The
maximum rollout length alternates between a compression phase (short budget: fewer redundant
tokens) and an expansion phase (long budget: room to explore); truncated responses score 0. Of
its stair, cosine and stair-cosine schedulers the released models use the cosine one, and the best
results came after three compress/expand iterations.

No official code was found, so the exact form and numbers are not confirmed: the form below and
the defaults L_low = 8192, L_high = 16384 (consistent with the reported -46.9% tokens from a ~16K
base) follow the research notes (objectives.md Sec. 5). The phase starts at L_high and compresses
first.
"""

from __future__ import annotations

import math

__all__ = ["siri_max_length"]


def siri_max_length(step: int, period: int, low: int = 8192, high: int = 16384) -> int:
    """The maximum response length at training ``step``::

        L(t) = L_low + (L_high − L_low)·(1 + cos(2π·t / T)) / 2

    rounded to the nearest integer: L_high at t = 0, L_low at t = T/2 (end of compression), back
    to L_high at t = T (end of expansion); one period T is one SIRI iteration.
    """
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}")
    if period < 1:
        raise ValueError(f"period must be >= 1 step, got {period}")
    if not 0 < low <= high:
        raise ValueError(f"need 0 < low <= high, got low={low}, high={high}")
    return round(low + (high - low) * (1.0 + math.cos(2.0 * math.pi * step / period)) / 2.0)
