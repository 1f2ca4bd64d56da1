"""The ``thinkgym`` command: ``demo``, ``sweep``, ``export`` and ``list``.

A user mistake never ends in a traceback: :func:`main` turns a :class:`UsageError` (and the
``ValueError`` of a bad parameter, an unknown env id, a path that is in the way, a missing
optional dependency, an endpoint that does not answer) into one line naming the bad value and the
fix, and exit status 2. Argument errors print one line too, not the whole usage block.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["UsageError", "check_env_id", "main", "parse_levels"]


class UsageError(Exception):
    """A mistake on the command line: :func:`main` prints it as one line and exits with 2."""


class _Parser(argparse.ArgumentParser):
    """An argument error is one line (the bad argument and where to look), not the usage block."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


# the extra that brings each optional top-level module
EXTRAS = {"torch": "train", "transformers": "train", "tokenizers": "train", "datasets": "train", "yaml": "train"}
EXTRAS.update({"ray": "ray", "trl": "dev", "vllm": None})
EXTRAS.update({"openenv": "openenv", "uvicorn": "openenv", "fastapi": "openenv"})


def check_env_id(env_id: str) -> None:
    """A :class:`UsageError` naming the closest thinkgym ids unless ``env_id`` is registered."""
    import gymnasium

    import thinkgym  # noqa: F401  (registers the envs)
    from thinkgym.envs.registration import ENVS

    if env_id in gymnasium.registry or env_id.removeprefix("thinkgym:") in ENVS:
        return
    close = difflib.get_close_matches(env_id, list(ENVS), n=3, cutoff=0.5)
    if not close:  # a family word ("sat", "math") finds its envs
        close = [e for e in ENVS if env_id.lower() in e.lower()][:3]
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    raise UsageError(f"unknown env {env_id!r}; {hint}`thinkgym list` shows every env")


def _missing_extra(exc: ModuleNotFoundError, command: str) -> str | None:
    """The one-line fix for an optional dependency that is not installed, or None for others."""
    top = (exc.name or "").split(".")[0]
    if top not in EXTRAS:
        return None
    extra = EXTRAS[top]
    fix = f"pip install 'thinkgym[{extra}]'" if extra else f"pip install {top}"
    if top == "torch":
        fix = f"pip install torch==2.13.0 && {fix}  (the CPU build first, or pick yours at pytorch.org)"
    return f"{command} needs {top}, which is not installed; install the extra: {fix}"


def parse_levels(text: str) -> list[int]:
    """``"1,4,8"``, ``"1-10"`` or a mix (``"1-3,8"``) -> a list of level numbers."""
    levels: list[int] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if lo > hi:
                    raise ValueError
                levels.extend(range(lo, hi + 1))
            elif part:
                levels.append(int(part))
    except ValueError:
        raise argparse.ArgumentTypeError(f"levels must look like 1,4,8 or 1-10, got {text!r}") from None
    if not levels:
        raise argparse.ArgumentTypeError("no level given")
    return levels


