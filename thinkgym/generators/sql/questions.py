"""Question templates: each query kind picks the tables it needs, then draws columns and values from
the instance's rows and returns an English question with its gold query tree.

Questions name every column they want back and quote every value as stored, so the gold result is
the one reading of the question; whether an instance is degenerate (empty result, a condition that
filters nothing, ties under ``ORDER BY``) is checked by running it, in :mod:`thinkgym.generators.sql`.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from thinkgym.generators.sql.query import Agg, Col, Cond, Join, Query
from thinkgym.generators.sql.schema import Column, Domain, Table

__all__ = ["KINDS", "Draw", "Template"]

_NUM_WORDS = {">": "greater than", ">=": "at least", "<": "less than", "<=": "at most", "=": "equal to",
              "!=": "not equal to"}
_DATE_WORDS = {">": "after", ">=": "on or after", "<": "before", "<=": "on or before"}
_AGG_WORDS = {"AVG": "average", "SUM": "total", "MAX": "highest", "MIN": "lowest"}
_FILTERABLE = ("category", "int", "real", "date")

Rows = dict[str, list[list[Any]]]
Built = tuple[str, Query]


class Draw:
    """Random choices over one instance's rows."""

    def __init__(self, rng: random.Random, domain: Domain, rows: Rows) -> None:
        self.rng, self.domain, self.rows = rng, domain, rows

    def table(self, name: str) -> Table:
        return self.domain.table(name)

    def values(self, table: Table, col: Column) -> list[Any]:
        index = table.columns.index(col)
        return [r[index] for r in self.rows[table.name]]

    def column(self, table: Table, kinds: tuple[str, ...], exclude: tuple[Column | None, ...] = ()) -> Column | None:
        options = [c for c in table.of_kind(*kinds) if c not in exclude]
        return self.rng.choice(options) if options else None

    def condition(self, table: Table, col: Column) -> tuple[Cond, str]:
        """A filter on ``col`` with a value from the data, and its phrase (``"price is at most 40.5"``)."""
        rng = self.rng
        distinct = sorted(set(self.values(table, col)))
        if col.kind == "category" or len(distinct) < 3:
            op, value = rng.choice(("=", "=", "!=")), rng.choice(distinct)
        else:
            ops = [">", ">=", "<", "<="]
            if col.kind == "int" and col.high - col.low <= 12:
                ops += ["=", "!="]
            op = rng.choice(ops)
            value = rng.choice(distinct[1:-1]) if op in (">", ">=", "<", "<=") else rng.choice(distinct)
        if col.kind == "category":
            phrase = f"{col.nl} is {'not ' if op == '!=' else ''}'{value}'"
        elif col.kind == "date":
            phrase = f"{col.nl} is {_DATE_WORDS.get(op, 'not' if op == '!=' else 'on')} {value}"
        else:
            phrase = f"{col.nl} is {_NUM_WORDS[op]} {value}"
        return Cond(Col(table.name, col.name), op, value), phrase


@dataclass(frozen=True)
class Template:
    """A query kind: ``min_tables`` it needs, ``core`` picks those tables (None: not in this
    domain), ``build`` writes the question and gold query (None: no fitting columns)."""

    min_tables: int
    core: Callable[[random.Random, Domain], list[str] | None]
    build: Callable[[Draw, list[str]], Built | None]


# -- picking tables -------------------------------------------------------------------------------
def _pick(rng: random.Random, options: list[list[str]]) -> list[str] | None:
    return rng.choice(options) if options else None


def _labelled(rng: random.Random, domain: Domain) -> list[str] | None:
    return _pick(rng, [[t.name] for t in domain.tables if t.label is not None])


def _with(*kinds: str) -> Callable[[random.Random, Domain], list[str] | None]:
    def core(rng: random.Random, domain: Domain) -> list[str] | None:
        return _pick(rng, [[t.name] for t in domain.tables if all(t.of_kind(k) for k in kinds)])

    return core


def _edge(labelled_parent: bool) -> Callable[[random.Random, Domain], list[str] | None]:
    """[child, parent] of a foreign key."""

    def core(rng: random.Random, domain: Domain) -> list[str] | None:
        edges = [[t.name, p] for t in domain.tables for p in t.parents
                 if not labelled_parent or domain.table(p).label is not None]
        return _pick(rng, edges)

    return core


