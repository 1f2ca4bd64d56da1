"""The zygote: a warm Python process (numpy and sympy already imported) that forks sandboxes.

A fresh interpreter costs tens of milliseconds and ``import sympy`` a third of a second; a fork
of a warm one costs about a millisecond, and the imported modules are shared copy-on-write. The
host starts one zygote per set of preloaded modules (``python -I`` with :data:`ENV` as its
entire environment, and the package's path on standard input, so no host path is in the command
line that ``/proc/1/cmdline`` shows the sandbox) and talks to it over a ``SOCK_SEQPACKET``
socket: each request carries the sandbox's limits and four descriptors (control socket, status
socket, stdout pipe, stderr pipe); each answer carries a pidfd of the sandbox's *outer* process.

Process tree of one sandbox (each with ``PR_SET_PDEATHSIG=SIGKILL`` on its parent)::

    zygote (subreaper, reaps everything)
      outer    joins the cgroups, unshares the namespaces, waits
        init   pid 1 of the new pid namespace: builds the file system view, reaps, and
               supervises the worker (keeps only CAP_KILL, holds the status socket)
          worker   drops privileges, runs the cells, stops itself (SIGSTOP) after each

The worker ends each cell by stopping itself. The host sees the stop in the kernel's own
records (``/proc/<worker>/stat`` and the pids cgroup) when nothing else of the sandbox exists;
otherwise it asks the init, the worker's parent, which learns of the stop from the kernel
(``waitid``), kills every other process of the pid namespace and reports ``stopped`` on the
status socket, which the worker does not hold. So a cell cannot end itself without stopping
(all its threads with it), nothing of a sandbox runs between cells, and only the host resumes
the worker (``SIGCONT`` through a pidfd), when it sends the next cell.

Killing the outer kills the init, and the death of a pid namespace's init kills every process
in it, grandchildren that called ``setsid`` included. When the host goes away the zygote reads
end-of-file and kills its process group, so nothing outlives the host.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
from typing import Any, NoReturn

from thinkgym.sandbox import jail, linux, seccomp, worker
from thinkgym.sandbox.protocol import ASK, send_frame
from thinkgym.sandbox.result import SandboxError

__all__ = ["Zygote", "serve"]

# Runs in ``python -I -c``: loads thinkgym.sandbox without executing thinkgym/__init__.py, so
# neither gymnasium nor the rest of the project is imported into the zygote.
_BOOTSTRAP = (
    "import sys, types\n"
    "pkg = types.ModuleType('thinkgym'); pkg.__path__ = [sys.stdin.readline().rstrip('\\n')]\n"
    "sys.modules['thinkgym'] = pkg\n"
    "from thinkgym.sandbox.zygote import serve\n"
    "serve(int(sys.argv[1]), sys.argv[2:])\n"
)


# -- inside the zygote ----------------------------------------------------------------------
def _reap(signum: int, frame: Any) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _fail(status: socket.socket, where: str, exc: BaseException) -> None:
    try:
        send_frame(status, {"error": f"sandbox setup failed in the {where} process: {exc!r}"})
    except OSError:
        pass


def _describe(info: os.waitid_result) -> str:
    if info.si_code == os.CLD_EXITED:
        return f"exited with status {info.si_status}"
    try:
        name = signal.Signals(info.si_status).name
    except ValueError:
        name = str(info.si_status)
    return f"killed by signal {name}"


def _others(worker: int) -> list[int]:
    """The live processes of this pid namespace other than the init (pid 1) and the worker."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) not in (1, worker):
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    state = f.read().rsplit(b")", 1)[1].split()[0]
            except (OSError, IndexError):
                continue
            if state not in (b"Z", b"X"):
                found.append(int(entry))
    return found


def _end_others(worker: int) -> bool:
    """Kills every process of the pid namespace but the init and the (stopped) worker, repeating
    until none is left (a process may fork between the listing and its kill; each round kills
    what the last one missed). False if processes kept appearing."""
    for _ in range(1000):
        others = _others(worker)
        if not others:
            return True
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return False


