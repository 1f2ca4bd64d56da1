"""Databases for the text-to-SQL tasks: four domains of four related tables each, and seeded rows.

Every domain is a chain ``A <- B -> C <- D``-shaped graph of foreign keys with one junction table
(a table with two parents), so each level can show 1..4 connected tables and ask joins over two or
three of them. The first column of every table is its integer primary key; tables with a unique
text label (a person's name, a product's name, a title) list it second. Category columns draw from
a few values per instance, so groups have several members; there are no NULLs and no quotes in
the data, so a question can quote any value verbatim.
"""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass
from typing import Any

__all__ = ["Column", "Domain", "Table", "DOMAINS", "connected_tables", "create_statements", "make_rows", "neighbours"]


@dataclass(frozen=True)
class Column:
    """One column. ``kind`` is ``id`` (primary key), ``fk`` (foreign key to ``ref``), ``label``
    (unique text), ``category`` (text from ``choices``), ``int``/``real`` (in ``low..high``) or
    ``date`` (ISO text, ``low..high`` days after 2023-01-01). ``nl`` names it in questions."""

    name: str
    kind: str
    nl: str = ""
    ref: str = ""
    choices: tuple[str, ...] = ()
    low: float = 0
    high: float = 0

    @property
    def sql_type(self) -> str:
        return {"id": "INTEGER", "fk": "INTEGER", "int": "INTEGER", "real": "REAL"}.get(self.kind, "TEXT")


@dataclass(frozen=True)
class Table:
    """One table: ``size`` scales the ``rows`` parameter (junction tables hold more rows);
    ``labels`` builds the unique label values."""

    name: str
    singular: str
    plural: str
    columns: tuple[Column, ...]
    size: float = 1.0
    labels: tuple[tuple[str, ...], ...] = ()  # label = one word from each tuple, joined by spaces

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def key(self) -> Column:
        return self.columns[0]

    @property
    def label(self) -> Column | None:
        return next((c for c in self.columns if c.kind == "label"), None)

    @property
    def parents(self) -> dict[str, Column]:
        """Parent table name -> the foreign-key column that points to it."""
        return {c.ref: c for c in self.columns if c.kind == "fk"}

    def of_kind(self, *kinds: str) -> list[Column]:
        return [c for c in self.columns if c.kind in kinds]


@dataclass(frozen=True)
class Domain:
    name: str
    tables: tuple[Table, ...]

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)


_FIRST = ("Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas", "Kenji", "Lena",
          "Marco", "Nadia", "Omar", "Priya", "Quentin", "Rosa", "Sam", "Tara", "Umar", "Vera", "Wei", "Yara")
_LAST = ("Alvarez", "Becker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
         "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Weber")
_PERSON = (_FIRST, _LAST)
_CITIES = ("Lyon", "Porto", "Oslo", "Austin", "Osaka", "Leeds", "Turin", "Quito", "Graz", "Perth")

