"""``PythonSandbox``: a persistent Python interpreter for untrusted code, confined by the kernel.

Use it as a context manager; each :meth:`PythonSandbox.run` is one notebook cell and the
variables of earlier cells persist::

    with PythonSandbox(timeout=5, memory_mb=1024) as box:
        box.run("import sympy; x = sympy.Symbol('x')")
        print(box.run("sympy.factor(x**2 - 1)").stdout)   # (x - 1)*(x + 1)

A cell that exceeds its time is killed with every process it started; so is a cell whose
process dies (memory cap, segfault, ``os._exit``). The next cell then runs in a fresh
interpreter, and the result's ``error`` says that earlier variables are gone.
:meth:`PythonSandbox.isolation` lists every protection and whether this machine provides it.
"""

from __future__ import annotations

import atexit
import os
import select
import shutil
import signal
import socket
import threading
import time
import warnings
import weakref
from typing import Any

from thinkgym.sandbox import cgroups
from thinkgym.sandbox.protocol import FrameReader, ProtocolError, send_frame
from thinkgym.sandbox.result import ExecResult, HeadTail, Protection, SandboxError, SandboxWarning
from thinkgym.sandbox.zygote import Zygote

__all__ = ["PythonSandbox"]

DEFAULT_PRELOAD = ("numpy", "sympy")
_STARTUP_TIMEOUT = 60.0
_KILL_TIMEOUT = 5.0
_MAX_FRAME = 1 << 16
_CGROUP_SLACK_MB = 64
_RESTARTED = "the interpreter was restarted, so variables from earlier cells are gone"

_zygotes: dict[tuple[str, ...], Zygote] = {}
_zygotes_lock = threading.Lock()
_warned: set[tuple[str, str]] = set()
_instances: weakref.WeakSet[_Instance] = weakref.WeakSet()


def _zygote(preload: tuple[str, ...]) -> Zygote:
    with _zygotes_lock:
        zygote = _zygotes.get(preload)
        if zygote is None or not zygote.usable():
            zygote = _zygotes[preload] = Zygote(preload)
        return zygote


@atexit.register
def _shut_down() -> None:
    """Kills the sandboxes nobody closed (removing their cgroups), then the zygotes."""
    for instance in list(_instances):
        instance.kill()
    for zygote in _zygotes.values():
        if zygote.owner == os.getpid():
            zygote.close()


def _describe_status(status: int | None) -> str:
    if status is None:
        return "it vanished"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = str(sig)
        return f"killed by signal {name}"
    return f"exited with status {os.WEXITSTATUS(status)}"


