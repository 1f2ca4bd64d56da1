"""Text-to-SQL verifiers: execution accuracy in a locked-down SQLite database, and the judgement of
a SQL discriminator.

Source: Anjum, "When Reasoning Beats Scale: A 1.5B Reasoning Model Outranks 13B LLMs as
Discriminator", arXiv 2505.03786 (generator-discriminator text-to-SQL, scored by execution
accuracy; the discriminator answers in JSON with the key ``correct``).

**Answer rule (SQL).** The query is the body of the last fenced code block whose info string is
``sql`` (any case) in the answer region: everything after the last ``</think>``; a response that
opens ``<think>`` and never closes it has no answer (:func:`thinkgym.verifiers.extract.answer_region`).
A final ``sql`` block left open is a format error (``unclosed_block``), as is an empty one.

**Execution.** The query runs in a fresh in-memory SQLite database rebuilt from the problem's
``CREATE TABLE`` statements and rows, then locked: ``PRAGMA query_only=ON``, no attached databases,
and an authorizer that allows only reads, function calls and (recursive) CTEs, so any write,
``ATTACH``, ``PRAGMA``, DDL or transaction statement is refused (``not_allowed``). One statement
only (``multiple_statements``). A progress handler stops a query after ``Limits.max_steps`` SQLite
VM instructions or ``Limits.timeout_s`` seconds, whichever comes first (``timeout``); at most
``Limits.max_rows`` rows are fetched (``too_many_rows``); strings and blobs are capped at
``Limits.max_value_bytes``. Nothing a query does can hang the caller or change the data.

**Wrong answer or verifier error.** The step budget is the same on every machine, so a query that
spends it is the query's fault: a wrong answer (``timeout``, ``format_ok=True``). The wall clock
depends on the machine's load, so a query stopped by it is run once more with four times the wall
clock (the same step budget) before it is judged; a model's query still running then is a wrong
answer too (``timeout``, with ``details["limit"]`` ``"wall_clock"``): a query that costly is no answer
on a busy machine either, and a policy must not escape the penalty by writing slow SQL. The
verifier's own failures are verifier errors (``verifier_error=True``, neither right nor wrong, paid
``rewards["verifier_error"]`` by the envs and left out of training): the gold query does not finish
within the limits after the retry (``verifier_timeout``), the gold query fails to run
(``invalid_gold``), or building the database or comparing the results raises (``verifier_crash``).

**Comparison.** Results are compared as multisets of rows, or as sequences when the gold query has
a top-level ``ORDER BY``. Column order is free: a permutation of the gold's columns matches.
Numbers compare by value (``3 == 3.0``) within ``math.isclose(rel_tol=1e-6, abs_tol=1e-9)``; text,
blobs and NULL compare exactly (``'3'`` is not ``3``).

Reasons (SQL): ``correct``; an answer was read (``format_ok=True``): ``wrong_column_count``,
``wrong_row_count``, ``wrong_values``, ``wrong_order``, ``syntax_error``, ``sql_error``, ``timeout``,
``not_allowed``, ``multiple_statements``, ``too_many_rows``, ``too_long``, ``no_result_set``; no
answer (``format_ok=False``): ``no_answer``, ``unclosed_block``, ``empty_query``,
``unfinished_thinking``; the verifier could not decide (``verifier_error=True``):
``verifier_timeout``, ``invalid_gold``, ``verifier_crash``.

**Judgement rule (discriminator).** The judgement is the value of the last ``"correct": <value>``
pair inside braces in the answer region, as the paper's ``isCorrectV3`` reads the last JSON object
with the key ``correct``: JSON or Python spelling (``true``/``True``, single or double quotes
around the key, the value optionally quoted). Reasons: ``correct``, ``wrong_judgement``,
``no_judgement``, ``bad_value`` (the key holds something else), ``unfinished_thinking``.
"""

from __future__ import annotations

import dataclasses
import math
import re
import sqlite3
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import permutations
from typing import Any

from thinkgym.core import Verdict
from thinkgym.verifiers.extract import answer_region

