"""Rewards for models that choose between thinking and not thinking.

* AutoThink: Tu et al., "Learning When to Think: Shaping Adaptive Reasoning in R1-Style Models via
  Multi-Stage RL", arXiv 2505.10832 (code ScienceOne-AI/AutoThink, read from TU2021/AutoThink:
  ``deepscaler/rewards/math_reward.py``, ``verl/verl/trainer/main_ppo.py::RewardManager._reweight_rewards``,
  ``scripts/train/train_stage{1,2,3}.sh``).
* AdaptThink: Zhang et al., "AdaptThink: Reasoning Models Can Learn When to Think",
  arXiv 2505.13417, Sec. 3 (code THU-KEG/AdaptThink, ``src/adapt_think_reward_manager.py``).

Which mode a response used is detected by :func:`thinkgym.envs.thinking.thinking_mode`; here a
mode is the boolean ``thinking`` (True: real thinking, False: NoThinking).
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np

__all__ = [
    "ADAPTTHINK_DELTA",
    "AUTOTHINK_STAGES",
    "adaptthink_advantages",
    "autothink_batch_balance",
    "autothink_length_shaping",
    "autothink_reward",
    "is_degenerate",
]

ADAPTTHINK_DELTA = 0.05  # nothinking_bonus of the released 1.5B/7B runs

# Stage -> shaping hyperparameters and the max response length in tokens (train_stage{1,2,3}.sh).
# gamma = 1.0 turns batch balance off; alpha = beta = 0 turns length shaping off.
AUTOTHINK_STAGES: dict[int, dict[str, float]] = {
    1: {"alpha": 0.0, "beta": 0.0, "gamma": 0.5, "max_response_length": 8192},
    2: {"alpha": 0.0, "beta": 0.0, "gamma": 1.0, "max_response_length": 16384},
    3: {"alpha": 0.05, "beta": 0.05, "gamma": 1.0, "max_response_length": 24576},
}
_BALANCE_SLOPE = 2.0  # penalty_slope
_MAX_NGRAM = 30
_MAX_REPEATS = 10
_MAX_WORD = 120


def autothink_reward(correct: bool, thinking: bool, format_ok: bool = True, degenerate: bool = False) -> float:
    """AutoThink's base reward (code ``math_reward.py::deepscaler_reward_fn``, ``reward_types.py``):

    ==================  ======
    think, correct      +1
    think, wrong         0
    no-think, correct   +2
    no-think, wrong     -1  (-2 when ``degenerate``: see :func:`is_degenerate`)
    format error         0  (no ``</think>`` or no boxed answer, truncated responses included)
    ==================  ======

    Only a negative reward (no-think and wrong) is ever replaced by -2, as in the code.
    """
    if not format_ok:
        return 0.0
    if thinking:
        return 1.0 if correct else 0.0
    if correct:
        return 2.0
    return -2.0 if degenerate else -1.0


def is_degenerate(text: str) -> bool:
    """AutoThink's degenerate-output test (code ``math_reward.py``: ``max_continuous_ngram`` and
    ``find_largest_word``): True when, for some n ≤ 30, the whitespace-split words cut into
    consecutive n-word chunks from the start hold ≥ 10 identical chunks in a row, or when one
    whitespace-separated token is ≥ 120 characters long.

    AutoThink runs it on prompt + response; pass the response alone to judge only the model's text.
    """
    words = text.split()
    if any(len(word) >= _MAX_WORD for word in words):
        return True
    for n in range(1, _MAX_NGRAM + 1):
        chunks = [tuple(words[i : i + n]) for i in range(0, len(words) - n + 1, n)]
        run = 1
        for previous, chunk in pairwise(chunks):
            run = run + 1 if chunk == previous else 1
            if run >= _MAX_REPEATS:
                return True
    return False


def autothink_length_shaping(
    rewards: Sequence[float], lengths: Sequence[float], correct: Sequence[bool], alpha: float, beta: float
) -> np.ndarray:
    """AutoThink's stage-3 length shaping for one group (code
    ``_reweight_rewards`` step 1). Separately within the correct and the incorrect responses of the
    group (both modes pooled), each only when it has more than one member, with
    ``z = (L − mean) / max(std_unbiased, 1e-6)``::

        correct:    r += exp(−α·z) − 1     (shorter correct answers gain)
        incorrect:  r += 1 − exp(−β·z)     (longer wrong answers gain, shorter ones lose)

    Stage 3 uses α = β = 0.05; α = β = 0 leaves the rewards unchanged.
    """
    r = np.asarray(rewards, dtype=np.float64).copy()
    length = np.asarray(lengths, dtype=np.float64)
    ok = np.asarray(correct, dtype=bool)
    if not r.shape == length.shape == ok.shape or r.ndim != 1:
        raise ValueError(f"group sequences differ in shape: {r.shape}, {length.shape}, {ok.shape}")
    for members, rate, sign in ((ok, alpha, -1.0), (~ok, beta, 1.0)):
        if np.count_nonzero(members) > 1:
            group = length[members]
            z = (group - group.mean()) / max(group.std(ddof=1), 1e-6)
            r[members] += sign * (1.0 - np.exp(-rate * z))
    return r


def autothink_batch_balance(
    rewards: Sequence[float], correct: Sequence[bool], thinking: Sequence[bool], gamma: float
) -> np.ndarray:
    """AutoThink's stage-1 batch balance (code ``_reweight_rewards`` step 2).
    Pass the whole training batch (every prompt's rollouts), not one group.

    If the think rate exceeds γ, λ = clip(2·(think_rate − γ), 0, 1) and every think sample moves
    towards a target, ``r ← (1 − λ)·r + λ·target`` with target 0 (correct) or -1 (wrong). The same
    holds for no-think samples when the no-think rate exceeds γ, with targets +1 and -2. Stage 1
    uses γ = 0.5; γ = 1 turns this off. The two checks are independent, as in the code, so both fire
    only when γ < 0.5.
    """
    r = np.asarray(rewards, dtype=np.float64).copy()
    ok = np.asarray(correct, dtype=bool)
    think = np.asarray(thinking, dtype=bool)
    if not r.shape == ok.shape == think.shape or r.ndim != 1:
        raise ValueError(f"batch sequences differ in shape: {r.shape}, {ok.shape}, {think.shape}")
    if r.size == 0:
        return r
    think_rate = float(think.mean())
    for members, rate, targets in ((think, think_rate, (0.0, -1.0)), (~think, 1.0 - think_rate, (1.0, -2.0))):
        if rate > gamma:
            lam = min(max(_BALANCE_SLOPE * (rate - gamma), 0.0), 1.0)
            target = np.where(ok, targets[0], targets[1])
            r[members] = (1.0 - lam) * r[members] + lam * target[members]
    return r


def adaptthink_advantages(
    correct: Sequence[bool], nothinking: Sequence[bool], ref_pass_rate: float, delta: float = ADAPTTHINK_DELTA
) -> np.ndarray:
    """AdaptThink's constrained advantage (paper Sec. 3, the penalty form of
    ``max E[1(y_1 = </think>)] s.t. E[R] ≥ E[R_ref]`` with δ = 1/λ; code
    ``adapt_think_reward_manager.py`` with ``adv_estimator=naive``)::

        A(x, y) = acc(y) − R̄_ref(x) + δ·1[y is NoThinking]          δ = 0.05

    ``ref_pass_rate`` is R̄_ref(x), the reference model's mean accuracy on x in Thinking mode,
    pre-computed offline (AdaptThink: 16 samples, 16K tokens). There is no group mean/std
    normalisation: the value is used as the advantage of every token. ``acc`` in AdaptThink also
    requires exactly one ``</think>`` and no ``<think>`` in the response.
    """
    if not 0.0 <= ref_pass_rate <= 1.0:
        raise ValueError(f"ref_pass_rate must be in [0, 1], got {ref_pass_rate}")
    acc = np.asarray(correct, dtype=np.float64)
    nothink = np.asarray(nothinking, dtype=np.float64)
    if acc.shape != nothink.shape or acc.ndim != 1:
        raise ValueError(f"correct and nothinking differ in shape: {acc.shape}, {nothink.shape}")
    return acc - ref_pass_rate + delta * nothink
