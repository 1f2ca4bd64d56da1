"""A policy served by an in-process vLLM engine (``vllm:PATH``), for sweeps and evaluation.

Offline batched generation: ``act_batch`` sends every observation it is given to the engine in
one ``generate`` call, and identical prompts (the ``samples`` of one problem in a sweep) become a
single request with ``n`` samples, so their prompt is computed once. The sampling options are
``hf:PATH``'s (``max_tokens``, ``temperature``, ``top_p``, ``seed``); prompts go through the chat
template as in :class:`~thinkgym.agents.grpo.policy.ModelPolicy`, and a response ends at the
end-of-turn token. Needs vLLM (docs/vllm.md); on CPU the engine runs in fp32, eager.

Scripts that create it need the ``if __name__ == "__main__":`` guard: the engine starts worker
processes with ``spawn``.
"""

from __future__ import annotations

from typing import Any

from thinkgym.agents.policies import Policy

__all__ = ["VLLMPolicy"]


class VLLMPolicy(Policy):
    """Args:
    model: a local model folder (``thinkgym sft``/``train`` write one; ``tiny`` has no folder).
    max_tokens: new tokens per response. temperature: 0 = greedy. top_p: nucleus sampling.
    seed: every call samples with seeds derived from it, so a sweep is reproducible.
    batch_size: accepted for ``hf:PATH`` compatibility and ignored (vLLM schedules the batch).
    engine_kwargs: other ``vllm.LLM`` arguments (e.g. ``{"max_model_len": 4096}``).
    """

    name = "vllm"

    def __init__(
        self,
        model: str,
        *,
        max_tokens: int = 512,
        temperature: float = 0.6,
        top_p: float = 0.95,
        seed: int = 0,
        batch_size: int | None = None,
        engine_kwargs: dict[str, Any] | None = None,
    ) -> None:
        from thinkgym.agents.grpo.chat import ChatFormat
        from thinkgym.agents.grpo.vllm_sampler import VLLMSampler

        if max_tokens < 1:
            raise ValueError(f"max_tokens must be >= 1, got {max_tokens}")
        if temperature < 0 or not 0 < top_p <= 1:
            raise ValueError(f"need temperature >= 0 and 0 < top_p <= 1, got {temperature}, {top_p}")
        self.sampler = VLLMSampler(model, (), top_p=top_p, seed=seed, engine_kwargs=engine_kwargs)
        self.chat = ChatFormat(self.sampler.llm.get_tokenizer())
        self.sampler.stop_ids = sorted(self.chat.stop_ids)
        self.max_tokens, self.temperature, self.seed, self.calls = max_tokens, temperature, seed, 0
        self.name = f"vllm:{model}"

    def act(self, observation: str, info: dict[str, Any]) -> str:
        return self.act_batch([observation], [info])[0]

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[str]:
        from thinkgym.agents.grpo.sampling import step_seed

        self.calls += 1
        prompts: dict[tuple[int, ...], list[int]] = {}  # prompt ids -> the rows asking for it
        for row, (observation, info) in enumerate(zip(observations, infos, strict=True)):
            prompts.setdefault(tuple(self.chat.prompt_ids(observation, info)), []).append(row)
        requests = [self.sampler.vllm.inputs.TokensPrompt(prompt_token_ids=list(ids)) for ids in prompts]
        params = [
            self.sampler.params(self.temperature, self.max_tokens, (), step_seed(self.seed, self.calls, i), len(rows))
            for i, rows in enumerate(prompts.values())
        ]
        outputs = self.sampler.llm.generate(requests, params, use_tqdm=False)
        texts: list[str] = [""] * len(observations)
        usage: list[dict[str, int]] = [{}] * len(observations)
        for (ids, rows), output in zip(prompts.items(), outputs, strict=True):
            for row, sample in zip(rows, output.outputs, strict=True):
                tokens = list(sample.token_ids)
                texts[row] = self.chat.decode(tokens)
                if tokens and tokens[-1] in self.chat.stop_ids:  # as hf:PATH counts: without the end token
                    tokens.pop()
                usage[row] = {"prompt_tokens": len(ids), "completion_tokens": len(tokens)}
        self.last_usage = usage
        return texts

    def close(self) -> None:
        self.sampler.close()
