"""Text2SQL-v0 and Text2SQL-Discriminate-v0: write SQL for a question over a database, or judge
whether a candidate query answers it; both scored by execution in SQLite.

Source: Anjum, "When Reasoning Beats Scale: A 1.5B Reasoning Model Outranks 13B LLMs as
Discriminator", arXiv 2505.03786: a generator proposes SQL, a reasoning discriminator judges each
candidate with JSON ``{"correct": true|false}``, and candidates are reranked by the discriminator's
soft score (:mod:`thinkgym.agents.sql_rerank`).

**Text2SQL-v0.** Observation: the prompt (``str``): the instruction, the schema as ``CREATE TABLE``
statements each followed by ``example_rows`` example rows, and the question. Action: the model's
response (``str``); the answer is the last ```` ```sql ```` fenced block after any ``</think>``
(:mod:`thinkgym.verifiers.sql`). Reward: 1 when the query's result equals the gold query's result
(multisets of rows; sequences when the gold has ``ORDER BY``; any column order; numbers within
1e-6 relative), 0 for a query that runs to another result or fails (syntax error, timeout, a write,
several statements, ...), -1 when no ``sql`` block can be read, and ``rewards["verifier_error"]``
(default 0) when the verifier cannot decide: the gold query does not finish within the limits after
a retry or does not run, or the database cannot be built (:mod:`thinkgym.verifiers.sql` says which
timeouts are the query's and which the verifier's).

**Text2SQL-Discriminate-v0.** Observation: the paper's discriminator prompt (its
``TEMP_REASONING_EVAL_SCHEMA``: instruction, schema, question, candidate SQL). Action: the response;
the judgement is the last ``"correct": true|false`` inside braces after any ``</think>``. Reward: 1
when the judgement equals the label, 0 when it does not, -1 when no judgement can be read. The
candidate is the gold query, an equivalent rewrite or a corruption (wrong column, operator,
aggregate or join key; dropped condition, ``GROUP BY`` or ``DISTINCT``; ``AND``/``OR`` swapped;
flipped sort; off-by-one ``LIMIT``), and its label is computed by execution: a corruption that
happens to return the gold result is labelled correct. Labels are balanced by default
(``p_correct=0.5``).

Episode end: after one step (terminated=True). ``info["verdict"]`` says why.

Arguments: ``level`` (1..8, see ``thinkgym.generators.sql.LEVELS``) or ``tables`` (1..4 shown),
``kinds`` (question kinds, ``thinkgym.generators.sql.KINDS``), ``rows`` (4..60 per table before the
table's size factor), ``domains`` (shop, school, library, company), ``example_rows`` (0..10);
Discriminate also ``p_correct``; ``limits`` (a :class:`thinkgym.verifiers.sql.Limits`: time, VM
steps, rows); ``rewards``; ``max_text_length``; ``render_mode`` ("ansi", "human").

``info["problem"]["metadata"]`` carries ``schema`` (CREATE TABLE statements), ``rows`` (table ->
rows), ``schema_text``, ``question``, ``gold``, ``ordered``, ``domain``, ``kind``, ``tables``,
``seed``; Discriminate adds ``candidate``, ``label`` and ``origin`` (gold, rewrite or corruption).

Version history: v0 — first release.
"""

from __future__ import annotations

from typing import Any

from thinkgym.core import Problem, Verdict
from thinkgym.envs.base import ReasoningEnv
from thinkgym.generators import sql as sql_gen
from thinkgym.verifiers import sql as sql_verifier

__all__ = ["Text2SQLEnv", "Text2SQLDiscriminateEnv"]


class Text2SQLEnv(ReasoningEnv):
    family = "text2sql"
    levels = sql_gen.LEVELS
    default_level = 1

    def __init__(self, *, limits: sql_verifier.Limits | None = None, **kwargs: Any) -> None:
        self.limits = limits or sql_verifier.Limits()
        super().__init__(**kwargs)

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return sql_gen.check_params(params)

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        return sql_gen.generate(params, seed)

    def verify(self, response: str, problem: Problem) -> Verdict:
        meta = problem.metadata
        return sql_verifier.verify(response, meta["schema"], meta["rows"], meta["gold"], meta["ordered"], self.limits)


class Text2SQLDiscriminateEnv(ReasoningEnv):
    family = "text2sql-discriminate"
    levels = sql_gen.LEVELS
    default_level = 1

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        return sql_gen.check_params(params, discriminate=True)

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        return sql_gen.generate_discriminate(params, seed)

    def verify(self, response: str, problem: Problem) -> Verdict:
        return sql_verifier.verify_judgement(response, problem.metadata["label"])
