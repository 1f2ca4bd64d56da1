"""Hostile code in a CodeInterpreter episode: each attack is contained, the host is unharmed, and
the episode goes on with a clear error in the observation.

The module runs inside a guard: a pids and memory cgroup around this test process (and so around
every sandbox it starts), or, without cgroup access, an ``RLIMIT_NPROC`` on the test process, so a
containment failure cannot take the machine down. Network tests only target 127.0.0.1.
"""

from __future__ import annotations

import os
import resource
import secrets
import socket
import subprocess
import sys
import threading
import time
import warnings

import pytest

from thinkgym.envs.code_interpreter import CodeInterpreter
from thinkgym.envs.sat import SaturnSATEnv
from thinkgym.sandbox import PythonSandbox, SandboxWarning

GUARD_PIDS = 1024
GUARD_MEMORY = 8 << 30


def _own_cgroup_dir(controller: str) -> str | None:
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, names, path = line.rstrip("\n").split(":", 2)
            if names == controller:
                return f"/sys/fs/cgroup/{controller}{path.rstrip('/')}"
    return None


@pytest.fixture(scope="module", autouse=True)
def guard():
    """Moves this process into guard cgroups (v1 pids and memory) for the module's duration."""
    moved: list[tuple[str, str]] = []  # (guard dir, original dir)
    for controller, limit_file, limit in (
        ("pids", "pids.max", GUARD_PIDS),
        ("memory", "memory.limit_in_bytes", GUARD_MEMORY),
    ):
        original = _own_cgroup_dir(controller)
        if original is None or not os.access(original, os.W_OK):
            continue
        path = f"{original}/thinkgym-security-guard-{os.getpid()}"
        os.makedirs(path, exist_ok=True)
        with open(f"{path}/{limit_file}", "w") as f:
            f.write(str(limit))
        with open(f"{path}/cgroup.procs", "w") as f:
            f.write(str(os.getpid()))
        moved.append((path, original))
    old_nproc = resource.getrlimit(resource.RLIMIT_NPROC)
    if not moved and os.geteuid() != 0:
        resource.setrlimit(resource.RLIMIT_NPROC, (GUARD_PIDS, old_nproc[1]))
    elif not moved:
        pytest.skip("no guard possible: root without writable pids and memory cgroups")
    yield
    for path, original in moved:
        # Every process still inside (this one, and a zygote started here) goes back, then the
        # empty tree is removed from the leaves up.
        for root, dirs, _ in os.walk(path, topdown=False):
            for directory in [os.path.join(root, d) for d in dirs] + ([path] if root == path else []):
                with open(f"{directory}/cgroup.procs") as f:
                    pids = f.read().split()
                for pid in pids:
                    try:
                        with open(f"{original}/cgroup.procs", "w") as f:
                            f.write(pid)
                    except OSError:
                        pass  # exited meanwhile
                os.rmdir(directory)
    if not moved:
        resource.setrlimit(resource.RLIMIT_NPROC, old_nproc)


def make_episode(timeout: float = 3.0) -> CodeInterpreter:
    """A CodeInterpreter episode on SAT with a short cell timeout and a 256 MB memory cap."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SandboxWarning)
        env = CodeInterpreter(
            SaturnSATEnv(level=1), max_tool_calls=100, sandbox_options={"timeout": timeout, "memory_mb": 256}
        )
        env.reset(seed=0)
    return env


@pytest.fixture
def episode():
    env = make_episode()
    yield env
    env.close()


def attack(env: CodeInterpreter, code: str) -> str:
    """Runs ``code`` as a tool call; checks that the episode goes on and the next cell works.
    Returns the attack's observation."""
    obs, reward, terminated, truncated, info = env.step(f"Let me try.\n```python\n{code}\n```\n")
    assert info["turn"] == "tool_call" and not terminated and not truncated and reward == 0.0
    after, _, terminated, _, after_info = env.step("Next.\n```python\nprint('still', 'here')\n```\n")
    assert not terminated and after == "```output\nstill here\n```\n", after
    return obs


def test_fork_bomb_is_stopped_and_its_processes_end_with_the_cell(episode):
    obs = attack(episode, "import os\nwhile True:\n    os.fork()")
    assert "BlockingIOError" in obs or "Timeout" in obs
    census = attack(episode, "import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))")
    assert census.startswith("```output\n[1, ")  # the init and the worker only: the bomb is gone
    assert subprocess.run(["true"]).returncode == 0  # the host can still fork


