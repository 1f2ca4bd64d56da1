"""Exports for TRL and verl, and the adapters that score their rollouts with thinkgym verifiers."""

import gymnasium
import pytest

from thinkgym.cli import main
from thinkgym.integrations.trl import trl_reward_func
from thinkgym.integrations.verl import compute_score

datasets = pytest.importorskip("datasets")


def _one_step_config(trl, out, max_completion_length):
    """One CPU step of GRPOTrainer: 4 prompts x 4 generations, nothing logged or saved elsewhere."""
    return trl.GRPOConfig(
        output_dir=str(out),
        max_steps=1,
        per_device_train_batch_size=4,
        num_generations=4,
        max_completion_length=max_completion_length,
        report_to="none",
        use_cpu=True,
        logging_steps=1,
        save_strategy="no",
        bf16=False,
    )


def test_hf_export_feeds_the_trl_reward_function(tmp_path):
    args = ["export", "--env", "Saturn-SAT-v0", "--levels", "1,3", "--count", "4", "--test-count", "2"]
    assert main([*args, "--format", "hf", "--out", str(tmp_path)]) == 0
    train = datasets.load_from_disk(str(tmp_path / "train"))
    test = datasets.load_from_disk(str(tmp_path / "test"))
    assert train.num_rows == 8 and test.num_rows == 4
    assert not set(train["id"]) & set(test["id"])
    reward = trl_reward_func(gymnasium.make("Saturn-SAT-v0"))
    good = ["<think>ok</think>\\boxed{" + a + "}" for a in train["answer"]]
    assert reward(prompts=list(train["prompt"]), completions=good, problem=list(train["problem"])) == [1.0] * 8
    messages = [[{"role": "assistant", "content": "no box"}] for _ in range(8)]
    assert reward(prompts=list(train["prompt"]), completions=messages, problem=list(train["problem"])) == [-1.0] * 8


def test_verl_export_and_compute_score(tmp_path):
    path = tmp_path / "sat.parquet"
    args = ["export", "--env", "Saturn-SAT-v0", "--levels", "2", "--count", "5", "--format", "verl"]
    assert main([*args, "--out", str(path)]) == 0
    data = datasets.Dataset.from_parquet(str(path))
    row = data[0]
    assert row["data_source"] == "Saturn-SAT-v0" and row["prompt"][0]["role"] == "user"
    assert row["reward_model"]["style"] == "rule"
    truth = row["reward_model"]["ground_truth"]
    good = compute_score(row["data_source"], f"\\boxed{{{truth}}}", truth, row["extra_info"])
    assert good == {"score": 1.0, "acc": 1.0, "format_ok": 1.0}
    bad = compute_score(row["data_source"], "\\boxed{" + "2" * len(truth) + "}", truth, row["extra_info"])
    assert bad == {"score": 0.0, "acc": 0.0, "format_ok": 1.0}
    with pytest.raises(ValueError, match="extra_info"):
        compute_score(row["data_source"], "x", truth, None)
    # verl adds keys to extra_info and passes reward_kwargs: both are accepted
    assert compute_score(row["data_source"], f"\\boxed{{{truth}}}", truth, {**row["extra_info"], "num_turns": 1}, k=1)[
        "score"
    ] == 1.0


def test_the_old_import_paths_still_work():
    from thinkgym.agents import trl_env
    from thinkgym.integrations import trl, verl
    from thinkgym.rewards import verl as old_verl

    assert trl_env.tool_environment_factory is trl.tool_environment_factory
    assert old_verl.compute_score is verl.compute_score


