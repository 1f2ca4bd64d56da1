"""Group-level shapers: the G episodes of one problem (rewards, lengths, correctness) in,
per-episode rewards or advantages out. numpy only.

* GRPO: Shao et al., "DeepSeekMath", arXiv 2402.03300, Eq. 3 and Sec. 4.1.2 (outcome supervision);
  verl ``core_algos.py::compute_grpo_outcome_advantage``.
* Dr. GRPO: Liu et al., "Understanding R1-Zero-Like Training", arXiv 2503.20783 (code
  sail-sg/understand-r1-zero).
* MGPO: WeiboAI, "VibeThinker-1.5B", arXiv 2511.06221, Sec. 3.4 (MaxEnt-guided policy optimisation).
* LASER-D / LASER-DE: Liu et al., arXiv 2505.15612, Sec. 4 (code hkust-nlp/Laser,
  ``length_penalty.py``, ``constants.py``, ``count_length_distribution.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from thinkgym.rewards.length import LASER_ALPHA, laser_de_reward, laser_reward

__all__ = [
    "LASER_BANDS",
    "dr_grpo_advantages",
    "grpo_advantages",
    "laser_band",
    "laser_d_rewards",
    "laser_d_targets",
    "laser_length_candidates",
    "mgpo_advantages",
    "mgpo_weight",
]

LASER_BANDS = ("low", "medium", "high")


def _array(values: Sequence[float], name: str) -> np.ndarray:
    out = np.asarray(values, dtype=np.float64)
    if out.ndim != 1 or out.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence, got shape {out.shape}")
    return out


def grpo_advantages(rewards: Sequence[float], eps: float = 1e-6) -> np.ndarray:
    """GRPO outcome advantages (DeepSeekMath Eq. 3, Sec. 4.1.2): ``A_i = (r_i − mean(r)) / (std(r) + ε)``.

    As verl computes it: the standard deviation is the unbiased one (G − 1), ε = 1e-6 (TRL uses
    1e-4), and a group of one sample gets mean 0 and std 1 (so A = r / (1 + ε)). A group whose
    rewards are all equal (all correct or all wrong) gets zero advantages.
    """
    r = _array(rewards, "rewards")
    if r.size == 1:
        return r / (1.0 + eps)
    return (r - r.mean()) / (r.std(ddof=1) + eps)


def dr_grpo_advantages(rewards: Sequence[float]) -> np.ndarray:
    """Dr. GRPO advantages (arXiv 2503.20783; code ``train_zero_math.py``): ``A_i = r_i − mean(r)``, no division by the
    standard deviation. (Its other change, summing token losses over a constant instead of
    averaging per response, belongs to the loss, not to the advantage.)"""
    r = _array(rewards, "rewards")
    return r - r.mean()


def mgpo_weight(pass_rate: float, lam: float) -> float:
    """MGPO's entropy-deviation weight (VibeThinker Sec. 3.4)::

        D_ME(p‖0.5) = p·ln(p/0.5) + (1−p)·ln((1−p)/0.5)
        w_ME = exp(−λ·D_ME(p‖0.5))

    Natural log (the report does not say; this is the usual convention). 0·ln 0 = 0, so p = 0 and
    p = 1 give D = ln 2 and w = 2^−λ. λ = 0 gives w = 1 (plain GRPO). The report does not give the
    λ it used.
    """
    if not 0.0 <= pass_rate <= 1.0:
        raise ValueError(f"pass_rate must be in [0, 1], got {pass_rate}")
    if lam < 0:
        raise ValueError(f"lam must be >= 0, got {lam}")
    kl = sum(q * math.log(q / 0.5) for q in (pass_rate, 1.0 - pass_rate) if q > 0)
    return math.exp(-lam * kl)


def mgpo_advantages(rewards: Sequence[float], correct: Sequence[bool], lam: float, eps: float = 1e-6) -> np.ndarray:
    """MGPO advantages (VibeThinker Sec. 3.4): ``A'_i = w_ME(p_c)·A_i`` with A_i the GRPO advantage
    (:func:`grpo_advantages`) and p_c the group's pass rate, the fraction of ``correct``. Groups
    near p_c = 0.5, where the model is most uncertain, keep their full weight."""
    ok = _array(correct, "correct")
    r = _array(rewards, "rewards")
    if r.size != ok.size:
        raise ValueError(f"group sequences differ in length: rewards {r.size}, correct {ok.size}")
    return mgpo_weight(float(ok.mean()), lam) * grpo_advantages(r, eps)


def laser_length_candidates(lower: int = 2048, upper: int = 16384, interval: int = 1024) -> list[int]:
    """LASER-D's candidate target lengths (code ``constants.py::get_length_threshold``):
    ``[lower, lower+interval, …]`` up to ``upper`` (the last may pass ``upper`` when the step does
    not divide it, as in the code); below 1024 the list is ``[lower, 1024, 1024+interval, …]``."""
    if not 0 < lower <= upper or interval <= 0:
        raise ValueError(f"need 0 < lower <= upper and interval > 0, got {lower}, {upper}, {interval}")
    if lower < 1024:
        return [lower, *range(1024, upper + interval, interval)]
    return list(range(lower, upper + interval, interval))


def laser_band(correct: Sequence[bool]) -> str:
    """A training prompt's LASER-D difficulty band from its own group accuracy (code
    ``compute_length_reward_larse_d``): ``high`` if acc ≥ 2/3, ``medium`` if 1/3 ≤ acc < 2/3,
    ``low`` otherwise. Compared in integers (3·k against 2·G), so 2/3 exactly is ``high``."""
    k, g = int(np.count_nonzero(correct)), len(correct)
    if g == 0:
        raise ValueError("correct must be non-empty")
    if 3 * k >= 2 * g:
        return "high"
    return "medium" if 3 * k >= g else "low"


def laser_d_targets(
    monitor_correct: Sequence[Sequence[bool]],
    monitor_lengths: Sequence[Sequence[float]],
    candidates: Sequence[int] | None = None,
    expected_correct: int = 1,
) -> dict[str, int | None]:
    """LASER-D's adaptive target length per difficulty band (paper Sec. 4, adaptive
    target length; code ``_choose_target_length`` with ``round_method="floor"``).

    ``monitor_correct[q]`` and ``monitor_lengths[q]`` are the n rollouts of monitor question q
    (LASER: 500 training questions, n = 8, every 20 steps).

    1. Each question goes to a band by its accuracy: ``low`` if acc ≤ 1/3, ``medium`` if ≤ 2/3,
       else ``high`` (closed on the other side than :func:`laser_band`, as in the code).
    2. P(l, band) is the fraction of **all** the band's responses (correct or not) with length ≤ l.
    3. The band's target is the smallest candidate l with ``floor(P(l, band)·m) ≥ expected_correct``,
       m = floor(2n/3) for high, floor(n/3) for medium, 1 for low (at n = 8: coverage ≥ 0.2, ≥ 0.5
       and 1.0).

    A band with no qualifying candidate (or no questions) maps to ``None``: LASER then uses the
    longest response of the current batch, which gives every correct response the bonus, and
    :func:`laser_d_rewards` treats ``None`` that way. The floors are taken in exact integer
    arithmetic, where the code multiplies floats.
    """
    if len(monitor_correct) != len(monitor_lengths):
        raise ValueError(f"{len(monitor_correct)} correctness lists but {len(monitor_lengths)} length lists")
    sizes = {len(c) for c in monitor_correct} | {len(lengths) for lengths in monitor_lengths}
    if len(sizes) > 1:
        raise ValueError(f"every monitor question needs the same number of rollouts, got sizes {sorted(sizes)}")
    n = sizes.pop() if sizes else 0
    if monitor_correct and n == 0:
        raise ValueError("monitor questions need at least one rollout each")
    lengths_by_band: dict[str, list[float]] = {band: [] for band in LASER_BANDS}
    for correct, lengths in zip(monitor_correct, monitor_lengths, strict=True):
        k = int(np.count_nonzero(correct))
        band = "low" if 3 * k <= n else "medium" if 3 * k <= 2 * n else "high"
        lengths_by_band[band].extend(lengths)
    multiplier = {"high": 2 * n // 3, "medium": n // 3, "low": 1}
    candidates = sorted(laser_length_candidates() if candidates is None else candidates)
    targets: dict[str, int | None] = {}
    for band, lengths in lengths_by_band.items():
        targets[band] = None
        for limit in candidates:
            covered = sum(1 for length in lengths if length <= limit)
            if lengths and covered * multiplier[band] // len(lengths) >= expected_correct:
                targets[band] = limit
                break
    return targets


def laser_d_rewards(
    correct: Sequence[bool],
    lengths: Sequence[float],
    targets: dict[str, int | None],
    format_ok: Sequence[bool] | None = None,
    *,
    explore: bool = False,
    repetitive: Sequence[bool] | None = None,
    alpha: float = LASER_ALPHA,
) -> np.ndarray:
    """LASER-D rewards for one group (paper Sec. 4; code ``compute_length_reward_larse_d``): the
    group's band (:func:`laser_band`) picks its target L_A from ``targets``
    (:func:`laser_d_targets`), then each response gets :func:`~thinkgym.rewards.length.laser_reward`
    with L_T = L_A. ``explore=True`` is LASER-DE (``compute_length_reward_larse_de``,
    :func:`~thinkgym.rewards.length.laser_de_reward`), which needs ``repetitive`` (default: none
    is). A ``None`` target means no limit. Feed the result to :func:`grpo_advantages`.
    """
    n = len(correct)
    format_ok = [True] * n if format_ok is None else list(format_ok)
    repetitive = [False] * n if repetitive is None else list(repetitive)
    if not n == len(lengths) == len(format_ok) == len(repetitive):
        raise ValueError(
            f"group sequences differ in length: correct {n}, lengths {len(lengths)}, "
            f"format_ok {len(format_ok)}, repetitive {len(repetitive)}"
        )
    target = targets[laser_band(correct)]
    limit = math.inf if target is None else target
    if explore:
        rewards = [
            laser_de_reward(c, length, limit, f, rep, alpha=alpha)
            for c, length, f, rep in zip(correct, lengths, format_ok, repetitive, strict=True)
        ]
    else:
        rewards = [
            laser_reward(c, length, limit, f, alpha=alpha)
            for c, length, f in zip(correct, lengths, format_ok, strict=True)
        ]
    return np.asarray(rewards, dtype=np.float64)