DOMAINS: dict[str, Domain] = {
    "shop": Domain("shop", (
        Table("customers", "customer", "customers", (
            Column("customer_id", "id"), Column("name", "label", "name"),
            Column("city", "category", "city", choices=_CITIES),
            Column("signup_year", "int", "sign-up year", low=2015, high=2024),
        ), labels=_PERSON),
        Table("orders", "order", "orders", (
            Column("order_id", "id"), Column("customer_id", "fk", ref="customers"),
            Column("order_date", "date", "order date", low=0, high=729),
            Column("status", "category", "status",
                   choices=("pending", "shipped", "delivered", "cancelled", "returned")),
        ), size=1.5),
        Table("order_items", "order item", "order items", (
            Column("item_id", "id"), Column("order_id", "fk", ref="orders"),
            Column("product_id", "fk", ref="products"),
            Column("quantity", "int", "quantity", low=1, high=12),
        ), size=2.0),
        Table("products", "product", "products", (
            Column("product_id", "id"), Column("name", "label", "name"),
            Column("category", "category", "category",
                   choices=("toys", "books", "garden", "kitchen", "sports", "office", "audio")),
            Column("price", "real", "price", low=2, high=250),
            Column("stock", "int", "stock", low=0, high=150),
        ), labels=(("Classic", "Compact", "Deluxe", "Eco", "Smart", "Mini", "Pro", "Retro", "Ultra", "Swift"),
                   ("Lamp", "Kettle", "Backpack", "Speaker", "Stapler", "Racket", "Puzzle", "Planter", "Blender",
                    "Notebook", "Drone", "Clock"))),
    )),
    "school": Domain("school", (
        Table("students", "student", "students", (
            Column("student_id", "id"), Column("name", "label", "name"),
            Column("major", "category", "major",
                   choices=("physics", "history", "biology", "economics", "music", "mathematics")),
            Column("year", "int", "year of study", low=1, high=5),
            Column("gpa", "real", "GPA", low=1.5, high=4.0),
        ), labels=_PERSON),
        Table("enrollments", "enrollment", "enrollments", (
            Column("enrollment_id", "id"), Column("student_id", "fk", ref="students"),
            Column("course_id", "fk", ref="courses"),
            Column("semester", "category", "semester",
                   choices=("fall 2023", "spring 2024", "fall 2024", "spring 2025")),
            Column("grade", "int", "grade", low=40, high=100),
        ), size=2.0),
        Table("courses", "course", "courses", (
            Column("course_id", "id"), Column("title", "label", "title"),
            Column("department", "category", "department",
                   choices=("science", "humanities", "arts", "engineering", "business")),
            Column("credits", "int", "number of credits", low=1, high=6),
            Column("teacher_id", "fk", ref="teachers"),
        ), labels=(("Intro to", "Topics in", "Advanced"),
                   ("Optics", "Genetics", "Statistics", "Poetry", "Sculpture", "Robotics", "Marketing", "Ethics",
                    "Jazz", "Ecology", "Algebra", "Finance", "Drawing", "Circuits"))),
        Table("teachers", "teacher", "teachers", (
            Column("teacher_id", "id"), Column("name", "label", "name"),
            Column("office", "category", "office building", choices=("North Hall", "South Hall", "Main", "Annex")),
            Column("salary", "int", "salary", low=42000, high=98000),
            Column("hire_year", "int", "hiring year", low=2000, high=2024),
        ), size=0.6, labels=_PERSON),
    )),
    "library": Domain("library", (
        Table("authors", "author", "authors", (
            Column("author_id", "id"), Column("name", "label", "name"),
            Column("country", "category", "country",
                   choices=("Chile", "Japan", "Nigeria", "Canada", "Poland", "India", "Ireland")),
            Column("birth_year", "int", "birth year", low=1920, high=1995),
        ), size=0.7, labels=_PERSON),
        Table("books", "book", "books", (
            Column("book_id", "id"), Column("title", "label", "title"),
            Column("author_id", "fk", ref="authors"),
            Column("genre", "category", "genre",
                   choices=("mystery", "fantasy", "history", "poetry", "science", "romance")),
            Column("pages", "int", "number of pages", low=90, high=900),
            Column("published_year", "int", "publication year", low=1960, high=2024),
        ), labels=(("The Silent", "The Last", "The Hidden", "The Iron", "The Paper", "The Winter", "The Glass",
                    "The Lost", "The Golden", "The Quiet"),
                   ("Harbor", "Garden", "Empire", "Orchard", "Compass", "Lantern", "River", "Tower", "Voyage",
                    "Archive", "Forest", "Mirror"))),
        Table("loans", "loan", "loans", (
            Column("loan_id", "id"), Column("book_id", "fk", ref="books"), Column("member_id", "fk", ref="members"),
            Column("loan_date", "date", "loan date", low=0, high=700),
            Column("days", "int", "loan length in days", low=1, high=42),
        ), size=2.0),
        Table("members", "member", "members", (
            Column("member_id", "id"), Column("name", "label", "name"),
            Column("city", "category", "city", choices=_CITIES),
            Column("join_year", "int", "joining year", low=2010, high=2024),
        ), labels=_PERSON),
    )),
    "company": Domain("company", (
        Table("departments", "department", "departments", (
            Column("department_id", "id"), Column("name", "label", "name"),
            Column("city", "category", "city", choices=_CITIES),
            Column("budget", "int", "budget", low=50000, high=900000),
        ), size=0.5, labels=(("Sales", "Research", "Support", "Finance", "Legal", "Design", "Logistics",
                              "Marketing", "Security", "Training", "Quality", "Procurement"),)),
        Table("employees", "employee", "employees", (
            Column("employee_id", "id"), Column("name", "label", "name"),
            Column("department_id", "fk", ref="departments"),
            Column("job_title", "category", "job title",
                   choices=("engineer", "analyst", "manager", "designer", "clerk")),
            Column("salary", "int", "salary", low=38000, high=150000),
            Column("hire_year", "int", "hiring year", low=2005, high=2024),
        ), size=1.5, labels=_PERSON),
        Table("assignments", "assignment", "assignments", (
            Column("assignment_id", "id"), Column("employee_id", "fk", ref="employees"),
            Column("project_id", "fk", ref="projects"),
            Column("hours", "int", "hours", low=2, high=60),
            Column("role", "category", "role", choices=("lead", "developer", "reviewer", "tester")),
        ), size=2.0),
        Table("projects", "project", "projects", (
            Column("project_id", "id"), Column("name", "label", "name"),
            Column("status", "category", "status", choices=("planned", "active", "paused", "finished")),
            Column("budget", "real", "budget", low=5000, high=120000),
            Column("start_year", "int", "start year", low=2016, high=2025),
        ), labels=(("Blue", "Silver", "Red", "Swift", "Bright", "Northern", "Quiet", "Bold"),
                   ("Falcon", "Harbor", "Summit", "Comet", "Atlas", "Beacon", "Orbit", "Canyon", "Meadow"))),
    )),
}

