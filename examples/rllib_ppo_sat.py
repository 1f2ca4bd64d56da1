"""Token-level PPO with Ray RLlib on Saturn-SAT-v0 level 1 (3-SAT, 5 variables, 5 clauses), on CPU.

The policy is a causal LM (the offline ``tiny`` model by default, or a local Hugging Face folder)
that writes its answer one token per env step; the SAT verifier scores the decoded response.

Run: python examples/rllib_ppo_sat.py [--iterations 3] [--model PATH] [--env-runners 1] [--address ADDR]
(needs the ``rllib`` extra: pip install -e ".[rllib,train]"). With ``--address`` it joins a running
Ray cluster instead of starting a local one.
"""

import argparse

import ray

from thinkgym.agents.rllib import ppo_config

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--iterations", type=int, default=3)
parser.add_argument("--model", default="tiny", help="'tiny' or a local Hugging Face model folder")
parser.add_argument("--env-runners", type=int, default=1)
parser.add_argument("--address", default=None, help="a Ray cluster address; default: a local 2-CPU cluster")
args = parser.parse_args()

if args.address:
    ray.init(address=args.address)
else:
    ray.init(num_cpus=2, include_dashboard=False)
config = ppo_config("Saturn-SAT-v0", model=args.model, env_kwargs={"level": 1}, num_env_runners=args.env_runners)
algo = config.build_algo()
for iteration in range(1, args.iterations + 1):
    runners = algo.train()["env_runners"]
    print(
        f"iteration {iteration}: episode_return_mean {runners['episode_return_mean']:+.3f}"
        f"  episode_len_mean {runners['episode_len_mean']:.1f}  episodes {runners['num_episodes']}"
    )
algo.stop()
ray.shutdown()