class _Instance:
    """One live sandbox process tree (a sandbox gets a new one after each timeout or crash)."""

    def __init__(self, options: dict[str, Any], zygote: Zygote) -> None:
        # The cgroup caps all processes together, with room for the tmpfs and copy-on-write
        # pages, so that one process hitting memory_mb gets a MemoryError (the rlimit) first.
        cgroup_mb = options["memory_mb"] + options["workdir_mb"] + _CGROUP_SLACK_MB
        self.cgroups, self.report = cgroups.create(cgroup_mb, options["max_processes"])
        host, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        config = {
            "memory_mb": options["memory_mb"],
            "max_processes": options["max_processes"],
            "max_file_mb": options["max_file_mb"],
            "workdir_mb": options["workdir_mb"],
            "cgroup_procs": self.cgroups.procs_files,
            "pids_cgroup": self.cgroups.active("pids"),
        }
        try:
            self.pidfd = zygote.spawn(config, [child.fileno(), out_w, err_w])
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            host.close()
            self.cgroups.remove()
            raise
        finally:
            child.close()
            os.close(out_w)
            os.close(err_w)
        self.ctrl, self.out_fd, self.err_fd = host, out_r, err_r
        os.set_blocking(out_r, False)
        os.set_blocking(err_r, False)
        self.poller = select.poll()
        self._polled = {host.fileno(), out_r, err_r}
        for fd in self._polled:
            self.poller.register(fd, select.POLLIN)
        self.reader = FrameReader(_MAX_FRAME)
        self.ready = False
        self.dead = False
        self.exit_status: int | None = None
        self.protocol_error = False
        self.worker_pid = 0
        self.workdir = ""
        _instances.add(self)

    # -- reading ---------------------------------------------------------------------------
    def _pump(self, timeout: float, sinks: tuple[HeadTail, HeadTail] | None) -> list[dict[str, Any]]:
        """Waits up to ``timeout`` s for something to read; returns the complete control
        frames. Output goes to ``sinks`` (or is discarded). End of the control stream, a
        malformed frame or an ``exit`` frame mark the instance dead."""
        frames: list[dict[str, Any]] = []
        for fd, _ in self.poller.poll(max(0.0, timeout) * 1000):
            if fd == self.ctrl.fileno():
                data = self.ctrl.recv(1 << 16)
                try:
                    frames.extend(self.reader.feed(data))
                except ProtocolError:
                    self.protocol_error = True
                    data = b""
                if not data:
                    self._unpoll(fd)
                    self.dead = True
            else:
                self._read_output(fd, sinks)
        for frame in frames:
            if "exit" in frame:
                status = frame["exit"]
                self.exit_status = status if isinstance(status, int) else None
                self.dead = True
        return frames

    def _unpoll(self, fd: int) -> None:
        if fd in self._polled:
            self._polled.remove(fd)
            self.poller.unregister(fd)

    def _read_output(self, fd: int, sinks: tuple[HeadTail, HeadTail] | None) -> bool:
        """Reads one chunk of a pipe; False when nothing more is there now."""
        if fd not in self._polled:
            return False
        try:
            data = os.read(fd, 1 << 16)
        except BlockingIOError:
            return False
        if not data:
            self._unpoll(fd)
            return False
        if sinks is not None:
            sinks[0 if fd == self.out_fd else 1].write(data)
        return True

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not self.ready:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.dead:
                why = "no answer in time" if remaining <= 0 else _describe_status(self.exit_status)
                self.kill()
                raise SandboxError(f"the sandbox did not start ({why})")
            for frame in self._pump(remaining, None):
                if "error" in frame:
                    self.kill()
                    raise SandboxError(str(frame["error"]))
                if frame.get("ready"):
                    self.ready = True
                    self.worker_pid = int(frame.get("pid", 0))
                    self.workdir = str(frame.get("workdir", ""))
                    for name, value in dict(frame.get("isolation", {})).items():
                        self.report[name] = Protection(bool(value[0]), str(value[1]))
        self.report["tree_kill"] = self._tree_kill()

    def _tree_kill(self) -> Protection:
        if self.report["pid_namespace"].active:
            return Protection(True, "pid namespace: killing its init kills every process in it, setsid or not")
        if self.cgroups.active("pids"):
            return Protection(True, "cgroup: every process in the sandbox's cgroup is killed")
        return Protection(False, "process group only: a descendant that calls setsid can survive")

    # -- running ---------------------------------------------------------------------------
    def execute(self, code: str, timeout: float, head: int, tail: int) -> ExecResult:
        out, err = HeadTail(head, tail), HeadTail(head, tail)
        sinks = (out, err)
        oom_before = self.cgroups.oom_kills()
        deadline = time.monotonic() + timeout
        try:
            self.ctrl.settimeout(timeout)
            send_frame(self.ctrl, {"code": code})
        except OSError:  # a full socket past the deadline, or a dead worker
            self.dead = True
        answer: dict[str, Any] | None = None
        while answer is None and not self.dead:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                message = f"Timeout: the cell ran longer than {timeout:g} s and was stopped; {_RESTARTED}."
                return ExecResult(out.text(), err.text(), ok=False, timed_out=True, error=message)
            for frame in self._pump(remaining, sinks):
                if "ok" in frame:
                    answer = frame
        for fd in (self.out_fd, self.err_fd):  # what the cell flushed before answering
            for _ in range(64):
                if not self._read_output(fd, sinks):
                    break
        if answer is None:
            while self.exit_status is None and self._pump(0.2, sinks):
                pass  # the init's exit report may trail the end of the worker's stream
            oom = self.cgroups.oom_kills() > oom_before
            self.kill()
            if oom:
                why = "out of memory: the sandbox exceeded its memory cap"
            elif self.protocol_error:
                why = "it wrote a malformed message on the sandbox's control channel"
            else:
                why = _describe_status(self.exit_status)
            return ExecResult(out.text(), err.text(), ok=False, error=f"The Python process died ({why}); {_RESTARTED}.")
        ok = answer.get("ok") is True
        error = answer.get("error")
        error = None if ok else (error[:1000] if isinstance(error, str) else "the cell failed")
        return ExecResult(out.text(), err.text(), ok=ok, error=error)

    def kill(self) -> None:
        """Kills the whole tree and waits (bounded) until it is gone; frees every resource."""
        if self.pidfd < 0:
            return
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.report.get("pid_namespace", Protection(False, "")).active:
            # Every process of the sandbox holds the control socket: its end of file means
            # that the pid namespace is empty.
            deadline = time.monotonic() + _KILL_TIMEOUT
            self.ctrl.settimeout(_KILL_TIMEOUT)
            try:
                while time.monotonic() < deadline and self.ctrl.recv(1 << 16):
                    pass
            except OSError:
                pass
        elif self.worker_pid:
            try:
                os.killpg(self.worker_pid, signal.SIGKILL)
            except OSError:
                pass
        self.cgroups.kill()
        self.cgroups.remove()
        os.close(self.pidfd)
        self.pidfd = -1
        self.ctrl.close()
        os.close(self.out_fd)
        os.close(self.err_fd)
        if self.workdir and self.workdir != "/tmp":
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.dead = True


