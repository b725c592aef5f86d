"""The V overlay in the real window under Xvfb: V draws the planned path, the next session
remembers it, V again removes it."""

from __future__ import annotations

import numpy as np
import pytest
import xinput
from test_window import Game, display, wait_for  # noqa: F401  (display: the Xvfb fixture)

from game.ui.layout import layout

pytestmark = pytest.mark.window


def planned_pixels(game: Game) -> int:
    """Pixels of the planned path's magenta on the field (the legend's strip left out)."""
    img = xinput.screenshot(game.display, game.window_id()).astype(np.int16)
    h, w = img.shape[:2]
    f = layout(w, h).field
    top, bottom = int(h - f.top), int(h - f.y) - 60  # rows from the top; above the legend
    field = img[top:bottom, int(f.x):int(f.right)]
    r, g, b = field[..., 0], field[..., 1], field[..., 2]
    return int(((r > 220) & (g < 110) & (b > 160)).sum())


def test_v_draws_the_thinking_is_remembered_and_v_again_takes_it_away(display, tmp_path):  # noqa: F811
    game = Game(display, tmp_path, "--level", "arcade", "--seed", "3", "--pilot", "autopilot",
                "--autopilot", "pretrained", "--no-learn")
    try:
        game.until("the window to draw frames", lambda s: s["frames"] > 5, timeout=90)
        game.focus()
        assert planned_pixels(game) == 0  # nothing of the overlay's colour before V
        game.key("v")
        game.until("the overlay on", lambda s: s["think"] and s["think_dots"]["planned"] > 5
                   and s["think_dots"]["best"] > 5)
        # the path leaves the screen for a moment as the flyer wraps to the next crossing
        wait_for("the planned path on screen", lambda: planned_pixels(game) > 40, timeout=20)
        game.key("Escape")  # the overlay is remembered, like mute
        assert game.proc.wait(timeout=30) == 0
        assert "Traceback" not in game.proc.stderr.read()
    finally:
        game.close()
    game = Game(display, tmp_path, "--level", "arcade", "--seed", "3", "--pilot", "autopilot",
                "--autopilot", "pretrained", "--no-learn")
    try:
        s = game.until("the next session's frames", lambda s: s["frames"] > 5, timeout=90)
        assert s["think"]
        game.focus()
        wait_for("the planned path on screen", lambda: planned_pixels(game) > 40, timeout=20)
        game.key("v")
        s = game.until("the overlay off", lambda s: not s["think"])
        assert s["think_dots"] == {"planned": 0, "best": 0}
        wait_for("the planned path gone", lambda: planned_pixels(game) == 0, timeout=10)
        game.key("Escape")
        assert game.proc.wait(timeout=30) == 0
        assert "Traceback" not in game.proc.stderr.read()
    finally:
        game.close()
