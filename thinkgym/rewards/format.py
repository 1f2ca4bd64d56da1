"""Format rewards: scores of the shape of a response, not of its answer.

Open-RS: Dang and Ngo, "Reinforcement Learning for Reasoning in Small LLMs", arXiv 2503.16219
(code knoveleng/open-rs, ``src/open_r1/rewards.py::format_reward``; weight 1.0 next to the cosine
reward's 2.0 in ``recipes/grpo.yaml``).
"""

from __future__ import annotations

__all__ = ["OPEN_RS_THINK_CLOSE", "open_rs_format_reward"]

OPEN_RS_THINK_CLOSE = "\n</think>\n"


def open_rs_format_reward(response: str) -> float:
    """Open-RS format reward: 1.0 iff ``response`` contains exactly one ``"\\n</think>\\n"``, else 0.

    That is all Open-RS's code checks: the ``<answer>`` tags its system prompt asks for are not
    checked, and neither is an opening ``<think>`` (DeepSeek-R1's chat template writes it).
    """
    return 1.0 if response.count(OPEN_RS_THINK_CLOSE) == 1 else 0.0
