"""The headless commands through the real CLI: train -> evaluate round trip and user mistakes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from game.sim.evaluation import Evaluation
from game.sim.levels import CLASSIC
from game.wiring.learning import load_pilot

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.slow
def test_train_then_evaluate_round_trip(tmp_path) -> None:
    out = tmp_path / "pilot.safetensors"
    trained = run("train", "--level", "classic", "--steps", "300", "--seed", "0",
                  "--out", str(out))
    assert trained.returncode == 0, trained.stderr
    assert out.is_file() and out.stat().st_size < 20_000
    assert "steps" in trained.stderr  # the progress bar goes to stderr
    assert str(out) in trained.stdout

    ev = run("evaluate", str(out), "--level", "classic", "--episodes", "500", "--seed", "7",
             "--json")
    assert ev.returncode == 0, ev.stderr
    lines = ev.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["episodes"] == 500 and result["seed"] == 7
    assert 0.9 <= result["success_rate"] <= 1.0
    # The command flies exactly the library's evaluation of that pilot on those flights.
    pilot, _ = load_pilot(out, CLASSIC)
    again = Evaluation.prepare(CLASSIC, 500, seed=7).run(pilot.act_batch)
    assert {k: result[k] for k in again} == again

    text = run("evaluate", str(out), "--episodes", "100", "--seed", "7")
    assert text.returncode == 0 and "success rate" in text.stdout


def test_evaluate_refuses_bad_files_in_one_line(tmp_path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"not a pilot at all")
    for path, level in [(junk, "classic"), (tmp_path / "missing.safetensors", "classic")]:
        r = run("evaluate", str(path), "--level", level, "--episodes", "10")
        assert r.returncode == 2
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


@pytest.mark.slow
def test_evaluate_refuses_a_pilot_for_another_level(tmp_path) -> None:
    out = tmp_path / "c.safetensors"
    assert run("train", "--steps", "50", "--out", str(out), "--no-progress").returncode == 0
    r = run("evaluate", str(out), "--level", "arcade", "--episodes", "10")
    assert r.returncode == 2 and "not arcade" in r.stderr and "Traceback" not in r.stderr


def test_train_refuses_an_output_that_is_not_safetensors(tmp_path) -> None:
    r = run("train", "--steps", "10", "--out", str(tmp_path / "pilot.pt"), "--no-progress")
    assert r.returncode == 2 and ".safetensors" in r.stderr
    assert not (tmp_path / "pilot.pt").exists()
