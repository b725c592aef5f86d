"""The learner store seen from the real game under Xvfb: two windows, save states, env.

Uses the window helpers of ``test_window`` (its Xvfb, ``Game`` and the state file).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import test_window
from test_window import Game, wait_for

from ai.store.store import Store, learner_folder

pytestmark = pytest.mark.window
ROOT = Path(__file__).resolve().parent.parent
AUTOSAVE = "GRAVITY_FLYER_AUTOSAVE_S"
BUSY = "another Gravity Flyer is using the classic learner"
display = test_window.display


def _chain_is_one_writers(folder: Path) -> list[int]:
    """The generations on disk; asserts they form one chain (newest's parent is the next)."""
    gens = Store(folder, "classic").generations()
    manifests = {g: json.loads((folder / f"gen-{g:06d}.manifest.json").read_text())
                 for g in gens}
    for newer, older in zip(gens, gens[1:], strict=False):
        assert manifests[newer]["parent"] == older, (newer, manifests[newer]["parent"], older)
    return gens


def _stop(game: Game, sig: int = signal.SIGTERM) -> tuple[int, str]:
    game.proc.send_signal(sig)
    return game.wait_exit(timeout=60)


def test_a_second_window_learns_in_memory_and_never_writes_into_the_first_ones(
        display, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "data").mkdir(parents=True)
    b.mkdir()
    (b / "data").symlink_to(a / "data", target_is_directory=True)  # one data folder, two games
    folder = learner_folder(a / "data", "classic")
    first = Game(display, a, "--level", "classic", "--pilot", "autopilot", env={AUTOSAVE: "0.5"})
    games = [first]
    try:
        wait_for("the first window", lambda: (first.state() or {}).get("frames"),
                             timeout=90)
        first.focus()
        first.key("4")
        first.until("the first window's saves",
                    lambda s: s["persistence"]["saves_ok"] >= 2, timeout=90)

        # The second window, even with --fresh, must not move or write the first one's files.
        second = Game(display, b, "--level", "classic", "--pilot", "autopilot", "--fresh",
                      env={AUTOSAVE: "0.5"})
        games.append(second)
        s = second.until("the second window to fly and learn",
                         lambda s: s["frames"] > 2 and s.get("env_steps", 0) > 20, timeout=90)
        assert [n for n in s["notices"] if BUSY in n], s["notices"]  # said on screen...
        assert s["persistence"] is None  # ...and it has no autosave at all
        code, err = _stop(second)
        assert code == 143 and "Traceback" not in err, err
        assert [x for x in err.splitlines() if BUSY in x] == [
            f"gravity-flyer: {BUSY} ({learner_folder(b / 'data', 'classic')}): this window "
            "learns in memory only and saves nothing"]  # ...and once in the terminal
        assert not list((a / "data" / "learner").glob("classic.fresh-*"))

        first.focus()  # the second window took the focus, which pauses the first
        saves = first.state()["persistence"]["saves_ok"]
        first.until("the first window to save on", lambda s: s["persistence"]["saves_ok"]
                    >= saves + 2, timeout=60)
        newest = _chain_is_one_writers(folder)[0]

        # A killed first window leaves a lock file, never a lock: the next start is the writer.
        first.proc.kill()
        first.proc.wait(timeout=30)
        third = Game(display, a, "--level", "classic", "--pilot", "autopilot",
                     env={AUTOSAVE: "0.5"})
        games.append(third)
        s = third.until("the next start", lambda s: s["frames"] > 2, timeout=90)
        assert not [n for n in s["notices"] if BUSY in n], s["notices"]
        assert s["persistence"] is not None
        assert s["persistence"]["loaded_generation"] in _chain_is_one_writers(folder)
        assert s["persistence"]["loaded_generation"] >= newest
        loaded = s["persistence"]["loaded_generation"]
        third.focus()
        third.until("the third window's own save", lambda s: s["persistence"]["saves_ok"] >= 1,
                    timeout=60)
        code, err = _stop(third)
        assert code == 143 and "Traceback" not in err and BUSY not in err, err
        final = third.final_state()["final_saves"]
        assert all(f["ok"] for f in final), final  # none at exit if nothing was new
        assert _chain_is_one_writers(folder)[0] > loaded  # the third start was the writer
    finally:
        for game in games:
            game.close()


def test_the_saved_badge_and_a_failed_save_are_never_shown_together(display, tmp_path):
    folder = learner_folder(tmp_path / "data", "classic")
    away = folder.with_name("classic.away")
    game = Game(display, tmp_path, "--level", "classic", "--pilot", "autopilot",
                env={AUTOSAVE: "0.3"})
    seen: list[dict] = []

    def watch(pred):
        def check(s):
            seen.append(s)
            return pred(s)
        return check

    try:
        game.until("the window", lambda s: s["frames"] > 2, timeout=90)
        game.focus()
        game.key("4")
        game.until("a good save", watch(lambda s: s["saved_flash"]), timeout=60)
        # The disk goes bad: the learner's folder becomes a file, so every save fails.
        os.rename(folder, away)
        folder.write_text("in the way\n")
        failed = seen[-1]["persistence"]["saves_failed"]
        game.until("failing saves", watch(lambda s: s["persistence"]["saves_failed"]
                                          >= failed + 3), timeout=60)
        # The disk comes back: saves succeed again.
        folder.unlink()
        os.rename(away, folder)
        ok = seen[-1]["persistence"]["saves_ok"]
        game.until("good saves again", watch(lambda s: s["persistence"]["saves_ok"] >= ok + 3),
                   timeout=60)
        code, err = _stop(game)
        assert code == 143 and "Traceback" not in err, err
    finally:
        game.close()
    failing = [s for s in seen if any(n.startswith("could not save") for n in s["notices"])]
    flashing = [s for s in seen if s["saved_flash"]]
    assert failing and flashing  # both states were on screen, each at its time...
    assert not [s for s in failing if s["saved_flash"]]  # ...never together


def test_a_state_file_in_a_missing_folder_is_one_line_before_the_window(display, tmp_path):
    env = {**os.environ, "DISPLAY": display,
           "GRAVITY_FLYER_STATE_FILE": str(tmp_path / "missing" / "state.json")}
    try:
        out = subprocess.run([sys.executable, "main.py", "--data-dir", str(tmp_path / "data")],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=90)
    except subprocess.TimeoutExpired:
        pytest.fail("the game did not end")
    assert out.returncode == 2
    assert out.stderr == (f"gravity-flyer: error: GRAVITY_FLYER_STATE_FILE: the folder "
                          f"{tmp_path / 'missing'} does not exist\n")
