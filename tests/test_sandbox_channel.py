"""The sandbox's channels and the end of a cell: nothing a cell writes makes the host raise, the
sandbox stays in step after any protocol failure, a cell cannot forge its own completion, and
nothing of a sandbox runs between cells.

Property-based tests (hypothesis) feed random and adversarial byte streams to the frame reader
and random JSON to the frame checks; end-to-end tests have cells write to their own control
socket and leave threads and processes behind.
"""

from __future__ import annotations

import json
import struct
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thinkgym.sandbox import PythonSandbox
from thinkgym.sandbox.protocol import FrameReader, ProtocolError, check_answer, check_ready, check_status

HEADER = struct.Struct("!I")


def frame(payload: bytes) -> bytes:
    return HEADER.pack(len(payload)) + payload


# -- the frame reader and the frame checks ---------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
adversarial_payloads = st.one_of(
    st.binary(max_size=200),
    st.integers(1, 100_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(1, 100_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.integers(1, 10_000).map(lambda digits: b'{"exit": ' + b"9" * digits + b"}"),
    st.sampled_from([b"\xff\xfe", b'"\xed\xa0\x80"', b"NaN", b"[]", b"1", b'{"ok": true}', b"\x00"]),
    json_values.map(lambda value: json.dumps(value).encode()),
)


def _feed_all(reader: FrameReader, data: bytes, cuts: list[int]) -> list[dict]:
    frames: list[dict] = []
    pieces, last = [], 0
    for cut in sorted(c % (len(data) + 1) for c in cuts):
        pieces.append(data[last:cut])
        last = cut
    pieces.append(data[last:])
    for piece in pieces:
        frames.extend(reader.feed(piece))
    return frames


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=2000), cuts=st.lists(st.integers(0, 2000), max_size=6))
def test_random_bytes_give_frames_or_a_protocol_error_never_anything_else(data, cuts):
    reader = FrameReader(limit=1 << 16)
    try:
        frames = _feed_all(reader, data, cuts)
    except ProtocolError:
        with pytest.raises(ProtocolError):  # broken for good: the stream is out of step
            reader.feed(frame(b"{}"))
        return
    assert all(isinstance(f, dict) for f in frames)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payloads=st.lists(adversarial_payloads, min_size=1, max_size=4), cuts=st.lists(st.integers(0, 10**6)))
def test_adversarial_frames_give_frames_or_a_protocol_error(payloads, cuts):
    reader = FrameReader(limit=1 << 20)
    data = b"".join(frame(p) for p in payloads)
    try:
        frames = _feed_all(reader, data, cuts)
    except ProtocolError as exc:
        assert str(exc)  # a clear reason
        return
    assert len(frames) == len(payloads) and all(isinstance(f, dict) for f in frames)


def test_deep_huge_and_oversized_frames_are_protocol_errors():
    for payload in (b"[" * 100_000 + b"]" * 100_000, b'{"a":' * 5000 + b"1" + b"}" * 5000, b"\xff"):
        with pytest.raises(ProtocolError):
            FrameReader(limit=1 << 20).feed(frame(payload))
    with pytest.raises(ProtocolError, match="exceeds the limit"):
        FrameReader(limit=10).feed(HEADER.pack(11))
    with pytest.raises(ProtocolError, match="not an object"):
        FrameReader(limit=10).feed(frame(b"[]"))


@settings(max_examples=300, deadline=None)
@given(value=st.dictionaries(st.sampled_from(["ok", "error", "exit", "stopped", "ready", "pid", "x"]), json_values))
def test_frame_checks_accept_exactly_their_shapes(value):
    for check in (check_answer, check_status, check_ready):
        try:
            result = check(value)
        except ProtocolError:
            continue
        assert isinstance(result, tuple)
    assert check_status({"stopped": 3}) == ("stopped", 3)
    assert check_answer({"ok": False, "error": "E"}) == (False, "E")
    for bad in ({"exit": 10**30}, {"stopped": True}, {"stopped": -1}, {"stopped": 2**70}):
        with pytest.raises(ProtocolError):
            check_status(bad)


# -- a cell that writes on its own control socket ----------------------------------------------
# Finds the control socket among the worker's descriptors and writes raw bytes on it.
_WRITE_CTRL = """
import os, stat, struct
def write_ctrl(data):
    for fd in range(3, 64):
        try:
            if stat.S_ISSOCK(os.fstat(fd).st_mode):
                os.write(fd, data)
        except OSError:
            pass
def frame(payload):
    return struct.pack('!I', len(payload)) + payload
"""


@pytest.fixture(scope="module")
def box():
    with PythonSandbox(timeout=3) as sandbox:
        sandbox.run("pass")
        yield sandbox


