"""The lesson lab in the real window under Xvfb: it opens, every team's line is drawn in its
colour on the chart, the state file holds a skill reading per team, and the keys work."""

from __future__ import annotations

import numpy as np
import pytest
import xinput
from test_window import Game, display, wait_for  # noqa: F401  (display: the Xvfb fixture)

from game.ui.hud.lab_panel import chart_rect, lab_layout
from game.wiring.lab_teams import TEAMS

pytestmark = pytest.mark.window


def colours_on_chart(game: Game, keys: list[str]) -> dict[str, int]:
    """Pixels of each team's colour inside the chart (the lines; the legend is below it)."""
    img = xinput.screenshot(game.display, game.window_id()).astype(np.int16)
    h, w = img.shape[:2]
    c = chart_rect(lab_layout(w, h).hud, 4)
    chart = img[int(h - c.top):int(h - c.y), int(c.x):int(c.right)]
    out = {}
    for key in keys:
        rgb = np.array(TEAMS[key].spec.colour, dtype=np.int16)
        out[key] = int((np.abs(chart - rgb).max(axis=2) <= 12).sum())
    return out


def test_the_lab_opens_draws_each_team_and_reads_each_skill(display, tmp_path):  # noqa: F811
    game = Game(display, tmp_path, "--lab", "--level", "classic", "--seed", "1", "--flock", "32")
    try:
        s = game.until("the lab to draw frames", lambda s: s.get("view") == "lab"
                       and s["frames"] > 5, timeout=120)
        keys = s["lab"]["lineup"]
        assert keys == ["tutorial", "replay", "target", "ours"]
        game.focus()  # without the focus the lab waits, paused, as the game does
        game.until("the teams learning in the learner's child process",
                   lambda s: s["lab"]["learner_process"] == "learning", timeout=120)
        s = game.until("a skill reading of every team", lambda s: all(
            t["skill"] is not None for t in s["lab"]["teams"]), timeout=120)
        for t in s["lab"]["teams"]:
            assert 0.0 <= t["skill"] <= 1.0 and t["readings"] >= 1
        s = game.until("two readings of every team (a line, not a dot)", lambda s: all(
            t["readings"] >= 2 for t in s["lab"]["teams"]), timeout=120)
        assert all(t["env_steps"] > 0 for t in s["lab"]["teams"])
        seen = wait_for("the teams' lines on the chart", lambda: (lambda c: c if sum(
            v > 10 for v in c.values()) >= 2 else None)(colours_on_chart(game, keys)),
            timeout=20)
        assert sum(v > 10 for v in seen.values()) >= 2, seen

        game.key("Tab")  # follow the next team
        game.until("the next team followed", lambda s: s["lab"]["following"] == "replay")
        game.key("v")  # the V overlay on the followed team's leader
        game.until("its planned path drawn", lambda s: s["lab"]["think"]
                   and s["lab"]["think_drawn"]["planned"] > 0, timeout=60)
        game.key("v")
        game.until("the overlay off", lambda s: not s["lab"]["think"])
        game.key("space")  # the person races: a run of their own, the teams set off with them
        s = game.until("the person's run", lambda s: s["lab"]["you"]["races"] == 1
                       and s["lab"]["you"]["ticks"] > 0, timeout=60)
        game.key("4")  # max: every team flies faster than 1x
        s = game.until("max speed", lambda s: s["lab"]["speed"] == "max")
        t0 = s["lab"]["seconds"]
        game.until("max flies ahead", lambda s: s["lab"]["seconds"] > t0 + 20, timeout=60)
        game.key("p")
        s = game.until("pause", lambda s: s["lab"]["paused"])
        frames, seconds = s["frames"], s["lab"]["seconds"]
        s = game.until("frames while paused", lambda s: s["frames"] >= frames + 20)
        assert s["lab"]["seconds"] == seconds
        game.key("t")  # the next line-up: a fresh lab of two teams
        s = game.until("the next line-up", lambda s: s["lab"]["lineup"] == ["tutorial", "replay"])
        assert s["lab"]["seconds"] < 1.0 and len(s["lab"]["teams"]) == 2
        game.key("p")  # (still paused)
        s = game.until("the new line-up learning in the same child", lambda s: all(
            t["env_steps"] > 200 for t in s["lab"]["teams"]), timeout=60)
        assert s["lab"]["learner_process"] == "learning"
        game.key("Escape")
        assert game.proc.wait(timeout=30) == 0
        assert "Traceback" not in game.proc.stderr.read()
    finally:
        game.close()


def test_l_on_the_title_screen_opens_the_lab_on_the_chosen_level(display, tmp_path):  # noqa: F811
    game = Game(display, tmp_path, "--flock", "16")
    try:
        game.until("the title screen", lambda s: s.get("view") == "title" and s["frames"] > 2,
                   timeout=120)
        game.focus()
        game.key("Left")  # from arcade (the default) to classic
        game.until("classic chosen", lambda s: s.get("chosen") == "classic")
        game.key("l")
        s = game.until("the lab", lambda s: s.get("view") == "lab", timeout=120)
        assert s["lab"]["level"] == "classic" and len(s["lab"]["teams"]) == 4
        game.key("Escape")
        assert game.proc.wait(timeout=30) == 0
    finally:
        game.close()
