"""Crash-safe file writes: temp file in the same folder, fsync, rename, fsync the folder.

A reader of ``path`` sees the old bytes or the new bytes, never a mix, even if the
process is killed (``kill -9``) or the machine loses power mid-write: the new bytes
go to a temp file next to ``path`` (same file system, so the rename is atomic), the
temp file is flushed to disk, renamed over ``path``, and the folder is fsynced so the
rename itself survives a power cut. Temp files end with ``TEMP_SUFFIX``; a killed
writer leaves one behind, and ``sweep_temp_files`` removes it at the next start.

Every system call goes through ``os`` at call time (``os.write``, ``os.fsync``,
``os.replace``) so tests can inject a full disk by monkeypatching one of them.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

TEMP_SUFFIX = ".tmp-gf"
"""Every temp file this module writes ends with this, so start-up can sweep leftovers."""

Buffer = bytes | bytearray | memoryview


def fsync_dir(folder: Path) -> None:
    """Makes a rename or unlink inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: Buffer) -> None:
    """Writes every byte of ``data``; ``os.write`` may write less than asked."""
    view = memoryview(data).cast("B")
    while view:
        n = os.write(fd, view)
        view = view[n:]


def atomic_write_bytes(path: Path, data: Buffer | Iterable[Buffer], *,
                       sync_folder: bool = True) -> None:
    """Writes ``data`` to ``path`` so that a crash leaves the old file or the new, never half.

    Args:
        path: The file to create or replace.
        data: The bytes, or an iterable of byte chunks written one after another (saves
            joining large buffers in memory).
        sync_folder: Fsync the folder after the rename. Pass ``False`` when writing several
            files in a row and call ``fsync_dir`` once after the last (the rename is then
            atomic but not yet durable).

    Raises:
        OSError: The disk is full, read-only, or the folder cannot be created. The old
            ``path`` is untouched and no temp file is left behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    chunks = (data,) if isinstance(data, bytes | bytearray | memoryview) else data
    # pid + random token: two threads or processes writing the same path never share a temp.
    tmp = path.with_name(f"{path.name}.{os.getpid()}-{secrets.token_hex(4)}{TEMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        try:
            for chunk in chunks:
                _write_all(fd, chunk)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # the original error matters more; the sweep removes it at next start
        raise
    if sync_folder:
        fsync_dir(path.parent)


def sweep_temp_files(folder: Path) -> list[Path]:
    """Removes temp files a killed writer left in ``folder``; returns what it removed.

    Only this module's own half-written temp files are removed: they were never
    a save, so no data is lost. Call it at start-up, before any writer runs.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    swept = []
    for p in folder.iterdir():
        if p.name.endswith(TEMP_SUFFIX) and p.is_file() and not p.is_symlink():
            p.unlink(missing_ok=True)
            swept.append(p)
    if swept:
        fsync_dir(folder)
    return swept


def utc_stamp() -> str:
    """The current UTC time as ``20261125T175000Z`` (used in moved-aside names)."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def move_aside(path: Path, tag: str, stamp: str | None = None) -> Path:
    """Renames ``path`` (a file or a folder) to ``<path>.<tag>-<UTC time>``; never deletes.

    Args:
        path: What to move aside.
        tag: A word saying why, e.g. ``corrupt`` or ``fresh``.
        stamp: The time part; pass one ``utc_stamp()`` to give several files the same.

    Returns:
        The new path (a ``-1``, ``-2``... suffix is added if the name is taken).
    """
    path = Path(path)
    stamp = utc_stamp() if stamp is None else stamp
    target = path.with_name(f"{path.name}.{tag}-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.{tag}-{stamp}-{n}")
        n += 1
    os.replace(path, target)
    fsync_dir(path.parent)
    return target
