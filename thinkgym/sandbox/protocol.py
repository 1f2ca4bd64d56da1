"""The frames exchanged between the host and a sandbox.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. Two channels:

- the *control socket*, host and worker: the host sends ``{"code": str}``; the worker answers
  ``{"ok": bool, "error": str | None}`` per cell, after a first ``{"ready": true, "pid": int,
  "workdir": str, "isolation": {...}}`` (or ``{"error": str}`` when its setup failed). The cell's
  code shares the worker process, so everything on this channel is untrusted: a cell can write
  anything there, at any time.
- the *status socket*, host and the sandbox's init (which the cell cannot reach: the worker
  closes its copy before any cell runs). The host resumes the stopped worker for each cell itself
  (``SIGCONT``) and, when it needs the init's word that cell ``n`` is over (0: the setup), sends
  ``n`` as 8 bytes (:data:`ASK`). The init answers ``{"stopped": n}`` once the worker has
  stopped (the kernel's word, not the worker's) and it has ended every other process of the
  sandbox; it sends ``{"exit": str}`` when the worker died and ``{"error": str}`` when its
  setup failed.

The host reads both through :class:`FrameReader`, which never raises anything but
:class:`ProtocolError`, whatever the bytes (oversized, truncated, not UTF-8, not JSON, nested
past any depth, not an object), and :func:`check_answer` / :func:`check_ready` check each
frame's shape, so a hostile cell can only crash its own sandbox.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

__all__ = [
    "ASK",
    "FrameReader",
    "ProtocolError",
    "check_answer",
    "check_ready",
    "check_status",
    "frame_bytes",
    "recv_frame",
    "send_frame",
]

_HEADER = struct.Struct("!I")
ASK = struct.Struct("!Q")  # host to init: "tell me when cell n is over"
_MAX_DEPTH = 32  # deeper JSON is refused before it reaches the (recursive) decoder


class ProtocolError(Exception):
    """The peer sent something that is not a well-formed frame, or a frame out of place."""


def frame_bytes(obj: dict[str, Any]) -> bytes:
    """One frame, encoded."""
    data = json.dumps(obj).encode("utf-8")
    return _HEADER.pack(len(data)) + data


def send_frame(sock: socket.socket, obj: dict[str, Any]) -> None:
    """Sends one frame (blocking)."""
    sock.sendall(frame_bytes(obj))


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = sock.recv(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def recv_frame(sock: socket.socket) -> dict[str, Any] | None:
    """Reads one frame (blocking); ``None`` at end of stream. Used inside the sandbox, where the
    host is trusted."""
    header = _recv_exact(sock, _HEADER.size)
    if header is None:
        return None
    data = _recv_exact(sock, _HEADER.unpack(header)[0])
    return None if data is None else json.loads(data)


def _too_deep(payload: bytes) -> bool:
    """Whether brackets nest deeper than :data:`_MAX_DEPTH` (brackets inside strings counted
    too: a conservative bound that real frames never approach)."""
    depth = 0
    for byte in payload:
        if byte in b"[{":
            depth += 1
            if depth > _MAX_DEPTH:
                return True
        elif byte in b"]}":
            depth -= 1
    return False


class FrameReader:
    """Incremental decoder for untrusted frames: ``feed(bytes)`` returns the complete frames, or
    raises :class:`ProtocolError` (and keeps raising it: the stream is out of step for good)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buf = bytearray()
        self._broken: str | None = None

    def _decode(self, payload: bytes) -> dict[str, Any]:
        if payload.count(b"[") + payload.count(b"{") > _MAX_DEPTH and _too_deep(payload):
            raise ProtocolError(f"frame nests deeper than {_MAX_DEPTH} levels")
        try:
            obj = json.loads(payload.decode("utf-8"))
        except (ValueError, RecursionError, MemoryError) as exc:
            raise ProtocolError(f"malformed frame: {type(exc).__name__}: {str(exc)[:200]}") from None
        if not isinstance(obj, dict):
            raise ProtocolError(f"frame is a JSON {type(obj).__name__}, not an object")
        return obj

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        if self._broken is not None:
            raise ProtocolError(self._broken)
        self._buf += data
        frames = []
        try:
            while len(self._buf) >= _HEADER.size:
                (size,) = _HEADER.unpack_from(self._buf)
                if size > self.limit:
                    raise ProtocolError(f"frame of {size} bytes exceeds the limit of {self.limit}")
                if len(self._buf) < _HEADER.size + size:
                    break
                payload = bytes(self._buf[_HEADER.size : _HEADER.size + size])
                del self._buf[: _HEADER.size + size]
                frames.append(self._decode(payload))
        except ProtocolError as exc:
            self._broken = str(exc)
            self._buf.clear()
            raise
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buf)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_answer(frame: dict[str, Any]) -> tuple[bool, str | None]:
    """``(ok, error)`` of a worker's answer to a cell; :class:`ProtocolError` for anything else."""
    if set(frame) != {"ok", "error"} or not isinstance(frame["ok"], bool):
        raise ProtocolError(f"unexpected frame from the worker (keys {sorted(frame)[:5]})")
    error = frame["error"]
    if error is not None and not isinstance(error, str):
        raise ProtocolError("the worker's error is not a string")
    return frame["ok"], None if error is None else error[:1000]


def check_ready(frame: dict[str, Any]) -> tuple[int, str, dict[str, tuple[bool, str]]]:
    """``(pid, workdir, isolation)`` of the worker's ready frame; :class:`ProtocolError` for
    anything else."""
    pid, workdir, isolation = frame.get("pid"), frame.get("workdir"), frame.get("isolation")
    if frame.get("ready") is not True or not _is_int(pid) or not 0 < pid < 1 << 22:
        raise ProtocolError("malformed ready frame from the worker")
    if not isinstance(workdir, str) or not isinstance(isolation, dict):
        raise ProtocolError("malformed ready frame from the worker")
    report: dict[str, tuple[bool, str]] = {}
    for name, value in isolation.items():
        if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], bool)):
            raise ProtocolError(f"malformed isolation entry {name!r} from the worker")
        report[name] = (value[0], str(value[1]))
    return pid, workdir, report


def check_status(frame: dict[str, Any]) -> tuple[str, str | int]:
    """``(kind, value)`` of a frame from the init: ``("stopped", n)``, ``("exit", why)`` or
    ``("error", why)``; :class:`ProtocolError` for anything else."""
    if set(frame) == {"stopped"} and _is_int(frame["stopped"]) and 0 <= frame["stopped"] < 1 << 62:
        return "stopped", frame["stopped"]
    for kind in ("exit", "error"):
        if set(frame) == {kind} and isinstance(frame[kind], str):
            return kind, frame[kind][:1000]
    raise ProtocolError(f"unexpected frame from the sandbox's init (keys {sorted(frame)[:5]})")
