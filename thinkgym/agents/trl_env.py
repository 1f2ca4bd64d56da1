"""Deprecated: moved to :mod:`thinkgym.integrations.trl`; this name re-exports it and will be removed."""

from thinkgym.integrations.trl import ThinkgymToolEnv, tool_environment_factory

__all__ = ["ThinkgymToolEnv", "tool_environment_factory"]
