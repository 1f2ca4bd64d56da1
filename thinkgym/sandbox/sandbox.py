"""``PythonSandbox``: a persistent Python interpreter for untrusted code, confined by the kernel.

Use it as a context manager; each :meth:`PythonSandbox.run` is one notebook cell and the
variables of earlier cells persist::

    with PythonSandbox(timeout=5, memory_mb=1024) as box:
        box.run("import sympy; x = sympy.Symbol('x')")
        print(box.run("sympy.factor(x**2 - 1)").stdout)   # (x - 1)*(x + 1)

Variables persist from cell to cell; processes a cell starts end with it, and its threads are
stopped with the worker between cells (nothing of a sandbox runs while no cell does). A cell
that exceeds its time is killed with every process it started; so is a cell whose process dies
(memory cap, segfault, ``os._exit``) or that breaks the sandbox's control channel. The next cell
then runs in a fresh interpreter, and the result's ``error`` says that earlier variables are
gone. Nothing a cell does raises in the host. :meth:`PythonSandbox.isolation` lists every
protection and whether this machine provides it; a sandbox that cannot confine the file system,
processes and memory refuses to start unless ``allow_weak=True``.
"""

from __future__ import annotations

import atexit
import logging
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

from thinkgym.sandbox import cgroups, jail, uids
from thinkgym.sandbox.protocol import (
    ASK,
    FrameReader,
    ProtocolError,
    check_answer,
    check_ready,
    check_status,
    frame_bytes,
)
from thinkgym.sandbox.result import ExecResult, HeadTail, Protection, SandboxError, SandboxWarning
from thinkgym.sandbox.zygote import Zygote

__all__ = ["PythonSandbox"]

DEFAULT_PRELOAD = ("numpy", "sympy")
_STARTUP_TIMEOUT = 60.0
_KILL_TIMEOUT = 5.0
_MAX_FRAME = 1 << 16
_CGROUP_SLACK_MB = 64
_ASK_AFTER = 0.05  # s without the kernel's word that a cell is over before the init is asked
_RESTARTED = "the interpreter was restarted, so variables from earlier cells are gone"

_zygotes: dict[tuple[str, ...], Zygote] = {}
_zygotes_lock = threading.Lock()
_warned: set[tuple[str, str]] = set()
_instances: weakref.WeakSet[_Instance] = weakref.WeakSet()
_log = logging.getLogger("thinkgym.sandbox")

# What a sandbox needs to start without allow_weak=True: (what it confines, the protections
# that must be active, how to provide them).
REQUIRED = (
    ("the file system", ("mount_namespace",),
     "run as root, or enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1, "
     "user.max_user_namespaces > 0)"),
    ("processes", ("pid_namespace", "tree_kill"),
     "run as root, or enable unprivileged user namespaces (as for the file system)"),
    ("memory", ("cgroup_memory",),
     "run as root with a writable cgroup hierarchy (v1 memory, or v2 with the memory controller "
     "delegatable below this process's cgroup), or start the host inside a delegated cgroup v2 subtree, "
     "e.g. systemd-run --user --scope -p Delegate=yes python ..."),
)  # fmt: skip


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


