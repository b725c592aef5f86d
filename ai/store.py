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
    elif args.fresh:
        store.move_aside_all()                          # the old state kept, renamed
    result = store.load(build=Learner.from_state)       # never raises for bad files
    for line in result.messages:
        show(line)                                      # HUD and terminal, one line each
    learner = result.built or Learner(obs_size, cfg, meta=meta, seed=seed)

    saver = BackgroundSaver(store)                      # autosave without stutter
    saver.submit(store.prepare(learner.state(), copy=False))  # ~1-2 ms, on the frame thread
    for info in saver.poll():                           # later frames: finished saves
        show(info.message)                              # info.ok False: disk full etc.
    infos = saver.close()                               # on exit: waits for the last write

``store.save(state)`` does both halves on the caller's thread (for ``train`` and tests).
"""

from __future__ import annotations

import calendar
import contextlib
import errno
import hashlib
import io
import json
import os
import re
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from ai.atomic import (
    RefusedFile,
    atomic_write_bytes,
    fsync_dir,
    move_aside,
    parse_json,
    read_regular_file,
    sweep_temp_files,
    utc_stamp,
)
from ai.errors import StateError
from ai.learner import LearnerState

try:  # the one-writer lock: flock on POSIX, msvcrt.locking on Windows
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]
    import msvcrt

FORMAT_VERSION = 1
"""Version of the store's file layout; a generation with another version is refused."""

KEEP = 2
"""Generations of the current chain kept by default: the newest and the one before."""

ROLES = {"weights": "weights.safetensors", "memory": "memory.npz", "state": "state.json"}
"""The data files of one generation: role -> file name suffix."""

MANIFEST_SUFFIX = "manifest.json"
MAX_BYTES = {"manifest": 256 * 1024, "state": 16 * 2**20, "weights": 256 * 2**20,
             "memory": 4 * 2**30}
"""The largest file of each kind a load reads. A manifest is about a kilobyte; the state
JSON holds counters, RNG states and a bounded curve; the memory file is capped by the
caller from the replay capacity (``memory_cap_bytes``), this is only the default."""
LEGACY_META = {"physics_version": "1"}
"""Meta of manifests written before they recorded any: every such save was made under
physics version 1, the only one there was."""
_NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
DEFAULT_META_KEYS = ("format_version", "level", "obs_size", "physics_version")
"""Meta entries ``StateSpec.of`` requires to be equal, when the template has them."""

T = TypeVar("T")

_GEN_FILE = re.compile(r"^gen-(\d+)\.(.+)$")
_GEN_DIGITS = 6


def _name(generation: int, suffix: str) -> str:
    return f"gen-{generation:0{_GEN_DIGITS}d}.{suffix}"


