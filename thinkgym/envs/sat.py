"""Saturn-SAT-v0: solve a planted-satisfiable SAT instance, SATURN-style.

Source: Liu et al., "SATURN: SAT-based Reinforcement Learning to Unleash Language Model
Reasoning", arXiv 2505.16368 (NeurIPS 2025); code gtxygyzb/Saturn-code.

Observation: the prompt (``str``): SATURN's instruction, one worked example and the instance as a
JSON line (variables A..Z, ``!`` for not, clauses joined by `` & ``) for k <= 26, or DIMACS CNF
for larger k. Override with ``prompt_template`` (fields ``{instance}``, ``{n}``, ``{k}``, ``{l}``).

Action: the model's full response (``str``). The answer is read from the last ``\\boxed{}`` after
any ``</think>``: a k-character string of 0/1, position i = variable i+1.

Reward: SATURN's scheme (paper Sec. 2.4): 1 when the assignment satisfies every clause, 0 for a
boxed answer that does not (or is not a k-char 0/1 string), -1 when no boxed answer can be read.
Set ``rewards={"correct": .., "wrong": .., "format_error": ..}`` to change it. The verifier always
decides (a linear pass, no timeout), so ``rewards["verifier_error"]`` is paid only by subclasses
whose ``verify`` can fail.

Episode end: after one step (terminated=True). ``info["verdict"]`` says why.

Arguments: ``level`` (1..18, ordered by SATURN's difficulty D; see
``thinkgym.generators.sat.LEVELS``) or ``n`` (literals per clause), ``k`` (variables), ``l``
(clauses) and ``planting`` (``"naive"`` as SATURN, or ``"q-hidden"`` for hard large instances);
``prompt_template``; ``rewards``; ``max_text_length``; ``render_mode`` ("ansi", "human").

``info["problem"]["metadata"]`` carries ``clauses`` (DIMACS signed ints, variables 1..k),
``num_vars`` and the generator ``seed``. Every info is a fresh copy; the env verifies against its own
copy of the clauses.

Version history: v0 — first release.
"""

from __future__ import annotations

from typing import Any

from thinkgym.core import Problem, Verdict
from thinkgym.envs.base import ReasoningEnv
from thinkgym.generators import sat as sat_gen
from thinkgym.verifiers import sat as sat_verifier

__all__ = ["SaturnSATEnv"]


class SaturnSATEnv(ReasoningEnv):
    family = "sat"
    levels = sat_gen.LEVELS
    default_level = 1

    def __init__(self, *, prompt_template: str | None = None, **kwargs: Any) -> None:
        self.prompt_template = None if prompt_template is None else sat_gen.check_template(prompt_template)
        super().__init__(**kwargs)

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        unknown = set(params) - {"n", "k", "l", "planting"}
        if unknown:
            raise ValueError(f"unknown SAT parameter(s) {sorted(unknown)}; valid: n, k, l, planting")
        missing = {"n", "k", "l"} - set(params)
        if missing:
            raise ValueError(f"SAT parameters need all of n, k, l (or a level); missing {sorted(missing)}")
        return sat_gen.check_params(**params)

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        return sat_gen.generate(params, seed, self.prompt_template)

    def verify(self, response: str, problem: Problem) -> Verdict:
        return sat_verifier.verify(response, problem.metadata["clauses"], problem.metadata["num_vars"])
