"""The title screen: pick a level and see the keys, so nobody needs the command line.

``TitleMenu`` and ``game.ui.layout.title_layout`` are pure (tested without a window); the
``TitleView`` draws them. Starting a level is the window's job: the view only
says which level was chosen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from game.ui.controls import TITLE_CONTROLS, Command, help_text
from game.ui.layout import card_at, title_layout

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


class TitleView:
    """The title screen.

    Args:
        window: the pyglet window.
        levels: the levels to offer, in menu order.
        best: ``best(level)`` is the player's best score there (shown on the card).
        start: called with the chosen level's name.
        chosen: the level chosen at first (None: the last, the default level).
    """

    name = "title"

    def __init__(self, window: Any, levels: tuple[str, ...], best: Callable[[str], int],
                 start: Callable[[str], None], chosen: str | None = None,
                 lab: Callable[[str], None] | None = None) -> None:
        self.window = window
        self.menu = TitleMenu(levels, chosen)
        self.best = best
        self.start = start
        self.lab = lab
        """Opens the lesson lab on a level (L), if the window offers it."""
        self.drawing: Any = None
        self.layout = title_layout(window.width, window.height, len(levels))

    def command(self, command: Command) -> bool:
        if command is Command.PREV:
            self.menu.move(-1)
        elif command is Command.NEXT:
            self.menu.move(1)
        elif command in (Command.START, Command.JUMP):
            self.start(self.menu.chosen)
        elif command is Command.LAB and self.lab is not None:
            self.lab(self.menu.chosen)
        elif command in (Command.PICK_1, Command.PICK_2):
            self.menu.pick(0 if command is Command.PICK_1 else 1)
            self.start(self.menu.chosen)
        else:
            return False
        return True

    def click(self, x: float, y: float) -> None:
        """A click on a card starts that level."""
        i = card_at(self.layout, x, y)
        if i is not None:
            self.menu.pick(i)
            self.start(self.menu.chosen)

    def focus(self, gained: bool) -> None:
        pass

    def hidden(self) -> None:
        pass

    def resize(self, width: int, height: int) -> None:
        self.layout = title_layout(width, height, len(self.menu.levels))
        if self.drawing is not None:
            self.drawing.place(self.layout)

    def frame(self, start: float, interval: float, pacer: Any, stats: dict[str, float],
              visible: bool) -> Any:
        from game.ui.game_view import Frame

        if visible:
            if self.drawing is None:
                from game.ui.title_draw import TitleDrawing

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

    def finish(self) -> None:
        pass


def _title_keys_text() -> str:
    return "   ·   ".join(f"{c.shown} {c.hint}" for c in TITLE_CONTROLS)
