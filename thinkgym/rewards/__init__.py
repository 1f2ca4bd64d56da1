"""Reward shaping for reasoning RL: per-episode rewards, env wrappers that apply them, group-level
shapers (advantages), and a TRL adapter. See ``docs/rewards.md`` for the table of formulas.

Nothing here imports torch, transformers or ray.
"""

from thinkgym.rewards.format import open_rs_format_reward
from thinkgym.rewards.group import (
    dr_grpo_advantages,
    grpo_advantages,
    laser_band,
    laser_d_rewards,
    laser_d_targets,
    laser_length_candidates,
    mgpo_advantages,
    mgpo_weight,
)
from thinkgym.rewards.length import (
    cosine_length_reward,
    dapo_overlong_penalty,
    hapo_length_reward,
    laser_de_reward,
    laser_reward,
    laser_score,
)
from thinkgym.rewards.modes import (
    AUTOTHINK_STAGES,
    adaptthink_advantages,
    autothink_batch_balance,
    autothink_length_shaping,
    autothink_reward,
    is_degenerate,
)
from thinkgym.rewards.trl import completion_text, trl_reward_func
from thinkgym.rewards.wrappers import (
    AutoThinkReward,
    HapoReward,
    LaserReward,
    OpenRSReward,
    OverlongPenalty,
    length_counter,
)

__all__ = [
    "AUTOTHINK_STAGES",
    "AutoThinkReward",
    "HapoReward",
    "LaserReward",
    "OpenRSReward",
    "OverlongPenalty",
    "adaptthink_advantages",
    "autothink_batch_balance",
    "autothink_length_shaping",
    "autothink_reward",
    "completion_text",
    "cosine_length_reward",
    "dapo_overlong_penalty",
    "dr_grpo_advantages",
    "grpo_advantages",
    "hapo_length_reward",
    "is_degenerate",
    "laser_band",
    "laser_d_rewards",
    "laser_d_targets",
    "laser_de_reward",
    "laser_length_candidates",
    "laser_reward",
    "laser_score",
    "length_counter",
    "mgpo_advantages",
    "mgpo_weight",
    "open_rs_format_reward",
    "trl_reward_func",
]
