"""The field: the sky, the walls and gaps of the course, the edges and the flyer.

Positions come from the world and the session's interpolated view; the only
physics known here is the world's own tick-to-x mapping (``physics.v_x``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pyglet
from pyglet import gl
from pyglet.graphics import Batch

from game.play.motion import View
from game.play.phases import Phase
from game.ui import widgets as w
from game.ui.flock_view import FlockSprites
from game.ui.layout import Layout

WALL_POOL = 10
FLYER_UNITS = 0.16
"""The flyer sprite's width in field units (the field is 2 wide)."""
NEXT_GAP_AHEAD = 0.6
"""Field units past the right edge within which the next crossing's first gap is marked."""
NEXT_GAP_FROM = 0.7
"""The mark shows once the flyer is past x = 1 - this."""


class Scene:
    """Owns the field's drawables; ``update`` moves them to match the world."""

    def __init__(self, window: Any, batch: Batch, groups: list[Any], assets: Path,
                 has_course: bool) -> None:
        self.window = window
        self.has_course = has_course

        def image(name: str, center: bool = False) -> Any:
            img = pyglet.image.load(str(assets / name))
            if center:
                img.anchor_x, img.anchor_y = img.width // 2, img.height // 2
            return img

        self.bg_image = image("background.png")
        self.bg_fb: Any = None
        self.bg_side = 1
        gate_img, cap_img = image("gate.png"), image("gate_cap.png")
        self.walls = []
        for _ in range(WALL_POOL):
            parts = [pyglet.sprite.Sprite(img, batch=batch, group=groups[grp], **w.OPAQUE)
                     for img, grp in ((gate_img, 1), (gate_img, 1), (cap_img, 2), (cap_img, 2))]
            w.set_visible(parts, False)
            self.walls.append(parts)
        self.edges = [w.rect(batch, groups[2], (220, 60, 60, 150)) for _ in range(2)]
        self.goal = [w.rect(batch, groups[2], (255, 255, 255, 210)) for _ in range(32)]
        w.set_visible(self.goal, not has_course)
        self.next_strip = w.rect(batch, groups[3], (150, 40, 40, 150))
        self.next_gap = w.rect(batch, groups[3], (120, 255, 140, 230))
        self.next_strip.visible = self.next_gap.visible = False
        self.flyer = pyglet.sprite.Sprite(image("flyer.png", center=True), batch=batch,
                                          group=groups[4])
        self.flock = FlockSprites(self.flyer.image, batch, groups[3])
        self.flyer_tint = (255, 255, 255)
        """The solid flyer's colour: white, or warm while the person races a flock."""

    # ------------------------------------------------------------------ layout
    def resize(self, L: Layout) -> None:
        """Fits the field's fixed parts to the layout."""
        self._bake_background(L)
        self.flyer.scale = FLYER_UNITS * L.unit / self.flyer.image.width
        self.flock.resize(self.flyer.scale)
        for e, y in zip(self.edges, (L.y0, L.y0 + L.side - 3), strict=True):
            w.place_rect(e, L.x0, y, L.side, 3)
        strip_w = max(5.0, 0.03 * L.unit)
        w.place_rect(self.next_strip, L.x0 + L.side - strip_w, L.y0, strip_w, L.side)
        self.next_gap.x, self.next_gap.width = L.x0 + L.side - strip_w, strip_w
        cell = L.side / 16
        cw = max(4.0, 0.035 * L.unit)
        for i, r in enumerate(self.goal):
            col, row = divmod(i, 16)
            w.place_rect(r, L.x0 + L.side - (2 - col) * cw, L.y0 + row * cell, cw, cell)
            r.color = (255, 255, 255, 210) if (row + col) % 2 == 0 else (30, 30, 40, 210)

    def _bake_background(self, L: Layout) -> None:
        """Scales the sky into an offscreen texture once per resize.

        Each frame then copies it with ``glBlitFramebuffer``: a plain copy, which
        software OpenGL (llvmpipe under Xvfb) does about twice as fast as drawing
        a textured quad over the same area.
        """
        from pyglet.image import Framebuffer, Texture
        from pyglet.math import Mat4

        side = max(1, int(round(L.side)))
        if self.bg_fb is not None:
            self.bg_fb.delete()
        tex = Texture.create(side, side)
        self.bg_fb = Framebuffer()
        self.bg_fb.attach_texture(tex)
        self.bg_tex = tex
        window = self.window
        saved = window.projection
        self.bg_fb.bind()
        gl.glViewport(0, 0, side, side)
        window.projection = Mat4.orthogonal_projection(0, side, 0, side, -255, 255)
        self.bg_image.get_texture().blit(0, 0, width=side, height=side)
        self.bg_fb.unbind()
        window.projection = saved
        fw, fh = window.get_framebuffer_size()
        gl.glViewport(0, 0, fw, fh)
        self.bg_side = side

    def blit_background(self, L: Layout) -> None:
        """Copies the baked sky into the field's place in the window."""
        side = self.bg_side
        scale = self.window.get_pixel_ratio()
        x0, y0 = int(round(L.x0 * scale)), int(round(L.y0 * scale))
        x1, y1 = int(round((L.x0 + L.side) * scale)), int(round((L.y0 + L.side) * scale))
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self.bg_fb.id)
        gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, 0)
        gl.glBlitFramebuffer(0, 0, side, side, x0, y0, x1, y1, gl.GL_COLOR_BUFFER_BIT,
                             gl.GL_NEAREST if (x1 - x0) == side else gl.GL_LINEAR)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)

    # ------------------------------------------------------------------ per frame
    def update(self, world: Any, view: View, L: Layout) -> None:
        self._place_flyer(view, L)
        if self.has_course:
            self._place_walls(world, view, L)

    def _place_flyer(self, view: View, L: Layout) -> None:
        y = min(max(view.y, -0.95), 0.95)  # a crash past the edge stays in sight
        if view.phase in (Phase.CRASHED, Phase.GAME_OVER):
            rotation, color = 70.0, (255, 140, 130)
        else:
            rotation, color = -math.degrees(math.atan(view.dy * 4.0)), self.flyer_tint
        self.flyer.update(x=L.px(view.x), y=L.py(y), rotation=rotation)
        if self.flyer.color[:3] != color:
            self.flyer.color = color

    def _place_walls(self, world: Any, view: View, L: Layout) -> None:
        """The walls of the crossing on screen, and a mark for the next crossing's first gap."""
        course = world.course
        v_x = world.physics.v_x
        # ticks at which the flyer is at the field's left and right edges on this crossing
        t_left = view.t - (view.x + 1.0) / v_x
        t_right = view.t + (1.0 - view.x) / v_x
        starts, ends = course.start, course.end
        # a wall covers its ticks start..end, half a tick either side
        lo = int(np.searchsorted(ends + 0.5, t_left, side="right"))
        hi = int(np.searchsorted(starts - 0.5, t_right, side="left"))
        shown = 0
        for i in range(lo, min(hi, starts.size)):
            if shown == len(self.walls):
                break
            xa = max(-1.0 + (starts[i] - 0.5 - t_left) * v_x, -1.0)
            xb = min(-1.0 + (ends[i] + 0.5 - t_left) * v_x, 1.0)
            if xb > xa:
                self._place_wall(self.walls[shown], xa, xb, float(course.gap_y[i]),
                                 float(course.half_gap[i]), L)
                shown += 1
        for parts in self.walls[shown:]:
            if parts[0].visible:
                w.set_visible(parts, False)
        # beyond the right edge: where the next crossing's first gap will be, so the
        # player can line up before the flyer wraps to the left
        show = (hi < starts.size and (starts[hi] - t_right) * v_x < NEXT_GAP_AHEAD
                and view.x > 1.0 - NEXT_GAP_FROM)
        self.next_strip.visible = self.next_gap.visible = bool(show)
        if show:
            gy, half = float(course.gap_y[hi]), float(course.half_gap[hi])
            self.next_gap.y = L.py(gy - half)
            self.next_gap.height = half * L.side

    def _place_wall(self, parts: list[Any], xa: float, xb: float, gy: float, half: float,
                    L: Layout) -> None:
        left, width = L.px(xa), (xb - xa) * L.unit
        gap_lo, gap_hi = L.py(gy - half), L.py(gy + half)
        bottom, top = L.y0, L.y0 + L.side
        low, up, cap_lo, cap_hi = parts
        low.update(x=left, y=bottom, scale_x=width / low.image.width,
                   scale_y=max(gap_lo - bottom, 0.5) / low.image.height)
        up.update(x=left, y=gap_hi, scale_x=width / up.image.width,
                  scale_y=max(top - gap_hi, 0.5) / up.image.height)
        cap_h = 0.045 * L.unit
        cap_w = min(width + 0.04 * L.unit, 0.15 * L.unit * 1.3)
        # the cap overhangs its wall, but never the field's edges
        cx = max(left + width / 2 - cap_w / 2, L.x0)
        cap_w = min(cap_w, L.x0 + L.side - cx)
        cap_lo.update(x=cx, y=gap_lo - cap_h, scale_x=cap_w / cap_lo.image.width,
                      scale_y=cap_h / cap_lo.image.height)
        cap_hi.update(x=cx, y=gap_hi, scale_x=cap_w / cap_hi.image.width,
                      scale_y=cap_h / cap_hi.image.height)
        if not parts[0].visible:
            w.set_visible(parts, True)
