"""When the learner is saved, and what the HUD says about saves.

The store and the background saver (``ai.store.store``) are passed in, duck-typed, so
tests use small fakes. Standard library only: no pyglet, no torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from game.play.events import Saved


class SaveInfoLike(Protocol):
    """What the game reads of ``ai.store.store.SaveInfo``."""

    ok: bool
    message: str
    generation: int | None
    finished_at: float


class StoreLike(Protocol):
    """What :class:`Autosave` uses of ``ai.store.store.Store``."""

    def prepare(self, state: Any, copy: bool = True) -> Any: ...


class SaverLike(Protocol):
    """What :class:`Autosave` uses of ``ai.store.store.BackgroundSaver``."""

    @property
    def busy(self) -> bool: ...

    def submit(self, snapshot: Any) -> None: ...

    def poll(self) -> list[Any]: ...

    def close(self, timeout: float | None = None) -> list[Any]: ...


class Autosave:
    """When the learner is saved, and what the HUD and the terminal say about saves.

    A save is split in two: the snapshot (``learner.state()`` and ``store.prepare``,
    a millisecond or two) runs on the caller's thread, the game's frame, so the
    learner never changes under it; the disk write runs on the saver's own thread,
    so the frame never waits for the disk. A save is skipped while the learner is
    unchanged since the last one (paused, or learning off).

    Args:
        learner: the live learner (reads ``env_steps``, ``episodes``, ``updates``).
        store: makes snapshots (``prepare``).
        saver: writes snapshots in the background (``submit``, ``poll``, ``close``).
        interval_s: play seconds between autosaves.
        dirty: the learner is not on disk yet although it has taken no step (a
            fresh learner started from a pilot file).
        resumed: ``(episodes, env_steps)`` carried over from the loaded save, or None
            for a new learner.
        generation: the save the learner was loaded from, if any.
        clock: wall-clock seconds, the clock of ``SaveInfo.finished_at``.
    """

    def __init__(self, learner: Any, store: StoreLike, saver: SaverLike,
                 interval_s: float = 60.0, dirty: bool = False,
                 resumed: tuple[int, int] | None = None, generation: int | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if not interval_s > 0:
            raise ValueError(f"autosave interval must be positive, got {interval_s!r}")
        self.learner = learner
        self.store = store
        self.saver = saver
        self.interval_s = float(interval_s)
        self.resumed = resumed
        self.loaded_generation = generation
        self.clock = clock
        self.play_s = 0.0
        """Play time since the last snapshot, in seconds."""
        self.snapshots = 0
        self.snapshot_ms = 0.0
        """Time the latest snapshot took on the caller's thread."""
        self.snapshot_ms_max = 0.0
        self.saves_ok = 0
        self.saves_failed = 0
        self.last: SaveInfoLike | None = None
        """The latest finished save, good or failed."""
        self.last_ok: SaveInfoLike | None = None
        self.unfinished = False
        """True if ``close`` timed out with a write still running."""
        self._saved_key = None if dirty else self._key()
        self._stall_told = False
        self._told: list[SaveInfoLike] = []
        """Saves refused before reaching the saver, for the next ``poll``."""

    def _key(self) -> tuple[int, int, int]:
        lr = self.learner
        return (int(lr.env_steps), int(lr.episodes), int(lr.updates))

    @property
    def dirty(self) -> bool:
        """True if the learner changed since the last snapshot (or that save failed)."""
        return self._key() != self._saved_key

    @property
    def busy(self) -> bool:
        """True while a save is waiting or being written."""
        return bool(self.saver.busy)

    def due(self, dt: float) -> bool:
        """True if ``play(dt)`` would take a snapshot now."""
        return self.play_s + max(float(dt), 0.0) >= self.interval_s and self.dirty

    def snapshot_estimate_s(self) -> float:
        """How long the next snapshot will likely take on the caller's thread, in seconds."""
        return (self.snapshot_ms or 3.0) * 1e-3

    def play(self, dt: float) -> bool:
        """Counts ``dt`` seconds of play; starts a save when one is due. True if it did."""
        self.play_s += max(float(dt), 0.0)
        if self.play_s < self.interval_s:
            return False
        return self.save_now()

    def save_now(self) -> bool:
        """Snapshots the learner and hands it to the saver, if it changed. True if it did.

        A learner that cannot be saved (NaN in its weights: ``StateError``) is reported
        like a failed write and the previous save stays the newest. A learner that stopped
        learning by itself (``stalled``: every gradient step rolled back) is never saved,
        so its memory never replaces a good save; the next ``poll`` says so, once.
        """
        self.play_s = 0.0
        key = self._key()
        if key == self._saved_key:
            return False
        stalled = getattr(self.learner, "stalled", None)
        if stalled:  # its memory or settings cannot be learned from: keep the good saves
            if not self._stall_told:
                self._stall_told = True
                self._record(_Failed(f"{stalled}; not saved, the older saves are kept",
                                     self.clock()))
                self._told.append(self.last)
            return False
        t0 = time.perf_counter()
        try:
            snapshot = self.store.prepare(self.learner.state(), copy=False)
        except ValueError as exc:  # ai.StateError: one line naming the problem
            self._record(_Failed(str(exc).splitlines()[0], self.clock()))
            return False
        self.saver.submit(snapshot)
        self.snapshot_ms = (time.perf_counter() - t0) * 1e3
        self.snapshot_ms_max = max(self.snapshot_ms_max, self.snapshot_ms)
        self.snapshots += 1
        self._saved_key = key
        return True

    def poll(self) -> list[SaveInfoLike]:
        """The saves finished since the last call; the counters and ``last`` follow them."""
        told, self._told = self._told, []
        infos = self.saver.poll()
        for info in infos:
            self._record(info)
        return told + infos

    def poll_events(self) -> list[Saved]:
        """:meth:`poll` as session events (the window shows them)."""
        return [Saved(bool(i.ok), i.message, i.generation) for i in self.poll()]

    def close(self, timeout: float | None = None) -> list[SaveInfoLike]:
        """The final save: snapshots a changed learner and waits up to ``timeout`` for the disk.

        Returns the saves finished since the last ``poll``; ``unfinished`` is True if the
        write was still running at the timeout (the previous save then stays the newest).
        """
        failed_before = self.saves_failed
        self.save_now()
        pre = [] if self.saves_failed == failed_before else [self.last]
        infos = self.saver.close(timeout)
        for info in infos:
            self._record(info)
        self.unfinished = bool(self.saver.busy)
        return [i for i in pre if i is not None] + infos

    def _record(self, info: SaveInfoLike) -> None:
        self.last = info
        if info.ok:
            self.saves_ok += 1
            self.last_ok = info
        else:
            self.saves_failed += 1
            self._saved_key = None  # the learner is not on disk: retry at the next autosave

    def seconds_since_save(self) -> float | None:
        """Seconds since the latest good save finished (None: none this session)."""
        if self.last_ok is None:
            return None
        return max(self.clock() - self.last_ok.finished_at, 0.0)

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary for the state file."""
        last = self.last
        return {
            "autosave_s": self.interval_s,
            "play_s": round(self.play_s, 3),
            "snapshots": self.snapshots,
            "snapshot_ms": round(self.snapshot_ms, 3),
            "snapshot_ms_max": round(self.snapshot_ms_max, 3),
            "saves_ok": self.saves_ok,
            "saves_failed": self.saves_failed,
            "busy": self.busy,
            "dirty": self.dirty,
            "last_ok": None if last is None else bool(last.ok),
            "last_message": None if last is None else last.message,
            "last_generation": None if self.last_ok is None else self.last_ok.generation,
            "seconds_since_save": self.seconds_since_save(),
            "loaded_generation": self.loaded_generation,
            "resumed_episodes": None if self.resumed is None else self.resumed[0],
            "resumed_env_steps": None if self.resumed is None else self.resumed[1],
        }


@dataclass(frozen=True)
class _Failed:
    """A save that failed before reaching the saver (the learner could not be snapshotted)."""

    message: str
    finished_at: float
    ok: bool = False
    generation: int | None = None
