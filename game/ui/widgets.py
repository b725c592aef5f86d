"""Generic drawables: labels that re-layout only on change, shadowed text, rows, a sparkline.

Nothing here knows the game: a widget is given text, numbers or points to show.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyglet
from pyglet import shapes
from pyglet.graphics import Batch, Group

FONT = ("DejaVu Sans", "Noto Sans", "Arial", "Helvetica")
INK = (238, 243, 250, 255)
DIM = (165, 180, 200, 255)
ACCENT = (255, 209, 84, 255)
HUMAN_C = (255, 150, 80, 255)
PILOT_C = (92, 178, 255, 255)
TRACK_C = (50, 62, 84, 255)
PANEL_BG = (18, 26, 40, 255)
"""Panels are opaque and drawn without blending: software GL fills them much faster."""
OPAQUE = {"blend_src": 1, "blend_dest": 0}
"""GL_ONE, GL_ZERO: lets llvmpipe skip reading the pixels underneath."""


def label(batch: Batch, group: Group, size: float, color: tuple[int, ...] = INK,
          bold: bool = False, **kw: Any) -> pyglet.text.Label:
    """An empty label in the batch."""
    return pyglet.text.Label("", font_name=FONT, font_size=size, color=color,
                             weight="bold" if bold else "normal", batch=batch, group=group, **kw)


def set_text(lab: pyglet.text.Label, text: str) -> None:
    """Changes a label's text only when it differs (a re-layout is not free)."""
    if lab.text != text:
        lab.text = text


def move(obj: Any, x: float, y: float) -> None:
    """Moves a label or shape only when its position differs."""
    if (obj.x, obj.y) != (x, y):
        obj.position = (x, y, 0) if isinstance(obj, pyglet.text.Label) else (x, y)


def set_visible(parts: list, visible: bool) -> None:
    for p in parts:
        p.visible = visible


class ShadowLabel:
    """Large text with a soft dark copy behind it, readable over the bright sky."""

    def __init__(self, batch: Batch, back: Group, front: Group, size: float, **kw: Any) -> None:
        self.shadow = label(batch, back, size, color=(10, 20, 40, 150), bold=True, **kw)
        self.text = label(batch, front, size, bold=True, **kw)

    def set(self, text: str, x: float, y: float, color: tuple[int, ...] = INK) -> None:
        for lab, dx in ((self.shadow, 2), (self.text, 0)):
            set_text(lab, text)
            move(lab, x + dx, y - dx)
        if self.text.color != color:
            self.text.color = color

    def hide(self) -> None:
        self.set("", self.text.x, self.text.y)


class Rows:
    """A column of 'name  value' rows drawn as two multiline labels (each label is a draw call).

    Args:
        batch, group: where to draw.
        spacing: pixels from one baseline to the next.
        size: font size of the names (values are half a point larger, bold).
        width: the column's width in pixels; values are right-aligned to it.
    """

    def __init__(self, batch: Batch, group: Group, spacing: float, size: float = 10.5,
                 width: float = 186) -> None:
        self.spacing = spacing
        self.keys = label(batch, group, size, color=DIM, multiline=True, width=width,
                          anchor_y="top")
        self.vals = label(batch, group, size + 0.5, bold=True, multiline=True, width=width,
                          align="right", anchor_y="top")
        for lab in (self.keys, self.vals):
            lab.set_style("line_spacing", spacing)

    @property
    def parts(self) -> list:
        return [self.keys, self.vals]

    def place(self, x: float, y: float, width: float | None = None) -> None:
        """Puts the first row's baseline at ``y``; the rows span ``x .. x + width``."""
        if width is not None:
            for lab in self.parts:
                if lab.width != width:
                    lab.width = width
        # with a fixed line spacing, pyglet puts the first baseline one spacing below the top
        for lab in self.parts:
            move(lab, x, y + self.spacing)

    def set(self, rows: list[tuple[str, str]]) -> None:
        set_text(self.keys, "\n".join(k for k, _ in rows))
        set_text(self.vals, "\n".join(v for _, v in rows))


class Sparkline:
    """A polyline of up to ``points`` points, drawn as one triangle list in the batch.

    ``pyglet.shapes.MultiLine`` rebuilds its geometry point by point in Python
    (milliseconds for a 200-point curve, on every refresh while fast-forwarding);
    here every segment is a quad computed with numpy and written in one copy.
    """

    def __init__(self, points: int, thickness: float, color: tuple[int, ...], batch: Batch,
                 group: Group) -> None:
        self.points = points
        self.half = thickness / 2
        n = 6 * (points - 1)
        program = shapes.get_default_shader()
        zeros = (0.0,) * n
        self.vlist = program.vertex_list(
            n, pyglet.gl.GL_TRIANGLES, batch, pyglet.graphics.ShaderGroup(program, parent=group),
            position=("f", zeros * 2), colors=("Bn", tuple(color) * n),
            translation=("f", zeros * 2), rotation=("f", zeros), zposition=("f", zeros))
        self.xy = np.zeros((n, 2), dtype=np.float32)
        """Triangle corners; unused segments stay zero-area."""
        self._visible = True

    def set(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """Draws through the points ``(xs[i], ys[i])`` (the last ``points`` of them)."""
        pts = np.stack((np.asarray(xs, float), np.asarray(ys, float)), 1)[-self.points:]
        self.xy[:] = 0.0
        if len(pts) > 1:
            a, b = pts[:-1], pts[1:]
            d = b - a
            unit = d / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None] * self.half
            normal = np.stack((-unit[:, 1], unit[:, 0]), 1)
            a, b = a - unit * 0.5, b + unit * 0.5  # overlap a little: no gaps at the joins
            quads = np.stack((a + normal, a - normal, b - normal, a + normal, b - normal,
                              b + normal), 1)
            self.xy[:quads.shape[0] * 6] = quads.reshape(-1, 2)
        self._push()

    def _push(self) -> None:
        self.vlist.position[:] = (self.xy if self._visible else np.zeros_like(self.xy)).ravel()

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._visible = bool(value)
        self._push()


def rect(batch: Batch, group: Group, color: tuple[int, ...], **kw: Any) -> shapes.Rectangle:
    """A 1x1 rectangle to be placed later."""
    return shapes.Rectangle(0, 0, 1, 1, color=color, batch=batch, group=group, **kw)


def place_rect(r: Any, x: float, y: float, w: float, h: float) -> None:
    """Moves and sizes a rectangle (only what changed)."""
    move(r, x, y)
    if r.width != w:
        r.width = w
    if r.height != h:
        r.height = h


def panel_bg(batch: Batch, group: Group) -> shapes.RoundedRectangle:
    """A panel's opaque rounded background, placed later."""
    return shapes.RoundedRectangle(0, 0, 10, 10, 10, color=PANEL_BG, batch=batch, group=group,
                                   **OPAQUE)
