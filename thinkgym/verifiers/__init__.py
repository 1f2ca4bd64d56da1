"""Verifiers: response + Problem -> Verdict. Pure functions, no side effects, never raise on any
response string: ``sat``, ``math`` (with a hard per-check time limit), ``sql`` and the shared
final-answer rule in ``extract``."""

from thinkgym.verifiers.math import is_equivalent
from thinkgym.verifiers.math import verify as verify_math

__all__ = ["is_equivalent", "verify_math"]