def _children(pid: int) -> list[int]:
    """The children of process ``pid`` (of its main thread: the sandbox's processes have one)."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(child) for child in f.read().split()]
    except FileNotFoundError:  # a kernel without CONFIG_PROC_CHILDREN: scan
        found = []
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
        return found


def _pid_of(pidfd: int) -> int:
    with open(f"/proc/self/fdinfo/{pidfd}") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Pid:"))


def _crash(out: HeadTail, err: HeadTail, why: str, died: bool) -> ExecResult:
    what = "The Python process died" if died else "The cell broke the sandbox's protocol"
    return ExecResult(out.text(), err.text(), ok=False, error=f"{what} ({why}); {_RESTARTED}.")


class _Instance:
    """One live sandbox process tree (a sandbox gets a new one after each timeout or crash).

    The host trusts the kernel and the init, never the worker: a cell is over when the worker
    has stopped and nothing else of the sandbox exists, which the host learns either from the
    kernel (the worker's state in ``/proc`` is stopped and the pids cgroup holds only the outer,
    the init and the worker: the fast path) or from the init (``stopped`` on the status socket,
    sent after it has ended every other process). The worker's answer on the control socket is
    taken only if it is exactly one well-formed answer. Anything else on either channel marks
    the instance faulty; the sandbox then kills it and starts a fresh one, so later cells never
    see this one's output."""

    def __init__(self, options: dict[str, Any], zygote: Zygote) -> None:
        cgroup_mb = options["memory_mb"] + options["workdir_mb"] + _CGROUP_SLACK_MB
        self.lease: uids.Lease | None = None
        self.cgroups, self.report = cgroups.create(cgroup_mb, options["max_processes"], options["cpus"])
        if os.geteuid() == 0:
            try:
                self.lease = uids.acquire()
                self.report["distinct_uid"] = Protection(
                    True, f"uid {self.lease.uid} held by this sandbox alone: per-user kernel quotas are its own"
                )
            except OSError as exc:
                self.report["distinct_uid"] = Protection(False, f"no uid from the pool ({exc}); uid {jail.NOBODY}")
        else:
            self.report["distinct_uid"] = Protection(
                False, f"an ordinary user cannot switch uids: every sandbox runs as uid {os.geteuid()}"
            )
        ctrl, ctrl_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        status, status_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        config = {
            "memory_mb": options["memory_mb"],
            "max_processes": options["max_processes"],
            "max_file_mb": options["max_file_mb"],
            "workdir_mb": options["workdir_mb"],
            "exec_tmp": options["exec_tmp"],
            "uid": self.lease.uid if self.lease is not None else jail.NOBODY,
            "cgroup_procs": self.cgroups.procs_files,
            "pids_cgroup": self.cgroups.active("pids"),
            "memory_cgroup": self.cgroups.active("memory"),
        }
        try:
            self.pidfd = zygote.spawn(config, [ctrl_child.fileno(), status_child.fileno(), out_w, err_w])
        except BaseException:
            for fd in (out_r, err_r):
                os.close(fd)
            ctrl.close()
            status.close()
            self.cgroups.remove()
            if self.lease is not None:
                self.lease.release()
            raise
        finally:
            ctrl_child.close()
            status_child.close()
            os.close(out_w)
            os.close(err_w)
        self.ctrl, self.status, self.out_fd, self.err_fd = ctrl, status, out_r, err_r
        for sock in (ctrl, status):
            sock.setblocking(False)
        os.set_blocking(out_r, False)
        os.set_blocking(err_r, False)
        # The control socket is read only at the end of a cell: a cell that floods it blocks
        # itself and times out.
        self.poller = select.poll()
        self._polled = {ctrl.fileno(), status.fileno(), out_r, err_r}
        for fd in self._polled:
            self.poller.register(fd, select.POLLIN)
        self.worker_pidfd = -1
        self.ctrl_reader = FrameReader(_MAX_FRAME)
        self.status_reader = FrameReader(_MAX_FRAME)
        self.frames: list[dict[str, Any]] = []  # control frames since the last cell began
        self.ready = False
        self.stopped = False  # the worker has stopped and is alone: the cell is over
        self.cell = 0  # number of the current cell; the init numbers its stop reports alike
        self.asked = False  # the init was asked to report the end of the current cell
        self.worker_stat = ""  # /proc/<worker>/stat, in the host's pid namespace
        self.dead = False
        self.why: str | None = None  # why the instance is dead or faulty
        self.fault = False  # something broke the protocol: the instance must be replaced
        self.worker_pid = 0
        self.workdir = ""
        _instances.add(self)

    # -- reading ---------------------------------------------------------------------------
    def _break(self, why: str) -> None:
        if self.why is None:
            self.why = why
        self.fault = True

    def _recv_all(self, sock: socket.socket) -> tuple[bytes, bool]:
        """What the socket holds now, and whether its peer has closed it."""
        chunks = []
        while True:
            try:
                data = sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                return b"".join(chunks), False
            except OSError:
                return b"".join(chunks), True
            if not data:
                return b"".join(chunks), True
            chunks.append(data)

    def _read_ctrl(self) -> None:
        if self.ctrl.fileno() not in self._polled:
            return
        data, closed = self._recv_all(self.ctrl)
        try:
            self.frames.extend(self.ctrl_reader.feed(data))
        except ProtocolError as exc:
            self._break(f"it wrote a malformed message on the sandbox's control channel: {exc}")
        if len(self.frames) > 8:  # more than any cell's answer: a flood, not a protocol
            self._break("it wrote unexpected messages on the sandbox's control channel")
            self.frames.clear()
        if closed:
            self._unpoll(self.ctrl.fileno())

    def _read_status(self) -> None:
        if self.status.fileno() not in self._polled:
            return
        data, closed = self._recv_all(self.status)
        try:
            frames = self.status_reader.feed(data)
        except ProtocolError as exc:
            frames = []
            self._break(f"the sandbox's init sent a malformed message: {exc}")
        for frame in frames:
            try:
                kind, value = check_status(frame)
            except ProtocolError as exc:
                self._break(str(exc))
                continue
            if kind == "stopped":
                if value == self.cell:
                    self.stopped = True
                elif not isinstance(value, int) or value > self.cell:
                    self._break("the sandbox's init reported a stop out of order")
            else:
                if self.why is None:
                    self.why = str(value)
                self.dead = True
        if closed:
            self._unpoll(self.status.fileno())
            self.dead = True

    def _alone_and_stopped(self) -> bool:
        """The kernel's word that the cell is over: the worker is stopped (every thread of it)
        and the sandbox's cgroup holds no other task than the outer, the init and the worker."""
        if not self.worker_stat or not self.cgroups.active("pids"):
            return False
        try:
            with open(self.worker_stat, "rb") as f:
                state = f.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state == b"T" and self.cgroups.tasks() == 3

    def _pump(self, timeout: float, sinks: tuple[HeadTail, HeadTail] | None) -> None:
        """Waits up to ``timeout`` s for something to read, and reads it: output into ``sinks``
        (or discarded), control frames into ``frames``, status into the flags."""
        for fd, _ in self.poller.poll(max(0.0, timeout) * 1000):
            if fd == self.ctrl.fileno():
                self._read_ctrl()
                if self.frames and self.ready and not self.asked and self._alone_and_stopped():
                    self.stopped = True
            elif fd == self.status.fileno():
                self._read_status()
            else:
                self._read_output(fd, sinks)

    def _unpoll(self, fd: int) -> None:
        if fd in self._polled:
            self._polled.remove(fd)
            try:
                self.poller.unregister(fd)
            except KeyError:  # the control socket, no longer polled after the start
                pass

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

    def _drain(self, sinks: tuple[HeadTail, HeadTail] | None) -> None:
        """Reads what is already written (bounded: after a crash a child may still be writing)."""
        self._read_ctrl()
        self._read_status()
        for fd in (self.out_fd, self.err_fd):
            for _ in range(64):
                if not self._read_output(fd, sinks):
                    break

    def wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        self._ask()  # cell 0: the setup
        while not (self.ready and self.stopped):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.dead or self.fault:
                why = "no answer in time" if remaining <= 0 else (self.why or "it vanished")
                self.kill()
                raise SandboxError(f"the sandbox did not start ({why})")
            self._pump(remaining, None)
            for frame in self.frames:
                if set(frame) == {"error"}:
                    self.kill()
                    raise SandboxError(str(frame["error"])[:2000])
                try:
                    self.worker_pid, self.workdir, isolation = check_ready(frame)
                except ProtocolError as exc:
                    self.kill()
                    raise SandboxError(f"the sandbox did not start ({exc})") from None
                self.ready = True
                for name, (active, detail) in isolation.items():
                    self.report[name] = Protection(active, detail)
            self.frames.clear()
        self.report["tree_kill"] = self._tree_kill()
        self._find_worker()

    def _ask(self) -> None:
        """Asks the init to report the end of the current cell. From then on only its answer
        ends the cell: an unanswered ask would make it end the processes of a later cell."""
        self.asked = True
        try:
            self.status.send(ASK.pack(self.cell))
        except OSError:  # the init is gone: its end of stream marks the instance dead
            pass

    def _find_worker(self) -> None:
        """Opens a pidfd of the worker, through which the host resumes it for each cell. It is
        the init's only child, and the init the outer's: the worker has stopped before running
        any cell, so nothing else exists yet."""
        try:
            (init,) = _children(_pid_of(self.pidfd))
            (worker,) = _children(init)
            self.worker_pidfd = os.pidfd_open(worker)
            self.worker_stat = f"/proc/{worker}/stat"
        except (OSError, ValueError, StopIteration) as exc:
            self.kill()
            raise SandboxError(f"the sandbox did not start (its worker process was not found: {exc!r})") from None

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
        deadline = time.monotonic() + timeout
        self.frames.clear()
        self.stopped = False
        self.cell += 1
        timed_out = False
        try:
            signal.pidfd_send_signal(self.worker_pidfd, signal.SIGCONT)
            data = frame_bytes({"code": code})
            try:
                sent = self.ctrl.send(data)
            except BlockingIOError:
                sent = 0
            if sent < len(data):  # a long cell: the rest with a deadline
                self.ctrl.settimeout(timeout)
                try:
                    self.ctrl.sendall(data[sent:])
                finally:
                    self.ctrl.setblocking(False)
        except TimeoutError:  # the worker stopped reading: a cell's code took it over
            timed_out = True
        except OSError:  # a dead worker
            self.dead = True
        self.asked = False
        ask_at = time.monotonic() + _ASK_AFTER
        while not (timed_out or self.stopped or self.dead or self.fault):
            now = time.monotonic()
            remaining = deadline - now
            if remaining <= 0:
                timed_out = True
                break
            if not self.asked and (self.frames or now >= ask_at):
                # An answer came but the kernel does not (yet) show the cell over, or none came
                # for a while (a cell that stopped itself, or a long one): the init will say.
                self._ask()
            self._pump(remaining if self.asked else min(remaining, ask_at - now), sinks)
        if timed_out:
            self._drain(sinks)  # what the cell flushed before its time ran out
            self.kill()
            message = f"Timeout: the cell ran longer than {timeout:g} s and was stopped; {_RESTARTED}."
            return ExecResult(out.text(), err.text(), ok=False, timed_out=True, error=message)
        self._drain(sinks)
        answer = None
        if self.stopped and not (self.dead or self.fault):
            if len(self.frames) == 1:
                try:
                    answer = check_answer(self.frames[0])
                except ProtocolError as exc:
                    self._break(f"it wrote on the sandbox's control channel: {exc}")
            elif self.frames:
                self._break("it wrote unexpected messages on the sandbox's control channel")
            else:
                self._break("it ended the cell without an answer on the sandbox's control channel")
        if answer is None:
            if self.dead and self.why is None:  # the init's report may trail the end of the stream
                self._pump(0.2, sinks)
            oom = self.cgroups.oom_kills() > 0  # each instance has cgroups of its own
            why = "out of memory: the sandbox exceeded its memory cap" if oom else (self.why or "it vanished")
            died = oom or self.dead
            self.kill()
            return _crash(out, err, why, died)
        ok, error = answer
        return ExecResult(out.text(), err.text(), ok=ok, error=None if ok else (error or "the cell failed"))

    def kill(self) -> None:
        """Kills the whole tree and waits (bounded) until it is gone; frees every resource."""
        if self.pidfd < 0:
            return
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.report.get("pid_namespace", Protection(False, "")).active:
            # The init holds the status socket and the worker and its children the control
            # socket: end of file on both means that the pid namespace is empty.
            deadline = time.monotonic() + _KILL_TIMEOUT
            for sock in (self.status, self.ctrl):
                sock.settimeout(max(0.0, deadline - time.monotonic()))
                try:
                    while sock.recv(1 << 16):
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
        if self.worker_pidfd >= 0:
            os.close(self.worker_pidfd)
            self.worker_pidfd = -1
        self.ctrl.close()
        self.status.close()
        os.close(self.out_fd)
        os.close(self.err_fd)
        if self.lease is not None:
            self.lease.release()
        if self.workdir and self.workdir != "/tmp":
            shutil.rmtree(self.workdir, ignore_errors=True)
        self.dead = True


