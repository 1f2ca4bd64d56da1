"""Gymnasium environments and wrappers of thinkgym."""

from thinkgym.envs.base import DEFAULT_REWARDS, ReasoningEnv
from thinkgym.envs.sat import SaturnSATEnv

__all__ = ["DEFAULT_REWARDS", "ReasoningEnv", "SaturnSATEnv"]
