"""Where a run is. Standard library only."""

from __future__ import annotations

from enum import Enum


class Phase(Enum):
    """Where the current run is."""

    READY = "ready"
    """The player's run waits for SPACE."""
    FLYING = "flying"
    CRASHED = "crashed"
    """Classic: a crash shows briefly, then the next flight starts."""
    GAME_OVER = "game_over"
    """Arcade: the run is over; the autopilot restarts by itself, the player with SPACE."""