def test_memory_bomb_raises_or_restarts(episode):
    obs = attack(episode, "x = bytearray(8 << 30)")
    assert "MemoryError" in obs or "out of memory" in obs  # overcommit refused, or the cgroup's kill
    obs = attack(episode, "chunks = []\nwhile True:\n    chunks.append(bytearray(16 << 20))")
    assert "MemoryError" in obs or "out of memory" in obs


def test_memory_bomb_across_processes_hits_the_cgroup():
    episode = make_episode(timeout=20)  # the kernel takes its time to reclaim and kill
    spread = (
        "import os, time\npids = []\nfor _ in range(4):\n    pid = os.fork()\n    if pid == 0:\n"
        "        b = b'x' * (200 << 20)\n        time.sleep(0.3)\n        os._exit(0)\n    pids.append(pid)\n"
        "print('killed', sum(os.WIFSIGNALED(os.waitpid(p, 0)[1]) for p in pids))"
    )
    obs = attack(episode, spread)
    assert "killed" in obs or "out of memory" in obs
    if _isolation(episode)["cgroup_memory"].active:
        assert "killed 0" not in obs  # 800 MB in four processes exceed the sandbox's cgroup
    episode.close()


def _isolation(env: CodeInterpreter) -> dict:
    assert env._sandbox is not None
    return env._sandbox.isolation()


def test_cpu_spin_times_out(episode):
    obs = attack(episode, "while True:\n    pass")
    assert "Timeout: the cell ran longer than 3 s" in obs


def _rss_kb() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def test_endless_output_is_capped_and_host_memory_stays_flat(episode):
    before = _rss_kb()
    obs = attack(episode, "while True:\n    print('spam' * 1000)")
    assert "Timeout" in obs and len(obs) < 1500  # 400 + 400 characters of output, plus the error
    obs = attack(episode, "import os\nwhile True:\n    os.write(1, b'x' * 65536)")
    assert "Timeout" in obs and len(obs) < 1500
    assert _rss_kb() - before < 50_000


