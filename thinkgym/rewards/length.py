"""Per-episode length-aware rewards: plain functions of (correct, length, ...) -> float.

* LASER and LASER-DE: Liu et al., "Learn to Reason Efficiently with Adaptive Length-based Reward
  Shaping", arXiv 2505.15612 (code hkust-nlp/Laser, ``verl/utils/reward_score/length_penalty.py``).
* Open-RS cosine reward: Dang and Ngo, "Reinforcement Learning for Reasoning in Small LLMs",
  arXiv 2503.16219 (code knoveleng/open-rs, ``src/open_r1/rewards.py``).
* DAPO overlong reward shaping: Yu et al., "DAPO", arXiv 2503.14476, Sec. 3.4, Eq. 13.
* HAPO history-aware length reward: Huang et al., "HAPO: Training Language Models to Reason
  Concisely via History-Aware Policy Optimization", arXiv 2505.11225 (code HCY123902/HAPO,
  ``utils.py::compute_len_reward``).

Lengths are whatever unit the caller measures (tokens in the papers; the env wrappers in
:mod:`thinkgym.rewards.wrappers` count characters unless given a tokenizer).
"""

from __future__ import annotations

import math

__all__ = [
    "LASER_ALPHA",
    "cosine_length_reward",
    "dapo_overlong_penalty",
    "hapo_length_reward",
    "laser_de_reward",
    "laser_reward",
    "laser_score",
]

LASER_ALPHA = 0.5  # LASER's length_reward_scalar (lengthy_ppo_trainer.yaml)
HAPO_CORRECT_FLOOR = -0.7  # keeps every correct response above every incorrect one


def laser_score(correct: bool, format_ok: bool = True) -> float:
    """LASER's correctness score C(y) (paper Sec. 4, ``R̂ = C(y) + λ(y)·S(y)``; code
    ``hf_math_verifier.py::compute_score``): +1 correct, -0.5 wrong, -1 when no answer can be read
    (a format failure; truncated responses land here). A format failure scores -1 even if
    ``correct`` is passed as True."""
    if not format_ok:
        return -1.0
    return 1.0 if correct else -0.5


def laser_reward(
    correct: bool, length: float, target: float, format_ok: bool = True, *, alpha: float = LASER_ALPHA
) -> float:
    """LASER step reward (paper Sec. 4 with λ(y) = 1[correct], S(y) = α·1[L ≤ L_T]; code
    ``compute_length_reward_larse``, ``length_reward_type="reward"``)::

        r = C(y) + α·1[correct and L ≤ L_T]        C(y) ∈ {1, -0.5, -1},  α = 0.5

    Possible values: 1.5 (correct, L ≤ target), 1.0 (correct, longer), -0.5 (wrong), -1.0
    (format failure). ``length`` exactly at ``target`` gets the bonus.
    """
    score = laser_score(correct, format_ok)
    return score + alpha if score == 1.0 and length <= target else score


def laser_de_reward(
    correct: bool,
    length: float,
    target: float,
    format_ok: bool = True,
    repetitive: bool = False,
    *,
    alpha: float = LASER_ALPHA,
) -> float:
    """LASER-DE step reward (paper Sec. 4, the exploration variant; code
    ``compute_length_reward_larse_de``): LASER's reward plus one extra case, a wrong but
    well-formatted response longer than the target that is not repetitive also gets +α
    (-0.5 -> 0.0), which encourages exploring longer on questions the model gets wrong::

        r = C(y) + α·1[correct and L ≤ L_T] + α·1[wrong, format ok, L > L_T, not repetitive]

    ``repetitive`` is the caller's judgement. LASER's own detector
    (``detect_token_ngram_repetition_optimized_reversed``) flags a response when a 2/3/4-gram
    recurs 2-3 times within a third of its length, which long natural responses often do; it is
    not reimplemented here. ``target`` is the band's L_A from :func:`~thinkgym.rewards.group.laser_d_targets`.
    """
    score = laser_score(correct, format_ok)
    if score == -0.5 and length > target and not repetitive:
        return score + alpha
    return laser_reward(correct, length, target, format_ok, alpha=alpha)


def cosine_length_reward(length: float, max_length: float, at_zero: float, at_max: float) -> float:
    """Open-RS cosine length reward (code ``src/open_r1/rewards.py::get_cosine_scaled_reward``,
    open-r1's ``get_cosine_scaled_reward``)::

        r = v_min + ½·(v_max − v_min)·(1 + cos(π·L / L_max)),   v_max = at_zero, v_min = at_max

    so r(0) = ``at_zero`` and r(L_max) = ``at_max``. Open-RS uses (1.0, 0.5) for correct answers
    and (0.0, -0.5) for wrong ones (its code swaps min and max for wrong answers), with
    L = characters and L_max = 3584 in Experiment 3.

    Deviation: L is clamped to ``max_length``. Open-RS's code does not clamp, so the cosine wraps
    around past L_max and a response of 2·L_max characters scores like an empty one; with a
    3584-token completion limit (~10k characters) that happens in practice.
    """
    if max_length <= 0:
        raise ValueError(f"max_length must be > 0, got {max_length}")
    progress = min(max(length, 0.0), max_length) / max_length
    return at_max + 0.5 * (at_zero - at_max) * (1.0 + math.cos(math.pi * progress))


def dapo_overlong_penalty(length: float, max_length: float, cache: float) -> float:
    """DAPO soft overlong punishment (paper Sec. 3.4, Eq. 13), added to the correctness reward::

        R_len = 0                                  if L ≤ L_max − L_cache
              = ((L_max − L_cache) − L) / L_cache  if L_max − L_cache < L ≤ L_max
              = −1                                 if L > L_max

    DAPO uses L_max = 20480, L_cache = 4096. verl's ``dapo.py`` writes the middle case as
    ``min(-(L - (L_max - L_cache)) / L_cache, 0)``, the same on [0, L_max], where its responses end.
    """
    if not 0 < cache <= max_length:
        raise ValueError(f"cache must be in (0, max_length={max_length}], got {cache}")
    if length > max_length:
        return -1.0
    free = max_length - cache
    return 0.0 if length <= free else (free - length) / cache


def hapo_length_reward(length: float, history: float | None, correct: bool) -> float:
    """HAPO's cosine length reward (code ``utils.py::compute_len_reward``, ``type_lr="cosine"``)::

        f = cos(min(π/2 · L/h, π))          (cos(π) = −1 once L ≥ 2h)
        r_len = max(f, −0.7)  if correct    (a correct response never scores below 1 − 0.7·w)
              = min(f, 0)     if incorrect  (short wrong answers are not rewarded)

    ``history`` h is the shortest correct length seen for this problem before the current batch;
    ``None`` (no correct response yet: HAPO's MAX_LEN sentinel) gives 0, so the first encounter
    with a problem is pure correctness RL. The full HAPO reward is ``1[correct] + w·r_len``.
    """
    if history is None:
        return 0.0
    f = math.cos(math.pi / 2 * length / history) if length < 2 * history else -1.0
    return max(f, HAPO_CORRECT_FLOOR) if correct else min(f, 0.0)
