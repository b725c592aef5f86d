"""Crash-safe file writes: temp file in the same folder, fsync, rename, fsync the folder."""

from __future__ import annotations

import os
import time
from pathlib import Path

TEMP_SUFFIX = ".tmp-gf"
"""Every temp file this module writes ends with this, so start-up can sweep leftovers."""


def fsync_dir(folder: Path) -> None:
    """Makes a rename inside ``folder`` durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Writes ``data`` to ``path`` so that a crash leaves the old file or the new, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def sweep_temp_files(folder: Path) -> list[Path]:
    """Removes temp files a killed writer left in ``folder``; returns what it removed.

    Only this module's own half-written temp files are removed: they were never
    a save, so no data is lost.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    swept = [p for p in folder.iterdir() if p.name.endswith(TEMP_SUFFIX)]
    for p in swept:
        p.unlink(missing_ok=True)
    return swept


def move_aside(path: Path, tag: str) -> Path:
    """Renames ``path`` to ``<path>.<tag>-<UTC time>`` (never deletes); returns the new path."""
    path = Path(path)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    target = path.with_name(f"{path.name}.{tag}-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.{tag}-{stamp}-{n}")
        n += 1
    os.replace(path, target)
    fsync_dir(path.parent)
    return target
