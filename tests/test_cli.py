"""The thinkgym command, run as a user runs it."""

import csv
import json
import subprocess
import sys

import pytest

from thinkgym.cli import main, parse_levels
from thinkgym.experiments.export import find_leaks, read_jsonl, row_problem


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_sweep_oracle_and_random(tmp_path):
    out = tmp_path / "oracle"
    assert (
        main(
            [
                "sweep",
                "--env",
                "Saturn-SAT-v0",
                "--levels",
                "1,4,8",
                "--policy",
                "oracle",
                "-k",
                "1",
                "--episodes",
                "30",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    rows = _rows(out / "results.csv")
    assert [r["level"] for r in rows] == ["1", "4", "8"]
    assert all(float(r["pass@1"]) == 1.0 and float(r["format_error_rate"]) == 0.0 for r in rows)
    assert (out / "pass_at_k.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "results.json").read_text())[0]["level"] == 1

    out = tmp_path / "random"
    assert (
        main(
            [
                "sweep",
                "--env",
                "Saturn-SAT-v0",
                "--levels",
                "1,4,8",
                "--policy",
                "random",
                "-k",
                "3",
                "--episodes",
                "60",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    rows = {int(r["level"]): r for r in _rows(out / "results.csv")}
    assert float(rows[1]["pass@1"]) < 1.0
    assert float(rows[8]["pass@1"]) < float(rows[1]["pass@1"])
    assert float(rows[8]["pass@3"]) >= float(rows[8]["pass@1"])


def test_export_jsonl_and_replay(tmp_path):
    path = tmp_path / "p.jsonl"
    assert main(["export", "--env", "Saturn-SAT-v0", "--levels", "1,2", "--count", "5", "--out", str(path)]) == 0
    rows = read_jsonl(path)
    assert len(rows) == 10 and len({r["id"] for r in rows}) == 10
    assert {"id", "prompt", "answer", "params", "difficulty", "metadata", "level"} <= set(rows[0])
    assert rows[0]["metadata"]["clauses"] and rows[0]["metadata"]["num_vars"] == 5
    import gymnasium

    env = gymnasium.make("Saturn-SAT-v0")
    replay = row_problem(rows[7])
    prompt, info = env.reset(options={"problem": replay})
    assert prompt == rows[7]["prompt"]


def test_export_saturn_preset_is_disjoint(tmp_path):
    assert main(["export", "--preset", "saturn-2.6k", "--out", str(tmp_path)]) == 0
    train, test = read_jsonl(tmp_path / "train.jsonl"), read_jsonl(tmp_path / "test.jsonl")
    assert len(train) == 1500 and len(test) == 4 * 20 + 10 * 100
    assert not find_leaks({"train": train, "test": test})
    by_level = {}
    for r in train:
        by_level[tuple(r["params"][x] for x in "nkl")] = by_level.get(tuple(r["params"][x] for x in "nkl"), 0) + 1
    assert by_level == {(3, 5, 5): 250, (3, 5, 6): 250, (3, 5, 13): 500, (3, 5, 15): 500}
    assert len({r["id"] for r in test}) == len(test)


def test_find_leaks_reports_shared_ids():
    assert find_leaks({"a": [{"id": "x"}, {"id": "y"}], "b": [{"id": "y"}]}) == {"a&b": ["y"]}


def test_parse_levels():
    assert parse_levels("1,4,8") == [1, 4, 8] and parse_levels("1-3,8") == [1, 2, 3, 8]
    import argparse

    with pytest.raises(argparse.ArgumentTypeError):
        parse_levels("3-1")


def test_bad_input_is_a_message_not_a_traceback(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "thinkgym.cli",
            "sweep",
            "--env",
            "Saturn-SAT-v0",
            "--levels",
            "99",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "level must be one of 1..18" in run.stderr and "Traceback" not in run.stderr
    run = subprocess.run(
        [sys.executable, "-m", "thinkgym.cli", "sweep", "--env", "Saturn-SAT-v0", "--levels", "x", "--out", "o"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2 and "levels must look like" in run.stderr


def test_list_and_demo(tmp_path, capsys):
    assert main(["list"]) == 0
    listed = capsys.readouterr().out
    assert "Saturn-SAT-v0" in listed and "Math-RLVR-v0" in listed and "Text2SQL-v0" in listed
    assert main(["demo", "--out", str(tmp_path), "--episodes", "4", "--samples", "2", "--train-steps", "2"]) == 0
    report = (tmp_path / "report.md").read_text()
    for heading in ("## 1. Difficulty sweep", "## 2. Verifiers at work", "## 3. A tool-use episode", "## 4. Training"):
        assert heading in report
    assert (tmp_path / "sweep.png").exists()
    oracle = _rows(tmp_path / "sweep_oracle.csv")
    assert len(oracle) == 15 and all(float(r["pass@1"]) == 1.0 for r in oracle)
    # the verifier table holds the verdicts the verifiers really gave
    for reason in ("| correct |", "| wrong_length |", "| restates_problem |", "| not_allowed |", "| timeout |"):
        assert reason in report
    assert "Verdict: `correct`, reward 1.0" in report
    try:
        import torch  # noqa: F401
    except ImportError:  # the core install: the training section says how to get it
        assert "Skipped: the GRPO agent needs the `train` extra" in report
    else:
        assert "after SFT" in report and (tmp_path / "training.png").exists()
        history = json.loads((tmp_path / "training.json").read_text())
        assert [h["step"] for h in history] == [1, 2]