@pytest.mark.parametrize(
    "payload, words",
    [
        ("frame(b'[' * 30000 + b']' * 30000)", "nests deeper"),  # RecursionError in json, once
        ("frame(b'{\"exit\": ' + b'9' * 5000 + b'}')", "malformed"),  # int too long to parse
        ("frame(b'{\"exit\": ' + str(10 ** 30).encode() + b'}')", "unexpected messages"),  # OverflowError, once
        ('frame(b\'{"ok": true, "error": null}\')', "unexpected messages"),  # a forged answer
        ('frame(b\'{"ok": 1, "error": 2}\')', "unexpected messages"),
        ("b'\\xff\\xff\\xff\\xff' + b'x' * 64", "exceeds the limit"),
        ("frame(b'\\xff\\xfe')", "malformed"),
        ("frame(b'[1, 2]')", "not an object"),
    ],
)
def test_anything_a_cell_writes_on_its_control_socket_is_a_crash_and_later_cells_are_in_step(box, payload, words):
    box.run("before = 'kept'")
    result = box.run(_WRITE_CTRL + f"write_ctrl({payload})\nprint('attack output')")
    assert not result.ok and not result.timed_out
    assert "control channel" in result.error and words in result.error and "restarted" in result.error
    after = box.run("print('fresh', 'before' in globals())")
    assert after.ok and after.stdout == "fresh False\n" and after.stderr == ""
    assert box.run("print(1 + 1)").stdout == "2\n"


def test_a_forged_answer_at_the_wrong_time_and_a_closed_socket_are_crashes(box):
    # An answer that the worker sends too (two answers), and a cell that closes its socket.
    late = 'lambda: (time.sleep(0.05), write_ctrl(frame(b\'{"ok": true, "error": null}\')))'
    result = box.run(_WRITE_CTRL + f"import threading, time\nthreading.Thread(target={late}).start()\ntime.sleep(0.2)")
    assert not result.ok and "control channel" in result.error
    closed = box.run("import os\nos.closerange(3, 64)")
    assert not closed.ok and "restarted" in closed.error
    assert box.run("print('in step')").stdout == "in step\n"


# -- a cell cannot forge its completion; nothing runs between cells --------------------------
def test_a_cell_that_answers_its_own_done_still_times_out_and_so_do_later_cells():
    with PythonSandbox(timeout=1) as sandbox:
        forged = sandbox.run(_WRITE_CTRL + 'write_ctrl(frame(b\'{"ok": true, "error": null}\'))\nwhile True: pass')
        assert forged.timed_out
        # A thread that serves the protocol itself: it answers every later cell at once.
        server = _WRITE_CTRL + (
            "import json, socket, threading\n"
            "def serve():\n"
            "    for fd in range(3, 64):\n"
            "        try:\n"
            "            s = socket.socket(fileno=os.dup(fd))\n"
            "            break\n"
            "        except OSError:\n"
            "            pass\n"
            "    while True:\n"
            "        size = struct.unpack('!I', s.recv(4))[0]\n"
            "        s.recv(size)\n"
            '        write_ctrl(frame(b\'{"ok": true, "error": null}\'))\n'
            "threading.Thread(target=serve, daemon=True).start()\n"
        )
        assert sandbox.run(server).ok
        later = [sandbox.run("while True: pass") for _ in range(2)]
        assert all(r.timed_out for r in later), later
        assert sandbox.run("print('ok')").stdout == "ok\n"


def _idle_cpu(sandbox: PythonSandbox, seconds: float) -> float:
    before = sandbox.cpu_time()
    time.sleep(seconds)
    return sandbox.cpu_time() - before


def test_threads_and_forks_of_a_cell_burn_no_cpu_between_cells():
    with PythonSandbox(timeout=5) as sandbox:
        if sandbox.cpu_time() is None:
            pytest.skip("no CPU accounting cgroup on this machine")
        # A daemon thread that spins, and one that forks a spinning child after the cell ended.
        code = (
            "import os, threading, time\n"
            "def spin():\n    while True: pass\n"
            "def fork_later():\n    time.sleep(0.3)\n    if os.fork() == 0:\n        spin()\n"
            "threading.Thread(target=spin, daemon=True).start()\n"
            "threading.Thread(target=fork_later, daemon=True).start()\n"
            "time.sleep(0.1)\nprint('started')"
        )
        assert sandbox.run(code).stdout == "started\n"
        assert _idle_cpu(sandbox, 1.0) < 0.05  # 1 s without a cell: the threads did not run
        assert len(sandbox.processes()) == 3  # outer, init and worker: nothing forked
        # The threads run again during the next cell; the fork happens then, and the child
        # ends with that cell.
        assert sandbox.run("import time\ntime.sleep(0.5)").ok
        assert _idle_cpu(sandbox, 1.0) < 0.05
        assert len(sandbox.processes()) == 3
        assert sandbox.run("print('alive')").stdout == "alive\n"


def test_cpu_quota_bounds_the_whole_sandbox():
    with PythonSandbox(timeout=10, cpus=0.2) as sandbox:
        if not sandbox.isolation()["cgroup_cpu"].active or sandbox.cpu_time() is None:
            pytest.skip("no cpu cgroup on this machine")
        before = sandbox.cpu_time()
        code = (
            "import os, threading, time\nstart = time.monotonic()\n"
            "def spin():\n    while time.monotonic() - start < 1.5: pass\n"
            "threads = [threading.Thread(target=spin) for _ in range(2)]\n"
            "[t.start() for t in threads]\n[t.join() for t in threads]\nprint(time.monotonic() - start)"
        )
        result = sandbox.run(code)
        wall = float(result.stdout)
        used = sandbox.cpu_time() - before
        assert used <= 0.2 * wall + 0.15, (used, wall)  # two spinning threads got a fifth of one CPU
