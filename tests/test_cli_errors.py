"""Every ``thinkgym`` subcommand answers a user mistake with one clear line and exit status 2.

Each case runs the real command in a fresh interpreter (``python -c`` calling ``thinkgym.cli.main``)
and checks the exit status, that stderr holds no traceback, and that the message names the bad
value or the fix. The core-only cases make ``import torch`` fail the way it does on an install
without the ``train`` extra: a meta-path finder in the ``-c`` shim raises the same
``ModuleNotFoundError`` Python raises for a missing package, before any thinkgym code runs.
A test also checks that every subcommand the parser knows has at least one case here, so a new
subcommand comes with its bad-input case.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from thinkgym.cli import build_parser

# the module fixture runs every case (about 35 interpreters, four at a time) before the first test
pytestmark = pytest.mark.timeout(900)

RUN = "import sys; from thinkgym.cli import main; sys.exit(main(sys.argv[1:]))"
NO_TORCH = (
    "import sys\n"
    "class NoTorch:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name.split('.')[0] in ('torch', 'transformers'):\n"
    "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
    "sys.meta_path.insert(0, NoTorch())\n" + RUN
)


def _closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


SAT = ["--env", "Saturn-SAT-v0"]

# (subcommand, arguments, a piece of the expected message, core-only); {out} is a fresh folder
# name, {file} an existing file, {port} a closed local port, {yaml} a config file naming env Nope-v0
CASES = [
    ("demo", ["--episodes", "0", "--out", "{out}"], "--episodes must be >= 1, got 0", False),
    ("demo", ["--out", "{file}"], "is a file", False),
    ("list", ["--bogus"], "unrecognized arguments: --bogus", False),
    ("play", ["Hoper"], "unknown env 'Hoper'", False),
    ("play", ["Saturn-SAT-v0", "--level", "99"], "level must be one of 1..18", False),
    ("sweep", ["--env", "Saturn-SAT", "--levels", "1", "--out", "{out}"], "did you mean Saturn-SAT-v0", False),
    ("sweep", [*SAT, "--levels", "1", "--out", "{file}"], "is a file", False),
    ("sweep", [*SAT, "--levels", "1-x", "--out", "{out}"], "levels must look like 1,4,8 or 1-10, got '1-x'", False),
    ("sweep", [*SAT, "--levels", "1", "--policy", "bogus", "--out", "{out}"], "unknown policy 'bogus'", False),
    ("sweep", [*SAT, "--levels", "1", "--env-kwargs", "{{n: 3}}", "--out", "{out}"], "--env-kwargs: not JSON", False),
    (
        "sweep",
        [*SAT, "--levels", "1", "--policy", "openai:http://127.0.0.1:{port}/v1", "--out", "{out}"],
        "cannot reach http://127.0.0.1:",
        False,
    ),
    ("sweep", [*SAT, "--levels", "1", "--policy", "hf:tiny", "--out", "{out}"], "thinkgym[train]", True),
    ("export", ["--levels", "1", "--out", "{out}"], "give --env", False),
    ("export", ["--env", "Math-RLVR", "--levels", "1", "--out", "{out}"], "did you mean Math-RLVR-v0", False),
    ("export", [*SAT, "--levels", "1", "--count", "-5", "--out", "{out}"], "problem per level, got -5", False),
    ("export", [*SAT, "--levels", "1", "--count", "0", "--out", "{out}"], "--count must be >= 1", False),
    ("export", [*SAT, "--levels", "1", "--test-count", "-3", "--out", "{out}"], "--test-count must be >= 0", False),
    ("export", [*SAT, "--levels", "1", "--test-count", "2", "--out", "{file}"], "is a file", False),
    ("export", [*SAT, "--levels", "1", "--env-kwargs", "[1]", "--out", "{out}"], "must be a JSON object", False),
    ("train", ["--env", "Saturn-SAT-v1", "--out", "{out}"], "did you mean Saturn-SAT-v0", False),
    ("train", [*SAT, "--group-size", "x", "--out", "{out}"], "--group-size: invalid int value: 'x'", False),
    ("train", [*SAT, "--env-kwargs", "{{bad", "--out", "{out}"], "--env-kwargs: not JSON", False),
    ("train", [*SAT, "--steps", "0", "--out", "{out}"], "steps must be >= 1, got 0", False),
    ("train", [*SAT, "--config", "{out}.yaml", "--out", "{out}"], "No such file or directory", False),
    ("train", ["--config", "{yaml}", "--out", "{out}"], "unknown env 'Nope-v0'", False),
    ("train", [*SAT, "--steps", "1", "--out", "{out}"], "pip install 'thinkgym[train]'", True),
    ("sft", ["--env", "sat", "--out", "{out}"], "did you mean Saturn-SAT-v0", False),
    ("sft", [*SAT, "--steps", "-1", "--out", "{out}"], "got -1", False),
    ("sft", ["--config", "{yaml}", "--out", "{out}"], "unknown env 'Nope-v0'", False),
    ("sft", [*SAT, "--steps", "1", "--out", "{out}"], "pip install 'thinkgym[train]'", True),
    ("probe", ["--checkpoints", "{out}", "--env", "Saturn-SAT"], "did you mean Saturn-SAT-v0", False),
    ("probe", ["--checkpoints", "{out}", *SAT], "is not a folder", False),
    ("probe", ["--checkpoints", "{out}", *SAT], "pip install 'thinkgym[train]'", True),
    ("merge", ["{out}", "--weights", "x", "--out", "{out}"], "weights must look like", False),
    ("merge", ["{file}", "{file}", "--out", "{out}"], "is not a model folder", False),
    ("merge", ["{out}", "{out}", "--out", "{out}"], "pip install 'thinkgym[train]'", True),
    ("serve", ["--env", "Saturn-SAT"], "did you mean Saturn-SAT-v0", False),
    ("serve", [*SAT, "--env-kwargs", "{{bad"], "--env-kwargs: not JSON", False),
]


def _run(case: tuple, tmp_path) -> tuple[tuple, subprocess.CompletedProcess]:
    command, args, _, core_only = case
    index = CASES.index(case)
    existing = tmp_path / f"file{index}"
    existing.write_text("in the way\n")
    config = tmp_path / f"config{index}.yaml"
    config.write_text("env: Nope-v0\nsteps: 1\n")
    values = {"out": str(tmp_path / f"out{index}"), "file": str(existing), "port": _closed_port(), "yaml": str(config)}
    argv = [command, *(a.format(**values) for a in args)]
    code = NO_TORCH if core_only else RUN
    run = subprocess.run(
        [sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    return case, run


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cli_errors")
    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda case: _run(case, tmp), CASES))


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_one_line_and_exit_2(runs, index):
    (command, args, expected, _), run = runs[index]
    assert "Traceback" not in run.stderr, run.stderr
    assert run.returncode == 2, (run.returncode, run.stdout[-500:], run.stderr)
    lines = [line for line in run.stderr.splitlines() if line.strip() and "sample/s]" not in line]
    assert len(lines) == 1, lines  # one line, not a usage block (a progress bar is not an error line)
    assert lines[0].startswith((f"thinkgym {command}: error: ", "thinkgym: error: ")), lines[0]
    assert expected in lines[0], lines[0]


def test_failed_sweeps_leave_no_journal(runs):
    for (command, _, _, _), run in runs:
        if command == "sweep":
            out = Path(run.args[run.args.index("--out") + 1])
            assert not (out / "samples.jsonl").exists(), out


def test_every_subcommand_has_a_case():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert set(sub.choices) <= {c[0] for c in CASES}, set(sub.choices) - {c[0] for c in CASES}
