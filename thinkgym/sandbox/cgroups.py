"""Per-sandbox cgroups: a memory cap over all of a sandbox's processes and a process-count cap
(the fork-bomb stop that ``RLIMIT_NPROC`` cannot give root).

Each controller is used through cgroup v1 (``/sys/fs/cgroup/<controller>``) where that hierarchy
is writable, else through cgroup v2 where the controller can be enabled below the host process's
own cgroup. Per sandbox, a directory ``thinkgym-<host pid>/sbx-<n>`` is created under the host
process's cgroup, limits are written, the sandbox's first process joins it (all later ones are
born in it) and it is removed when the sandbox is closed. Without write access (an ordinary
user, or no delegation) the controller is reported unavailable and rlimits remain.
"""

from __future__ import annotations

import atexit
import itertools
import os
import signal
import time
from dataclasses import dataclass

from thinkgym.sandbox.result import Protection

__all__ = ["Cgroups", "create"]

_ROOT = "/sys/fs/cgroup"
_counter = itertools.count()


@dataclass(frozen=True)
class _Controller:
    name: str  # "memory" or "pids"
    parent: str  # thinkgym-<pid> directory for this process's sandboxes
    version: int
    limit_file: str
    oom_file: str | None


def _own_cgroup(hierarchy: str) -> str | None:
    """This process's path in a v1 hierarchy (``"memory"``) or in v2 (``""``)."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if controllers.split(",") == [hierarchy] or (hierarchy == "" and controllers == ""):
                return path
    return None


def _v2_root() -> str | None:
    for root in (_ROOT, f"{_ROOT}/unified"):
        if os.path.exists(f"{root}/cgroup.controllers"):
            return root
    return None


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def _rmdir(path: str) -> None:
    try:
        os.rmdir(path)
    except OSError:
        pass  # not empty, or already gone


def _remove_stale(directory: str) -> None:
    """Removes the ``thinkgym-<pid>`` trees of host processes that died without cleaning up
    (SIGKILL, OOM); their sandboxes died with them, so the directories are empty."""
    for entry in os.listdir(directory):
        pid = entry.removeprefix("thinkgym-")
        if entry == pid or not pid.isdigit() or os.path.exists(f"/proc/{pid}"):
            continue
        tree = os.path.join(directory, entry)
        for root, dirs, _ in os.walk(tree, topdown=False):
            for name in dirs:
                _rmdir(os.path.join(root, name))
        _rmdir(tree)


def _find(name: str) -> tuple[_Controller | None, str]:
    """The controller ``name`` (or None) and, when None, why not."""
    tag = f"thinkgym-{os.getpid()}"
    limit_v1, limit_v2 = {"memory": ("memory.limit_in_bytes", "memory.max"), "pids": ("pids.max", "pids.max")}[name]
    oom_v1, oom_v2 = {"memory": ("memory.oom_control", "memory.events"), "pids": (None, None)}[name]
    own = _own_cgroup(name)
    if own is not None and os.path.isdir(f"{_ROOT}/{name}"):
        parent = f"{_ROOT}/{name}{own.rstrip('/')}/{tag}"
        try:
            if not os.path.isdir(parent):
                _remove_stale(os.path.dirname(parent))
            os.makedirs(parent, exist_ok=True)
            return _Controller(name, parent, 1, limit_v1, oom_v1), ""
        except OSError as exc:
            return None, f"cgroup v1 {name} hierarchy not writable ({exc.strerror})"
    root, own = _v2_root(), _own_cgroup("")
    if root is None or own is None:
        return None, "no cgroup hierarchy with this controller"
    base = f"{root}{own.rstrip('/')}"
    try:
        with open(f"{base}/cgroup.subtree_control") as f:
            enabled = f.read().split()
        if name not in enabled:
            _write(f"{base}/cgroup.subtree_control", f"+{name}")
        parent = f"{base}/{tag}"
        if not os.path.isdir(parent):
            _remove_stale(base)
        os.makedirs(parent, exist_ok=True)
        _write(f"{parent}/cgroup.subtree_control", f"+{name}")
        return _Controller(name, parent, 2, limit_v2, oom_v2), ""
    except OSError as exc:
        return None, f"cgroup v2 {name} controller cannot be delegated here ({exc.strerror})"


_parents: set[str] = set()  # thinkgym-<pid> directories this process made, removed at exit


def _controller(name: str) -> tuple[_Controller | None, str]:
    """Looked up per sandbox (cheap), so sandboxes follow the host if it moves between cgroups."""
    controller, why = _find(name)
    if controller is not None:
        _parents.add(controller.parent)
    return controller, why


@atexit.register
def _remove_parents() -> None:
    for parent in _parents:
        _rmdir(parent)


class Cgroups:
    """The cgroup directories of one sandbox."""

    def __init__(self, dirs: dict[str, tuple[_Controller, str]]) -> None:
        self._dirs = dirs  # controller name -> (controller, directory)

    @property
    def procs_files(self) -> list[str]:
        """The ``cgroup.procs`` files the sandbox's first process writes its pid into."""
        return sorted({f"{path}/cgroup.procs" for _, path in self._dirs.values()})

    def active(self, name: str) -> bool:
        return name in self._dirs

    def oom_kills(self) -> int:
        """How many processes the kernel killed for exceeding the memory cap."""
        if "memory" not in self._dirs:
            return 0
        controller, path = self._dirs["memory"]
        try:
            with open(f"{path}/{controller.oom_file}") as f:
                for line in f:
                    key, _, value = line.partition(" ")
                    if key == "oom_kill":
                        return int(value)
        except OSError:
            pass
        return 0

    def pids(self) -> list[int]:
        """The processes still in the sandbox's cgroups."""
        found: set[int] = set()
        for procs in self.procs_files:
            try:
                with open(procs) as f:
                    found.update(int(line) for line in f if line.strip())
            except OSError:
                pass
        return sorted(found)

    def kill(self) -> None:
        """SIGKILLs every process in the cgroups, repeating until none is left (a process may
        fork between a read of ``cgroup.procs`` and the kill; the pids cap bounds the rounds)."""
        for _ in range(100):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.001)

    def remove(self, timeout: float = 5.0) -> None:
        """Removes the directories once their processes are gone (killing stragglers)."""
        deadline = time.monotonic() + timeout
        for _, path in self._dirs.values():
            while True:
                try:
                    os.rmdir(path)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    self.kill()
                    time.sleep(0.001)


def create(memory_mb: int, max_processes: int) -> tuple[Cgroups, dict[str, Protection]]:
    """Creates the cgroups of a new sandbox and writes the limits. Returns them with one
    :class:`Protection` per controller (inactive, with the reason, where none could be made)."""
    report: dict[str, Protection] = {}
    dirs: dict[str, tuple[_Controller, str]] = {}
    n = next(_counter)
    for name, limit in (("memory", memory_mb << 20), ("pids", max_processes)):
        controller, why = _controller(name)
        if controller is None:
            report[f"cgroup_{name}"] = Protection(False, why)
            continue
        path = f"{controller.parent}/sbx-{n}"
        try:
            os.makedirs(path, exist_ok=True)
            _write(f"{path}/{controller.limit_file}", str(limit))
        except OSError as exc:
            report[f"cgroup_{name}"] = Protection(False, f"cannot create {path} ({exc.strerror})")
            continue
        dirs[name] = (controller, path)
        unit = f"{memory_mb} MB for all processes" if name == "memory" else f"at most {limit} processes and threads"
        report[f"cgroup_{name}"] = Protection(True, f"cgroup v{controller.version}: {unit}")
    return Cgroups(dirs), report
