"""thinkgym envs as a Prime Intellect ``verifiers`` (0.4, v1) taskset, run by its own ``vf-eval``
(null harness, subprocess runtime) against a tiny OpenAI-compatible server this test starts on
loopback (the external inference service; it streams canned replies): the rewards in verifiers'
traces equal the thinkgym env's for the same replies. With verifiers 0.3.x, the classic
``SingleTurnEnv`` and a CodeInterpreter ``MultiTurnEnv`` episode (cells in thinkgym's sandbox,
closed when the rollout ends) run through ``env.evaluate`` against the same kind of server."""

import asyncio
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import gymnasium
import pytest

import thinkgym  # noqa: F401
from thinkgym.integrations.record import record

pytest.importorskip("verifiers.v1", reason="verifiers is not installed: pip install 'thinkgym[verifiers]'")

from thinkgym.integrations.verifiers import (  # noqa: E402
    ThinkgymTaskset,
    ThinkgymTasksetConfig,
    load_environment,
    score,
)

verifiers = sys.modules["verifiers"]
CLASSIC = hasattr(verifiers, "SingleTurnEnv")  # 0.3.x ships the classic API (and v1); 0.4 only v1


class CannedChat:
    """An OpenAI-compatible /v1/chat/completions (plain and streamed) that answers the last user or
    tool message's text ``t`` with ``replies[t]``: a text reply, or ``{"tool": name, "arguments":
    {...}}`` for one tool call; records the requests."""

    def __init__(self, replies):
        self.replies, self.requests = replies, []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                body = json.dumps({"object": "list", "data": [{"id": "canned", "object": "model"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self):
                request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                outer.requests.append(request)
                last = [m for m in request["messages"] if m["role"] in ("user", "tool")][-1]
                content = last["content"]
                text = content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
                reply = outer.replies.get(text.strip(), "I do not know.")
                usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
                base = {"id": "c1", "created": int(time.time()), "model": request.get("model", "canned")}
                if isinstance(reply, dict):  # one tool call
                    function = {"name": reply["tool"], "arguments": json.dumps(reply["arguments"])}
                    call = {"id": f"call{len(outer.requests)}", "type": "function", "function": function}
                    message, finish = {"role": "assistant", "content": None, "tool_calls": [call]}, "tool_calls"
                    delta = {"role": "assistant", "tool_calls": [{"index": 0, **call}]}
                else:
                    message, finish = {"role": "assistant", "content": reply}, "stop"
                    delta = {"role": "assistant", "content": reply}
                if not request.get("stream"):
                    body = json.dumps(
                        {**base, "object": "chat.completion", "usage": usage,
                         "choices": [{"index": 0, "message": message, "finish_reason": finish}]}
                    ).encode()  # fmt: skip
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                chunk = {**base, "object": "chat.completion.chunk"}
                events = [
                    {**chunk, "choices": [{"index": 0, "delta": delta}]},
                    {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]},
                    {**chunk, "choices": [], "usage": usage},
                ]
                payload = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
                body = payload.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_taskset_yields_the_envs_problems_and_refuses_multi_turn_envs():
    config = ThinkgymTasksetConfig(env="Saturn-SAT-v0", env_kwargs={"level": 2}, num_tasks=3, seed=5)
    tasks = list(ThinkgymTaskset(config))
    env = gymnasium.make("Saturn-SAT-v0", level=2)
    for i, task in enumerate(tasks):
        prompt, info = env.reset(seed=5 + i)
        assert task.data.prompt == prompt and json.loads(task.data.problem) == info["problem"]
        assert task.data.idx == i
    answer = info["problem"]["answer"]
    assert score("Saturn-SAT-v0", {"level": 2}, tasks[-1].data.problem, f"\\boxed{{{answer}}}") == 1.0
    with pytest.raises(ValueError, match="multi-turn"):
        list(ThinkgymTaskset(ThinkgymTasksetConfig(env="CodeInterpreter-Math-v0", num_tasks=1)))


# Runs a command with PR_SET_CHILD_SUBREAPER set, so every process the command leaves behind (even
# one that changed its session or lost its parent) becomes this wrapper's child; after the command
# ends (and a grace period), writes the pids and command lines of those still alive to argv[1],
# then kills them.
SUBREAPER = r"""
import ctypes, json, os, signal, subprocess, sys, time
from pathlib import Path
ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
code = subprocess.call(sys.argv[2:])
def reap():
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass
def alive():
    return [int(p) for t in Path("/proc/self/task").iterdir() for p in (t / "children").read_text().split()]
deadline = time.monotonic() + 15
while (left := (reap(), alive())[1]) and time.monotonic() < deadline:
    time.sleep(0.2)
found = []
for pid in left:
    try:
        found.append([pid, Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:200]])
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
reap()
Path(sys.argv[1]).write_text(json.dumps(found))
sys.exit(code)
"""


def _vf_eval(tmp_path, module, taskset, server, args):
    """Runs ``vf-eval`` (null harness, subprocess runtime, ``-r 1``) on ``module.taskset`` against
    ``server`` and returns the episodes of its traces.jsonl; fails when the run left a process."""
    if shutil.which("uv") is None:
        pytest.skip("vf-eval's subprocess runtime needs uv on PATH (pip install uv)")
    (tmp_path / "thinkgym_tasks.py").write_text(f'from {module} import {taskset}\n\n__all__ = ["{taskset}"]\n')
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "OPENAI_API_KEY": "canned"}
    command = [
        sys.executable, "-c", SUBREAPER, str(tmp_path / "left.json"),
        str(Path(sys.executable).with_name("vf-eval")), "thinkgym_tasks", "-m", "canned",
        "--client.base-url", server.url, "--client.api-key-var", "OPENAI_API_KEY",
        "--env.agent.harness.id", "null", "--env.agent.runtime.type", "subprocess",
        "-r", "1", "--no-push", "--no-rich", "-o", str(tmp_path / "out"), *args,
    ]  # fmt: skip
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    left = json.loads((tmp_path / "left.json").read_text())
    assert not left, f"processes left behind by vf-eval: {left}"
    episodes = [json.loads(line) for path in (tmp_path / "out").rglob("traces.jsonl") for line in path.open()]
    for episode in episodes:
        assert episode["ok"] and not episode["errors"], episode["errors"]
    return episodes


@pytest.mark.slow  # vf-eval bootstraps its harness program with uv (first run downloads its deps from PyPI)
@pytest.mark.skipif(CLASSIC, reason="verifiers 0.3.x: vf-eval is the classic CLI there (see the classic test)")
def test_vf_eval_scores_rollouts_with_the_env_reward(tmp_path):
    config = ThinkgymTasksetConfig(env="Math-RLVR-v0", env_kwargs={"level": 1}, num_tasks=3, seed=0)
    tasks = list(ThinkgymTaskset(config))
    answers = [json.loads(t.data.problem)["answer"] for t in tasks]
    replies = {
        tasks[0].data.prompt.strip(): f"The answer is \\boxed{{{answers[0]}}}.",
        tasks[1].data.prompt.strip(): "\\boxed{-424242}",
        tasks[2].data.prompt.strip(): "no box at all",
    }
    server = CannedChat(replies)
    try:
        traces = _vf_eval(tmp_path, "thinkgym.integrations.verifiers", "ThinkgymTaskset", server, [
            "--env.taskset.env", "Math-RLVR-v0", "--env.taskset.env-kwargs", '{"level": 1}',
            "--env.taskset.num-tasks", "3", "-n", "3",
        ])  # fmt: skip
    finally:
        server.close()
    assert len(traces) == 3
    got = {}
    for episode in traces:
        (trace,) = episode["traces"]
        got[trace["task"]["data"]["idx"]] = trace["rewards"]["thinkgym_reward"]["score"]
    sent = list(replies.values())
    expected = {i: score("Math-RLVR-v0", {"level": 1}, t.data.problem, sent[i]) for i, t in enumerate(tasks)}
    assert got == expected and expected[0] == 1.0 and expected[1] != 1.0
    assert len(server.requests) >= 3, "every rollout asked the local server"
    record("verifiers", "reward", "`@vf.reward` calling the env, scored by `vf-eval`")
    record("verifiers", "single_turn", "v1 taskset via `vf-eval` (null harness, subprocess runtime)")


def _live_episode(env_id, env_kwargs, problem, segments):
    """The thinkgym env's own episode: (its replies, the recorded cells, its final reward)."""
    env = gymnasium.make(env_id, **env_kwargs)
    try:
        env.reset(options={"problem": problem})
        replies, cells = [], []
        for segment in segments:
            text, reward, terminated, truncated, info = env.step(segment)
            replies.append(text)
            cells += [info["cell"]] if "cell" in info else []
            if terminated or truncated:
                return replies, cells, reward
        raise AssertionError("the episode did not end")
    finally:
        env.close()


@pytest.mark.parametrize(
    ("env_kwargs", "codes", "final"),
    [
        ({"level": 1}, ["x = 6 * 7\nprint(x)", "print(x + 1)"], "right"),  # variables persist
        ({"level": 1}, ["1 / 0"], "right"),  # every cell failed: CoRT's -0.1
        ({"level": 1}, [], "wrong"),  # no cell at all
        ({"level": 1, "max_tool_calls": 1}, ["print(1)"], "right"),  # the budget spent
        ({"level": 1}, ["   "], "wrong"),  # an empty block: the env continues without output
    ],
)
def test_code_replay_reward_equals_the_live_env_episode(env_kwargs, codes, final):
    from thinkgym.integrations.verifiers_code import code_segment, replay_reward

    env_id = "CodeInterpreter-Math-v0"
    _, info = gymnasium.make(env_id, **env_kwargs).reset(seed=3)
    problem = info["problem"]
    answer = problem["answer"] if final == "right" else "12345"
    segments = [code_segment(code) for code in codes]
    replies, cells, expected = _live_episode(env_id, env_kwargs, problem, [*segments, f"So \\boxed{{{answer}}}"])
    assert len(cells) == sum(bool(code.strip()) for code in codes)
    assert replay_reward(env_id, env_kwargs, problem, segments, cells, f"So \\boxed{{{answer}}}") == expected
    if cells:  # the replay takes the recorded cells and runs nothing: other results give another reward
        failed = [{"stdout": "", "stderr": "", "ok": False, "error": "Error: x"}] * len(cells)
        all_failed_reward = replay_reward(env_id, env_kwargs, problem, segments, failed, f"\\boxed{{{answer}}}")
        assert all_failed_reward == float(final == "right") - 0.1
        with pytest.raises(ValueError, match="more cells than the rollout recorded"):
            replay_reward(env_id, env_kwargs, problem, segments, cells[:-1], "\\boxed{1}")
    with pytest.raises(ValueError, match="1 recorded cell"):
        replay_reward(env_id, env_kwargs, problem, segments, [*cells, cells[0] if cells else {}], "\\boxed{1}")


def test_code_taskset_yields_code_interpreter_problems_and_single_turn_refusals():
    from thinkgym.integrations.verifiers_code import ThinkgymCodeTask, ThinkgymCodeTaskset, ThinkgymCodeTasksetConfig

    tasks = list(ThinkgymCodeTaskset(ThinkgymCodeTasksetConfig(env_kwargs={"level": 1}, num_tasks=2, seed=3)))
    env = gymnasium.make("CodeInterpreter-Math-v0", level=1)
    for i, task in enumerate(tasks):
        prompt, info = env.reset(seed=3 + i)
        assert isinstance(task, ThinkgymCodeTask) and task.data.prompt == prompt
        assert json.loads(task.data.problem) == info["problem"]
    (toolset,) = ThinkgymCodeTask.toolsets(tasks[0].config)
    assert toolset.server_name == ""  # the model sees the tool as plain run_python
    with pytest.raises(ValueError, match="not a CodeInterpreter env"):
        list(ThinkgymCodeTaskset(ThinkgymCodeTasksetConfig(env="Math-RLVR-v0", num_tasks=1)))
    with pytest.raises(ValueError, match="ThinkgymCodeTaskset"):
        list(ThinkgymTaskset(ThinkgymTasksetConfig(env="CodeInterpreter-SAT-v0", num_tasks=1)))
    with pytest.raises(ValueError, match="Markovian thinking has no clean verifiers mapping.*fresh context"):
        list(ThinkgymTaskset(ThinkgymTasksetConfig(env="Markovian-Math-v0", num_tasks=1)))


@pytest.mark.slow  # vf-eval starts a tool server per rollout and bootstraps its harness program with uv
@pytest.mark.skipif(CLASSIC, reason="verifiers 0.3.x: vf-eval is the classic CLI there")
def test_vf_eval_code_interpreter_episodes_run_python_in_the_sandbox_with_the_env_reward(tmp_path):
    from thinkgym.integrations.verifiers_code import ThinkgymCodeTaskset, ThinkgymCodeTasksetConfig, code_segment

    env_id, env_kwargs = "CodeInterpreter-Math-v0", {"level": 1}
    tasks = list(ThinkgymCodeTaskset(ThinkgymCodeTasksetConfig(env_kwargs=env_kwargs, num_tasks=2, seed=3)))
    problems = [json.loads(t.data.problem) for t in tasks]
    codes = ["x = 6 * 7\nprint(x)", "print(x + 1)"]  # the second cell needs the first one's variable
    final = f"So the answer is \\boxed{{{problems[0]['answer']}}}."
    outputs, cells, expected = _live_episode(env_id, env_kwargs, problems[0], [*map(code_segment, codes), final])
    assert outputs[:2] == ["```output\n42\n```\n", "```output\n43\n```\n"] and expected == 1.0
    wrong = "\\boxed{12345}"  # task 1: no code, a wrong answer
    _, _, expected_wrong = _live_episode(env_id, env_kwargs, problems[1], [wrong])
    assert expected_wrong == -0.1  # CoRT: wrong, and no cell ran
    server = CannedChat({
        tasks[0].data.prompt.strip(): {"tool": "run_python", "arguments": {"code": codes[0]}},
        outputs[0].strip(): {"tool": "run_python", "arguments": {"code": codes[1]}},
        outputs[1].strip(): final,
        tasks[1].data.prompt.strip(): wrong,
    })  # fmt: skip
    try:
        episodes = _vf_eval(tmp_path, "thinkgym.integrations.verifiers_code", "ThinkgymCodeTaskset", server, [
            "--env.taskset.env", env_id, "--env.taskset.env-kwargs", json.dumps(env_kwargs),
            "--env.taskset.num-tasks", "2", "--env.taskset.seed", "3", "-n", "2",
        ])  # fmt: skip
    finally:
        server.close()
    traces = {e["traces"][0]["task"]["data"]["idx"]: e["traces"][0] for e in episodes}
    assert sorted(traces) == [0, 1]
    assert traces[0]["rewards"]["thinkgym_reward"]["score"] == expected
    assert traces[1]["rewards"]["thinkgym_reward"]["score"] == expected_wrong
    # the model's code ran in the rollout's sandbox: the tool results are the env's outputs
    tool_requests = [r for r in server.requests if r["messages"][-1]["role"] == "tool"]
    assert [r["messages"][-1]["content"] for r in tool_requests] == outputs[:2]
    assert all(r["tools"][0]["function"]["name"] == "run_python" for r in server.requests)
    assert len(server.requests) == 4  # three for task 0, one for task 1
    record("verifiers", "multi_turn", "CodeInterpreter: v1 `Toolset` `run_python` in thinkgym's sandbox, `vf-eval`")


@pytest.mark.skipif(not CLASSIC, reason="the classic API (load_environment) is verifiers 0.3.x only")
def test_classic_load_environment_refuses_markovian_envs_saying_why():
    with pytest.raises(ValueError, match="Markovian-SAT-v0: Markovian thinking has no clean verifiers mapping"):
        load_environment("Markovian-SAT-v0", num_examples=1)


@pytest.mark.skipif(not CLASSIC, reason="the classic API (SingleTurnEnv) is verifiers 0.3.x only")
def test_classic_single_turn_env_evaluates_with_the_env_reward():
    from openai import AsyncOpenAI

    env = load_environment("Saturn-SAT-v0", env_kwargs={"level": 2}, num_examples=3, seed=1)
    rows = list(env.eval_dataset if env.eval_dataset is not None else env.dataset)
    problems = [json.loads(json.loads(r["info"])["problem"]) if isinstance(r["info"], str)
                else json.loads(r["info"]["problem"]) for r in rows]  # fmt: skip
    sent = [f"\\boxed{{{problems[0]['answer']}}}", "\\boxed{" + "2" * len(problems[1]["answer"]) + "}", "none"]
    server = CannedChat({r["question"].strip(): reply for r, reply in zip(rows, sent, strict=True)})

    async def evaluate():
        client = verifiers.OpenAIChatCompletionsClient(AsyncOpenAI(base_url=server.url, api_key="canned"))
        return await env.evaluate(client, "canned", num_examples=3, rollouts_per_example=1, max_concurrent=3)

    try:
        results = asyncio.run(evaluate())
    finally:
        server.close()
    outputs = results["outputs"]
    got = {o["answer"]: o["reward"] for o in outputs}
    expected = {p["answer"]: score("Saturn-SAT-v0", {"level": 2}, p, r) for p, r in zip(problems, sent, strict=True)}
    assert len(outputs) == 3 and got == expected and sorted(expected.values())[-1] == 1.0
    assert len(server.requests) == 3
    record("verifiers 0.3 (classic)", "reward", "`vf.Rubric` reward calling the env, `env.evaluate`")
    record("verifiers 0.3 (classic)", "single_turn", "`load_environment` -> `vf.SingleTurnEnv`, local server")


def _descendants(pid):
    """Every process below ``pid`` (from /proc's children lists)."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = [int(c) for c in (task / "children").read_text().split()]
            except OSError:
                continue
            found += children
            todo += children
    return found


@pytest.mark.skipif(not CLASSIC, reason="the classic API (MultiTurnEnv) is verifiers 0.3.x only")
def test_classic_code_interpreter_episode_runs_in_the_sandbox_with_the_env_reward():
    from openai import AsyncOpenAI

    env_id, env_kwargs = "CodeInterpreter-Math-v0", {"level": 1}
    env = load_environment(env_id, env_kwargs=env_kwargs, num_examples=1, seed=3)
    assert isinstance(env, verifiers.MultiTurnEnv)
    (row,) = list(env.eval_dataset if env.eval_dataset is not None else env.dataset)
    info = json.loads(row["info"]) if isinstance(row["info"], str) else row["info"]
    problem = json.loads(info["problem"])
    code = "Let me compute.\n```python\nx = 6 * 7\nprint(x)\n```\n"
    final = f"So the answer is \\boxed{{{problem['answer']}}}."
    (tool_output, _), _, expected = _live_episode(env_id, env_kwargs, problem, [code, final])
    assert tool_output == "```output\n42\n```\n" and expected == 1.0
    server = CannedChat({row["question"].strip(): code, tool_output.strip(): final})
    own_before = set(_descendants(os.getpid()))
    assert own_before, "the local episode's cell started the sandbox zygote"

    async def evaluate(env, server):
        client = verifiers.OpenAIChatCompletionsClient(AsyncOpenAI(base_url=server.url, api_key="canned"))
        return await env.evaluate(client, "canned", num_examples=1, rollouts_per_example=1, max_concurrent=1)

    def leftovers():
        deadline = time.monotonic() + 10
        while (left := set(_descendants(os.getpid())) - own_before) and time.monotonic() < deadline:
            time.sleep(0.1)
        return sorted(left)

    try:
        results = asyncio.run(evaluate(env, server))
    finally:
        server.close()
    (output,) = results["outputs"]
    assert output["reward"] == expected, output
    # two model turns: the code cell (run in the sandbox, its output sent back) and the answer
    assert len(server.requests) == 2 and server.requests[0]["stop"] == ["```\n"]  # the env's stop strings
    assert server.requests[1]["messages"][-1] == {"role": "user", "content": tool_output}
    assert not env._episodes, "the rollout's env was not released"
    # the local episode already started the sandbox zygote: the rollout's sandbox left nothing behind
    assert not (left := leftovers()), f"processes left by the rollout: {left}"
    # a rollout cut off by verifiers (max_turns) while its sandbox is live: its cleanup closes it
    cut = load_environment(env_id, env_kwargs=env_kwargs, num_examples=1, seed=3, max_turns=2)
    server = CannedChat({row["question"].strip(): code, tool_output.strip(): "Again.\n```python\nprint(x)\n```\n"})
    try:
        (output,) = asyncio.run(evaluate(cut, server))["outputs"]
    finally:
        server.close()
    assert output["reward"] == 0.0 and len(server.requests) == 2 and not cut._episodes
    assert not (left := leftovers()), f"processes left by the cut-off rollout: {left}"
    record(
        "verifiers 0.3 (classic)",
        "multi_turn",
        "`load_environment` -> `vf.MultiTurnEnv`, CodeInterpreter in the sandbox",
    )
