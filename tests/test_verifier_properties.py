"""Property-based tests (hypothesis) that the SAT and SQL verifiers accept exactly the right answers.

SAT: on random planted instances, a verdict agrees with a direct evaluation of the clauses written
here (not the verifier's own code): a violating assignment is always rejected, every satisfying
assignment a solver finds (other than the planted one) is accepted, flipping one bit of a satisfying
assignment is rejected exactly when that breaks a clause, and wrong lengths and characters are
rejected.

SQL: on random tables, near-miss queries (a changed constant, comparison operator or LIMIT, a
dropped WHERE) are rejected exactly when their result differs from the gold's, computed here by
running both queries in plain SQLite; equivalent rewrites (reordered conjuncts, aliases, flipped
comparisons, BETWEEN, an ORDER BY the question does not ask for, reordered columns) are accepted.
"""

import sqlite3
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pysat.solvers import Minisat22

from thinkgym.generators import sat
from thinkgym.verifiers.sat import verify as verify_sat
from thinkgym.verifiers.sql import verify as verify_sql

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- SAT --------------------------------------------------------------------------------------------
@st.composite
def planted(draw):
    """(clauses, k, planted answer) of a random planted instance of the generator."""
    k = draw(st.integers(3, 14))
    n = draw(st.integers(1, min(k, 4)))
    l = draw(st.integers(1, min(sat.max_clauses(n, k), 60)))
    problem = sat.generate(sat.check_params(n, k, l), draw(st.integers(0, 2**32)))
    return problem.metadata["clauses"], k, problem.answer


def satisfies(bits: str, clauses) -> bool:
    """Direct evaluation: every clause has a literal made true by ``bits`` (bit i = variable i+1)."""
    return all(any((lit > 0) == (bits[abs(lit) - 1] == "1") for lit in clause) for clause in clauses)


def boxed(answer: str) -> str:
    return f"<think>let me see</think>The assignment is \\boxed{{{answer}}}"


@SETTINGS
@given(planted(), st.data())
def test_sat_random_assignments_are_judged_by_the_clauses(instance, data):
    clauses, k, answer = instance
    assert verify_sat(boxed(answer), clauses, k).correct
    bits = data.draw(st.text(alphabet="01", min_size=k, max_size=k))
    verdict = verify_sat(boxed(bits), clauses, k)
    assert verdict.correct == satisfies(bits, clauses) and verdict.format_ok
    # force a violation of one clause: always rejected
    index = data.draw(st.integers(0, len(clauses) - 1))
    forced = list(bits)
    for lit in clauses[index]:
        forced[abs(lit) - 1] = "0" if lit > 0 else "1"
    verdict = verify_sat(boxed("".join(forced)), clauses, k)
    assert not verdict.correct and verdict.reason == "unsatisfied_clause"


@SETTINGS
@given(planted())
def test_sat_every_other_satisfying_assignment_is_accepted(instance):
    clauses, k, answer = instance
    planted_clause = [-(i + 1) if bit == "1" else i + 1 for i, bit in enumerate(answer)]
    with Minisat22(bootstrap_with=[*clauses, planted_clause]) as solver:  # anything but the planted one
        found = 0
        while found < 5 and solver.solve():
            model = solver.get_model()
            bits = "".join("1" if model[i] > 0 else "0" for i in range(k))
            assert bits != answer and satisfies(bits, clauses)
            assert verify_sat(boxed(bits), clauses, k).correct
            solver.add_clause([-lit for lit in model[:k]])
            found += 1


@SETTINGS
@given(planted(), st.data())
def test_sat_a_flipped_bit_is_rejected_exactly_when_it_breaks_a_clause(instance, data):
    clauses, k, answer = instance
    position = data.draw(st.integers(0, k - 1))
    flipped = answer[:position] + ("0" if answer[position] == "1" else "1") + answer[position + 1 :]
    verdict = verify_sat(boxed(flipped), clauses, k)
    assert verdict.correct == satisfies(flipped, clauses)
    if not verdict.correct:
        assert verdict.reason == "unsatisfied_clause"


NOT_BITS = st.characters(blacklist_characters="01{}\\", blacklist_categories=("Cs",))


@SETTINGS
@given(planted(), st.data())
def test_sat_wrong_lengths_and_characters_are_rejected(instance, data):
    clauses, k, answer = instance
    length = data.draw(st.integers(0, 3 * k).filter(lambda n: n != k))
    bits = data.draw(st.text(alphabet="01", min_size=length, max_size=length))
    verdict = verify_sat(boxed(bits), clauses, k)
    assert (verdict.correct, verdict.reason) == (False, "wrong_length")
    # one foreign character in place of a bit (a digit of another script, a space, a letter, ...)
    position = data.draw(st.integers(0, k - 1))
    char = data.draw(NOT_BITS)
    bad = answer[:position] + char + answer[position + 1 :]
    verdict = verify_sat(boxed(bad), clauses, k)
    assert not verdict.correct and verdict.reason in ("bad_char", "wrong_length")


