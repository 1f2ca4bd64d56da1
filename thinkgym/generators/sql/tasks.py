"""Text-to-SQL problems: levels, parameter checks, instance building, prompts, and the two tasks
(write the SQL; judge a candidate SQL).

An instance is a database (1..4 related tables of one domain, tens of rows each), a question from a
template of the chosen kinds, and its gold query. It is kept only if the gold result is non-empty
and free of NULLs; every filter and ``HAVING`` condition changes the result; a ``GROUP BY`` gives
at least two groups; an aggregate without one covers at least two rows (a count, at least one);
and an ordered result has two or more rows with no ties in the ``ORDER BY`` keys (among the first
``LIMIT + 1`` rows under a ``LIMIT``, which must cut). Otherwise a new instance is drawn.

The discrimination task pairs an instance with one candidate: the gold query, an equivalent
rewrite, or a corruption of it, labelled correct exactly when it executes to the gold result (the
paper, Anjum arXiv 2505.03786, also measures correctness by execution).

Everything is drawn from ``random.Random(seed)``, so a seed gives the same problem everywhere.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from thinkgym.core import Problem, stable_id
from thinkgym.generators.sql.query import Agg, Query, complexity, corruptions, render, rewrites
from thinkgym.generators.sql.questions import KINDS, Draw
from thinkgym.generators.sql.schema import DOMAINS, Domain, connected_tables, create_statements, make_rows
from thinkgym.verifiers.sql import Execution, compare_results, connect, execute

__all__ = [
    "DISCRIMINATE_TEMPLATE",
    "LEVELS",
    "TEXT2SQL_TEMPLATE",
    "Instance",
    "build_instance",
    "candidates",
    "check_params",
    "discriminate_prompt",
    "generate",
    "generate_discriminate",
]

MAX_TABLES = 4
_MAX_ATTEMPTS = 200

# level -> generator parameters; the levels add SQL features in the order Spider's hardness counts them.
LEVELS: dict[int, dict[str, Any]] = {
    1: {"tables": 1, "kinds": ["filter"], "rows": 10},
    2: {"tables": 1, "kinds": ["distinct", "filter2", "order"], "rows": 12},
    3: {"tables": 1, "kinds": ["aggregate", "group"], "rows": 15},
    4: {"tables": 2, "kinds": ["having", "subquery"], "rows": 15},
    5: {"tables": 2, "kinds": ["join"], "rows": 15},
    6: {"tables": 3, "kinds": ["in_subquery", "join_group"], "rows": 20},
    7: {"tables": 3, "kinds": ["join3"], "rows": 20},
    8: {"tables": 4, "kinds": sorted(KINDS), "rows": 25},
}

TEXT2SQL_TEMPLATE = (
    "Answer the question by writing one SQLite query over the database below.\n"
    "Reason step by step, then give your final answer as a single SELECT statement in a ```sql fenced code "
    "block. Only the last ```sql block counts: it is run on the database and its result is compared with the "
    "result of a correct query. Return exactly the columns the question asks for; row order matters only when "
    "the question asks for an order.\n\n"
    "### Schema:\n{schema}\n\n### Question:\n{question}\n"
)

# The paper's TEMP_REASONING_EVAL_SCHEMA (arXiv 2505.03786 code, utils/constants.py) without its
# assistant prefill "\n<think>\nOkay,", which the HF discriminator adds (thinkgym.agents.sql_rerank).
DISCRIMINATE_TEMPLATE = (
    "Determine whether the SQL query is correct or not for the given question. Provide final answer in JSON "
    "format with the key 'correct'.\n For this task do the following:\n- First, break down the query step by "
    "step. Use the Schema for this.\n- Then, determine if the query provides the answer to the given question.\n"
    "You only need to determine in terms of correctness, if query is correct or not. Do not generate alternative "
    "query.\n\n### Schema:\n{schema}\n### Question:\n{question}\n### SQL query:\n{sql}\n"
)


def _check_int(name: str, value: Any, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ValueError(f"{name} must be an integer in {lo}..{hi}, got {value!r}")
    return value


def _check_names(name: str, value: Any, valid: Mapping[str, Any]) -> list[str]:
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not names or not all(isinstance(v, str) for v in names):
        raise ValueError(f"{name} must be a non-empty list of names from {sorted(valid)}, got {value!r}")
    unknown = sorted(set(names) - set(valid))
    if unknown:
        raise ValueError(f"{name}: unknown {unknown}; valid: {sorted(valid)}")
    return sorted(set(names))


def check_params(params: Mapping[str, Any], *, discriminate: bool = False) -> dict[str, Any]:
    """Validates and completes generator parameters; a ``ValueError`` names the bad one.

    ``tables`` (1..4): tables shown; ``kinds``: question kinds (:data:`KINDS`), each needing at most
    ``tables`` tables; ``rows`` (4..60): rows per table before its size factor; ``domains``: subset
    of :data:`DOMAINS` (default all); ``example_rows`` (0..10): rows per table shown in the prompt;
    discrimination only: ``p_correct`` in [0, 1], the probability that the candidate is correct.
    """
    valid = {"tables", "kinds", "rows", "domains", "example_rows"} | ({"p_correct"} if discriminate else set())
    unknown = set(params) - valid
    if unknown:
        raise ValueError(f"unknown text-to-SQL parameter(s) {sorted(unknown)}; valid: {sorted(valid)}")
    tables = _check_int("tables", params.get("tables", 1), 1, MAX_TABLES)
    kinds = _check_names("kinds", params.get("kinds", ["filter"]), KINDS)
    for kind in kinds:
        if KINDS[kind].min_tables > tables:
            raise ValueError(f"kinds: {kind!r} needs tables >= {KINDS[kind].min_tables}, got tables={tables}")
    out = {
        "tables": tables,
        "kinds": kinds,
        "rows": _check_int("rows", params.get("rows", 12), 4, 60),
        "domains": _check_names("domains", params.get("domains", sorted(DOMAINS)), DOMAINS),
        "example_rows": _check_int("example_rows", params.get("example_rows", 3), 0, 10),
    }
    if discriminate:
        p = params.get("p_correct", 0.5)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"p_correct must be a number in [0, 1], got {p!r}")
        out["p_correct"] = float(p)
    return out


@dataclass(frozen=True)
class Instance:
    """A database, a question and its gold query."""

    domain: Domain
    kind: str
    tables: list[str]
    schema: list[str]
    rows: dict[str, list[list[Any]]]
    question: str
    query: Query
    example_rows: int

    @property
    def gold(self) -> str:
        return render(self.query)

    @property
    def ordered(self) -> bool:
        """The result is compared in order: the gold query has a top-level ORDER BY."""
        return bool(self.query.order_by)

    def schema_text(self) -> str:
        """The CREATE TABLE statements, each followed by a comment with its first example rows."""
        parts = []
        for statement, name in zip(self.schema, self.tables, strict=True):
            parts.append(statement)
            shown = self.rows[name][: self.example_rows]
            if shown:
                header = " | ".join(c.name for c in self.domain.table(name).columns)
                lines = [" | ".join(str(v) for v in row) for row in shown]
                parts.append(f"/*\n{len(shown)} example rows:\n{header}\n" + "\n".join(lines) + "\n*/")
        return "\n".join(parts)

    def difficulty(self) -> float:
        """SQL components of the gold query (:func:`complexity`) plus 0.5 per extra table shown."""
        return complexity(self.query) + 0.5 * (len(self.tables) - 1)

    def metadata(self, seed: int) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "rows": self.rows,
            "schema_text": self.schema_text(),
            "question": self.question,
            "gold": self.gold,
            "ordered": self.ordered,
            "domain": self.domain.name,
            "kind": self.kind,
            "tables": self.tables,
            "seed": seed,
        }


def _same(result: Execution, gold: Execution, ordered: bool) -> bool:
    return result.status == "ok" and compare_results(result, gold, ordered) == "correct"


def _acceptable(conn: Any, inst: Instance, gold: Execution) -> bool:
    """The degeneracy checks of the module docstring."""
    q = inst.query
    if gold.status != "ok" or not gold.rows or any(v is None for row in gold.rows for v in row):
        return False
    if not q.group_by and all(isinstance(e, Agg) for e in q.select):
        counted = execute(conn, render(replace(q, select=(Agg("COUNT"),))))
        if counted.rows[0][0] < (1 if all(e.func == "COUNT" for e in q.select) else 2):
            return False  # a count of 0, or an average (sum, ...) over fewer than two rows
    for name, variant in corruptions(q, inst.domain):
        if name == "dropped_condition" and _same(execute(conn, render(variant)), gold, inst.ordered):
            return False
    if q.group_by and not q.having and q.limit is None and len(gold.rows) < 2:
        return False
    if q.order_by:
        if len(gold.rows) < 2:
            return False
        keys = execute(conn, render(replace(q, select=tuple(e for e, _ in q.order_by), limit=None)))
        head = keys.rows if q.limit is None else keys.rows[: q.limit + 1]
        if q.limit is not None and len(keys.rows) <= q.limit or len(set(head)) < len(head):
            return False
    return True


def build_instance(params: Mapping[str, Any], rng: random.Random) -> Instance:
    """Draws instances until one passes the checks (validated ``params``)."""
    for _ in range(_MAX_ATTEMPTS):
        kind = rng.choice(params["kinds"])
        template = KINDS[kind]
        domain = DOMAINS[rng.choice(params["domains"])]
        core = template.core(rng, domain)
        if core is None:
            continue
        tables = connected_tables(domain, core, params["tables"], rng)
        rows = make_rows(domain, tables, params["rows"], rng)
        built = template.build(Draw(rng, domain, rows), core)
        if built is None:
            continue
        inst = Instance(domain, kind, tables, create_statements(domain, tables), rows, built[0], built[1],
                        params["example_rows"])
        conn = connect(inst.schema, inst.rows)
        try:
            if _acceptable(conn, inst, execute(conn, inst.gold)):
                return inst
        finally:
            conn.close()
    raise RuntimeError(f"no acceptable text-to-SQL instance in {_MAX_ATTEMPTS} draws for {dict(params)}")


def generate(params: Mapping[str, Any], seed: int) -> Problem:
    """One Text2SQL problem: the answer is the gold query."""
    inst = build_instance(params, random.Random(seed))
    return Problem(
        id=stable_id("text2sql", {"schema": inst.schema, "rows": inst.rows, "question": inst.question}),
        prompt=TEXT2SQL_TEMPLATE.format(schema=inst.schema_text(), question=inst.question),
        answer=inst.gold,
        params=dict(params),
        difficulty=inst.difficulty(),
        family="text2sql",
        metadata=inst.metadata(seed),
    )


def discriminate_prompt(schema_text: str, question: str, sql: str) -> str:
    """The paper's discriminator prompt for one candidate."""
    return DISCRIMINATE_TEMPLATE.format(schema=schema_text, question=question, sql=sql)


