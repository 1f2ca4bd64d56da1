"""Difficulty controllers and problem samplers."""

from thinkgym.curriculum.saturn import SaturnCurriculum

__all__ = ["SaturnCurriculum"]
