"""Loading a store folder: the newest good generation, older ones as fallbacks, and the
writer's start-up housekeeping.

Why apart from ``ai.store.store``: the load is the one place that decides, generation by
generation newest first, what to resume, and it is the writer's chance to tidy up what a kill
left (orphan data files moved aside, a save readable again brought back, the loaded chain's
surplus ancestors pruned). Rules: what it reports is at most one line about orphans and one
line about what was wrong and what was done instead; nothing on disk changes unless this
process is the folder's one writer; it never raises for a bad file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ai.atomic import utc_stamp
from ai.learner import LearnerState
from ai.store.layout import Damaged, LoadResult, Outdated, Refused, StateSpec
from ai.store.lock import WriterLock
from ai.store.reader import GenerationReader
from ai.store.writer import GenerationWriter


class GenerationLoader:
    """``Store.load`` for one folder, through the store's reader, writer and lock."""

    def __init__(self, reader: GenerationReader, writer: GenerationWriter, lock: WriterLock,
                 level: str, read_only: bool) -> None:
        self._reader = reader
        self._writer = writer
        self._lock = lock
        self.level = level
        self.read_only = read_only

    def load(self, spec: StateSpec | None,
             build: Callable[[LearnerState], Any] | None) -> LoadResult:
        """The newest good generation, falling back to older ones (see ``Store.load``)."""
        messages: list[str] = []
        problems: list[str] = []
        with self._lock.guard:
            if not self._reader.folder.is_dir():
                return LoadResult(None, [])
            try:
                with self._lock.writing() as writer:
                    self._reader.unreadable = []
                    if writer:
                        orphans = self._reader.sweep()
                        if orphans:
                            messages.append(orphans)
                        back = self._bring_back_readable()
                        if back:
                            messages.append(back)
                    for generation in self._reader.generations():
                        loaded = self._reader.try_load(generation, spec, build, writer, problems)
                        if loaded is None:
                            continue
                        if writer:
                            self._resume(generation)
                        if problems:
                            used = "using" if self.read_only else "resumed from"
                            messages.append(self._one_line(
                                problems, f"{used} the older save {generation}"))
                        return LoadResult(loaded[0], messages, generation, loaded[1])
                    if writer:  # starting fresh: the unreadable saves are named in its saves
                        self._writer.unreadable = list(self._reader.unreadable)
            except OSError as exc:
                problems.append(f"could not read the saves ({exc.strerror or exc})")
        if problems:
            messages.append(self._one_line(
                problems, "nothing loaded" if self.read_only else "starting fresh"))
        return LoadResult(None, messages)

    def _bring_back_readable(self) -> str | None:
        """A save that could not be read when the newest chain began, if it now can be.

        The newest manifest names them (``replaces_unreadable``). The first that now reads
        and checks well is made the newest again: the generations of the chain that replaced
        it are moved aside as ``*.while-unreadable-<UTC time>`` (kept, not deleted).
        """
        newest = self._reader.generations()[:1]
        if not newest:
            return None
        try:
            named = self._reader.read_manifest(newest[0]).get("replaces_unreadable")
        except (Damaged, OSError):
            return None
        if not isinstance(named, list):
            return None
        for old in (g for g in named if type(g) is int and g < newest[0]):
            try:
                self._reader.read_generation(old, None)
            except (Damaged, Refused, Outdated, OSError):
                continue
            later = [g for g in self._reader.chain(newest[0]) if g > old]
            stamp = utc_stamp()
            for g in later:
                self._reader.set_aside(g, "replaced", "while-unreadable", stamp)
            return (f"{self.level} learner: save {old} is readable again: resumed from it; "
                    f"the saves made while it was not ({', '.join(map(str, later))}) were "
                    f"moved aside as gen-*.while-unreadable-{stamp}")
        return None

    def _resume(self, generation: int) -> None:
        """Continues ``generation``'s chain: later saves name it as their parent."""
        self._writer.unreadable = self._named_unreadable(generation)
        self._writer.adopt(generation, self._reader.saved_time(generation))
        try:  # a kill between a save's commit and its prune left extras
            self._writer.prune(generation)
        except OSError:
            pass  # housekeeping only; the next save prunes again

    def _named_unreadable(self, generation: int) -> list[int]:
        """The unreadable saves a resumed chain carries on naming, and any found now."""
        try:
            named = self._reader.read_manifest(generation).get("replaces_unreadable")
        except (Damaged, OSError):
            named = None
        carried = [g for g in named if type(g) is int] if isinstance(named, list) else []
        return sorted(set(carried) | set(self._reader.unreadable), reverse=True)

    def _one_line(self, problems: list[str], outcome: str) -> str:
        return f"{self.level} learner: {'; '.join(problems)}; {outcome}"