_EPOCH = datetime.date(2023, 1, 1)


def neighbours(domain: Domain, table: str) -> set[str]:
    """Tables linked to ``table`` by a foreign key in either direction."""
    out = set(domain.table(table).parents)
    out.update(t.name for t in domain.tables if table in t.parents)
    return out


def connected_tables(domain: Domain, core: list[str], total: int, rng: random.Random) -> list[str]:
    """``core`` grown by random linked tables to ``min(total, len(domain.tables))`` tables, in
    the domain's order."""
    chosen = set(core)
    while len(chosen) < min(total, len(domain.tables)):
        frontier = sorted(set().union(*(neighbours(domain, t) for t in chosen)) - chosen)
        chosen.add(rng.choice(frontier))
    return [t.name for t in domain.tables if t.name in chosen]


def _table_size(table: Table, rows: int) -> int:
    cap = 1
    for words in table.labels:
        cap *= len(words)
    size = max(4, round(rows * table.size))
    return min(size, cap) if table.labels else size


def make_rows(domain: Domain, tables: list[str], rows: int, rng: random.Random) -> dict[str, list[list[Any]]]:
    """Seeded rows for ``tables``; foreign keys point at the parent's ids (parents need not be shown)."""
    sizes = {t.name: _table_size(t, rows) for t in domain.tables}
    data: dict[str, list[list[Any]]] = {}
    for name in tables:
        table = domain.table(name)
        n = sizes[name]
        columns = [_column_values(col, table, n, sizes, rng) for col in table.columns]
        data[name] = [list(r) for r in zip(*columns, strict=True)]
    return data


def _column_values(col: Column, table: Table, n: int, sizes: dict[str, int], rng: random.Random) -> list[Any]:
    if col.kind == "id":
        return list(range(1, n + 1))
    if col.kind == "fk":
        return [rng.randint(1, sizes[col.ref]) for _ in range(n)]
    if col.kind == "label":
        combos = [[]]  # type: list[list[str]]
        for words in table.labels:
            combos = [c + [w] for c in combos for w in words]
        return [" ".join(c) for c in rng.sample(combos, n)]
    if col.kind == "category":
        pool = rng.sample(col.choices, rng.randint(3, min(5, len(col.choices))))
        return [rng.choice(pool) for _ in range(n)]
    if col.kind == "int":
        return [rng.randint(int(col.low), int(col.high)) for _ in range(n)]
    if col.kind == "real":
        return [round(rng.uniform(col.low, col.high), 2) for _ in range(n)]
    if col.kind == "date":
        days = [rng.randint(int(col.low), int(col.high)) for _ in range(n)]
        return [(_EPOCH + datetime.timedelta(days=d)).isoformat() for d in days]
    raise ValueError(f"unknown column kind {col.kind!r}")


def create_statements(domain: Domain, tables: list[str]) -> list[str]:
    """``CREATE TABLE`` statements; a foreign key is declared only when its parent is shown."""
    out = []
    for name in tables:
        table = domain.table(name)
        lines = [f"  {c.name} {c.sql_type}" + (" PRIMARY KEY" if c.kind == "id" else "") for c in table.columns]
        lines += [
            f"  FOREIGN KEY ({c.name}) REFERENCES {c.ref}({domain.table(c.ref).key.name})"
            for c in table.columns
            if c.kind == "fk" and c.ref in tables
        ]
        out.append(f"CREATE TABLE {name} (\n" + ",\n".join(lines) + "\n);")
    return out
