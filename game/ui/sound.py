"""Jump, score and crash sounds; silent (never a crash) when there is no audio device."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

NAMES = ("jump", "score", "crash")
MIN_GAP_S = 0.06
"""The same sound never starts twice within this many seconds (fast-forward stays calm)."""


class Sounds:
    """Static (preloaded) pyglet sources; any audio failure turns sound off, said once.

    Args:
        folder: where ``jump.wav``, ``score.wav`` and ``crash.wav`` are.
        muted: start muted (the player's saved choice).
        load: loads one file as a playable source (default: pyglet.media's, static).
    """

    def __init__(self, folder: Path, muted: bool = False,
                 load: Callable[[str], Any] | None = None) -> None:
        self.sources: dict[str, object] = {}
        self.last: dict[str, float] = {}
        self.muted = muted
        self.error: str | None = None
        """Why sound is off, if it is."""
        self._told = False
        try:
            if load is None:
                import pyglet.media

                def load(path: str) -> Any:
                    return pyglet.media.load(path, streaming=False)

            for name in NAMES:
                self.sources[name] = load(str(folder / f"{name}.wav"))
        except Exception as exc:  # no driver, no file, a broken codec: play silently
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self._off(f"sound off: {reason}")

    def _off(self, why: str) -> None:
        self.error = why
        self.sources = {}

    def take_error(self) -> str | None:
        """Why sound is off, the first time it is asked after sound went off; else None."""
        if self.error is None or self._told:
            return None
        self._told = True
        return self.error

    def play(self, name: str) -> None:
        """Plays ``name`` unless it just played, sound is muted or sound is off."""
        source = self.sources.get(name)
        if source is None or self.muted:
            return
        now = time.perf_counter()
        if now - self.last.get(name, -1.0) < MIN_GAP_S:
            return
        self.last[name] = now
        try:
            source.play()
        except Exception as exc:  # a driver that fails later: go silent, keep playing
            self._off(f"sound off: {type(exc).__name__}")
