"""Text-to-SQL: the generator, the execution verifier (and its containment), the judgement reader
and both envs."""

import json
import random
import subprocess
import sys
from collections import Counter

import pytest
from gymnasium.utils.env_checker import check_env
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thinkgym.core import Problem
from thinkgym.envs.sql import Text2SQLDiscriminateEnv, Text2SQLEnv
from thinkgym.generators import sql as gen
from thinkgym.verifiers.sql import (
    Limits,
    compare_results,
    connect,
    execute,
    extract_sql,
    read_judgement,
    verify,
    verify_judgement,
)

LEVELS = sorted(gen.LEVELS)


def fenced(sql):
    return f"Let me think.\n```sql\n{sql}\n```"


def check(problem, response):
    m = problem.metadata
    return verify(response, m["schema"], m["rows"], m["gold"], m["ordered"])


def replayed(problem):
    """The problem after a JSON round trip, as an exported dataset would hold it."""
    return Problem.from_dict(json.loads(problem.to_json()))


SHOP = gen.generate(gen.check_params({"tables": 4, "kinds": ["join"], "domains": ["shop"]}), 0)
SCHEMA, ROWS = SHOP.metadata["schema"], SHOP.metadata["rows"]


def run(sql, gold, ordered=False):
    """(reason, format_ok) of ``sql`` against ``gold`` on the SHOP database."""
    v = verify(fenced(sql), SCHEMA, ROWS, gold, ordered)
    return v.reason, v.format_ok


# -- generator --------------------------------------------------------------------------------------
def test_gold_query_always_scores_on_every_level():
    env = Text2SQLEnv()
    kinds = Counter()
    for level in LEVELS:
        params = gen.check_params(gen.LEVELS[level])
        for seed in range(60):
            problem = replayed(gen.generate(params, seed))
            verdict = check(problem, fenced(problem.answer))
            assert verdict.correct and verdict.reason == "correct", (level, seed, problem.answer, verdict)
            kinds[problem.metadata["kind"]] += 1
            assert problem.metadata["question"] in problem.prompt and problem.metadata["schema_text"] in problem.prompt
        _, info = env.reset(seed=level, options={"level": level})
        assert env.step(fenced(info["problem"]["answer"]))[1] == 1.0
    assert set(kinds) == set(gen.KINDS), "every question kind is generated somewhere"


def test_generation_is_deterministic_small_and_varied():
    params = gen.check_params(gen.LEVELS[8])
    a, b = gen.generate(params, 7), gen.generate(params, 7)
    assert a.to_dict() == b.to_dict()
    assert len({gen.generate(params, s).id for s in range(30)}) == 30
    for seed in range(30):
        p = gen.generate(params, seed)
        assert 1 <= len(p.metadata["tables"]) <= 4 and len(p.metadata["schema"]) == len(p.metadata["tables"])
        assert all(4 <= len(rows) <= 60 for rows in p.metadata["rows"].values())
    # difficulty grows with the level on average
    means = [sum(gen.generate(gen.check_params(gen.LEVELS[lv]), s).difficulty for s in range(20)) for lv in (1, 5, 7)]
    assert means[0] < means[1] < means[2]


def test_instances_are_not_degenerate():
    for level in LEVELS:
        params = gen.check_params(gen.LEVELS[level])
        for seed in range(25):
            inst = gen.build_instance(params, random.Random(seed))
            conn = connect(inst.schema, inst.rows)
            try:
                gold = execute(conn, inst.gold)
                assert gold.status == "ok" and gold.rows, (level, seed, inst.gold)
                assert all(v is not None for row in gold.rows for v in row)
                same_result = set(gen.candidates(inst)[True])
                assert "dropped_condition" not in same_result, f"a condition that filters nothing: {inst.gold}"
                if inst.query.order_by:
                    assert len(gold.rows) >= 2 and "wrong_order_direction" not in same_result, inst.gold
                if inst.query.group_by and not inst.query.having:
                    assert len(gold.rows) >= 2, inst.gold
            finally:
                conn.close()


