"""Group-level shapers: GRPO / Dr. GRPO / MGPO advantages, LASER-D targets and rewards,
AutoThink's stage shaping and AdaptThink's advantage. Expected values are computed by hand from
the papers' formulas in the comments."""

from __future__ import annotations

import math

import numpy as np
import pytest

from thinkgym.rewards import (
    AUTOTHINK_STAGES,
    adaptthink_advantages,
    autothink_batch_balance,
    autothink_length_shaping,
    dr_grpo_advantages,
    grpo_advantages,
    laser_band,
    laser_d_rewards,
    laser_d_targets,
    laser_length_candidates,
    mgpo_advantages,
    mgpo_weight,
)

# ---------------------------------------------------------------------------------------------
# GRPO (DeepSeekMath Eq. 3): A = (r - mean) / (std_unbiased + 1e-6)


def test_grpo_advantages_by_hand():
    # r = [1, 0, 0, 1]: mean 0.5, unbiased var = 4·0.25/3 = 1/3, std = 0.57735
    # A = ±0.5 / (0.57735 + 1e-6) = ±0.866024
    a = grpo_advantages([1, 0, 0, 1])
    expected = 0.5 / (math.sqrt(1 / 3) + 1e-6)
    assert a == pytest.approx([expected, -expected, -expected, expected], rel=1e-12)


def test_grpo_all_correct_or_all_wrong_gives_zero():
    assert np.array_equal(grpo_advantages([1.0] * 8), np.zeros(8))
    assert np.array_equal(grpo_advantages([0.0] * 8), np.zeros(8))


def test_grpo_group_of_one_follows_verl():
    # verl: mean 0, std 1 for a single sample -> A = r / (1 + eps)
    assert grpo_advantages([2.0]) == pytest.approx([2.0 / (1 + 1e-6)])


def test_grpo_rejects_empty_group():
    with pytest.raises(ValueError, match="non-empty"):
        grpo_advantages([])


def test_dr_grpo_advantages_by_hand():
    # r = [1, 0, 0, 0]: mean 0.25 -> [0.75, -0.25, -0.25, -0.25] (no std division)
    assert dr_grpo_advantages([1, 0, 0, 0]) == pytest.approx([0.75, -0.25, -0.25, -0.25])
    # scale is kept: doubling rewards doubles advantages, unlike GRPO
    assert dr_grpo_advantages([2, 0, 0, 0]) == pytest.approx([1.5, -0.5, -0.5, -0.5])
    assert grpo_advantages([2, 0, 0, 0]) == pytest.approx(grpo_advantages([1, 0, 0, 0]), rel=1e-5)


# ---------------------------------------------------------------------------------------------
# MGPO (VibeThinker Sec. 3.4): w = exp(-λ·D(p‖0.5)), D = p ln(2p) + (1-p) ln(2(1-p))


def test_mgpo_weight_by_hand():
    # p = 1/8: D = 0.125·ln(0.25) + 0.875·ln(1.75) = -0.173287 + 0.489664 = 0.316377
    assert mgpo_weight(1 / 8, 1.0) == pytest.approx(math.exp(-0.316377), abs=1e-6)  # 0.72880
    # p = 0.25: D = 0.25·ln(0.5) + 0.75·ln(1.5) = -0.173287 + 0.304099 = 0.130812
    assert mgpo_weight(0.25, 1.0) == pytest.approx(math.exp(-0.130812), abs=1e-6)  # 0.87738
    assert mgpo_weight(0.5, 7.0) == 1.0  # D(0.5‖0.5) = 0


def test_mgpo_weight_at_pass_rate_zero_and_one():
    # 0·ln 0 = 0, so D = ln 2 and w = 2^-λ
    assert mgpo_weight(0.0, 1.0) == pytest.approx(0.5)
    assert mgpo_weight(1.0, 1.0) == pytest.approx(0.5)
    assert mgpo_weight(0.0, 5.0) == pytest.approx(2**-5)


