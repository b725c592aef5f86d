"""The flock on the field: one translucent sprite per flyer, moved to where the flock is.

``game.flock_play.FlockPlay.flyers`` says where; this only draws. The flyer the HUD describes
is the scene's own solid sprite, so it is left out here.
"""

from __future__ import annotations

from typing import Any

import pyglet

from game.flock_play import Flyers
from game.ui.layout import Layout

FLOCK_OPACITY = 80
"""The flock's flyers are see-through: 64 of them overlap, and the solid one must stand out."""
FLOCK_TINT = (150, 205, 255)
"""A cool blue, so the person's solid flyer (warm) and the autopilot's (white) are distinct."""


class FlockSprites:
    """A pool of translucent flyer sprites, made on first use."""

    def __init__(self, image: Any, batch: Any, group: Any) -> None:
        self.image, self.batch, self.group = image, batch, group
        self.sprites: list[Any] = []
        self.scale = 1.0
        self.drawn = 0
        """Sprites on screen after the latest ``update``."""

    def resize(self, scale: float) -> None:
        self.scale = scale
        for s in self.sprites:
            s.scale = scale

    def _grow(self, n: int) -> None:
        while len(self.sprites) < n:
            s = pyglet.sprite.Sprite(self.image, batch=self.batch, group=self.group)
            # pyglet 2.1: an RGB colour resets the alpha, so the colour carries it
            s.color, s.scale = (*FLOCK_TINT, FLOCK_OPACITY), self.scale
            s.visible = False
            self.sprites.append(s)

    def update(self, flyers: Flyers | None, L: Layout, skip: int | None) -> None:
        """Places a sprite on every flyer shown except ``skip``; hides the rest."""
        k = 0
        if flyers is not None:
            self._grow(flyers.x.size)
            xs = L.x0 + (flyers.x + 1.0) * L.unit
            ys = L.y0 + (flyers.y.clip(-0.95, 0.95) + 1.0) * L.unit
            for i in flyers.shown.nonzero()[0].tolist():
                if i == skip:
                    continue
                s = self.sprites[k]
                s.position = (float(xs[i]), float(ys[i]), 0.0)
                if not s.visible:
                    s.visible = True
                k += 1
        for s in self.sprites[k:self.drawn]:
            s.visible = False
        self.drawn = k