def _stopped_now(worker: int) -> bool | None:
    """Whether the worker is stopped now, from ``/proc`` (None where it cannot be read: no pid
    namespace of its own)."""
    try:
        with open(f"/proc/{worker}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] in (b"T", b"t")
    except (OSError, IndexError):
        return None


def _supervise(status: socket.socket, worker: int, own_pid_namespace: bool) -> NoReturn:
    """The init's loop. The host resumes the worker itself (``SIGCONT``) and, when it cannot see
    for itself that a cell is over, asks with the cell's number (:data:`ASK`); the init answers
    ``{"stopped": n}`` once the worker has stopped, after ending every other process of the
    sandbox, or ``{"exit": why}`` if it died. Between asks the init sleeps (no wakeup per cell);
    orphans are reaped at each ask."""
    stopped = False  # the worker's state as of the last child event (where /proc cannot say)
    pending = b""
    while True:
        data = status.recv(4096)
        if not data:  # the host is gone
            os._exit(0)
        pending += data
        if len(pending) < ASK.size:
            continue
        (asked,) = ASK.unpack_from(pending, len(pending) - len(pending) % ASK.size - ASK.size)
        pending = pending[len(pending) - len(pending) % ASK.size :]
        # The host resumes the worker before it asks, so only a stop after that resume counts.
        # /proc says whether the worker is stopped now; events (which a dying process's exit
        # can hide for a moment) only where /proc cannot.
        while True:
            now = _stopped_now(worker)
            if now is None:
                now = stopped
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WSTOPPED | os.WCONTINUED | (os.WNOHANG if now else 0))
            except ChildProcessError:
                os._exit(0)
            if info is None:  # nothing new, and the worker is stopped
                break
            if info.si_pid != worker:
                continue  # an orphan of the sandbox, reaped
            if info.si_code == os.CLD_STOPPED:
                stopped = True
            elif info.si_code == os.CLD_CONTINUED:
                stopped = False
            elif info.si_code in (os.CLD_EXITED, os.CLD_KILLED, os.CLD_DUMPED):
                try:
                    send_frame(status, {"exit": _describe(info)})
                except OSError:
                    pass
                os._exit(0)
        if own_pid_namespace and not _end_others(worker):
            send_frame(status, {"exit": "its processes could not be ended (they kept forking)"})
            os._exit(1)
        send_frame(status, {"stopped": asked})


def _init(
    config: dict[str, Any], ctrl: socket.socket, status: socket.socket, out_fd: int, err_fd: int,
    report: dict[str, Any],
) -> NoReturn:  # fmt: skip
    """pid 1 of the sandbox: builds the view, forks the worker, then supervises it. When the
    worker dies it reports how and exits, which ends the pid namespace."""
    try:
        linux.set_parent_death_signal(signal.SIGKILL)
        uid = config["uid"] if os.geteuid() == 0 else os.getuid()
        if report["mount_namespace"].active:
            report["mount_namespace"] = jail.build_view(
                config["binds"], config["workdir_mb"], with_proc=report["pid_namespace"].active,
                uid=uid, gid=uid if os.geteuid() == 0 else os.getgid(), exec_tmp=config["exec_tmp"],
            )  # fmt: skip
        if report["uts_namespace"].active:
            jail.set_hostname()
        pid = os.fork()
        if pid == 0:
            status.close()  # the worker must never hold the status socket
            worker.start(config, ctrl, out_fd, err_fd, report)
        os.close(out_fd)
        os.close(err_fd)
        ctrl.close()
        # uid 0 stays apart from the worker's uid; CAP_KILL lets it end the worker's processes
        jail.drop_privileges(uid=None, keep=(linux.CAP_KILL,))
    except BaseException as exc:  # noqa: B036 - report any setup failure to the host
        _fail(status, "init", exc)
        os._exit(1)
    try:
        _supervise(status, pid, report["pid_namespace"].active)
    finally:
        os._exit(1)


