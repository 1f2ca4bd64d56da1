"""Math-Dataset-v0: math problems from a dataset file, with the 1-shot RLVR option ``repeat_one``.

Source: Wang et al., "Reinforcement Learning for Reasoning in Large Language Models with One
Training Example" (1-shot RLVR), arXiv 2504.20571; code ypwang61/One-Shot-RLVR (notes in
shared/reference/objectives.md §8): RLVR on a single problem (their π1 duplicated to fill every
batch) with a binary reward on the last ``\\boxed{}``; ``repeat_one=i`` serves problem i at every
reset. For their reward pass ``rewards={"format_error": 0.0}`` (1 correct, else 0), and
``require_think=True`` for DeepSeek-R1-Distill models.

Data: ``path`` is a JSONL file (one JSON object per line; blank lines are skipped) or a
directory written by ``datasets.Dataset.save_to_disk`` / ``DatasetDict.save_to_disk`` (read with
``datasets.load_from_disk``, imported only then; ``split`` picks the split of a DatasetDict). The
default is the bundled sample (:data:`SAMPLE_PATH`, 42 problems written for thinkgym). Fields:
``problem_field`` (default ``problem``) holds the question, ``answer_field`` (``answer``) the gold
answer as LaTeX (a JSON number is read as its decimal text), and ``difficulty_field``
(``difficulty``, optional per record) a number or a text holding one number (``"Level 3"``).

Tolerance: numbers are exact unless a tolerance is declared, for the whole dataset
(``tolerance={"abs": 0.01}`` or ``{"rel": 1e-3}``, see :func:`thinkgym.verifiers.math.check_tolerance`)
or per row in the field ``tolerance_field`` (default ``tolerance``; a row's value replaces the
dataset's, and a row value of ``null`` means exact). A row may also set ``positive_variables:
true`` (its variables are positive reals, so ``\\sqrt{x^2}`` answers ``x``). Both are copied to
``info["problem"]["metadata"]``, where the verifier reads them. A malformed tolerance is a bad record.

Golds are checked at load time: a gold must be non-empty, match itself when boxed (balanced braces)
and parse (the verifier reports no ``gold_unparseable``). Bad golds are a ``ValueError`` listing
them by JSONL line number (1-based) or dataset row (0-based); ``on_bad_gold="skip"`` drops them with
a warning instead. A record without a problem text, or a line that is not a JSON object, is always
an error.

Observation: ``prompt_template`` with ``{problem}`` replaced by the question (default: the
question, a blank line and "Please reason step by step, and put your final answer within
\\boxed{}."). Action: the model's response; the answer is the last ``\\boxed{}`` after the last
``</think>``. Reward: 1 when :func:`thinkgym.verifiers.math.verify` accepts it, 0 when wrong, -1
when no answer can be read (or no ``</think>`` under ``require_think``).

Sampling: ``reset(seed=s)`` serves problem ``s % len(dataset)`` (seeds 0..len-1 walk the dataset
in file order); without a seed the index is drawn from the env's ``np_random``; ``repeat_one=i``
(0-based, counted after skipped golds) serves problem i whatever the seed. There is one level (1);
a problem's difficulty comes from ``difficulty_field`` (0.0 when absent).

Episode end: after one step (terminated=True).

Arguments: ``path``, ``problem_field``, ``answer_field``, ``difficulty_field``, ``split``,
``tolerance``, ``tolerance_field``, ``repeat_one``, ``on_bad_gold`` (``"raise"`` or ``"skip"``), ``prompt_template``,
``require_think``, ``timeout``, ``rewards``, ``max_text_length``, ``render_mode``.

``info["problem"]["metadata"]``: ``index`` (position in the loaded dataset), ``source``
(``"line N"`` or ``"row N"``), and ``tolerance`` / ``positive_variables`` where declared. A
problem's id hashes its question and gold, not the template.

Version history: v0 — first release.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import re
import warnings
from pathlib import Path
from typing import Any

from thinkgym.core import Problem, stable_id
from thinkgym.envs.math.common import MathEnv
from thinkgym.generators.math import INSTRUCTION
from thinkgym.verifiers import math as math_verifier

__all__ = ["DEFAULT_TEMPLATE", "SAMPLE_PATH", "MathDatasetEnv", "gold_error", "load_records"]

SAMPLE_PATH = Path(__file__).resolve().parents[2] / "data" / "math_sample.jsonl"
DEFAULT_TEMPLATE = "{problem}\n\n" + INSTRUCTION
_PROBE = "\\boxed{0}"  # compared with a gold, it makes the verifier parse the gold unless both are rational
_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


@functools.lru_cache(maxsize=65_536)
def gold_error(gold: str) -> str | None:
    """Why ``gold`` cannot serve as a reference answer, or ``None`` when it can."""
    if not gold.strip():
        return "is empty"
    boxed = math_verifier.verify(f"\\boxed{{{gold}}}", gold)
    if not boxed.correct:
        return f"does not match itself when boxed ({boxed.reason})"
    probe = math_verifier.verify(_PROBE, gold)
    if probe.reason == "invalid_gold" or "gold_unparseable" in probe.details:
        return f"does not parse: {str(probe.details['gold_unparseable']).splitlines()[0]}"
    return None


def load_records(path: str | os.PathLike[str], split: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """``(where, record)`` pairs from a JSONL file (where = ``"line N"``, 1-based) or a saved Hugging
    Face dataset directory (``"row N"``, 0-based)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"path: no such file or dataset directory: {path}")
    if path.is_dir():
        return _load_saved_dataset(path, split)
    if split is not None:
        raise ValueError(f"split= applies to a saved Hugging Face DatasetDict; {path} is a JSONL file")
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{path}: line {number} is not valid JSON ({err.msg})") from None
            if not isinstance(record, dict):
                raise ValueError(f"{path}: line {number} is not a JSON object")
            records.append((f"line {number}", record))
    return records


