"""CodeInterpreter: CoRT's protocol (tool calls, stop sequences, budget and warning, output
truncation, masking info, hints, reward), full episodes on SAT and on Math, and gymnasium
compliance."""

from __future__ import annotations

import importlib.util
import itertools
import re
import warnings

import gymnasium
import pytest
from gymnasium.error import ResetNeeded
from gymnasium.utils.env_checker import check_env

from thinkgym.core import Verdict
from thinkgym.envs.code_interpreter import (
    BUDGET_WARNING,
    CORT_INSTRUCTION,
    HINT_ENGINEERING,
    STOP,
    CodeInterpreter,
    cort_reward,
    format_output,
    make_math_env,
    make_sat_env,
)
from thinkgym.envs.registration import ENVS
from thinkgym.envs.sat import SaturnSATEnv
from thinkgym.sandbox import ExecResult

pytestmark = pytest.mark.filterwarnings("ignore::thinkgym.sandbox.SandboxWarning")


def call(code: str, before: str = "Let me compute.\n") -> str:
    return f"{before}```python\n{code}\n```\n"


@pytest.fixture
def sat():
    env = CodeInterpreter(SaturnSATEnv(level=1))
    yield env
    env.close()


def _brute_force_cell(problem: dict) -> str:
    meta = problem["metadata"]
    return (
        f"import itertools\nclauses = {meta['clauses']}\n"
        f"for bits in itertools.product([0, 1], repeat={meta['num_vars']}):\n"
        "    if all(any((bits[abs(l) - 1] == 1) == (l > 0) for l in c) for c in clauses):\n"
        "        print(''.join(map(str, bits)))\n"
        "        break"
    )


def _satisfies(assignment: str, clauses: list[list[int]]) -> bool:
    return all(any((assignment[abs(lit) - 1] == "1") == (lit > 0) for lit in clause) for clause in clauses)


def test_sat_episode_code_output_comes_back_and_the_boxed_answer_is_correct(sat):
    prompt, info = sat.reset(seed=3)
    assert prompt.endswith(CORT_INSTRUCTION) and info["stop"] == STOP and info["tool_calls_left"] == 15
    obs, reward, terminated, truncated, info = sat.step(call(_brute_force_cell(info["problem"])))
    assert not terminated and not truncated and reward == 0.0 and info["turn"] == "tool_call"
    match = re.fullmatch(r"```output\n([01]+)\n```\n", obs)
    assert match, obs
    assignment = match.group(1)
    clauses = info["problem"]["metadata"]["clauses"]
    assert _satisfies(assignment, clauses)  # the sandbox really computed it
    assert info["cell"]["ok"] and info["cell"]["stdout"] == assignment + "\n"
    obs, reward, terminated, truncated, info = sat.step(f"</think>\nThe assignment is \\boxed{{{assignment}}}.")
    assert terminated and not truncated and obs == ""
    assert info["verdict"]["correct"] and reward == 1.0 and not info["all_cells_failed"]
    assert info["stop"] == []
    with pytest.raises(ResetNeeded):
        sat.step("more")


@pytest.mark.skipif(
    importlib.util.find_spec("thinkgym.envs.math") is None or "Math-RLVR-v0" not in ENVS,
    reason="thinkgym.envs.math (Math-RLVR-v0) has not landed yet",
)
def test_math_episode_code_output_comes_back_and_the_boxed_gold_is_correct():
    env = make_math_env()
    try:
        _, info = env.reset(seed=0)
        gold = info["problem"]["answer"].strip()
        obs, _, terminated, _, info = env.step(call(f"print({gold!r})\nprint(sum(range(10)))"))
        assert not terminated and obs == f"```output\n{gold}\n45\n```\n"
        obs, reward, terminated, _, info = env.step(f"</think>\nSo the answer is $\\boxed{{{gold}}}$.")
        assert terminated and info["verdict"]["correct"] and reward == 1.0
    finally:
        env.close()


def test_state_persists_within_an_episode_and_not_across_episodes(sat):
    sat.reset(seed=0)
    sat.step(call("total = 40"))
    obs, *_ = sat.step(call("print(total + 2)"))
    assert obs == "```output\n42\n```\n"
    sat.reset(seed=1)
    obs, *_, info = sat.step(call("print('total' in globals())"))
    assert obs == "```output\nFalse\n```\n"


def test_errors_come_back_as_output_and_the_episode_goes_on(sat):
    sat.reset(seed=0)
    obs, _, terminated, _, info = sat.step(call("1 / 0"))
    assert not terminated and "ZeroDivisionError: division by zero" in obs and "Traceback" in obs
    assert not info["cell"]["ok"]
    obs, _, terminated, _, _ = sat.step(call("print('fine')"))
    assert obs == "```output\nfine\n```\n" and not terminated


def test_output_keeps_400_head_and_400_tail_characters(sat):
    sat.reset(seed=0)
    obs, *_ = sat.step(call("print('A' * 1000 + 'B' * 1000)"))
    assert obs == "```output\n" + "A" * 400 + "..." + "B" * 400 + "\n```\n"
    result = ExecResult(stdout="x" * 50, stderr="", ok=True)
    assert format_output(result, head=10, tail=5) == "x" * 10 + "..." + "x" * 5