def _sha256(data: bytes | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Snapshot:
    """A learner state serialised in memory by ``Store.prepare``; safe to write on any thread.

    It shares nothing with the live learner, so the learner may keep training while
    ``Store.write`` puts the snapshot on disk.
    """

    weights: bytes
    """The safetensors file, complete."""
    arrays: dict[str, np.ndarray]
    """Private copies of the state's numpy arrays (serialised by ``write``)."""
    state_json: bytes
    """The meta as UTF-8 JSON."""


@dataclass(frozen=True)
class SaveInfo:
    """The outcome of one save: shown by the HUD, never raised."""

    ok: bool
    """True if the new generation is on disk (durably) and will be loaded next time."""
    message: str
    """One line for the HUD and the terminal."""
    generation: int | None = None
    """Number of the generation written (None if the save failed)."""
    size_bytes: int = 0
    """Bytes written, all files of the generation."""
    seconds: float = 0.0
    """Wall time of the disk part (``write``)."""
    finished_at: float = 0.0
    """``time.time()`` when the save finished (for "last saved 12:03")."""


@dataclass(frozen=True)
class LoadResult:
    """The outcome of a load: a state to resume, or None for a fresh learner, and what happened."""

    state: LearnerState | None
    """The newest good state, or None: start a fresh learner."""
    messages: list[str]
    """One line per problem met (damaged or refused generations), for HUD and terminal."""
    generation: int | None = None
    """Number of the generation loaded."""
    built: Any = None
    """What ``load(build=...)`` made of the state (e.g. the ``Learner``), else None."""


class _Shape(NamedTuple):
    shape: tuple[int, ...]
    dtype: str

    def __str__(self) -> str:
        return f"{self.dtype}{list(self.shape)}"


@dataclass(frozen=True)
class StateSpec:
    """What a loadable state must look like: names, shapes and dtypes, and some meta values.

    Exact: a tensor or array missing, extra, or of another shape or dtype is a mismatch.
    For ``ai.Learner`` states prefer ``Store.load(build=Learner.from_state)``: its Adam
    tensors exist only after the first gradient step, so a fresh learner's state is not
    a template for a trained one.
    """

    tensors: dict[str, _Shape]
    """Tensor name -> (shape, dtype), e.g. ``((32, 2), 'float32')``."""
    arrays: dict[str, _Shape]
    """Array name -> (shape, dtype)."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Meta keys whose saved value must equal this one (e.g. the learner's format version)."""

    @classmethod
    def of(cls, state: LearnerState, meta_keys: tuple[str, ...] = DEFAULT_META_KEYS
           ) -> StateSpec:
        """The spec a state satisfies; pass a fresh learner's state as the template."""
        return cls(
            tensors={k: _tensor_shape(v) for k, v in state.tensors.items()},
            arrays={k: _array_shape(v) for k, v in state.arrays.items()},
            meta={k: state.meta[k] for k in meta_keys if k in state.meta},
        )

    def mismatches(self, state: LearnerState) -> list[str]:
        """What in ``state`` differs from the spec, one short phrase each (empty if it fits)."""
        out: list[str] = []
        for kind, want, have, shape_of in (
                ("tensor", self.tensors, state.tensors, _tensor_shape),
                ("array", self.arrays, state.arrays, _array_shape)):
            for name in sorted(want.keys() - have.keys()):
                out.append(f"{kind} {name!r} is missing")
            for name in sorted(have.keys() - want.keys()):
                out.append(f"{kind} {name!r} is not expected")
            for name in sorted(want.keys() & have.keys()):
                got = shape_of(have[name])
                if got != want[name]:
                    out.append(f"{kind} {name!r} is {got}, expected {want[name]}")
        for key, value in sorted(self.meta.items()):
            if key not in state.meta:
                out.append(f"meta {key!r} is missing")
            elif state.meta[key] != _json_roundtrip(value):
                out.append(f"{key} is {state.meta[key]!r}, expected {value!r}")
        return out


def _tensor_shape(t: torch.Tensor) -> _Shape:
    return _Shape(tuple(t.shape), str(t.dtype).removeprefix("torch."))


def _array_shape(a: np.ndarray) -> _Shape:
    return _Shape(tuple(a.shape), str(a.dtype))


def _json_roundtrip(value: Any) -> Any:
    # A template's tuple (e.g. hidden sizes) comes back from JSON as a list.
    return json.loads(json.dumps(value))


class _Damaged(Exception):
    """A generation's files are not what its manifest says (or unparsable): move aside."""


class _Refused(Exception):
    """A generation is intact but unusable here (version, level, shapes, NaN): keep it."""


class _Outdated(Exception):
    """A generation learned under another physics version: moved aside, never loaded again."""

    def __init__(self, reason: str, tag: str) -> None:
        super().__init__(reason)
        self.tag = tag


def learner_folder(data_dir: Path, level: str) -> Path:
    """Where ``level``'s learner state lives inside the data folder."""
    return Path(data_dir) / "learner" / level


def memory_cap_bytes(slots: int, obs_size: int) -> int:
    """A generous bound on the memory file of a replay memory with ``slots`` transitions.

    Per slot the replay keeps two float32 observations, an int64 action, a float32
    reward and termination and a bool tag (``ai.replay.ReplayMemory``): 8 * obs + 17
    bytes. Twice that plus 16 MiB means a small layout change never makes a good save
    look damaged, while a file in place of it can still not fill the machine's memory.
    """
    return 2 * int(slots) * (8 * int(obs_size) + 17) + 16 * 2**20


# ---- the one-writer lock -------------------------------------------------------------

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
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
            if not _os_trylock(fd):
                os.close(fd)
                return None
            held = _HELD[key] = _Held(fd)
        held.count += 1
        return held


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


class Store:
    """The learner state of one level in one folder, as checksummed generations.

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
        self._parent: int | None = None
        self._newest: tuple[int, float] | None = None
        """(generation, ``time.time()`` it was saved) of this chain's newest save on disk."""
        self._held: _Held | None = None
        self._lock = threading.RLock()

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
        return f"another Gravity Flyer is using the {self.level} learner ({self.folder})"

    @property
    def busy_message(self) -> str:
        """The line shown when another process has this learner."""
        return f"{self.busy_reason}: this window learns in memory only and saves nothing"

    def claim(self) -> bool:
        """Makes this process the folder's one writer until ``release`` or the process ends.

        Returns False if another process has it (a second game window): ``load`` then
        reads without changing anything and ``write`` refuses. The OS drops the lock of
        a process that ends, killed or not, so a stale lock never blocks. A folder
        where no lock file can be created (read-only) returns True: nothing can be
        written there anyway, and each save says why. A ``read_only`` store returns False.
        """
        if self.read_only:
            return False
        with self._lock:
            if self._held is not None:
                return True
            try:
                held = _acquire(self.lock_path)
            except OSError:
                return True
            if held is None:
                return False
            self._held = held
            return True

    def release(self) -> None:
        """Gives up what ``claim`` took (the game does not need to: exit does it)."""
        with self._lock:
            if self._held is not None:
                self._held = None
                _release(self.lock_path)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[bool]:
        """For one operation: yields True if this process is (or just became) the writer."""
        if self.read_only:  # never touch the lock: a game starting now must get it
            yield False
            return
        with self._lock:
            held, transient = self._held, False
            if held is None:
                try:
                    held = _acquire(self.lock_path)
                except OSError:  # a read-only folder: the operation reports its own error
                    yield True
                    return
                if held is None:
                    yield False
                    return
                transient = True
            try:
                with held.mutex:
                    yield True
            finally:
                if transient:
                    _release(self.lock_path)

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
        tensors = {}
        for name, t in state.tensors.items():
            if not isinstance(t, torch.Tensor):
                raise StateError(f"state tensor {name!r} is a {type(t).__name__}, not a tensor")
            t = t.detach().to("cpu", copy=True).contiguous()
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                raise StateError(f"not saving: tensor {name!r} holds NaN or Inf")
            tensors[name] = t
        arrays = {}
        for name, a in state.arrays.items():
            if not isinstance(a, np.ndarray) or a.dtype.hasobject:
                raise StateError(f"state array {name!r} must be a numeric numpy array")
            arrays[name] = np.array(a, copy=True, order="C") if copy else a
        try:
            state_json = json.dumps(state.meta, sort_keys=True).encode()
        except (TypeError, ValueError) as exc:
            raise StateError(f"state meta is not JSON: {exc}") from None
        weights = save_safetensors(
            tensors, metadata={"format": "gravity-flyer learner", "level": self.level})
        return Snapshot(weights=weights, arrays=arrays, state_json=state_json)

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
        blobs = {"weights": [snapshot.weights], "memory": _npz_chunks(snapshot.arrays),
                 "state": [snapshot.state_json]}
        with self._writing() as writer:
            if not writer:
                return self._failed(f"not saved: {self.busy_reason}", t0)
            made_room = False
            try:
                generation, size = self._commit(blobs)
            except OSError as exc:
                made_room = exc.errno in _NO_SPACE and self._make_room()
                if not made_room:
                    return self._failed(f"could not save the {self.level} learner: "
                                        f"{exc.strerror or exc}", t0)
                try:
                    generation, size = self._commit(blobs)
                except OSError as exc2:
                    return self._failed(f"could not save the {self.level} learner: "
                                        f"{exc2.strerror or exc2}, even after removing the "
                                        f"older save", t0)
            self._parent = generation
            self._newest = (generation, time.time())
            note = " (the disk was full: only the save before it is kept)" if made_room else ""
            try:
                self._prune(generation)
            except OSError as exc:  # the new save is good; an old one lingers until next time
                note += f" (could not remove an old save: {exc.strerror or exc})"
            info = SaveInfo(True, f"saved the {self.level} learner (save {generation}, "
                            f"{size / 1e6:.1f} MB){note}", generation, size,
                            time.perf_counter() - t0, time.time())
            self.last_save = info
            return info

    def _commit(self, blobs: dict[str, list[bytes | memoryview]]) -> tuple[int, int]:
        """Writes one generation, manifest last; returns (its number, bytes written).

        Raises:
            OSError: Nothing of this generation is left behind (as far as the disk lets
                the files be removed; what remains has no manifest and is moved aside at
                the next start).
        """
        written: list[Path] = []
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            generation = self._next_generation()
            files = {}
            for role, blob in blobs.items():
                path = self.folder / _name(generation, ROLES[role])
                written.append(path)
                atomic_write_bytes(path, blob, sync_folder=False)
                digest = hashlib.sha256()
                for chunk in blob:
                    digest.update(chunk)
                files[role] = {"name": path.name,
                               "size": sum(memoryview(c).nbytes for c in blob),
                               "sha256": digest.hexdigest()}
            # The data files' renames must be durable before the manifest names them.
            fsync_dir(self.folder)
            body = {"format": "gravity-flyer learner state",
                    "format_version": FORMAT_VERSION, "level": self.level,
                    "generation": generation, "parent": self._parent,
                    "saved_at": utc_stamp(), "meta": self.expect, "files": files}
            manifest = dict(body, manifest_sha256=_sha256(_canonical(body)))
            manifest_bytes = json.dumps(manifest, indent=1, sort_keys=True).encode()
            manifest_path = self.folder / _name(generation, MANIFEST_SUFFIX)
            # If the folder's fsync fails after the rename, the manifest is visible
            # but not durable: take it back too, so a failed save leaves no trace.
            written.insert(0, manifest_path)
            atomic_write_bytes(manifest_path, manifest_bytes)
        except OSError:
            # These are this save's own files, never committed: manifest first (un-commit),
            # then the data files.
            for path in written:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                fsync_dir(self.folder)
            raise
        return generation, sum(f["size"] for f in files.values()) + len(manifest_bytes)

    def _failed(self, reason: str, t0: float) -> SaveInfo:
        info = SaveInfo(False, f"{reason} ({self.newest_on_disk()})",
                        seconds=time.perf_counter() - t0, finished_at=time.time())
        self.last_save = info
        return info

    def newest_on_disk(self) -> str:
        """How old this learner's newest save on disk is, as a phrase for a failure line."""
        if self._newest is None:
            return "no save of this learner is on disk yet"
        generation, at = self._newest
        minutes = max(0.0, time.time() - at) / 60
        age = f"{minutes:.0f} min ago" if minutes < 120 else f"{minutes / 60:.1f} h ago"
        return (f"the previous save is kept: save {generation} from "
                f"{time.strftime('%H:%M', time.localtime(at))}, {age}")

    def _make_room(self) -> bool:
        """Removes the chain's generations older than the newest good one; True if any."""
        if self._parent is None:
            return False
        chain = self._chain(self._parent)
        if len(chain) < 2:
            return False
        try:
            self._remove(chain[1:])
        except OSError:
            return False
        return True

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
        messages: list[str] = []
        problems: list[str] = []
        with self._lock:
            if not self.folder.is_dir():
                return LoadResult(None, [])
            try:
                with self._writing() as writer:
                    if writer:
                        orphans = self._sweep()
                        if orphans:
                            messages.append(orphans)
                    for generation in self.generations():
                        try:
                            state = self._read_generation(generation, spec)
                            built = _build(build, state)
                        except _Refused as exc:
                            problems.append(f"save {generation} not used ({exc}; kept)")
                            continue
                        except _Outdated as exc:
                            problems.append(self._set_aside(generation, str(exc), exc.tag)
                                            if writer else f"save {generation} is {exc}, not used")
                            continue
                        except _Damaged as exc:
                            problems.append(self._set_aside(generation, f"damaged ({exc})")
                                            if writer else
                                            f"save {generation} is damaged ({exc}; left as it "
                                            f"is{self._for_whom})")
                            continue
                        except OSError as exc:  # e.g. permission denied: not damage, keep it
                            problems.append(f"save {generation} could not be read "
                                            f"({exc.strerror or exc}; kept)")
                            continue
                        if writer:
                            self._parent = generation
                            self._newest = (generation, self._saved_time(generation))
                            try:  # a kill between a save's commit and its prune left extras
                                self._prune(generation)
                            except OSError:
                                pass  # housekeeping only; the next save prunes again
                        if problems:
                            used = "using" if self.read_only else "resumed from"
                            messages.append(self._one_line(
                                problems, f"{used} the older save {generation}"))
                        return LoadResult(state, messages, generation, built)
            except OSError as exc:
                problems.append(f"could not read the saves ({exc.strerror or exc})")
        if problems:
            messages.append(self._one_line(
                problems, "nothing loaded" if self.read_only else "starting fresh"))
        return LoadResult(None, messages)

    @property
    def _for_whom(self) -> str:
        return "" if self.read_only else " for the window that uses it"

    def _one_line(self, problems: list[str], outcome: str) -> str:
        return f"{self.level} learner: {'; '.join(problems)}; {outcome}"

    def _saved_time(self, generation: int) -> float:
        """When ``generation`` was saved (its manifest's ``saved_at``), else its mtime."""
        try:
            stamp = self._read_manifest(generation).get("saved_at")
            return float(calendar.timegm(time.strptime(str(stamp), "%Y%m%dT%H%M%SZ")))
        except (ValueError, OSError, _Damaged):
            try:
                return (self.folder / _name(generation, MANIFEST_SUFFIX)).stat().st_mtime
            except OSError:
                return time.time()

    def generations(self) -> list[int]:
        """Numbers of the committed generations (those with a manifest), newest first."""
        found = []
        for p in self._listdir():
            m = _GEN_FILE.match(p.name)
            if m and m.group(2) == MANIFEST_SUFFIX:
                found.append(int(m.group(1)))
        return sorted(found, reverse=True)

    def move_aside_all(self) -> Path | None:
        """For ``--fresh``: renames the whole folder to ``<folder>.fresh-<UTC time>``.

        Nothing is deleted. Returns the new path, or None if there was nothing to move.

        Raises:
            OSError: The folder could not be renamed, or another process is the writer
                (``EBUSY``); the caller shows the message.
        """
        with self._writing() as writer:
            if not writer:
                raise OSError(errno.EBUSY, self.busy_reason)
            if not self.folder.is_dir() or not any(self.folder.iterdir()):
                return None
            self._parent = None
            self._newest = None
            return move_aside(self.folder, "fresh")

    # ---- internals ------------------------------------------------------------------

    def _listdir(self) -> list[Path]:
        try:
            return list(self.folder.iterdir())
        except FileNotFoundError:
            return []

    def _next_generation(self) -> int:
        # Above every number ever used here, moved-aside and unfinished ones included, so
        # a name is never reused.
        numbers = [int(m.group(1)) for p in self._listdir() if (m := _GEN_FILE.match(p.name))]
        return max(numbers, default=0) + 1

    def _sweep(self) -> str | None:
        """Start-up housekeeping: dead writers' temp files, orphans moved aside.

        Only the store's own temp files whose writer process is gone are removed (they
        were never renamed into place). Data files without a manifest (a save killed
        before its manifest, a prune killed after it, or files copied in by hand) are
        moved aside as ``*.orphan-<UTC time>``, never deleted.

        Returns:
            One line naming the orphans moved aside, or None if there were none.
        """
        sweep_temp_files(self.folder)
        committed = set(self.generations())
        data_suffixes = set(ROLES.values())
        orphans: dict[int, list[Path]] = {}
        for p in self._listdir():
            m = _GEN_FILE.match(p.name)
            if m and m.group(2) in data_suffixes and int(m.group(1)) not in committed:
                orphans.setdefault(int(m.group(1)), []).append(p)
        if not orphans:
            return None
        stamp = utc_stamp()
        for paths in orphans.values():
            for p in paths:
                move_aside(p, "orphan", stamp)
        numbers = ", ".join(str(g) for g in sorted(orphans))
        return (f"{self.level} learner: data files without a manifest (unfinished save "
                f"{numbers}) moved aside as gen-*.orphan-{stamp}")

    def _read_manifest(self, generation: int) -> dict:
        path = self.folder / _name(generation, MANIFEST_SUFFIX)
        try:
            raw = read_regular_file(path, self.max_bytes["manifest"], "manifest")
        except RefusedFile as exc:
            raise _Damaged(str(exc)) from None
        try:
            manifest = parse_json(raw)
        except ValueError:
            raise _Damaged(f"{path.name} is not valid JSON") from None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("manifest_sha256"), str):
            raise _Damaged(f"{path.name} is not a manifest")
        body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
        if _sha256(_canonical(body)) != manifest["manifest_sha256"]:
            raise _Damaged(f"{path.name} fails its checksum")
        return body

    def _read_generation(self, generation: int, spec: StateSpec | None) -> LearnerState:
        body = self._read_manifest(generation)
        if body.get("format_version") != FORMAT_VERSION:
            raise _Refused(f"it has format version {body.get('format_version')!r}, this game "
                           f"reads version {FORMAT_VERSION}")
        if body.get("level") != self.level:
            raise _Refused(f"it is for level {body.get('level')!r}, not {self.level!r}")
        saved_meta = body.get("meta", {})
        files = body.get("files")
        if body.get("generation") != generation or not isinstance(files, dict) \
                or files.keys() != ROLES.keys() or not isinstance(saved_meta, dict):
            raise _Damaged(f"{_name(generation, MANIFEST_SUFFIX)} does not describe this save")
        saved_meta = {**LEGACY_META, **saved_meta}
        for key, want in self.expect.items():
            have = saved_meta.get(key)
            if have is None or str(have) == want:
                continue  # not recorded: the learner's own checks (``build``) decide
            if key == "physics_version":
                tag = "physics-v" + re.sub(r"[^0-9A-Za-z.]", "_", str(have))[:16]
                raise _Outdated(f"from physics version {have} (this game has version {want})",
                                tag)
            raise _Refused(f"its {key} is {have!r}, this game has {want!r}")
        blobs = {}
        for role, suffix in ROLES.items():
            entry = files[role]
            name = _name(generation, suffix)
            # Only the expected name is ever opened: a manifest cannot point outside.
            if not isinstance(entry, dict) or entry.get("name") != name:
                raise _Damaged(f"the manifest names an unexpected file for {role}")
            size = entry.get("size")
            cap = self.max_bytes[role]
            if type(size) is not int or not 0 <= size <= cap:
                raise _Damaged(f"the manifest gives {name} a size of {size!r} bytes; a {role} "
                               f"file is at most {cap} bytes")
            try:
                data = read_regular_file(self.folder / name, size, f"{role} file")
            except FileNotFoundError:
                raise _Damaged(f"{name} is missing") from None
            except RefusedFile as exc:
                raise _Damaged(str(exc)) from None
            if len(data) != size:
                raise _Damaged(f"{name} has {len(data)} bytes, expected {size}")
            if _sha256(data) != entry.get("sha256"):
                raise _Damaged(f"{name} fails its checksum")
            blobs[role] = data
        state = LearnerState(_parse_weights(blobs["weights"]), _parse_npz(blobs["memory"]),
                             _parse_meta(blobs["state"]))
        if "level" in state.meta and state.meta["level"] != self.level:
            raise _Refused(f"its state is for level {state.meta['level']!r}, not {self.level!r}")
        for name, t in state.tensors.items():
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                raise _Refused(f"tensor {name!r} holds NaN or Inf")
        if spec is not None:
            problems = spec.mismatches(state)
            if problems:
                more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
                raise _Refused("; ".join(problems[:3]) + more)
        return state

    def _set_aside(self, generation: int, reason: str, tag: str = "corrupt") -> str:
        stamp = utc_stamp()
        manifest = _name(generation, MANIFEST_SUFFIX)
        names = [_name(generation, s) for s in ROLES.values()] + [manifest]
        # Data files first, manifest last: a kill in between leaves the manifest naming
        # missing files, so the next load sets the rest aside too instead of calling
        # them orphans.
        try:
            for name in names:
                if os.path.lexists(self.folder / name):
                    move_aside(self.folder / name, tag, stamp)
        except OSError as exc:
            return (f"save {generation} is {reason} and could not be moved aside "
                    f"({exc.strerror or exc})")
        return (f"save {generation} is {reason}, moved aside as "
                f"gen-{generation:0{_GEN_DIGITS}d}.*.{tag}-{stamp}")

    def _chain(self, newest: int) -> list[int]:
        """``newest`` and its ancestors that still have a manifest, newest first."""
        chain: list[int] = []
        generation: int | None = newest
        while isinstance(generation, int) and generation not in chain:
            if not (self.folder / _name(generation, MANIFEST_SUFFIX)).exists():
                break
            chain.append(generation)
            try:
                generation = self._read_manifest(generation).get("parent")
            except (_Damaged, OSError):
                break
        return chain

    def _prune(self, newest: int) -> None:
        self._remove(self._chain(newest)[self.keep:])

    def _remove(self, generations: list[int]) -> None:
        """Deletes superseded generations of the chain (the only deletion of saved data)."""
        for old in generations:
            # Manifest first: once it is gone the generation no longer exists; a kill
            # here leaves orphans, which the next start moves aside.
            (self.folder / _name(old, MANIFEST_SUFFIX)).unlink(missing_ok=True)
            fsync_dir(self.folder)
            for suffix in ROLES.values():
                (self.folder / _name(old, suffix)).unlink(missing_ok=True)


