"""A hard wall-clock limit for the SymPy stage: pre-forked worker processes, killed on timeout.

``signal.alarm`` cannot interrupt a long C-level big-integer operation, works only in the main
thread, and is shared with the host program; a thread cannot be killed at all. So SymPy work runs
in separate processes, and the caller waits on a socket with a deadline:

- a *zygote* process (started once with ``subprocess``, not ``multiprocessing``, so the caller's
  ``__main__`` is never re-imported) imports SymPy and the LaTeX parser, warms the parser up, and
  then only forks;
- each *runner* is a fork of the zygote, so it starts in milliseconds with everything loaded; it
  serves requests one at a time over its own socket pair (the caller's end is handed to the
  zygote with ``SCM_RIGHTS``), under an address-space limit;
- :meth:`WorkerPool.call` borrows an idle runner (forking a new one while fewer than
  ``max_workers`` exist), sends one JSON request and waits for the reply until the deadline. On
  timeout it sends ``SIGKILL`` to that runner and forgets it; the next call forks a fresh one.

This works from any thread, inside asyncio (the call blocks its thread; run it in an executor to
keep an event loop responsive) and in Ray workers. A forked child of the caller starts its own pool
and never touches its parent's. Every process exits when the owning process closes its sockets or
dies, since each then reads end-of-file. The deadline counts from the moment a ready runner
receives the request; the one-off zygote start (about a second) is not counted.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["WorkerPool", "get_pool"]

_HEADER = struct.Struct("!I")
_PID = struct.Struct("!i")
_MEMORY_LIMIT = 4 << 30  # bytes of address space per runner
_ROOT = str(Path(__file__).resolve().parents[2])


def _send(sock: socket.socket, obj: Any) -> None:
    data = json.dumps(obj).encode()
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv_exact(sock: socket.socket, n: int, deadline: float | None) -> bytes:
    chunks, got = [], 0
    while got < n:
        if deadline is not None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            sock.settimeout(remaining)
        chunk = sock.recv(n - got)  # raises TimeoutError (socket.timeout) at the deadline
        if not chunk:
            raise EOFError("worker closed its socket")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _recv(sock: socket.socket, deadline: float | None = None) -> Any:
    (size,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size, deadline))
    return json.loads(_recv_exact(sock, size, deadline))


class _Runner:
    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.sock.close()


class WorkerPool:
    """Runners forked from one zygote; thread-safe. See the module docstring."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or max(1, min(4, os.cpu_count() or 1))
        self.owner_pid = os.getpid()
        self._lock = threading.Lock()
        self._available = threading.Condition(self._lock)
        self._idle: list[_Runner] = []
        self._live: set[_Runner] = set()  # idle and busy runners
        self._starting = 0  # runners being forked
        self._spawn_lock = threading.Lock()
        self._zygote: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None

    def _start_zygote(self) -> socket.socket:
        if self._control is not None and self._zygote is not None and self._zygote.poll() is None:
            return self._control
        if self._control is not None:
            self._control.close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (_ROOT, env.get("PYTHONPATH")) if p)
        self._zygote = subprocess.Popen(
            # -c rather than -m: running a submodule with -m imports its package first, which
            # already imports this module, and Python warns about the double import
            [sys.executable, "-c", _LAUNCH, str(theirs.fileno())],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
            start_new_session=True,  # a Ctrl-C meant for the caller does not reach the workers
        )
        theirs.close()
        self._control = ours
        return ours

    def _spawn(self) -> _Runner:
        """Asks the zygote for a new runner (starting the zygote first if needed)."""
        with self._spawn_lock:
            for attempt in range(2):
                control = self._start_zygote()
                ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    socket.send_fds(control, [b"F"], [theirs.fileno()])
                    (pid,) = _PID.unpack(_recv_exact(control, _PID.size, None))
                    return _Runner(pid, ours)
                except (OSError, EOFError):
                    ours.close()
                    if self._zygote is not None:
                        self._zygote.kill()
                        self._zygote.wait()
                    if attempt:
                        raise
                finally:
                    theirs.close()
        raise RuntimeError("unreachable")

    def _acquire(self) -> _Runner:
        with self._available:
            while not self._idle and len(self._live) + self._starting >= self.max_workers:
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._starting += 1
        runner = None
        try:
            runner = self._spawn()
            return runner
        finally:
            with self._available:
                self._starting -= 1
                if runner is not None:
                    self._live.add(runner)
                self._available.notify()

    def _release(self, runner: _Runner, healthy: bool) -> None:
        if not healthy:
            runner.kill()
        with self._available:
            if healthy:
                self._idle.append(runner)
            else:
                self._live.discard(runner)
            self._available.notify()

    def call(self, request: dict[str, Any], timeout: float) -> dict[str, Any] | None:
        """Sends ``request`` to a runner; its JSON reply, or ``None`` when ``timeout`` seconds
        passed first (the runner is then killed). A runner that dies gives an ``EOFError``."""
        runner = self._acquire()
        healthy = False
        try:
            runner.sock.settimeout(None)
            _send(runner.sock, request)
            reply = _recv(runner.sock, time.monotonic() + max(timeout, 0.0))
            healthy = True
            return reply
        except TimeoutError:
            return None
        finally:
            self._release(runner, healthy)

    def close(self) -> None:
        """Kills every runner and stops the zygote (only in the process that started them: a
        forked child that inherited this pool leaves them alone)."""
        if os.getpid() != self.owner_pid:
            return
        with self._available:
            runners, self._idle, self._live = list(self._live), [], set()
        for runner in runners:
            runner.kill()
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._zygote is not None:
            self._zygote.kill()
            self._zygote.wait()
            self._zygote = None

    def abandon(self) -> None:
        """In a forked child: closes the inherited sockets, takes no lock, kills nothing."""
        for runner in list(self._live):
            runner.sock.close()
        if self._control is not None:
            self._control.close()