class PythonSandbox:
    """A persistent, confined Python interpreter (see the module docstring).

    Args:
        timeout: wall-clock seconds per cell (``run`` may override it per call).
        memory_mb: memory cap. Each process may map this much beyond the preloaded libraries
            (``RLIMIT_AS``: an allocation past it raises ``MemoryError``); all processes together
            may use this plus ``workdir_mb`` plus 64 MB (memory cgroup: past it the kernel kills
            the largest, and the interpreter restarts).
        max_processes: processes and threads the sandbox may have at once (pids cgroup;
            ``RLIMIT_NPROC`` where there is no cgroup).
        max_file_mb: largest file a cell may write (``RLIMIT_FSIZE``).
        workdir_mb: size of the private tmpfs working directory ``/tmp``.
        max_output_bytes: per stream, how much output is kept: the first and last halves.
        preload: modules imported in the zygote before forking (shared, and free per cell).

    A sandbox is for one thread at a time; create it after any ``fork`` of the host.
    """

    def __init__(
        self,
        *,
        timeout: float = 5.0,
        memory_mb: int = 1024,
        max_processes: int = 64,
        max_file_mb: int = 16,
        workdir_mb: int = 64,
        max_output_bytes: int = 1 << 16,
        preload: tuple[str, ...] = DEFAULT_PRELOAD,
    ) -> None:
        for name, value in (
            ("memory_mb", memory_mb),
            ("max_processes", max_processes),
            ("max_file_mb", max_file_mb),
            ("workdir_mb", workdir_mb),
            ("max_output_bytes", max_output_bytes),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        self.timeout = self._check_timeout(timeout)
        if max_processes < 4:
            raise ValueError(f"max_processes must be at least 4 (init, worker and room to run), got {max_processes}")
        self.max_output_bytes = max_output_bytes
        self.preload = tuple(preload)
        self._options = {
            "memory_mb": memory_mb,
            "max_processes": max_processes,
            "max_file_mb": max_file_mb,
            "workdir_mb": workdir_mb,
        }
        self._closed = False
        self._instance: _Instance | None = None
        self._spawn()

    @staticmethod
    def _check_timeout(timeout: Any) -> float:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
        return float(timeout)

    def _spawn(self) -> None:
        self._instance = _Instance(self._options, _zygote(self.preload))

    def _live(self) -> _Instance:
        if self._closed:
            raise SandboxError("the sandbox is closed")
        if self._instance is None or self._instance.dead:
            self._spawn()
        instance = self._instance
        assert instance is not None
        if not instance.ready:
            instance.wait_ready(_STARTUP_TIMEOUT)
            for name, protection in instance.report.items():
                if not protection.active and (name, protection.detail) not in _warned:
                    _warned.add((name, protection.detail))
                    warnings.warn(f"sandbox runs without {name}: {protection.detail}", SandboxWarning, stacklevel=3)
        return instance

    def run(self, code: str, timeout: float | None = None) -> ExecResult:
        """Runs one cell and returns its :class:`ExecResult`; never raises for what the code
        does (only :class:`SandboxError` when the sandbox itself cannot work)."""
        if not isinstance(code, str):
            raise TypeError(f"code must be a str, got {type(code).__name__}")
        limit = self.timeout if timeout is None else self._check_timeout(timeout)
        instance = self._live()
        half = self.max_output_bytes // 2
        result = instance.execute(code, limit, half, self.max_output_bytes - half)
        if instance.dead:
            instance.kill()
            self._spawn()  # warm up the replacement while the caller reads the result
        return result

    def isolation(self) -> dict[str, Protection]:
        """Every protection, whether it is in force on this machine, and how (see docs/sandbox.md)."""
        return dict(self._live().report)

    def close(self) -> None:
        """Kills every process of the sandbox and removes its cgroups and working directory."""
        self._closed = True
        if self._instance is not None:
            self._instance.kill()
            self._instance = None

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> PythonSandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        if not getattr(self, "_closed", True):
            try:
                self.close()
            except Exception:  # interpreter shutdown: the exit handler cleans up instead
                pass
