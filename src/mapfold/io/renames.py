"""Atomic renames for the local commit: no replacing, and swapping two folders.

Linux's ``renameat2`` does both in one system call (ext4, xfs, btrfs,
tmpfs, overlayfs...): ``RENAME_NOREPLACE`` fails when the target exists
(``os.rename`` would silently replace an empty folder), and
``RENAME_EXCHANGE`` swaps two paths, so an overwritten folder is never
absent. Elsewhere (or where the filesystem refuses the flags),
:func:`rename_noreplace` checks then renames (best effort) and
:func:`exchange` raises ``NotImplementedError`` for the caller's fallback.

Runs on the driver only.
"""
from __future__ import annotations

import errno
import os
import sys

__all__ = ["rename_noreplace", "exchange"]

_NOREPLACE, _EXCHANGE = 1, 2
_AT_FDCWD = -100


def _renameat2(src: str, dst: str, flags: int) -> bool:
    """True when done; False when the call is unavailable here; raises OSError otherwise."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        call = libc.renameat2
    except (OSError, AttributeError):
        return False
    call.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if call(_AT_FDCWD, os.fsencode(src), _AT_FDCWD, os.fsencode(dst), flags) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(code, os.strerror(code), src, None, dst)


def rename_noreplace(src: str, dst: str) -> None:
    """Rename ``src`` to ``dst``; ``FileExistsError`` when ``dst`` exists.

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> os.mkdir(f"{d}/a"); os.mkdir(f"{d}/b")
    >>> rename_noreplace(f"{d}/a", f"{d}/b")
    Traceback (most recent call last):
    FileExistsError: ...
    >>> rename_noreplace(f"{d}/a", f"{d}/c"); sorted(os.listdir(d))
    ['b', 'c']
    """
    try:
        if _renameat2(src, dst, _NOREPLACE):
            return
    except OSError as exc:
        if exc.errno in (errno.EEXIST, errno.ENOTEMPTY):
            raise FileExistsError(errno.EEXIST, f"{dst} exists", dst) from None
        raise
    if os.path.lexists(dst):  # best effort where the flag is missing
        raise FileExistsError(errno.EEXIST, f"{dst} exists", dst)
    os.rename(src, dst)


def exchange(a: str, b: str) -> None:
    """Swap paths ``a`` and ``b`` atomically (both must exist).

    ``NotImplementedError`` where the system or filesystem cannot.

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> os.mkdir(f"{d}/a"); open(f"{d}/a/new", "w").close(); os.mkdir(f"{d}/b")
    >>> exchange(f"{d}/a", f"{d}/b"); os.listdir(f"{d}/b")
    ['new']
    """
    if not _renameat2(a, b, _EXCHANGE):
        raise NotImplementedError("renameat2(RENAME_EXCHANGE) is not available here")