# -- SQL --------------------------------------------------------------------------------------------
SCHEMA = ["CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT, city TEXT, price INTEGER, qty INTEGER)"]
CITIES = ["Oslo", "Lima", "Pune", "Kyiv"]
OPS = ["<", "<=", ">", ">=", "=", "!="]
FLIPPED = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "=", "!=": "!="}


@st.composite
def tables(draw):
    count = draw(st.integers(1, 25))
    rows = [
        [
            i + 1,
            draw(st.sampled_from(["pen", "cup", "hat", "map", "bag"])),
            draw(st.sampled_from(CITIES)),
            draw(st.integers(0, 20)),
            draw(st.integers(0, 5)),
        ]
        for i in range(count)
    ]
    return {"items": rows}


def result(rows, sql):
    """The rows ``sql`` returns on the table, in plain SQLite (no thinkgym code)."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(SCHEMA[0])
        conn.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?)", rows["items"])
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def same(rows, gold, other, ordered):
    a, b = result(rows, gold), result(rows, other)
    return a == b if ordered else Counter(a) == Counter(b)


def fenced(sql):
    return f"Here it is:\n```sql\n{sql}\n```"


@st.composite
def question(draw):
    """A gold query ``SELECT name, price FROM items WHERE price <op> c [AND city = ...]`` with an
    optional ``ORDER BY price, id LIMIT n`` (then order matters), and its parts."""
    return {
        "op": draw(st.sampled_from(OPS)),
        "c": draw(st.integers(-1, 21)),
        "city": draw(st.none() | st.sampled_from(CITIES)),
        "limit": draw(st.none() | st.integers(0, 8)),
    }


def build(op, c, city, limit, *, columns="name, price", where=True):
    sql = f"SELECT {columns} FROM items"
    if where:
        sql += f" WHERE price {op} {c}" + (f" AND city = '{city}'" if city else "")
    if limit is not None:
        sql += f" ORDER BY price, id LIMIT {limit}"
    return sql


@SETTINGS
@given(tables(), question(), st.data())
def test_sql_near_misses_are_rejected_exactly_when_the_result_differs(rows, q, data):
    gold = build(**q)
    ordered = q["limit"] is not None
    misses = [
        build(**{**q, "c": q["c"] + data.draw(st.sampled_from([-2, -1, 1, 2]))}),
        build(**{**q, "op": data.draw(st.sampled_from([op for op in OPS if op != q["op"]]))}),
        build(**q, where=False),
    ]
    if ordered:
        misses.append(build(**{**q, "limit": q["limit"] + data.draw(st.sampled_from([-1, 1, 5]))}))
        misses.append(build(**{**q, "limit": None}))
    for miss in misses:
        if "LIMIT -1" in miss:
            continue  # LIMIT -1 is SQLite's "no limit": covered by the dropped LIMIT
        verdict = verify_sql(fenced(miss), SCHEMA, rows, gold, ordered)
        assert verdict.format_ok and not verdict.verifier_error
        assert verdict.correct == same(rows, gold, miss, ordered), (gold, miss, verdict)


@SETTINGS
@given(tables(), question(), st.data())
def test_sql_equivalent_rewrites_are_accepted(rows, q, data):
    gold = build(**q)
    ordered = q["limit"] is not None
    op, c, city, limit = q["op"], q["c"], q["city"], q["limit"]
    tail = f" ORDER BY price, id LIMIT {limit}" if ordered else ""
    city_clause = f"city = '{city}'" if city else "1 = 1"
    rewrites = [
        f"SELECT name, price FROM items WHERE {city_clause} AND price {op} {c}{tail}",  # reordered conjuncts
        f"SELECT it.name AS n, it.price AS p FROM items AS it WHERE {c} {FLIPPED[op]} it.price"
        + (f" AND it.city = '{city}'" if city else "")
        + (f" ORDER BY it.price, it.id LIMIT {limit}" if ordered else ""),  # aliases, flipped comparison
        f"SELECT name, price FROM (SELECT * FROM items WHERE price {op} {c}) AS sub"
        + (f" WHERE sub.city = '{city}'" if city else "")
        + tail,  # a subquery
    ]
    if op == ">=":
        rewrites.append(build(**{**q, "op": "BETWEEN", "c": f"{c} AND 1000"}))
    if not ordered:
        order = data.draw(st.sampled_from(["price DESC", "name, id DESC", "qty, city", "id"]))
        rewrites.append(f"{gold} ORDER BY {order}")  # an order the question does not ask for
        rewrites.append(build(**q, columns="price, name"))  # the same columns in another order
    for rewrite in rewrites:
        verdict = verify_sql(fenced(rewrite), SCHEMA, rows, gold, ordered)
        assert verdict.correct, (gold, rewrite, verdict)
