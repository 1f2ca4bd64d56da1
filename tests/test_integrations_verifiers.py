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
    """An OpenAI-compatible /v1/chat/completions (plain and streamed) that answers each prompt
    with ``replies[prompt]``; records the requests."""

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
                users = [m for m in request["messages"] if m["role"] == "user"]
                content = users[-1]["content"]
                text = content if isinstance(content, str) else "".join(p.get("text", "") for p in content)
                reply = outer.replies.get(text.strip(), "I do not know.")
                usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
                base = {"id": "c1", "created": int(time.time()), "model": request.get("model", "canned")}
                if not request.get("stream"):
                    message = {"role": "assistant", "content": reply}
                    body = json.dumps(
                        {**base, "object": "chat.completion", "usage": usage,
                         "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]}
                    ).encode()  # fmt: skip
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                chunk = {**base, "object": "chat.completion.chunk"}
                events = [
                    {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": reply}}]},
                    {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
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


@pytest.mark.slow  # vf-eval bootstraps its harness program with uv (first run downloads its deps from PyPI)
@pytest.mark.skipif(CLASSIC, reason="verifiers 0.3.x: vf-eval is the classic CLI there (see the classic test)")
def test_vf_eval_scores_rollouts_with_the_env_reward(tmp_path):
    if shutil.which("uv") is None:
        pytest.skip("vf-eval's subprocess runtime needs uv on PATH (pip install uv)")
    vf_eval = Path(sys.executable).with_name("vf-eval")
    config = ThinkgymTasksetConfig(env="Math-RLVR-v0", env_kwargs={"level": 1}, num_tasks=3, seed=0)
    tasks = list(ThinkgymTaskset(config))
    answers = [json.loads(t.data.problem)["answer"] for t in tasks]
    replies = {
        tasks[0].data.prompt.strip(): f"The answer is \\boxed{{{answers[0]}}}.",
        tasks[1].data.prompt.strip(): "\\boxed{-424242}",
        tasks[2].data.prompt.strip(): "no box at all",
    }
    (tmp_path / "thinkgym_tasks.py").write_text(
        'from thinkgym.integrations.verifiers import ThinkgymTaskset\n\n__all__ = ["ThinkgymTaskset"]\n'
    )
    server = CannedChat(replies)
    try:
        env = {**os.environ, "PYTHONPATH": str(tmp_path), "OPENAI_API_KEY": "canned"}
        command = [
            str(vf_eval), "thinkgym_tasks", "-m", "canned", "--client.base-url", server.url,
            "--client.api-key-var", "OPENAI_API_KEY", "--env.taskset.env", "Math-RLVR-v0",
            "--env.taskset.env-kwargs", '{"level": 1}', "--env.taskset.num-tasks", "3",
            "--env.agent.harness.id", "null", "--env.agent.runtime.type", "subprocess",
            "-n", "3", "-r", "1", "--no-push", "--no-rich", "-o", str(tmp_path / "out"),
        ]  # fmt: skip
        run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=400)
    finally:
        server.close()
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    traces = [json.loads(line) for path in (tmp_path / "out").rglob("traces.jsonl") for line in path.open()]
    assert len(traces) == 3, run.stdout[-2000:]
    got = {}
    for episode in traces:
        assert episode["ok"] and not episode["errors"], episode["errors"]
        (trace,) = episode["traces"]
        got[trace["task"]["data"]["idx"]] = trace["rewards"]["thinkgym_reward"]["score"]
    sent = list(replies.values())
    expected = {i: score("Math-RLVR-v0", {"level": 1}, t.data.problem, sent[i]) for i, t in enumerate(tasks)}
    assert got == expected and expected[0] == 1.0 and expected[1] != 1.0
    assert len(server.requests) >= 3, "every rollout asked the local server"
    record("verifiers", "reward", "`@vf.reward` calling the env, scored by `vf-eval`")
    record("verifiers", "single_turn", "v1 taskset via `vf-eval` (null harness, subprocess runtime)")


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


def _local_episode(env_id, env_kwargs, problem, responses):
    """The thinkgym env's own episode for ``responses``: (env replies, final reward)."""
    env = gymnasium.make(env_id, **env_kwargs)
    try:
        env.reset(options={"problem": problem})
        replies = []
        for response in responses:
            text, reward, terminated, truncated, _ = env.step(response)
            replies.append(text)
            if terminated or truncated:
                return replies, reward
        raise AssertionError("the episode did not end")
    finally:
        env.close()


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
    (tool_output, _), expected = _local_episode(env_id, env_kwargs, problem, [code, final])
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
