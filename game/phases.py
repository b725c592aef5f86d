"""Where a run is, and how a level's flights make up a run. Standard library only."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class RunRules:
    """How a level's flights make up a run and its score."""

    streak: bool
    """True: a run is a streak of flights, one point each (classic); False: a run is one
    flight and the world keeps the score (arcade)."""


RUN_RULES = {"classic": RunRules(streak=True), "arcade": RunRules(streak=False)}
