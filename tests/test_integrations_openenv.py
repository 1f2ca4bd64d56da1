"""thinkgym envs served over OpenEnv: OpenEnv's own server (``create_fastapi_app``) and its own
WebSocket clients over loopback, with rewards equal to the local env's for the same responses;
one env and sandbox per session, freed when a client vanishes; 64 concurrent clients."""

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import gymnasium
import pytest

import thinkgym  # noqa: F401
from thinkgym.integrations.record import record

pytest.importorskip("openenv", reason="OpenEnv is not installed: pip install 'thinkgym[openenv]'")
uvicorn = pytest.importorskip("uvicorn")
websockets_sync = pytest.importorskip("websockets.sync.client")
import websockets.exceptions  # noqa: E402
from openenv.core.generic_client import GenericEnvClient  # noqa: E402

from thinkgym.integrations.openenv import TextAction, ThinkgymClient, descendants, live_sessions, make_app  # noqa: E402


@contextmanager
def served(env_id, env_kwargs=None, **options):
    """OpenEnv's app for ``env_id`` under uvicorn on a free loopback port, in a thread."""
    server = uvicorn.Server(uvicorn.Config(make_app(env_id, env_kwargs, **options), port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def stats(url):
    with urllib.request.urlopen(f"{url}/thinkgym/stats", timeout=10) as response:
        return json.loads(response.read())


def wait_for(predicate, seconds=30.0):
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def local_episode(env_id, env_kwargs, seed, responses):
    env = gymnasium.make(env_id, **(env_kwargs or {}))
    prompt, info = env.reset(seed=seed)
    rewards = []
    for response in responses:
        _, reward, terminated, truncated, _ = env.step(response)
        rewards.append(float(reward))
        if terminated or truncated:
            break
    env.close()
    return prompt, info["problem"], rewards


def test_single_turn_episodes_match_the_local_env():
    kwargs = {"level": 2}
    with served("Math-RLVR-v0", kwargs) as url:
        with ThinkgymClient(base_url=url).sync() as client:
            for seed in (0, 1, 7):
                first = client.reset(seed=seed)
                answer = first.observation.info["problem"]["answer"]
                for response in (f"\\boxed{{{answer}}}", "\\boxed{-98765}", "no box"):
                    prompt, problem, rewards = local_episode("Math-RLVR-v0", kwargs, seed, [response])
                    first = client.reset(seed=seed)
                    assert first.observation.text == prompt and first.observation.info["problem"] == problem
                    assert first.reward is None and not first.done
                    result = client.step(TextAction(text=response))
                    assert result.done and [result.reward] == rewards
                    assert result.observation.info["verdict"]["correct"] == response.startswith("\\boxed{" + answer)
            state = client.state()
            assert state.env_id == "Math-RLVR-v0" and state.seed == 7 and state.problem_id == problem["id"]
            assert state.step_count == 1
        # any OpenEnv client: the generic one, with a plain dict action, and a replayed problem
        with GenericEnvClient(base_url=url).sync() as generic:
            first = generic.reset(options={"problem": problem})
            assert first.observation["text"] == prompt
            result = generic.step({"text": f"\\boxed{{{problem['answer']}}}"})
            assert result.reward == 1.0 and result.done
    record("OpenEnv", "reward", "reward over the wire = local env's (typed and generic clients)")
    record("OpenEnv", "single_turn", "Math-RLVR-v0 over `/ws`, seed and `options.problem` replay")


def test_code_interpreter_and_markovian_episodes_keep_their_session_state():
    problem = gymnasium.make("Math-RLVR-v0", level=1).reset(seed=3)[1]["problem"]
    segments = ["```python\nx = 6 * 7\nprint(x)\n```\n", "```python\nprint(x + 1)\n```\n"]
    segments.append(f"\\boxed{{{problem['answer']}}}")
    with served("CodeInterpreter-Math-v0", {"level": 1}) as url:
        with ThinkgymClient(base_url=url).sync() as client:
            first = client.reset(seed=3)
            assert first.observation.info["stop"] == ["```\n"]
            results = [client.step(TextAction(text=s)) for s in segments]
        assert [r.observation.text for r in results[:2]] == ["```output\n42\n```\n", "```output\n43\n```\n"]
        rewards = [r.reward for r in results]
        assert rewards == local_episode("CodeInterpreter-Math-v0", {"level": 1}, 3, segments)[2]
        assert rewards[-1] == 1.0 and [r.done for r in results] == [False, False, True]
        assert wait_for(lambda: stats(url)["live_envs"] == 0), "the closed session closed its env"
    record("OpenEnv", "multi_turn", "CodeInterpreter-Math-v0: sandbox per session, variables persist")

    kwargs = {"preset": "tiny", "level": 1}
    chunks = ["thinking " * 7, "more " * 6, f"\\boxed{{{problem['answer']}}}"]
    with served("Markovian-Math-v0", kwargs) as url, ThinkgymClient(base_url=url).sync() as client:
        first = client.reset(seed=3)
        results = [client.step(TextAction(text=c)) for c in chunks]
        local = local_episode("Markovian-Math-v0", kwargs, 3, chunks)
        assert first.observation.text == local[0]
        assert [r.reward for r in results] == local[2] and results[-1].done
        assert results[0].observation.info["carryover_ids"], "Markovian info crosses the wire"
    record("OpenEnv", "multi_turn", "Markovian-Math-v0 chunks with carryover")


def test_a_vanished_client_frees_its_env_and_sandbox():
    with served("CodeInterpreter-Math-v0", {"level": 1}, max_sessions=2) as url:
        ws_url = url.replace("http", "ws") + "/ws"
        with ThinkgymClient(base_url=url).sync() as warm:  # starts the sandbox zygote
            warm.reset(seed=0)
            warm.step(TextAction(text="```python\nprint(1)\n```\n"))
        assert wait_for(lambda: stats(url)["live_envs"] == 0)
        baseline = stats(url)["processes"]
        gone = contextlib.suppress(OSError, websockets.exceptions.ConnectionClosed)  # closing a closed socket
        with gone, websockets_sync.connect(ws_url) as ws:
            ws.send(json.dumps({"type": "reset", "data": {"seed": 1}}))
            assert json.loads(ws.recv())["type"] == "observation"
            ws.send(json.dumps({"type": "step", "data": {"text": "```python\ny = 2\nprint(y)\n```\n"}}))
            assert json.loads(ws.recv())["data"]["observation"]["text"] == "```output\n2\n```\n"
            during = stats(url)
            assert during["live_envs"] == 1 and during["processes"] > baseline, "the session holds a sandbox"
            ws.socket.shutdown(socket.SHUT_RDWR)  # the client vanishes: no close frame
            ws.socket.close()
        assert wait_for(lambda: stats(url) == {"live_envs": 0, "processes": baseline}), stats(url)
        # capacity is back: two sessions at once are accepted again
        with ThinkgymClient(base_url=url).sync() as a, ThinkgymClient(base_url=url).sync() as b:
            assert a.reset(seed=1).observation.text and b.reset(seed=2).observation.text


async def _client_episodes(url, client_index, episodes, tool_every, results):
    async with ThinkgymClient(base_url=url, message_timeout_s=120) as client:
        for i in range(episodes):
            first = await client.reset(seed=client_index * 1000 + i)
            answer = first.observation.info["problem"]["answer"]
            if i % tool_every == 0:
                step = await client.step(TextAction(text=f"```python\nprint({i} + 1)\n```\n"))
                assert step.observation.text == f"```output\n{i + 1}\n```\n" and not step.done
            final = await client.step(TextAction(text=f"\\boxed{{{answer}}}"))
            results.append((i % tool_every == 0, final.reward, final.done))


@pytest.mark.slow  # 1,000 episodes, 128 of them with a sandboxed cell: ~20-30 s on 2 shared cores
def test_64_concurrent_clients_run_1000_episodes_without_error_or_leak():
    clients, total, tool_every = 64, 1000, 8
    per_client = [total // clients + (c < total % clients) for c in range(clients)]
    own_before = len(descendants(os.getpid()))
    with served("CodeInterpreter-Math-v0", {"level": 1}, max_sessions=clients) as url:
        results = []

        async def run_all():
            jobs = [_client_episodes(url, c, n, tool_every, results) for c, n in enumerate(per_client)]
            await asyncio.wait_for(asyncio.gather(*jobs), timeout=400)

        start = time.perf_counter()
        asyncio.run(run_all())
        elapsed = time.perf_counter() - start
        assert len(results) == total and all(done for _, _, done in results)
        # CoRT's reward: 1 for a correct answer, minus 0.1 when no cell ran successfully (none ran)
        assert {reward for tool, reward, _ in results if tool} == {1.0}
        assert sorted({reward for tool, reward, _ in results if not tool}) == [pytest.approx(0.9)]
        assert wait_for(lambda: stats(url)["live_envs"] == 0), stats(url)
        assert live_sessions() == 0
    # the sandboxes are gone; only the zygote (started by the first cell) may stay
    assert wait_for(lambda: len(descendants(os.getpid())) <= own_before + 1)
    print(f"\n{total} episodes, {clients} clients: {total / elapsed:.1f} episodes/s")
    record("OpenEnv", "served", "64 concurrent `EnvClient`s, 1,000 CodeInterpreter episodes, no leak")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_thinkgym_serve_command():
    port = free_port()
    command = [sys.executable, "-m", "thinkgym.cli", "serve", "--env", "Saturn-SAT-v0", "--port", str(port)]
    server = subprocess.Popen([*command, "--env-kwargs", '{"level": 2}'], stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"

        def healthy():
            assert server.poll() is None, server.stderr.read()
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2):
                    return True
            except OSError:
                return False

        assert wait_for(healthy, 180)
        with ThinkgymClient(base_url=url).sync() as client:
            first = client.reset(seed=4)
            prompt, problem, rewards = local_episode("Saturn-SAT-v0", {"level": 2}, 4, [""])
            assert first.observation.text == prompt
            assert client.step(TextAction(text=f"\\boxed{{{problem['answer']}}}")).reward == 1.0
        record("OpenEnv", "served", "`thinkgym serve --env Saturn-SAT-v0` as a command, typed client episode")
    finally:
        server.terminate()
        server.wait(30)
    with pytest.raises(ValueError, match="level"):
        make_app("Saturn-SAT-v0", {"level": 99})


def test_plain_http_endpoints_are_stateless_so_episodes_need_the_websocket():
    with served("Math-RLVR-v0") as url:

        def post(path, body):
            request = urllib.request.Request(
                url + path, json.dumps(body).encode(), {"Content-Type": "application/json"}, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read())
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read().decode()

        status, first = post("/reset", {"seed": 3})
        assert status == 200 and first["observation"]["text"] == gymnasium.make("Math-RLVR-v0").reset(seed=3)[0]
        status, _ = post("/step", {"action": {"text": "\\boxed{1}"}})
        assert status >= 400, "the step ran on a fresh env that was never reset"
