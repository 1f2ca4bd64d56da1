"""The thinkgym command, run as a user runs it."""

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

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
        assert (tmp_path / "training.png").exists()
        history = json.loads((tmp_path / "training.json").read_text())
        assert [h["step"] for h in history] == [1, 2]
        # before and after, each with its 95% Wilson interval, and the z of the difference
        assert re.search(r"\| after SFT \| 0\.\d{3} \[0\.\d{3}, 0\.\d{3}\] \|", report)
        assert re.search(r"\| after GRPO \(2 steps\) \| \*\*0\.\d{3} \[0\.\d{3}, 0\.\d{3}\]\*\* \|", report)
        assert "256 draws" in report and re.search(r"z = -?\d+\.\d\d", report)


def test_readme_train_example_holds_the_recipe():
    """examples/sat_sft.yaml and sat_grpo.yaml (the README's train example) are the recipe of
    thinkgym.agents.grpo.recipe, which the demo, the example script and the learning test run."""
    pytest.importorskip("yaml")
    from thinkgym.agents.grpo.config import GRPOConfig, SFTConfig, load_yaml
    from thinkgym.agents.grpo.recipe import grpo_config, sft_config

    examples = Path(__file__).resolve().parents[1] / "examples"
    sft = SFTConfig.from_dict({**load_yaml(examples / "sat_sft.yaml"), "out": "o"})
    assert sft == sft_config("o", progress=True)
    grpo = GRPOConfig.from_dict({**load_yaml(examples / "sat_grpo.yaml"), "out": "o", "model": "m"})
    assert grpo == grpo_config("m", "o", eval_every=50, progress=True)
    readme = (examples.parent / "README.md").read_text()
    assert "thinkgym sft --config examples/sat_sft.yaml --out runs/sft" in readme
    assert "thinkgym train --config examples/sat_grpo.yaml --model runs/sft/model" in readme


def test_train_says_when_there_is_no_learning_signal(tmp_path, capsys):
    """The random tiny model never writes an answer: every group has reward -1, so no advantage."""
    pytest.importorskip("torch")
    args = ["train", "--env", "Saturn-SAT-v0", "--model", "tiny", "--out", str(tmp_path / "grpo")]
    args += ["--env-kwargs", '{"n": 1, "k": 3, "l": 1, "prompt_template": "{instance}"}', "--steps", "10"]
    args += ["--group-size", "2", "--prompts-per-step", "1", "--max-new-tokens", "4", "--eval-every", "0"]
    args += ["--eval-problems", "4", "--no-progress"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "no learning signal: every group had equal rewards for 10 steps (reward -1.000)" in err
    assert "warm-start with thinkgym sft" in err
