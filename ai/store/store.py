"""The learner's memory on disk: one level's state as crash-safe, checksummed generations.

A store folder (usually ``<data_dir>/learner/<level>/``) holds numbered generations;
each save writes a new one::

    gen-000007.weights.safetensors  every torch tensor of the state (weights, target net,
                                    optimizer moments, torch RNG state)
    gen-000007.memory.npz           every numpy array (the replay memory), read with
                                    allow_pickle=False
    gen-000007.state.json           the meta: counters, epsilon, RNG states, config
    gen-000007.manifest.json        written last: format version, level, the parent
                                    generation, and each file's name, size and SHA-256

**A generation exists if and only if its manifest exists.** Every file is written
atomically (``ai.atomic``), the three data files first, then the folder is fsynced,
then the manifest. A kill at any moment therefore leaves either the new generation
complete or no manifest for it. At the next start the data files of an unfinished
generation ("orphans", or files copied in by hand) are moved aside as
``*.orphan-<UTC time>`` with one line saying so; only the store's own temp files whose
writer process is gone are removed. A load reads the manifest and checks the size and
checksum of every file it names before parsing any of them, so it never mixes files of
two saves and never trusts a damaged one. Every file is read with a size cap that
follows from its kind and only if it is a regular file, opened without blocking.

**One writer per folder.** A process that saves or loads takes an OS lock on
``<folder>.lock`` (``flock``; ``msvcrt.locking`` on Windows); ``claim`` keeps it for the
life of the process, as the game does. The kernel drops the lock when its process
ends, so a killed game never blocks the next start. A second process finds the lock
taken: it may read the saves (``load`` then changes nothing on disk) but every
``write`` and ``move_aside_all`` is refused with one line, so it never writes into the
first one's chain.

What a load does with each generation, newest first:

* damaged (unreadable manifest, missing or truncated file, flipped byte, unparsable
  content): every file of that generation is moved aside as ``*.corrupt-<UTC time>``
  and the next older generation is tried;
* outdated (learned under another physics version than the caller expects): moved
  aside as ``*.physics-v<N>-<UTC time>`` (kept, never loaded again) and the next older
  generation is tried;
* refused (another format version or level, shapes or names that do not match the
  learner, NaN/Inf in a tensor): the files stay where they are, untouched, and the next
  older generation is tried;
* good: returned. The result's ``messages`` is then at most ONE line, saying what was
  wrong and which older save was resumed. If none is good the result has ``state=None``
  (start a fresh learner) and one line saying why.

Nothing is ever parsed with pickle: tensors go through safetensors, arrays through
``np.load(..., allow_pickle=False)`` and the rest through ``json``.

Pruning: each manifest names its parent (the generation the learner was loaded from
or last saved). After a save, the store keeps the newest ``keep`` generations of that
chain and deletes only older generations *of the same chain*, which are fully
superseded. A generation that was refused (say, saved by another version of the game)
is never in the chain, so it is never deleted; damaged ones were moved aside. When a
save fails for lack of space, the generations of the chain older than the newest good
one are removed (they are superseded by it) and the save is tried once more; if it
still fails, the newest good save stays and the message says how old it is.

Typical use in the game::

    store = Store.for_data_dir(data_dir, "classic",     # <data_dir>/learner/classic/
                               expect={"physics_version": "1"})
    if not store.claim():                               # another window has this learner
        show(store.busy_message)                        # learn in memory, save nothing
    elif fresh:                                         # --fresh: start a new learner
        store.move_aside_all()                          # the old state kept, renamed
    result = store.load(build=Learner.from_state)       # never raises for bad files
    for line in result.messages:
        show(line)                                      # HUD and terminal, one line each
    learner = result.built or Learner(obs_size, cfg, meta=meta, seed=seed)

    saver = BackgroundSaver(store)                      # autosave without stutter
    saver.submit(store.prepare(learner.state(), copy=False))  # quick, on the frame thread
    for info in saver.poll():                           # later frames: finished saves
        show(info.message)                              # info.ok False: disk full etc.
    infos = saver.close()                               # on exit: waits for the last write

``store.save(state)`` does both halves on the caller's thread (for ``train`` and tests).
"""

