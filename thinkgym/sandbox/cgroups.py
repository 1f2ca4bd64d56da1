"""Per-sandbox cgroups: a memory cap over all of a sandbox's processes, a process-count cap
(the fork-bomb stop that ``RLIMIT_NPROC`` cannot give root), a CPU quota over the whole sandbox
and its CPU time (what tests and benchmarks read).

Each controller is used through cgroup v1 (``/sys/fs/cgroup/<controller>``) where that hierarchy
is writable, else through cgroup v2 where the controller can be enabled below the host process's
own cgroup. Per sandbox, a directory ``thinkgym-<host pid>/sbx-<n>`` is created under the host
process's cgroup, limits are written, the sandbox's first process joins it (all later ones are
born in it) and it is removed when the sandbox is closed. Without write access (an ordinary
user, or no delegation) the controller is reported unavailable.
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
    name: str  # "memory", "pids", "cpu" or "cpuacct"
    parent: str  # thinkgym-<pid> directory for this process's sandboxes
    version: int
    limit_file: str | None
    oom_file: str | None


def _own_cgroup(hierarchy: str) -> str | None:
    """This process's path in a v1 hierarchy (``"memory"``) or in v2 (``""``)."""
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            if (hierarchy and hierarchy in controllers.split(",")) or (hierarchy == "" and controllers == ""):
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


_LIMIT_FILES = {
    "memory": ("memory.limit_in_bytes", "memory.max"),
    "pids": ("pids.max", "pids.max"),
    "cpu": ("cpu.cfs_quota_us", "cpu.max"),
    "cpuacct": (None, None),
}
_PERIOD_US = 100_000


def _find(name: str) -> tuple[_Controller | None, str]:
    """The controller ``name`` (or None) and, when None, why not."""
    tag = f"thinkgym-{os.getpid()}"
    limit_v1, limit_v2 = _LIMIT_FILES[name]
    oom_v1, oom_v2 = ("memory.oom_control", "memory.events") if name == "memory" else (None, None)
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
    if name == "cpuacct":  # v2 accounts CPU time in every cgroup's cpu.stat
        return None, "no cgroup v1 cpuacct hierarchy (cgroup v2 reads cpu.stat instead)"
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

    def tasks(self) -> int:
        """Tasks (processes and threads, zombies included) in the sandbox's pids cgroup; -1
        without one."""
        if "pids" not in self._dirs:
            return -1
        try:
            with open(f"{self._dirs['pids'][1]}/pids.current") as f:
                return int(f.read())
        except (OSError, ValueError):
            return -1

    def memory_bytes(self) -> int | None:
        """Memory charged to the sandbox now (its own pages, tmpfs files included; pages shared
        with the zygote are not), or ``None`` without a memory cgroup."""
        if "memory" not in self._dirs:
            return None
        controller, path = self._dirs["memory"]
        name = "memory.usage_in_bytes" if controller.version == 1 else "memory.current"
        try:
            with open(f"{path}/{name}") as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def cpu_seconds(self) -> float | None:
        """CPU time used by every process of the sandbox so far (user and system), or ``None``
        without CPU accounting."""
        try:
            if "cpuacct" in self._dirs:
                with open(f"{self._dirs['cpuacct'][1]}/cpuacct.usage") as f:
                    return int(f.read()) / 1e9
            for controller, path in self._dirs.values():
                if controller.version == 2:
                    with open(f"{path}/cpu.stat") as f:
                        for line in f:
                            key, _, value = line.partition(" ")
                            if key == "usage_usec":
                                return int(value) / 1e6
        except OSError:
            pass
        return None

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


def _limits(memory_mb: int, max_processes: int, cpus: float) -> dict[str, tuple[str | None, str]]:
    """Per controller: what to write into its limit file (v1, v2), and the report's wording."""
    quota = max(1000, round(cpus * _PERIOD_US))
    return {
        "memory": (str(memory_mb << 20), f"{memory_mb} MB for all processes"),
        "pids": (str(max_processes), f"at most {max_processes} processes and threads"),
        "cpu": (str(quota), f"{cpus:g} CPUs for all processes ({quota} us per {_PERIOD_US} us)"),
        "cpuacct": (None, "CPU time of all processes"),
    }


def create(memory_mb: int, max_processes: int, cpus: float) -> tuple[Cgroups, dict[str, Protection]]:
    """Creates the cgroups of a new sandbox and writes the limits. Returns them with one
    :class:`Protection` per controller (inactive, with the reason, where none could be made)."""
    report: dict[str, Protection] = {}
    dirs: dict[str, tuple[_Controller, str]] = {}
    n = next(_counter)
    for name, (limit, wording) in _limits(memory_mb, max_processes, cpus).items():
        controller, why = _controller(name)
        if controller is None:
            if name != "cpuacct":
                report[f"cgroup_{name}"] = Protection(False, why)
            continue
        path = f"{controller.parent}/sbx-{n}"
        try:
            os.makedirs(path, exist_ok=True)
            if name == "cpu" and controller.version == 1:
                _write(f"{path}/cpu.cfs_period_us", str(_PERIOD_US))
            if controller.limit_file is not None and limit is not None:
                value = f"{limit} {_PERIOD_US}" if name == "cpu" and controller.version == 2 else limit
                _write(f"{path}/{controller.limit_file}", value)
        except OSError as exc:
            if name != "cpuacct":
                report[f"cgroup_{name}"] = Protection(False, f"cannot create {path} ({exc.strerror})")
            _rmdir(path)
            continue
        dirs[name] = (controller, path)
        if name != "cpuacct":
            report[f"cgroup_{name}"] = Protection(True, f"cgroup v{controller.version}: {wording}")
    return Cgroups(dirs), report