def _json_dict(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise argparse.ArgumentTypeError(f"not JSON: {exc.msg}") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError('must be a JSON object, e.g. \'{"n": 3, "k": 5, "l": 5}\'')
    return value


def _discriminator(spec: str) -> Any:
    from thinkgym.agents.sql_rerank import HFDiscriminator, OracleDiscriminator

    if spec == "oracle":
        return OracleDiscriminator()
    if spec.startswith("hf:"):
        from thinkgym.agents.models import load_model

        return HFDiscriminator(*load_model(spec[3:]))
    raise ValueError(f"--rerank must be oracle or hf:PATH, got {spec!r}")


def cmd_rerank(args: argparse.Namespace, policy: Any) -> int:
    """Generator-discriminator reranking (text-to-SQL): n samples per problem, the discriminator's
    top pick's execution accuracy against the first sample's, the mean and best-of-n."""
    from thinkgym.agents.policies import make_policy
    from thinkgym.agents.sql_rerank import rerank_eval
    from thinkgym.experiments.sweep import markdown_table, write_results

    rows = []
    for env_id in args.env:
        for row in rerank_eval(
            env_id,
            args.levels,
            make_policy(policy, seed=args.seed),
            _discriminator(args.rerank),
            n=args.samples or 8,
            episodes=args.episodes,
            seed=args.seed,
        ):
            rows.append({"env": env_id, **row})
    paths = write_results(rows, args.out)
    print(markdown_table(rows))
    print(f"\nwrote {paths['csv']}, {paths['json']}, {paths['md']}")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    from thinkgym.agents.policies import make_policy
    from thinkgym.experiments.plots import plot_sweep
    from thinkgym.experiments.sweep import markdown_table, sweep, write_results

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; sweep writes a folder there: give a new or existing folder")
    options = {k: v for k, v in (("max_tokens", args.max_tokens), ("temperature", args.temperature)) if v is not None}
    if args.policy.startswith("openai:"):
        options["concurrency"] = args.concurrency
    policy = make_policy(args.policy, seed=args.seed, **options) if options else args.policy
    if args.rerank:
        return cmd_rerank(args, policy)
    rows, plots = [], []
    for env_id in args.env:
        env_rows = sweep(
            env_id,
            args.levels,
            policy,
            k=args.k,
            samples=args.samples,
            episodes=args.episodes,
            seed=args.seed,
            env_kwargs=args.env_kwargs,
            progress=not args.quiet,
            journal=out / "samples.jsonl",
            by_family=True,
        )
        name = "pass_at_k.png" if len(args.env) == 1 else f"pass_at_k_{env_id}.png"
        plots.append(plot_sweep({args.policy: env_rows}, out / name, title=f"{env_id}, policy {args.policy}"))
        rows.extend(env_rows)
    paths = write_results(rows, out)
    print(markdown_table(rows))
    print(f"\nwrote {paths['csv']}, {paths['json']}, {paths['md']}, {', '.join(map(str, plots))}")
    print(f"every scored sample is in {out / 'samples.jsonl'}; run the same command again to resume")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from thinkgym.experiments.export import export_problems, find_leaks, saturn_benchmark, write_rows

    suffix = {"jsonl": ".jsonl", "hf": "", "verl": ".parquet"}[args.format]
    out = Path(args.out)
    if args.count < 1:
        raise UsageError(f"--count must be >= 1 problem per level, got {args.count}")
    if args.test_count < 0:
        raise UsageError(f"--test-count must be >= 0 problems per level (0: no test split), got {args.test_count}")
    if args.preset is None and args.env is None:
        raise UsageError("give --env (e.g. --env Saturn-SAT-v0; `thinkgym list` shows every env), or --preset")
    folder = args.preset is not None or args.test_count > 0 or args.format == "hf"
    if folder and out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} is a file; this export writes a folder there: give a new or existing folder")
    if not folder and out.is_dir():
        raise UsageError(f"--out {out} is a folder; --format {args.format} writes one file: give a file path")
    if args.preset == "saturn-2.6k":
        splits = saturn_benchmark(seed=args.seed)
    elif args.levels is None:
        print("thinkgym export: give --levels (or --preset saturn-2.6k)", file=sys.stderr)
        return 2
    elif args.test_count:
        counts = {lv: args.count for lv in args.levels}
        train = export_problems(args.env, counts, seed=args.seed, env_kwargs=args.env_kwargs)
        test = export_problems(
            args.env,
            {lv: args.test_count for lv in args.levels},
            seed=args.seed + 10_000_000,
            split="test",
            exclude_ids=(r["id"] for r in train),
            env_kwargs=args.env_kwargs,
        )
        splits = {"train": train, "test": test}
    else:
        rows = export_problems(
            args.env, {lv: args.count for lv in args.levels}, seed=args.seed, env_kwargs=args.env_kwargs
        )
        n = write_rows(rows, out, args.format)
        print(f"wrote {n} problems to {out}")
        return 0
    leaks = find_leaks(splits)
    if leaks:  # the exporters exclude earlier splits' ids, so this is a bug if it ever fires
        print(f"thinkgym export: leakage between splits: {leaks}", file=sys.stderr)
        return 1
    for name, rows in splits.items():
        path = out / f"{name}{suffix}"
        print(f"wrote {write_rows(rows, path, args.format)} problems to {path}")
    print(f"leakage check: no problem id is in more than one of {', '.join(splits)}")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    import gymnasium

    from thinkgym.envs.registration import ENVS

    for env_id, (_, description) in ENVS.items():
        env = gymnasium.make(env_id).unwrapped
        lo, hi = (min(env.levels), max(env.levels)) if env.levels else (None, None)
        levels = "no levels" if lo is None else f"level {lo}" if lo == hi else f"levels {lo}-{hi}"
        print(f"{env_id:<24} {levels:<14} {description}")
        env.close()
    return 0


