"""Every ```python block of README.md and docs/*.md runs, so the docs cannot drift from the code.

The rule, for whoever writes docs:

* A file reads as one session: a block may use names an earlier block of the same file defined.
  Each file's blocks run in order in one fresh interpreter (its own process, cwd a new temporary
  folder, a timeout per file), each block with the namespace the blocks before it left. Files
  are independent of each other (two run at a time).
* A block that needs what CI does not have (a server, a GPU, a dataset from a hub) or trains for
  minutes is preceded by a line ``<!-- skip: reason -->``; the reason shows in the skip message,
  and should name the test that covers the same code instead. A skipped block runs no code, so a
  later block must not depend on it.
* Blocks of other languages (```bash, ```text, ...) are not run.

One test per block: when a block fails, its own test fails with the block's traceback, and the
blocks after it in the same file are reported as not run (failed), never silently passed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

# the module fixture runs every file (two at a time) before the first test: about 45 s of CPU
pytestmark = pytest.mark.timeout(900)

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FILE_TIMEOUT_S = 240
SKIP = re.compile(r"^<!--\s*skip:\s*(?P<reason>.+?)\s*-->\s*$")


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    code: str
    skip: str | None  # the reason of a <!-- skip: ... --> line right above the fence


def blocks(path: Path) -> list[Block]:
    """The ```python blocks of a markdown file, in order (indented fences included)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        fence = re.match(r"^(\s*)```python\s*$", lines[i])
        if not fence:
            i += 1
            continue
        start = i
        body = []
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i])
            i += 1
        above = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        match = SKIP.match(above)
        found.append(Block(path, start + 1, textwrap.dedent("\n".join(body)) + "\n", match and match["reason"]))
        i += 1
    return found


RUNNER = r"""
import json, sys, traceback
blocks = json.loads(sys.stdin.read())
namespace = {"__name__": "__main__"}
for index, code in blocks:
    print(f"\n@@block {index} start", flush=True)
    try:
        exec(compile(code, f"block {index}", "exec"), namespace)
    except BaseException:
        traceback.print_exc(file=sys.stdout)
        print(f"\n@@block {index} failed", flush=True)
        sys.exit(1)
    print(f"\n@@block {index} ok", flush=True)
"""


@cache
def run_file(path: Path, tmp: Path) -> dict[int, tuple[str, str]]:
    """Runs a file's blocks in one interpreter: {block index: ("ok" | "failed" | "not run", output)}."""
    todo = [(i, b.code) for i, b in enumerate(blocks(path)) if b.skip is None]
    cwd = tmp / path.stem
    cwd.mkdir(parents=True, exist_ok=True)
    try:
        run = subprocess.run(
            [sys.executable, "-c", RUNNER],
            input=json.dumps(todo),
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=FILE_TIMEOUT_S,
        )
        stdout, stderr = run.stdout, run.stderr
    except subprocess.TimeoutExpired as exc:
        stdout = (exc.stdout or b"").decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        stderr = f"timed out after {FILE_TIMEOUT_S} s"
    results: dict[int, tuple[str, str]] = {}
    for index, _ in todo:
        part = stdout.split(f"@@block {index} start", 1)
        if len(part) < 2:
            results[index] = ("not run", "an earlier block of this file failed or the run stopped\n" + stderr[-2000:])
            continue
        text = part[1]
        if f"@@block {index} ok" in text:
            results[index] = ("ok", "")
        else:
            status = "failed" if f"@@block {index} failed" in text else "not run"
            results[index] = (status, text.split("@@block", 1)[0][-4000:] + "\n" + stderr[-2000:])
    return results


CASES = [(path, index) for path in DOCS for index in range(len(blocks(path)))]


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    """A temporary folder, after every file has run (two at a time: the files are independent)."""
    folder = tmp_path_factory.mktemp("docs")
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda path: run_file(path, folder), DOCS))
    return folder


@pytest.mark.parametrize(
    ("path", "index"), CASES, ids=[f"{p.relative_to(ROOT)}:{blocks(p)[i].line}" for p, i in CASES]
)
def test_doc_block_runs(path, index, tmp):
    block = blocks(path)[index]
    if block.skip is not None:
        pytest.skip(f"{path.relative_to(ROOT)}:{block.line}: {block.skip}")
    status, output = run_file(path, tmp)[index]
    assert status == "ok", f"{path.relative_to(ROOT)}:{block.line}: {status}\n{output}"


def test_the_reader_finds_blocks_and_skip_markers(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text(
        "text\n```python\nx = 1\n```\n<!-- skip: needs a GPU -->\n```python\nimport nothing\n```\n"
        "```bash\nls\n```\n  ```python\n  y = x + 1\n  ```\n"
    )
    found = blocks(doc)
    assert [(b.line, b.code, b.skip) for b in found] == [
        (2, "x = 1\n", None),
        (6, "import nothing\n", "needs a GPU"),
        (12, "y = x + 1\n", None),
    ]
    results = run_file(doc, tmp_path)
    assert results[0][0] == "ok" and results[2][0] == "ok" and 1 not in results  # y = x + 1 saw block 0's x
    bad = tmp_path / "bad.md"
    bad.write_text("```python\nraise SystemExit('boom')\n```\n```python\nz = 1\n```\n")
    results = run_file(bad, tmp_path)
    assert results[0][0] == "failed" and "boom" in results[0][1] and results[1][0] == "not run"
