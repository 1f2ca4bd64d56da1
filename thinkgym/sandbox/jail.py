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
import uuid

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
    ("cgroup_namespace", linux.CLONE_NEWCGROUP),
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
    """Unshares the mount, pid, network, IPC, UTS and cgroup namespaces (the pid namespace applies to
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


def _etc(uid: int, gid: int) -> None:
    """A minimal ``/etc``: the sandbox's user and group (``getpass.getuser()``, ``pwd``, ``~``
    work), and an ``nsswitch.conf`` that reads them from these files."""
    os.mkdir("/etc")
    users = [("root", 0, 0, "/root"), ("sandbox", uid, gid, "/tmp"), ("nobody", NOBODY, NOBODY, "/nonexistent")]
    seen: set[int] = set()
    with open("/etc/passwd", "w") as f:
        for name, u, g, home in users:
            if u not in seen:
                seen.add(u)
                f.write(f"{name}:x:{u}:{g}:{name}:{home}:/usr/sbin/nologin\n")
    with open("/etc/group", "w") as f:
        for name, g in {0: ("root", 0), gid: ("sandbox", gid), NOBODY: ("nogroup", NOBODY)}.values():
            f.write(f"{name}:x:{g}:\n")
    with open("/etc/nsswitch.conf", "w") as f:
        f.write("passwd: files\ngroup: files\nhosts: files\n")
    with open("/etc/hostname", "w") as f:
        f.write("sandbox\n")


# What /proc would show of the host, and what the sandbox sees instead.
def _proc_masks() -> dict[str, str]:
    return {
        "/proc/cmdline": "\n",
        "/proc/sys/kernel/random/boot_id": f"{uuid.uuid4()}\n",
        "/proc/loadavg": "0.00 0.00 0.00 1/1 1\n",
    }


def _mask_proc() -> str:
    """Bind-mounts fresh files over the ``/proc`` files that describe the host. Returns what
    was masked. The sources stay in ``/.masks`` (the sandbox sees the same fakes there): an
    unlinked source would keep the root from being remounted read-only."""
    os.mkdir("/.masks")
    masked = []
    for i, (target, text) in enumerate(_proc_masks().items()):
        source = f"/.masks/{i}"
        with open(source, "w") as f:
            f.write(text)
        try:
            linux.mount(source, target, None, linux.MS_BIND)
            linux.mount(None, target, None, linux.MS_REMOUNT | linux.MS_BIND | linux.MS_RDONLY | linux.MS_NOSUID
                        | linux.MS_NODEV | linux.MS_NOEXEC)  # fmt: skip
            masked.append(target.removeprefix("/proc/"))
        except OSError:
            pass  # a kernel without that file: nothing to mask
    return ", ".join(masked)


def build_view(
    binds: list[str], workdir_mb: int, with_proc: bool, uid: int, gid: int, exec_tmp: bool = False
) -> Protection:
    """Replaces the file system view of this mount namespace by a new root on a tmpfs that holds
    only: read-only binds of ``binds`` (what Python needs), a private tmpfs ``/tmp`` of
    ``workdir_mb`` MB (the working directory; ``noexec`` unless ``exec_tmp``), ``/dev`` with
    five harmless devices and a private ``/dev/shm`` (POSIX semaphores and shared memory, for
    ``multiprocessing``), a minimal ``/etc`` naming user ``uid``, and, when the process is in a
    new pid namespace, a fresh ``/proc`` that shows only the sandbox's processes, with the
    files that describe the host masked. The old root is detached, and the new root remounted
    read-only."""
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
    tmp_flags = linux.MS_NOSUID | linux.MS_NODEV | (0 if exec_tmp else linux.MS_NOEXEC)
    linux.mount("tmpfs", "/tmp", "tmpfs", tmp_flags, f"mode=1777,size={workdir_mb}m")
    shown = [path for path in binds if os.path.lexists(old + path)]
    for path in shown:
        _bind(old, path)
    os.mkdir("/dev")
    linux.mount("tmpfs", "/dev", "tmpfs", linux.MS_NOSUID | linux.MS_NOEXEC, "mode=0755,size=64k")
    for name in _DEVICES:
        _bind(old, f"/dev/{name}", writable=True)
    for name, target in (("fd", "/proc/self/fd"), ("stdin", "fd/0"), ("stdout", "fd/1"), ("stderr", "fd/2")):
        os.symlink(target, f"/dev/{name}")
    os.mkdir("/dev/shm")
    linux.mount("tmpfs", "/dev/shm", "tmpfs", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC,
                f"mode=1777,size={workdir_mb}m")  # fmt: skip
    linux.mount(None, "/dev", None, linux.MS_REMOUNT | linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NOEXEC)
    _etc(uid, gid)
    proc = "no /proc (no pid namespace of its own)"
    if with_proc:
        os.mkdir("/proc")
        try:
            linux.mount("proc", "/proc", "proc", linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOEXEC)
            proc = f"a fresh /proc that shows only the sandbox's processes (masked: {_mask_proc()})"
        except OSError as exc:
            proc = f"no /proc (mount refused: {exc.strerror})"
    linux.umount2(old, linux.MNT_DETACH)
    os.rmdir(old)
    linux.mount(None, "/", None, linux.MS_REMOUNT | linux.MS_RDONLY | linux.MS_NOSUID | linux.MS_NODEV)
    return Protection(
        True,
        f"read-only view of {', '.join(shown)}; private tmpfs /tmp ({workdir_mb} MB, the working "
        f"directory, {'exec allowed' if exec_tmp else 'noexec'}, gone with the sandbox); /dev with "
        f"{', '.join(_DEVICES)} and a private /dev/shm ({workdir_mb} MB); /etc with passwd, group, "
        f"nsswitch.conf, hostname only; {proc}; the host root detached",
    )


def drop_privileges(uid: int | None = NOBODY, keep: tuple[int, ...] = ()) -> dict[str, Protection]:
    """Empties the capability bounding set where allowed, switches root to ``uid`` (and the
    same gid) unless ``uid`` is ``None`` (an ordinary user keeps its uid), clears every
    capability but those in ``keep`` and sets ``PR_SET_NO_NEW_PRIVS``."""
    report: dict[str, Protection] = {}
    try:
        linux.drop_bounding_set()
        caps = "none: effective, permitted, inheritable and bounding sets empty"
    except PermissionError:  # no CAP_SETPCAP: an ordinary user outside any user namespace
        caps = "none held; bounding set unchanged, and no_new_privs keeps execve from granting any"
    if os.geteuid() != 0:
        report["unprivileged_uid"] = Protection(True, f"the caller's own uid {os.geteuid()}")
    elif uid is not None:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            report["unprivileged_uid"] = Protection(True, f"uid and gid {uid}, no supplementary groups")
        except OSError as exc:  # root of a user namespace that does not map uid
            report["unprivileged_uid"] = Protection(False, f"uid 0 kept, capabilities dropped ({exc.strerror})")
    try:
        linux.capset_empty(keep)
    except PermissionError:  # ``keep`` was never held (an ordinary user without namespaces)
        linux.capset_empty()
    report["capabilities"] = Protection(True, caps)
    linux.set_no_new_privs()
    report["no_new_privs"] = Protection(True, "PR_SET_NO_NEW_PRIVS: execve cannot gain privileges")
    return report


def limit_resources(address_space_mb: int | None, max_file_mb: int, max_processes: int, nproc: bool) -> Protection:
    """Sets hard rlimits: file size, open files, no core dumps, the address space only when
    ``address_space_mb`` is given (no memory cgroup: ``address_space_mb`` above the current
    size, so the preloaded libraries do not count; it caps threads too, each reserving an
    arena) and, when ``nproc`` (no pids cgroup), the process count of the uid."""
    limits = {
        resource.RLIMIT_FSIZE: max_file_mb << 20,
        resource.RLIMIT_NOFILE: 256,
        resource.RLIMIT_CORE: 0,
    }
    if address_space_mb is not None:
        with open("/proc/self/statm") as f:
            current = int(f.read().split()[0]) * resource.getpagesize()
        limits[resource.RLIMIT_AS] = current + (address_space_mb << 20)
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
