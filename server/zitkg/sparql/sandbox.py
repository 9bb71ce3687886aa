"""Take the network away from a query worker: the second line behind the SERVICE guard.

The guard (sparql/structure.py) refuses SERVICE and LOAD on the parsed query; this makes sure that a
query that got past it anyway still cannot reach a host. A freshly forked worker calls ``isolate()``
before it reads its first request. Three mechanisms, the strongest first:

1. a network namespace of its own (``unshare(CLONE_NEWNET)``; needs CAP_SYS_ADMIN, e.g. root): only a
   loopback device that is down, so every connect fails with "Network is unreachable";
2. the same inside a new user namespace (unprivileged, where the kernel allows user namespaces);
3. a seccomp filter that fails ``socket(AF_INET|AF_INET6, ...)`` and ``io_uring_setup`` with EACCES
   (unprivileged, any kernel since 3.5 on x86_64 and aarch64).

If none works the worker runs with the network and says so: the caller logs it loudly and
``/status``-style checks (tests/security/test_ssrf.py) fail in CI.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import struct

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2
SECCOMP_RET_ALLOW = 0x7FFF0000
SECCOMP_RET_ERRNO = 0x00050000
EACCES = 13
AF_INET, AF_INET6 = 2, 10
# BPF opcodes: BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
LD_ABS, JEQ, RET = 0x20, 0x15, 0x06
_ARCH = {  # machine: (AUDIT_ARCH_*, __NR_socket, __NR_io_uring_setup)
    "x86_64": (0xC000003E, 41, 425),
    "aarch64": (0xC00000B7, 198, 425),
}


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _unshare(flags: int) -> bool:
    return _libc().unshare(flags) == 0


def _seccomp_deny_inet() -> bool:
    arch = _ARCH.get(platform.machine())
    if arch is None:
        return False
    audit_arch, nr_socket, nr_io_uring = arch
    deny = SECCOMP_RET_ERRNO | EACCES
    program = [
        (LD_ABS, 0, 0, 4),  # seccomp_data.arch
        (JEQ, 1, 0, audit_arch),
        (RET, 0, 0, deny),  # another ABI (e.g. x32 or compat calls): refuse everything it asks
        (LD_ABS, 0, 0, 0),  # seccomp_data.nr
        (JEQ, 5, 0, nr_io_uring),
        (JEQ, 0, 3, nr_socket),
        (LD_ABS, 0, 0, 16),  # seccomp_data.args[0], low word: the address family
        (JEQ, 2, 0, AF_INET),
        (JEQ, 1, 0, AF_INET6),
        (RET, 0, 0, SECCOMP_RET_ALLOW),
        (RET, 0, 0, deny),
    ]
    raw = b"".join(struct.pack("HBBI", *insn) for insn in program)
    buffer = ctypes.create_string_buffer(raw, len(raw))

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = SockFprog(len(program), ctypes.addressof(buffer))
    libc = _libc()
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0


def isolate() -> str:
    """Cut this (single-threaded, freshly forked) process off the network; the mechanism used or ''."""
    if _unshare(CLONE_NEWNET):
        return "network namespace"
    if _unshare(CLONE_NEWUSER | CLONE_NEWNET):
        return "user and network namespace"
    if _seccomp_deny_inet():
        return "seccomp"
    return ""
