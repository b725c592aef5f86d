"""Where to draw the flyer: the latest two ticks, read from the world, and a point between.

``DrawnTime`` keeps the frames' tick time from going back when a tick runs ahead of its time.

Standard library only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from game.play.phases import Phase

FIELD_WIDTH = 2.0
"""The field is [-1, 1] wide: a flyer leaving it on the right reappears this far left."""


@dataclass(frozen=True)
class Snap:
    """The flyer after one tick, as read from the world."""

    t: int
    x: float
    y: float
    v_y: float
    stage: int


@dataclass
class View:
    """What the renderer needs for one frame, interpolated between two ticks."""

    t: float
    """Ticks since the flight (classic) or run (arcade) began, fractional between ticks."""
    x: float
    """Screen x in field units, [-1, 1]."""
    y: float
    """Height in field units (outside [-1, 1] after an edge crash)."""
    v_y: float
    """Vertical speed after the latest tick."""
    dy: float
    """Height change over the tick being drawn (tilts the sprite)."""
    stage: int
    """Which crossing the flyer is on (arcade: selects the walls to draw)."""
    phase: Phase


class DrawnTime:
    """The tick time each frame draws, ``ticks - 1 + alpha``, which never goes back: a tick run
    ahead of its time (the person's jump) is held for a frame, not drawn back."""

    def __init__(self) -> None:
        self.t = -math.inf
        """The tick time drawn last."""

    def hold(self, ticks: int) -> None:
        """The latest tick is drawn at once, and held after it."""
        self.t = ticks

    def alpha(self, ticks: int, clock_alpha: float) -> float:
        """The clock's ``alpha``, but never earlier than the last frame drew."""
        if ticks - 1 + clock_alpha < self.t:
            return min(1.0, self.t - (ticks - 1))
        return clock_alpha

    def settle(self, ticks: int, clock_alpha: float) -> None:
        """Remembers the tick time this frame draws."""
        self.t = ticks - 1 + self.alpha(ticks, clock_alpha)


class Motion:
    """The flyer after the previous and the latest tick."""

    def __init__(self, world: Any, stage: int) -> None:
        self.prev = self.cur = self.snap(world, stage)

    @staticmethod
    def snap(world: Any, stage: int) -> Snap:
        return Snap(int(world.t), float(world.x), float(world.y), float(world.v_y), stage)

    def jump_to(self, world: Any, stage: int) -> None:
        """A new flight: nothing to interpolate from."""
        self.prev = self.cur = self.snap(world, stage)

    def ticked(self, world: Any, stage: int) -> None:
        self.prev, self.cur = self.cur, self.snap(world, stage)

    def view(self, alpha: float, phase: Phase) -> View:
        """The flyer ``alpha`` of the way from the previous tick to the latest."""
        a, p, c = alpha, self.prev, self.cur
        if c.stage != p.stage and a < 1.0:
            # the flyer wrapped to the next crossing: draw it on towards the right edge first
            x, stage = p.x + (c.x + FIELD_WIDTH * (c.stage - p.stage) - p.x) * a, p.stage
        else:
            x, stage = p.x + (c.x - p.x) * a, c.stage
        return View(t=p.t + (c.t - p.t) * a, x=x, y=p.y + (c.y - p.y) * a, v_y=c.v_y,
                    dy=c.y - p.y, stage=stage, phase=phase)
