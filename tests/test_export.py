"""``evaluate learner`` and ``export-pilot``: the learner the game saved, through the real CLI.

A learner learns a little, is saved through the game's store into a data folder, and the
commands read it from there: their figures equal a direct evaluation of that learner's
greedy pilot, they change nothing in the folder, and bad saves or outputs get one line.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import fly

from ai.autopilot import Autopilot
from ai.store.store import Store
from game.sim.evaluation import EVAL_SEED, Evaluation
from game.sim.levels import CLASSIC
from game.wiring.learning import learner_store, new_learner

ROOT = Path(__file__).resolve().parent.parent
EPISODES = 300


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300)


def tree(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder`` with its bytes and mtime: what "changed nothing" means."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[Path, dict]:
    """A data folder holding a classic learner saved after 600 steps, and its direct figures."""
    data = tmp_path_factory.mktemp("data")
    learner = new_learner(CLASSIC, seed=3)
    fly(learner, 600)
    assert learner.updates > 0  # it did learn: the weights are not the initial ones
    info = learner_store(CLASSIC, data).save(learner.state())
    assert info.ok, info.message
    pilot = learner.autopilot()
    direct = Evaluation.prepare(CLASSIC, EPISODES, EVAL_SEED).run(pilot.act_batch)
    return data, {"figures": direct, "layers": pilot.layers, "env_steps": learner.env_steps,
                  "episodes": learner.episodes}


@pytest.fixture
def data_dir(saved, tmp_path) -> Path:
    """A private copy of the saved data folder (tests may damage it)."""
    return Path(shutil.copytree(saved[0], tmp_path / "data"))


def evaluate_learner(data_dir: Path, *more: str) -> dict:
    r = run("evaluate", "learner", "--level", "classic", "--data-dir", str(data_dir),
            "--episodes", str(EPISODES), "--json", *more)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.strip().splitlines()
    assert len(lines) == 1
    return json.loads(lines[0])


@pytest.mark.slow
def test_evaluate_learner_equals_its_greedy_pilot_and_changes_nothing(saved, data_dir) -> None:
    direct = saved[1]
    (data_dir / "learner" / "classic.lock").unlink()  # left by the save in this process
    before = tree(data_dir)
    result = evaluate_learner(data_dir)
    assert {k: result[k] for k in direct["figures"]} == direct["figures"]
    card = result["card"]
    assert (card["level"], card["physics_version"]) == ("classic", CLASSIC.physics_version)
    assert card["trained_env_steps"] == direct["env_steps"] == 600
    assert card["trained_episodes"] == direct["episodes"]
    assert "save 1" in card["source"]
    # Read-only: not even the lock file the first writer would create.
    assert tree(data_dir) == before

    text = run("evaluate", "learner", "--level", "classic", "--data-dir", str(data_dir),
               "--episodes", "50")
    assert text.returncode == 0 and "success rate" in text.stdout and "model card" in text.stdout


@pytest.mark.slow
def test_evaluate_learner_reads_while_a_game_holds_the_learner(data_dir) -> None:
    game = learner_store(CLASSIC, data_dir)
    assert game.claim()  # this process plays the running game: the one writer
    try:
        result = evaluate_learner(data_dir)
        assert result["card"]["trained_env_steps"] == 600
        # The game still writes: the command did not take over or break its lock.
        assert game.save(new_learner(CLASSIC, seed=1).state()).ok
    finally:
        game.release()


@pytest.mark.slow
def test_export_pilot_writes_a_pilot_that_evaluates_to_the_same_figure(saved, data_dir,
                                                                      tmp_path) -> None:
    direct = saved[1]
    out = tmp_path / "shared.safetensors"
    r = run("export-pilot", "--level", "classic", "--data-dir", str(data_dir), "--out", str(out),
            "--episodes", str(EPISODES))
    assert r.returncode == 0, r.stderr
    assert str(out) in r.stdout

    pilot = Autopilot.load(out, expect=CLASSIC.pilot_meta)
    for have, want in zip(pilot.layers, direct["layers"], strict=True):
        np.testing.assert_array_equal(have, want)
    card = pilot.card
    assert card["evaluation"] == direct["figures"]
    assert (card["level"], card["physics_version"]) == ("classic", CLASSIC.physics_version)
    assert card["observation"] == CLASSIC.obs_layout
    assert card["trained_env_steps"] == 600 and card["trained_episodes"] == direct["episodes"]
    assert card["source"].startswith("exported from a saved learner")
    assert card["date"].startswith("20")

    ev = run("evaluate", str(out), "--episodes", str(EPISODES), "--json")
    assert ev.returncode == 0, ev.stderr
    from_file = json.loads(ev.stdout)
    assert from_file["level"] == "classic"
    learned = evaluate_learner(data_dir)
    assert {k: from_file[k] for k in direct["figures"]} == {
        k: learned[k] for k in direct["figures"]} == direct["figures"]
    assert not list(tmp_path.glob("*.tmp-gf"))


def one_line_error(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, r.stderr
    return r.stderr


@pytest.mark.slow
def test_export_pilot_refuses_an_existing_file_unless_forced(data_dir, tmp_path) -> None:
    out = tmp_path / "mine.safetensors"
    out.write_bytes(b"a file the person keeps")
    args = ("export-pilot", "--level", "classic", "--data-dir", str(data_dir), "--out", str(out),
            "--episodes", "20")
    assert "--force" in one_line_error(run(*args))
    assert out.read_bytes() == b"a file the person keeps"
    r = run(*args, "--force")
    assert r.returncode == 0, r.stderr
    assert Autopilot.load(out, expect=CLASSIC.pilot_meta).card["evaluation"]["episodes"] == 20


def damage(data_dir: Path) -> None:
    memory = data_dir / "learner" / "classic" / "gen-000001.memory.npz"
    blob = bytearray(memory.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    memory.write_bytes(bytes(blob))


def other_physics(data_dir: Path) -> None:
    store = Store.for_data_dir(data_dir, "classic", expect={"physics_version": "0"})
    assert store.save(new_learner(CLASSIC, seed=1).state()).ok  # save 2, not for this game
    for p in (data_dir / "learner" / "classic").glob("gen-000001.*"):
        p.unlink()


def nothing_saved(data_dir: Path) -> None:
    shutil.rmtree(data_dir / "learner")


@pytest.mark.slow
@pytest.mark.parametrize("spoil", [damage, other_physics, nothing_saved])
def test_no_usable_save_is_one_line_and_the_folder_is_left_as_it_is(data_dir, tmp_path,
                                                                   spoil) -> None:
    spoil(data_dir)
    before = tree(data_dir)
    out = tmp_path / "p.safetensors"
    for args in (("evaluate", "learner", "--episodes", "20"), ("export-pilot", "--out", str(out))):
        err = one_line_error(run(*args, "--level", "classic", "--data-dir", str(data_dir)))
        assert "classic learner" in err
    assert tree(data_dir) == before  # a damaged or outdated save is not moved aside here
    assert not out.exists()


def test_evaluate_learner_usage_mistakes_are_one_line(tmp_path) -> None:
    one_line_error(run("evaluate", "learner", "--data-dir", str(tmp_path)))  # no --level
    one_line_error(run("evaluate", "pretrained", "--data-dir", str(tmp_path)))
    one_line_error(run("export-pilot", "--level", "classic", "--data-dir", str(tmp_path),
                       "--out", str(tmp_path / "p.txt")))


def test_a_read_only_store_never_takes_the_lock_or_writes(data_dir) -> None:
    (data_dir / "learner" / "classic.lock").unlink()
    before = tree(data_dir)
    store = learner_store(CLASSIC, data_dir, read_only=True)
    assert not store.claim()
    result = store.load()
    assert result.generation == 1 and result.messages == []
    info = store.save(new_learner(CLASSIC, seed=1).state())
    assert not info.ok and "read-only" in info.message
    assert tree(data_dir) == before
    # A game starting afterwards is the writer as usual.
    game = learner_store(CLASSIC, data_dir)
    assert game.claim()
    game.release()