def _read_answer() -> str | None:
    """Lines from stdin up to one holding only '.'; None at end of input with nothing typed."""
    lines = []
    for line in sys.stdin:
        if line.rstrip("\n") == ".":
            return "".join(lines)
        lines.append(line)
    return "".join(lines) if lines else None


def cmd_play(args: argparse.Namespace) -> int:
    """Answer problems yourself: the prompt is shown, you type a response (end it with a line
    holding only a dot, or end-of-input), the verdict and reward come back."""
    import gymnasium

    env = gymnasium.make(args.env, **(args.env_kwargs or {}))
    seed = args.seed
    print(f"thinkgym play {args.env}: end each answer with a line holding only '.', Ctrl-D to quit")
    while True:
        options = {"level": args.level} if args.level is not None else None
        obs, info = env.reset(seed=seed, options=options)
        print(f"\n--- problem {info['problem']['id']} (level {info['level']}, seed {seed}) ---\n{obs}")
        terminated = truncated = False
        while not (terminated or truncated):  # one turn for single-turn envs, more for tool envs
            answer = _read_answer()
            if answer is None:
                print("\nbye")
                return 0
            obs, reward, terminated, truncated, info = env.step(answer)
            if obs and not terminated:
                print(obs)
        verdict = info["verdict"]
        print(f"verdict: {verdict['reason']} (correct={verdict['correct']}), reward {reward}")
        if not verdict["correct"]:
            print(f"a reference answer: {info['problem']['answer']}")
        seed += 1


def cmd_serve(args: argparse.Namespace) -> int:
    from thinkgym.integrations.openenv import serve

    serve(args.env, args.env_kwargs, host=args.host, port=args.port, max_sessions=args.max_sessions)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """The guided tour: sweep, verifiers, a tool-use episode, a short training run; see
    :mod:`thinkgym.experiments.demo`."""
    from thinkgym.experiments.demo import run_demo

    for flag, value, least in (("--episodes", args.episodes, 1), ("--samples", args.samples, 1)):
        if value < least:
            raise UsageError(f"{flag} must be >= {least}, got {value}")
    if args.train_steps < 0:
        raise UsageError(f"--train-steps must be >= 0 (0 skips training), got {args.train_steps}")
    if Path(args.out).exists() and not Path(args.out).is_dir():
        raise UsageError(f"--out {args.out} is a file; the demo writes a folder there: give a new or existing folder")
    run_demo(args.out, episodes=args.episodes, samples=args.samples, train_steps=args.train_steps, seed=args.seed)
    return 0


