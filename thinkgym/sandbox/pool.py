"""``SandboxPool``: sandboxes started ahead of use, so an episode never waits for one.

A sandbox is forked from the warm zygote the moment it is created and finishes its setup in
the background; the pool keeps ``size`` of them in reserve. :meth:`SandboxPool.acquire` hands
out a fresh one (sandboxes are never reused: state from one episode must not leak into the
next) and immediately starts its replacement; :meth:`SandboxPool.release` closes a sandbox the
caller is done with. Both may be called from many threads at once (a vector env's episodes, a
rollout worker's threads); each sandbox is used by one thread at a time.

    with SandboxPool(size=4, timeout=5) as pool:
        box = pool.acquire()
        box.run("print(6 * 7)")
        pool.release(box)
"""

from __future__ import annotations

import threading
import weakref
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
        self._lock = threading.Lock()
        self._closed = False
        self._ready: deque[PythonSandbox] = deque(PythonSandbox(**options) for _ in range(size))
        self._out: weakref.WeakSet[PythonSandbox] = weakref.WeakSet()  # handed out, not released

    def acquire(self) -> PythonSandbox:
        """A fresh sandbox, owned by the caller (who releases or closes it)."""
        replacement = PythonSandbox(**self.options)  # outside the lock: forking takes a while
        with self._lock:
            if self._closed:
                replacement.close()
                raise SandboxError("the pool is closed")
            sandbox = self._ready.popleft()
            self._ready.append(replacement)
            self._out.add(sandbox)
        return sandbox

    def release(self, sandbox: PythonSandbox) -> None:
        """Closes a sandbox from :meth:`acquire` (it is never handed out again)."""
        with self._lock:
            self._out.discard(sandbox)
        sandbox.close()

    @property
    def live(self) -> int:
        """Sandboxes handed out and not yet released (closed by their user or not)."""
        with self._lock:
            return sum(not box.closed for box in self._out)

    def close(self) -> None:
        """Closes the sandboxes in reserve and those still handed out."""
        with self._lock:
            self._closed = True
            boxes = list(self._ready) + list(self._out)
            self._ready.clear()
            self._out.clear()
        for box in boxes:
            box.close()

    def __enter__(self) -> SandboxPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