def _load_saved_dataset(path: Path, split: str | None) -> list[tuple[str, dict[str, Any]]]:
    try:
        import datasets
    except ImportError as err:
        raise ImportError(
            f"reading the saved dataset {path} needs the `datasets` package: pip install datasets "
            "(or thinkgym[train]); a JSONL file needs nothing extra"
        ) from err
    data = datasets.load_from_disk(str(path))
    if isinstance(data, datasets.DatasetDict):
        if split is None and len(data) == 1:
            split = next(iter(data))
        if split not in data:
            raise ValueError(f"split must be one of {sorted(data)} for the DatasetDict at {path}, got {split!r}")
        data = data[split]
    elif split is not None:
        raise ValueError(f"split= applies to a DatasetDict; {path} holds a single Dataset")
    return [(f"row {index}", dict(row)) for index, row in enumerate(data)]


def _gold_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _difficulty(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    numbers = _NUMBER.findall(value) if isinstance(value, str) else []
    return float(numbers[0]) if len(numbers) == 1 else None


class MathDatasetEnv(MathEnv):
    """Math problems from a JSONL file or a saved Hugging Face dataset (see the module docstring)."""

    family = "math"
    levels = {1: {}}
    default_level = 1

    def __init__(
        self,
        *,
        path: str | os.PathLike[str] = SAMPLE_PATH,
        problem_field: str = "problem",
        answer_field: str = "answer",
        difficulty_field: str | None = "difficulty",
        split: str | None = None,
        tolerance: dict[str, float] | None = None,
        tolerance_field: str | None = "tolerance",
        repeat_one: int | None = None,
        on_bad_gold: str = "raise",
        prompt_template: str = DEFAULT_TEMPLATE,
        **kwargs: Any,
    ) -> None:
        if on_bad_gold not in ("raise", "skip"):
            raise ValueError(f"on_bad_gold must be 'raise' or 'skip', got {on_bad_gold!r}")
        if not isinstance(prompt_template, str) or "{problem}" not in prompt_template:
            raise ValueError(f"prompt_template must be a str containing '{{problem}}', got {prompt_template!r}")
        self.path = Path(path)
        self.prompt_template = prompt_template
        self.tolerance = math_verifier.check_tolerance(tolerance)
        self.tolerance_field = tolerance_field
        self.problems = self._load(problem_field, answer_field, difficulty_field, split, on_bad_gold)
        if repeat_one is not None and (
            isinstance(repeat_one, bool) or not isinstance(repeat_one, int) or not 0 <= repeat_one < len(self.problems)
        ):
            raise ValueError(f"repeat_one must be an integer in 0..{len(self.problems) - 1}, got {repeat_one!r}")
        self.repeat_one = repeat_one
        super().__init__(**kwargs)

    def _load(
        self, problem_field: str, answer_field: str, difficulty_field: str | None, split: str | None, on_bad_gold: str
    ) -> list[Problem]:
        bad: list[tuple[bool, str]] = []  # (is a gold problem, message), in file order
        problems: list[Problem] = []
        for where, record in load_records(self.path, split):
            question = record.get(problem_field)
            if not isinstance(question, str) or not question.strip():
                bad.append((False, f"{where}: no problem text in field {problem_field!r}"))
                continue
            gold = _gold_text(record.get(answer_field))
            reason = "is missing or not a string or number" if gold is None else gold_error(gold)
            if reason is not None:
                bad.append((True, f"{where}: gold {record.get(answer_field)!r} {reason}"))
                continue
            try:
                extra = self._row_options(record)
            except ValueError as err:
                bad.append((False, f"{where}: {err}"))
                continue
            difficulty = 0.0
            if difficulty_field is not None and record.get(difficulty_field) is not None:
                value = _difficulty(record[difficulty_field])
                if value is None:
                    bad.append((False, f"{where}: {difficulty_field!r} is not a number: {record[difficulty_field]!r}"))
                    continue
                difficulty = value
            problems.append(
                Problem(
                    id=stable_id("math", {"problem": question, "answer": gold}),
                    prompt=self.prompt_template.replace("{problem}", question),
                    answer=gold,
                    difficulty=difficulty,
                    family=self.family,
                    metadata={"index": len(problems), "source": where, **extra},
                )
            )
        if on_bad_gold == "skip":
            skipped = [message for is_gold, message in bad if is_gold]
            if skipped:
                warnings.warn(f"{self.path}: skipped {len(skipped)} bad gold(s): " + "; ".join(skipped), stacklevel=3)
            bad = [(is_gold, message) for is_gold, message in bad if not is_gold]
        if bad:
            listed = "\n  ".join(message for _, message in bad[:20])
            more = f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else ""
            raise ValueError(f"{self.path}: {len(bad)} bad record(s):\n  {listed}{more}")
        if not problems:
            raise ValueError(f"{self.path}: no problems to serve")
        return problems

    def _row_options(self, record: dict[str, Any]) -> dict[str, Any]:
        """The verifier options of one row: its tolerance (or the dataset's) and its
        ``positive_variables`` flag, validated."""
        extra: dict[str, Any] = {}
        tolerance = self.tolerance
        if self.tolerance_field is not None and self.tolerance_field in record:
            tolerance = math_verifier.check_tolerance(record[self.tolerance_field])
        if tolerance is not None:
            extra["tolerance"] = dict(tolerance)
        positive = record.get("positive_variables", False)
        if not isinstance(positive, bool):
            raise ValueError(f"positive_variables must be true or false, got {positive!r}")
        if positive:
            extra["positive_variables"] = True
        return extra

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        if params:
            raise ValueError(f"Math-Dataset-v0 has no generator parameters, got {sorted(params)}; valid: none")
        return {}

    def generate(self, params: dict[str, Any], seed: int) -> Problem:
        problem = self.problems[self.repeat_one if self.repeat_one is not None else seed % len(self.problems)]
        return dataclasses.replace(problem, metadata=dict(problem.metadata))  # info never aliases the dataset