def test_check_params_names_the_bad_parameter():
    bad = [
        ({"tables": 0}, "tables"),
        ({"tables": 5}, "tables"),
        ({"kinds": ["nope"]}, "kinds"),
        ({"kinds": []}, "kinds"),
        ({"kinds": ["join3"], "tables": 2}, "tables >= 3"),
        ({"rows": 1000}, "rows"),
        ({"domains": ["zoo"]}, "domains"),
        ({"example_rows": -1}, "example_rows"),
        ({"p_correct": 0.5}, "p_correct"),
        ({"color": 1}, "color"),
    ]
    for params, word in bad:
        with pytest.raises(ValueError, match=word):
            gen.check_params(params)
    with pytest.raises(ValueError, match="p_correct"):
        gen.check_params({"p_correct": 2}, discriminate=True)
    assert gen.check_params({"kinds": "join", "tables": 2})["kinds"] == ["join"]
    with pytest.raises(ValueError, match="level"):
        Text2SQLEnv(level=9)


# -- corruptions ------------------------------------------------------------------------------------
def test_corruptions_that_change_the_result_never_score_and_the_rest_do():
    seen_wrong = Counter()
    for level in LEVELS:
        params = gen.check_params(gen.LEVELS[level])
        for seed in range(12):
            inst = gen.build_instance(params, random.Random(seed))
            pools = gen.candidates(inst)
            meta = (inst.schema, inst.rows, inst.gold, inst.ordered)
            for label, by_origin in pools.items():
                for origin, sqls in by_origin.items():
                    for sql in sqls:
                        verdict = verify(fenced(sql), *meta)
                        assert verdict.correct == label, (origin, inst.gold, sql, verdict)
                        assert verdict.format_ok
                        if not label:
                            seen_wrong[origin] += 1
    expected = {
        "wrong_column",
        "wrong_filter_column",
        "wrong_operator",
        "dropped_condition",
        "wrong_join_key",
        "wrong_aggregate",
        "missing_group_by",
        "wrong_order_direction",
        "wrong_limit",
        "missing_distinct",
        "wrong_connective",
    }
    assert expected <= set(seen_wrong), expected - set(seen_wrong)


# -- the verifier: answer rule ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "response, sql, status",
    [
        ("```sql\nSELECT 1\n```", "SELECT 1", "ok"),
        ("```SQL\nSELECT 1\n```", "SELECT 1", "ok"),
        ("```sql SELECT 1```", "SELECT 1", "ok"),
        ("```sql\nSELECT 1\n```\nthen\n```sql\nSELECT 2\n```", "SELECT 2", "ok"),
        ("```sql\nSELECT 1\n```\n```python\nprint(2)\n```", "SELECT 1", "ok"),
        ("<think>```sql\nSELECT 1\n```</think>```sql\nSELECT 2\n```", "SELECT 2", "ok"),
        ("<think>```sql\nSELECT 1\n```</think> done", None, "no_answer"),
        ("<think>```sql\nSELECT 1\n``` still thinking", None, "unfinished_thinking"),
        ("SELECT 1", None, "no_answer"),
        ("```\nSELECT 1\n```", None, "no_answer"),
        ("```sql\nSELECT 1\n```\n```sql\nSELECT 2", None, "unclosed_block"),
        ("```sql\n   \n```", None, "empty_query"),
    ],
)
def test_answer_rule_is_the_last_sql_block_after_thinking(response, sql, status):
    answer = extract_sql(response)
    assert (answer.sql, answer.status) == (sql, status)


def test_no_answer_is_a_format_error_and_gets_the_format_reward():
    env = Text2SQLEnv()
    _, info = env.reset(seed=0)
    gold = info["problem"]["answer"]
    _, reward, terminated, _, info = env.step(gold)  # no fenced block
    assert (reward, terminated, info["verdict"]["reason"], info["verdict"]["format_ok"]) == (
        -1.0,
        True,
        "no_answer",
        False,
    )
    env.reset(seed=0)
    _, reward, _, _, info = env.step(fenced("SELEC oops"))
    assert (reward, info["verdict"]["reason"], info["verdict"]["format_ok"]) == (0.0, "syntax_error", True)


