"""Reading the final answer out of a model response: the rule every verifier shares.

The final answer is the content of the last top-level ``\\boxed{...}`` (or ``\\fbox{...}``) in the
answer region of the response. The answer region is everything after the last ``</think>``; a
response that opens ``<think>`` and never closes it is still thinking and has no answer region,
so boxes inside a thinking block never count (SATURN's own scorer does count them).

Everything here is linear in the length of the response (``str.find`` plus one compiled regex
without backtracking), so megabyte responses and 10,000-deep brace nesting cost milliseconds and
never raise.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass

__all__ = [
    "CONNECTOR",
    "BoxedAnswer",
    "answer_region",
    "final_boxes",
    "final_parts",
    "final_run",
    "gold_boxes",
    "last_boxed",
]

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
_BOX_COMMANDS = ("\\boxed", "\\fbox")
_BRACE = re.compile(r"\\[\\{}]|[{}]")


@dataclass(frozen=True)
class BoxedAnswer:
    """Result of :func:`last_boxed`: ``content`` is ``None`` unless ``status == "ok"``."""

    content: str | None
    status: str  # "ok", "no_answer", "unclosed_box" or "unfinished_thinking"
    start: int = -1  # index in the full response where the box command starts
    end: int = -1  # index just after the box's closing brace


def answer_region(response: str) -> tuple[int, str]:
    """Returns ``(offset, status)``: where the answer region starts, and ``"ok"`` or
    ``"unfinished_thinking"`` (``<think>`` opened but never closed)."""
    close = response.rfind(THINK_CLOSE)
    if close >= 0:
        return close + len(THINK_CLOSE), "ok"
    if THINK_OPEN in response:
        return len(response), "unfinished_thinking"
    return 0, "ok"


def _closing_brace(text: str, open_index: int) -> int:
    """Index of the ``}`` matching the ``{`` at ``open_index``, or -1. ``\\{`` and ``\\}`` are
    literal braces and do not count."""
    depth = 0
    for m in _BRACE.finditer(text, open_index):
        tok = m.group()
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
            if depth == 0:
                return m.start()
    return -1


def _stray_backslash_close(text: str, open_index: int) -> int:
    """For a box left open only because a stray backslash precedes its closing brace
    (``\\boxed{185\\}``, a typo for ``185``): the index of that brace, else -1. Only a trailing
    backslash after the content counts; ``\\{`` and ``\\}`` elsewhere stay literal braces."""
    close = text.find("\\}", open_index)
    while close >= 0:
        candidate = text[: close] + " }" + text[close + 2 :]
        end = _closing_brace(candidate, open_index)
        if end == close + 1 and not text[close - 1 : close] == "\\":
            return end
        close = text.find("\\}", close + 2)
    return -1


class _BoxFinder:
    """Yields box-command positions left to right; each command's next position is cached, so
    a response with many boxes of one kind is scanned once, not once per box."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.cached = {cmd: -2 for cmd in _BOX_COMMANDS}

    def next(self, pos: int) -> tuple[int, int]:
        """(start of the next box command at or after pos, its length), or (-1, 0)."""
        best, length = -1, 0
        for cmd, at in self.cached.items():
            if at != -1 and at < pos:
                at = self.text.find(cmd, pos)
                self.cached[cmd] = at
            if at >= 0 and (best < 0 or at < best):
                best, length = at, len(cmd)
        return best, length


def _boxes(response: str, keep: int) -> tuple[list[BoxedAnswer], str]:
    """The last ``keep`` top-level boxes of the answer region, in order, and the status: ``"ok"``,
    or the region's or an unclosed final box's format error (the unclosed box is then the last
    item). Only ``keep`` boxes are held, so a response with 100,000 boxes costs one scan."""
    pos, status = answer_region(response)
    if status != "ok":
        return [], status
    found: deque[tuple[int, int, int]] = deque(maxlen=keep)  # (start, content start, content end)
    finder = _BoxFinder(response)
    while True:
        start, length = finder.next(pos)
        if start < 0:
            return [BoxedAnswer(response[a:b], "ok", s, b + 1) for s, a, b in found], "ok"
        brace = start + length
        while brace < len(response) and response[brace] in " \t":
            brace += 1
        if brace >= len(response) or response[brace] != "{":
            pos = start + length  # e.g. "\boxedx": not a box
            continue
        end = _closing_brace(response, brace)
        if end < 0:
            end = _stray_backslash_close(response, brace)
        if end < 0:
            boxes = [BoxedAnswer(response[a:b], "ok", s, b + 1) for s, a, b in found]
            return [*boxes, BoxedAnswer(None, "unclosed_box", start)], "unclosed_box"
        found.append((start, brace + 1, end))
        pos = end + 1


_MAX_RUN = 16  # boxes joined into one list answer at most
# what may stand between the parts of one answer written in several boxes or math spans
CONNECTOR = re.compile(
    r"(?:\s|[,;$.]|\\q?quad(?![a-zA-Z])|\\[,;:! ]|\\\\|\\[()\[\]]|\band\b|\bor\b"
    r"|\\text\s*\{\s*(?:,|and|or)?\s*\})*"
)


def final_run(text: str) -> tuple[list[BoxedAnswer], str]:
    """The last top-level box of the answer region of ``text`` and the boxes just before it that
    only connectors separate from it (commas, "and", "or", ``\\quad``, math delimiters), in
    order, with the status of :func:`last_boxed` (``"ok"``, ``"no_answer"``, ``"unclosed_box"``,
    ``"unfinished_thinking"``); one scan of the text. More than 16 such boxes in a row state no
    list: then only the last one is returned."""
    if not isinstance(text, str):
        return [], "no_answer"
    boxes, status = _boxes(text, _MAX_RUN + 1)
    if status != "ok":
        return boxes[-1:] if status == "unclosed_box" else [], status
    if not boxes:
        return [], "no_answer"
    run = [boxes[-1]]
    for box in reversed(boxes[:-1]):
        if not CONNECTOR.fullmatch(text, box.end, run[0].start):
            break
        run.insert(0, box)
        if len(run) > _MAX_RUN:
            return boxes[-1:], "ok"
    return run, "ok"


def final_boxes(text: str) -> list[str]:
    """The contents of the boxes of :func:`final_run` (``\\boxed{1} and \\boxed{2}`` states two
    answers); empty when there is no box or one is unclosed."""
    run, status = final_run(text)
    return [box.content for box in run if box.content is not None] if status == "ok" else []


def gold_boxes(text: str) -> list[str]:
    """The boxes that state a gold answer: every top-level box of ``text`` when the gaps between
    them read as joining the parts of one answer (see :func:`final_parts`: ``\\boxed{1} papers
    and \\boxed{2} bins``), else those of :func:`final_boxes` (``\\boxed{1} no no \\boxed{2}``
    states 2)."""
    boxes, status = _boxes(text, _MAX_RUN + 1)
    joined = all(_part_gap(text, a, b) for a, b in zip(boxes, boxes[1:], strict=False))
    if status == "ok" and 1 < len(boxes) <= _MAX_RUN and joined:
        return [box.content for box in boxes if box.content is not None]
    return final_boxes(text)


def _part_gap(text: str, left: BoxedAnswer, right: BoxedAnswer) -> bool:
    gap = text[left.end : right.start]
    return len(gap) <= _PART_GAP and not _PART_BREAK.search(gap)


_PART_GAP = 80  # characters: the most text between two boxes that are parts of one answer
_PART_BREAK = re.compile(
    r"\.(?:\s|$)|\n|\b(?:no|not|wrong|incorrect|instead|actually|mistake|wait|but)\b", re.IGNORECASE
)


def final_parts(text: str, count: int) -> list[str]:
    """The contents of the last ``count`` boxes of the answer region of ``text`` when they read as
    the parts of one answer: each gap between them is short (80 characters at most) and in one
    sentence, and says nothing that withdraws a box ("not", "wrong", "instead", ...):
    ``\\boxed{(3, 3)} \\text{ for part (a) and } \\boxed{(1, 1)}``. Empty otherwise. The caller
    asks for as many parts as the gold answer has, so a one-part gold still reads the last box."""
    if count < 2 or count > _MAX_RUN:
        return []
    boxes, status = _boxes(text, count)
    if status != "ok" or len(boxes) < count:
        return []
    if not all(_part_gap(text, a, b) for a, b in zip(boxes, boxes[1:], strict=False)):
        return []
    return [box.content for box in boxes if box.content is not None]


def last_boxed(response: str) -> BoxedAnswer:
    """The content of the last top-level ``\\boxed{}``/``\\fbox{}`` in the answer region.

    Nested boxes count as one (``\\boxed{\\boxed{1}}`` gives ``\\boxed{1}``). An unclosed final box
    is a format error (``status="unclosed_box"``), not an answer.
    """
    if not isinstance(response, str):
        return BoxedAnswer(None, "no_answer")
    boxes, status = _boxes(response, 1)
    if status == "unclosed_box":
        return boxes[-1]
    if status != "ok":
        return BoxedAnswer(None, status)
    return boxes[-1] if boxes else BoxedAnswer(None, "no_answer")
