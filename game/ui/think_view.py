"""The V overlay, "watch it think": the greedy pilot's planned path, the oracle's, the policy map.

``game.play.thinking.Thinker`` computes the paths and the map a few times a second; this only
draws them: each path is one triangle list (a small square per point) written from numpy
in one copy, the policy map one 48x48 texture, and a legend of three labels.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyglet
from pyglet import gl, shapes
from pyglet.graphics import ShaderGroup

from game.play.thinking import MAP_CELLS, Thinker, visible
from game.ui import widgets as w
from game.ui.layout import Layout

PLAN_C = (255, 60, 200, 255)
"""The greedy pilot's planned path: an opaque magenta found nowhere else on the field (the
window test looks for it)."""
ORACLE_C = (10, 20, 70, 110)
"""The oracle's best path: a faint navy, seen over the bright sky and the hills alike."""
JUMP_C = (255, 176, 64)
FALL_C = (52, 96, 170)
MAX_POINTS = 96
"""Points per path: a second of arcade play is 60 ticks, plus a decision in progress."""
PLAN_DOT_PX = 5.0
ORACLE_DOT_PX = 3.0
MAP_UNITS = 0.6
"""The policy map's side, in field units (the field is 2 wide)."""


class _Blended(ShaderGroup):
    """A shader group that blends by alpha (the faint path sees the sky through it)."""

    def set_state(self) -> None:
        super().set_state()
        gl.glEnable(gl.GL_BLEND)
        gl.glBlendFunc(gl.GL_SRC_ALPHA, gl.GL_ONE_MINUS_SRC_ALPHA)

    def unset_state(self) -> None:
        gl.glDisable(gl.GL_BLEND)
        super().unset_state()


class Dots:
    """Up to ``points`` square dots of one colour, drawn as one triangle list."""

    def __init__(self, points: int, size: float, color: tuple[int, ...], batch: Any,
                 group: Any, every: int = 1) -> None:
        self.points, self.half, self.every = points, size / 2, every
        n = 6 * points
        program = shapes.get_default_shader()
        zeros = (0.0,) * n
        self.vlist = program.vertex_list(
            n, gl.GL_TRIANGLES, batch, _Blended(program, parent=group),
            position=("f", zeros * 2), colors=("Bn", tuple(color) * n),
            translation=("f", zeros * 2), rotation=("f", zeros), zposition=("f", zeros))
        self.xy = np.zeros((points, 6, 2), dtype=np.float32)
        self.shown = 0
        """Dots on screen."""

    def set(self, px: np.ndarray, py: np.ndarray) -> None:
        """Dots at window pixels ``(px[i], py[i])``, every ``every``-th one; the rest hidden."""
        px, py = px[:: self.every][: self.points], py[:: self.every][: self.points]
        k = px.size
        if k == 0 and self.shown == 0:
            return
        h = self.half
        xy = self.xy
        xy[:] = 0.0
        if k:
            x0, x1, y0, y1 = px - h, px + h, py - h, py + h
            xy[:k, :, 0] = np.stack((x0, x1, x1, x0, x1, x0), 1)
            xy[:k, :, 1] = np.stack((y0, y0, y1, y0, y1, y1), 1)
        self.vlist.position[:] = xy.ravel()
        self.shown = k

    def clear(self) -> None:
        self.set(np.zeros(0), np.zeros(0))