__all__ = [
    "Execution",
    "Judgement",
    "Limits",
    "SQLAnswer",
    "compare_results",
    "connect",
    "execute",
    "execute_with_retry",
    "extract_sql",
    "read_judgement",
    "verify",
    "verify_judgement",
]

_FENCE = "```"
_PREVIEW = 300
_CREATE_TABLE = re.compile(r"\s*CREATE\s+TABLE\s", re.IGNORECASE)
_SYNTAX_MARKERS = ("syntax error", "incomplete input", "unrecognized token")
_ALLOWED_ACTIONS = frozenset(
    {sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_FUNCTION, sqlite3.SQLITE_RECURSIVE}
)
_DENIED_FUNCTIONS = frozenset({"load_extension"})
_ACTION_NAMES = {
    getattr(sqlite3, name): name
    for name in (
        "SQLITE_CREATE_INDEX", "SQLITE_CREATE_TABLE", "SQLITE_CREATE_TEMP_INDEX", "SQLITE_CREATE_TEMP_TABLE",
        "SQLITE_CREATE_TEMP_TRIGGER", "SQLITE_CREATE_TEMP_VIEW", "SQLITE_CREATE_TRIGGER", "SQLITE_CREATE_VIEW",
        "SQLITE_DELETE", "SQLITE_DROP_INDEX", "SQLITE_DROP_TABLE", "SQLITE_DROP_TEMP_INDEX", "SQLITE_DROP_TEMP_TABLE",
        "SQLITE_DROP_TEMP_TRIGGER", "SQLITE_DROP_TEMP_VIEW", "SQLITE_DROP_TRIGGER", "SQLITE_DROP_VIEW",
        "SQLITE_INSERT", "SQLITE_PRAGMA", "SQLITE_READ", "SQLITE_SELECT", "SQLITE_TRANSACTION", "SQLITE_UPDATE",
        "SQLITE_ATTACH", "SQLITE_DETACH", "SQLITE_ALTER_TABLE", "SQLITE_REINDEX", "SQLITE_ANALYZE",
        "SQLITE_CREATE_VTABLE", "SQLITE_DROP_VTABLE", "SQLITE_FUNCTION", "SQLITE_SAVEPOINT", "SQLITE_RECURSIVE",
    )
    if hasattr(sqlite3, name)
}
_PROGRESS_EVERY = 1000  # VM instructions between two calls of the progress handler
RETRY_CLOCK_FACTOR = 4  # a query stopped by the wall clock runs once more with this much more time


@dataclass(frozen=True)
class Limits:
    """What one query may spend. The step budget is deterministic; the wall clock is a backstop."""

    timeout_s: float = 2.0
    max_steps: int = 20_000_000
    max_rows: int = 1_000
    max_sql_chars: int = 20_000
    max_value_bytes: int = 100_000


@dataclass(frozen=True)
class SQLAnswer:
    """Result of :func:`extract_sql`: ``sql`` is ``None`` unless ``status == "ok"``."""

    sql: str | None
    status: str  # "ok", "no_answer", "unclosed_block", "empty_query" or "unfinished_thinking"


@dataclass(frozen=True)
class Execution:
    """One query's outcome: ``status`` is ``"ok"`` or a verdict reason; ``columns`` the result width;
    for a ``timeout``, ``limit`` says which stopped it: ``"steps"`` or ``"wall_clock"``."""

    status: str
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    columns: int = 0
    error: str = ""
    limit: str = ""


@dataclass(frozen=True)
class Judgement:
    """Result of :func:`read_judgement`. ``start:end`` spans the value's word in the response."""

    value: bool | None
    status: str  # "ok", "no_judgement", "bad_value" or "unfinished_thinking"
    start: int = -1
    end: int = -1


# -- reading the answer ---------------------------------------------------------------------------
def _fenced_block(text: str, head: int, close: int) -> tuple[str, str]:
    """(info string, body) of the block whose opening fence ends at ``head``."""
    newline = text.find("\n", head, close)
    if newline >= 0:
        return text[head:newline].strip(), text[newline + 1 : close]
    parts = text[head:close].strip().split(None, 1)  # one-line block: ```sql SELECT 1```
    return (parts[0], parts[1] if len(parts) > 1 else "") if parts else ("", "")


