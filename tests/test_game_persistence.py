"""The game keeps its learner between sessions: autosave, every way out, resume, bad files.

The window tests run the real game under Xvfb with the helpers of ``test_window``
(its ``Game`` reports the game's state through ``GRAVITY_FLYER_STATE_FILE``; every
wait polls that with a deadline). ``GRAVITY_FLYER_AUTOSAVE_S`` shortens the autosave
interval (60 s in play) so a test sees several autosaves in a second or two.

Exit codes: Esc and closing the window end with 0; Ctrl-C with 130 and SIGTERM
with 143 (128 + the signal number, as a shell reports a process ended by it), after
the same final save.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import test_window
import xinput
from conftest import fly
from test_window import Game, wait_for

from ai import Learner
from ai.store.store import KEEP, BackgroundSaver, Store, learner_folder
from game import make_world
from game.sim.levels import CLASSIC
from game.wiring.autosave import Autosave
from game.wiring.learning import new_learner

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_PILOT = ROOT / "assets" / "pilots" / "classic.safetensors"
AUTOSAVE = "GRAVITY_FLYER_AUTOSAVE_S"

display = test_window.display  # the module's Xvfb (or $DISPLAY), shared by the window tests


def saved_learner(data: Path, steps: int, generations: int = 1) -> list[tuple[int, int]]:
    """Saves a real classic learner ``generations`` times, ``steps`` env steps apart.

    Returns each generation's ``(episodes, env_steps)``.
    """
    store = Store.for_data_dir(data, "classic")
    learner = new_learner(CLASSIC, seed=3)
    world = make_world("classic", seed=3)
    counts = []
    for _ in range(generations):
        fly(learner, steps, world=world)
        assert store.save(learner.state()).ok
        counts.append((learner.episodes, learner.env_steps))
    return counts


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def started(game: Game) -> dict:
    """Waits for the game's first frames and gives it the keyboard."""
    s = game.until("the window to draw frames", lambda s: s["frames"] > 2, timeout=90)
    game.focus()
    return s


def quit_with_esc(game: Game) -> tuple[dict, str]:
    game.key("Escape")
    code, err = game.wait_exit()
    assert code == 0, err
    assert "Traceback" not in err
    return game.final_state(), err


# ---------------------------------------------------------------- headless, real store
def test_autosave_writes_the_learner_as_it_was_at_the_snapshot(tmp_path):
    """The snapshot is taken on the caller's thread; learning goes on while the disk works."""
    store = Store.for_data_dir(tmp_path, "classic")
    learner = new_learner(CLASSIC, seed=5)
    world = make_world("classic", seed=5)
    autosave = Autosave(learner, store, BackgroundSaver(store), interval_s=1.0)
    fly(learner, 80, world=world)
    assert autosave.play(1.0)
    at_snapshot = (learner.episodes, learner.env_steps, learner.updates)
    fly(learner, 40, world=world)  # keeps learning while the saver writes
    infos: list = []
    wait_for("the background save", lambda: infos.extend(autosave.poll()) or infos, timeout=30)
    assert [i.ok for i in infos] == [True] and autosave.saves_ok == 1
    loaded = Store.for_data_dir(tmp_path, "classic").load(build=Learner.from_state).built
    assert (loaded.episodes, loaded.env_steps, loaded.updates) == at_snapshot
    assert autosave.close(10.0)[0].ok  # the final save: the 40 steps since
    loaded = Store.for_data_dir(tmp_path, "classic").load(build=Learner.from_state).built
    assert loaded.env_steps == learner.env_steps == at_snapshot[1] + 40


