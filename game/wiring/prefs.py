"""The player's choices that outlive a session (sound muted, the V overlay), in a small JSON file.

Written atomically like the best scores; a damaged file is moved aside (never
deleted) and the defaults are used. No pyglet.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from ai.atomic import atomic_write_bytes, move_aside

FILE_NAME = "settings.json"
FORMAT_VERSION = 1


@dataclass
class Settings:
    """What the player chose."""

    muted: bool = False
    """M: no sound."""
    think: bool = False
    """V: the "watch it think" overlay is on (files written before it say nothing: off)."""


def load(data_dir: Path | None) -> tuple[Settings, str | None]:
    """The saved settings, or the defaults; the second item is a one-line problem, if any."""
    if data_dir is None:
        return Settings(), None
    path = Path(data_dir) / FILE_NAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Settings(), None
    except OSError as exc:
        return Settings(), f"could not read the settings ({exc.strerror}); using the defaults"
    try:
        data = json.loads(raw.decode("utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
            raise ValueError("unknown format")
        muted, think = data["muted"], data.get("think", False)
        for name, value in (("muted", muted), ("think", think)):
            if not isinstance(value, bool):
                raise ValueError(f"'{name}' is not true or false")
    except (ValueError, KeyError, UnicodeDecodeError) as exc:
        try:
            moved = move_aside(path, "corrupt")
        except OSError:
            return Settings(), f"the settings file is damaged ({exc}); using the defaults"
        return Settings(), (f"the settings file was damaged ({exc}); moved to {moved.name}, "
                            "using the defaults")
    return Settings(muted=muted, think=think), None


def save(data_dir: Path | None, settings: Settings) -> None:
    """Writes the settings atomically (raises OSError if the disk refuses)."""
    if data_dir is None:
        return
    data = {"format": FORMAT_VERSION, **asdict(settings)}
    atomic_write_bytes(Path(data_dir) / FILE_NAME, json.dumps(data).encode("utf-8"))