def _junction(rng: random.Random, domain: Domain) -> list[str] | None:
    """[a, junction, c]: the junction table has foreign keys to both; ``a`` has a label."""
    paths = [[a, t.name, c] for t in domain.tables for a in t.parents for c in t.parents
             if a != c and domain.table(a).label is not None]
    return _pick(rng, paths)


# -- single table ---------------------------------------------------------------------------------
def _filter(d: Draw, core: list[str]) -> Built | None:
    t = d.table(core[0])
    label, f = t.label, d.column(t, _FILTERABLE)
    if label is None or f is None:
        return None
    cond, phrase = d.condition(t, f)
    shown = d.column(t, _FILTERABLE, (f,)) if d.rng.random() < 0.6 else None
    select: tuple[Col, ...] = (Col(t.name, label.name),) + ((Col(t.name, shown.name),) if shown else ())
    what = label.nl + (f" and {shown.nl}" if shown else "")
    return f"List the {what} of the {t.plural} whose {phrase}.", Query(select, t.name, where=(cond,))


def _filter2(d: Draw, core: list[str]) -> Built | None:
    t = d.table(core[0])
    label, f1 = t.label, d.column(t, _FILTERABLE)
    f2 = d.column(t, _FILTERABLE, (f1,))
    if label is None or f1 is None or f2 is None:
        return None
    (c1, p1), (c2, p2) = d.condition(t, f1), d.condition(t, f2)
    connective = d.rng.choice(("AND", "OR"))
    question = f"List the {label.nl} of the {t.plural} whose {p1} {connective.lower()} whose {p2}."
    return question, Query((Col(t.name, label.name),), t.name, where=(c1, c2), connective=connective)


def _distinct(d: Draw, core: list[str]) -> Built | None:
    t = d.table(core[0])
    c = d.column(t, ("category",))
    f = d.column(t, _FILTERABLE, (c,))
    if c is None or f is None:
        return None
    cond, phrase = d.condition(t, f)
    question = f"Which different {c.nl} values occur among the {t.plural} whose {phrase}? List each value once."
    return question, Query((Col(t.name, c.name),), t.name, where=(cond,), distinct=True)


def _order(d: Draw, core: list[str]) -> Built | None:
    t = d.table(core[0])
    label, x = t.label, d.column(t, ("int", "real", "date"))
    if label is None or x is None:
        return None
    select = (Col(t.name, label.name), Col(t.name, x.name))
    if d.rng.random() < 0.5:
        k, desc = d.rng.randint(2, 5), d.rng.random() < 0.5
        question = (f"List the {label.nl} and {x.nl} of the {k} {t.plural} with the {'highest' if desc else 'lowest'} "
                    f"{x.nl}, from {'highest to lowest' if desc else 'lowest to highest'} {x.nl}.")
        return question, Query(select, t.name, order_by=((select[1], "DESC" if desc else "ASC"),), limit=k)
    f = d.column(t, _FILTERABLE, (x,))
    if f is None:
        return None
    cond, phrase = d.condition(t, f)
    desc = d.rng.random() < 0.5
    question = (f"List the {label.nl} and {x.nl} of the {t.plural} whose {phrase}, sorted by {x.nl} from "
                f"{'highest to lowest' if desc else 'lowest to highest'}.")
    return question, Query(select, t.name, where=(cond,), order_by=((select[1], "DESC" if desc else "ASC"),))


def _aggregate(d: Draw, core: list[str]) -> Built | None:
    t = d.table(core[0])
    x = d.column(t, ("int", "real"))
    f = d.column(t, _FILTERABLE, (x,))
    if x is None or f is None:
        return None
    cond, phrase = d.condition(t, f)
    if d.rng.random() < 0.3:
        return f"How many {t.plural} are there whose {phrase}?", Query((Agg("COUNT"),), t.name, where=(cond,))
    func = d.rng.choice(tuple(_AGG_WORDS))
    question = f"What is the {_AGG_WORDS[func]} {x.nl} of the {t.plural} whose {phrase}?"
    return question, Query((Agg(func, Col(t.name, x.name)),), t.name, where=(cond,))


def _group(d: Draw, core: list[str]) -> Built | None:
    t = d.table(core[0])
    c, x = d.column(t, ("category",)), d.column(t, ("int", "real"))
    if c is None:
        return None
    key = Col(t.name, c.name)
    if x is None or d.rng.random() < 0.4:
        question = f"For each {c.nl}, give the {c.nl} and the number of {t.plural} with that {c.nl}."
        return question, Query((key, Agg("COUNT")), t.name, group_by=(key,))
    func = d.rng.choice(tuple(_AGG_WORDS))
    question = f"For each {c.nl}, give the {c.nl} and the {_AGG_WORDS[func]} {x.nl} of the {t.plural} with that {c.nl}."
    return question, Query((key, Agg(func, Col(t.name, x.name))), t.name, group_by=(key,))


