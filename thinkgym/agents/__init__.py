"""Policies and agents. The built-in policies here are light; the GRPO agent and the RLlib
integration (torch, transformers, ray) live in submodules behind the ``train``/``rllib`` extras."""

from thinkgym.agents.policies import OraclePolicy, Policy, RandomPolicy, make_policy

__all__ = ["OraclePolicy", "Policy", "RandomPolicy", "make_policy"]
