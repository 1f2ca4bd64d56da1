"""Token-level PPO with Ray RLlib on Saturn-SAT-v0, on CPU.

Without ``--learn``: a few PPO iterations on level 1 (3-SAT, 5 variables, 5 clauses) with the
offline ``tiny`` model (or ``--model PATH``), printing the episode return per iteration; this shows
the pipeline runs (the random tiny model never answers, so the return stays -1).

With ``--learn``: the learning recipe of :mod:`thinkgym.agents.rllib.recipe`: an SFT warm start on
the unit-clause SAT task, then PPO with a KL penalty to the warm-started model, and held-out
pass@1 before and after (256 problems never trained on, one sample each at temperature 1). The
last line printed is ``held-out pass@1 before B [lo, hi] after A [lo, hi] z=Z`` (95% Wilson
intervals, two-proportion z).

Run: python examples/rllib_ppo_sat.py [--learn] [--seed 0] [--iterations N] [--model PATH]
     [--env-runners 1] [--address ADDR]
(needs the ``rllib`` extra: pip install -e ".[rllib,train]"). With ``--address`` it joins a running
Ray cluster instead of starting a local one.
"""

import argparse

import ray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learn", action="store_true", help="run the SFT + PPO learning recipe")
    parser.add_argument("--iterations", type=int, default=None, help="default: 3, or 10 with --learn")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/rllib-learn", help="--learn: where the models go")
    parser.add_argument("--model", default="tiny", help="'tiny' or a local Hugging Face model folder")
    parser.add_argument("--env-runners", type=int, default=1)
    parser.add_argument("--address", default=None, help="a Ray cluster address; default: a local 2-CPU cluster")
    args = parser.parse_args()

    if args.address:
        ray.init(address=args.address)
    else:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        if args.learn:
            import torch

            from thinkgym.agents.rllib.recipe import learn

            torch.set_num_threads(1)  # faster than 2 on a small shared CPU; drop on a real machine
            learn(args.out, seed=args.seed, iterations=args.iterations or 10, num_env_runners=args.env_runners)
            return
        from thinkgym.agents.rllib import ppo_config

        config = ppo_config(
            "Saturn-SAT-v0", model=args.model, env_kwargs={"level": 1}, num_env_runners=args.env_runners
        )
        algo = config.build_algo()
        for iteration in range(1, (args.iterations or 3) + 1):
            runners = algo.train()["env_runners"]
            print(
                f"iteration {iteration}: episode_return_mean {runners['episode_return_mean']:+.3f}"
                f"  episode_len_mean {runners['episode_len_mean']:.1f}  episodes {runners['num_episodes']}"
            )
        algo.stop()
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
