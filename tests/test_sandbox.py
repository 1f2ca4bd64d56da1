"""PythonSandbox: notebook semantics, limits, restarts, isolation report, pool, leaks, and the
same sandbox run as an ordinary user and on a machine without namespaces."""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

from thinkgym.sandbox import ExecResult, Protection, PythonSandbox, SandboxError, SandboxPool, SandboxWarning
from thinkgym.sandbox import sandbox as sandbox_module
from thinkgym.sandbox.protocol import FrameReader, ProtocolError
from thinkgym.sandbox.result import HeadTail

IS_ROOT = os.geteuid() == 0
EXPECTED_PROTECTIONS = {
    "cgroup_memory", "cgroup_pids", "cgroup_cpu", "mount_namespace", "pid_namespace", "net_namespace",
    "ipc_namespace", "uts_namespace", "cgroup_namespace", "unprivileged_uid", "distinct_uid", "capabilities",
    "no_new_privs", "rlimits", "seccomp", "scrubbed_env", "tree_kill",
}  # fmt: skip


@pytest.fixture(scope="module")
def box():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SandboxWarning)
        with PythonSandbox(timeout=2) as sandbox:
            sandbox.run("pass")
            yield sandbox


def test_state_persists_across_cells(box):
    assert box.run("x = 20\ndef f(y):\n    return x + y").ok
    result = box.run("print(f(22))")
    assert result == ExecResult(stdout="42\n", stderr="", ok=True)


def test_final_expression_is_displayed_like_a_notebook(box):
    assert box.run("a = [1, 2]\na").stdout == "[1, 2]\n"
    assert box.run("None").stdout == ""


def test_exception_gives_error_line_and_traceback_and_keeps_state(box):
    box.run("kept = 'yes'")
    result = box.run("y = 1\n1 / 0")
    assert not result.ok and not result.timed_out
    assert result.error == "ZeroDivisionError: division by zero"
    assert 'File "<cell-' in result.stderr and "1 / 0" in result.stderr
    assert "worker.py" not in result.stderr
    assert box.run("print(kept, y)").stdout == "yes 1\n"


def test_syntax_error_and_system_exit_do_not_end_the_interpreter(box):
    box.run("z = 3")
    bad = box.run("def (")
    assert not bad.ok and bad.error.startswith("SyntaxError")
    exited = box.run("import sys; sys.exit(4)")
    assert not exited.ok and exited.error == "SystemExit: 4"
    assert box.run("print(z)").stdout == "3\n"


def test_timeout_kills_the_cell_and_restarts_the_interpreter(box):
    box.run("before = 1")
    result = box.run("print('started', flush=True)\nwhile True: pass", timeout=1)
    assert result.timed_out and not result.ok
    assert "Timeout" in result.error and "restarted" in result.error
    assert result.stdout == "started\n"
    after = box.run("print('fresh', 'before' in globals())")
    assert after.stdout == "fresh False\n"


