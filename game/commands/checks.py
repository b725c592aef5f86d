"""Checks a command makes before its long work: bounds of the numbers asked for, and an
``--out`` that can really be written. Each failure is one line (``CliError``, exit 2).

Why: ``train`` used to fly all its steps and only then find that ``--out`` could not be
written; ``record --size 100000`` tried to allocate 149 GiB; ``--flock 100000`` made the
window unusable (0.13 FPS); a non-UTF-8 byte in a path ended in a ``UnicodeEncodeError``
traceback when the path went into a model card. And where a finished run still cannot be
written at the end (the disk filled up meanwhile), it goes to a named fallback file
instead of being thrown away (``write_or_fallback``).

Rules: standard library only; no pyglet, no torch.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from game.errors import CliError

MIN_SIZE = 16
"""The smallest ``record --size``: the renderer draws no frame smaller than 16x16."""
MAX_SIZE = 2048
"""The largest ``record --size`` (a 2048x2048 frame is 12 MB; 100,000 would be 30 GB)."""
MAX_FLOCK = 256
"""The most flyers of ``--flock``. The window's frame rate falls with the flock: against the
default 64, 256 flyers keep about half the frames, 512 a sixth and 1,024 a twelfth
(``bench/flock_top.py``), and 100,000 drew 0.13 frames a second with Esc taking 7 s."""
MAX_EPISODES = 1_000_000
"""The most runs ``evaluate`` and ``export-pilot --episodes`` fly (in chunks, memory flat;
a million arcade courses take about two hours on a 2-core machine)."""
GIF_MAX_BYTES = 512 * 2**20
"""A GIF is built in memory at one byte per pixel per frame; a film needing more is refused
(an MP4 is streamed to disk and has no such limit)."""


def text(path: Path, flag: str) -> Path:
    """``path`` if it can be written into text (a model card, a message); else one line.

    A byte that is not UTF-8 in a name reaches Python as a lone surrogate, which no text
    encoder accepts.
    """
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        shown = str(path).encode("utf-8", "backslashreplace").decode("ascii", "replace")
        raise CliError(f"{flag} {shown} is not valid UTF-8 text; use a name without "
                       "such bytes") from None
    return path


def writable(out: Path, flag: str = "--out") -> Path:
    """``out`` if a file of that name can be created (a probe file is made and removed).

    Raises:
        CliError: The name is not UTF-8, its folder is missing or not a folder, ``out`` is
            a folder, or the folder cannot be written (permission, read-only disk).
    """
    text(out, flag)
    folder = out.parent
    if not folder.is_dir():
        raise CliError(f"{flag} folder {folder} does not exist")
    if out.is_dir():
        raise CliError(f"{flag} {out} is a folder")
    probe = folder / f".{out.name}.{os.getpid()}-{secrets.token_hex(4)}.probe"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    os.close(fd)
    probe.unlink(missing_ok=True)
    return out


def bounded(value: float, flag: str, low: float, high: float, why: str = "") -> float:
    """``value`` if ``low <= value <= high``, else one line naming the bounds."""
    if not low <= value <= high:
        raise CliError(f"{flag} must be {_n(low)} to {_n(high)}{why}, got {_n(value)}")
    return value


def _n(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,g}"


def size(px: int) -> int:
    """``record --size``: even, and between ``MIN_SIZE`` and ``MAX_SIZE``."""
    bounded(px, "--size", MIN_SIZE, MAX_SIZE, " pixels")
    return px


def flock(n: int) -> int:
    """``--flock``: at most ``MAX_FLOCK`` (the window's frame rate falls with the flock)."""
    bounded(n, "--flock", 1, MAX_FLOCK, " flyers (more make the window unusable)")
    return n


def episodes(n: int) -> int:
    """``--episodes``: at most ``MAX_EPISODES``."""
    bounded(n, "--episodes", 1, MAX_EPISODES, " runs")
    return n


def gif_fits(frames: float, width: int, height: int, fps: float) -> None:
    """Refuses a GIF whose frames would not fit ``GIF_MAX_BYTES`` of memory, saying why."""
    need = frames * width * height
    if need <= GIF_MAX_BYTES:
        return
    most = GIF_MAX_BYTES / (width * height) / fps
    raise CliError(f"a GIF of {frames:,.0f} frames at {width}x{height} is built in memory and "
                   f"would need {need / 2**30:,.1f} GiB (at most {GIF_MAX_BYTES // 2**20} MiB): "
                   f"make it at most {most:,.0f} s of film, smaller, or an .mp4 (streamed)")


def write_or_fallback(out: Path, write: Callable[[Path], None], what: str) -> tuple[Path, str]:
    """Writes with ``write(out)``; if that fails, to a named fallback file instead.

    The fallback is ``<name>.unsaved-<UTC time><suffix>`` in the current folder, else in
    the temp folder. Returns where it was written and a line for the person ('' if
    ``out``).

    Raises:
        CliError: Not even a fallback could be written (the line names every place tried).
    """
    try:
        write(out)
        return out, ""
    except OSError as exc:
        first = f"cannot write {out}: {exc.strerror or exc}"
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    name = f"{out.stem}.unsaved-{stamp}{out.suffix}"
    tried = []
    for folder in (Path.cwd(), Path(tempfile.gettempdir())):
        fallback = folder / name
        try:
            write(fallback)
        except OSError as exc:
            tried.append(f"{fallback}: {exc.strerror or exc}")
            continue
        return fallback, f"{first}; the {what} was written to {fallback} instead"
    raise CliError(f"{first}; nor could the {what} be written to {'; '.join(tried)}")


def check_args(args: object) -> None:
    """Every bound and path check that needs only the parsed command line (before any work)."""
    for flag in ("out", "data_dir"):
        path = getattr(args, flag, None)
        if path is not None:
            text(Path(path), "--" + flag.replace("_", "-"))
    if getattr(args, "flock", None) is not None:
        flock(args.flock)  # type: ignore[attr-defined]
    command = getattr(args, "command", None)
    if command in ("evaluate", "export-pilot"):
        episodes(args.episodes)  # type: ignore[attr-defined]
    if command == "record":
        size(args.size)  # type: ignore[attr-defined]