from __future__ import annotations

import errno
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ai.atomic import move_aside
from ai.errors import StateError
from ai.learner import LearnerState
from ai.store.codec import snapshot_blobs, snapshot_of
from ai.store.layout import (
    DEFAULT_META_KEYS,
    FORMAT_VERSION,
    KEEP,
    LEGACY_META,
    MANIFEST_SUFFIX,
    MAX_BYTES,
    ROLES,
    LoadResult,
    SaveInfo,
    Snapshot,
    StateSpec,
    learner_folder,
    memory_cap_bytes,
)
from ai.store.loader import GenerationLoader
from ai.store.lock import WriterLock
from ai.store.reader import GenerationReader
from ai.store.writer import GenerationWriter

__all__ = [
    "DEFAULT_META_KEYS", "FORMAT_VERSION", "KEEP", "LEGACY_META", "MANIFEST_SUFFIX",
    "MAX_BYTES", "ROLES", "BackgroundSaver", "LearnerState", "LoadResult", "SaveInfo",
    "Snapshot", "StateSpec", "Store", "learner_folder", "memory_cap_bytes",
]

class Store:
    """The learner state of one level in one folder, as checksummed generations.

    A facade over the folder's one-writer lock (``ai.store.lock.WriterLock``), its
    reader (``ai.store.reader.GenerationReader``: reading, checking, moving aside), its
    writer (``ai.store.writer.GenerationWriter``: committing, pruning) and its loader
    (``ai.store.loader.GenerationLoader``: the fallback and the start-up housekeeping).

    Thread-safe: ``write`` may run on a background thread while the caller's thread
    runs ``prepare``. Across processes there is one writer: see ``claim``.

    Args:
        folder: The level's folder (created on the first save).
        level: 'classic' or 'arcade'; a generation saved for another level is refused.
        keep: Generations of the current chain kept after a save (at least 2, so a
            damaged newest one falls back to the one before).
        expect: Meta the caller's game has, as strings, e.g. ``{"physics_version": "2",
            "obs_size": "8"}``: written into each manifest, and a saved generation whose
            value differs is not loaded (another physics version: moved aside).
        max_memory_bytes: The largest memory file a load reads (``memory_cap_bytes`` of
            the replay capacity); default ``MAX_BYTES["memory"]``.
        read_only: Only ever read (``main.py evaluate learner``, ``export-pilot``): never
            take the one-writer lock (a running game keeps it), never move, remove or
            write a file; ``load`` behaves as when another process is the writer.
    """

    def __init__(self, folder: Path, level: str, keep: int = KEEP,
                 expect: Mapping[str, Any] | None = None,
                 max_memory_bytes: int | None = None, read_only: bool = False) -> None:
        if keep < 2:
            raise ValueError("keep must be at least 2 so a damaged save has a fallback")
        self.folder = Path(folder)
        self.level = level
        self.keep = keep
        self.expect = {str(k): str(v) for k, v in (expect or {}).items()}
        self.max_bytes = dict(MAX_BYTES)
        if max_memory_bytes is not None:
            self.max_bytes["memory"] = int(max_memory_bytes)
        self.read_only = read_only
        self.lock_path = self.folder.with_name(self.folder.name + ".lock")
        """The one-writer lock file, beside the folder so ``--fresh`` can rename the folder."""
        self.last_save: SaveInfo | None = None
        """The most recent save's outcome (for the HUD's "last saved" line)."""
        self._lock = WriterLock(self.lock_path, read_only)
        self._reader = GenerationReader(self.folder, level, self.expect, self.max_bytes,
                                        read_only)
        self._writer = GenerationWriter(self._reader, keep)
        self._loader = GenerationLoader(self._reader, self._writer, self._lock, level,
                                        read_only)

    @classmethod
    def for_data_dir(cls, data_dir: Path, level: str, keep: int = KEEP,
                     expect: Mapping[str, Any] | None = None,
                     max_memory_bytes: int | None = None, read_only: bool = False) -> Store:
        """The store at ``<data_dir>/learner/<level>/``."""
        return cls(learner_folder(data_dir, level), level, keep, expect, max_memory_bytes,
                   read_only)

    # ---- the one writer ---------------------------------------------------------------

    @property
    def busy_reason(self) -> str:
        """Why this process may not write: another one has the learner."""
        if self.read_only:
            return f"the {self.level} learner ({self.folder}) was opened read-only"
        if self._lock.problem is not None:
            return (f"the {self.level} learner's lock file {self.lock_path} cannot be used "
                    f"({self._lock.problem})")
        return f"another Gravity Flyer is using the {self.level} learner ({self.folder})"

    @property
    def busy_message(self) -> str:
        """The line shown when another process has this learner."""
        return f"{self.busy_reason}: this window learns in memory only and saves nothing"

    def claim(self) -> bool:
        """Makes this process the folder's one writer until ``release`` or the process ends.

        Returns False if another process has it (a second game window): ``load`` then
        reads without changing anything and ``write`` refuses. The OS drops the lock of
        a process that ends, killed or not, so a stale lock never blocks. The lock fails
        closed: if it cannot be taken at all (a read-only folder, a folder or a symlink
        loop in place of the lock file) this returns False too, and ``busy_message`` says
        why. A ``read_only`` store returns False.
        """
        return self._lock.claim()

    def release(self) -> None:
        """Gives up what ``claim`` took (the game does not need to: exit does it)."""
        self._lock.release()

    def keep_older(self) -> None:
        """From now on no save of this store removes an older generation.

        For a game that crashed while learning: its last save may hold what made it
        crash, so the good generations before it must stay to fall back on.
        """
        with self._lock.guard:
            self._writer.pruning = False

    # ---- saving ---------------------------------------------------------------------

    def prepare(self, state: LearnerState, copy: bool = True) -> Snapshot:
        """Copies and serialises ``state`` in memory; quick, meant for the caller's thread.

        Args:
            state: The state to save.
            copy: Copy the arrays. Pass False only if nothing will ever change them, as
                with a fresh ``Learner.state()`` (already a private copy): this saves one
                copy of the replay memory on the caller's thread.

        Raises:
            StateError: A tensor holds NaN/Inf, an array holds Python objects, or the meta
                is not JSON. Nothing is written; the last good save stays the newest.
        """
        return snapshot_of(state, self.level, copy)

    def write(self, snapshot: Snapshot) -> SaveInfo:
        """Writes ``snapshot`` as a new generation and prunes superseded ones; never raises OSError.

        The slow part of a save (npz serialisation, checksums, fsyncs); safe to call on a
        background thread. On a full or read-only disk the previous generation is
        untouched and the returned ``SaveInfo`` has ``ok=False`` and a one-line message
        that says how old the newest save on disk is. A disk that is full gets one
        retry after the chain's superseded generations are removed (the newest good
        one stays). Another process being the writer is refused the same way.
        """
        t0 = time.perf_counter()
        blobs = snapshot_blobs(snapshot)
        with self._lock.writing() as writer:
            if writer:
                info = self._writer.write(blobs, t0)
            elif self._lock.problem is not None:  # fail closed, saying why
                info = self._writer.failed(f"could not save the {self.level} learner: "
                                           f"{self.busy_reason}", t0)
            else:
                info = self._writer.failed(f"not saved: {self.busy_reason}", t0)
            self.last_save = info
            return info

    def newest_on_disk(self) -> str:
        """How old this learner's newest save on disk is, as a phrase for a failure line."""
        return self._writer.newest_on_disk()

    def save(self, state: LearnerState) -> SaveInfo:
        """``prepare`` then ``write`` on the caller's thread; reports errors, never raises them.

        ``state`` must not change until this returns (its arrays are not copied).
        Call ``load`` first at start-up: saves continue the chain of the generation it
        loaded, which is what lets pruning remove the superseded ones.
        """
        try:
            snapshot = self.prepare(state, copy=False)
        except StateError as exc:
            info = SaveInfo(False, str(exc), finished_at=time.time())
            self.last_save = info
            return info
        return self.write(snapshot)

    # ---- loading --------------------------------------------------------------------

    def load(self, spec: StateSpec | None = None,
             build: Callable[[LearnerState], Any] | None = None) -> LoadResult:
        """The newest good generation, falling back to older ones; never raises for bad files.

        Also the start-up housekeeping of the writer: temp files of dead writers are
        removed, orphan data files are moved aside (one line), and ancestors of the loaded
        generation beyond ``keep`` (left when a kill came between a save and its prune)
        are removed. When another process is the writer, nothing on disk is changed.

        Args:
            spec: The names, shapes and meta values a usable state must have; a generation
                that does not fit is refused and kept. None skips that check.
            build: Called on each candidate state, e.g. ``Learner.from_state``; if it raises
                (``StateError`` names what does not fit) the generation is refused with that
                message and kept, and the next older one is tried. Its result is
                ``LoadResult.built``.

        Returns:
            The result; its ``messages`` hold at most one line about orphans and one line
            about what was wrong with the saves and what was done instead.
        """
        return self._loader.load(spec, build)

    def generations(self) -> list[int]:
        """Numbers of the committed generations (those with a manifest), newest first."""
        return self._reader.generations()

    def move_aside_all(self) -> Path | None:
        """For ``--fresh``: renames the whole folder to ``<folder>.fresh-<UTC time>``.

        Nothing is deleted. Returns the new path, or None if there was nothing to move.

        Raises:
            OSError: The folder could not be renamed, or another process is the writer
                (``EBUSY``); the caller shows the message.
        """
        with self._lock.writing() as writer:
            if not writer:
                raise OSError(errno.EBUSY, self.busy_reason)
            if not self.folder.is_dir() or not any(self.folder.iterdir()):
                return None
            self._writer.forget()
            return move_aside(self.folder, "fresh")