# ---------------------------------------------------------------- the real window
@pytest.mark.window
def test_learning_is_autosaved_saved_on_esc_and_resumed_next_time(display, tmp_path):
    data = tmp_path / "data"
    game = Game(display, tmp_path, "--level", "classic", "--seed", "1", "--pilot", "autopilot",
                env={AUTOSAVE: "0.5"})
    try:
        s = started(game)
        assert s["learner_source"] == "new" and s["persistence"]["resumed_episodes"] is None
        game.key("4")  # max speed: many learning steps per second
        s = game.until("two autosaves while learning", lambda s: s["persistence"]["saves_ok"] >= 2
                       and s["env_steps"] >= 100, timeout=60)
        assert s["saved_flash"] or game.until("the Saved mark", lambda s: s["saved_flash"])
        final, err = quit_with_esc(game)
    finally:
        game.close()
    (last,) = final["final_saves"]
    assert last["ok"] and "saved the classic learner" in err
    saved = (final["episodes"], final["env_steps"])
    assert saved[1] >= 100
    generations = Store.for_data_dir(data, "classic").generations()
    assert generations[0] == last["generation"] and len(generations) == KEEP  # pruned

    game = Game(display, tmp_path, "--level", "classic", "--seed", "1")  # the player's turn
    try:
        s = started(game)
        p = s["persistence"]
        assert (p["resumed_episodes"], p["resumed_env_steps"]) == saved
        assert (s["episodes"], s["env_steps"]) == saved
        assert s["learner_source"] == "saved" and p["loaded_generation"] == last["generation"]
        assert s["toast"] == f"Resumed: {saved[0]:,} episodes, {saved[1]:,} steps"
        final, _ = quit_with_esc(game)
    finally:
        game.close()
    assert final["final_saves"] == []  # the player never started a run: nothing new to save
    assert Store.for_data_dir(data, "classic").generations() == generations


@pytest.mark.window
def test_a_level_started_from_the_title_screen_resumes_its_saved_learner(display, tmp_path):
    data = tmp_path / "data"
    (saved,) = saved_learner(data, steps=120)
    game = Game(display, tmp_path)  # no --level: the title screen
    try:
        s = game.until("the title screen", lambda s: s["frames"] > 2, timeout=90)
        assert s["view"] == "title"
        game.focus()
        game.key("Left")
        game.until("classic chosen", lambda s: s["chosen"] == "classic")
        game.key("space")
        s = game.until("classic to start", lambda s: s["view"] == "game", timeout=90)
        assert s["level"] == "classic" and s["learner_source"] == "saved"
        assert (s["episodes"], s["env_steps"]) == saved
        assert (s["persistence"]["resumed_episodes"], s["persistence"]["resumed_env_steps"]) \
            == saved
        quit_with_esc(game)
    finally:
        game.close()


def close_window(display: str) -> None:
    """Asks the game window to close as a window manager's close button does."""
    import ctypes

    from pyglet.libs.x11 import xlib

    wid = wait_for("the window", lambda: xinput.find_window(display, "Gravity Flyer"))
    dpy = xlib.XOpenDisplay(display.encode())
    assert dpy, f"cannot open display {display}"
    try:
        event = xlib.XEvent()
        event.xclient.type = xlib.ClientMessage
        event.xclient.window = wid
        event.xclient.message_type = xlib.XInternAtom(dpy, b"WM_PROTOCOLS", False)
        event.xclient.format = 32
        event.xclient.data.l[0] = xlib.XInternAtom(dpy, b"WM_DELETE_WINDOW", False)
        event.xclient.data.l[1] = xlib.CurrentTime
        assert xlib.XSendEvent(dpy, wid, False, xlib.NoEventMask, ctypes.byref(event))
        xlib.XFlush(dpy)
    finally:
        xlib.XCloseDisplay(dpy)


@pytest.mark.window
@pytest.mark.parametrize("way_out, code", [("close", 0), (signal.SIGTERM, 143),
                                           (signal.SIGINT, 130)])
def test_every_way_out_saves_the_learner_before_the_game_ends(display, tmp_path, way_out, code):
    game = Game(display, tmp_path, "--level", "classic", "--seed", "2", "--pilot", "autopilot")
    try:
        started(game)
        game.key("4")
        s = game.until("learning", lambda s: s["env_steps"] >= 100, timeout=60)
        assert s["persistence"]["saves_ok"] == 0  # 60 s between autosaves: only the exit saves
        if way_out == "close":
            close_window(display)
        else:
            game.proc.send_signal(way_out)
        got, err = game.wait_exit()
    finally:
        game.close()
    assert got == code, err
    assert "Traceback" not in err
    final = game.final_state()
    (last,) = final["final_saves"]
    assert last["ok"]
    loaded = Store.for_data_dir(tmp_path / "data", "classic").load(build=Learner.from_state)
    assert loaded.generation == last["generation"] and loaded.messages == []
    assert loaded.built.env_steps == final["env_steps"] >= s["env_steps"]
    assert loaded.built.episodes == final["episodes"]


