"""The confinement steps, run inside the freshly forked sandbox processes (never in the host).

The zygote forks an *outer* process per sandbox, which calls :func:`enter_namespaces`; its child,
the *init* (pid 1 of the new pid namespace), calls :func:`build_view`; the init's child, the
*worker* that runs the cells, calls :func:`drop_privileges` and :func:`limit_resources`. Each
step returns :class:`~thinkgym.sandbox.result.Protection` entries for ``isolation()``: a missing
kernel feature is reported, never silently skipped.
"""

from __future__ import annotations

import os
import resource
import socket
import sys

from thinkgym.sandbox import linux
from thinkgym.sandbox.result import Protection

__all__ = [
    "NOBODY",
    "build_view",
    "close_fds_except",
    "drop_privileges",
    "enter_namespaces",
    "limit_resources",
    "python_paths",
    "set_hostname",
]

NOBODY = 65534
_NAMESPACES = (
    ("mount_namespace", linux.CLONE_NEWNS),
    ("pid_namespace", linux.CLONE_NEWPID),
    ("net_namespace", linux.CLONE_NEWNET),
    ("ipc_namespace", linux.CLONE_NEWIPC),
    ("uts_namespace", linux.CLONE_NEWUTS),
)
_DEVICES = ("null", "zero", "full", "random", "urandom")


def close_fds_except(keep: set[int]) -> None:
    """Closes every open file descriptor not in ``keep`` (close_range(2) where available)."""
    low = 0
    for fd in sorted(keep):
        if low < fd:  # closerange(n, n) would close everything from n on (close_range(n, -1))
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, max(low + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0]))


def _write(path: str, text: str) -> None:
    with open(path, "w") as f:
        f.write(text)


def enter_namespaces() -> dict[str, Protection]:
    """Unshares the mount, pid, network, IPC and UTS namespaces (the pid namespace applies to
    the children forked afterwards). Root needs nothing more; an ordinary user first enters a
    new user namespace that maps only its own uid and gid. Each namespace is tried on its own,
    so one the kernel lacks does not cost the others."""
    report: dict[str, Protection] = {}
    if os.geteuid() != 0:
        uid, gid = os.geteuid(), os.getegid()
        try:
            linux.unshare(linux.CLONE_NEWUSER)
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
            report["user_namespace"] = Protection(True, f"maps only uid {uid} and gid {gid}")
        except OSError as exc:
            report["user_namespace"] = Protection(False, f"unavailable ({exc.strerror or exc})")
            for name, _ in _NAMESPACES:
                report[name] = Protection(False, "unavailable: needs root or a user namespace")
            return report
    for name, flag in _NAMESPACES:
        try:
            linux.unshare(flag)
            report[name] = Protection(True, "new namespace")
        except OSError as exc:
            report[name] = Protection(False, f"unavailable ({exc.strerror or exc})")
    if report["net_namespace"].active:
        report["net_namespace"] = Protection(True, "new namespace with no interface up: no network at all")
    return report


def python_paths() -> list[str]:
    """What the interpreter needs to import modules: its prefixes (standard library and
    site-packages) and the system's shared-library directories. Nothing else of the host, not
    even directories that ``.pth`` files add to ``sys.path`` (an editable checkout may hold data
    with answers)."""
    paths = {"/usr/lib", "/usr/lib64", "/lib", "/lib64"}
    for prefix in (sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix):
        paths.update((os.path.abspath(prefix), os.path.realpath(prefix)))
    kept: list[str] = []
    for path in sorted(paths):
        if os.path.lexists(path) and not any(path.startswith(k + "/") for k in kept):
            kept.append(path)
    return kept


def _bind(old_root: str, path: str, writable: bool = False) -> None:
    """Bind-mounts host ``path`` (reachable under ``old_root``) at the same path in the new root,
    read-only unless ``writable``. Symbolic links are recreated as links."""
    source = old_root + path
    if os.path.islink(source):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.symlink(os.readlink(source), path)
        return
    if os.path.isdir(source):
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "w").close()
    linux.mount(source, path, None, linux.MS_BIND)
    flags = linux.MS_REMOUNT | linux.MS_BIND | linux.MS_NOSUID | linux.mount_flags_of(source)
    if not writable:
        flags |= linux.MS_RDONLY | linux.MS_NODEV
    linux.mount(None, path, None, flags)


