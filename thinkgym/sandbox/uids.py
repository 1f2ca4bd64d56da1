"""A pool of host uids, one per live sandbox, so that per-user kernel quotas (inotify instances,
POSIX message-queue bytes, descriptors in flight over ``SCM_RIGHTS``, pending signals, …) are
per sandbox: one sandbox that exhausts its quota does not touch another, nor a host service
that runs as ``nobody``.

Only root can switch to an arbitrary uid, so the pool serves a root host. A uid is held by an
exclusive ``flock`` on ``<dir>/<uid>`` for the life of the sandbox, which makes it unique across
every process on the machine (two test runs, two trainers) and frees it by itself when the
holder dies. The range is far above any real account's uid.
"""

from __future__ import annotations

import fcntl
import os

__all__ = ["FIRST", "COUNT", "Lease", "acquire"]

FIRST = 0x5A000000  # 1,509,949,440: far above any account, below 2**31 (no sign trouble)
COUNT = 1 << 16
_DIRS = ("/run/thinkgym-sandbox-uids", "/tmp/thinkgym-sandbox-uids")


class Lease:
    """A uid held for one sandbox; :meth:`release` (or the holder's death) frees it."""

    def __init__(self, uid: int, fd: int) -> None:
        self.uid = uid
        self._fd = fd

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def _directory() -> str:
    for path in _DIRS:
        try:
            os.makedirs(path, mode=0o700, exist_ok=True)
            if os.access(path, os.W_OK):
                return path
        except OSError:
            continue
    raise OSError(f"no writable directory for the sandbox uid locks (tried {', '.join(_DIRS)})")


def acquire() -> Lease:
    """A uid no other live sandbox on this machine holds. Raises ``OSError`` when none is free."""
    directory = _directory()
    for uid in range(FIRST, FIRST + COUNT):  # lowest free first: few lock files ever exist
        fd = os.open(f"{directory}/{uid}", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return Lease(uid, fd)
    raise OSError(f"all {COUNT} sandbox uids are in use")