@pytest.fixture
def loopback_server():
    """A TCP server on 127.0.0.1 that counts the connections it accepts."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    accepted = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join()
    server.close()


def test_no_network_not_even_to_the_hosts_loopback(episode, loopback_server):
    port, accepted = loopback_server
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass  # the server works from the host
    deadline = time.monotonic() + 5
    while not accepted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(accepted) == 1
    obs = attack(episode, f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)")
    assert "PermissionError" in obs
    raw = (
        "import ctypes, struct\nlibc = ctypes.CDLL(None)\nfd = libc.socket(2, 1, 0)\n"
        f"addr = struct.pack('=H', 2) + struct.pack('!H', {port}) + bytes([127, 0, 0, 1]) + bytes(8)\n"
        "print('fd', fd, 'connect', libc.connect(fd, addr, 16))"
    )
    obs = attack(episode, raw)
    assert "connect -1" in obs  # refused by seccomp (fd -1) or by the empty network namespace
    obs = attack(episode, "print(open('/proc/net/dev').read())")
    assert "lo:" in obs and "eth" not in obs and "ens" not in obs  # only a loopback, down
    time.sleep(0.2)
    assert len(accepted) == 1  # nothing from the sandbox ever arrived


def test_host_environment_is_not_visible():
    canary = f"canary-{secrets.token_hex(8)}"
    os.environ["THINKGYM_TEST_SECRET"] = canary
    try:
        # preload=("json",) starts a zygote of its own, after the canary was set.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SandboxWarning)
            env = CodeInterpreter(SaturnSATEnv(level=1), sandbox_options={"preload": ("json",)})
        env.reset(seed=0)
        probe = (
            "import os\nseen = repr(dict(os.environ))\n"
            "for pid in [p for p in os.listdir('/proc') if p.isdigit()] + ['self']:\n"
            "    try:\n        seen += open(f'/proc/{pid}/environ', 'rb').read().decode('latin-1')\n"
            "    except OSError as exc:\n        seen += repr(exc)\n"
            "print(sorted(os.environ), len(seen))\nprint('THINKGYM_TEST_SECRET' in seen, "
            f"{canary!r} in seen)"
        )
        obs = attack(env, probe)
        env.close()
    finally:
        del os.environ["THINKGYM_TEST_SECRET"]
    assert "False False" in obs and canary not in obs
    assert "'HOME', 'LANG'" in obs


def test_host_files_can_be_neither_read_nor_written(episode, tmp_path):
    secret = tmp_path / "answers.txt"
    secret.write_text("the answer is 42")
    target = tmp_path / "planted.txt"
    repo_file = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "pyproject.toml")
    obs = attack(episode, f"print(open({str(secret)!r}).read())")
    assert "FileNotFoundError" in obs and "42" not in obs
    for path in (repo_file, "/etc/shadow", "/proc/1/root/etc/passwd"):
        obs = attack(episode, f"print(open({path!r}).read()[:100])")
        assert "Error" in obs, path
    with open("/etc/passwd") as f:
        host_users = [line.split(":")[0] for line in f if line.strip()]
    obs = attack(episode, "print(open('/etc/passwd').read())")  # the sandbox's own, minimal one
    assert "sandbox:x:" in obs and not set(host_users) - {"root", "nobody"} & set(obs.replace(":", " ").split())
    obs = attack(episode, f"open({str(target)!r}, 'w').write('pwned')")
    assert "Error" in obs and not target.exists()
    site = next(p for p in sys.path if p.endswith("site-packages"))
    planted = os.path.join(site, f"planted-{secrets.token_hex(4)}.pth")
    obs = attack(episode, f"open({planted!r}, 'w').write('import os')")
    assert "Read-only file system" in obs and not os.path.exists(planted)
    name = f"sandbox-{secrets.token_hex(4)}"
    attack(episode, f"open('/tmp/{name}', 'w').write('private')")
    assert not os.path.exists(f"/tmp/{name}")  # the sandbox's /tmp is its own


def test_host_processes_cannot_be_seen_or_signalled(episode):
    victim = subprocess.Popen(["sleep", "60"])
    try:
        code = (
            "import os, signal\nresults = {}\n"
            f"for name, pid in (('victim', {victim.pid}), ('host', {os.getpid()}), ('all', -1)):\n"
            "    try:\n        os.kill(pid, signal.SIGKILL); results[name] = 'sent'\n"
            "    except OSError as exc:\n        results[name] = type(exc).__name__\n"
            f"print(sorted(results.items()), os.path.exists('/proc/{victim.pid}'))"
        )
        obs = attack(episode, code)
        assert victim.poll() is None  # still running
        assert "('victim', 'ProcessLookupError')" in obs and "('host', 'ProcessLookupError')" in obs
        assert obs.rstrip("`\n").endswith("False")  # not even visible
    finally:
        victim.kill()
        victim.wait()


def _processes_named(name: str) -> list[int]:
    """Live processes (zombies, which run nothing and wait to be reaped, left out) named ``name``."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                comm, state = f.read().split(" (", 1)[1].rsplit(") ", 1)
            if comm == name and not state.startswith(("Z", "X")):
                found.append(int(pid))
        except (OSError, ValueError):
            pass
    return found


_ESCAPE = """
import ctypes, os, time
def escape():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            ctypes.CDLL(None).prctl(15, b"{name}", 0, 0, 0)
            time.sleep(120)
        os._exit(0)
"""


def test_setsid_grandchild_dies_on_timeout(episode):
    name = f"tg{secrets.token_hex(5)}"
    seen = []
    watching = threading.Event()

    def watch() -> None:
        while watching.is_set():
            seen.extend(_processes_named(name))
            time.sleep(0.02)

    watching.set()
    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        obs = attack(episode, _ESCAPE.format(name=name) + "escape()\nwhile True:\n    pass")
    finally:
        watching.clear()
        watcher.join()
    assert "Timeout" in obs
    assert seen, "the escape never ran, so the test proves nothing"
    assert _processes_named(name) == []


# The cell waits until the escaped grandchild runs, then ends normally.
_AWAIT_ESCAPE = """
escape()
for _ in range(500):
    if any(open(f'/proc/{{p}}/comm').read().strip() == "{name}" for p in os.listdir('/proc') if p.isdigit()):
        print('escaped')
        break
    time.sleep(0.01)
"""


