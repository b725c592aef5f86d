"""Best scores per level, kept in the user data folder as a small JSON file.

Two bests are kept for each level: the player's own and the autopilot's, each the
most gates (or crossings) that pilot flew in one run; a run whose controls changed
hands counts for each pilot what that pilot flew of it (``game.play.scoring``), so a
pilot learning at max speed never buries the player's record.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from ai.atomic import RefusedFile, atomic_write_bytes, move_aside, parse_json, read_regular_file

FILE_NAME = "best_scores.json"
MAX_BYTES = 64 * 1024
"""A best scores file is a few hundred bytes; anything larger is not one (read no further)."""
FORMAT_VERSION = 1
KINDS = ("human", "autopilot")
"""Who a best belongs to: ``human`` or ``autopilot``, for the points each flew in a run."""


def default_data_dir() -> Path:
    """The platform's user data folder for Gravity Flyer (platformdirs)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("gravity-flyer", appauthor=False))


class ScoreBook:
    """Best score per level and kind, loaded from and saved to ``data_dir``.

    Recording is in memory and cheap; ``save()`` writes only when a best
    changed, so the window can call it every few seconds and at exit.
    """

    def __init__(self, data_dir: Path | None) -> None:
        self.path: Path | None = None if data_dir is None else Path(data_dir) / FILE_NAME
        self.best: dict[str, dict[str, int]] = {}
        self.dirty = False
        self.message: str | None = None
        """One line about a problem found while loading (shown in HUD and terminal)."""
        if self.path is not None:
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        if not os.path.lexists(self.path):
            return
        try:
            # Regular files only, opened without blocking: a FIFO or /dev/zero here must
            # not hang or fill the start-up; it is set aside like any other bad file.
            raw = read_regular_file(self.path, MAX_BYTES, "best scores file")
        except RefusedFile as exc:
            self._set_aside(str(exc))
            return
        except OSError as exc:
            self.message = (f"could not read best scores ({exc.strerror or exc}); they will "
                            "not be saved")
            self.path = None  # never overwrite a file we could not read
            return
        try:
            data = parse_json(raw)  # nesting too deep for json raises ValueError too
            if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
                raise ValueError("unknown format")
            best = data["best"]
            parsed: dict[str, dict[str, int]] = {}
            for level, kinds in best.items():
                parsed[str(level)] = {}
                for kind, value in kinds.items():
                    # bool is an int subclass; a best score of true is as corrupt as "x"
                    if kind not in KINDS or type(value) is not int or value < 0:
                        raise ValueError(f"bad entry {level}/{kind}")
                    parsed[str(level)][kind] = value
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self._set_aside(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
            return
        self.best = parsed

    def _set_aside(self, reason: str) -> None:
        assert self.path is not None
        try:
            moved = move_aside(self.path, "corrupt")
        except OSError as exc:
            self.message = (f"best scores file is unreadable ({reason[:60]}) and could not be "
                            f"moved aside ({exc.strerror or exc}); they will not be saved")
            self.path = None  # never overwrite it
            return
        self.message = (f"best scores file was unreadable ({reason[:60]}); "
                        f"moved aside to {moved.name}, starting from zero")

    def get(self, level: str, kind: str = "human") -> int:
        """The best score recorded for ``level`` by ``kind`` (0 if none)."""
        return self.best.get(level, {}).get(kind, 0)

    def record(self, level: str, kind: str, score: int) -> bool:
        """Keeps ``score`` if it beats the best; returns True when it is a new best."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
        score = int(score)
        if score <= self.get(level, kind):
            return False
        self.best.setdefault(level, {})[kind] = score
        self.dirty = True
        return True

    def save(self) -> bool:
        """Writes the file atomically if anything changed; returns True if it wrote."""
        if not self.dirty or self.path is None:
            return False
        data = {"format": FORMAT_VERSION, "best": self.best}
        atomic_write_bytes(self.path, (json.dumps(data, indent=1, sort_keys=True) + "\n").encode())
        self.dirty = False
        return True
