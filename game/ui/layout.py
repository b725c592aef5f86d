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
SHRINK_FOR_PANELS = 0.85
"""The field may shrink to this fraction of its largest side to keep the panels beside it;
below that the panels fold away instead."""
HUD_H, FPS_H, HELP_H, LEARN_H = 244, 148, 212, 558
"""Heights of the panels."""
FLOCK_H = 120
"""Least height of the flock panel (it takes the room between the HUD and the controls)."""
SECTIONS = (2, 2, 3, 4)
"""Rows in each block of the learn panel (its rows and its drawing both follow this)."""


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
    folded: bool = False
    """The side panels are hidden: beside the field there is no room for them, and over it
    they would cover the game."""
    help_fits: bool = True
    """The controls panel fits under the HUD panel."""
    learn_fits: bool = True
    """The window is tall enough for the watch-it-learn panel."""
    flock: Rect | None = None
    """The flock panel: between the HUD and the controls panel, over the controls if the
    room between them is too small."""

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
    """The layout for a window of ``width`` x ``height`` pixels.

    The field is the largest square that fits, centred. The panels stand in a column on
    each side of it; if they do not fit beside it, the field shrinks a little to make
    room, and if that is not enough the panels fold away. They never cover the field.
    """
    side = max(MIN_SIDE, min(height - 2 * FIELD_MARGIN, width - 2 * FIELD_MARGIN))
    room = 2 * (PANEL_W + PAD + FIELD_MARGIN)
    folded = height < HUD_H + 2 * PAD
    if width < side + room:
        narrower = width - room
        if narrower >= SHRINK_FOR_PANELS * side:
            side = narrower
        else:
            folded = True
    field = Rect((width - side) / 2, (height - side) / 2, side, side)
    left, right, top = PAD, width - PANEL_W - PAD, height - PAD
    hud = Rect(left, top - HUD_H, PANEL_W, HUD_H)
    fps = Rect(left, hud.y - 10 - FPS_H, PANEL_W, FPS_H)
    help_ = Rect(left, PAD, PANEL_W, HELP_H)
    room_h = hud.y - 10 - (help_.top + 10)
    flock = (Rect(left, help_.top + 10, PANEL_W, room_h) if room_h >= FLOCK_H
             else Rect(left, hud.y - 10 - FLOCK_H, PANEL_W, FLOCK_H))
    return Layout(width=width, height=height, field=field, hud=hud, fps=fps, help=help_,
                  flock=flock,
                  learn=Rect(right, top - LEARN_H, PANEL_W, LEARN_H), folded=folded,
                  help_fits=help_.top + 10 <= hud.y, learn_fits=LEARN_H + 2 * PAD <= height)


CARD_W, CARD_H, CARD_GAP = 300, 170, 28
"""A title card's size and the gap between cards, at full scale."""
KEYS_LINE_H = 17
"""Baseline to baseline of the title's controls box (10.5 pt text), at full scale."""
KEYS_PAD = 14
"""Room above and below the controls in their box, at full scale."""
KEYS_ROWS = 7
"""Lines in the taller column of the controls box (the 13 controls in two columns)."""


@dataclass(frozen=True)
class TitleLayout:
    """Where the title screen's parts go, in window pixels."""

    title_y: float
    hint_y: float
    """The line of title-screen keys, under the cards."""
    cards: tuple[Rect, ...]
    keys: Rect
    scale: float
    """Cards and text shrink together below the size they are designed for."""


def title_layout(width: int, height: int, n: int, rows: int = KEYS_ROWS) -> TitleLayout:
    """The title screen for ``n`` levels in a ``width`` x ``height`` window, with ``rows``
    lines in the taller column of the controls box (the box is made tall enough for them)."""
    full_w = n * CARD_W + (n - 1) * CARD_GAP
    scale = min(1.0, (width - 40) / full_w, (height - 40) / 600)
    scale = max(scale, 0.3)
    cw, ch, gap = CARD_W * scale, CARD_H * scale, CARD_GAP * scale
    x0 = (width - (n * cw + (n - 1) * gap)) / 2
    cy = height * 0.52
    cards = tuple(Rect(x0 + i * (cw + gap), cy - ch / 2, cw, ch) for i in range(n))
    keys_w, keys_h = 2 * CARD_W * scale, (rows * KEYS_LINE_H + 2 * KEYS_PAD) * scale
    keys = Rect((width - keys_w) / 2, cards[0].y - 48 * scale - keys_h, keys_w, keys_h)
    return TitleLayout(title_y=cards[0].top + 70 * scale, hint_y=cards[0].y - 24 * scale,
                       cards=cards, keys=keys, scale=scale)


def card_at(L: TitleLayout, x: float, y: float) -> int | None:
    """The index of the card under the point, or None."""
    for i, r in enumerate(L.cards):
        if r.x <= x <= r.right and r.y <= y <= r.top:
            return i
    return None
