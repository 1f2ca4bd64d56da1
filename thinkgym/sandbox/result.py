"""The values a sandbox hands back: :class:`ExecResult` (one cell), :class:`Protection` (one line
of ``isolation()``), and :class:`HeadTail`, the byte buffer that keeps the head and the tail of
an output stream of any length in constant memory."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

__all__ = ["ExecResult", "HeadTail", "Protection", "SandboxError", "SandboxWarning"]


class SandboxError(RuntimeError):
    """The sandbox could not be started or used (not raised for anything the cell's code does)."""


class SandboxWarning(RuntimeWarning):
    """A protection is unavailable on this machine and the sandbox runs without it."""


@dataclass(frozen=True)
class ExecResult:
    """The outcome of one cell.

    Attributes:
        stdout: what the cell wrote to standard output (head and tail kept when it was long).
        stderr: standard error; holds the traceback when the cell raised.
        ok: the cell ran to its end without an exception.
        timed_out: the cell hit the wall-clock limit and was killed.
        error: ``None`` when ``ok``; otherwise one line saying why, e.g.
            ``"ZeroDivisionError: division by zero"`` or ``"Timeout: ..."``. Whenever the
            interpreter had to be restarted (timeout, crash, memory kill) it says so: variables
            from earlier cells are then gone.
    """

    stdout: str
    stderr: str
    ok: bool
    timed_out: bool = False
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Protection(NamedTuple):
    """One protection as reported by ``PythonSandbox.isolation()``: is it in force, and how."""

    active: bool
    detail: str


class HeadTail:
    """Collects a byte stream, keeping the first ``head`` and the last ``tail`` bytes."""

    def __init__(self, head: int, tail: int) -> None:
        self.head_limit, self.tail_limit = head, tail
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def write(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data and self.tail_limit:
            self.tail += data[-self.tail_limit :]
            if len(self.tail) > 2 * self.tail_limit:  # trim in amortised O(1)
                del self.tail[: len(self.tail) - self.tail_limit]

    def text(self) -> str:
        """The collected output as text; an omission marker sits where bytes were dropped."""
        tail = bytes(self.tail[-self.tail_limit :]) if self.tail_limit else b""
        omitted = self.total - len(self.head) - len(tail)
        if omitted <= 0:
            return (bytes(self.head) + tail).decode("utf-8", "replace")
        marker = f"\n[... {omitted} bytes omitted ...]\n"
        return bytes(self.head).decode("utf-8", "replace") + marker + tail.decode("utf-8", "replace")
