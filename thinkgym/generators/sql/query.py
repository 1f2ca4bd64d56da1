"""A small SELECT-query tree: rendering to SQLite, a complexity count, and the corruptions and
equivalent rewrites that make the candidates of the discrimination task.

The tree covers what the question templates ask: columns and aggregates, inner joins on key
equality, ``AND``/``OR`` filters, uncorrelated subqueries (scalar and ``IN``), ``GROUP BY``,
``HAVING``, ``ORDER BY``, ``LIMIT`` and ``DISTINCT``. Corruptions are the mistakes a text-to-SQL
model makes (a wrong column, comparison operator, aggregate or join key; a dropped condition,
``GROUP BY`` or ``DISTINCT``; ``AND`` for ``OR``; a flipped sort direction; an off-by-one
``LIMIT``); whether a corrupted query is still correct is decided by running it, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from thinkgym.generators.sql.schema import Domain

__all__ = ["Agg", "Col", "Cond", "Join", "Query", "complexity", "corruptions", "render", "rewrites"]


@dataclass(frozen=True)
class Col:
    table: str
    name: str


@dataclass(frozen=True)
class Agg:
    func: str  # COUNT, SUM, AVG, MIN, MAX
    arg: Col | None = None  # None: COUNT(*)


Expr = Col | Agg


@dataclass(frozen=True)
class Cond:
    left: Expr
    op: str  # = != < <= > >= IN NOT IN
    right: int | float | str | Query


@dataclass(frozen=True)
class Join:
    table: str
    left: Col  # a column of a table already in FROM
    right: Col  # a column of ``table``


@dataclass(frozen=True)
class Query:
    select: tuple[Expr, ...]
    table: str
    joins: tuple[Join, ...] = ()
    where: tuple[Cond, ...] = ()
    connective: str = "AND"
    group_by: tuple[Col, ...] = ()
    having: tuple[Cond, ...] = ()
    order_by: tuple[tuple[Expr, str], ...] = ()  # (expression, "ASC" | "DESC")
    limit: int | None = None
    distinct: bool = False


# -- rendering ------------------------------------------------------------------------------------
def _literal(value: int | float | str) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def render(q: Query, aliases: bool = False) -> str:
    """SQLite text of ``q``. Columns are qualified when the query joins tables, by table name or,
    with ``aliases``, by ``T1``, ``T2``, ... (Spider's style)."""
    tables = [q.table] + [j.table for j in q.joins]
    if not q.joins:
        names = {q.table: ""}
    elif aliases:
        names = {t: f"T{i + 1}." for i, t in enumerate(tables)}
    else:
        names = {t: f"{t}." for t in tables}

    def col(c: Col) -> str:
        return names.get(c.table, f"{c.table}.") + c.name

    def expr(e: Expr) -> str:
        if isinstance(e, Agg):
            return f"{e.func}({'*' if e.arg is None else col(e.arg)})"
        return col(e)

    def cond(c: Cond) -> str:
        right = f"({render(c.right)})" if isinstance(c.right, Query) else _literal(c.right)
        return f"{expr(c.left)} {c.op} {right}"

    def source(t: str) -> str:
        return f"{t} AS T{tables.index(t) + 1}" if aliases and q.joins else t

    parts = ["SELECT " + ("DISTINCT " if q.distinct else "") + ", ".join(expr(e) for e in q.select)]
    parts.append("FROM " + source(q.table))
    parts.extend(f"JOIN {source(j.table)} ON {col(j.left)} = {col(j.right)}" for j in q.joins)
    if q.where:
        parts.append("WHERE " + f" {q.connective} ".join(cond(c) for c in q.where))
    if q.group_by:
        parts.append("GROUP BY " + ", ".join(col(c) for c in q.group_by))
    if q.having:
        parts.append("HAVING " + " AND ".join(cond(c) for c in q.having))
    if q.order_by:
        parts.append("ORDER BY " + ", ".join(f"{expr(e)} {d}" for e, d in q.order_by))
    if q.limit is not None:
        parts.append(f"LIMIT {q.limit}")
    return " ".join(parts)


def complexity(q: Query) -> int:
    """How many SQL components the query uses, in the spirit of Spider's hardness counts: tables,
    conditions, aggregates, GROUP BY, HAVING, ORDER BY, LIMIT, DISTINCT; a subquery counts its own
    components plus one."""
    n = 1 + len(q.joins) + len(q.where) + len(q.having) + bool(q.group_by) + bool(q.order_by)
    n += (q.limit is not None) + q.distinct + any(isinstance(e, Agg) for e in q.select)
    return n + sum(complexity(c.right) + 1 for c in q.where if isinstance(c.right, Query))


# -- corruptions ----------------------------------------------------------------------------------
_WRONG_OPS = {
    ">": (">=", "<"), ">=": (">", "<="), "<": ("<=", ">"), "<=": ("<", ">="),
    "=": ("!=",), "!=": ("=",), "IN": ("NOT IN",), "NOT IN": ("IN",),
}
_WRONG_AGGS = {"SUM": ("AVG", "MAX"), "AVG": ("SUM", "MIN"), "MAX": ("MIN", "AVG"), "MIN": ("MAX", "AVG"), "COUNT": ()}
_SIBLING_KINDS = {"label": ("label", "category"), "category": ("label", "category"),
                  "int": ("int", "real"), "real": ("int", "real"), "date": ("date",),
                  "id": ("id", "fk"), "fk": ("id", "fk")}

Corruption = tuple[str, Query]


def _siblings(domain: Domain, c: Col) -> list[Col]:
    """Other columns of the same table that a model could confuse with ``c`` (same type family)."""
    table = domain.table(c.table)
    kinds = _SIBLING_KINDS[table.column(c.name).kind]
    return [Col(c.table, x.name) for x in table.columns if x.name != c.name and x.kind in kinds]


def _swap(items: tuple, index: int, new: object) -> tuple:
    return items[:index] + (new,) + items[index + 1 :]


def _expr_variants(domain: Domain, e: Expr) -> Iterator[tuple[str, Expr]]:
    if isinstance(e, Col):
        for other in _siblings(domain, e):
            yield "wrong_column", other
    else:
        for func in _WRONG_AGGS[e.func]:
            yield "wrong_aggregate", replace(e, func=func)
        if e.arg is not None:
            for other in _siblings(domain, e.arg):
                yield "wrong_column", replace(e, arg=other)


def _cond_variants(domain: Domain, c: Cond) -> Iterator[tuple[str, Cond]]:
    for op in _WRONG_OPS[c.op]:
        yield "wrong_operator", replace(c, op=op)
    if isinstance(c.left, Col):
        for other in _siblings(domain, c.left):
            yield "wrong_filter_column", replace(c, left=other)
    else:
        for name, left in _expr_variants(domain, c.left):
            yield name, replace(c, left=left)
    if isinstance(c.right, Query):
        for name, sub in corruptions(c.right, domain):
            yield name, replace(c, right=sub)


def corruptions(q: Query, domain: Domain) -> list[Corruption]:
    """Every single-mistake variant of ``q`` as (corruption name, query), subqueries included.
    A corruption may still return the gold result; labelling is by execution."""
    out: list[Corruption] = []
    for i, e in enumerate(q.select):
        out.extend((name, replace(q, select=_swap(q.select, i, v))) for name, v in _expr_variants(domain, e))
    for field in ("where", "having"):
        conds: tuple[Cond, ...] = getattr(q, field)
        for i, c in enumerate(conds):
            out.append(("dropped_condition", replace(q, **{field: conds[:i] + conds[i + 1 :]})))
            out.extend((name, replace(q, **{field: _swap(conds, i, v)})) for name, v in _cond_variants(domain, c))
    if len(q.where) > 1:
        out.append(("wrong_connective", replace(q, connective="OR" if q.connective == "AND" else "AND")))
    for i, j in enumerate(q.joins):
        for side in ("left", "right"):
            for other in _siblings(domain, getattr(j, side)):
                out.append(("wrong_join_key", replace(q, joins=_swap(q.joins, i, replace(j, **{side: other})))))
    if q.group_by:
        out.append(("missing_group_by", replace(q, group_by=())))
    for i, (e, direction) in enumerate(q.order_by):
        flipped = (e, "ASC" if direction == "DESC" else "DESC")
        out.append(("wrong_order_direction", replace(q, order_by=_swap(q.order_by, i, flipped))))
    if q.limit is not None:
        out.extend(("wrong_limit", replace(q, limit=n)) for n in (q.limit - 1, q.limit + 1) if n > 0)
    if q.distinct:
        out.append(("missing_distinct", replace(q, distinct=False)))
    return out


# -- equivalent rewrites --------------------------------------------------------------------------
def _reorder_conditions(q: Query) -> Query | None:
    return replace(q, where=q.where[::-1]) if len(q.where) > 1 else None


def _swap_join_sides(q: Query) -> Query | None:
    return replace(q, joins=tuple(replace(j, left=j.right, right=j.left) for j in q.joins)) if q.joins else None


_REWRITES: dict[str, Callable[[Query], Query | None]] = {
    "reordered_conditions": _reorder_conditions,
    "swapped_join_sides": _swap_join_sides,
}


def rewrites(q: Query) -> list[tuple[str, str]]:
    """SQL texts equivalent to ``q`` by construction, as (rewrite name, SQL): conditions in another
    order, join equalities written the other way round, table aliases."""
    out = [(name, render(r)) for name, fn in _REWRITES.items() if (r := fn(q)) is not None]
    if q.joins:
        out.append(("aliases", render(q, aliases=True)))
    return out