# -- the verifier: comparison -----------------------------------------------------------------------
def test_comparison_rules():
    names = "SELECT name FROM customers WHERE city = 'x'"
    gold = "SELECT name, city FROM customers ORDER BY customer_id"
    assert run("SELECT city, name FROM customers", "SELECT name, city FROM customers") == ("correct", True)
    assert (
        run("SELECT name, city FROM customers ORDER BY name DESC", "SELECT name, city FROM customers")[0] == "correct"
    )
    assert run("SELECT name, city FROM customers ORDER BY customer_id DESC", gold, ordered=True)[0] == "wrong_order"
    assert run("SELECT name, city FROM customers ORDER BY customer_id", gold, ordered=True)[0] == "correct"
    assert run("SELECT name FROM customers", "SELECT name, city FROM customers")[0] == "wrong_column_count"
    assert run("SELECT city FROM customers", "SELECT DISTINCT city FROM customers")[0] == "wrong_row_count"
    assert run("SELECT city, city FROM customers", "SELECT name, city FROM customers")[0] == "wrong_values"
    assert run(names, names)[0] == "correct"  # an empty result equals an empty result
    # numbers compare by value within 1e-6 relative; text never equals a number
    assert run("SELECT SUM(price) / COUNT(*) FROM products", "SELECT AVG(price) FROM products")[0] == "correct"
    assert run("SELECT 3.0", "SELECT 3")[0] == "correct"
    assert run("SELECT 3.0000001", "SELECT 3")[0] == "correct"
    assert run("SELECT 3.001", "SELECT 3")[0] == "wrong_values"
    assert run("SELECT '3'", "SELECT 3")[0] == "wrong_values"


def test_compare_results_tolerates_float_noise_in_any_row_order():
    conn = connect(["CREATE TABLE t (a REAL, b TEXT)"], {"t": [[0.1, "x"], [0.2, "y"], [0.30000000000000004, "z"]]})
    try:
        gold = execute(conn, "SELECT a, b FROM t")
        pred = execute(conn, "SELECT a + 1e-12, b FROM t ORDER BY b DESC")
        assert compare_results(pred, gold, ordered=False) == "correct"
        assert compare_results(pred, gold, ordered=True) == "wrong_order"
    finally:
        conn.close()


# -- the verifier: containment ----------------------------------------------------------------------
def test_runaway_queries_are_stopped_with_a_reason():
    gold = "SELECT COUNT(*) FROM customers"
    loop = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
    assert run(loop + "SELECT COUNT(*) FROM c", gold) == ("timeout", True)
    assert run(loop + "SELECT x FROM c", gold) == ("too_many_rows", True)
    cross = "SELECT COUNT(*) FROM " + ", ".join(f"order_items t{i}" for i in range(6))
    assert run(cross, gold)[0] == "timeout"
    v = verify(fenced(loop + "SELECT COUNT(*) FROM c"), SCHEMA, ROWS, gold, False, Limits(max_steps=10_000))
    assert v.reason == "timeout" and "interrupted" in v.details["error"]
    assert run("SELECT zeroblob(1000000000)", gold)[0] == "sql_error"
    assert run("SELECT 1" + " + 1" * 6_000, gold)[0] == "too_long"


def test_the_model_query_over_budget_is_a_wrong_answer_the_verifiers_own_failures_are_verifier_errors():
    gold = "SELECT COUNT(*) FROM customers"
    loop = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT COUNT(*) FROM c"
    small = Limits(max_steps=10_000)
    # the model's query spends the step budget (the same on every machine): a wrong answer
    v = verify(fenced(loop), SCHEMA, ROWS, gold, False, small)
    assert (v.reason, v.format_ok, v.verifier_error, v.details["limit"]) == ("timeout", True, False, "steps")
    # ... or is still running after the wall clock and its retry: a wrong answer as well
    v = verify(fenced(loop), SCHEMA, ROWS, gold, False, Limits(timeout_s=0.02, max_steps=10**12))
    assert (v.reason, v.format_ok, v.verifier_error, v.details["limit"]) == ("timeout", True, False, "wall_clock")
    # the gold query cannot finish within the limits: the verifier could not decide
    v = verify(fenced(gold), SCHEMA, ROWS, loop, False, small)
    assert (v.reason, v.correct, v.format_ok, v.verifier_error) == ("verifier_timeout", False, False, True)
    # a gold query that does not run, or a database that cannot be built
    v = verify(fenced(gold), SCHEMA, ROWS, "SELEC 1", False)
    assert (v.reason, v.verifier_error, v.details["gold_status"]) == ("invalid_gold", True, "syntax_error")
    v = verify(fenced(gold), [*SCHEMA, "DROP TABLE customers"], ROWS, gold, False)
    assert (v.reason, v.verifier_error) == ("verifier_crash", True) and "CREATE TABLE" in v.details["error"]
    v = verify(fenced(gold), SCHEMA, {"customers": [[1]]}, gold, False)  # rows that do not fit the table
    assert (v.reason, v.verifier_error) == ("verifier_crash", True)


