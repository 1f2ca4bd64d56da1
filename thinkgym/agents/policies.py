"""Built-in policies for sweeps, tests and baselines: a solver oracle and a uniform random policy.

A policy maps an observation (the prompt) and its ``info`` (which holds ``info["problem"]``) to a
response string. ``act_batch`` answers many at once; model-backed policies override it to batch
generation. The oracle *solves* each problem (SAT with a pysat solver, not by reading the planted
answer), so a sweep with it checks the generator, the prompt and the verifier end to end.
"""

from __future__ import annotations

import random
from typing import Any

from thinkgym.generators import sat as sat_gen

__all__ = ["Policy", "OraclePolicy", "RandomPolicy", "check_policy_spec", "make_policy", "POLICIES"]


class Policy:
    """Base class: ``act(observation, info) -> response``. Model-backed policies set
    ``last_usage`` after ``act_batch`` (one dict per response, with ``completion_tokens``)."""

    name = "policy"
    last_usage: list[dict[str, int]] | None = None

    def act(self, observation: str, info: dict[str, Any]) -> str:
        raise NotImplementedError

    def act_batch(self, observations: list[str], infos: list[dict[str, Any]]) -> list[str]:
        return [self.act(o, i) for o, i in zip(observations, infos, strict=True)]

    def __call__(self, observation: str, info: dict[str, Any]) -> str:
        return self.act(observation, info)


def _problem(info: dict[str, Any]) -> dict[str, Any]:
    try:
        return info["problem"]
    except (KeyError, TypeError):
        raise ValueError("this policy needs info['problem'], as every thinkgym env's reset returns") from None


class OraclePolicy(Policy):
    """Answers correctly: SAT instances are solved with a pysat solver (``solver``, MiniSat 2.2 by
    default); other families answer the reference answer, as ``\\boxed{answer}`` (text-to-SQL: the
    gold query in a ``sql`` block)."""

    name = "oracle"

    def __init__(self, solver: str = "m22") -> None:
        self.solver = solver

    def act(self, observation: str, info: dict[str, Any]) -> str:
        problem = _problem(info)
        if problem["family"] == "sat":
            meta = problem["metadata"]
            answer = sat_gen.solve(meta["clauses"], meta["num_vars"], self.solver)
            if answer is None:  # cannot happen for planted instances; say so rather than guess
                return "The formula is unsatisfiable."
            return f"\\boxed{{{answer}}}"
        if problem["family"] == "text2sql":
            return f"```sql\n{problem['answer']}\n```"
        return f"\\boxed{{{problem['answer']}}}"


class RandomPolicy(Policy):
    """Guesses uniformly: a random k-bit assignment for SAT; for logic puzzles the family's
    ``random_answer`` (well-formed, e.g. a random colour per vertex); for other families a random
    integer in [-100, 100]. Seeded, so a sweep with it is reproducible."""

    name = "random"

    def __init__(self, seed: int = 0) -> None:
        self.rng = random.Random(seed)

    def act(self, observation: str, info: dict[str, Any]) -> str:
        problem = _problem(info)
        if problem["family"] == "sat":
            k = problem["metadata"]["num_vars"]
            bits = format(self.rng.getrandbits(k), f"0{k}b") if k else ""
            return f"\\boxed{{{bits}}}"
        if problem["family"] == "logic":  # a well-formed guess in the puzzle's own answer format
            from thinkgym.generators import logic

            meta = problem["metadata"]
            return f"\\boxed{{{logic.get(meta['puzzle']).random_answer(meta['instance'], self.rng)}}}"
        return f"\\boxed{{{self.rng.randint(-100, 100)}}}"


POLICIES = ("oracle", "random", "hf:PATH", "vllm:PATH", "openai:URL")


def check_policy_spec(spec: str) -> None:
    """A ``ValueError`` naming the valid forms unless ``spec`` has one of them (nothing is loaded)."""
    if spec in ("oracle", "random") or (spec.startswith(("hf:", "vllm:", "openai:")) and spec.partition(":")[2]):
        return
    raise ValueError(
        f"unknown policy {spec!r}; valid: {', '.join(POLICIES)} "
        "(e.g. --policy oracle, --policy hf:tiny, --policy openai:http://localhost:8000/v1)"
    )


def make_policy(spec: str | Policy, seed: int = 0, **options: Any) -> Policy:
    """A policy from a spec string:

    * ``oracle``, ``random``;
    * ``hf:PATH`` (a local Hugging Face model folder, or ``hf:tiny``; needs the ``train`` extra);
    * ``vllm:PATH`` (a local model folder served by an in-process vLLM engine; needs vLLM,
      docs/vllm.md);
    * ``openai:URL`` (an OpenAI-compatible endpoint, e.g. ``openai:http://localhost:8000/v1``;
      ``openai:URL#MODEL`` names the served model).

    ``options`` go to the model-backed policies (``max_tokens``, ``temperature``, ...).
    """
    if isinstance(spec, Policy):
        return spec
    check_policy_spec(spec)
    if spec == "random":
        return RandomPolicy(seed=seed)
    if spec == "oracle":
        return OraclePolicy()
    if spec.startswith("hf:"):
        from thinkgym.agents.hf_policy import HFPolicy

        return HFPolicy(spec[3:], seed=seed, **options)
    if spec.startswith("vllm:"):
        from thinkgym.agents.vllm_policy import VLLMPolicy

        return VLLMPolicy(spec[5:], seed=seed, **options)
    from thinkgym.agents.openai_policy import OpenAIPolicy

    url, _, model = spec[7:].partition("#")
    return OpenAIPolicy(url, model or None, **options)  # no seed: the k samples must differ