def build_view(binds: list[str], workdir_mb: int, with_proc: bool) -> Protection:
    """Replaces the file system view of this mount namespace by a new root on a tmpfs that holds
    only: read-only binds of ``binds`` (what Python needs), a private tmpfs ``/tmp`` of
    ``workdir_mb`` MB (the working directory), ``/dev`` with five harmless devices, and, when the
    process is in a new pid namespace, a fresh ``/proc`` that shows only the sandbox's
    processes. The old root is detached, and the new root remounted read-only."""
    linux.mount(None, "/", None, linux.MS_REC | linux.MS_PRIVATE)
    # Any directory can hold the staging tmpfs: it hides that directory in this namespace only.
    base = "/tmp"
    linux.mount("tmpfs", base, "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, "mode=0755,size=1m")
    os.mkdir(f"{base}/.old")
    linux.pivot_root(base, f"{base}/.old")
    os.chdir("/")
    old = "/.old"
    # The private /tmp first: an interpreter that lives under /tmp (a virtual environment in a
    # checkout there, as CI clones make) is then bound inside it instead of being hidden by it.
    os.mkdir("/tmp")
    linux.mount("tmpfs", "/tmp", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV, f"mode=1777,size={workdir_mb}m")
    shown = [path for path in binds if os.path.lexists(old + path)]
    for path in shown:
        _bind(old, path)
    os.mkdir("/dev")
    linux.mount("tmpfs", "/dev", "tmpfs", linux.MS_NOSUID | linux.MS_NOEXEC, "mode=0755,size=64k")
    for name in _DEVICES:
        _bind(old, f"/dev/{name}", writable=True)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "fd/0"), ("stdout", "fd/1"), ("stderr", "fd/2")):
        os.symlink(target, f"/dev/{name}")
    linux.mount(None, "/dev", None, linux.MS_REMOUNT | linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NOEXEC)
    proc = "no /proc (no pid namespace of its own)"
    if with_proc:
        os.mkdir("/proc")
        try:
            linux.mount("proc", "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)
            proc = "a fresh /proc that shows only the sandbox's processes"
        except OSError as exc:
            proc = f"no /proc (mount refused: {exc.strerror})"
    linux.umount2(old, linux.MNT_DETACH)
    os.rmdir(old)
    linux.mount(None, "/", None, linux.MS_REMOUNT | linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV)
    return Protection(
        True,
        f"read-only view of {', '.join(shown)}; private tmpfs /tmp ({workdir_mb} MB, the working "
        f"directory, gone with the sandbox); /dev with {', '.join(_DEVICES)}; {proc}; the host root detached",
    )


def drop_privileges(switch_user: bool = True) -> dict[str, Protection]:
    """Empties the capability bounding set where allowed, switches root to uid/gid 65534 when
    ``switch_user`` (an ordinary user keeps its uid), clears every capability and sets
    ``PR_SET_NO_NEW_PRIVS``."""
    report: dict[str, Protection] = {}
    try:
        linux.drop_bounding_set()
        caps = "none: effective, permitted, inheritable and bounding sets empty"
    except PermissionError:  # no CAP_SETPCAP: an ordinary user outside any user namespace
        caps = "none held; bounding set unchanged, and no_new_privs keeps execve from granting any"
    if os.geteuid() != 0:
        report["unprivileged_uid"] = Protection(True, f"the caller's own uid {os.geteuid()}")
    elif switch_user:
        try:
            os.setgroups([])
            os.setresgid(NOBODY, NOBODY, NOBODY)
            os.setresuid(NOBODY, NOBODY, NOBODY)
            report["unprivileged_uid"] = Protection(True, f"uid and gid {NOBODY} (nobody), no supplementary groups")
        except OSError as exc:  # root of a user namespace that does not map 65534
            report["unprivileged_uid"] = Protection(False, f"uid 0 kept, capabilities dropped ({exc.strerror})")
    linux.capset_empty()
    report["capabilities"] = Protection(True, caps)
    linux.set_no_new_privs()
    report["no_new_privs"] = Protection(True, "PR_SET_NO_NEW_PRIVS: execve cannot gain privileges")
    return report


def limit_resources(memory_mb: int, max_file_mb: int, max_processes: int, nproc: bool) -> Protection:
    """Sets hard rlimits: address space (``memory_mb`` above the current size, so the preloaded
    libraries do not count), file size, open files, no core dumps and, when ``nproc`` (no pids
    cgroup), the process count of the uid."""
    with open("/proc/self/statm") as f:
        current = int(f.read().split()[0]) * resource.getpagesize()
    limits = {
        resource.RLIMIT_AS: current + (memory_mb << 20),
        resource.RLIMIT_FSIZE: max_file_mb << 20,
        resource.RLIMIT_NOFILE: 256,
        resource.RLIMIT_CORE: 0,
    }
    if nproc:
        limits[resource.RLIMIT_NPROC] = max_processes
    for which, value in limits.items():
        resource.setrlimit(which, (value, value))
    names = {
        resource.RLIMIT_FSIZE: "FSIZE",
        resource.RLIMIT_NOFILE: "NOFILE",
        resource.RLIMIT_CORE: "CORE",
        resource.RLIMIT_AS: "AS",
        resource.RLIMIT_NPROC: "NPROC",
    }
    return Protection(True, ", ".join(f"{names[k]}={v}" for k, v in limits.items()))


def set_hostname() -> None:
    """Names the sandbox's UTS namespace, so the host's name is not shown."""
    socket.sethostname("sandbox")