def _is_sql_info(info: str) -> bool:
    words = info.split(None, 1)
    return bool(words) and words[0].lower() == "sql"


def extract_sql(response: str) -> SQLAnswer:
    """The body of the last ```` ```sql ```` block after any ``</think>`` (module docstring)."""
    if not isinstance(response, str):
        return SQLAnswer(None, "no_answer")
    pos, status = answer_region(response)
    if status != "ok":
        return SQLAnswer(None, status)
    found: str | None = None
    while True:
        start = response.find(_FENCE, pos)
        if start < 0:
            break
        head = start + len(_FENCE)
        close = response.find(_FENCE, head)
        if close < 0:
            line_end = response.find("\n", head)
            if _is_sql_info(response[head : None if line_end < 0 else line_end]):
                return SQLAnswer(None, "unclosed_block")
            break
        info, body = _fenced_block(response, head, close)
        if _is_sql_info(info):
            found = body
        pos = close + len(_FENCE)
    if found is None:
        return SQLAnswer(None, "no_answer")
    found = found.strip()
    return SQLAnswer(found, "ok") if found else SQLAnswer(None, "empty_query")


# -- the database ---------------------------------------------------------------------------------
class _Guard:
    """The authorizer of one query; remembers the first refused action for the verdict."""

    def __init__(self) -> None:
        self.denied: str | None = None

    def __call__(self, action: int, arg1: str | None, arg2: str | None, db: str | None, trigger: str | None) -> int:
        if action in _ALLOWED_ACTIONS and not (action == sqlite3.SQLITE_FUNCTION and arg2 in _DENIED_FUNCTIONS):
            return sqlite3.SQLITE_OK
        if self.denied is None:
            self.denied = _ACTION_NAMES.get(action, str(action))
        return sqlite3.SQLITE_DENY


def _quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def connect(
    schema: Sequence[str], rows: Mapping[str, Sequence[Sequence[Any]]], limits: Limits | None = None
) -> sqlite3.Connection:
    """A fresh in-memory database with ``schema`` (``CREATE TABLE`` statements only; anything else
    is a ``ValueError``) and ``rows`` (table -> list of rows), locked read-only as described in the
    module docstring. Close it when done."""
    limits = limits or Limits()
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
        for statement in schema:
            if not _CREATE_TABLE.match(statement):
                raise ValueError(f"schema statements must be CREATE TABLE statements, got {statement[:80]!r}")
            conn.execute(statement)
        for table, table_rows in rows.items():
            if table_rows:
                marks = ", ".join("?" * len(table_rows[0]))
                conn.executemany(f"INSERT INTO {_quote_identifier(table)} VALUES ({marks})", table_rows)
        conn.execute("PRAGMA query_only = ON")
        if hasattr(conn, "setlimit"):  # Python >= 3.11; on 3.10 strings and blobs keep SQLite's 1 GB cap
            conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limits.max_value_bytes)
        conn.set_authorizer(_Guard())
    except BaseException:
        conn.close()
        raise
    return conn


