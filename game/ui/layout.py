"""Where everything sits in the window: a pure function of the window's size.

No pyglet here, so the layout is tested at any size without a window.
"""

from __future__ import annotations

from dataclasses import dataclass

PANEL_W = 214
"""Width of every side panel, in pixels."""
PAD = 12
"""Room between a panel and the window's edge or another panel."""
FIELD_MARGIN = 16
"""Least room around the field."""
MIN_SIDE = 64.0
"""The field is never drawn smaller than this."""
HUD_H, FPS_H, HELP_H, LEARN_H = 244, 148, 184, 558
"""Heights of the panels."""


@dataclass(frozen=True)
class Rect:
    """An axis-aligned box in window pixels, origin at the bottom left."""

    x: float
    y: float
    w: float
    h: float

    @property
    def top(self) -> float:
        return self.y + self.h

    @property
    def right(self) -> float:
        return self.x + self.w

    def overlaps(self, other: Rect) -> bool:
        """True if the two boxes share any area."""
        return (self.x < other.right and other.x < self.right and self.y < other.top
                and other.y < self.top)


@dataclass(frozen=True)
class Layout:
    """The square field [-1, 1]² and the side panels, in window pixels."""

    width: int
    height: int
    field: Rect
    hud: Rect
    fps: Rect
    help: Rect
    learn: Rect

    @property
    def side(self) -> float:
        """The field's side in pixels."""
        return self.field.w

    @property
    def x0(self) -> float:
        return self.field.x

    @property
    def y0(self) -> float:
        return self.field.y

    @property
    def unit(self) -> float:
        """Pixels per field unit."""
        return self.side * 0.5

    def px(self, x: float) -> float:
        """Window x of field x."""
        return self.field.x + (x + 1.0) * self.unit

    def py(self, y: float) -> float:
        """Window y of field y."""
        return self.field.y + (y + 1.0) * self.unit


def layout(width: int, height: int) -> Layout:
    """The layout for a window of ``width`` x ``height`` pixels."""
    side = max(MIN_SIDE, min(height - 2 * FIELD_MARGIN, width - 2 * FIELD_MARGIN))
    field = Rect((width - side) / 2, (height - side) / 2, side, side)
    outside = field.x >= PANEL_W + FIELD_MARGIN
    left = PAD if outside else field.x + 8
    right = width - PANEL_W - PAD if outside else field.right - PANEL_W - 8
    top = height - PAD
    return Layout(
        width=width, height=height, field=field,
        hud=Rect(left, top - HUD_H, PANEL_W, HUD_H),
        fps=Rect(left, top - HUD_H - 10 - FPS_H, PANEL_W, FPS_H),
        help=Rect(left, PAD, PANEL_W, HELP_H),
        learn=Rect(right, top - LEARN_H, PANEL_W, LEARN_H),
    )
