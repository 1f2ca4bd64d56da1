"""Running untrusted Python: a persistent interpreter confined by Linux namespaces, cgroups,
rlimits, dropped privileges and seccomp, forked from a warm zygote.

See :class:`PythonSandbox` and docs/sandbox.md. Only the standard library is imported here, so
the zygote can load this package without the rest of thinkgym.
"""

from thinkgym.sandbox.pool import SandboxPool
from thinkgym.sandbox.result import ExecResult, Protection, SandboxError, SandboxWarning
from thinkgym.sandbox.sandbox import PythonSandbox

__all__ = ["ExecResult", "PythonSandbox", "Protection", "SandboxError", "SandboxPool", "SandboxWarning"]
