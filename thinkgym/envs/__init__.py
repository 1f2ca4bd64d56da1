"""Gymnasium environments and wrappers of thinkgym."""

from thinkgym.envs.base import DEFAULT_REWARDS, ReasoningEnv
from thinkgym.envs.code_interpreter import CodeInterpreter
from thinkgym.envs.logic import LogicEnv, LogicMixEnv
from thinkgym.envs.markovian import MarkovianThinking
from thinkgym.envs.math import MaskedStepEnv, MathDatasetEnv, MathRLVREnv, StepOrderEnv
from thinkgym.envs.sat import SaturnSATEnv
from thinkgym.envs.sql import Text2SQLDiscriminateEnv, Text2SQLEnv
from thinkgym.envs.thinking import ThinkingMode

__all__ = [
    "CodeInterpreter",
    "DEFAULT_REWARDS",
    "LogicEnv",
    "LogicMixEnv",
    "MarkovianThinking",
    "MaskedStepEnv",
    "MathDatasetEnv",
    "MathRLVREnv",
    "ReasoningEnv",
    "SaturnSATEnv",
    "StepOrderEnv",
    "Text2SQLDiscriminateEnv",
    "Text2SQLEnv",
    "ThinkingMode",
]
