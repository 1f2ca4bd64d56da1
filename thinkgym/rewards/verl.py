"""Deprecated: moved to :mod:`thinkgym.integrations.verl`; this name re-exports it and will be removed.

verl configs that point ``custom_reward_function.path`` at this file keep working.
"""

from thinkgym.integrations.verl import compute_score

__all__ = ["compute_score"]