def test_a_query_stopped_by_the_wall_clock_is_retried_once_with_more_time(monkeypatch):
    import thinkgym.verifiers.sql as sql_verifier

    calls = []
    real = sql_verifier.execute

    def slow_first_time(conn, sql, limits=None):
        calls.append(limits.timeout_s)
        if len(calls) == 1:
            return sql_verifier.Execution("timeout", error="interrupted", limit="wall_clock")
        return real(conn, sql, limits)

    monkeypatch.setattr(sql_verifier, "execute", slow_first_time)
    gold = "SELECT COUNT(*) FROM customers"
    v = verify(fenced(gold), SCHEMA, ROWS, gold, False, Limits(timeout_s=2.0))
    assert v.correct and calls == [2.0, 2.0 * sql_verifier.RETRY_CLOCK_FACTOR, 2.0]


def test_the_env_pays_the_verifier_error_reward_for_a_broken_gold():
    env = Text2SQLEnv(rewards={"verifier_error": 0.25})
    _, info = env.reset(seed=0)
    problem = info["problem"]
    problem["metadata"]["gold"] = "SELECT nothing FROM nowhere"
    env.reset(options={"problem": problem})
    _, reward, terminated, _, info = env.step(fenced("SELECT 1"))
    assert (reward, terminated, info["verdict"]["reason"], info["verdict"]["verifier_error"]) == (
        0.25,
        True,
        "invalid_gold",
        True,
    )


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO customers VALUES (99, 'Eve', 'Oslo', 2020)",
        "UPDATE customers SET city = 'Oslo'",
        "DELETE FROM customers",
        "DROP TABLE customers",
        "CREATE TABLE evil (a)",
        "ALTER TABLE customers ADD COLUMN b",
        "ATTACH DATABASE 'evil.db' AS evil",
        "PRAGMA query_only = OFF",
        "PRAGMA writable_schema = ON",
        "BEGIN",
        "VACUUM",
        "SELECT load_extension('evil')",
        "REPLACE INTO customers VALUES (1, 'Eve', 'Oslo', 2020)",
    ],
)
def test_writes_attach_and_pragmas_are_refused_and_change_nothing(sql):
    conn = connect(SCHEMA, ROWS)
    try:
        before = execute(conn, "SELECT * FROM customers")
        result = execute(conn, sql)
        assert result.status == "not_allowed" and "SQLITE_" in result.error, result
        assert execute(conn, "SELECT * FROM customers") == before
    finally:
        conn.close()
    assert run(sql, "SELECT COUNT(*) FROM customers") == ("not_allowed", True)


def test_only_one_statement_runs():
    conn = connect(SCHEMA, ROWS)
    try:
        result = execute(conn, "SELECT 1; DROP TABLE customers")
        assert result.status == "multiple_statements"
        assert execute(conn, "SELECT COUNT(*) FROM customers").rows == [(len(ROWS["customers"]),)]
        assert execute(conn, "SELECT 1;").status == "ok"  # one trailing semicolon is fine
    finally:
        conn.close()


def test_errors_have_reasons():
    gold = "SELECT COUNT(*) FROM customers"
    assert run("SELEC name FROM customers", gold)[0] == "syntax_error"
    assert run("SELECT name FROM nowhere", gold)[0] == "sql_error"
    assert run("SELECT 'a\ud800'", gold)[0] == "sql_error"
    assert run("-- only a comment", gold)[0] == "no_result_set"
    with pytest.raises(ValueError, match="CREATE TABLE"):
        connect(["ATTACH DATABASE 'x.db' AS x"], {})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300), st.booleans())