def candidates(inst: Instance) -> dict[bool, dict[str, list[str]]]:
    """All candidates of an instance by execution label, then by origin (``gold``, a rewrite or a
    corruption name): label True when the candidate's result matches the gold result."""
    pools: dict[bool, dict[str, list[str]]] = {True: {"gold": [inst.gold]}, False: {}}
    seen = {inst.gold}
    conn = connect(inst.schema, inst.rows)
    try:
        gold = execute(conn, inst.gold)
        variants = rewrites(inst.query) + [(name, render(q)) for name, q in corruptions(inst.query, inst.domain)]
        for name, sql in variants:
            if sql not in seen:
                seen.add(sql)
                pools[_same(execute(conn, sql), gold, inst.ordered)].setdefault(name, []).append(sql)
    finally:
        conn.close()
    return pools


def generate_discriminate(params: Mapping[str, Any], seed: int) -> Problem:
    """One Text2SQL-Discriminate problem: judge whether a candidate query answers the question.
    The label is True with probability ``p_correct``; within a label the origin (gold, rewrite or
    corruption kind) is uniform, then the candidate."""
    rng = random.Random(seed)
    label = rng.random() < params["p_correct"]
    for _ in range(_MAX_ATTEMPTS):
        inst = build_instance(params, rng)
        pool = candidates(inst)[label]
        if not pool:
            continue
        origin = rng.choice(sorted(pool))
        sql = rng.choice(pool[origin])
        metadata = inst.metadata(seed)
        metadata.update(candidate=sql, label=label, origin=origin)
        return Problem(
            id=stable_id("text2sql-discriminate", {"schema": inst.schema, "rows": inst.rows,
                                                   "question": inst.question, "candidate": sql}),
            prompt=discriminate_prompt(metadata["schema_text"], inst.question, sql),
            answer='{"correct": ' + ("true" if label else "false") + "}",
            params=dict(params),
            difficulty=inst.difficulty(),
            family="text2sql-discriminate",
            metadata=metadata,
        )
    raise RuntimeError(f"no candidate with label {label} in {_MAX_ATTEMPTS} instances for {dict(params)}")
