"""The title screen: pick a level and see the keys, so nobody needs the command line.

``TitleMenu`` and ``game.ui.layout.title_layout`` are pure (tested without a window); the
``TitleView`` shows them through ``TitleDrawing``, which imports pyglet when it is built.
Starting a level is the window's job: the view only says which level was chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from game.ui.controls import TITLE_CONTROLS, Command, help_text
from game.ui.layout import TitleLayout, card_at, title_layout
from game.ui.view import Frame, View

BLURBS = {
    "classic": "The seed's world: cross the field\nwithout touching the edges.\n"
               "Score: your streak of safe crossings.",
    "arcade": "An endless run through gates that\nnarrow as you go. Tap to hop.\n"
              "Score: gates passed.",
}
"""A few words on each level for its card."""


class TitleMenu:
    """Which level is chosen."""

    def __init__(self, levels: tuple[str, ...], chosen: str | None = None) -> None:
        self.levels = levels
        self.index = levels.index(chosen) if chosen in levels else len(levels) - 1

    @property
    def chosen(self) -> str:
        return self.levels[self.index]

    def move(self, step: int) -> None:
        self.index = (self.index + step) % len(self.levels)

    def pick(self, index: int) -> None:
        if 0 <= index < len(self.levels):
            self.index = index


class TitleView(View):
    """The title screen.

    Args:
        window: the pyglet window.
        levels: the levels to offer, in menu order.
        best: ``best(level)`` is the player's best score there (shown on the card).
        start: called with the chosen level's name.
        chosen: the level chosen at first (None: the last, the default level).
    """

    name = "title"
    controls = TITLE_CONTROLS

    def __init__(self, window: Any, levels: tuple[str, ...], best: Callable[[str], int],
                 start: Callable[[str], None], chosen: str | None = None) -> None:
        self.window = window
        self.menu = TitleMenu(levels, chosen)
        self.best = best
        self.start = start
        self.drawing: Any = None
        self.layout = title_layout(window.width, window.height, len(levels))

    def command(self, command: Command) -> bool:
        if command is Command.PREV:
            self.menu.move(-1)
        elif command is Command.NEXT:
            self.menu.move(1)
        elif command in (Command.START, Command.JUMP):
            self.start(self.menu.chosen)
        elif command in (Command.PICK_1, Command.PICK_2):
            self.menu.pick(0 if command is Command.PICK_1 else 1)
            self.start(self.menu.chosen)
        else:
            return False
        return True

    def click(self, x: float, y: float) -> Command | None:
        """A click on a card starts that level."""
        i = card_at(self.layout, x, y)
        if i is not None:
            self.menu.pick(i)
            self.start(self.menu.chosen)
        return None

    def controller(self, what: str) -> Command | None:
        return Command.START if what == "jump" else None

    def resize(self, width: int, height: int) -> None:
        self.layout = title_layout(width, height, len(self.menu.levels))
        if self.drawing is not None:
            self.drawing.place(self.layout)

    def frame(self, start: float, interval: float, pacer: Any, stats: dict[str, float],
              visible: bool) -> Frame:
        if visible:
            if self.drawing is None:
                self.drawing = TitleDrawing(self.menu.levels, BLURBS, help_text(),
                                            _title_keys_text())
                self.drawing.place(self.layout)
            self.drawing.update(self.menu.index, [self.best(lv) for lv in self.menu.levels])
            self.window.draw(interval)
        return Frame()

    def draw(self) -> None:
        self.window.clear()
        if self.drawing is not None:
            self.drawing.draw()

    def state(self) -> dict[str, Any]:
        return {"chosen": self.menu.chosen, "levels": list(self.menu.levels),
                "cards": [[r.x, r.y, r.w, r.h] for r in self.layout.cards]}


def _title_keys_text() -> str:
    return "   ·   ".join(f"{c.shown} {c.hint}" for c in TITLE_CONTROLS)


CARD_BG = (30, 42, 62, 255)
CARD_ON = (52, 74, 108, 255)


class TitleDrawing:
    """Title, one card per level, the title keys and the game's controls."""

    def __init__(self, levels: tuple[str, ...], blurbs: dict[str, str], controls: str,
                 title_keys: str) -> None:
        from pyglet import gl, shapes
        from pyglet.graphics import Batch, Group

        from game.ui import widgets as w
        from game.ui.render import MARGIN_BG

        gl.glClearColor(*(c / 255 for c in MARGIN_BG), 1.0)
        self.batch = Batch()
        g = [Group(order=i) for i in range(4)]
        b = self.batch
        self.levels = levels
        self.title = w.ShadowLabel(b, g[1], g[2], 44, anchor_x="center", anchor_y="center")
        self.sub = w.label(b, g[2], 14, color=w.DIM, anchor_x="center", anchor_y="center")
        self.sub.text = "fly with SPACE · or hand the controls to an autopilot that learns"
        self.cards = []
        for lv in levels:
            bg = shapes.RoundedRectangle(0, 0, 10, 10, 12, color=CARD_BG, batch=b, group=g[0])
            name = w.label(b, g[2], 22, color=w.ACCENT, bold=True, anchor_x="center",
                           anchor_y="top")
            name.text = lv
            blurb = w.label(b, g[2], 11, multiline=True, width=260, align="center",
                            anchor_x="center", anchor_y="top")
            blurb.text = blurbs.get(lv, "")
            best = w.label(b, g[2], 11, color=w.DIM, anchor_x="center", anchor_y="bottom")
            self.cards.append((bg, name, blurb, best))
        self.keys_bg = w.panel_bg(b, g[0])
        lines = controls.split("\n")
        half = (len(lines) + 1) // 2
        self.columns = []
        for part in (lines[:half], lines[half:]):  # the game's controls in two columns
            col = w.label(b, g[2], 10.5, color=w.INK, multiline=True, width=400, anchor_y="top")
            col.text = "\n".join(part)
            self.columns.append(col)
        self.title_keys = w.label(b, g[2], 12, anchor_x="center", anchor_y="center")
        self.title_keys.text = title_keys
        self._key: tuple = ()

    def place(self, L: TitleLayout) -> None:
        from game.ui import widgets as w

        s = L.scale
        cx = (L.cards[0].x + L.cards[-1].right) / 2
        self.title.text.font_size = self.title.shadow.font_size = 44 * s
        self.title.set("GRAVITY FLYER", cx, L.title_y + 20 * s)
        self.sub.font_size = 14 * s
        w.move(self.sub, cx, L.title_y - 28 * s)
        for (bg, name, blurb, best), r in zip(self.cards, L.cards, strict=True):
            w.place_rect(bg, r.x, r.y, r.w, r.h)
            name.font_size = 22 * s
            w.move(name, r.x + r.w / 2, r.top - 14 * s)
            blurb.font_size, blurb.width = 11 * s, r.w - 20 * s
            w.move(blurb, r.x + r.w / 2, r.top - 54 * s)
            best.font_size = 11 * s
            w.move(best, r.x + r.w / 2, r.y + 12 * s)
        k = L.keys
        w.place_rect(self.keys_bg, k.x, k.y, k.w, k.h)
        for i, col in enumerate(self.columns):
            col.font_size, col.width = 10.5 * s, k.w / 2 - 24 * s
            w.move(col, k.x + 18 * s + i * k.w / 2, k.top - 14 * s)
        self.title_keys.font_size = 12 * s
        w.move(self.title_keys, cx, L.hint_y)
        self._key = ()

    def update(self, chosen: int, bests: list[int]) -> None:
        from game.ui import widgets as w

        key = (chosen, tuple(bests))
        if key == self._key:
            return
        self._key = key
        for i, ((bg, _, _, best), score) in enumerate(zip(self.cards, bests, strict=True)):
            bg.color = CARD_ON if i == chosen else CARD_BG
            w.set_text(best, f"your best: {score}" + ("   ◀ chosen" if i == chosen else ""))

    def draw(self) -> None:
        self.batch.draw()