def build_parser() -> argparse.ArgumentParser:
    from thinkgym import __version__

    parser = _Parser(
        prog="thinkgym", description="Gymnasium environments for RL with verifiable rewards"
    )
    parser.add_argument("--version", action="version", version=f"thinkgym {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="a few CPU minutes: a difficulty sweep, verifiers, tool use, a GRPO run")
    p.add_argument("--out", default="thinkgym-demo", help="folder for report.md, tables and plots (thinkgym-demo)")
    p.add_argument("--train-steps", type=int, default=150, help="GRPO steps of the training section (default 150)")
    p.add_argument("--episodes", type=int, default=40, help="problems per level (default 40)")
    p.add_argument("--samples", type=int, default=4, help="samples per problem, k of pass@k (default 4)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("sweep", help="pass@k per difficulty level of one env under one policy")
    p.add_argument("--env", required=True, type=lambda s: s.split(","), help="env id(s), e.g. Saturn-SAT-v0 or A,B")
    p.add_argument("--levels", type=parse_levels, required=True, help="e.g. 1,4,8 or 1-10")
    p.add_argument(
        "--policy", default="oracle", help="oracle, random, hf:PATH (or hf:tiny), vllm:PATH, openai:URL[#MODEL]"
    )
    p.add_argument("--max-tokens", type=int, default=None, help="model policies: new tokens per response")
    p.add_argument("--temperature", type=float, default=None, help="model policies: sampling temperature")
    p.add_argument("--concurrency", type=int, default=8, help="openai policy: requests in flight (default 8)")
    p.add_argument(
        "--rerank",
        default=None,
        metavar="DISC",
        help="text-to-SQL reranking mode: sample --samples (default 8) candidates, pick by the "
        "discriminator DISC (oracle or hf:PATH), report execution accuracy",
    )
    p.add_argument("-k", type=int, default=1, help="report pass@1..pass@k (default 1)")
    p.add_argument("--samples", type=int, default=None, help="samples per problem (default k)")
    p.add_argument("--episodes", type=int, default=100, help="problems per level (default 100)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--env-kwargs", type=_json_dict, default=None, help="JSON object of env keyword arguments")
    p.add_argument("--out", required=True, help="folder for results.csv/.json/.md, samples.jsonl and the plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser("export", help="write problems as JSONL")
    p.add_argument("--env", default=None, help="env id, e.g. Saturn-SAT-v0 (required unless --preset)")
    p.add_argument("--levels", type=parse_levels, default=None)
    p.add_argument("--count", type=int, default=100, help="problems per level (default 100)")
    p.add_argument("--test-count", type=int, default=0, help="also write a test split of this many per level")
    p.add_argument("--format", choices=["jsonl", "hf", "verl"], default="jsonl", help="jsonl (default), hf or verl")
    p.add_argument("--preset", choices=["saturn-2.6k"], default=None, help="SATURN-2.6k-shaped train/test splits")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--env-kwargs", type=_json_dict, default=None)
    p.add_argument("--out", required=True, help="a file (a folder for hf), or a folder with --preset/--test-count")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("play", help="answer an env's problems yourself in the terminal")
    p.add_argument("env", help="env id, e.g. Saturn-SAT-v0")
    p.add_argument("--level", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--env-kwargs", type=_json_dict, default=None)
    p.set_defaults(func=cmd_play)

    p = sub.add_parser("serve", help="serve an env over OpenEnv's protocol (one env per WebSocket session)")
    p.add_argument("--env", required=True, help="env id, e.g. CodeInterpreter-Math-v0")
    p.add_argument("--env-kwargs", type=_json_dict, default=None, help="JSON object of env keyword arguments")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="default 8000")
    p.add_argument("--max-sessions", type=int, default=64, help="concurrent sessions (default 64)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("list", help="the registered envs")
    p.set_defaults(func=cmd_list)

    from thinkgym.agents.grpo.cli import add_commands as add_grpo_commands

    add_grpo_commands(sub)  # train, sft, probe, merge (torch is imported only when they run)
    return parser


def _check_args(args: argparse.Namespace) -> None:
    """Checks shared by every command, before any work: env ids and the policy spec."""
    envs = getattr(args, "env", None)
    for env_id in [envs] if isinstance(envs, str) else envs or []:
        check_env_id(env_id)
    if isinstance(getattr(args, "policy", None), str):
        from thinkgym.agents.policies import check_policy_spec

        check_policy_spec(args.policy)


def main(argv: list[str] | None = None) -> int:
    """Runs one command; a user mistake is one line on stderr and exit status 2 (see the module doc)."""
    from thinkgym.agents.openai_policy import EndpointError

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_args(args)
        return args.func(args)
    except (UsageError, ValueError, EndpointError) as exc:  # bad parameters: a clear message, not a traceback
        message = str(exc)
    except ModuleNotFoundError as exc:
        message = _missing_extra(exc, args.command)
        if message is None:
            raise
    except (FileNotFoundError, FileExistsError, NotADirectoryError, IsADirectoryError, PermissionError) as exc:
        message = f"{exc.strerror}: {exc.filename}; check the path"
    print(f"thinkgym {args.command}: error: {message}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
