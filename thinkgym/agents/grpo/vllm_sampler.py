"""Optional vLLM rollout sampler (``backend="vllm"``), colocated with the learner on one GPU.

Only used when ``vllm`` is importable; **not exercised by the test suite** (CI has no GPU). It
loads ``cfg.model`` (a model folder: vLLM cannot take the in-memory ``tiny`` model) with
``gpu_memory_utilization = cfg.vllm_gpu_memory`` so the learner keeps the rest of the GPU, and
after every optimiser step receives the learner's weights through the model runner's
``load_weights`` (the path TRL's colocate mode uses, ``trl/generation/vllm_generation.py``). The
call signature is :class:`~thinkgym.agents.grpo.sampling.HFSampler`'s: token ids in, the sampled
token ids out (``include_stop_str_in_output``, so a stop string stays in the completion).
"""

from __future__ import annotations

from typing import Any

import torch

from thinkgym.agents.grpo.chat import ChatFormat
from thinkgym.agents.grpo.config import GRPOConfig
from thinkgym.agents.grpo.sampling import Completion, step_seed

__all__ = ["VLLMSampler"]


class VLLMSampler:
    def __init__(self, cfg: GRPOConfig, chat: ChatFormat) -> None:
        try:
            from vllm import LLM, SamplingParams
        except ImportError:
            raise ValueError(
                "backend='vllm' needs vllm (pip install vllm); the default backend 'hf' needs nothing"
            ) from None
        if cfg.model == "tiny":
            raise ValueError("backend='vllm' needs a model folder; save one first (thinkgym sft ... --out DIR)")
        self.sampling_params = SamplingParams
        self.llm = LLM(
            model=cfg.model, gpu_memory_utilization=cfg.vllm_gpu_memory, seed=cfg.seed, enable_prefix_caching=True
        )
        self.chat, self.top_p = chat, cfg.top_p

    def __call__(
        self, prompts: list[list[int]], temperature: float, seed: int, max_new_tokens: list[int], stop: list[list[str]]
    ) -> list[Completion]:
        params = [
            self.sampling_params(
                temperature=temperature,
                top_p=self.top_p,
                max_tokens=budget,
                stop=strings or None,
                stop_token_ids=sorted(self.chat.stop_ids),
                include_stop_str_in_output=True,
                skip_special_tokens=False,
                seed=step_seed(seed, i),
            )
            for i, (budget, strings) in enumerate(zip(max_new_tokens, stop, strict=True))
        ]
        outputs = self.llm.generate([{"prompt_token_ids": p} for p in prompts], params, use_tqdm=False)
        return [Completion(list(o.outputs[0].token_ids), o.outputs[0].finish_reason == "stop") for o in outputs]

    @torch.no_grad()
    def sync(self, model: torch.nn.Module) -> None:
        runner: Any = self.llm.llm_engine.model_executor.driver_worker.model_runner.model
        runner.load_weights((name, param.data) for name, param in model.named_parameters())
        self.llm.reset_prefix_cache()
