"""The real window under Xvfb, driven by real key presses (XTEST, ``xinput``); never skipped.

If DISPLAY is unset the module starts its own ``Xvfb :N`` on a free display
number and stops it afterwards. The game reports its state through
``GRAVITY_FLYER_STATE_FILE``; every wait below polls that state with a deadline.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import xinput

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.window


def _free_display() -> int:
    for n in range(90, 400):
        if not Path(f"/tmp/.X{n}-lock").exists() and not Path(f"/tmp/.X11-unix/X{n}").exists():
            return n
    raise RuntimeError("no free X display number between :90 and :399")


def wait_for(what: str, check: Callable[[], object], timeout: float = 30.0,
             poll: float = 0.05) -> object:
    """Polls ``check`` until it returns something truthy; fails after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="module")
def display() -> Iterator[str]:
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    assert shutil.which("Xvfb"), "Xvfb is needed for the window tests (apt install xvfb)"
    n = _free_display()
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for("Xvfb to start", lambda: Path(f"/tmp/.X11-unix/X{n}").exists()
                 or proc.poll() is not None, timeout=20)
        assert proc.poll() is None, "Xvfb exited at start"
        yield f":{n}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


class Game:
    """A running ``python main.py`` and its state file.

    Args:
        display: the X display.
        tmp: holds the state file and the data folder (``tmp / "data"``).
        args: command-line arguments.
        env: extra environment variables (e.g. ``GRAVITY_FLYER_AUTOSAVE_S``).
    """

    def __init__(self, display: str, tmp: Path, *args: str,
                 env: dict[str, str] | None = None) -> None:
        self.display = display
        self.state_file = tmp / "state.json"
        self.state_file.unlink(missing_ok=True)  # a previous game's state is not this one's
        env = {**os.environ, **(env or {}), "DISPLAY": display,
               "GRAVITY_FLYER_STATE_FILE": str(self.state_file)}
        self.proc = subprocess.Popen([sys.executable, "main.py", *args, "--data-dir",
                                      str(tmp / "data")], cwd=ROOT, env=env,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def state(self) -> dict | None:
        try:
            return json.loads(self.state_file.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return None

    def until(self, what: str, pred: Callable[[dict], bool], timeout: float = 30.0) -> dict:
        def check():
            assert self.proc.poll() is None, f"the game exited early: {self.proc.stderr.read()}"
            s = self.state()
            return s if s is not None and pred(s) else None

        return wait_for(what, check, timeout)  # type: ignore[return-value]

    def key(self, name: str) -> None:
        xinput.key(self.display, name)

    def focus(self, timeout: float = 30.0) -> None:
        """Waits for the window and gives it the keyboard focus."""
        wid = wait_for("the window to appear",
                       lambda: xinput.find_window(self.display, "Gravity Flyer"),
                       timeout=timeout)
        xinput.focus(self.display, wid)

    def wait_exit(self, timeout: float = 60.0) -> tuple[int, str]:
        """Waits for the game to end; returns its exit code and stderr."""
        code = self.proc.wait(timeout=timeout)
        return code, self.proc.stderr.read()

    def final_state(self) -> dict:
        """The state file as the game left it at exit."""
        s = self.state()
        assert s is not None, "the game left no state file"
        return s

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


def test_keys_drive_the_real_window(display, tmp_path):
    game = Game(display, tmp_path, "--level", "classic", "--seed", "1")
    try:
        game.until("the window to draw frames", lambda s: s["frames"] > 5, timeout=90)
        game.focus()
        start = game.state()
        assert start["pilot"] == "human" and start["tick_rate"] == 10.0

        # SPACE: a jump reaches the world and the flyer rises on the next tick
        def jumped_and_rose(s: dict) -> bool:
            return s["human_jumps"] > 0 and s["jump_rise"] is not None and s["jump_rise"] > 0

        deadline = time.monotonic() + 40
        while True:  # a press during the brief crash pause is ignored, so press again
            game.key("space")
            try:
                s = game.until("SPACE to make the flyer rise", jumped_and_rose, timeout=1.5)
                break
            except AssertionError:
                if time.monotonic() > deadline:
                    raise
        assert s["jump_rise"] == pytest.approx(0.2)

        # A: the autopilot takes the controls and flies
        game.key("a")
        s = game.until("the autopilot to take over", lambda s: s["pilot"] == "autopilot")
        n = s["pilot_ticks"]
        game.until("the autopilot to fly", lambda s: s["pilot_ticks"] >= n + 5)
        # A again: the player has the controls back, mid-run, and ticks count as theirs
        game.key("a")
        s = game.until("the player to take back control", lambda s: s["pilot"] == "human")
        h = s["human_ticks"]
        s = game.until("the player to fly", lambda s: s["human_ticks"] >= h + 3)
        assert s["pilot"] == "human"

        # P pauses the clock; P again resumes it
        game.key("p")
        s = game.until("pause", lambda s: s["paused"])
        t = s["ticks"]
        time.sleep(0.5)  # not a synchronisation: time passes and nothing may tick
        assert game.state()["ticks"] == t
        game.key("p")
        game.until("resume", lambda s: not s["paused"] and s["ticks"] > t)

        # every other key in the controls table does what it says
        for key, what, pred in (
            ("h", "the watch-it-learn panel", lambda s: s["learn_panel"]),
            ("f", "the FPS panel", lambda s: s["fps_panel"]),
            ("l", "learning off", lambda s: s["learning"] is False),
            ("l", "learning on", lambda s: s["learning"] is True),
            ("plus", "a faster tick rate", lambda s: s["tick_rate"] == 12),
            ("minus", "the tick rate back", lambda s: s["tick_rate"] == 10),
            ("2", "4x", lambda s: s["speed"] == "4x"),
            ("3", "16x", lambda s: s["speed"] == "16x"),
            ("4", "max", lambda s: s["speed"] == "max"),
            ("1", "1x", lambda s: s["speed"] == "1x"),
            ("Tab", "TAB to hand over", lambda s: s["pilot"] == "autopilot"),
        ):
            game.key(key)
            game.until(what, pred, timeout=10)
        restarts = game.state()["restarts"]
        game.key("r")
        game.until("a restart", lambda s: s["restarts"] == restarts + 1 and s["score"] == 0)

        game.key("Escape")
        assert game.proc.wait(timeout=30) == 0
        err = game.proc.stderr.read()
        assert "Traceback" not in err
    finally:
        game.close()


def test_the_praise_for_a_best_ends_with_its_run(display, tmp_path):
    # A fresh autopilot learning at max speed flies many short runs per second and often
    # sets a new best. The praise may be on screen only while its run still holds the best.
    game = Game(display, tmp_path, "--level", "arcade", "--seed", "2", "--pilot", "autopilot",
                "--learn")
    try:
        game.until("the window to draw frames", lambda s: s["frames"] > 5, timeout=90)
        game.focus()
        game.key("4")
        game.until("max speed", lambda s: s["speed"] == "max", timeout=10)
        seen: list[dict] = []

        def bests_set() -> bool:
            s = game.state()
            if s is not None:
                seen.append(s)
            return len({x["best"] for x in seen if x["best"] >= 2}) >= 4

        wait_for("four new bests", bests_set, timeout=90)
        stale = [(x["score"], x["best"]) for x in seen
                 if x["toast"] == "Autopilot's new best" and x["score"] < x["best"]]
        assert not stale, f"praise shown during later runs (score, best): {stale[:5]}"
        game.key("Escape")
        assert game.proc.wait(timeout=30) == 0
    finally:
        game.close()


def test_no_display_gives_one_line_and_exit_1(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = subprocess.run([sys.executable, "main.py", "--data-dir", str(tmp_path)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "display" in lines[0].lower()
    assert "Traceback" not in out.stderr