def test_mgpo_weight_matches_the_table_at_g8():
    # objectives.md Sec. 6: λ = 1, k/8 = 0..8 -> [.50, .73, .88, .97, 1, .97, .88, .73, .50]
    table = [0.50, 0.73, 0.88, 0.97, 1.0, 0.97, 0.88, 0.73, 0.50]
    assert [round(mgpo_weight(k / 8, 1.0), 2) for k in range(9)] == table
    # λ = 5 -> [.03, .21, .52, .85, 1, ...]
    assert [round(mgpo_weight(k / 8, 5.0), 2) for k in range(5)] == [0.03, 0.21, 0.52, 0.85, 1.0]


def test_mgpo_lambda_zero_is_grpo():
    r = [1, 1, 0, 0, 0, 0, 0, 0]
    assert mgpo_weight(0.25, 0.0) == 1.0
    assert mgpo_advantages(r, r, 0.0) == pytest.approx(grpo_advantages(r))


def test_mgpo_advantages_scale_grpo_by_the_weight():
    r = [1, 1, 0, 0, 0, 0, 0, 0]  # p = 0.25 -> w(λ=1) = 0.877383
    assert mgpo_advantages(r, [x == 1 for x in r], 1.0) == pytest.approx(0.877383 * grpo_advantages(r), rel=1e-6)


@pytest.mark.parametrize(("p", "lam"), [(-0.1, 1.0), (1.1, 1.0), (0.5, -1.0)])
def test_mgpo_weight_rejects_bad_input(p, lam):
    with pytest.raises(ValueError):
        mgpo_weight(p, lam)


# ---------------------------------------------------------------------------------------------
# LASER-D (arXiv 2505.15612 Sec. 4.2)


def test_laser_length_candidates():
    assert laser_length_candidates() == list(range(2048, 16385, 1024))  # 2048, 3072, ..., 16384
    assert laser_length_candidates(512, 4096) == [512, 1024, 2048, 3072, 4096]


@pytest.mark.parametrize(
    ("correct", "band"),
    [
        ([1] * 6 + [0] * 2, "high"),  # 0.75 >= 2/3
        ([1] * 5 + [0] * 3, "medium"),  # 0.625
        ([1] * 3 + [0] * 5, "medium"),  # 0.375 >= 1/3
        ([1] * 2 + [0] * 6, "low"),  # 0.25
        ([1, 1, 0], "high"),  # exactly 2/3 is high
        ([1, 0, 0], "medium"),  # exactly 1/3 is medium
        ([0] * 8, "low"),
        ([1] * 8, "high"),
    ],
)
def test_laser_band(correct, band):
    assert laser_band([bool(c) for c in correct]) == band


def test_laser_d_targets_by_hand():
    candidates = [1000, 2000, 3000, 4000]
    high = ([True] * 7 + [False], [500, 1500, 1500, 2500, 2500, 2500, 3500, 3500])  # acc 7/8
    medium = ([True] * 4 + [False] * 4, [1500] * 3 + [2500] * 5)  # acc 4/8
    low = ([True] + [False] * 7, [500] * 7 + [3500])  # acc 1/8
    correct, lengths = zip(high, medium, low, strict=True)
    targets = laser_d_targets(correct, lengths, candidates)
    # high: m = floor(2·8/3) = 5. P(1000) = 1/8 -> floor(5/8) = 0; P(2000) = 3/8 -> floor(15/8) = 1 >= 1
    # medium: m = floor(8/3) = 2. P(2000) = 3/8 -> floor(6/8) = 0; P(3000) = 8/8 -> 2 >= 1
    # low: m = 1, needs P = 1: P(3000) = 7/8 -> 0; P(4000) = 1 -> 1
    assert targets == {"high": 2000, "medium": 3000, "low": 4000}


def test_laser_d_targets_none_when_nothing_qualifies():
    # one low question with a response longer than every candidate; no medium/high questions
    targets = laser_d_targets([[False] * 4], [[100, 100, 100, 5000]], [1000, 2000])
    assert targets == {"low": None, "medium": None, "high": None}