def _outer(config: dict[str, Any], fds: list[int]) -> NoReturn:
    ctrl_fd, status_fd, out_fd, err_fd = fds
    ctrl = socket.socket(fileno=ctrl_fd)
    status = socket.socket(fileno=status_fd)
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        linux.set_parent_death_signal(signal.SIGKILL)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        jail.close_fds_except({0, 1, 2, *fds})
        for procs in config["cgroup_procs"]:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        report = jail.enter_namespaces()
        pid = os.fork()
        if pid == 0:
            _init(config, ctrl, status, out_fd, err_fd, report)
        for fd in fds:
            os.close(fd)
        os.waitpid(pid, 0)
        code = 0
    except BaseException as exc:  # noqa: B036 - report any setup failure to the host
        _fail(status, "outer", exc)
    finally:
        os._exit(code)


def serve(fd: int, preload: list[str]) -> NoReturn:
    """Main loop of the zygote process, reading spawn requests from socket ``fd``."""
    sock = socket.socket(fileno=fd)
    try:
        for name in preload:
            importlib.import_module(name)
    except BaseException as exc:  # noqa: B036 - tell the host why the zygote cannot start
        sock.send(json.dumps({"error": f"cannot preload {preload}: {exc!r}"}).encode())
        os._exit(1)
    seccomp_missing = seccomp.load_library()
    binds = jail.python_paths()
    linux.set_child_subreaper()
    signal.signal(signal.SIGCHLD, _reap)
    gc.freeze()  # keep the preloaded objects' pages shared with the forks
    sock.send(b'{"ok": true}')
    while True:
        msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 4)
        if not msg:  # the host is gone: take every sandbox down with us
            os.killpg(0, signal.SIGKILL)
        config = {**json.loads(msg), "binds": binds, "seccomp_missing": seccomp_missing}
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGCHLD})  # no reaping before pidfd_open
        try:
            pid = os.fork()
            if pid == 0:
                _outer(config, fds)
            pidfd = os.pidfd_open(pid)
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        for child_fd in fds:
            os.close(child_fd)
        socket.send_fds(sock, [b"ok"], [pidfd])
        os.close(pidfd)


# -- in the host ----------------------------------------------------------------------------
class Zygote:
    """The host's handle on one zygote process."""

    def __init__(self, preload: tuple[str, ...], startup_timeout: float = 120.0) -> None:
        self.preload = preload
        self.owner = os.getpid()
        self._lock = threading.Lock()
        host, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOTSTRAP, str(child.fileno()), *preload],
            pass_fds=(child.fileno(),),
            env=worker.ENV,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
        )
        child.close()
        assert self.process.stdin is not None
        self.process.stdin.write(package.encode() + b"\n")
        self.process.stdin.close()
        self._sock = host
        host.settimeout(startup_timeout)
        try:
            hello = host.recv(1 << 16)
        except OSError as exc:
            self.close()
            raise SandboxError(f"the sandbox zygote did not start: {exc}") from None
        host.settimeout(None)
        answer = json.loads(hello) if hello else {"error": "it exited at once"}
        if "error" in answer:
            self.close()
            raise SandboxError(f"the sandbox zygote did not start: {answer['error']}")

    def usable(self) -> bool:
        """Alive, and owned by this process (a forked host must start its own)."""
        return self.owner == os.getpid() and self.process.poll() is None

    def spawn(self, config: dict[str, Any], fds: list[int]) -> int:
        """Forks a sandbox; returns a pidfd of its outer process (the caller closes it)."""
        with self._lock:
            try:
                socket.send_fds(self._sock, [json.dumps(config).encode()], fds)
                msg, pidfds, _, _ = socket.recv_fds(self._sock, 64, 1)
            except OSError as exc:
                raise SandboxError(f"the sandbox zygote is gone: {exc}") from None
        if not msg or not pidfds:
            raise SandboxError("the sandbox zygote is gone")
        return pidfds[0]

    def close(self) -> None:
        """Closes the socket; the zygote then kills its process group and exits."""
        self._sock.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