def test_play_reads_answers_from_stdin(tmp_path):
    import subprocess
    import sys

    env = gymnasium.make("Saturn-SAT-v0", level=1)
    answer = env.reset(seed=0)[1]["problem"]["answer"]
    run = subprocess.run(
        [sys.executable, "-m", "thinkgym.cli", "play", "Saturn-SAT-v0", "--level", "1"],
        input=f"my answer: \\boxed{{{answer}}}\n.\nno idea\n.\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0
    assert "verdict: correct (correct=True), reward 1.0" in run.stdout
    assert "verdict: no_answer (correct=False), reward -1.0" in run.stdout and run.stdout.rstrip().endswith("bye")


def test_trl_reward_function_inside_the_installed_grpo_trainer(tmp_path):
    """One real GRPOTrainer step with the tiny model: TRL calls our reward function with its own
    calling convention, and the verdicts come back as the logged reward."""
    trl = pytest.importorskip("trl")
    import json

    from thinkgym.agents.models import load_model
    from thinkgym.experiments.export import export_problems, row_problem

    rows = export_problems("Saturn-SAT-v0", {1: 4})
    problem = [json.dumps(row_problem(r)) for r in rows]
    data = datasets.Dataset.from_list(
        [{"prompt": r["prompt"][-80:], "problem": p} for r, p in zip(rows, problem, strict=True)]
    )
    scorer = trl_reward_func(gymnasium.make("Saturn-SAT-v0"), name="sat")
    seen = []

    def reward(prompts, completions, **columns):
        seen.append((list(completions), list(columns["problem"])))
        return scorer(prompts, completions, **columns)

    reward.__name__ = "sat"
    model, tokenizer = load_model("tiny")
    config = _one_step_config(trl, tmp_path, max_completion_length=8)
    trainer = trl.GRPOTrainer(
        model=model, reward_funcs=reward, args=config, train_dataset=data, processing_class=tokenizer
    )
    trainer.train()
    assert seen, "TRL called the reward function"
    completions, problems = seen[0]
    assert len(completions) == 4 and all(p in problem for p in problems)
    expected = [scorer([""], [c], problem=[p])[0] for c, p in zip(completions, problems, strict=True)]
    logged = [h for h in trainer.state.log_history if "rewards/sat/mean" in h][0]
    assert float(logged["rewards/sat/mean"]) == pytest.approx(sum(expected) / 4)


def test_tool_environment_follows_trls_protocol():
    import json

    from thinkgym.integrations.trl import tool_environment_factory

    env = tool_environment_factory("Saturn-SAT-v0", level=4)()
    _, info = gymnasium.make("Saturn-SAT-v0", level=4).reset(seed=11)
    assert env.reset(prompt="...", problem=json.dumps(info["problem"])) is None
    assert env.get_reward() == -1.0, "nothing submitted: the env's format-error reward"
    assert env.run_python("x = 6 * 7\nprint(x)") == "42"
    assert env.run_python("print(x + 1)") == "43", "variables persist across tool calls"
    assert "ZeroDivisionError" in env.run_python("1/0")
    answer = info["problem"]["answer"]
    assert env.submit_answer("2" * len(answer)).startswith("not correct (bad_char)")
    assert env.get_reward() == 0.0
    assert env.submit_answer(answer) == "accepted: correct" and env.get_reward() == 1.0
    with pytest.raises(ValueError, match="problem"):
        env.reset(prompt="no problem column")


def test_tool_environment_inside_the_installed_grpo_trainer(tmp_path):
    """TRL probes the class (reset, tools from the public methods, get_reward as a reward source)
    and runs a step with it; the tiny model needs a tool-capable chat template for that."""
    trl = pytest.importorskip("trl")
    import json

    from trl.chat_template_utils import add_response_schema, qwen3_chat_template

    from thinkgym.agents.models import load_model
    from thinkgym.experiments.export import export_problems, row_problem
    from thinkgym.integrations.trl import tool_environment_factory

    rows = export_problems("Saturn-SAT-v0", {1: 4})
    data = datasets.Dataset.from_list(
        [
            {"prompt": [{"role": "user", "content": r["prompt"][-80:]}], "problem": json.dumps(row_problem(r))}
            for r in rows
        ]
    )
    model, tokenizer = load_model("tiny")
    tokenizer.chat_template = qwen3_chat_template
    add_response_schema(tokenizer)
    config = _one_step_config(trl, tmp_path, max_completion_length=12)
    trainer = trl.GRPOTrainer(
        model=model,
        args=config,
        train_dataset=data,
        processing_class=tokenizer,
        environment_factory=tool_environment_factory("Saturn-SAT-v0"),
    )
    assert {t.__name__ for t in trainer.tools} == {"run_python", "submit_answer"}
    trainer.train()
    logged = [h for h in trainer.state.log_history if "rewards/ThinkgymToolEnv/mean" in h][0]
    # the random-weight model submits nothing, so every rollout gets the format-error reward
    assert logged["rewards/ThinkgymToolEnv/mean"] == -1.0


def test_serve_without_openenv_names_the_extra(capsys):
    import importlib.util

    if importlib.util.find_spec("openenv") is not None:
        pytest.skip("openenv is installed here; tests/test_integrations_openenv.py runs the server")
    assert main(["serve", "--env", "Saturn-SAT-v0", "--port", "1"]) == 2
    assert "pip install 'thinkgym[openenv]'" in capsys.readouterr().err
    assert main(["serve", "--env", "Saturn-SAT-v9"]) == 2
    assert "unknown env 'Saturn-SAT-v9'" in capsys.readouterr().err
