"""Evaluation metrics shared by the curricula and the sweeps."""

from __future__ import annotations

import math

__all__ = ["pass_at_k"]


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator of Chen et al. (2021), as SATURN evaluates it
    (Saturn-code ``src/sample/eval_k.py``): with n samples of which c are correct,
    pass@k = 1 - C(n-c, k) / C(n, k), computed as 1 - prod_{i=n-c+1}^{n} (1 - k/i) for stability.
    """
    for name, value in (("n", n), ("c", c), ("k", k)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if c > n:
        raise ValueError(f"c (correct samples) must be in 0..n={n}, got {c}")
    if not 1 <= k <= n:
        raise ValueError(f"k must be in 1..n={n}, got {k}")
    if n - c < k:
        return 1.0
    return 1.0 - math.prod(1.0 - k / i for i in range(n - c + 1, n + 1))
