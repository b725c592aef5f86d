"""The one-writer lock fails closed (issue 22, defect 3).

A lock file that cannot be opened read-write (mode 0444, or another user's after one
``sudo`` run) still locks: it is opened read-only, which ``flock`` allows. A lock that
cannot be taken at all (a folder, a FIFO or a symlink loop in its place) makes the process
a reader that says why and never writes. Both are checked with real second processes, and
the last one with the real game under Xvfb.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import test_window
from test_store import make_state
from test_store_faults import contents
from test_window import Game

from ai.store.store import Store, learner_folder

ROOT = Path(__file__).resolve().parent.parent
display = test_window.display

_SECOND = r"""
import os, sys
from ai.store.store import Store
from test_store import make_state
folder = sys.argv[1]
s = Store(folder, "classic")
snapshot = s.prepare(make_state(9))  # everything imported before the switch of user
if sys.argv[2] == "other-user" and os.geteuid() == 0:  # the lock file is root's, not the folder
    os.setgid(65534)
    os.setuid(65534)
claimed = s.claim()
info = s.write(snapshot)
print("claimed" if claimed else "busy", info.ok, s.busy_message if not claimed else "",
      sep="|", flush=True)
"""


def second_process(folder: Path, user: str = "same-user") -> list[str]:
    """Another process's Store on ``folder``: (claimed or busy, saved, its busy message)."""
    out = subprocess.run([sys.executable, "-c", _SECOND, str(folder), user], cwd=ROOT / "tests",
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return out.stdout.strip().split("|")


def test_a_lock_file_that_cannot_be_opened_for_writing_still_keeps_one_writer():
    # The folder belongs to the person; the lock file to someone else (or is 0444).
    base = Path(tempfile.mkdtemp(prefix="gf-lock-"))
    try:
        os.chmod(base, 0o755)
        folder = base / "learner" / "classic"
        first = Store(folder, "classic")
        assert first.save(make_state(1)).ok
        os.chmod(base / "learner", 0o777)
        os.chmod(folder, 0o777)
        first.lock_path.chmod(0o444)
        assert first.claim()  # the first game holds the lock
        before = contents(folder)
        claimed, saved, message = second_process(folder, "other-user")
        assert (claimed, saved) == ("busy", "False")
        assert "another Gravity Flyer is using the classic learner" in message
        assert contents(folder) == before  # the second one wrote nothing
        first.release()
        # Alone, it is the writer, through a read-only lock file.
        claimed, saved, _ = second_process(folder, "other-user")
        assert (claimed, saved) == ("claimed", "True")
    finally:
        shutil.rmtree(base)


def _directory(lock: Path) -> str:
    lock.mkdir(parents=True)
    return "Is a directory"


def _symlink_loop(lock: Path) -> str:
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.symlink_to(lock.name)
    return "Too many levels of symbolic links"


def _fifo(lock: Path) -> str:
    lock.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(lock)
    return "not a regular file"


@pytest.mark.parametrize("make", [_directory, _symlink_loop, _fifo])
def test_a_lock_that_cannot_be_taken_means_no_writer_in_either_process(tmp_path, make):
    folder = tmp_path / "learner" / "classic"
    assert Store(folder, "classic").save(make_state(1)).ok
    store = Store(folder, "classic")
    store.lock_path.unlink()
    why = make(store.lock_path)
    before = contents(folder)
    assert not store.claim()
    assert why in store.busy_message and str(store.lock_path) in store.busy_message
    assert store.busy_message.endswith("this window learns in memory only and saves nothing")
    assert store.load().state.meta["k"] == 1  # it still reads the saves
    info = store.save(make_state(2))
    assert not info.ok and why in info.message
    with pytest.raises(OSError, match="cannot be used"):
        store.move_aside_all()
    claimed, saved, message = second_process(folder)  # a second game: the same
    assert (claimed, saved) == ("busy", "False") and why in message
    assert contents(folder) == before


@pytest.mark.window
def test_the_game_says_why_it_cannot_lock_and_saves_nothing(display, tmp_path):
    data = tmp_path / "data"
    folder = learner_folder(data, "classic")
    (folder.parent / "classic.lock").mkdir(parents=True)
    game = Game(display, tmp_path, "--level", "classic", "--seed", "1", "--pilot", "autopilot",
                env={"GRAVITY_FLYER_AUTOSAVE_S": "0.3"})
    try:
        s = game.until("the window to draw frames", lambda s: s["frames"] > 2, timeout=90)
        line = ("the classic learner's lock file "
                f"{folder.parent / 'classic.lock'} cannot be used (Is a directory): this "
                "window learns in memory only and saves nothing")
        assert line in s["notices"]
        game.focus()
        game.key("4")
        game.until("learning", lambda s: s["env_steps"] >= 200, timeout=60)
        game.key("Escape")
        code, err = game.wait_exit()
    finally:
        game.close()
    assert code == 0 and "Traceback" not in err
    assert f"gravity-flyer: {line}" in err
    assert not folder.exists() or not any(folder.iterdir())