def execute(conn: sqlite3.Connection, sql: str, limits: Limits | None = None) -> Execution:
    """Runs one query on a connection from :func:`connect`; never raises on any ``sql`` string."""
    limits = limits or Limits()
    if len(sql) > limits.max_sql_chars:
        return Execution("too_long", error=f"{len(sql)} characters > {limits.max_sql_chars}")
    guard = _Guard()
    conn.set_authorizer(guard)
    deadline = time.monotonic() + limits.timeout_s
    budget = [limits.max_steps // _PROGRESS_EVERY]
    stopped_by = [""]

    def progress() -> int:
        budget[0] -= 1
        if budget[0] < 0:
            stopped_by[0] = "steps"
        elif time.monotonic() > deadline:
            stopped_by[0] = "wall_clock"
        return bool(stopped_by[0])

    conn.set_progress_handler(progress, _PROGRESS_EVERY)
    cursor = None
    try:
        cursor = conn.execute(sql)
        rows = cursor.fetchmany(limits.max_rows + 1)
        description = cursor.description
    except (sqlite3.ProgrammingError, sqlite3.Warning) as exc:  # 3.10 raises Warning for several statements
        status = "multiple_statements" if "one statement" in str(exc) else "sql_error"
        return Execution(status, error=str(exc))
    except sqlite3.Error as exc:
        message = str(exc)
        if guard.denied is not None:
            return Execution("not_allowed", error=f"{guard.denied}: {message}")
        if "interrupted" in message:
            return Execution("timeout", error=message, limit=stopped_by[0])
        status = "syntax_error" if any(m in message for m in _SYNTAX_MARKERS) else "sql_error"
        return Execution(status, error=message)
    except (ValueError, OverflowError, MemoryError) as exc:  # e.g. lone surrogates in the query text
        return Execution("sql_error", error=f"{type(exc).__name__}: {exc}")
    finally:
        if cursor is not None:
            cursor.close()
        conn.set_progress_handler(None, 0)
    if description is None:
        return Execution("no_result_set", error="the statement returns no result set")
    if len(rows) > limits.max_rows:
        return Execution("too_many_rows", columns=len(description), error=f"more than {limits.max_rows} rows")
    return Execution("ok", [tuple(r) for r in rows], len(description))


# -- comparing results ----------------------------------------------------------------------------
def _cell_key(value: Any) -> tuple[int, float, str]:
    if value is None:
        return (0, 0.0, "")
    if isinstance(value, (int, float)):
        return (1, float(value), "")
    if isinstance(value, bytes):
        return (3, 0.0, value.hex())
    return (2, 0.0, str(value))


def _cells_equal(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        if isinstance(a, int) and isinstance(b, int):
            return a == b
        return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)
    return type(a) is type(b) and a == b


def _rows_equal(pred: Sequence[Sequence[Any]], gold: Sequence[Sequence[Any]]) -> bool:
    if len(pred) != len(gold):
        return False
    return all(
        len(p) == len(g) and all(_cells_equal(x, y) for x, y in zip(p, g, strict=True))
        for p, g in zip(pred, gold, strict=True)
    )


def _row_key(row: Sequence[Any]) -> tuple[tuple[int, float, str], ...]:
    return tuple(_cell_key(v) for v in row)


def _column_orders(pred: list[tuple[Any, ...]], gold: list[tuple[Any, ...]], width: int) -> Iterator[tuple[int, ...]]:
    """Orders of the predicted columns under which each one holds the same values as the gold
    column it stands for (identity first)."""
    identity = tuple(range(width))
    if width == 1 or width > 6:
        yield identity
        return
    pred_cols = [sorted((r[i] for r in pred), key=_cell_key) for i in range(width)]
    gold_cols = [sorted((r[j] for r in gold), key=_cell_key) for j in range(width)]
    fits = [{i for i in range(width) if _rows_equal([(v,) for v in pred_cols[i]], [(v,) for v in gold_cols[j]])}
            for j in range(width)]
    for order in permutations(range(width)):
        if all(order[j] in fits[j] for j in range(width)):
            yield order


def compare_results(pred: Execution, gold: Execution, ordered: bool) -> str:
    """``"correct"`` when ``pred`` matches ``gold`` (module docstring), else the mismatch reason."""
    if pred.columns != gold.columns:
        return "wrong_column_count"
    if len(pred.rows) != len(gold.rows):
        return "wrong_row_count"
    gold_sorted = sorted(gold.rows, key=_row_key)
    same_multiset = False
    for order in _column_orders(pred.rows, gold.rows, gold.columns):
        rows = [tuple(r[i] for i in order) for r in pred.rows]
        if ordered and _rows_equal(rows, gold.rows):
            return "correct"
        if _rows_equal(sorted(rows, key=_row_key), gold_sorted):
            if not ordered:
                return "correct"
            same_multiset = True
    return "wrong_order" if same_multiset else "wrong_values"


def execute_with_retry(conn: sqlite3.Connection, sql: str, limits: Limits | None = None) -> Execution:
    """:func:`execute`, run once more with ``RETRY_CLOCK_FACTOR`` times the wall clock (the same
    step budget) when the wall clock stopped it: a busy machine alone does not make a timeout."""
    limits = limits or Limits()
    result = execute(conn, sql, limits)
    if result.status == "timeout" and result.limit == "wall_clock":
        result = execute(conn, sql, dataclasses.replace(limits, timeout_s=limits.timeout_s * RETRY_CLOCK_FACTOR))
    return result


def _verifier_error(reason: str, details: dict[str, Any]) -> Verdict:
    return Verdict(False, False, 0.0, reason, details, verifier_error=True)


def verify(
    response: str,
    schema: Sequence[str],
    rows: Mapping[str, Sequence[Sequence[Any]]],
    gold: str,
    ordered: bool,
    limits: Limits | None = None,
) -> Verdict:
    """Execution accuracy of the SQL in ``response`` against the ``gold`` query on the database
    (``schema``, ``rows``). The verifier's own failures (the gold query times out or fails, the
    database cannot be built) are verdicts with ``verifier_error=True`` (module docstring)."""
    answer = extract_sql(response)
    if answer.sql is None:
        return Verdict(False, False, 0.0, answer.status)
    details: dict[str, Any] = {"sql": answer.sql[:_PREVIEW]}
    try:
        conn = connect(schema, rows, limits)
        try:
            expected = execute_with_retry(conn, gold, limits)
            got = execute_with_retry(conn, answer.sql, limits) if expected.status == "ok" else None
        finally:
            conn.close()
        if got is None:
            reason = "verifier_timeout" if expected.status == "timeout" else "invalid_gold"
            gold_failure = {"gold_status": expected.status, "error": expected.error[:_PREVIEW]}
            return _verifier_error(reason, {**details, **gold_failure})
        if got.status != "ok":
            details["error"] = got.error[:_PREVIEW]
            if got.limit:
                details["limit"] = got.limit
            return Verdict(False, True, 0.0, got.status, details)
        reason = compare_results(got, expected, ordered)
    except Exception as exc:  # any failure of the checker is the verifier's, not the answer's
        return _verifier_error("verifier_crash", {**details, "error": f"{type(exc).__name__}: {exc}"[:_PREVIEW]})
    details.update(rows=len(got.rows), expected_rows=len(expected.rows))
    return Verdict(reason == "correct", True, float(reason == "correct"), reason, details)


# -- the discriminator's judgement ----------------------------------------------------------------
_BRACES = re.compile(r"[{}]")
_JUDGEMENT_KEY = re.compile(r"""(["'])correct\1\s*:\s*""")
_JUDGEMENT_VALUE = re.compile(r"""(["']?)(true|false|True|False)\1(?=\s*[,}])""")


def read_judgement(response: str) -> Judgement:
    """The discriminator's judgement (module docstring): the last ``"correct": true|false`` pair
    inside braces after any ``</think>``, with the span of the value's word for soft scoring."""
    if not isinstance(response, str):
        return Judgement(None, "no_judgement")
    region, status = answer_region(response)
    if status != "ok":
        return Judgement(None, status)
    last, depth, scanned = None, 0, region
    for m in _JUDGEMENT_KEY.finditer(response, region):
        for brace in _BRACES.finditer(response, scanned, m.start()):
            depth = depth + 1 if brace.group() == "{" else max(depth - 1, 0)
        scanned = m.start()
        if depth > 0:
            last = m
    if last is None:
        return Judgement(None, "no_judgement")
    value = _JUDGEMENT_VALUE.match(response, last.end())
    if value is None:
        return Judgement(None, "bad_value", last.end(), last.end())
    return Judgement(value.group(2).lower() == "true", "ok", value.start(2), value.end(2))


def verify_judgement(response: str, label: bool) -> Verdict:
    """Whether the judgement in ``response`` equals ``label`` (the candidate's execution-checked
    correctness)."""
    judgement = read_judgement(response)
    if judgement.value is None:
        return Verdict(False, False, 0.0, judgement.status, {"label": label})
    ok = judgement.value == label
    return Verdict(ok, True, float(ok), "correct" if ok else "wrong_judgement",
                   {"judgement": judgement.value, "label": label})
