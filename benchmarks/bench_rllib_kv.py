"""RLlib env-runner sampling with and without the KV cache of ``CausalLMModule``: env steps/s at
256 new tokens per turn, side by side in one run.

What is timed is the env runner's inner loop for a vector of ``--envs`` token envs: stack the
observations, ``module.forward_exploration`` (the call RLlib's ``SingleAgentEnvRunner`` makes),
sample a token per env from the logits, ``TokenEnv.step`` each env (resetting finished ones).
RLlib's connector bookkeeping is left out, as it is the same with and without the cache. The env is
Saturn-SAT-v0 with the unit-clause task (short prompts) and ``max_new_tokens=256``, so a turn is
256 tokens and the context grows from the prompt to prompt + 256. The policy is a random-weight
Qwen2-style model (``build_tiny_model``) at two sizes; random weights rarely emit the end token, so
turns run to the 256-token cap, which is the setting the comparison is about.

The two modes alternate, ``--repeats`` times each, on one torch thread; the median of env steps/s
is reported with the ratio. Without the cache every step is one forward pass over the whole
context (O(T^2) tokens per turn); with it one new token per env (O(T)).

    python benchmarks/bench_rllib_kv.py [--envs 8] [--steps 512] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import gymnasium
import numpy as np
import torch

import thinkgym  # noqa: F401
from thinkgym.agents.grpo.recipe import UNIT_CLAUSE_SAT
from thinkgym.agents.models import build_tiny_model, build_tiny_tokenizer
from thinkgym.agents.rllib.module import CausalLMModule
from thinkgym.agents.rllib.token_env import TokenEnv

SIZES = {"0.1M (hidden 64, 2 layers)": {}, "10M (hidden 384, 6 layers)": {"hidden_size": 384, "num_layers": 6}}


def make_module(env: TokenEnv, size: dict) -> CausalLMModule:
    module = CausalLMModule(
        observation_space=env.observation_space,
        action_space=env.action_space,
        inference_only=True,
        model_config={"model": "tiny"},
    )
    module.lm = build_tiny_model(int(env.action_space.n) + 5, **size).float()
    return module


def sample(module: CausalLMModule, envs: list[TokenEnv], steps: int, cache: bool) -> float:
    """Env steps per second over ``steps`` vector steps."""
    module.model_config["kv_cache"] = cache
    module._kv.clear()
    rng = torch.Generator().manual_seed(0)
    obs = [env.reset(seed=i)[0] for i, env in enumerate(envs)]
    start = time.perf_counter()
    for step in range(steps):
        out = module.forward_exploration({"obs": torch.as_tensor(np.stack(obs))})
        actions = torch.multinomial(torch.softmax(out["action_dist_inputs"], -1), 1, generator=rng)[:, 0]
        for i, env in enumerate(envs):
            o, _, terminated, truncated, _ = env.step(int(actions[i]))
            obs[i] = env.reset(seed=10_000 + step * len(envs) + i)[0] if terminated or truncated else o
    return steps * len(envs) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--envs", type=int, default=8)
    parser.add_argument("--steps", type=int, default=512, help="vector steps per measurement (2 turns)")
    parser.add_argument("--new-tokens", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    tokenizer = build_tiny_tokenizer()
    envs = [
        TokenEnv(gymnasium.make("Saturn-SAT-v0", **UNIT_CLAUSE_SAT), tokenizer, max_length=512, max_new_tokens=new)
        for new in [args.new_tokens] * args.envs
    ]
    print(f"{args.envs} envs, {args.new_tokens} new tokens per turn, {args.steps} vector steps, one torch thread")
    print("| model | env steps/s, no cache | env steps/s, KV cache | ratio |")
    print("|---|---|---|---|")
    with torch.no_grad():
        for name, size in SIZES.items():
            module = make_module(envs[0], size)
            runs = {False: [], True: []}
            for _ in range(args.repeats):
                for cache in (False, True):
                    runs[cache].append(sample(module, envs, args.steps, cache))
            off, on = statistics.median(runs[False]), statistics.median(runs[True])
            print(f"| {name} | {off:,.0f} | {on:,.0f} | {on / off:.1f}x |")


if __name__ == "__main__":
    main()
