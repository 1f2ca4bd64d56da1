"""thinkgym: Gymnasium environments for reinforcement learning with verifiable rewards on
reasoning tasks.

Importing thinkgym registers every environment with gymnasium::

    import gymnasium, thinkgym
    env = gymnasium.make("Saturn-SAT-v0", level=3)
    prompt, info = env.reset(seed=0)

The core (everything below ``thinkgym.agents``) never imports torch, transformers or ray.
"""

from thinkgym.core import Problem, Verdict
from thinkgym.envs import ReasoningEnv, SaturnSATEnv
from thinkgym.envs.registration import ENVS, register_envs
from thinkgym.metrics import pass_at_k

__version__ = "0.1.0"
__all__ = ["ENVS", "Problem", "ReasoningEnv", "SaturnSATEnv", "Verdict", "pass_at_k", "__version__"]

register_envs()