def test_laser_d_targets_monitor_bands_close_on_the_other_side():
    # n = 3, one correct: acc = 1/3 is "low" in the monitor (acc <= 1/3) but "medium" in training
    targets = laser_d_targets([[True, False, False]], [[100, 200, 300]], [150, 300])
    assert targets == {"low": 300, "medium": None, "high": None}  # low needs full coverage
    assert laser_band([True, False, False]) == "medium"


def test_laser_d_targets_rejects_ragged_monitor():
    with pytest.raises(ValueError, match="same number"):
        laser_d_targets([[True, False], [True]], [[1, 2], [1]])


def test_laser_d_rewards_by_hand():
    targets = {"high": 2000, "medium": 3000, "low": 4000}
    correct = [True] * 6 + [False] * 2  # acc 0.75 -> high -> L_A = 2000
    lengths = [1000, 2000, 2001, 3000, 1500, 1800, 500, 5000]
    # correct: 1 + 0.5 if L <= 2000; wrong: -0.5
    expected = [1.5, 1.5, 1.0, 1.0, 1.5, 1.5, -0.5, -0.5]
    assert laser_d_rewards(correct, lengths, targets).tolist() == expected
    # LASER-DE: the wrong answer longer than L_A (5000 > 2000) gets -0.5 + 0.5 = 0
    explore = [1.5, 1.5, 1.0, 1.0, 1.5, 1.5, -0.5, 0.0]
    assert laser_d_rewards(correct, lengths, targets, explore=True).tolist() == explore
    repetitive = [False] * 7 + [True]
    assert laser_d_rewards(correct, lengths, targets, explore=True, repetitive=repetitive).tolist() == expected
    # a format failure is -1 whatever its length
    format_ok = [True] * 7 + [False]
    assert laser_d_rewards(correct, lengths, targets, format_ok, explore=True)[-1] == -1.0


def test_laser_d_rewards_band_picks_the_target():
    targets = {"high": 100, "medium": 200, "low": 300}
    lengths = [250] * 8
    # low group (1/8 correct): target 300 -> the correct one gets the bonus
    assert laser_d_rewards([True] + [False] * 7, lengths, targets)[0] == 1.5
    # high group: target 100 -> no bonus at 250
    assert laser_d_rewards([True] * 8, lengths, targets)[0] == 1.0


def test_laser_d_rewards_none_target_means_no_limit():
    targets = {"high": None, "medium": None, "low": None}
    assert laser_d_rewards([True, True, False], [10, 10**9, 5], targets).tolist() == [1.5, 1.5, -0.5]


def test_laser_d_rewards_rejects_mismatched_group():
    with pytest.raises(ValueError, match="differ"):
        laser_d_rewards([True, False], [1, 2, 3], {"high": 1, "medium": 1, "low": 1})


# ---------------------------------------------------------------------------------------------
# AutoThink stage shaping (arXiv 2505.10832 Sec. 3.3; code _reweight_rewards)


def test_autothink_length_shaping_by_hand():
    rewards = [1, 1, 1, 0, 0]
    lengths = [100, 200, 300, 100, 300]
    correct = [True, True, True, False, False]
    out = autothink_length_shaping(rewards, lengths, correct, alpha=0.05, beta=0.05)
    # correct: mean 200, unbiased std 100 -> z = -1, 0, 1; r += exp(-0.05 z) - 1
    #   -> 1 + 0.051271, 1, 1 - 0.048771
    # incorrect: mean 200, unbiased std sqrt(2·100²/1) = 141.42 -> z = -0.70711, +0.70711
    #   r += 1 - exp(-0.05 z) -> -0.035988, +0.034738
    expected = [1.051271, 1.0, 0.951229, -0.035988, 0.034738]
    assert out == pytest.approx(expected, abs=1e-6)


