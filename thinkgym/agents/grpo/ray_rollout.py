"""Rollouts on Ray actors: ``num_rollout_workers`` copies of the policy, each with its own envs.

The learner keeps the trainable model. Each step it puts its weights in the Ray object store once
(``sync``) and every worker loads them, then the episodes of the step are split into contiguous
chunks, one per worker, played concurrently and returned in order (every episode resets from its
own seed, so where a group's episodes run does not matter). Workers
sample with their own per-step seed, so a run is reproducible for a given number of workers.

With ``backend="vllm"`` each worker holds a vLLM engine instead of a model copy, and the learner
puts one safetensors blob in the engine's dtype in the object store, which every worker loads with
the weight sync of :mod:`.vllm_sampler`.

A worker takes ``rollout_gpus_per_worker`` GPUs (0 = CPU). On a multi-GPU node or cluster start
Ray first (``ray start --head`` / ``ray start --address=HEAD:6379``) and pass ``ray_address="auto"``;
without it a local Ray is started in-process. See docs/grpo.md.
"""

from __future__ import annotations

from typing import Any

import torch

from thinkgym.agents.grpo.chat import ChatFormat
from thinkgym.agents.grpo.config import GRPOConfig
from thinkgym.agents.grpo.rollout import EnvPool, Episode, play_episodes
from thinkgym.agents.grpo.sampling import HFSampler, step_seed
from thinkgym.agents.models import load_model

__all__ = ["RayRollouts", "RolloutWorker"]


class RolloutWorker:
    """One Ray actor (``ray.remote(RolloutWorker)``): a policy copy, a sampler and an env pool."""

    def __init__(self, cfg: dict[str, Any], index: int) -> None:
        self.cfg = GRPOConfig.from_dict(cfg)
        self.index = index
        device = "cuda" if self.cfg.rollout_gpus_per_worker > 0 and torch.cuda.is_available() else "cpu"
        torch.set_num_threads(1)  # several workers share the node's cores
        self.model, tokenizer = load_model(self.cfg.model, seed=self.cfg.seed)
        self.chat = ChatFormat(tokenizer)
        if self.cfg.backend == "vllm":  # the worker holds a vLLM engine instead of a model copy
            from thinkgym.agents.grpo.vllm_sampler import VLLMSampler

            self.model = None
            self.sampler: Any = VLLMSampler.from_config(self.cfg, self.chat)
        else:
            self.model.to(device).eval()
            self.sampler = HFSampler(self.model, self.chat, top_p=self.cfg.top_p)
        self.pool = EnvPool(self.cfg.env, self.cfg.env_kwargs, self.chat)

    def weights_dtype(self) -> torch.dtype | None:
        """The dtype the learner should send (its vLLM engine's), or None for a state dict."""
        return getattr(self.sampler, "dtype", None)

    def load_weights(self, weights: dict[str, torch.Tensor] | bytes) -> None:
        if isinstance(weights, bytes):  # a safetensors blob for the vLLM engine (vllm_sampler.weights_blob)
            self.sampler.load_blob(weights)
        else:
            self.model.load_state_dict(weights)

    def shutdown(self) -> None:
        self.pool.close()
        if hasattr(self.sampler, "close"):
            self.sampler.close()

    def play(self, seeds: list[int], temperature: float, seed: int, options: dict[str, Any] | None) -> list[Episode]:
        return play_episodes(
            self.pool.get(len(seeds)),
            seeds,
            self.sampler,
            self.chat,
            temperature=temperature,
            seed=step_seed(seed, self.index),
            max_new_tokens=self.cfg.max_new_tokens,
            max_turns=self.cfg.max_turns,
            stop=self.cfg.stop,
            options=options,
        )


class RayRollouts:
    """The trainer's rollout interface (``sync``, ``play``, ``close``) over Ray actors."""

    def __init__(self, cfg: GRPOConfig) -> None:
        import ray

        self.ray = ray
        if not ray.is_initialized():
            ray.init(address=cfg.ray_address, ignore_reinit_error=True, log_to_driver=False)
        actor = ray.remote(num_cpus=1, num_gpus=cfg.rollout_gpus_per_worker)(RolloutWorker)
        self.workers = [actor.remote(cfg.to_dict(), i) for i in range(cfg.num_rollout_workers)]
        self.dtype = ray.get(self.workers[0].weights_dtype.remote())

    def sync(self, model: torch.nn.Module) -> None:
        if self.dtype is not None:  # vLLM workers: one safetensors blob in the engine's dtype
            from thinkgym.agents.grpo.vllm_sampler import weights_blob

            weights = self.ray.put(weights_blob(model, self.dtype))
        else:
            weights = self.ray.put({k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()})
        self.ray.get([w.load_weights.remote(weights) for w in self.workers])

    def play(
        self,
        seeds: list[int],
        *,
        temperature: float,
        seed: int,
        options: dict[str, Any] | None = None,
    ) -> list[Episode]:
        per_worker = -(-len(seeds) // len(self.workers))
        chunks = [seeds[i : i + per_worker] for i in range(0, len(seeds), per_worker)]
        futures = [
            w.play.remote(chunk, temperature, seed, options) for w, chunk in zip(self.workers, chunks, strict=False)
        ]
        return [episode for part in self.ray.get(futures) for episode in part]

    def close(self) -> None:
        self.ray.get([w.shutdown.remote() for w in self.workers])  # a vLLM engine's processes end cleanly
        for w in self.workers:
            self.ray.kill(w)
        self.workers = []