def _having(d: Draw, core: list[str]) -> Built | None:
    t = d.table(core[0])
    c, x = d.column(t, ("category",)), d.column(t, ("int", "real"))
    if c is None:
        return None
    key = Col(t.name, c.name)
    if x is None or d.rng.random() < 0.5:
        counts = sorted(Counter(d.values(t, c)).values())
        k = d.rng.choice(counts[:-1]) if len(counts) > 1 else counts[0]
        question = f"Which {c.nl} values do more than {k} of the {t.plural} have?"
        return question, Query((key,), t.name, group_by=(key,), having=(Cond(Agg("COUNT"), ">", k),))
    func = d.rng.choice(("AVG", "MAX", "MIN"))
    value = d.rng.choice(sorted(set(d.values(t, x))))
    op = d.rng.choice((">", "<"))
    question = (f"Which {c.nl} values have {'an' if func == 'AVG' else 'a'} {_AGG_WORDS[func]} {x.nl} "
                f"{'above' if op == '>' else 'below'} {value} among the {t.plural} with that {c.nl}?")
    return question, Query((key,), t.name, group_by=(key,), having=(Cond(Agg(func, Col(t.name, x.name)), op, value),))


def _subquery(d: Draw, core: list[str]) -> Built | None:
    t = d.table(core[0])
    label, x = t.label, d.column(t, ("int", "real"))
    if label is None or x is None:
        return None
    col, select = Col(t.name, x.name), (Col(t.name, label.name),)
    if d.rng.random() < 0.3:
        func = d.rng.choice(("MAX", "MIN"))
        question = f"List the {label.nl} of the {t.plural} with the {_AGG_WORDS[func]} {x.nl}."
        return question, Query(select, t.name, where=(Cond(col, "=", Query((Agg(func, col),), t.name)),))
    op = d.rng.choice((">", "<"))
    inner, scope = Query((Agg("AVG", col),), t.name), f"all {t.plural}"
    f = d.column(t, _FILTERABLE, (x,))
    if f is not None and d.rng.random() < 0.5:
        cond, phrase = d.condition(t, f)
        inner, scope = Query(inner.select, t.name, where=(cond,)), f"the {t.plural} whose {phrase}"
    question = (f"List the {label.nl} of the {t.plural} whose {x.nl} is {'above' if op == '>' else 'below'} "
                f"the average {x.nl} of {scope}.")
    return question, Query(select, t.name, where=(Cond(col, op, inner),))


# -- two and three tables -------------------------------------------------------------------------
def _join_on(child: Table, parent: Table) -> Join:
    return Join(parent.name, Col(child.name, child.parents[parent.name].name), Col(parent.name, parent.key.name))


def _join(d: Draw, core: list[str]) -> Built | None:
    child, parent = d.table(core[0]), d.table(core[1])
    shown = child.label or d.column(child, ("int", "real", "date", "category"))
    f = d.column(parent, _FILTERABLE)
    if shown is None or f is None:
        return None
    cond, phrase = d.condition(parent, f)
    select: tuple[Col, ...] = (Col(child.name, shown.name),)
    question = f"List the {shown.nl} of the {child.plural} whose {parent.singular}'s {phrase}"
    if parent.label is not None and d.rng.random() < 0.5:
        select += (Col(parent.name, parent.label.name),)
        question += f", together with that {parent.singular}'s {parent.label.nl}"
    where: tuple[Cond, ...] = (cond,)
    g = d.column(child, _FILTERABLE, (shown,))
    if g is not None and d.rng.random() < 0.4:
        cond2, phrase2 = d.condition(child, g)
        where += (cond2,)
        question += f", keeping only {child.plural} whose {phrase2}"
    return question + ".", Query(select, child.name, joins=(_join_on(child, parent),), where=where)