def test_autothink_length_shaping_needs_two_members_and_positive_rates():
    # one correct member: left alone; incorrect pair shaped
    out = autothink_length_shaping([2, -1, -1], [50, 10, 30], [True, False, False], 0.05, 0.05)
    assert out[0] == 2.0 and out[1] < -1 < out[2]
    # stages 1-2 use alpha = beta = 0: unchanged
    stage = AUTOTHINK_STAGES[2]
    same = autothink_length_shaping([1, 1, 0], [10, 90, 50], [True, True, False], stage["alpha"], stage["beta"])
    assert same.tolist() == [1.0, 1.0, 0.0]


def test_autothink_batch_balance_by_hand():
    # 6 of 8 think: think_rate 0.75 > 0.5 -> λ = 2·0.25 = 0.5; think samples move half way to 0 / -1
    rewards = [1, 1, 1, 0, 0, 0, 2, -1]
    correct = [True, True, True, False, False, False, True, False]
    thinking = [True] * 6 + [False] * 2
    out = autothink_batch_balance(rewards, correct, thinking, gamma=0.5)
    # think correct: 0.5·1 + 0.5·0 = 0.5; think wrong: 0.5·0 + 0.5·(-1) = -0.5; no-think unchanged
    assert out.tolist() == [0.5, 0.5, 0.5, -0.5, -0.5, -0.5, 2.0, -1.0]


def test_autothink_batch_balance_no_think_side():
    # 7 of 8 no-think: rate 0.875 -> λ = 0.75; targets +1 (correct) and -2 (wrong)
    rewards = [2, -1, 2, 2, 2, 2, 2, 1]
    correct = [True, False, True, True, True, True, True, True]
    thinking = [False] * 7 + [True]
    out = autothink_batch_balance(rewards, correct, thinking, gamma=0.5)
    # 0.25·2 + 0.75·1 = 1.25 ; 0.25·(-1) + 0.75·(-2) = -1.75 ; the think sample is unchanged
    assert out.tolist() == [1.25, -1.75, 1.25, 1.25, 1.25, 1.25, 1.25, 1.0]


def test_autothink_batch_balance_edges():
    rewards, correct = [1, 0, 2, -1], [True, False, True, False]
    balanced = [True, True, False, False]  # rate exactly 0.5 = γ: strict >, no change
    assert autothink_batch_balance(rewards, correct, balanced, 0.5).tolist() == [1, 0, 2, -1]
    # γ = 1 (stages 2-3) is off even when everything thinks
    assert autothink_batch_balance(rewards, correct, [True] * 4, 1.0).tolist() == [1, 0, 2, -1]
    # all think at γ = 0.5: λ = clip(1.0, 0, 1) = 1 -> exactly the targets 0 / -1
    assert autothink_batch_balance(rewards, correct, [True] * 4, 0.5).tolist() == [0, -1, 0, -1]


# ---------------------------------------------------------------------------------------------
# AdaptThink (arXiv 2505.13417 Sec. 3.1): A = acc - R_ref + δ·1[NoThinking], δ = 0.05


def test_adaptthink_advantages_by_hand():
    out = adaptthink_advantages([1, 1, 0, 0], [True, False, True, False], ref_pass_rate=0.75)
    # 1 - 0.75 + 0.05 = 0.30 ; 1 - 0.75 = 0.25 ; 0 - 0.75 + 0.05 = -0.70 ; -0.75
    assert out == pytest.approx([0.30, 0.25, -0.70, -0.75])


def test_adaptthink_reference_pass_rate_edges():
    # R_ref = 1: a correct Thinking answer has zero advantage, only NoThinking can gain
    assert adaptthink_advantages([1, 1], [False, True], 1.0) == pytest.approx([0.0, 0.05])
    # R_ref = 0: every correct answer gains 1 (+δ without thinking); no group normalisation
    assert adaptthink_advantages([1, 0], [False, False], 0.0, delta=0.1) == pytest.approx([1.0, 0.0])
    with pytest.raises(ValueError, match="ref_pass_rate"):
        adaptthink_advantages([1], [True], 1.5)
