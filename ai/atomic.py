"""Crash-safe file writes (temp file, fsync, rename, fsync the folder) and bounded reads.

A reader of ``path`` sees the old bytes or the new bytes, never a mix, even if the
process is killed (``kill -9``) or the machine loses power mid-write: the new bytes
go to a temp file next to ``path`` (same file system, so the rename is atomic), the
temp file is flushed to disk, renamed over ``path``, and the folder is fsynced so the
rename itself survives a power cut. Temp files end with ``TEMP_SUFFIX``; a killed
writer leaves one behind, and ``sweep_temp_files`` removes it at the next start,
once the process that wrote it is gone.

Reads of saved files go through ``read_regular_file``: it opens without blocking
(a FIFO in place of a file would otherwise hang the start for ever), reads only
regular files and refuses one larger than its kind of file can be (a symlink to
``/dev/zero`` would otherwise fill the memory). ``read_named_file`` does the same for a file
a person names (a pilot, an ONNX policy), with a one-line ``PilotError`` naming the path.
``parse_json`` turns the ``RecursionError`` of a deeply nested document into the
``ValueError`` of any other bad JSON.

Every system call goes through ``os`` at call time (``os.write``, ``os.fsync``,
``os.replace``) so tests can inject a full disk by monkeypatching one of them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ai.errors import PilotError

TEMP_SUFFIX = ".tmp-gf"
"""Every temp file this module writes ends with this, so start-up can sweep leftovers."""

Buffer = bytes | bytearray | memoryview

_TEMP_NAME = re.compile(r"^(.+)\.(\d+)-[0-9a-f]+" + re.escape(TEMP_SUFFIX) + "$")
"""``<name>.<pid>-<hex>.tmp-gf``: what ``atomic_write_bytes`` names its temp files."""


class RefusedFile(ValueError):
    """A path that is not a regular file, or larger than its kind of file can be."""


def read_regular_file(path: Path, max_bytes: int, kind: str = "file") -> bytes:
    """The bytes of the regular file ``path``, refusing anything else before reading it.

    The file is opened with ``O_NONBLOCK`` (a FIFO cannot hang the open) and checked
    with ``fstat`` on the open descriptor, so what is checked is what is read.

    Args:
        path: The file (a symlink is followed; what it points to is checked).
        max_bytes: The largest size this kind of file can have.
        kind: What the file is, for the message (``manifest``, ``best scores file``).

    Raises:
        RefusedFile: Not a regular file (a folder, FIFO, device or socket), or larger
            than ``max_bytes``; the message is one line.
        OSError: The file is missing or cannot be opened (``FileNotFoundError``...).
    """
    path = Path(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) \
        | getattr(os, "O_BINARY", 0)
    if not hasattr(os, "O_NONBLOCK") and path.exists() and not path.is_file():
        # No O_NONBLOCK (Windows): check before opening instead.
        raise RefusedFile(f"{path.name} is not a regular file")
    try:
        fd = os.open(path, flags)
    except IsADirectoryError:
        raise RefusedFile(f"{path.name} is a folder, not a {kind}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise RefusedFile(f"{path.name} is {_kind_of(info.st_mode)}, not a regular file")
        if info.st_size > max_bytes:
            raise RefusedFile(f"{path.name} is {_size(info.st_size)}; a {kind} is at most "
                              f"{_size(max_bytes)}")
        chunks = []
        left = max_bytes + 1  # one more than allowed tells a file that grew while read
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 24))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise RefusedFile(f"{path.name} is more than {_size(max_bytes)}; a {kind} is at most "
                          f"{_size(max_bytes)}")
    return data


def read_named_file(path: str | os.PathLike, max_bytes: int, kinds: str, noun: str) -> bytes:
    """The bytes of the file a person named, at most ``max_bytes``; else a one-line ``PilotError``.

    The size is checked before anything is read, so a huge file never causes a large read.

    Args:
        kinds: what such files are, for the size message (``pilot files``).
        noun: what one is, for the missing-file message (``pilot``: "no pilot file at ...").
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise PilotError(f"{path} is not a file")
        if size > max_bytes:
            raise PilotError(f"{path} is {size / 2**20:.1f} MB; {kinds} are at most "
                             f"{max_bytes // 2**20} MB")
        return read_regular_file(path, max_bytes, f"{noun} file")
    except RefusedFile as exc:  # replaced or grown between the check and the read
        raise PilotError(f"{path}: {exc}") from None
    except FileNotFoundError:
        raise PilotError(f"no {noun} file at {path}") from None
    except OSError as exc:
        raise PilotError(f"cannot read {path}: {exc.strerror or exc}") from None


def _kind_of(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"),
                       (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def parse_json(data: bytes) -> Any:
    """``json.loads`` of UTF-8 bytes; every kind of bad input raises ``ValueError``.

    A document nested deeper than the interpreter's recursion limit (``[`` x 200,000)
    makes ``json`` raise ``RecursionError``; it is as corrupt as any other bad JSON.
    """
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 ({exc.reason})") from None
    except RecursionError:
        raise ValueError("nested too deeply") from None


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


def _pid_alive(pid: int) -> bool:
    """True unless process ``pid`` provably does not exist (unknown counts as alive)."""
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # no cheap check: keep the file, never guess
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: it exists, owned by someone else
        return True
    return True


def sweep_temp_files(folder: Path) -> list[Path]:
    """Removes the temp files a killed writer left in ``folder``; returns what it removed.

    Only this module's own temp files (``<name>.<pid>-<hex>.tmp-gf``, regular files)
    are removed, and only when the process that wrote them is gone: such a file was
    never renamed into place, so it is provably an unfinished write and no data is
    lost. A temp file of a live process (another window still writing) is left alone.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    swept = []
    for p in folder.iterdir():
        m = _TEMP_NAME.match(p.name)
        if m and p.is_file() and not p.is_symlink() and not _pid_alive(int(m.group(2))):
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
