"""What the integration tests proved, and the table of docs/integrations.md rendered from it.

Each test in ``tests/test_integrations_*.py`` that ran a library's own code path to the end (and
checked the reward against the thinkgym env's) calls :func:`record` with the library, the
feature and the version it imported. Records are JSON lines in ``$THINKGYM_INTEGRATIONS_RECORD``
(a folder; nothing is written when the variable is unset). ``python -m
thinkgym.integrations.record DIR --write docs/integrations.md`` renders them into the table
between the ``integrations-table`` markers, so the table says only what ran; ``--check`` fails
when the table differs from the records (``.ci/run`` section 4).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["FEATURES", "LIBRARIES", "record", "render_table", "write_table"]

# column key -> header
FEATURES = {
    "reward": "reward function",
    "single_turn": "single-turn env",
    "multi_turn": "multi-turn / tool env",
    "served": "served env",
}
# library -> PyPI distribution whose version is reported
LIBRARIES = {
    "OpenEnv": "openenv",
    "SkyRL-gym": "skyrl-gym",
    "verifiers": "verifiers",
    "verifiers 0.3 (classic)": "verifiers",
    "verl": "verl",
    "TRL": "trl",
}
START, END = "<!-- integrations-table:start -->", "<!-- integrations-table:end -->"


def record(library: str, feature: str, what: str) -> None:
    """Notes that ``what`` (one phrase: the library code path that ran) passed for ``feature``."""
    if library not in LIBRARIES or feature not in FEATURES:
        raise ValueError(f"unknown library {library!r} or feature {feature!r}; see LIBRARIES and FEATURES")
    folder = os.environ.get("THINKGYM_INTEGRATIONS_RECORD")
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    line = {"library": library, "version": metadata.version(LIBRARIES[library]), "feature": feature, "what": what}
    with open(Path(folder) / f"{LIBRARIES[library]}.jsonl", "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def render_table(folder: str | Path) -> str:
    """The markdown table of every record under ``folder``: one row per library, one cell per feature
    (what ran, or "—")."""
    rows: dict[str, dict[str, list[str]]] = {}
    versions: dict[str, set[str]] = {}
    for path in sorted(Path(folder).glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            item = json.loads(line)
            cells = rows.setdefault(item["library"], {})
            if item["what"] not in cells.setdefault(item["feature"], []):
                cells[item["feature"]].append(item["what"])
            versions.setdefault(item["library"], set()).add(item["version"])
    header = "| library | version tested | " + " | ".join(FEATURES.values()) + " |"
    lines = [header, "|" + "---|" * (len(FEATURES) + 2)]
    for library in LIBRARIES:
        if library not in rows:
            continue
        cells = [("; ".join(rows[library].get(key, [])) or "—") for key in FEATURES]
        lines.append(f"| {library} | {', '.join(sorted(versions[library]))} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_table(folder: str | Path, doc: str | Path) -> None:
    """Replaces the table between the markers in ``doc`` with :func:`render_table` of ``folder``."""
    text = Path(doc).read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise ValueError(f"{doc} has no {START} ... {END} block to fill")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    Path(doc).write_text(f"{head}{START}\n{render_table(folder)}{END}{tail}", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("folder", help="the THINKGYM_INTEGRATIONS_RECORD folder the tests wrote")
    parser.add_argument("--write", metavar="DOC", help="fill the table in this markdown file instead of printing it")
    parser.add_argument("--check", metavar="DOC", help="exit 1 unless this markdown file's table equals the records")
    args = parser.parse_args(argv)
    if args.check:
        text = Path(args.check).read_text(encoding="utf-8")
        if f"{START}\n{render_table(args.folder)}{END}" not in text:
            print(f"{args.check}: the integrations table differs from what the tests recorded; rerun with --write")
            print(render_table(args.folder))
            return 1
        return 0
    if args.write:
        write_table(args.folder, args.write)
    else:
        sys.stdout.write(render_table(args.folder))
    return 0


if __name__ == "__main__":
    sys.exit(main())