def _build(build: Callable[[LearnerState], T] | None, state: LearnerState) -> T | None:
    if build is None:
        return None
    try:
        return build(state)
    except ValueError as exc:  # StateError: the learner names what does not fit
        raise _Refused(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    except Exception as exc:  # anything else: still refuse, so the game starts
        raise _Refused(f"it could not be rebuilt ({type(exc).__name__}: "
                       f"{str(exc).splitlines()[0] if str(exc) else ''})") from None


class _ChunkSink:
    """A write-only stream that keeps the buffers it is given, uncopied (for ``zipfile``)."""

    def __init__(self) -> None:
        self.chunks: list[bytes | memoryview] = []
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        n = memoryview(data).nbytes
        self.chunks.append(data)
        self.size += n
        return n

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass


def _npz_chunks(arrays: Mapping[str, np.ndarray]) -> list[bytes | memoryview]:
    """An uncompressed ``.npz`` as a list of buffers, the arrays' memory itself included.

    Same format as ``np.savez`` (any array name is allowed, though). No array is copied:
    copies of megabytes hold the GIL and would stall the game's thread, while the CRC,
    the checksum and ``os.write`` all release it.
    """
    sink = _ChunkSink()
    # The sink cannot seek, so zipfile writes sizes and CRCs after each member.
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, a in arrays.items():
            if not a.flags.c_contiguous:  # (np.ascontiguousarray would make 0-d arrays 1-d)
                a = np.array(a, order="C")
            header = io.BytesIO()
            fields = np.lib.format.header_data_from_array_1_0(a)
            try:
                np.lib.format.write_array_header_1_0(header, fields)
            except ValueError:  # a header over 64 KiB (thousands of fields) needs 2.0
                header = io.BytesIO()
                np.lib.format.write_array_header_2_0(header, fields)
            with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                f.write(header.getvalue())
                f.write(memoryview(a.reshape(-1).view(np.uint8)))
    return sink.chunks


def _parse_weights(data: bytes) -> dict[str, torch.Tensor]:
    try:
        # safetensors parses a JSON header and raw tensor bytes; nothing is unpickled.
        return dict(load_safetensors(data))
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise _Damaged(f"the weights file is not safetensors ({type(exc).__name__})") from None


def _parse_npz(data: bytes) -> dict[str, np.ndarray]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                # We write stored members only; refusing others rules out a zip bomb.
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(data):
                    raise _Damaged(f"the memory file has an unexpected member {info.filename!r}")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except _Damaged:
        raise
    except Exception as exc:  # zipfile.BadZipFile, ValueError (pickled data), OSError...
        raise _Damaged(f"the memory file is not a plain .npz ({type(exc).__name__})") from None


def _parse_meta(data: bytes) -> dict[str, Any]:
    try:
        meta = parse_json(data)
    except ValueError:  # RecursionError of deep nesting included
        raise _Damaged("the state file is not valid JSON") from None
    if not isinstance(meta, dict):
        raise _Damaged("the state file is not a JSON object")
    return meta


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
