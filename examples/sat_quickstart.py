"""Saturn-SAT-v0 in 20 lines: a seeded GRPO-style group sharing one instance, scored by the
verifier, with the pysat oracle and the random policy as stand-ins for a model.

Run: python examples/sat_quickstart.py
"""

import gymnasium

import thinkgym  # noqa: F401  (registers the envs)
from thinkgym.agents import OraclePolicy, RandomPolicy

env = gymnasium.make("Saturn-SAT-v0", level=4)  # SATURN's (3,5,13)
group_size = 8
for name, policy in {"oracle": OraclePolicy(), "random": RandomPolicy(seed=0)}.items():
    rewards = []
    for _ in range(group_size):  # every sample of the group gets the same instance
        prompt, info = env.reset(seed=2025)
        _, reward, terminated, truncated, info = env.step(policy.act(prompt, info))
        rewards.append(reward)
    print(f"{name:>6}: rewards {rewards}  last verdict: {info['verdict']['reason']}")
print("\nthe prompt the model sees:\n" + prompt)
