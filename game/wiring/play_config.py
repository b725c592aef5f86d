"""What ``main.py play`` was asked for: one typed, frozen config built by the CLI.

Rules: plain data; the command line builds it (``game.commands.cli``), the window
(``game.ui.app``) and the learner's start (``game.wiring.startup``) read it. Nothing past the
CLI sees an ``argparse.Namespace``, and nothing changes a config in place: choosing a level
on the title screen makes a new one (``for_level``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

DEFAULT_LEVEL = "arcade"
"""The level an autopilot flies when none is named (there is no title screen then)."""


@dataclass(frozen=True)
class PlayConfig:
    """Every setting of ``main.py play``."""

    level: str | None = None
    """The level to play; None opens the title screen (or arcade when an autopilot flies)."""
    tick_rate: float | None = None
    """Ticks per second of play at 1x; None: the level's own."""
    seed: int | None = None
    """Seed of a repeatable game (and of a fresh learner); None: a new one each launch."""
    data_dir: Path | None = None
    """Where best scores and the learner's memory are kept; None: the game's own folder."""
    autopilot: str | None = None
    """The pilot to start from ('pretrained' or a file), or None."""
    pilot: str = "human"
    """Who flies first: 'human' or 'autopilot'."""
    learn: bool = True
    """Whether the autopilot learns while the game runs."""
    fresh: bool = False
    """Start a new learner; the saved one is moved aside, never deleted."""
    flock: int = 1
    """Flyers on the course at once while the autopilot learns (1: a single flyer)."""

    @property
    def title(self) -> bool:
        """Whether the game opens on the title screen (nothing chosen on the command line)."""
        return self.level is None and not self.autopilot and self.pilot == "human"

    def for_level(self, level: str) -> PlayConfig:
        """The same settings for the level called ``level``."""
        return dataclasses.replace(self, level=level)

    def resolved(self) -> PlayConfig:
        """With the level an autopilot flies when none was named (unchanged for the title)."""
        if self.level is None and not self.title:
            return self.for_level(DEFAULT_LEVEL)
        return self
