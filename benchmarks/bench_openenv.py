"""Episodes per second of a thinkgym env served over OpenEnv (``thinkgym serve``'s app, OpenEnv's
own WebSocket clients over loopback) next to the same episodes run in-process, in one run.

Run: ``python benchmarks/bench_openenv.py [--episodes 1000] [--clients 64] [--rounds 2]``
(needs ``pip install 'thinkgym[openenv]'``). Two workloads: ``Math-RLVR-v0`` (one step per
episode) and ``CodeInterpreter-Math-v0`` where every 8th episode runs one Python cell in the
sandbox before its answer (the rest answer directly). Each side does the same episodes (same
seeds, same responses); the sides alternate ``--rounds`` times and the medians are reported. The
served side is one uvicorn server in this process and ``--clients`` concurrent async clients;
the local side is one thread stepping ``gymnasium.make(ENV)`` in a loop. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import threading
import time

import gymnasium

import thinkgym  # noqa: F401
from thinkgym.integrations.openenv import TextAction, ThinkgymClient, make_app

TOOL_EVERY = 8


def responses(i: int, answer: str, tool: bool) -> list[str]:
    cell = [f"```python\nprint({i} + 1)\n```\n"] if tool and i % TOOL_EVERY == 0 else []
    return [*cell, f"\\boxed{{{answer}}}"]


def run_local(env_id: str, kwargs: dict, seeds: list[int], tool: bool) -> float:
    env = gymnasium.make(env_id, **kwargs)
    start = time.perf_counter()
    for i, seed in enumerate(seeds):
        _, info = env.reset(seed=seed)
        for text in responses(i, info["problem"]["answer"], tool):
            env.step(text)
    elapsed = time.perf_counter() - start
    env.close()
    return len(seeds) / elapsed


async def _client(url: str, seeds: list[tuple[int, int]], tool: bool) -> None:
    async with ThinkgymClient(base_url=url, message_timeout_s=300) as client:
        for i, seed in seeds:
            first = await client.reset(seed=seed)
            for text in responses(i, first.observation.info["problem"]["answer"], tool):
                result = await client.step(TextAction(text=text))
            assert result.done and result.reward is not None


def run_served(url: str, seeds: list[int], clients: int, tool: bool) -> float:
    shares = [[(i, s) for i, s in enumerate(seeds) if i % clients == c] for c in range(clients)]

    async def main() -> None:
        await asyncio.gather(*(_client(url, share, tool) for share in shares if share))

    start = time.perf_counter()
    asyncio.run(main())
    return len(seeds) / (time.perf_counter() - start)


def serve_in_thread(env_id: str, kwargs: dict, clients: int):
    import uvicorn

    server = uvicorn.Server(uvicorn.Config(make_app(env_id, kwargs, max_sessions=clients), port=0, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    return server, thread, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    seeds = list(range(args.episodes))
    print(f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"| env | local episodes/s | served episodes/s ({args.clients} clients) | served / local |")
    print("|---|---|---|---|")
    for env_id, tool in (("Math-RLVR-v0", False), ("CodeInterpreter-Math-v0", True)):
        kwargs = {"level": 1}
        server, thread, url = serve_in_thread(env_id, kwargs, args.clients)
        local, served = [], []
        for _ in range(args.rounds):
            local.append(run_local(env_id, kwargs, seeds, tool))
            served.append(run_served(url, seeds, args.clients, tool))
        server.should_exit = True
        thread.join(30)
        lo, se = statistics.median(local), statistics.median(served)
        print(f"| {env_id} | {lo:,.1f} | {se:,.1f} | {se / lo:.2f}x |")


if __name__ == "__main__":
    main()
