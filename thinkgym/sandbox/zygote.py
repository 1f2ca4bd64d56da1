"""The zygote: a warm Python process (numpy and sympy already imported) that forks sandboxes.

A fresh interpreter costs tens of milliseconds and ``import sympy`` a third of a second; a fork
of a warm one costs about a millisecond, and the imported modules are shared copy-on-write. The
host starts one zygote per set of preloaded modules (``python -I`` with :data:`ENV` as its
entire environment) and talks to it over a ``SOCK_SEQPACKET`` socket: each request carries the
sandbox's limits and three descriptors (control socket, stdout pipe, stderr pipe); each answer
carries a pidfd of the sandbox's *outer* process.

Process tree of one sandbox (each with ``PR_SET_PDEATHSIG=SIGKILL`` on its parent)::

    zygote (subreaper, reaps everything)
      outer    joins the cgroups, unshares the namespaces, waits
        init   pid 1 of the new pid namespace: builds the file system view, reaps
          worker   drops privileges, runs the cells

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
from thinkgym.sandbox.protocol import send_frame
from thinkgym.sandbox.result import SandboxError

__all__ = ["Zygote", "serve"]

# Runs in ``python -I -c``: loads thinkgym.sandbox without executing thinkgym/__init__.py, so
# neither gymnasium nor the rest of the project is imported into the zygote.
_BOOTSTRAP = (
    "import sys, types\n"
    "pkg = types.ModuleType('thinkgym'); pkg.__path__ = [sys.argv[1]]; sys.modules['thinkgym'] = pkg\n"
    "from thinkgym.sandbox.zygote import serve\n"
    "serve(int(sys.argv[2]), sys.argv[3:])\n"
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


def _fail(ctrl: socket.socket, where: str, exc: BaseException) -> None:
    try:
        send_frame(ctrl, {"error": f"sandbox setup failed in the {where} process: {exc!r}"})
    except OSError:
        pass


def _init(config: dict[str, Any], ctrl: socket.socket, out_fd: int, err_fd: int, report: dict[str, Any]) -> NoReturn:
    """pid 1 of the sandbox: builds the view, forks the worker, then only reaps. When the worker
    dies it reports the wait status and exits, which ends the pid namespace."""
    try:
        linux.set_parent_death_signal(signal.SIGKILL)
        if report["mount_namespace"].active:
            report["mount_namespace"] = jail.build_view(
                config["binds"], config["workdir_mb"], with_proc=report["pid_namespace"].active
            )
        if report["uts_namespace"].active:
            jail.set_hostname()
        pid = os.fork()
        if pid == 0:
            worker.start(config, ctrl, out_fd, err_fd, report)
        os.close(out_fd)
        os.close(err_fd)
        jail.drop_privileges(switch_user=False)  # keeps uid 0 apart from the worker's uid
    except BaseException as exc:  # noqa: B036 - report any setup failure to the host
        _fail(ctrl, "init", exc)
        os._exit(1)
    while True:
        try:
            child, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if child == pid:
            try:
                send_frame(ctrl, {"exit": status})
            except OSError:
                pass
            os._exit(0)


def _outer(config: dict[str, Any], fds: list[int]) -> NoReturn:
    ctrl_fd, out_fd, err_fd = fds
    ctrl = socket.socket(fileno=ctrl_fd)
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGCHLD})
        linux.set_parent_death_signal(signal.SIGKILL)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        jail.close_fds_except({0, 1, 2, ctrl_fd, out_fd, err_fd})
        for procs in config["cgroup_procs"]:
            with open(procs, "w") as f:
                f.write(str(os.getpid()))
        report = jail.enter_namespaces()
        pid = os.fork()
        if pid == 0:
            _init(config, ctrl, out_fd, err_fd, report)
        for fd in (out_fd, err_fd, ctrl_fd):
            os.close(fd)
        os.waitpid(pid, 0)
        code = 0
    except BaseException as exc:  # noqa: B036 - report any setup failure to the host
        _fail(ctrl, "outer", exc)
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
        msg, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
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
            [sys.executable, "-I", "-c", _BOOTSTRAP, package, str(child.fileno()), *preload],
            pass_fds=(child.fileno(),),
            env=worker.ENV,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,
            cwd="/",
        )
        child.close()
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
