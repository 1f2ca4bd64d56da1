"""``SandboxPool``: sandboxes started ahead of use, so an episode never waits for one.

A sandbox is forked from the warm zygote the moment it is created and finishes its setup in
the background; the pool keeps ``size`` of them in reserve. :meth:`SandboxPool.acquire` hands
out a fresh one (sandboxes are never reused: state from one episode must not leak into the
next) and immediately starts its replacement.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from thinkgym.sandbox.result import SandboxError
from thinkgym.sandbox.sandbox import PythonSandbox

__all__ = ["SandboxPool"]


class SandboxPool:
    """Keeps ``size`` fresh :class:`PythonSandbox` es ready; ``options`` go to each."""

    def __init__(self, size: int = 2, **options: Any) -> None:
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be a positive int, got {size!r}")
        self.size = size
        self.options = options
        self._ready: deque[PythonSandbox] = deque(PythonSandbox(**options) for _ in range(size))

    def acquire(self) -> PythonSandbox:
        """A fresh sandbox, owned by the caller (who closes it)."""
        if not self._ready:
            raise SandboxError("the pool is closed")
        sandbox = self._ready.popleft()
        self._ready.append(PythonSandbox(**self.options))
        return sandbox

    def close(self) -> None:
        """Closes the sandboxes still in reserve."""
        while self._ready:
            self._ready.popleft().close()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