_POOL: WorkerPool | None = None
_POOL_LOCK = threading.Lock()


def get_pool() -> WorkerPool:
    """The process-wide pool, started on first use."""
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = WorkerPool()
            atexit.register(_POOL.close)
        return _POOL


def _after_fork_in_child() -> None:
    """A forked child never talks to its parent's runners: it starts its own pool when needed
    (and gets fresh locks, which another thread may have held at the fork)."""
    global _POOL, _POOL_LOCK
    _POOL_LOCK = threading.Lock()
    if _POOL is not None:
        _POOL.abandon()
        _POOL = None


os.register_at_fork(after_in_child=_after_fork_in_child)


def _serve(sock: socket.socket) -> None:
    """A runner's loop: one request in, one reply out, until end-of-file."""
    from thinkgym.verifiers.math_compare import judge

    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_LIMIT, _MEMORY_LIMIT))
    except (ImportError, ValueError, OSError):
        pass
    while True:
        try:
            request = _recv(sock)
        except (EOFError, OSError):
            return
        try:
            reply = judge(request["gold"], request["pred"], request.get("options"))
        except (MemoryError, RecursionError) as err:
            reply = {"correct": False, "reason": "too_large", "details": {"guard": type(err).__name__}}
        except Exception as err:  # noqa: BLE001 - a runner reports every failure as a verdict
            reply = {"correct": False, "reason": "worker_error", "details": {"error": repr(err)[:200]}}
        _send(sock, reply)


def _zygote_main(control_fd: int) -> None:
    from thinkgym.verifiers.math_compare import warm_up

    warm_up()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # runners are reaped automatically
    control = socket.socket(fileno=control_fd)
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(control, 1, 1)
        except OSError:
            return
        if not msg or not fds:
            return
        pid = os.fork()
        if pid == 0:
            control.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _serve(socket.socket(fileno=fds[0]))
            finally:
                os._exit(0)
        os.close(fds[0])
        control.sendall(_PID.pack(pid))


_LAUNCH = "import sys\nfrom thinkgym.verifiers.math_worker import _zygote_main\n_zygote_main(int(sys.argv[1]))"