class PythonSandbox:
    """A persistent, confined Python interpreter (see the module docstring).

    Args:
        timeout: wall-clock seconds per cell (``run`` may override it per call).
        memory_mb: memory cap. All processes together may use this plus ``workdir_mb`` plus
            64 MB, files in ``/tmp`` and ``/dev/shm`` included (memory cgroup: past it the kernel
            kills the largest process, and the interpreter restarts). Only without a memory
            cgroup (``allow_weak=True``) does each process get an address-space limit of this
            size instead (``RLIMIT_AS``, which also caps threads).
        max_processes: processes and threads the sandbox may have at once (pids cgroup;
            ``RLIMIT_NPROC`` where there is no cgroup).
        max_file_mb: largest file a cell may write (``RLIMIT_FSIZE``).
        workdir_mb: size of the private tmpfs working directory ``/tmp`` (and of ``/dev/shm``).
        max_output_bytes: per stream, how much output is kept: the first and last halves.
        preload: modules imported in the zygote before forking (shared, and free per cell).
        cpus: CPU quota of the whole sandbox, in CPUs (cpu cgroup: 1.0 is one core's time).
        exec_tmp: allow executing files from ``/tmp`` (mounted ``noexec`` by default).
        allow_weak: start even where the file system, processes or memory cannot be confined
            (no namespaces, no memory cgroup); what is missing is logged and warned about.
            By default such a sandbox raises :class:`SandboxError` naming what is missing.

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
        cpus: float = 1.0,
        exec_tmp: bool = False,
        allow_weak: bool = False,
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
        if isinstance(cpus, bool) or not isinstance(cpus, (int, float)) or not 0.01 <= cpus <= 1024:
            raise ValueError(f"cpus must be a number of CPUs between 0.01 and 1024, got {cpus!r}")
        self.max_output_bytes = max_output_bytes
        self.preload = tuple(preload)
        self.allow_weak = bool(allow_weak)
        self._options = {
            "memory_mb": memory_mb,
            "max_processes": max_processes,
            "max_file_mb": max_file_mb,
            "workdir_mb": workdir_mb,
            "cpus": float(cpus),
            "exec_tmp": bool(exec_tmp),
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

    def _refuse_if_weak(self, instance: _Instance) -> None:
        """Raises :class:`SandboxError` naming what cannot be confined and how to provide it,
        unless ``allow_weak``. Runs once the sandbox has reported its protections, before any
        cell."""
        if self.allow_weak:
            return
        missing = []
        for what, names, how in REQUIRED:
            report = instance.report
            off = [f"{n} ({report[n].detail})" for n in names if n in report and not report[n].active]
            if off:
                missing.append(f"{what}: without {', '.join(off)}; to provide it, {how}")
        if missing:
            instance.kill()
            self._instance = None
            self._closed = True
            raise SandboxError(
                "refusing to start a sandbox that cannot confine " + "; ".join(missing)
                + ". Pass allow_weak=True to run with the weaker confinement anyway (see docs/sandbox.md)."
            )  # fmt: skip

    def _live(self) -> _Instance:
        if self._closed:
            raise SandboxError("the sandbox is closed")
        if self._instance is None or self._instance.dead:
            self._spawn()
        instance = self._instance
        assert instance is not None
        if not instance.ready:
            instance.wait_ready(_STARTUP_TIMEOUT)
            self._refuse_if_weak(instance)
            for name, protection in instance.report.items():
                if not protection.active and (name, protection.detail) not in _warned:
                    _warned.add((name, protection.detail))
                    _log.warning("sandbox runs without %s: %s (allow_weak=True)", name, protection.detail)
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

    def cpu_time(self) -> float | None:
        """CPU seconds that the live interpreter's processes have used so far, all together
        (from its cgroup's accounting; ``None`` without one). Restarts begin again at 0."""
        return self._live().cgroups.cpu_seconds()

    def memory_used(self) -> int | None:
        """Bytes of memory charged to the live interpreter now (its cgroup: what it allocated
        and copied, files in its tmpfs; the zygote's shared pages are not counted)."""
        return self._live().cgroups.memory_bytes()

    def processes(self) -> list[int]:
        """Host pids of the live interpreter's processes (from its cgroups; empty without):
        between cells exactly three, its outer, init and worker."""
        return self._live().cgroups.pids()

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