class BackgroundSaver:
    """Writes snapshots on one worker thread so the game's frame never waits for the disk.

    ``submit`` returns at once. If a write is running, the new snapshot waits; a
    snapshot still waiting when a newer one is submitted is replaced by it (only the
    newest state matters). Finished saves are collected with ``poll``.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cond = threading.Condition()
        self._pending: Snapshot | None = None
        self._busy = False
        self._closed = False
        self._done: list[SaveInfo] = []
        self._thread = threading.Thread(target=self._run, name="learner-autosave", daemon=True)
        self._thread.start()

    def submit(self, snapshot: Snapshot) -> None:
        """Queues ``snapshot`` for writing (replacing one not yet started)."""
        with self._cond:
            if self._closed:
                raise RuntimeError("the saver is closed")
            self._pending = snapshot
            self._cond.notify_all()

    @property
    def busy(self) -> bool:
        """True while a snapshot is waiting or being written."""
        with self._cond:
            return self._busy or self._pending is not None

    def poll(self) -> list[SaveInfo]:
        """The saves finished since the last call (oldest first)."""
        with self._cond:
            done, self._done = self._done, []
            return done

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until nothing is waiting or being written; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._busy and self._pending is None,
                                       timeout)

    def close(self, timeout: float | None = None) -> list[SaveInfo]:
        """Finishes the waiting write, stops the thread, returns what ``poll`` would."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout)
        return self.poll()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._pending is not None or self._closed)
                if self._pending is None:
                    return
                snapshot, self._pending, self._busy = self._pending, None, True
            try:
                info = self.store.write(snapshot)
            except Exception as exc:  # keep the game running whatever happens on disk
                info = SaveInfo(False, f"could not save the {self.store.level} learner: "
                                f"{type(exc).__name__}: {exc}", finished_at=time.time())
            with self._cond:
                self._busy = False
                self._done.append(info)
                self._cond.notify_all()