def test_budget_warning_on_the_last_call_then_no_stop_and_no_more_code():
    env = CodeInterpreter(SaturnSATEnv(level=1), max_tool_calls=2)
    try:
        env.reset(seed=0)
        obs, _, _, _, info = env.step(call("print(1)"))
        assert info["stop"] == STOP and info["tool_calls_left"] == 1 and BUDGET_WARNING not in obs
        obs, _, _, _, info = env.step(call("print(2)"))
        assert obs == f"```output\n2{BUDGET_WARNING}\n```\n"
        assert info["stop"] == [] and info["tool_calls_left"] == 0
        obs, _, terminated, _, info = env.step(call("print(3)"))  # not run: this segment is final
        assert terminated and info["turn"] == "final" and info["tool_calls"] == 2
    finally:
        env.close()


def test_segments_mark_environment_text_for_loss_masking():
    env = CodeInterpreter(SaturnSATEnv(level=1), hints=HINT_ENGINEERING)
    try:
        prompt, info = env.reset(seed=0)
        assert prompt.endswith("\n" + HINT_ENGINEERING["start"]) and info["prefill"] == HINT_ENGINEERING["start"]
        actions = [call("print(6 * 7)", before=""), "Trusting that, consider\n```\n", "</think>\n\\boxed{00000}"]
        obs, _, _, _, info = env.step(actions[0])
        assert info["env_text"] == obs and obs.endswith(HINT_ENGINEERING["after_output"])
        assert obs.startswith("```output\n42\n```\n")
        infos = [info]
        for action in actions[1:]:
            infos.append(env.step(action)[4])
        segments = infos[-1]["segments"]
        assert [s["source"] for s in segments] == ["env", "model", "env", "model", "model"]
        assert [s["text"] for s in segments if s["source"] == "model"] == actions
        assert segments[2]["text"] == obs
        assert [i["turn"] for i in infos] == ["tool_call", "continue", "final"]
    finally:
        env.close()


def test_a_stop_at_a_non_python_fence_continues_without_output(sat):
    sat.reset(seed=0)
    obs, reward, terminated, _, info = sat.step("The clauses are:\n```\n")
    assert obs == "" and not terminated and reward == 0.0 and info["turn"] == "continue"
    assert info["tool_calls"] == 1 and info["env_text"] == ""


def test_an_unclosed_python_block_runs_and_the_fence_is_closed(sat):
    sat.reset(seed=0)
    obs, *_ = sat.step("Compute:\n```python\nprint(6 * 7)\n")
    assert obs == "```\n```output\n42\n```\n"


def test_text_after_the_block_makes_the_segment_final_and_code_is_not_run(sat):
    sat.reset(seed=0)
    _, reward, terminated, _, info = sat.step(call("print(1)") + "So the answer is \\boxed{11111}.")
    assert terminated and info["tool_calls"] == 0
    assert reward == pytest.approx(float(info["verdict"]["correct"]) - 0.1)  # no cell ran: CoRT's penalty


def test_cort_reward_and_a_custom_reward():
    good = ExecResult("1\n", "", ok=True)
    bad = ExecResult("", "Traceback", ok=False, error="NameError: x")
    silent = ExecResult("", "", ok=True)
    right, wrong = Verdict(True, True, 1.0, "correct"), Verdict(False, True, 0.0, "wrong")
    assert cort_reward(right, [good, bad]) == 1.0
    assert cort_reward(right, [bad, silent]) == pytest.approx(0.9)
    assert cort_reward(wrong, [bad]) == pytest.approx(-0.1)
    assert cort_reward(wrong, []) == pytest.approx(-0.1)  # CoRT's all([]) quirk
    env = CodeInterpreter(SaturnSATEnv(level=1), reward_fn=lambda verdict, cells: 7.0 + len(cells))
    try:
        env.reset(seed=0)
        env.step(call("print(1)"))
        assert env.step("</think>\\boxed{0}")[1] == 8.0
    finally:
        env.close()


def test_bad_arguments_and_actions_are_clear_errors(sat):
    with pytest.raises(ValueError, match="max_tool_calls"):
        CodeInterpreter(SaturnSATEnv(), max_tool_calls=-1)
    with pytest.raises(ValueError, match="hints"):
        CodeInterpreter(SaturnSATEnv(), hints={"middle": "x"})
    with pytest.raises(ResetNeeded):
        sat.step("hello")
    sat.reset(seed=0)
    with pytest.raises(TypeError):
        sat.step(42)


def test_check_env_passes():
    env = CodeInterpreter(SaturnSATEnv(level=1))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(different from the unwrapped|not having a spec).*")
        check_env(env)
    env.close()


def test_factories_split_arguments_and_work_through_gymnasium_make():
    env = make_sat_env(level=2, max_tool_calls=3, sandbox_options={"timeout": 2})
    assert isinstance(env, CodeInterpreter) and env.max_tool_calls == 3
    assert isinstance(env.unwrapped, SaturnSATEnv) and env.unwrapped.level == 2
    env.close()
    env_id = "ThinkgymTest-CodeInterpreter-SAT-v0"
    gymnasium.register(id=env_id, entry_point="thinkgym.envs.code_interpreter:make_sat_env")
    try:
        env = gymnasium.make(env_id, level=1)
        prompt, info = env.reset(seed=0)
        obs, *_ = env.step(call("print(sum(range(10)))"))
        assert obs == "```output\n45\n```\n"
        env.close()
    finally:
        del gymnasium.registry[env_id]


def test_many_episodes_reuse_one_pool_and_close_cleanly():
    env = CodeInterpreter(SaturnSATEnv(level=1))
    try:
        for seed in itertools.islice(itertools.count(), 5):
            _, info = env.reset(seed=seed)
            obs, *_ = env.step(call(_brute_force_cell(info["problem"])))
            answer = obs.split("\n")[1]
            assert env.step(f"</think>\\boxed{{{answer}}}")[1] == 1.0
    finally:
        env.close()
    env.close()  # closing twice is harmless
