"""The flock on the field: every flyer a translucent quad of one vertex list, moved at once,
drawn in the flock's blue (the flyer sprite in greys, tinted).

``game.play.flock_play.FlockPlay.flyers`` says where; this only draws. The flyer the HUD describes
is the scene's own solid sprite, so it is left out here.

Why one vertex list: one ``pyglet.sprite.Sprite`` per flyer costs Python work per flyer per
frame (a property set, a vertex-list write and a visibility flag each), which grows with the
flock until it eats the frame (the README's flock section has the figures). Here the flyers
are the quads of one vertex list drawn with the sprite shader, and a frame writes all their
positions with one slice assignment from numpy; a flyer not shown gets a quad of zero size.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyglet
from pyglet.gl import GL_ONE_MINUS_SRC_ALPHA, GL_SRC_ALPHA, GL_TRIANGLES

from game.play.flock_play import Flyers
from game.sim.raster import FLOCK_OPACITY, FLOCK_RGB, flock_shade
from game.ui.layout import Layout

FLOCK_TINT = FLOCK_RGB


def shaded(image: Any) -> Any:
    """The flyer image in greys that keep its shading (``raster.flock_shade``): the flock's
    tint then draws it blue. The yellow sprite times the blue tint was olive green."""
    w, h = image.width, image.height
    rgba = np.frombuffer(image.get_image_data().get_data("RGBA", w * 4), np.uint8)
    rgba = rgba.reshape(h, w, 4).astype(np.float32) / 255
    rgba[..., :3] = flock_shade(rgba[..., :3])
    out = pyglet.image.ImageData(w, h, "RGBA", (rgba * 255 + 0.5).astype(np.uint8).tobytes())
    out.anchor_x, out.anchor_y = image.anchor_x, image.anchor_y
    return out


class FlockSprites:
    """The flock's quads: one vertex list, grown when a larger flock first shows."""

    def __init__(self, image: Any, batch: Any, group: Any) -> None:
        self.batch = batch
        self.texture = shaded(image).get_texture()
        self.program = pyglet.sprite.get_default_shader()
        self.group = pyglet.sprite.SpriteGroup(self.texture, GL_SRC_ALPHA, GL_ONE_MINUS_SRC_ALPHA,
                                               self.program, parent=group)
        self.scale = 1.0
        self.capacity = 0
        self.vertex_list: Any = None
        self.drawn = 0
        """Flyers on screen after the latest ``update``."""
        x1, y1 = -image.anchor_x, -image.anchor_y
        x2, y2 = x1 + image.width, y1 + image.height
        self._quad = np.array([x1, y1, 0, x2, y1, 0, x2, y2, 0, x1, y2, 0], dtype=np.float32)
        self._shown_before = np.zeros(0, dtype=bool)

    def resize(self, scale: float) -> None:
        self.scale = scale
        if self.vertex_list is not None:
            self.vertex_list.scale[:] = (scale, scale) * (4 * self.capacity)

    def _grow(self, n: int) -> None:
        if n <= self.capacity:
            return
        if self.vertex_list is not None:
            self.vertex_list.delete()
        self.capacity = n
        indices = (np.array([0, 1, 2, 0, 2, 3])[None, :] + 4 * np.arange(n)[:, None]).ravel()
        self.vertex_list = self.program.vertex_list_indexed(
            4 * n, GL_TRIANGLES, indices.tolist(), self.batch, self.group,
            position=("f", np.zeros(12 * n, dtype=np.float32).tolist()),
            colors=("Bn", (*FLOCK_TINT, FLOCK_OPACITY) * (4 * n)),
            translate=("f", (0.0,) * (12 * n)),
            scale=("f", (self.scale, self.scale) * (4 * n)),
            rotation=("f", (0.0,) * (4 * n)),
            tex_coords=("f", tuple(self.texture.tex_coords) * n))
        self._shown_before = np.zeros(n, dtype=bool)

    def update(self, flyers: Flyers | None, L: Layout, skip: int | None) -> None:
        """Places a quad on every flyer shown except ``skip``; the rest shrink to nothing."""
        if flyers is None:
            if self.drawn:
                self.vertex_list.position[:] = (0.0,) * (12 * self.capacity)
                self._shown_before[:] = False
                self.drawn = 0
            return
        n = flyers.x.size
        self._grow(n)
        shown = np.zeros(self.capacity, dtype=bool)
        shown[:n] = flyers.shown
        if skip is not None and 0 <= skip < n:
            shown[skip] = False
        xs = np.zeros(self.capacity, dtype=np.float32)
        ys = np.zeros(self.capacity, dtype=np.float32)
        xs[:n] = L.x0 + (flyers.x + 1.0) * L.unit
        ys[:n] = L.y0 + (flyers.y.clip(-0.95, 0.95) + 1.0) * L.unit
        xyz = np.zeros((self.capacity, 4, 3), dtype=np.float32)
        xyz[:, :, 0] = xs[:, None]
        xyz[:, :, 1] = ys[:, None]
        self.vertex_list.translate[:] = xyz.ravel().tolist()
        if not np.array_equal(shown, self._shown_before):
            quads = np.where(shown[:, None], self._quad[None, :], np.float32(0.0))
            self.vertex_list.position[:] = quads.ravel().tolist()
            self._shown_before = shown
        self.drawn = int(shown.sum())
