"""Reading and checking the generations of one store folder, and moving bad files aside.

Every file is read with a size cap that follows from its kind, and only if it is a
regular file, opened without blocking. A generation is checked against its manifest
(size and SHA-256 of every file) before any of its files is parsed.
"""

from __future__ import annotations

import calendar
import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import torch

from ai.atomic import (
    RefusedFile,
    move_aside,
    parse_json,
    read_regular_file,
    sweep_temp_files,
    utc_stamp,
)
from ai.learner import LearnerState
from ai.store.codec import parse_state
from ai.store.content import check_learner_state
from ai.store.layout import (
    FORMAT_VERSION,
    GEN_DIGITS,
    GEN_FILE,
    LEGACY_META,
    MANIFEST_SUFFIX,
    ROLES,
    Damaged,
    Outdated,
    Refused,
    StateSpec,
    canonical_json,
    gen_name,
    sha256_hex,
)

T = TypeVar("T")


class GenerationReader:
    """Lists, reads and checks the generations in ``folder``; moves damaged ones aside.

    Args:
        folder: The level's store folder.
        level: The level a generation must be for.
        expect: Meta strings the caller's game has (see ``Store``).
        max_bytes: The largest file of each kind that is read (see ``MAX_BYTES``).
        read_only: The store was opened read-only (only the wording of a line differs).
    """

    def __init__(self, folder: Path, level: str, expect: Mapping[str, str],
                 max_bytes: Mapping[str, int], read_only: bool = False) -> None:
        self.folder = folder
        self.level = level
        self.expect = expect
        self.max_bytes = max_bytes
        self.read_only = read_only
        self.unreadable: list[int] = []
        """Generations ``try_load`` could not read (permissions, a symlink loop), newest first."""

    def listdir(self) -> list[Path]:
        """The folder's entries (none if it does not exist)."""
        try:
            return list(self.folder.iterdir())
        except FileNotFoundError:
            return []

    def generations(self) -> list[int]:
        """Numbers of the committed generations (those with a manifest), newest first."""
        found = []
        for p in self.listdir():
            m = GEN_FILE.match(p.name)
            if m and m.group(2) == MANIFEST_SUFFIX:
                found.append(int(m.group(1)))
        return sorted(found, reverse=True)

    def next_generation(self) -> int:
        """The number for a new generation."""
        # Above every number ever used here, moved-aside and unfinished ones included, so
        # a name is never reused.
        numbers = [int(m.group(1)) for p in self.listdir() if (m := GEN_FILE.match(p.name))]
        return max(numbers, default=0) + 1

    def sweep(self) -> str | None:
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
        for p in self.listdir():
            m = GEN_FILE.match(p.name)
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

    def read_manifest(self, generation: int) -> dict:
        """The body of ``generation``'s manifest, its own checksum checked; raises ``Damaged``."""
        path = self.folder / gen_name(generation, MANIFEST_SUFFIX)
        try:
            raw = read_regular_file(path, self.max_bytes["manifest"], "manifest")
        except RefusedFile as exc:
            raise Damaged(str(exc)) from None
        try:
            manifest = parse_json(raw)
        except ValueError:
            raise Damaged(f"{path.name} is not valid JSON") from None
        if not isinstance(manifest, dict) or not isinstance(manifest.get("manifest_sha256"), str):
            raise Damaged(f"{path.name} is not a manifest")
        body = {k: v for k, v in manifest.items() if k != "manifest_sha256"}
        if sha256_hex(canonical_json(body)) != manifest["manifest_sha256"]:
            raise Damaged(f"{path.name} fails its checksum")
        return body

    def try_load(self, generation: int, spec: StateSpec | None,
                 build: Callable[[LearnerState], Any] | None, writer: bool,
                 problems: list[str]) -> tuple[LearnerState, Any] | None:
        """(state, ``build(state)``) of ``generation``; None, why appended to ``problems``.

        A writer (``writer`` True) moves damaged and outdated generations aside; refused
        ones are always kept, and a non-writer changes nothing.
        """
        try:
            state = self.read_generation(generation, spec)
            return state, _build(build, state)
        except Refused as exc:
            problems.append(f"save {generation} not used ({exc}; kept)")
        except Outdated as exc:
            problems.append(self.set_aside(generation, str(exc), exc.tag)
                            if writer else f"save {generation} is {exc}, not used")
        except Damaged as exc:
            problems.append(self.set_aside(generation, f"damaged ({exc})")
                            if writer else
                            f"save {generation} is damaged ({exc}; left as it "
                            f"is{self._for_whom})")
        except OSError as exc:  # e.g. permission denied: not damage, keep it
            self.unreadable.append(generation)
            where = (f"; kept in {self.folder} as {gen_name(generation, '*')}: once it is "
                     "readable again, the next start resumes from it" if writer else "; kept")
            problems.append(f"save {generation} could not be read "
                            f"({exc.strerror or exc}{where})")
        return None

    @property
    def _for_whom(self) -> str:
        return "" if self.read_only else " for the window that uses it"

    def read_generation(self, generation: int, spec: StateSpec | None) -> LearnerState:
        """The state of ``generation``, every check passed.

        Raises:
            Damaged: Move it aside. Outdated: move it aside with its tag. Refused: keep it.
            OSError: It could not be read (e.g. permission denied): keep it.
        """
        files = self._check_manifest(generation, self.read_manifest(generation))
        blobs = {role: self._read_data_file(generation, role, files[role]) for role in ROLES}
        state = parse_state(blobs)
        self._check_state(state, spec)
        check_learner_state(state)  # what the checksums cannot vouch for: the values
        return state

    def _check_manifest(self, generation: int, body: dict) -> dict:
        """The manifest's ``files`` entry, once its version, level and meta fit this game."""
        if body.get("format_version") != FORMAT_VERSION:
            raise Refused(f"it has format version {body.get('format_version')!r}, this game "
                          f"reads version {FORMAT_VERSION}")
        if body.get("level") != self.level:
            raise Refused(f"it is for level {body.get('level')!r}, not {self.level!r}")
        saved_meta = body.get("meta", {})
        files = body.get("files")
        if body.get("generation") != generation or not isinstance(files, dict) \
                or files.keys() != ROLES.keys() or not isinstance(saved_meta, dict):
            raise Damaged(f"{gen_name(generation, MANIFEST_SUFFIX)} does not describe this save")
        saved_meta = {**LEGACY_META, **saved_meta}
        for key, want in self.expect.items():
            have = saved_meta.get(key)
            if have is None or str(have) == want:
                continue  # not recorded: the learner's own checks (``build``) decide
            if key == "physics_version":
                tag = "physics-v" + re.sub(r"[^0-9A-Za-z.]", "_", str(have))[:16]
                raise Outdated(f"from physics version {have} (this game has version {want})",
                               tag)
            raise Refused(f"its {key} is {have!r}, this game has {want!r}")
        return files

    def _read_data_file(self, generation: int, role: str, entry: Any) -> bytes:
        """The bytes of one data file, checked against its manifest ``entry``."""
        name = gen_name(generation, ROLES[role])
        # Only the expected name is ever opened: a manifest cannot point outside.
        if not isinstance(entry, dict) or entry.get("name") != name:
            raise Damaged(f"the manifest names an unexpected file for {role}")
        size = entry.get("size")
        cap = self.max_bytes[role]
        if type(size) is not int or not 0 <= size <= cap:
            raise Damaged(f"the manifest gives {name} a size of {size!r} bytes; a {role} "
                          f"file is at most {cap} bytes")
        try:
            data = read_regular_file(self.folder / name, size, f"{role} file")
        except FileNotFoundError:
            raise Damaged(f"{name} is missing") from None
        except RefusedFile as exc:
            raise Damaged(str(exc)) from None
        if len(data) != size:
            raise Damaged(f"{name} has {len(data)} bytes, expected {size}")
        if sha256_hex(data) != entry.get("sha256"):
            raise Damaged(f"{name} fails its checksum")
        return data

    def _check_state(self, state: LearnerState, spec: StateSpec | None) -> None:
        """Refuses a parsed state for another level, with NaN/Inf, or not fitting ``spec``."""
        if "level" in state.meta and state.meta["level"] != self.level:
            raise Refused(f"its state is for level {state.meta['level']!r}, not {self.level!r}")
        for name, t in state.tensors.items():
            if t.is_floating_point() and not bool(torch.isfinite(t).all()):
                raise Refused(f"tensor {name!r} holds NaN or Inf")
        if spec is not None:
            problems = spec.mismatches(state)
            if problems:
                more = f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""
                raise Refused("; ".join(problems[:3]) + more)

    def set_aside(self, generation: int, reason: str, tag: str = "corrupt",
                  stamp: str | None = None) -> str:
        """Moves every file of ``generation`` aside as ``*.<tag>-<UTC time>``; says so in a line."""
        stamp = stamp or utc_stamp()
        manifest = gen_name(generation, MANIFEST_SUFFIX)
        names = [gen_name(generation, s) for s in ROLES.values()] + [manifest]
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
                f"gen-{generation:0{GEN_DIGITS}d}.*.{tag}-{stamp}")

    def chain(self, newest: int) -> list[int]:
        """``newest`` and its ancestors that still have a manifest, newest first."""
        chain: list[int] = []
        generation: int | None = newest
        while isinstance(generation, int) and generation not in chain:
            if not (self.folder / gen_name(generation, MANIFEST_SUFFIX)).exists():
                break
            chain.append(generation)
            try:
                generation = self.read_manifest(generation).get("parent")
            except (Damaged, OSError):
                break
        return chain

    def saved_time(self, generation: int) -> float:
        """When ``generation`` was saved (its manifest's ``saved_at``), else its mtime."""
        try:
            stamp = self.read_manifest(generation).get("saved_at")
            return float(calendar.timegm(time.strptime(str(stamp), "%Y%m%dT%H%M%SZ")))
        except (ValueError, OSError, Damaged):
            try:
                return (self.folder / gen_name(generation, MANIFEST_SUFFIX)).stat().st_mtime
            except OSError:
                return time.time()


def _build(build: Callable[[LearnerState], T] | None, state: LearnerState) -> T | None:
    if build is None:
        return None
    try:
        return build(state)
    except ValueError as exc:  # StateError: the learner names what does not fit
        raise Refused(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
    except Exception as exc:  # anything else: still refuse, so the game starts
        raise Refused(f"it could not be rebuilt ({type(exc).__name__}: "
                      f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