class ThinkView:
    """The overlay's drawables, hidden until V turns it on.

    Args:
        batch: the renderer's batch.
        groups: its draw-order groups.
        courses: the level has courses (arcade: the oracle's path; classic: the exhaustive
            search's, and the policy map).
    """

    def __init__(self, batch: Any, groups: list[Any], courses: bool) -> None:
        self.on = False
        self.courses = courses
        self.thinker = Thinker(courses)
        g_path, g_top = groups[3], groups[7]
        # Classic moves 1/40 of the field per tick: bigger dots, each tick one.
        big = 1.0 if courses else 1.6
        self.best = Dots(MAX_POINTS, ORACLE_DOT_PX * big, ORACLE_C, batch, g_path)
        # Arcade moves 1/75 of the field per tick: every second tick makes a dotted line.
        self.planned = Dots(MAX_POINTS, PLAN_DOT_PX * big, PLAN_C, batch, g_path,
                            every=2 if courses else 1)
        # Opaque, as the panels are: software GL fills an unblended box much faster.
        self.legend_bg = w.rect(batch, groups[6], (10, 18, 32, 255), **w.OPAQUE)
        self.legend_plan = w.label(batch, g_top, 10, color=PLAN_C, bold=True)
        self.legend_best = w.label(batch, g_top, 10, color=(200, 215, 255, 255))
        self.legend_hint = w.label(batch, g_top, 9, color=w.DIM)
        self.map_parts: list[Any] = []
        if not courses:
            self.texture = pyglet.image.Texture.create(MAP_CELLS, MAP_CELLS,
                                                       min_filter=gl.GL_NEAREST,
                                                       mag_filter=gl.GL_NEAREST)
            # Under the paths and the flyer (groups 3 and 4), which may cross it.
            self.map_frame = w.rect(batch, groups[1], (10, 18, 32, 255), **w.OPAQUE)
            self.map = pyglet.sprite.Sprite(self.texture, batch=batch, group=groups[2],
                                            **w.OPAQUE)
            self.map_point = w.rect(batch, groups[5], (255, 255, 255, 255))
            self.map_point_bg = w.rect(batch, groups[4], (10, 18, 32, 255))
            self.map_title = w.label(batch, g_top, 8.5, color=w.INK, anchor_y="top")
            self.map_axes = w.label(batch, g_top, 8, color=w.DIM, anchor_x="right")
            self.map_parts = [self.map_frame, self.map, self.map_point, self.map_point_bg]
            self._map_id: int | None = None
        self._labels = [self.legend_plan, self.legend_best, self.legend_hint]
        if not courses:
            self._labels += [self.map_title, self.map_axes]
        self._hide()

    def toggle(self) -> bool:
        """V: the overlay on or off; returns whether it is on."""
        self.on = not self.on
        if not self.on:
            self._hide()
            self.thinker.reset()
        return self.on

    def _hide(self) -> None:
        self.planned.clear()
        self.best.clear()
        self.legend_bg.visible = False
        for lab in self._labels:
            w.set_text(lab, "")
        w.set_visible(self.map_parts, False)

    @property
    def drawn(self) -> dict[str, int]:
        """Dots on screen per path (the state file shows them)."""
        return {"planned": self.planned.shown, "best": self.best.shown}

    def update(self, session: Any, view: Any, L: Layout) -> None:
        """Refreshes what is due (``Thinker``) and moves the drawables to match."""
        if not self.on:
            return
        learner = session.learner
        self.thinker.update(session, None if learner is None else learner.greedy_batch)
        th = self.thinker.thought
        physics = getattr(session.world, "physics", None)
        stage = getattr(physics, "ticks_per_stage", None) if self.courses else None

        def pixels(*paths: Any) -> tuple[np.ndarray, np.ndarray]:
            xs, ys = zip(*(visible(p, view.t, stage) for p in paths), strict=True)
            x, y = np.concatenate(xs), np.concatenate(ys)
            return L.x0 + (x + 1.0) * L.unit, L.y0 + (np.clip(y, -1.0, 1.0) + 1.0) * L.unit

        self.planned.set(*pixels(th.prefix, th.planned))
        self.best.set(*pixels(th.prefix, th.best))
        self._legend(session, L)
        if not self.courses:
            self._place_map(th, L)

    def _legend(self, session: Any, L: Layout) -> None:
        x, y = L.x0 + 10, L.y0 + 12
        plan = ("planned path (greedy pilot)" if session.learner is not None
                else "planned path: no autopilot")
        best = "oracle's best path (faint)" if self.courses else "best path, every sequence (faint)"
        for lab, text, dy in ((self.legend_hint, "V: hide the thinking", 0),
                              (self.legend_best, best, 15),
                              (self.legend_plan, plan, 31)):
            w.set_text(lab, text)
            w.move(lab, x, y + dy)
        w.place_rect(self.legend_bg, L.x0 + 4, L.y0 + 4, 214, 50)
        self.legend_bg.visible = True

    def _place_map(self, th: Any, L: Layout) -> None:
        side = MAP_UNITS * L.unit
        x0 = L.x0 + L.side - side - 34  # clear of the goal line
        y0 = L.y0 + L.side - side - 26
        w.place_rect(self.map_frame, x0 - 4, y0 - 20, side + 8, side + 40)
        if th.map is not None and id(th.map) != self._map_id:
            self._map_id = id(th.map)
            rgba = np.empty((*th.map.shape, 4), dtype=np.uint8)
            rgba[..., :3] = np.where(th.map[..., None] == 1, JUMP_C, FALL_C)
            rgba[..., 3] = 255
            self.texture.blit_into(pyglet.image.ImageData(MAP_CELLS, MAP_CELLS, "RGBA",
                                                          rgba.tobytes()), 0, 0, 0)
        scale = side / MAP_CELLS
        if self.map.scale != scale or (self.map.x, self.map.y) != (x0, y0):
            self.map.update(x=x0, y=y0, scale=scale)
        w.set_visible([self.map_frame, self.map], th.map is not None)
        if th.point is not None and th.map is not None:
            col, row = th.point
            px, py = x0 + col * side, y0 + row * side
            w.place_rect(self.map_point_bg, px - 4, py - 4, 8, 8)
            w.place_rect(self.map_point, px - 2.5, py - 2.5, 5, 5)
            w.set_visible([self.map_point, self.map_point_bg], True)
        else:
            w.set_visible([self.map_point, self.map_point_bg], False)
        w.set_text(self.map_title, "policy: orange JUMP, blue FALL")
        w.move(self.map_title, x0, y0 + side + 17)
        w.set_text(self.map_axes, "height ↑   speed → (-1 … 0.4)")
        w.move(self.map_axes, x0 + side, y0 - 14)
