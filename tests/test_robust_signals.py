"""Every way a game ends saves its learner: impatient Ctrl-Cs, a destroyed window, a lost X
connection; and the skill meter's child neither prints on Ctrl-C nor outlives the game
(issue 22, defects 1, 2 and 6).

Each case runs the real game under Xvfb (``test_window``'s display and ``Game``) in a
session of its own, so a signal goes to the game's whole process group, the skill
meter's child included, as a terminal's Ctrl-C does. The window is destroyed and its X
client killed through python-xlib, as ``xdotool windowclose`` and ``xkill`` do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import test_window
import xinput
from test_window import Game, wait_for

from ai import Learner
from ai.store.store import Store, learner_folder

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.window
display = test_window.display


class GroupGame(Game):
    """``Game`` in a session of its own: ``signal_group`` reaches it and its children."""

    def __init__(self, display: str, tmp: Path, *args: str,
                 env: dict[str, str] | None = None) -> None:
        self.display = display
        self.state_file = tmp / "state.json"
        self.state_file.unlink(missing_ok=True)
        env = {**os.environ, **(env or {}), "DISPLAY": display,
               "GRAVITY_FLYER_STATE_FILE": str(self.state_file)}
        self.proc = subprocess.Popen(
            [sys.executable, "main.py", *args, "--data-dir", str(tmp / "data")], cwd=ROOT,
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)

    def signal_group(self, sig: int) -> None:
        os.killpg(self.proc.pid, sig)

    def children(self) -> list[int]:
        """The pids of the game's multiprocessing children (the skill meter, the learner)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                spawned = b"spawn_main" in (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid and spawned:
                found.append(int(entry.name))
        return found

    def close(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def learning_game(display: str, tmp: Path) -> GroupGame:
    """Arcade with a small flock, the autopilot learning from the first frame."""
    return GroupGame(display, tmp, "--level", "arcade", "--seed", "1", "--pilot", "autopilot",
                     "--flock", "8", env={"PYTHONFAULTHANDLER": "1"})


def learned(game: GroupGame, steps: int = 400) -> dict:
    return game.until(f"{steps} env steps learned",
                      lambda s: s["env_steps"] >= steps and s["persistence"]["saves_ok"] == 0,
                      timeout=120)


def saved_steps(tmp: Path) -> int | None:
    """env steps of the learner on disk, or None; the load must be clean."""
    result = Store.for_data_dir(tmp / "data", "arcade").load(build=Learner.from_state)
    assert result.messages == []
    return None if result.built is None else result.built.env_steps


def only_saves(tmp: Path) -> None:
    """The learner folder holds whole generations: no orphans, no temp files."""
    names = sorted(p.name for p in learner_folder(tmp / "data", "arcade").iterdir())
    assert names and all(n.startswith("gen-") and not n.endswith(".tmp-gf")
                         and ".orphan-" not in n for n in names), names
    gens = {n.split(".")[0] for n in names}
    assert all(f"{g}.manifest.json" in names for g in gens), names


@pytest.mark.parametrize("gap_s", [None, 0.03, 0.1], ids=["one", "two-30ms", "two-100ms"])
def test_quick_ctrl_cs_to_the_process_group_still_save_and_print_no_traceback(display, tmp_path,
                                                                            gap_s):
    """One Ctrl-C reaches the skill meter's child too (it printed a traceback); a second one
    30 or 100 ms later interrupted the final save (nothing saved, or orphan files)."""
    game = learning_game(display, tmp_path)
    try:
        learned(game)
        game.signal_group(signal.SIGINT)
        if gap_s is not None:
            time.sleep(gap_s)  # the impatient person's second press, not a synchronisation
            game.signal_group(signal.SIGINT)
        code, err = game.wait_exit()
    finally:
        game.close()
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    final = game.final_state()
    assert [s["ok"] for s in final["final_saves"]] == [True], err
    assert saved_steps(tmp_path) == final["env_steps"]
    only_saves(tmp_path)


def test_ctrl_c_while_loading_prints_one_line_at_most(display, tmp_path):
    game = learning_game(display, tmp_path)
    try:
        # The skill meter's child starts while the level loads; Ctrl-C reaches both.
        wait_for("the skill meter's child", game.children, timeout=120, poll=0.01)
        game.signal_group(signal.SIGINT)
        try:
            code, err = game.wait_exit()
        except subprocess.TimeoutExpired:  # say where it hangs: every thread's stack
            os.kill(game.proc.pid, signal.SIGABRT)
            raise AssertionError("the game did not exit: " + game.proc.communicate(
                timeout=30)[1][-6000:]) from None
    finally:
        game.close()
    assert code == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err


def test_the_game_s_children_end_with_it_even_when_it_is_killed(display, tmp_path):
    """The skill meter's child and the learner's (``ai.process.remote``)."""
    game = learning_game(display, tmp_path)
    try:
        learned(game, 50)
        game.until("the learner's child", lambda s: s["learner_process"] == "learning",
                   timeout=120)
        children = game.children()
        assert len(children) == 2, children
        game.proc.kill()  # SIGKILL to the game only: no exit code of ours runs

        def ended(pid: int) -> bool:
            return not Path(f"/proc/{pid}").exists() or Path(
                f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"

        game.proc.wait(timeout=10)
        wait_for("the children to end", lambda: all(ended(pid) for pid in children), timeout=10)
    finally:
        game.close()


def _window(display: str) -> int:
    return wait_for("the window", lambda: xinput.find_window(display, "Gravity Flyer"))


def test_a_destroyed_window_saves_quits_and_frees_the_learner(display, tmp_path):
    game = learning_game(display, tmp_path)
    try:
        learned(game)
        with xinput.connect(display) as d:  # XDestroyWindow, as xdotool windowclose does
            d.create_resource_object("window", _window(display)).destroy()
            d.sync()
        code, err = game.wait_exit(timeout=30)
    finally:
        game.close()
    assert code == 0, err
    assert "the game window was destroyed" in err and "Traceback" not in err
    final = game.final_state()
    assert saved_steps(tmp_path) == final["env_steps"]
    only_saves(tmp_path)
    # The next launch gets the learner: the lock went with the process.
    game = learning_game(display, tmp_path)
    try:
        s = game.until("the next game", lambda s: s["frames"] > 2, timeout=120)
        assert not any("another Gravity Flyer" in n for n in s["notices"])
        assert s["learner_source"] == "saved"
    finally:
        game.close()


def test_a_killed_x_client_saves_the_learner_before_the_game_exits(display, tmp_path):
    game = learning_game(display, tmp_path)
    try:
        learned(game)
        with xinput.connect(display) as d:  # XKillClient, as xkill / xdotool windowkill do
            d.create_resource_object("window", _window(display)).kill_client()
            d.sync()
        code, err = game.wait_exit(timeout=60)
    finally:
        game.close()
    assert code == 1, err
    assert "lost the connection to the X display" in err and "Traceback" not in err, err
    final = game.final_state()
    assert saved_steps(tmp_path) == final["env_steps"] >= 400
    only_saves(tmp_path)
