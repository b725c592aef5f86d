"""The commands check before their long work, and say what is wrong in one line (issue 22,
defects 5, 7, 8 and 9).

Each case runs ``python main.py`` as a person would. Before these checks, ``train`` flew all
its steps and only then said ``cannot write``; a non-UTF-8 byte in ``--out`` or
``--data-dir`` ended in a ``UnicodeEncodeError`` traceback; ``record --size 2`` gave a
``ValueError`` traceback and ``--size 100000`` tried to allocate 149 GiB; an MP4 to a folder
that cannot be written printed ffmpeg's output and ``Broken pipe``; ``--flock`` had no top;
``evaluate --episodes 10000000`` allocated 7.45 GiB at once; a long GIF grew without limit.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import game.sim.evaluation as evaluation
from ai.atomic import atomic_write_bytes
from game.commands.checks import MAX_EPISODES, MAX_FLOCK, write_or_fallback
from game.errors import CliError
from game.sim.levels import ARCADE, CLASSIC

ROOT = Path(__file__).resolve().parent.parent
UNWRITABLE = Path("/proc")
"""A folder no one may create files in, not even root (the tests may run as root)."""


def run(*args: str | bytes, timeout: float = 120) -> tuple[int, str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    out = subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env,
                         capture_output=True, timeout=timeout)
    return (out.returncode, out.stdout.decode("utf-8", "replace"),
            out.stderr.decode("utf-8", "replace"))


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("gravity-flyer: error: "), err
    return lines[0]


def test_train_checks_its_out_before_training():
    code, out, err = run("train", "--level", "classic", "--steps", "3000", "--out",
                         str(UNWRITABLE / "pilot.safetensors"))
    assert code == 2 and out == ""
    line = one_line(err)  # no progress bar: not one step was flown
    assert "cannot write /proc/pilot.safetensors" in line


@pytest.mark.parametrize("command", [
    ["train", "--steps", "50", "--out", b"DIR/p\xff.safetensors"],
    ["export-pilot", "--level", "classic", "--data-dir", b"DIR/d\xff", "--out",
     b"DIR/e.safetensors"],
    ["record", "--out", b"DIR/f\xff.gif", "--seconds", "1"],
])
def test_a_path_that_is_not_utf8_is_one_line(tmp_path, command):
    folder = os.fsencode(tmp_path)
    args = [a.replace(b"DIR", folder) if isinstance(a, bytes) else a for a in command]
    code, out, err = run(*args)
    assert code == 2 and out == ""
    assert "is not valid UTF-8 text" in one_line(err)


def test_a_finished_run_that_cannot_be_written_goes_to_a_named_fallback(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    monkeypatch.chdir(tmp_path)
    out = blocker / "pilot.safetensors"  # its "folder" is a file: every write fails

    def write(path: Path) -> None:
        atomic_write_bytes(path, b"the pilot")
        atomic_write_bytes(path.with_suffix(".csv"), b"the curve")

    written, note = write_or_fallback(out, write, "pilot")
    assert written.parent == tmp_path and written.name.startswith("pilot.unsaved-")
    assert written.suffix == ".safetensors" and written.read_bytes() == b"the pilot"
    assert written.with_suffix(".csv").read_bytes() == b"the curve"
    assert note.startswith(f"cannot write {out}: ") and "; the pilot was written to " in note
    assert str(written) in note

    def never(path: Path) -> None:
        raise PermissionError(13, "Permission denied")

    with pytest.raises(CliError, match="nor could the pilot be written to"):
        write_or_fallback(out, never, "pilot")


@pytest.mark.parametrize("size", ["2", "15", "2049", "100000"])
def test_record_size_is_bounded(tmp_path, size):
    code, _, err = run("record", "--size", size, "--out", str(tmp_path / "x.mp4"))
    assert code == 2 and "--size must be 16 to 2,048 pixels" in one_line(err)
    assert not list(tmp_path.iterdir())


def test_an_mp4_to_an_unwritable_folder_says_why_and_nothing_of_ffmpeg():
    code, _, err = run("record", "--seconds", "1", "--out", str(UNWRITABLE / "x.mp4"))
    assert code == 2
    assert "cannot write /proc/x.mp4" in one_line(err)


@pytest.mark.parametrize("args", [["--flock", str(MAX_FLOCK + 1)], ["--flock", "100000"],
                                  ["record", "--learn", "--flock", "100000", "--out", "x.mp4"]])
def test_flock_has_a_top(args):
    code, _, err = run(*args)  # no display is needed to refuse it
    assert code == 2
    assert f"--flock must be 1 to {MAX_FLOCK:,} flyers" in one_line(err)


@pytest.mark.parametrize("command", [["evaluate", "pretrained"],
                                     ["export-pilot", "--level", "arcade", "--out", "x.st"]])
def test_episodes_has_a_top(command):
    code, _, err = run(*command, "--episodes", "10000000")
    assert code == 2
    assert f"--episodes must be 1 to {MAX_EPISODES:,} runs, got 10,000,000" in one_line(err)


@pytest.mark.parametrize("args", [["--seconds", "1e9"],
                                  ["--learn", "--seconds", "1e9"],
                                  ["--size", "2048", "--seconds", "600"]])
def test_a_gif_that_would_not_fit_in_memory_is_refused_with_the_reason(tmp_path, args):
    code, _, err = run("record", *args, "--out", str(tmp_path / "x.gif"))
    assert code == 2
    line = one_line(err)
    assert "is built in memory and would need" in line and "or an .mp4 (streamed)" in line
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("level", [CLASSIC, ARCADE], ids=lambda lv: lv.name)
def test_evaluation_in_chunks_is_the_one_evaluation_up_to_a_chunk(level, monkeypatch):
    rng = np.random.default_rng(0)
    weights = rng.standard_normal(level.obs_size)

    def policy(obs: np.ndarray) -> np.ndarray:  # a fixed, imperfect pilot
        return (obs @ weights > 0).astype(np.int64)

    whole = evaluation.Evaluation.prepare(level, 300, 11).run(policy)
    assert evaluation.evaluate_in_chunks(level, 300, 11, policy) == whole
    monkeypatch.setattr(evaluation, "EVAL_CHUNK", 100)
    seen: list[int] = []
    chunked = evaluation.evaluate_in_chunks(level, 250, 11, policy, seen.append)
    assert seen == [100, 100, 50] and chunked["episodes"] == 250
    first = evaluation.Evaluation.prepare(level, 100, 11).scores(policy)
    again = evaluation.evaluate_in_chunks(level, 100, 11, policy)
    assert again == evaluation.Evaluation.prepare(level, 100, 11).run(policy)
    assert len(first) == 100
