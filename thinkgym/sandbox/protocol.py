"""The frames exchanged between the host and a sandbox over its control socket.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. The host sends
``{"code": str}``; the sandbox answers ``{"ok": bool, "error": str | None}`` per cell, after a
first ``{"ready": true, "isolation": {...}}`` (or ``{"error": str}`` when its setup failed), and
its init process adds ``{"exit": status}`` when the worker dies.

Everything the sandbox sends is untrusted (the model's code shares the worker process), so the
host reads frames through :class:`FrameReader`, which refuses frames over a size limit.
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

__all__ = ["FrameReader", "ProtocolError", "recv_frame", "send_frame"]

_HEADER = struct.Struct("!I")


class ProtocolError(Exception):
    """The peer sent something that is not a well-formed frame."""


def send_frame(sock: socket.socket, obj: dict[str, Any]) -> None:
    """Sends one frame (blocking)."""
    data = json.dumps(obj).encode("utf-8")
    sock.sendall(_HEADER.pack(len(data)) + data)


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


class FrameReader:
    """Incremental decoder for untrusted frames: ``feed(bytes)`` returns the complete frames."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        self._buf += data
        frames = []
        while len(self._buf) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._buf)
            if size > self.limit:
                raise ProtocolError(f"frame of {size} bytes exceeds the limit of {self.limit}")
            if len(self._buf) < _HEADER.size + size:
                break
            payload = bytes(self._buf[_HEADER.size : _HEADER.size + size])
            del self._buf[: _HEADER.size + size]
            try:
                obj = json.loads(payload)
            except ValueError as exc:
                raise ProtocolError(f"malformed frame: {exc}") from None
            if not isinstance(obj, dict):
                raise ProtocolError("frame is not a JSON object")
            frames.append(obj)
        return frames
