"""Writing generations into one store folder: commit (manifest last), prune, make room.

The caller holds the one-writer lock (``ai.store.lock``) around ``write``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from pathlib import Path

from ai.atomic import atomic_write_bytes, fsync_dir, utc_stamp
from ai.store.layout import (
    FORMAT_VERSION,
    MANIFEST_SUFFIX,
    NO_SPACE,
    ROLES,
    SaveInfo,
    canonical_json,
    gen_name,
    sha256_hex,
)
from ai.store.reader import GenerationReader

Blobs = dict[str, list[bytes | memoryview]]
"""The bytes of each data file of a generation, by role, as lists of buffers."""


class GenerationWriter:
    """Writes new generations of one chain and removes its superseded ones.

    Args:
        reader: The folder's reader (numbers, chains and manifests).
        keep: Generations of the chain kept after a save.
    """

    def __init__(self, reader: GenerationReader, keep: int) -> None:
        self.reader = reader
        self.folder = reader.folder
        self.level = reader.level
        self.keep = keep
        self.parent: int | None = None
        """The generation the next save continues (the one loaded or last saved)."""
        self.newest: tuple[int, float] | None = None
        """(generation, ``time.time()`` it was saved) of this chain's newest save on disk."""
        self.pruning = True
        """False after ``Store.keep_older``: no save removes an older generation."""
        self.unreadable: list[int] = []
        """Saves that could not be read when this chain began (newest first): each manifest
        names them, so a later start brings them back once they are readable."""

    def adopt(self, generation: int, saved_at: float) -> None:
        """Continues the chain of ``generation`` (saved at ``saved_at``)."""
        self.parent = generation
        self.newest = (generation, saved_at)

    def forget(self) -> None:
        """Starts a new chain (the folder was moved aside)."""
        self.parent = None
        self.newest = None
        self.unreadable = []

    def write(self, blobs: Blobs, t0: float) -> SaveInfo:
        """Commits ``blobs`` as a new generation, then prunes; one retry on a full disk."""
        made_room = False
        try:
            generation, size = self.commit(blobs)
        except OSError as exc:
            made_room = exc.errno in NO_SPACE and self.make_room()
            if not made_room:
                return self.failed(f"could not save the {self.level} learner: "
                                   f"{exc.strerror or exc}", t0)
            try:
                generation, size = self.commit(blobs)
            except OSError as exc2:
                return self.failed(f"could not save the {self.level} learner: "
                                   f"{exc2.strerror or exc2}, even after removing the "
                                   f"older save", t0)
        self.adopt(generation, time.time())
        note = " (the disk was full: only the save before it is kept)" if made_room else ""
        try:
            self.prune(generation)
        except OSError as exc:  # the new save is good; an old one lingers until next time
            note += f" (could not remove an old save: {exc.strerror or exc})"
        return SaveInfo(True, f"saved the {self.level} learner (save {generation}, "
                        f"{size / 1e6:.1f} MB){note}", generation, size,
                        time.perf_counter() - t0, time.time())

    def commit(self, blobs: Blobs) -> tuple[int, int]:
        """Writes one generation, manifest last; returns (its number, bytes written).

        Raises:
            OSError: Nothing of this generation is left behind (as far as the disk lets
                the files be removed; what remains has no manifest and is moved aside at
                the next start).
        """
        written: list[Path] = []
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            generation = self.reader.next_generation()
            files = {}
            for role, blob in blobs.items():
                path = self.folder / gen_name(generation, ROLES[role])
                written.append(path)
                atomic_write_bytes(path, blob, sync_folder=False)
                files[role] = _file_entry(path, blob)
            # The data files' renames must be durable before the manifest names them.
            fsync_dir(self.folder)
            manifest_bytes = self._manifest(generation, files)
            manifest_path = self.folder / gen_name(generation, MANIFEST_SUFFIX)
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

    def _manifest(self, generation: int, files: dict[str, dict]) -> bytes:
        body = {"format": "gravity-flyer learner state",
                "format_version": FORMAT_VERSION, "level": self.level,
                "generation": generation, "parent": self.parent,
                "saved_at": utc_stamp(), "meta": self.reader.expect, "files": files}
        if self.unreadable:
            body["replaces_unreadable"] = list(self.unreadable)
        manifest = dict(body, manifest_sha256=sha256_hex(canonical_json(body)))
        return json.dumps(manifest, indent=1, sort_keys=True).encode()

    def failed(self, reason: str, t0: float) -> SaveInfo:
        """The outcome of a save that did not happen, saying how old the newest save is."""
        return SaveInfo(False, f"{reason} ({self.newest_on_disk()})",
                        seconds=time.perf_counter() - t0, finished_at=time.time())

    def newest_on_disk(self) -> str:
        """How old this learner's newest save on disk is, as a phrase for a failure line."""
        if self.newest is None:
            return "no save of this learner is on disk yet"
        generation, at = self.newest
        minutes = max(0.0, time.time() - at) / 60
        age = f"{minutes:.0f} min ago" if minutes < 120 else f"{minutes / 60:.1f} h ago"
        return (f"the previous save is kept: save {generation} from "
                f"{time.strftime('%H:%M', time.localtime(at))}, {age}")

    def make_room(self) -> bool:
        """Removes the chain's generations older than the newest good one; True if any."""
        if self.parent is None or not self.pruning:
            return False
        chain = self.reader.chain(self.parent)
        if len(chain) < 2:
            return False
        try:
            self.remove(chain[1:])
        except OSError:
            return False
        return True

    def prune(self, newest: int) -> None:
        """Removes the generations of ``newest``'s chain beyond the newest ``keep``."""
        if not self.pruning:
            return
        self.remove(self.reader.chain(newest)[self.keep:])

    def remove(self, generations: list[int]) -> None:
        """Deletes superseded generations of the chain (the only deletion of saved data)."""
        for old in generations:
            # Manifest first: once it is gone the generation no longer exists; a kill
            # here leaves orphans, which the next start moves aside.
            (self.folder / gen_name(old, MANIFEST_SUFFIX)).unlink(missing_ok=True)
            fsync_dir(self.folder)
            for suffix in ROLES.values():
                (self.folder / gen_name(old, suffix)).unlink(missing_ok=True)


def _file_entry(path: Path, blob: list[bytes | memoryview]) -> dict:
    """A manifest's entry for one data file: name, size and SHA-256."""
    digest = hashlib.sha256()
    for chunk in blob:
        digest.update(chunk)
    return {"name": path.name, "size": sum(memoryview(c).nbytes for c in blob),
            "sha256": digest.hexdigest()}
