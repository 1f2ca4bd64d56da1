"""Sweeps: resumable journals, several envs, model policies."""

import json
import subprocess
import sys

import gymnasium
import pytest

from thinkgym.agents.policies import Policy
from thinkgym.experiments.sweep import sweep


class CountingPolicy(Policy):
    """Answers with the planted assignment every other call, and counts its calls."""

    name = "counting"

    def __init__(self, fail_after=None):
        self.calls, self.fail_after = 0, fail_after

    def act(self, observation, info):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise KeyboardInterrupt  # a sweep killed half-way
        answer = info["problem"]["answer"] if self.calls % 2 else "0"
        return "\\boxed{" + answer + "}"


def test_killed_sweep_resumes_without_recomputing(tmp_path):
    journal = tmp_path / "samples.jsonl"
    with pytest.raises(KeyboardInterrupt):
        sweep(
            "Saturn-SAT-v0",
            [1, 2],
            CountingPolicy(fail_after=30),
            k=2,
            episodes=20,
            progress=False,
            journal=journal,
            batch_size=8,
        )
    done = len(journal.read_text().splitlines()) - 1
    assert 0 < done < 80
    resumed = CountingPolicy()
    rows = sweep("Saturn-SAT-v0", [1, 2], resumed, k=2, episodes=20, progress=False, journal=journal, batch_size=8)
    assert resumed.calls == 80 - done, "only the missing samples are asked again"
    keys = [
        tuple(json.loads(line)[k] for k in ("level", "episode", "sample"))
        for line in journal.read_text().splitlines()[1:]
    ]
    assert len(keys) == len(set(keys)) == 80
    assert all(r["episodes"] == 20 and 0 < r["pass@1"] < 1 for r in rows)
    # a finished sweep reruns from the journal alone
    again = CountingPolicy()
    assert sweep("Saturn-SAT-v0", [1, 2], again, k=2, episodes=20, progress=False, journal=journal) == rows
    assert again.calls == 0


def test_journal_with_other_settings_is_refused(tmp_path):
    journal = tmp_path / "samples.jsonl"
    sweep("Saturn-SAT-v0", [1], "random", k=1, episodes=3, progress=False, journal=journal)
    with pytest.raises(ValueError, match="other settings"):
        sweep("Saturn-SAT-v0", [1], "random", k=1, episodes=3, seed=5, progress=False, journal=journal)


def test_pass_at_k_columns_and_length_percentiles():
    rows = sweep("Saturn-SAT-v0", [3], "random", k=4, samples=6, episodes=30, progress=False)
    row = rows[0]
    assert row["pass@1"] <= row["pass@2"] <= row["pass@3"] <= row["pass@4"]
    assert row["p50_response_chars"] == row["p90_response_chars"] == 13  # "\boxed{" + 5 bits + "}"
    with pytest.raises(ValueError, match="k <= samples"):
        sweep("Saturn-SAT-v0", [1], "random", k=3, samples=2, episodes=1, progress=False)


def test_cli_sweeps_several_envs(tmp_path):
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "thinkgym.cli",
            "sweep",
            "--env",
            "Saturn-SAT-v0,Saturn-SAT-v0",
            "--levels",
            "1",
            "--policy",
            "oracle",
            "--episodes",
            "3",
            "--out",
            str(tmp_path),
            "--quiet",
        ],
        capture_output=True,
        text=True,
    )
    # the same env twice is still two sweeps in one run; both read the shared journal
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "pass_at_k_Saturn-SAT-v0.png").exists()
    assert len((tmp_path / "results.csv").read_text().splitlines()) == 3


def test_hf_policy_sweep_with_the_tiny_model():
    pytest.importorskip("torch")
    from thinkgym.agents.hf_policy import HFPolicy

    policy = HFPolicy("tiny", max_tokens=12, batch_size=4)
    rows = sweep("Saturn-SAT-v0", [1], policy, k=2, episodes=2, progress=False)
    row = rows[0]
    # a random-weight model writes noise: read as format errors, never as correct answers
    assert row["pass@1"] == 0.0 and row["format_error_rate"] == 1.0
    assert row["mean_response_tokens"] <= 12
    greedy = HFPolicy("tiny", max_tokens=8, temperature=0.0)
    prompt = "solve \\boxed{}"
    assert greedy.act(prompt, {}) == greedy.act(prompt, {}), "greedy decoding is deterministic"


def test_a_sweep_that_fails_before_its_first_sample_leaves_no_journal(tmp_path):
    journal = tmp_path / "out" / "samples.jsonl"
    with pytest.raises(ValueError, match="unknown policy 'bogus'"):
        sweep("Saturn-SAT-v0", [1], "bogus", episodes=2, progress=False, journal=journal)
    with pytest.raises(ValueError, match="unknown SAT parameter"):
        sweep("Saturn-SAT-v0", [1], "oracle", episodes=2, env_kwargs={"bogus": 1}, progress=False, journal=journal)
    assert not journal.exists()
    # so the corrected command runs, instead of meeting a journal "written with other settings"
    rows = sweep("Saturn-SAT-v0", [1], "oracle", episodes=2, progress=False, journal=journal)
    assert rows[0]["pass@1"] == 1.0 and len(journal.read_text().splitlines()) == 1 + 2


def test_mixture_env_reports_a_mixture_row_and_one_row_per_family():
    rows = sweep("Math-RLVR-v0", [2], "oracle", episodes=24, progress=False, by_family=True)
    total, parts = rows[0], rows[1:]
    assert total["family"] == "mixture" and "part_of" not in total
    families = [r["family"] for r in parts]
    assert len(families) == len(set(families)) > 1 and "mixture" not in families
    assert all(r["part_of"] == "mixture" and r["level"] == 2 for r in parts)
    assert sum(r["episodes"] for r in parts) == total["episodes"] == 24
    # the problems really came from those families: each row's own parameters are its family's
    env = gymnasium.make("Math-RLVR-v0")
    seen = {env.reset(seed=e, options={"level": 2})[1]["problem"]["params"]["family"] for e in range(24)}
    assert set(families) == seen
    # one family: no mixture label, no extra rows
    single = sweep("Math-RLVR-v0", [2], "oracle", episodes=4, env_kwargs={"family": "fractions"}, progress=False)
    assert len(single) == 1 and single[0]["family"] == "fractions"
