"""Ordinary Python inside the sandbox, isolation between sandboxes, and what the sandbox hides:
multiprocessing on a private /dev/shm, many threads (memory bounded by the cgroup, not by an
address-space limit), a user name, a uid of its own per sandbox (per-user kernel quotas apart),
masked /proc files, the seccomp ceiling, noexec /tmp, and escaped control characters in what
CodeInterpreter shows the model."""

from __future__ import annotations

import os
import platform
import sys

import pytest

import thinkgym
from thinkgym.envs.code_interpreter import format_output
from thinkgym.sandbox import ExecResult, PythonSandbox


@pytest.fixture(scope="module")
def box():
    with PythonSandbox(timeout=20) as sandbox:
        sandbox.run("pass")
        yield sandbox


def test_multiprocessing_pool_queue_and_process_pool_work(box):
    code = (
        "import multiprocessing as mp, concurrent.futures as cf\n"
        "def square(x):\n    return x * x\n"
        "with mp.Pool(2) as pool:\n    print(pool.map(square, range(5)))\n"
        "q = mp.Queue()\nq.put('queued')\nprint(q.get(timeout=5))\n"
        "with cf.ProcessPoolExecutor(2) as ex:\n    print(list(ex.map(square, [7, 8])))\n"
        "import os\nprint(sorted(os.listdir('/dev/shm')))"
    )
    result = box.run(code)
    assert result.ok, result.stderr
    assert result.stdout == "[0, 1, 4, 9, 16]\nqueued\n[49, 64]\n[]\n"


def test_many_threads_and_imports_work_because_memory_is_bounded_by_the_cgroup(box):
    if not box.isolation()["cgroup_memory"].active:
        pytest.skip("no memory cgroup here: RLIMIT_AS applies instead")
    code = (
        "import resource, threading\n"
        "print(resource.getrlimit(resource.RLIMIT_AS)[0] == resource.RLIM_INFINITY)\n"
        "go = threading.Event()\n"
        "def work():\n    go.wait()\n    bytearray(1 << 20)\n"
        "threads = [threading.Thread(target=work) for _ in range(40)]\n"
        "[t.start() for t in threads]\n"
        "import fractions, decimal, statistics, xml.dom.minidom\n"  # imports with 41 threads alive
        "print(sum(t.is_alive() for t in threads))\ngo.set()\n[t.join() for t in threads]\nprint('joined')"
    )
    result = box.run(code)
    assert result.ok, result.stderr
    assert result.stdout == "True\n40\njoined\n"


def test_memory_past_the_cap_is_stopped_by_the_cgroup():
    with PythonSandbox(timeout=20, memory_mb=128) as sandbox:
        if not sandbox.isolation()["cgroup_memory"].active:
            pytest.skip("no memory cgroup here")
        result = sandbox.run("chunks = []\nwhile True:\n    chunks.append(bytearray(16 << 20))")
        assert not result.ok and "out of memory" in result.error and "restarted" in result.error
        assert sandbox.run("print('back')").stdout == "back\n"


def test_user_name_and_home_resolve(box):
    code = "import getpass, os, pwd, grp\nprint(getpass.getuser(), pwd.getpwuid(os.getuid()).pw_dir, "
    code += "grp.getgrgid(os.getgid()).gr_name, os.path.expanduser('~'))"
    assert box.run(code).stdout == "sandbox /tmp sandbox /tmp\n"


def test_each_live_sandbox_has_a_uid_of_its_own(box):
    with PythonSandbox() as other:
        uids = {int(b.run("import os; print(os.getuid())").stdout) for b in (box, other)}
        if os.geteuid() == 0:
            assert other.isolation()["distinct_uid"].active
            assert len(uids) == 2 and not uids & {0, 65534}
        else:
            assert not other.isolation()["distinct_uid"].active


_INOTIFY = (
    "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    "fds = []\nwhile True:\n    fd = libc.inotify_init1(0)\n    if fd < 0:\n        break\n    fds.append(fd)\n"
    "import errno\nprint(len(fds), errno.errorcode[ctypes.get_errno()])"
)


# POSIX message queues of 80 KB each until RLIMIT_MSGQUEUE (819,200 bytes per user) refuses.
_MQ = (
    "import ctypes, errno, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
    "class Attr(ctypes.Structure):\n    _fields_ = [('flags', ctypes.c_long), ('maxmsg', ctypes.c_long), "
    "('msgsize', ctypes.c_long), ('curmsgs', ctypes.c_long), ('pad', ctypes.c_long * 4)]\n"
    "def mq(i):\n    attr = Attr(0, 10, 8192, 0)\n"
    "    return libc.mq_open(f'/q{i}'.encode(), os.O_CREAT | os.O_RDWR, 0o600, ctypes.byref(attr))\n"
)
_MQ_HOG = _MQ + (
    "queues = []\nwhile len(queues) < 1000:\n    q = mq(len(queues))\n    if q < 0:\n        break\n"
    "    queues.append(q)\nprint(len(queues), errno.errorcode[ctypes.get_errno()])"
)