def test_crash_restarts_and_says_why(box):
    result = box.run("import os; os._exit(3)")
    assert not result.ok and not result.timed_out
    assert "exited with status 3" in result.error and "restarted" in result.error
    killed = box.run("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    assert "SIGKILL" in killed.error
    assert box.run("print('back')").stdout == "back\n"


def test_output_keeps_head_and_tail():
    with PythonSandbox(max_output_bytes=1000) as sandbox:
        result = sandbox.run("print('HEAD' + 'x' * 100000 + 'TAIL')")
    assert result.stdout.startswith("HEAD") and result.stdout.rstrip().endswith("TAIL")
    assert "bytes omitted" in result.stdout and len(result.stdout) < 1100


def test_stderr_and_fd_level_writes_are_captured(box):
    result = box.run("import os, sys\nprint('warn', file=sys.stderr)\n_ = os.write(1, b'raw\\n')")
    assert result.ok and result.stderr == "warn\n" and result.stdout == "raw\n"


def test_numpy_and_sympy_are_preloaded(box):
    result = box.run("import sys\nprint('numpy' in sys.modules, 'sympy' in sys.modules)")
    assert result.stdout == "True True\n"
    assert box.run("import sympy\nsympy.factor(sympy.Symbol('t')**2 - 1)").stdout == "(t - 1)*(t + 1)\n"


def test_private_working_directory_is_writable_and_removed():
    with PythonSandbox() as sandbox:
        cwd = sandbox.run("import os\nopen('notes.txt', 'w').write('hi')\nprint(os.getcwd())").stdout.strip()
        assert sandbox.run("print(open('notes.txt').read())").stdout == "hi\n"
        if sandbox.isolation()["mount_namespace"].active:
            assert cwd == "/tmp" and not os.path.exists("/tmp/notes.txt")  # a tmpfs of its own
    assert not os.path.exists(os.path.join(cwd, "notes.txt"))


def test_file_size_cap():
    with PythonSandbox(max_file_mb=1) as sandbox:
        result = sandbox.run("open('big', 'wb').write(b'x' * (2 << 20))")
    assert not result.ok and "File too large" in result.error


def test_isolation_reports_every_protection(box):
    report = box.isolation()
    assert EXPECTED_PROTECTIONS <= set(report)
    assert all(isinstance(p, Protection) and p.detail for p in report.values())
    if IS_ROOT:
        inactive = {name: p.detail for name, p in report.items() if not p.active}
        assert not inactive, inactive


def test_closed_sandbox_refuses_to_run_and_bad_arguments_are_errors():
    sandbox = PythonSandbox()
    sandbox.close()
    assert sandbox.closed
    with pytest.raises(SandboxError):
        sandbox.run("1")
    with pytest.raises(ValueError, match="timeout"):
        PythonSandbox(timeout=0)
    with pytest.raises(ValueError, match="memory_mb"):
        PythonSandbox(memory_mb=-1)
    with pytest.raises(ValueError, match="max_processes"):
        PythonSandbox(max_processes=2)
    with PythonSandbox() as ok, pytest.raises(TypeError):
        ok.run(b"print(1)")


def test_pool_hands_out_fresh_sandboxes():
    with SandboxPool(size=2) as pool:
        first, second = pool.acquire(), pool.acquire()
        with first, second:
            first.run("secret = 1")
            assert second.run("print('secret' in globals())").stdout == "False\n"
            assert first.run("print(secret)").stdout == "1\n"


def test_head_tail_buffer_and_untrusted_frames():
    buf = HeadTail(3, 3)
    for chunk in (b"ab", b"cdefg", b"hij"):
        buf.write(chunk)
    assert buf.total == 10 and buf.text() == "abc\n[... 4 bytes omitted ...]\nhij"
    short = HeadTail(3, 3)
    short.write(b"abcd")
    assert short.text() == "abcd"
    with pytest.raises(ProtocolError):
        FrameReader(limit=10).feed(b"\x00\x00\x01\x00")
    with pytest.raises(ProtocolError):
        FrameReader(limit=10).feed(b"\x00\x00\x00\x02[]")


def _descriptors_and_zombies() -> tuple[int, list[str]]:
    """Open descriptors of this process, and zombies whose parent is this process or a zygote."""
    parents = {str(os.getpid())} | {str(z.process.pid) for z in sandbox_module._zygotes.values()}
    zombies = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
        except OSError:
            continue
        if state == "Z" and ppid in parents:
            zombies.append(pid)
    return len(os.listdir("/proc/self/fd")), zombies


def _sandbox_cgroups() -> list[str]:
    return glob.glob(f"/sys/fs/cgroup/**/thinkgym-{os.getpid()}/sbx-*", recursive=True)


def _leak_check() -> None:
    """10,000 cells, then 30 sandboxes whose cells escape, crash or hang: afterwards this process
    holds the descriptors it held before, has no zombie children and no sandbox cgroup is left."""
    with PythonSandbox() as warm:
        warm.run("pass")
    fds_before, cgroups_before = _descriptors_and_zombies()[0], set(_sandbox_cgroups())
    with PythonSandbox() as sandbox:
        for i in range(10_000):
            assert sandbox.run(f"n = {i}").ok
        assert sandbox.run("print(n)").stdout == "9999\n"
    escape = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(60)"
    for i in range(30):
        with PythonSandbox(timeout=0.3) as sandbox:
            sandbox.run(escape + ("\nwhile True: pass" if i % 3 == 0 else ""))
            sandbox.run("import os; os._exit(1)" if i % 3 == 1 else "pass")
    deadline = time.monotonic() + 10  # the zygote reaps asynchronously: wait for it, boundedly
    while _descriptors_and_zombies()[1] and time.monotonic() < deadline:
        time.sleep(0.01)
    fds_after, zombies_after = _descriptors_and_zombies()
    assert fds_after == fds_before, (fds_before, fds_after)
    assert zombies_after == []
    assert set(_sandbox_cgroups()) <= cgroups_before


def test_no_leaked_descriptors_zombies_or_cgroups_after_10000_cells():
    # In a fresh interpreter: threads other tests leave behind (Ray, torch, servers) open and close
    # descriptors of their own at any time, which a count in this process would mistake for a leak.
    here = os.path.dirname(os.path.abspath(__file__))
    code = f"import sys; sys.path.insert(0, {here!r}); import test_sandbox; test_sandbox._leak_check(); print('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=280)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


# -- the same sandbox as an ordinary user, and without any namespace -------------------------
_USER_PROBE = textwrap.dedent(
    """
    import json, logging, os, warnings
    from thinkgym.sandbox import PythonSandbox, SandboxError
    logged = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())
    logging.getLogger("thinkgym.sandbox").addHandler(handler)
    try:
        with PythonSandbox(timeout=1, preload=()) as box:
            box.run("pass")
        refused = None
    except SandboxError as exc:
        refused = str(exc)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with PythonSandbox(timeout=1, preload=(), allow_weak=True) as box:
            report = {name: list(p) for name, p in box.isolation().items()}
            cells = [box.run(code).to_dict() for code in (
                "import os; print(os.getuid(), os.getcwd())", "x = 6 * 7", "print(x)", "while True: pass", "print(1)")]
    print(json.dumps({"uid": os.getuid(), "report": report, "cells": cells, "refused": refused, "logged": logged,
                      "warned": sorted({str(w.message).split(':')[0] for w in caught})}))
    """
)
# As root, hide root's 0700 home behind a tmpfs (the interpreter and the venv may live in it),
# optionally forbid new user namespaces (a kernel or policy without them), then become uid 65534
# and run the probe.
_AS_NOBODY = textwrap.dedent(
    """
    import ctypes, os, subprocess, sys
    libc = ctypes.CDLL(None, use_errno=True)
    forbid_userns = sys.argv[1] == "1"
    go_r, go_w = os.pipe(); ready_r, ready_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        flags = 0x00020000 | (0x10000000 if forbid_userns else 0)
        assert libc.unshare(flags) == 0, os.strerror(ctypes.get_errno())
        os.write(ready_w, b"x"); os.read(go_r, 1)
        if forbid_userns:
            open("/proc/sys/user/max_user_namespaces", "w").write("0")
        run = lambda *a: subprocess.run(a, check=True)
        run("mount", "--make-rprivate", "/")
        home = sys.argv[4]
        keeps = [k for k in sys.argv[2].split(":") if k]
        holds = []
        for i, keep in enumerate(keeps):
            hold = f"/mnt/keep{i}" if os.path.isdir("/mnt") else f"/media/keep{i}"
            os.makedirs(hold, exist_ok=True)
            run("mount", "--bind", keep, hold)
            holds.append(hold)
        run("mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs", home)
        for keep, hold in zip(keeps, holds):
            os.makedirs(keep)
            run("mount", "--move", hold, keep)
        os.chdir("/tmp")
        os.setgroups([]); os.setresgid(65534, 65534, 65534); os.setresuid(65534, 65534, 65534)
        os.execv(sys.argv[3], sys.argv[3:4] + sys.argv[5:])
    os.read(ready_r, 1)
    if forbid_userns:
        for name in ("uid_map", "gid_map"):
            open(f"/proc/{pid}/{name}", "w").write("0 0 65536")
    os.write(go_w, b"x")
    sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
    """
)


def _kept_under_home(home: str) -> list[str]:
    """The top directories under ``home`` that hold the interpreter, its base installation and
    the virtual environment (each may live under ``$HOME``: ``~/.pyenv``, ``~/venv``, …)."""
    keep = set()
    for path in (sys.prefix, sys.base_prefix, os.path.realpath(sys.executable), os.path.realpath(sys.prefix)):
        if path.startswith(home + "/"):
            keep.add(os.path.join(home, os.path.relpath(path, home).split(os.sep)[0]))
    return sorted(keep)


def _run_as_nobody(forbid_userns: bool) -> dict:
    home = os.path.expanduser("~")
    if not IS_ROOT or shutil.which("mount") is None:
        pytest.skip("needs root (to become an ordinary user) and mount(8)")
    keeps = _kept_under_home(home)
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if repo.startswith(home + "/"):
        keeps.append(os.path.join(home, os.path.relpath(repo, home).split(os.sep)[0]))
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": repo}
    args = [sys.executable, "-c", _AS_NOBODY, "1" if forbid_userns else "0", ":".join(sorted(set(keeps)))]
    proc = subprocess.run(
        [*args, sys.executable, home, "-c", _USER_PROBE], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_works_as_an_ordinary_user_through_a_user_namespace_only_when_weakness_is_allowed():
    out = _run_as_nobody(forbid_userns=False)
    # Without a memory cgroup the default is to refuse, naming what is missing and the fix.
    assert out["refused"] and "cannot confine memory" in out["refused"] and "cgroup_memory" in out["refused"]
    assert "allow_weak=True" in out["refused"] and "Delegate=yes" in out["refused"]
    report = {name: Protection(*value) for name, value in out["report"].items()}
    assert out["uid"] == 65534
    for name in ("user_namespace", "mount_namespace", "pid_namespace", "net_namespace", "seccomp", "tree_kill"):
        assert report[name].active, (name, report[name])
    assert not report["cgroup_pids"].active and "NPROC" in report["rlimits"].detail
    assert "AS=" in report["rlimits"].detail  # no memory cgroup: the address space is capped instead
    cells = out["cells"]
    assert cells[0]["stdout"] == "65534 /tmp\n" and cells[2]["stdout"] == "42\n"
    assert cells[3]["timed_out"] and cells[4]["stdout"] == "1\n"
    assert "sandbox runs without cgroup_pids" in out["warned"]
    assert any("sandbox runs without cgroup_memory" in line for line in out["logged"])


def test_degrades_only_when_allowed_without_namespaces():
    out = _run_as_nobody(forbid_userns=True)
    refused = out["refused"]
    assert refused and "allow_weak=True" in refused
    for what in ("the file system", "processes", "memory"):
        assert f"{what}: without" in refused, (what, refused)
    report = {name: Protection(*value) for name, value in out["report"].items()}
    for name in ("user_namespace", "mount_namespace", "pid_namespace", "net_namespace", "tree_kill"):
        assert not report[name].active and report[name].detail, name
        assert f"sandbox runs without {name}" in out["warned"]
    assert report["seccomp"].active and report["no_new_privs"].active and report["rlimits"].active
    cells = out["cells"]
    assert cells[0]["stdout"].startswith("65534 /tmp/thinkgym-sandbox-")
    assert cells[2]["stdout"] == "42\n" and cells[3]["timed_out"] and cells[4]["ok"]
    assert not os.path.exists(cells[0]["stdout"].split()[1])  # the private working directory is gone


def test_cgroups_left_by_a_killed_host_are_removed_by_the_next_one():
    parent = "/sys/fs/cgroup/pids"
    if not (IS_ROOT and os.access(parent, os.W_OK)):
        pytest.skip("needs a writable cgroup v1 pids hierarchy")
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = f"{parent}/thinkgym-{dead.pid}"
    os.makedirs(f"{stale}/sbx-0")
    code = "from thinkgym.sandbox import PythonSandbox\nwith PythonSandbox(preload=()) as box:\n    box.run('pass')"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
    assert not os.path.exists(stale)
