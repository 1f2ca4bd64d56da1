"""Two seccomp-bpf filters: a denylist built with the system's libseccomp (``libseccomp.so.2``)
over ctypes, and a small hand-written filter that refuses every system call this module has not
reviewed (numbers above :data:`HIGHEST_REVIEWED`, and the newer calls of the denylist by number,
whatever libseccomp's age), so a kernel newer than this code adds no reachable call.

The filter returns ``EPERM`` for the system calls a sandboxed Python program has no business
making: new namespaces and mounts, tracing other processes, loading kernel code, keyrings, BPF,
io_uring, userfaultfd and the like, and every socket that is not ``AF_UNIX`` (the network
namespace already has no interfaces; this stops a program from even opening one). Calls from a
foreign architecture (32-bit ``int 0x80``) or ABI (x32) kill the whole process. Filters are
inherited by every child and can never be removed.

:func:`load_library` runs in the zygote before any file system view is narrowed (``dlopen``
needs the file); :func:`install` runs in the worker after ``PR_SET_NO_NEW_PRIVS``.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import platform
import socket

__all__ = ["DENIED_SYSCALLS", "HIGHEST_REVIEWED", "install", "load_library"]

DENIED_SYSCALLS = (
    "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_getfd", "kcmp",
    "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    "bpf", "perf_event_open", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "keyctl", "add_key", "request_key",
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "syslog", "iopl", "ioperm", "vhangup",
    "open_by_handle_at", "name_to_handle_at", "fanotify_init",
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex", "personality",
    "quotactl_fd", "statmount", "listmount", "lsm_set_self_attr",
)  # fmt: skip
# System calls numbered from 424 on have the same number on every architecture (x86_64 and
# aarch64 here). Reviewed up to mseal (462); later ones get ENOSYS, as if the kernel were older.
HIGHEST_REVIEWED = 462
_DENIED_BY_NUMBER = {
    425: "io_uring_setup", 426: "io_uring_enter", 427: "io_uring_register", 428: "open_tree",
    429: "move_mount", 430: "fsopen", 431: "fsconfig", 432: "fsmount", 433: "fspick", 438: "pidfd_getfd",
    442: "mount_setattr", 443: "quotactl_fd", 457: "statmount", 458: "listmount", 460: "lsm_set_self_attr",
}  # fmt: skip
_AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
_NAMESPACE_CLONE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)

_SCMP_ACT_ALLOW = 0x7FFF0000
_SECCOMP_RET_KILL_PROCESS = 0x80000000
_X32_BIT = 0x40000000
_SCMP_CMP_NE = 1
_SCMP_CMP_MASKED_EQ = 7


def _act_errno(code: int) -> int:
    return 0x00050000 | (code & 0xFFFF)


class _ArgCmp(ctypes.Structure):
    _fields_ = [
        ("arg", ctypes.c_uint),
        ("op", ctypes.c_int),
        ("datum_a", ctypes.c_uint64),
        ("datum_b", ctypes.c_uint64),
    ]


_lib: ctypes.CDLL | None = None


class _SockFilter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_SockFilter))]


_LD_ABS, _JEQ, _JGT, _JGE, _RET = 0x20, 0x15, 0x25, 0x35, 0x06
_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 22, 2


def _ceiling_program(arch: int) -> list[tuple[int, int, int, int]]:
    """The hand-written filter: a foreign architecture (32-bit ``int 0x80``) or ABI (x32's
    numbers with bit 30 set) kills the whole process (libseccomp's default would kill only the
    thread, and a worker with one dead thread hangs its cell); numbers above HIGHEST_REVIEWED
    get ENOSYS and the newer denied calls EPERM; everything else is left to the libseccomp
    filter."""
    denied = sorted(_DENIED_BY_NUMBER)
    n = len(denied)
    # 0 ld arch; 1 jeq arch; 2 ld nr; 3 jge x32; 4 jgt ceiling; 5..5+n-1 jeq denied;
    # 5+n allow; 6+n enosys; 7+n eperm; 8+n kill
    enosys, eperm, kill = 6 + n, 7 + n, 8 + n
    prog = [
        (_LD_ABS, 0, 0, 4),
        (_JEQ, 0, kill - 2, arch),
        (_LD_ABS, 0, 0, 0),
        (_JGE, kill - 4, 0, _X32_BIT),
        (_JGT, enosys - 5, 0, HIGHEST_REVIEWED),
    ]
    for i, number in enumerate(denied):
        prog.append((_JEQ, eperm - (5 + i) - 1, 0, number))
    prog += [(_RET, 0, 0, _SCMP_ACT_ALLOW), (_RET, 0, 0, _act_errno(errno.ENOSYS))]
    prog += [(_RET, 0, 0, _act_errno(errno.EPERM)), (_RET, 0, 0, _SECCOMP_RET_KILL_PROCESS)]
    return prog


def _install_ceiling() -> None:
    arch = _AUDIT_ARCH.get(platform.machine())
    if arch is None:
        raise OSError(errno.ENOSYS, f"no audit architecture known for {platform.machine()}")
    prog = _ceiling_program(arch)
    filters = (_SockFilter * len(prog))(*(_SockFilter(*insn) for insn in prog))
    fprog = _SockFprog(len(prog), filters)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.addressof(fprog), 0, 0) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"prctl(PR_SET_SECCOMP): {errno.errorcode.get(err, err)}")


def load_library() -> str | None:
    """Loads libseccomp; returns ``None`` on success or why it is unavailable."""
    global _lib
    name = ctypes.util.find_library("seccomp") or "libseccomp.so.2"
    try:
        lib = ctypes.CDLL(name, use_errno=True)
    except OSError as exc:
        return f"libseccomp not found ({exc})"
    lib.seccomp_init.restype = ctypes.c_void_p
    lib.seccomp_init.argtypes = [ctypes.c_uint32]
    lib.seccomp_rule_add_array.argtypes = [
        ctypes.c_void_p, ctypes.c_uint32, ctypes.c_int, ctypes.c_uint, ctypes.POINTER(_ArgCmp)
    ]  # fmt: skip
    lib.seccomp_syscall_resolve_name.argtypes = [ctypes.c_char_p]
    lib.seccomp_load.argtypes = [ctypes.c_void_p]
    lib.seccomp_release.argtypes = [ctypes.c_void_p]
    _lib = lib
    return None


def install() -> str:
    """Installs the filter on the calling thread (and so every later child); returns a summary.
    Raises ``OSError`` if libseccomp is not loaded or refuses a rule."""
    lib = _lib
    if lib is None:
        raise OSError(errno.ENOSYS, "libseccomp is not loaded")
    ctx = lib.seccomp_init(_SCMP_ACT_ALLOW)
    if not ctx:
        raise OSError(errno.ENOMEM, "seccomp_init failed")
    deny = _act_errno(errno.EPERM)

    def rule(name: str, *conditions: tuple[int, int, int, int]) -> bool:
        number = lib.seccomp_syscall_resolve_name(name.encode())
        if number < 0:  # not a system call on this architecture
            return False
        args = (_ArgCmp * max(1, len(conditions)))(*conditions)
        ret = lib.seccomp_rule_add_array(ctx, deny, number, len(conditions), args)
        if ret < 0:
            raise OSError(-ret, f"seccomp_rule_add({name}) failed")
        return True

    try:
        denied = sum(rule(name) for name in DENIED_SYSCALLS)
        rule("socket", (0, _SCMP_CMP_NE, socket.AF_UNIX, 0))
        for flag in _NAMESPACE_CLONE_FLAGS:
            rule("clone", (0, _SCMP_CMP_MASKED_EQ, flag, flag))
        # clone3 passes its flags in memory, out of a filter's reach: refuse it with ENOSYS so
        # libc falls back to clone, whose flags are checked above.
        number = lib.seccomp_syscall_resolve_name(b"clone3")
        if number >= 0:
            ret = lib.seccomp_rule_add_array(ctx, _act_errno(errno.ENOSYS), number, 0, None)
            if ret < 0:
                raise OSError(-ret, "seccomp_rule_add(clone3) failed")
        ret = lib.seccomp_load(ctx)
        if ret < 0:
            raise OSError(-ret, "seccomp_load failed")
    finally:
        lib.seccomp_release(ctx)
    _install_ceiling()
    return (
        f"denylist of {denied} system calls, non-AF_UNIX sockets and namespace flags of clone (EPERM); "
        f"every system call numbered above {HIGHEST_REVIEWED} (unreviewed) refused (ENOSYS); "
        "a foreign architecture or the x32 ABI kills the process"
    )