def test_setsid_grandchild_dies_with_its_cell():
    name = f"tg{secrets.token_hex(5)}"
    with PythonSandbox(timeout=10) as box:
        result = box.run(_ESCAPE.format(name=name) + _AWAIT_ESCAPE.format(name=name))
        assert result.stdout == "escaped\n", "the escape never ran, so the test proves nothing"
        assert _processes_named(name) == []  # gone before run() returned
        assert box.run("print('next')").stdout == "next\n"


def test_ctypes_tricks_are_refused(episode):
    code = (
        "import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\nout = {}\n"
        "out['unshare'] = libc.unshare(0x10000000)\n"
        "out['mount'] = libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)\n"
        "out['ptrace'] = libc.ptrace(16, 1, 0, 0)\n"
        "out['setuid0'] = libc.setuid(0)\n"
        "out['chroot'] = libc.chroot(b'/tmp')\n"
        "out['bpf'] = libc.syscall(321, 0, 0, 0)\n"
        "print(sorted(out.items()))"
    )
    obs = attack(episode, code)
    for call in ("unshare", "mount", "ptrace", "setuid0", "chroot", "bpf"):
        assert f"('{call}', -1)" in obs, (call, obs)
    obs = attack(episode, "import ctypes\nctypes.string_at(0)")
    assert "SIGSEGV" in obs and "restarted" in obs


def test_os_and_subprocess_stay_inside(episode):
    obs = attack(episode, "import os\nprint('status', os.system('echo hacked > /tmp/hacked'))")
    assert "status 32512" in obs  # no shell at all in the sandbox's view
    obs = attack(episode, "import subprocess\nsubprocess.run(['/bin/sh', '-c', 'id'])")
    assert "FileNotFoundError" in obs
    code = (
        "import subprocess, sys\n"
        "r = subprocess.run([sys.executable, '-c', 'import os; print(os.getuid(), os.getpid())'], "
        "capture_output=True, text=True)\nprint('child', r.stdout.strip(), 'worker', os.getuid())"
    )
    obs = attack(episode, code)
    child_uid, child_pid = obs.split("child ")[1].split()[:2]
    worker_uid = obs.split("worker ")[1].split()[0]
    assert child_uid == worker_uid and int(child_uid) != 0  # a child interpreter runs, unprivileged,
    assert int(child_pid) < 100  # and inside the pid namespace


def test_forged_control_messages_only_break_the_sandbox_itself(episode):
    code = (
        "import os, stat\n"
        "for fd in range(3, 64):\n"
        "    try:\n        if stat.S_ISSOCK(os.fstat(fd).st_mode):\n"
        "            os.write(fd, b'\\xff\\xff\\xff\\xff' + b'x' * 64)\n"
        "    except OSError:\n        pass"
    )
    obs = attack(episode, code)
    assert "malformed message" in obs and "control channel" in obs and "restarted" in obs


def test_signal_handlers_cannot_dodge_the_kill(episode):
    code = "import signal\nfor s in (signal.SIGTERM, signal.SIGINT):\n    signal.signal(s, signal.SIG_IGN)\n"
    code += "while True:\n    pass"
    obs = attack(episode, code)
    assert "Timeout" in obs


_HOST = """
import sys, threading, time
from thinkgym.sandbox import PythonSandbox
box = PythonSandbox(timeout=600)
box.run("pass")
# The cell starts the escape and keeps running while the host is killed.
threading.Thread(target=box.run, args=(sys.argv[1] + "escape()\\nimport time\\ntime.sleep(600)",), daemon=True).start()
print("ready", flush=True)
time.sleep(600)
"""


def test_nothing_outlives_a_killed_host():
    name = f"tg{secrets.token_hex(5)}"
    host = subprocess.Popen([sys.executable, "-c", _HOST, _ESCAPE.format(name=name)], stdout=subprocess.PIPE, text=True)
    try:
        assert host.stdout.readline() == "ready\n"
        deadline = time.monotonic() + 10
        while not _processes_named(name) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _processes_named(name), "the escape never ran, so the test proves nothing"
    finally:
        host.kill()  # SIGKILL: no exit handler runs in the host
        host.wait()
    deadline = time.monotonic() + 10
    while _processes_named(name) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _processes_named(name) == []
