"""Difficulty controllers and schedules: SATURN's validation-gated climb, a pass-rate band
controller, and SIRI's response-length schedule."""

from thinkgym.curriculum.band import BandCurriculum
from thinkgym.curriculum.saturn import SaturnCurriculum
from thinkgym.curriculum.siri import siri_max_length

__all__ = ["BandCurriculum", "SaturnCurriculum", "siri_max_length"]
