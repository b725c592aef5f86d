"""The seed's physics constants and the action codes, shared by every level."""

from __future__ import annotations

from dataclasses import dataclass

FALL = 0
"""Action 0: gravity pulls, ``v_y -= g``."""
JUMP = 1
"""Action 1: ``v_y = v_jump``."""

PHYSICS_VERSION = 1
"""Bumped whenever a rule below changes; pilots trained on another version are refused."""


@dataclass(frozen=True)
class Physics:
    """Per-tick constants of the seed's flight (field units per tick)."""

    v_x: float = 0.05
    """Horizontal speed: x advances this much every tick."""
    v_y_sigma: float = 0.1
    """Standard deviation of the initial vertical speed, drawn from N(0, sigma^2)."""
    v_jump: float = 0.2
    """A JUMP sets v_y to this value."""
    gravity: float = 0.2
    """A FALL subtracts this from v_y."""
    x_start: float = -1.0
    """Where each flight starts on the x axis."""
    edge: float = 1.0
    """The field is [-edge, edge] on both axes."""


PHYSICS = Physics()