def test_verifiers_never_raise(text, wrap):
    response = fenced(text) if wrap else text
    v = verify(response, SCHEMA, ROWS, "SELECT name FROM customers", False)
    assert isinstance(v.reason, str) and v.score in (0.0, 1.0)
    j = verify_judgement(response, True)
    assert j.score in (0.0, 1.0)


# -- discrimination ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "response, value, status",
    [
        ('{"correct": true}', True, "ok"),
        ('{"correct": false}', False, "ok"),
        ("{'correct': True}", True, "ok"),
        ('{"correct": "false",}', False, "ok"),
        ('{"analysis": "...", "correct": true, "why": {"a": 1}}', True, "ok"),
        ('{"correct": true} ... on reflection {"correct": false}', False, "ok"),
        ('<think>{"correct": true}</think> {"correct": false}', False, "ok"),
        ('<think>{"correct": true}', None, "unfinished_thinking"),
        ('"correct": true', None, "no_judgement"),
        ("The query is correct.", None, "no_judgement"),
        ('{"correct": maybe}', None, "bad_value"),
        ('{"correct": true} then {"correct": 1}', None, "bad_value"),
    ],
)
def test_judgement_rule(response, value, status):
    j = read_judgement(response)
    assert (j.value, j.status) == (value, status)
    if value is not None:
        assert response[j.start : j.end].lower() == str(value).lower()


def test_discriminate_labels_are_balanced_and_execution_checked():
    labels, origins = Counter(), Counter()
    for level in LEVELS:
        params = gen.check_params(gen.LEVELS[level], discriminate=True)
        for seed in range(25):
            p = replayed(gen.generate_discriminate(params, seed))
            m = p.metadata
            assert m["candidate"] in p.prompt and m["question"] in p.prompt and m["schema_text"] in p.prompt
            assert check(p, fenced(m["candidate"])).correct == m["label"], (m["origin"], m["candidate"])
            assert p.answer == json.dumps({"correct": m["label"]})
            labels[m["label"]] += 1
            origins[m["origin"]] += 1
    assert 0.4 <= labels[True] / sum(labels.values()) <= 0.6, labels
    assert len(origins) >= 8, origins
    always = gen.check_params(gen.LEVELS[5] | {"p_correct": 1.0}, discriminate=True)
    never = gen.check_params(gen.LEVELS[5] | {"p_correct": 0.0}, discriminate=True)
    assert all(gen.generate_discriminate(always, s).metadata["label"] for s in range(10))
    assert not any(gen.generate_discriminate(never, s).metadata["label"] for s in range(10))


def test_discriminate_env_rewards_the_right_judgement():
    env = Text2SQLDiscriminateEnv(level=5)
    for seed in range(6):
        _, info = env.reset(seed=seed)
        label = info["problem"]["metadata"]["label"]
        right = "<think>\nOkay, the join is fine.\n</think>\n" + json.dumps({"correct": label})
        assert env.step(right)[1] == 1.0
        env.reset(seed=seed)
        _, reward, _, _, info = env.step(json.dumps({"correct": not label}))
        assert (reward, info["verdict"]["reason"]) == (0.0, "wrong_judgement")
        env.reset(seed=seed)
        assert env.step("It looks right to me.")[1] == -1.0
    assert "<think>" not in env.reset(seed=0)[0], "the prefill belongs to the assistant turn, not the prompt"
    assert gen.DISCRIMINATE_TEMPLATE.startswith("Determine whether the SQL query is correct or not")


# -- envs -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [Text2SQLEnv, Text2SQLDiscriminateEnv])
def test_envs_pass_check_env_and_replay(cls):
    env = cls(level=6)
    check_env(env, skip_render_check=True)
    _, info = env.reset(seed=3)
    stored = info["problem"]
    _, again = env.reset(seed=99, options={"problem": stored})
    assert again["problem"] == stored
    _, info = env.reset(seed=3, options={"level": 2})
    assert info["level"] == 2 and info["problem"]["params"]["kinds"] == gen.LEVELS[2]["kinds"]
    with pytest.raises(TypeError):
        env.step(42)


def test_light_layers_do_not_import_torch():
    code = (
        "import sys, thinkgym.envs.sql, thinkgym.generators.sql, thinkgym.verifiers.sql, thinkgym.agents.sql_rerank\n"
        "assert 'torch' not in sys.modules and 'transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
