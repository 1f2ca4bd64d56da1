"""The worker: the process inside a sandbox that runs cells, like a notebook kernel.

It finishes the confinement (descriptors, session, privileges, rlimits, seccomp, environment),
reports the protections in force, then loops: read a cell, run it in one persistent namespace,
flush its output, report ``ok`` and a one-line error, and stop itself with ``SIGSTOP``. Its
parent, the sandbox's init, sees the stop, ends every other process of the sandbox and tells the
host that the cell is over; the next cell resumes the worker. The cell's code shares this
process, so nothing here is trusted by the host: the answer only says how the cell ended, and
the cell is over only once this process (every thread of it) has stopped.

Standard output and error are pipes that the host reads with a cap. Python state persists from
cell to cell; processes do not (a fork bomb or a forgotten server ends with its cell); threads
are stopped with the worker between cells and run again only during later cells. As in a
notebook, the value of a final expression is printed (through ``sys.displayhook``) and a
traceback shows the cell's own lines, not the worker's frames.
"""

from __future__ import annotations

import ast
import builtins
import io
import linecache
import os
import signal
import socket
import sys
import tempfile
import traceback
import types
from typing import Any, NoReturn

from thinkgym.sandbox import jail, linux, seccomp
from thinkgym.sandbox.protocol import recv_frame, send_frame
from thinkgym.sandbox.result import Protection

__all__ = ["ENV", "run_cell", "start"]

# The whole environment of the zygote and of every sandbox: nothing of the host's.
ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "PYTHONIOENCODING": "utf-8",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def run_cell(code: str, namespace: dict[str, Any], number: int) -> tuple[bool, str | None]:
    """Runs ``code`` in ``namespace``; returns ``(ok, error line)``. Every exception, SystemExit
    included, is caught and its traceback printed to ``sys.stderr``."""
    filename = f"<cell-{number}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    try:
        tree = ast.parse(code, filename, "exec")
        last = None
        if tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            sys.displayhook(eval(compile(last, filename, "eval"), namespace))
    except BaseException as exc:  # noqa: B036 - a cell's SystemExit must not end the worker
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != filename:
            tb = tb.tb_next  # drop the worker's own frames
        try:
            traceback.print_exception(type(exc), exc, tb, file=sys.stderr)
        except Exception:  # a broken __str__ or a closed stderr
            pass
        try:
            line = traceback.format_exception_only(type(exc), exc)[-1].strip()
        except Exception:
            line = type(exc).__name__
        return False, line[:1000]
    return True, None


def _flush(*streams: Any) -> None:
    for stream in streams:
        try:
            stream.flush()
        except Exception:  # the cell may have closed or replaced it
            pass


def _reap_children() -> None:
    """Reaps the children that the init killed at the end of the last cell."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _stop() -> None:
    """Ends the cell: the kernel stops every thread of this process until the init resumes it."""
    os.kill(os.getpid(), signal.SIGSTOP)


def _serve(ctrl: socket.socket) -> NoReturn:
    # The cells' namespace is the __main__ module, so what a cell defines can be pickled by
    # reference (multiprocessing.Pool, ProcessPoolExecutor), as in a notebook.
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = main
    namespace: dict[str, Any] = main.__dict__
    out, err = sys.stdout, sys.stderr
    me = os.getpid()
    number = 0
    while True:
        _stop()
        request = recv_frame(ctrl)
        if request is None:
            os._exit(0)
        _reap_children()
        number += 1
        sys.stdout, sys.stderr = out, err
        ok, error = run_cell(request["code"], namespace, number)
        _flush(sys.stdout, sys.stderr, out, err)
        if os.getpid() != me:  # a child the cell forked has finished the cell: it must not serve
            os._exit(0 if ok else 1)
        send_frame(ctrl, {"ok": ok, "error": error})


def _open_streams() -> None:
    def text(fd: int, mode: str) -> io.TextIOWrapper:
        raw = open(fd, mode + "b", buffering=1 << 16, closefd=False)
        return io.TextIOWrapper(raw, encoding="utf-8", errors="backslashreplace")

    sys.stdin = sys.__stdin__ = text(0, "r")
    sys.stdout = sys.__stdout__ = text(1, "w")
    sys.stderr = sys.__stderr__ = text(2, "w")


def start(config: dict[str, Any], ctrl: socket.socket, out_fd: int, err_fd: int, report: dict[str, Any]) -> NoReturn:
    """Entry point of the worker process (forked by the sandbox's init); never returns."""
    try:
        linux.set_parent_death_signal(signal.SIGKILL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        jail.close_fds_except({0, 1, 2, ctrl.fileno()})  # the status socket among them
        os.setsid()
        report.update(jail.drop_privileges(uid=config["uid"]))
        report["rlimits"] = jail.limit_resources(
            None if config["memory_cgroup"] else config["memory_mb"],
            config["max_file_mb"],
            config["max_processes"],
            nproc=not config["pids_cgroup"],
        )
        if config["seccomp_missing"]:
            report["seccomp"] = Protection(False, config["seccomp_missing"])
        else:
            try:
                report["seccomp"] = Protection(True, seccomp.install())
            except OSError as exc:
                report["seccomp"] = Protection(False, f"refused by the kernel ({exc})")
        # Without a mount namespace the working directory is a private host directory instead of
        # a tmpfs; the host removes it on close.
        workdir = "/tmp" if report["mount_namespace"].active else tempfile.mkdtemp(prefix="thinkgym-sandbox-")
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update(ENV)
        report["scrubbed_env"] = Protection(True, f"only {', '.join(sorted(ENV))}; nothing of the host's")
        sys.argv = [""]
        _open_streams()
        send_frame(ctrl, {"ready": True, "pid": os.getpid(), "workdir": workdir, "isolation": report})
    except BaseException as exc:  # noqa: B036 - report any setup failure to the host
        send_frame(ctrl, {"error": f"sandbox setup failed in the worker: {exc!r}"})
        os._exit(1)
    _serve(ctrl)