def _join_group(d: Draw, core: list[str]) -> Built | None:
    child, parent = d.table(core[0]), d.table(core[1])
    label = parent.label
    if label is None:
        return None
    join = Join(child.name, Col(parent.name, parent.key.name), Col(child.name, child.parents[parent.name].name))
    name, pkey = Col(parent.name, label.name), Col(parent.name, parent.key.name)
    roll = d.rng.random()
    c = d.column(parent, ("category",))
    if roll < 0.25 and c is not None:
        key = Col(parent.name, c.name)
        question = (f"For each {parent.singular} {c.nl}, give the {c.nl} and the number of {child.plural} whose "
                    f"{parent.singular} has that {c.nl}.")
        return question, Query((key, Agg("COUNT")), child.name, joins=(_join_on(child, parent),), group_by=(key,))
    if roll < 0.5:
        k = d.rng.randint(2, 4)
        question = (f"Which {k} {parent.plural} have the most {child.plural}? Give each one's {label.nl} and its "
                    f"number of {child.plural}, from most to fewest.")
        return question, Query((name, Agg("COUNT")), parent.name, joins=(join,), group_by=(pkey,),
                               order_by=((Agg("COUNT"), "DESC"),), limit=k)
    x = d.column(child, ("int", "real"))
    if x is None or roll < 0.7:
        agg, what = Agg("COUNT"), f"the number of its {child.plural}"
    else:
        func = d.rng.choice(tuple(_AGG_WORDS))
        agg, what = Agg(func, Col(child.name, x.name)), f"the {_AGG_WORDS[func]} {x.nl} of its {child.plural}"
    question = (f"For each {parent.singular} that has at least one {child.singular}, give the "
                f"{parent.singular}'s {label.nl} and {what}.")
    return question, Query((name, agg), parent.name, joins=(join,), group_by=(pkey,))


def _in_subquery(d: Draw, core: list[str]) -> Built | None:
    child, parent = d.table(core[0]), d.table(core[1])
    label = parent.label
    if label is None:
        return None
    fk, pkey = Col(child.name, child.parents[parent.name].name), Col(parent.name, parent.key.name)
    select = (Col(parent.name, label.name),)
    f = d.column(child, _FILTERABLE)
    negate = d.rng.random() < 0.4
    if f is None or negate and d.rng.random() < 0.5:
        inner, what = Query((fk,), child.name), f"no {child.plural}"
    else:
        cond, phrase = d.condition(child, f)
        inner = Query((fk,), child.name, where=(cond,))
        what = f"{'no' if negate else 'at least one'} {child.singular} whose {phrase}"
    question = f"List the {label.nl} of the {parent.plural} that have {what}."
    return question, Query(select, parent.name, where=(Cond(pkey, "NOT IN" if negate else "IN", inner),))


def _join3(d: Draw, core: list[str]) -> Built | None:
    a, j, c = (d.table(n) for n in core)
    label, f = a.label, d.column(c, _FILTERABLE)
    if label is None or f is None:
        return None
    cond, phrase = d.condition(c, f)
    joins = (Join(j.name, Col(a.name, a.key.name), Col(j.name, j.parents[a.name].name)), _join_on(j, c))
    name = Col(a.name, label.name)
    x = d.column(j, ("int", "real"))
    if x is None or d.rng.random() < 0.5:
        question = (f"List the {label.nl} of the {a.plural} that have at least one {j.singular} whose "
                    f"{c.singular}'s {phrase}. List each {a.singular} once.")
        return question, Query((name,), a.name, joins=joins, where=(cond,), distinct=True)
    func = d.rng.choice(("SUM", "AVG", "MAX"))
    question = (f"For each {a.singular}, give the {a.singular}'s {label.nl} and the {_AGG_WORDS[func]} {x.nl} of "
                f"its {j.plural} whose {c.singular}'s {phrase} (only {a.plural} that have such {j.plural}).")
    return question, Query((name, Agg(func, Col(j.name, x.name))), a.name, joins=joins, where=(cond,),
                           group_by=(Col(a.name, a.key.name),))


KINDS: dict[str, Template] = {
    "filter": Template(1, _labelled, _filter),
    "filter2": Template(1, _labelled, _filter2),
    "distinct": Template(1, _with("category"), _distinct),
    "order": Template(1, _labelled, _order),
    "aggregate": Template(1, _with("int"), _aggregate),
    "group": Template(1, _with("category"), _group),
    "having": Template(1, _with("category"), _having),
    "subquery": Template(1, _labelled, _subquery),
    "join": Template(2, _edge(labelled_parent=False), _join),
    "join_group": Template(2, _edge(labelled_parent=True), _join_group),
    "in_subquery": Template(2, _edge(labelled_parent=True), _in_subquery),
    "join3": Template(3, _junction, _join3),
}
