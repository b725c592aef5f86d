"""Helpers for the game's child processes (the skill meter's, the learner's): torch-free.

A child started with ``spawn`` is a fresh interpreter. Two rules keep it out of the person's
way: it starts with SIGINT ignored (Ctrl-C reaches the terminal's whole process group, and the
game, not the child, decides when it ends: no ``KeyboardInterrupt`` traceback from a child),
and on Linux it ends when the game's process does (``PR_SET_PDEATHSIG``), even mid-job.

Rules: the standard library only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import Iterator


def die_with_parent() -> None:
    """Linux: the kernel sends this process SIGTERM when the game's process ends."""
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the call: nothing to serve
        os._exit(0)


@contextlib.contextmanager
def sigint_ignored() -> Iterator[None]:
    """SIGINT ignored in this process for the block (only from the main thread): a child
    started inside it inherits the ignoring through its exec."""
    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: the child ignores it from its first line
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
