"""The one-writer OS lock of a store folder: ``flock`` on POSIX, ``msvcrt.locking`` on Windows.

The lock file sits beside the folder (``<folder>.lock``) so ``--fresh`` can rename the
folder. One hold per process and lock file is shared by all of the process's ``Store``
objects; the kernel drops it when the process ends, killed or not.

The lock fails closed: if it cannot be taken for any reason (a folder, a FIFO or a symlink
loop in place of the file, a read-only data folder), this process is not the writer and
``WriterLock.problem`` says why. A lock file that exists but cannot be opened for writing
(mode 0444, or owned by another user after one ``sudo`` run) is opened read-only: ``flock``
needs no write access, so the lock still works.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

try:  # the one-writer lock: flock on POSIX, msvcrt.locking on Windows
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt


@dataclass
class _Held:
    """This process's hold on one lock file, shared by all its ``Store`` objects."""

    fd: int
    count: int = 0
    mutex: threading.RLock = field(default_factory=threading.RLock)
    """Serialises the writes of this process's Stores on the folder."""


_HELD: dict[str, _Held] = {}
_HELD_GUARD = threading.Lock()


def _os_trylock(fd: int) -> bool:
    """Takes an exclusive lock on ``fd`` without waiting; False if another process has it."""
    if fcntl is not None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    try:  # pragma: no cover - Windows
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError:  # pragma: no cover
        return False
    return True  # pragma: no cover


def _acquire(path: Path) -> _Held | None:
    """This process's hold on the lock file ``path``, or None if another process has it.

    Raises:
        OSError: The lock file cannot be created (a read-only folder).
    """
    key = os.path.abspath(path)
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is None:
            fd = _open_lock_file(path)
            if not _os_trylock(fd):
                os.close(fd)
                return None
            held = _HELD[key] = _Held(fd)
        held.count += 1
        return held


def _open_lock_file(path: Path) -> int:
    """A descriptor of the regular file ``path`` (created if missing), for ``flock``.

    Raises:
        OSError: It cannot be opened, or it is not a regular file (a FIFO, a device).
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file stands where the folder should be
        raise OSError(errno.ENOTDIR, f"{path.parent} is not a folder") from None
    extra = getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)  # a FIFO never blocks
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | extra, 0o666)
    except PermissionError:  # 0444 or another user's file: a lock needs no write access
        fd = os.open(path, os.O_RDONLY | extra)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path.name} is not a regular file")
    return fd


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def _release(path: Path) -> None:
    key = os.path.abspath(path)
    with _HELD_GUARD:
        held = _HELD.get(key)
        if held is None:
            return
        held.count -= 1
        if held.count <= 0:
            del _HELD[key]
            os.close(held.fd)  # closing the descriptor drops the OS lock


class WriterLock:
    """One ``Store``'s view of its folder's one-writer lock.

    Args:
        path: The lock file (``<folder>.lock``).
        read_only: Never take the lock: every operation acts as when another process
            is the writer.
    """

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.guard = threading.RLock()
        """Serialises this Store's operations across threads (held around each one)."""
        self._held: _Held | None = None
        self.problem: str | None = None
        """Why the lock could not be taken at the last try (not: another process has it)."""

    def claim(self) -> bool:
        """Takes the lock until ``release`` or the process ends; False if another has it.

        False too if the lock cannot be taken at all (``problem`` says why): this process
        then never writes. A read-only lock returns False.
        """
        if self.read_only:
            return False
        with self.guard:
            if self._held is not None:
                return True
            try:
                held = _acquire(self.path)
            except OSError as exc:
                self.problem = _why(exc)
                return False
            self.problem = None
            if held is None:
                return False
            self._held = held
            return True

    def release(self) -> None:
        """Gives up what ``claim`` took."""
        with self.guard:
            if self._held is not None:
                self._held = None
                _release(self.path)

    @contextlib.contextmanager
    def writing(self) -> Iterator[bool]:
        """For one operation: yields True if this process is (or just became) the writer."""
        if self.read_only:  # never touch the lock: a game starting now must get it
            yield False
            return
        with self.guard:
            held, transient = self._held, False
            if held is None:
                try:
                    held = _acquire(self.path)
                except OSError as exc:  # fail closed: no lock, no writing
                    self.problem = _why(exc)
                    yield False
                    return
                self.problem = None
                if held is None:
                    yield False
                    return
                transient = True
            try:
                with held.mutex:
                    yield True
            finally:
                if transient:
                    _release(self.path)