def test_one_sandbox_exhausting_per_user_quotas_does_not_break_another(box):
    if os.geteuid() != 0:
        pytest.skip("a uid per sandbox needs root")
    with open("/proc/sys/fs/inotify/max_user_instances") as f:
        limit = int(f.read())
    if limit > 200:
        pytest.skip(f"max_user_instances is {limit}: the descriptor limit (256) would stop the hog first")
    with PythonSandbox() as hog:
        held = hog.run(_INOTIFY)  # keeps its instances: the variables persist
        count, err = held.stdout.split()
        assert err == "EMFILE" and int(count) <= limit
        probe = box.run("import ctypes, os\nfd = ctypes.CDLL(None).inotify_init1(0)\nprint(fd >= 0)\nos.close(fd)")
        assert probe.stdout == "True\n"  # the per-user quota of the other sandbox is untouched
        queues = hog.run(_MQ_HOG)
        count, err = queues.stdout.split()
        assert err == "EMFILE" and 0 < int(count) < 1000  # RLIMIT_MSGQUEUE of its uid reached
        assert box.run(_MQ + "print(mq(0) >= 0)").stdout == "True\n"


def test_proc_hides_host_details(box):
    with open("/proc/sys/kernel/random/boot_id") as f:
        host_boot_id = f.read()
    code = (
        "def read(path):\n    try:\n        return open(path, 'rb').read().decode('latin-1')\n"
        "    except OSError as exc:\n        return type(exc).__name__\n"
        "for path in ('/proc/cmdline', '/proc/sys/kernel/random/boot_id', '/proc/1/cmdline', "
        "'/proc/self/cgroup', '/proc/loadavg'):\n    print(repr(read(path)))"
    )
    lines = box.run(code).stdout.splitlines()
    cmdline, boot_id, init_cmdline, cgroup, loadavg = (eval(line) for line in lines)
    assert cmdline == "\n"
    assert boot_id.strip() and boot_id != host_boot_id
    assert os.path.dirname(thinkgym.__file__) not in init_cmdline  # no path of the project's package
    assert f"thinkgym-{os.getpid()}" not in cgroup and "sbx-" not in cgroup
    assert loadavg == "0.00 0.00 0.00 1/1 1\n"


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86_64 syscall numbers")
def test_seccomp_refuses_unreviewed_and_newer_system_calls(box):
    code = (
        "import ctypes, errno\nlibc = ctypes.CDLL(None, use_errno=True)\nout = []\n"
        "for number in (470, 1000, 457, 39):\n"
        "    ctypes.set_errno(0)\n    ret = libc.syscall(number, 0, 0, 0, 0)\n"
        "    out.append(errno.errorcode.get(ctypes.get_errno(), 'ok') if ret < 0 else 'ok')\nprint(out)"
    )
    # above the reviewed ceiling: ENOSYS; statmount (457): EPERM; getpid (39): allowed
    assert box.run(code).stdout == "['ENOSYS', 'ENOSYS', 'EPERM', 'ok']\n"
    x32 = box.run("import ctypes\nctypes.CDLL(None).syscall(0x40000000 | 39)")  # another ABI: killed
    assert "SIGSYS" in x32.error and "restarted" in x32.error


_EXEC_TMP = (
    "import os, subprocess, sys\nopen('/tmp/tool', 'w').write(f'#!{{sys.executable}}\\nprint(6 * 7)\\n')\n"
    "os.chmod('/tmp/tool', 0o755)\n"
    "try:\n    print(subprocess.run(['/tmp/tool'], capture_output=True, text=True).stdout.strip())\n"
    "except PermissionError:\n    print('PermissionError')"
)


def test_tmp_is_noexec_unless_asked(box):
    if not box.isolation()["mount_namespace"].active:
        pytest.skip("no mount namespace")
    assert box.run(_EXEC_TMP.format()).stdout == "PermissionError\n"
    with PythonSandbox(exec_tmp=True) as allowed:
        assert allowed.run(_EXEC_TMP.format()).stdout == "42\n"


def test_code_interpreter_output_escapes_control_characters():
    raw = ExecResult(stdout="ok\x1b[2J\x1b]0;title\x07\rover\x00\tcol\nnext\x9b", stderr="", ok=True)
    shown = format_output(raw)
    assert shown == "ok\\x1b[2J\\x1b]0;title\\x07\\x0dover\\x00\tcol\nnext\\x9b"
    assert not any(ord(c) < 32 and c not in "\n\t" for c in shown)


def test_sandbox_runs_with_this_interpreter_wherever_it_lives(box):
    # The interpreter (a venv under $HOME, under /tmp, or anywhere) is visible at its own path.
    assert box.run("import sys; print(sys.executable)").stdout == f"{sys.executable}\n"