@pytest.mark.window
def test_a_damaged_save_is_moved_aside_and_the_one_before_is_resumed(display, tmp_path):
    data = tmp_path / "data"
    first, _ = saved_learner(data, steps=60, generations=2)
    folder = learner_folder(data, "classic")
    weights = folder / "gen-000002.weights.safetensors"
    raw = bytearray(weights.read_bytes())
    raw[len(raw) // 2] ^= 0x10  # one flipped bit in the newest save's weights
    weights.write_bytes(bytes(raw))
    before = contents(folder)

    game = Game(display, tmp_path, "--level", "classic")
    try:
        s = started(game)
        assert any("save 2 is damaged" in n and "moved aside" in n for n in s["notices"])
        p = s["persistence"]
        assert p["loaded_generation"] == 1 and (p["resumed_episodes"],
                                                p["resumed_env_steps"]) == first
        final, err = quit_with_esc(game)
    finally:
        game.close()
    line = next(x for x in err.splitlines() if "save 2 is damaged" in x)
    assert "fails its checksum" in line and ".corrupt-" in line
    after = contents(folder)
    assert final["final_saves"] == []  # nothing learned, nothing written
    # Nothing deleted: generation 1 as it was, generation 2 renamed *.corrupt-<time>.
    assert len(after) == len(before) == 8
    for name, data_bytes in before.items():
        if name.startswith("gen-000001."):
            assert after[name] == data_bytes
        else:
            (moved,) = [n for n in after if n.startswith(name + ".corrupt-")]
            assert after[moved] == data_bytes


@pytest.mark.window
def test_fresh_moves_the_old_learner_aside_and_starts_from_zero(display, tmp_path):
    data = tmp_path / "data"
    (saved,) = saved_learner(data, steps=60)
    assert saved[0] > 0
    folder = learner_folder(data, "classic")
    before = contents(folder)

    game = Game(display, tmp_path, "--level", "classic", "--fresh")
    try:
        s = started(game)
        assert (s["episodes"], s["env_steps"]) == (0, 0) and s["learner_source"] == "new"
        assert s["persistence"]["resumed_episodes"] is None
        assert any(n.startswith("fresh classic learner; the old one was moved to")
                   for n in s["notices"])
        _, err = quit_with_esc(game)
    finally:
        game.close()
    assert "fresh classic learner; the old one was moved to" in err
    (moved,) = [p for p in folder.parent.iterdir() if p.name.startswith("classic.fresh-")]
    assert contents(moved) == before  # kept whole, byte for byte


def _pilot(tmp_path: Path) -> tuple[str, Path]:
    """The ``--autopilot`` argument and the file it names: the shipped pilot if there is one."""
    if SHIPPED_PILOT.is_file():
        return "pretrained", SHIPPED_PILOT
    path = tmp_path / "pilots" / "classic.safetensors"
    path.parent.mkdir()
    learner = new_learner(CLASSIC, seed=11)
    fly(learner, 150, world=make_world("classic", seed=11))
    learner.autopilot().save(path)
    return str(path), path


@pytest.mark.window
def test_learning_from_a_pilot_file_never_writes_to_it(display, tmp_path):
    arg, path = _pilot(tmp_path)
    before, stat = path.read_bytes(), path.stat()
    neighbours = sorted(p.name for p in path.parent.iterdir())
    # --fresh: the pilot starts the new saved learner, which learns and is saved
    game = Game(display, tmp_path, "--level", "classic", "--autopilot", arg, "--fresh",
                "--pilot", "autopilot", env={AUTOSAVE: "0.5"})
    try:
        s = started(game)
        assert s["learner_source"] == "pilot" and s["learning"] is True
        game.key("4")
        game.until("learning and an autosave", lambda s: s["env_steps"] >= 100
                   and s["persistence"]["saves_ok"] >= 1, timeout=60)
        final, _ = quit_with_esc(game)
    finally:
        game.close()
    assert final["final_saves"][0]["ok"]
    assert Store.for_data_dir(tmp_path / "data", "classic").generations()
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stat.st_mtime_ns
    assert sorted(p.name for p in path.parent.iterdir()) == neighbours

    # Without --autopilot the saved learner (which began from the pilot) is resumed.
    game = Game(display, tmp_path, "--level", "classic")
    try:
        s = started(game)
        assert s["learner_source"] == "saved" and s["env_steps"] == final["env_steps"]
        quit_with_esc(game)
    finally:
        game.close()
    assert path.read_bytes() == before and path.stat().st_mtime_ns == stat.st_mtime_ns


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    """Every file under ``folder`` with its size and modification time."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.window
@pytest.mark.parametrize("learn", [(), ("--learn",)])
def test_a_named_pilot_flies_that_pilot_and_leaves_the_saved_learner_alone(display, tmp_path,
                                                                          learn):
    # issue 24: once a person had played, '--autopilot pretrained --pilot autopilot' resumed
    # their saved learner instead of the shipped pilot.
    game = Game(display, tmp_path, "--level", "classic", "--pilot", "autopilot",
                env={AUTOSAVE: "0.5"})
    try:
        started(game)
        game.key("4")
        game.until("a saved learner", lambda s: s["env_steps"] >= 100
                   and s["persistence"]["saves_ok"] >= 1, timeout=60)
        mine, _ = quit_with_esc(game)
    finally:
        game.close()
    learner_dir = tmp_path / "data" / "learner"
    saved = _files(learner_dir)
    assert saved
    game = Game(display, tmp_path, "--level", "classic", "--autopilot", "pretrained",
                "--pilot", "autopilot", *learn)
    try:
        s = started(game)
        assert s["learner_source"] == "pilot" and s["persistence"] is None  # nothing is saved
        assert s["learning"] is bool(learn)  # frozen unless --learn
        assert s["env_steps"] < mine["env_steps"]  # the pilot's fresh learner, not mine
        line = ("flying the pretrained classic pilot, "
                + ("learning in memory (not saved)" if learn else "frozen (--learn lets it "
                   "learn, in memory)")
                + "; your saved classic learner is not loaded or changed")
        assert any(n.startswith(line) for n in s["notices"]), s["notices"]
        game.key("4")
        ticks = s["ticks"]
        s = game.until("the pilot to fly", lambda s: s["ticks"] > ticks + 200, timeout=60)
        if not learn:  # the shipped classic pilot never crashes, frozen
            assert s["score"] >= 1
        final, err = quit_with_esc(game)
    finally:
        game.close()
    assert line in err
    assert _files(learner_dir) == saved  # not loaded, locked, saved over or moved aside
    assert final["final_saves"] == []
@pytest.mark.window
def test_a_learner_folder_that_cannot_be_made_is_one_line_and_the_game_plays_on(display,
                                                                                tmp_path):
    """The one-writer lock cannot be taken there either: the game fails closed, says why
    once (screen and terminal), learns in memory and writes nothing (issue 22)."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "learner").write_text("a file where the learner folder should be\n")
    game = Game(display, tmp_path, "--level", "classic", "--pilot", "autopilot",
                env={AUTOSAVE: "0.3"})
    line = (f"the classic learner's lock file {data / 'learner' / 'classic.lock'} cannot be "
            f"used ({data / 'learner'} is not a folder): this window learns in memory only "
            "and saves nothing")
    try:
        s = started(game)
        assert line in s["notices"] and s["persistence"] is None
        game.key("4")
        s = game.until("learning", lambda s: s["env_steps"] >= 100, timeout=60)
        ticks = s["ticks"]
        game.until("the game to play on", lambda s: s["ticks"] >= ticks + 50, timeout=30)
        final, err = quit_with_esc(game)
    finally:
        game.close()
    assert final["final_saves"] == []
    assert f"gravity-flyer: {line}" in err.splitlines()
    assert (data / "learner").read_text() == "a file where the learner folder should be\n"


def test_a_bad_autosave_interval_is_one_line_and_exit_2(tmp_path):
    env = {**os.environ, AUTOSAVE: "soon"}
    out = subprocess.run([sys.executable, "main.py", "--data-dir", str(tmp_path)], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip() == ("gravity-flyer: error: GRAVITY_FLYER_AUTOSAVE_S must be a "
                                  "positive number of seconds, got 'soon'")
