"""Resealed bad saves: checksums that match, contents a learner could not have made (issue 22,
defect 4).

A good generation 1 is saved, then a generation 2 whose checksums match but one value is
bad: every number of the state's meta (settings, counters, replay positions, RNG states),
every array of the replay memory and every tensor, made NaN, Inf, negative, zero or far out
of range. Each load must end in one of two ways, never a crash and never a silent stop:

* generation 1 is used, and generation 2 is moved aside as damaged or refused and kept,
  in one line that names save 2; or
* generation 2 is used, and the learner built from it still learns: flown for a while it
  takes gradient steps and rolls none back.
"""

from __future__ import annotations

import hashlib
import json
import math
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import safetensors.torch
import test_window
import torch
from conftest import fly
from test_window import Game

from ai import Learner, LearnerConfig
from ai.learner import LearnerState
from ai.store.store import Store

display = test_window.display  # the window tests' Xvfb, for the one test through the game
CONFIG = LearnerConfig(capacity=300, terminal_capacity=60, hidden=(16, 16), early_steps=100)
"""A small learner past its early phase after ``STEPS``: every setting is in play."""
STEPS = 200
BAD_NUMBERS = {"nan": math.nan, "inf": math.inf, "neg": -1, "zero": 0, "huge": 2**70}


def _leaves(obj: Any, path: tuple = ()) -> Iterator[tuple]:
    """Paths to every number in a JSON-like tree (booleans are not numbers here); of a
    list (losses, scores, the curve) its first and last entries."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(obj, list):
        for i in sorted({0, len(obj) - 1} if obj else set()):
            yield from _leaves(obj[i], (*path, i))
    elif type(obj) in (int, float):
        yield path


def _good_learner() -> Learner:
    learner = Learner(2, CONFIG, meta={"level": "classic"}, seed=4)
    fly(learner, STEPS)
    return learner


GOOD = _good_learner().state()
META_CASES = [(path, name) for path in _leaves(GOOD.meta) for name in BAD_NUMBERS]
ARRAY_CASES = [("obs", "nan"), ("obs", "inf"), ("next_obs", "nan"), ("next_obs", "-inf"),
               ("rewards", "nan"), ("rewards", "inf"), ("terminated", "nan"),
               ("terminated", "half"), ("actions", "7"), ("actions", "-1"),
               ("obs", "many-nan"), ("human", "flip")]
TENSOR_CASES = [(name, bad) for name in sorted(GOOD.tensors) for bad in ("nan", "inf")
                if GOOD.tensors[name].is_floating_point()]


@pytest.fixture(scope="module")
def good_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("good") / "classic"
    assert Store(folder, "classic").save(GOOD).ok
    return folder


def _copy(state: LearnerState) -> LearnerState:
    return LearnerState({k: v.clone() for k, v in state.tensors.items()},
                        {k: v.copy() for k, v in state.arrays.items()},
                        json.loads(json.dumps(state.meta)))


def _set(tree: Any, path: tuple, value: Any) -> None:
    for key in path[:-1]:
        tree = tree[key]
    tree[path[-1]] = value


def _reseal(folder: Path, generation: int) -> None:
    """Rewrites a manifest with the files' current sizes and checksums (a forger's move)."""
    path = folder / f"gen-{generation:06d}.manifest.json"
    body = json.loads(path.read_text())
    body.pop("manifest_sha256")
    for entry in body["files"].values():
        data = (folder / entry["name"]).read_bytes()
        entry["size"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    body["manifest_sha256"] = hashlib.sha256(canonical).hexdigest()
    path.write_text(json.dumps(body))


def _check_outcome(folder: Path) -> str:
    """Loads ``folder`` as the game does; asserts one of the two allowed endings."""
    result = Store(folder, "classic").load(build=Learner.from_state)
    assert result.built is not None
    if result.generation == 1:
        (line,) = result.messages
        assert "save 2" in line and "save 1" in line, line
        names = [p.name for p in folder.iterdir()]
        if "moved aside" in line:
            assert sum(".corrupt-" in n for n in names) == 4, names
            return "moved aside"
        assert "kept" in line and "gen-000002.manifest.json" in names, line
        return "kept"
    assert result.generation == 2 and result.messages == []
    learner = result.built
    learner.learn_enabled = True
    updates, rollbacks = learner.updates, learner.nan_rollbacks
    fly(learner, 100, world_seed=7)
    assert learner.updates > updates, "loaded, but learning does not advance"
    assert learner.nan_rollbacks == rollbacks
    assert all(torch.isfinite(learner.net.flat))
    return "used"


def _save_bad(folder: Path, state: LearnerState) -> None:
    store = Store(folder, "classic")
    assert store.load(build=Learner.from_state).generation == 1
    assert store.save(state).ok  # the store writes what it is given: checksums match


@pytest.mark.parametrize("path, bad", META_CASES,
                         ids=[f"{'.'.join(map(str, p))}={b}" for p, b in META_CASES])
def test_a_bad_number_in_the_state_never_crashes_or_stalls(good_folder, tmp_path, path, bad):
    folder = tmp_path / "classic"
    shutil.copytree(good_folder, folder)
    state = _copy(GOOD)
    _set(state.meta, path, BAD_NUMBERS[bad])
    _save_bad(folder, state)
    _check_outcome(folder)


def _bad_array(name: str, bad: str) -> LearnerState:
    state = _copy(GOOD)
    a = state.arrays[name]
    if bad == "many-nan":
        a[:200] = np.nan
    elif bad == "half":
        a[5] = 0.5
    elif bad == "flip":
        a[5] = not a[5]
    else:
        a[5] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf, "7": 7, "-1": -1}[bad]
    return state


@pytest.mark.parametrize("name, bad", ARRAY_CASES, ids=[f"{n}={b}" for n, b in ARRAY_CASES])
def test_a_bad_replay_array_is_moved_aside_and_the_older_save_used(good_folder, tmp_path,
                                                                    name, bad):
    folder = tmp_path / "classic"
    shutil.copytree(good_folder, folder)
    _save_bad(folder, _bad_array(name, bad))
    outcome = _check_outcome(folder)
    # Values a learner never stores are damage; a human tag that disagrees with its count
    # is refused by the replay memory's own check.
    assert outcome == ("kept" if name == "human" else "moved aside")


def test_the_issue_s_cases_say_what_is_wrong(good_folder, tmp_path):
    """Actions of 7, 2,000-style NaN rows, lr NaN and batch_size 0: one line each, named."""
    cases = {"actions": _bad_array("actions", "7"), "nan rows": _bad_array("obs", "many-nan")}
    for key, value in (("lr", math.nan), ("batch_size", 0)):
        state = _copy(GOOD)
        state.meta["config"][key] = value
        cases[key] = state
    expected = {"actions": "replay action(s) out of range 0-1 (slot 5: 7)",
                "nan rows": "replay array 'obs' holds NaN or Inf in 200 slot(s)",
                "lr": "setting lr is nan", "batch_size": "setting batch_size is 0"}
    for key, state in cases.items():
        folder = tmp_path / key.replace(" ", "_")
        shutil.copytree(good_folder, folder)
        _save_bad(folder, state)
        result = Store(folder, "classic").load(build=Learner.from_state)
        (line,) = result.messages
        assert result.generation == 1 and expected[key] in line, line
        assert "moved aside as gen-000002.*.corrupt-" in line and "resumed from" in line


@pytest.mark.parametrize("name, bad", TENSOR_CASES, ids=[f"{n}={b}" for n, b in TENSOR_CASES])
def test_a_bad_weight_is_refused_and_the_older_save_used(good_folder, tmp_path, name, bad):
    folder = tmp_path / "classic"
    shutil.copytree(good_folder, folder)
    _save_bad(folder, GOOD)
    path = folder / "gen-000002.weights.safetensors"
    tensors = safetensors.torch.load(path.read_bytes())
    tensors[name].view(-1)[0] = math.nan if bad == "nan" else math.inf
    path.write_bytes(safetensors.torch.save(tensors, metadata={
        "format": "gravity-flyer learner", "level": "classic"}))
    _reseal(folder, 2)
    assert _check_outcome(folder) == "kept"


# ---- a learner that keeps rolling back, a crash while learning -------------------------


def test_a_learner_that_keeps_rolling_back_says_so_stops_and_is_never_saved(tmp_path):
    from ai.learner import ROLLBACK_STREAK_LIMIT
    from ai.store.store import BackgroundSaver
    from game.wiring.autosave import Autosave

    store = Store(tmp_path / "classic", "classic")
    learner = Learner.from_state(_copy(GOOD))
    assert store.load().generation is None and store.save(learner.state()).ok
    before = sorted(p.name for p in store.folder.iterdir())
    learner.set_lr(math.nan)  # poison slipped in at run time: every step gives NaN
    autosave = Autosave(learner, store, BackgroundSaver(store), interval_s=1.0)
    world = fly(learner, 10)
    updates = learner.updates
    learner.train(ROLLBACK_STREAK_LIMIT - 1)
    assert learner.stalled is None and learner.learn_enabled  # a bad patch is survivable
    world = fly(learner, 40, world=world)  # the game flies on; its steps are undone too
    assert learner.stalled and "learning stopped" in learner.stalled
    assert learner.rollback_streak >= ROLLBACK_STREAK_LIMIT and not learner.learn_enabled
    assert learner.updates == updates
    steps = learner.env_steps
    fly(learner, 50, world=world)
    assert learner.env_steps == steps  # it no longer pretends to learn
    assert not autosave.play(1.0)  # due, but never saved over the good generations
    (info,) = autosave.poll()
    assert not info.ok and "learning stopped" in info.message and "not saved" in info.message
    assert autosave.close(10.0) == [] and autosave.poll() == []  # said once
    assert sorted(p.name for p in store.folder.iterdir()) == before


def test_after_keep_older_no_save_prunes_an_older_generation(tmp_path):
    store = Store(tmp_path / "classic", "classic")
    for _ in range(3):
        assert store.save(GOOD).ok
    assert store.generations() == [3, 2]  # pruned to KEEP as usual
    store.keep_older()  # the game crashed while learning
    for _ in range(2):
        assert store.save(GOOD).ok
    assert store.generations() == [5, 4, 3, 2]


# ---- an unreadable save: kept, named, and brought back once it is readable --------------


def test_an_unreadable_save_is_named_and_brought_back_once_readable(tmp_path):
    folder = tmp_path / "classic"
    store = Store(folder, "classic")
    first = Learner.from_state(_copy(GOOD))
    assert store.save(first.state()).ok
    fly(first, 30, world_seed=9)
    assert store.save(first.state()).ok  # save 2: the one that becomes unreadable
    memory = folder / "gen-000002.memory.npz"
    memory.rename(folder / "kept-aside")
    memory.symlink_to(memory.name)  # a symlink loop: not readable, by anyone
    result = Store(folder, "classic").load(build=Learner.from_state)
    (line,) = result.messages
    assert result.generation == 1
    assert (f"save 2 could not be read (Too many levels of symbolic links; kept in {folder} as "
            "gen-000002.*: once it is readable again, the next start resumes from it)") in line
    # The game goes on from save 1 and saves twice; save 2 is never pruned or moved.
    store = Store(folder, "classic")
    learner = store.load(build=Learner.from_state).built
    for _ in range(2):
        fly(learner, 20, world_seed=3)
        assert store.save(learner.state()).ok
    assert store.generations() == [4, 3, 2]
    memory.unlink()
    (folder / "kept-aside").rename(memory)  # readable again
    result = Store(folder, "classic").load(build=Learner.from_state)
    assert result.generation == 2 and result.built.env_steps == first.env_steps
    (line,) = result.messages
    assert line.startswith("classic learner: save 2 is readable again: resumed from it; the "
                           "saves made while it was not (4, 3) were moved aside as ")
    names = sorted(p.name for p in folder.iterdir())
    assert sum(".while-unreadable-" in n for n in names) == 8  # kept, not deleted
    assert Store(folder, "classic").load().messages == []  # and it stays the newest


# ---- through the real game ----------------------------------------------------------------


@pytest.mark.window
def test_the_game_sets_a_save_with_actions_of_7_aside_and_learns_on(display, tmp_path):
    """Before: every launch crashed after ~64 steps (index 7 is out of bounds), re-saving the
    bad memory and pruning the good generations; only --fresh got out."""
    from game.sim.levels import CLASSIC
    from game.wiring.learning import new_learner

    data = tmp_path / "data"
    store = Store.for_data_dir(data, "classic")
    learner = new_learner(CLASSIC, seed=3)
    fly(learner, 200)
    assert store.save(learner.state()).ok
    good = learner.env_steps
    fly(learner, 100, world_seed=5)
    bad = learner.state()
    bad.arrays["actions"][: learner.memory.size : 7] = 7  # resealed: the checksums match
    assert store.save(bad).ok
    game = Game(display, tmp_path, "--level", "classic", "--pilot", "autopilot",
                env={"GRAVITY_FLYER_AUTOSAVE_S": "0.3"})
    try:
        s = game.until("the window", lambda s: s["frames"] > 2, timeout=90)
        assert any("save 2 is damaged (its contents fail a check" in n and "replay action" in n
                   and "resumed from the older save 1" in n for n in s["notices"]), s["notices"]
        assert s["persistence"]["resumed_env_steps"] == good  # save 1, not the bad save 2
        game.focus()
        game.key("4")
        game.until("learning on well past 64 steps, and autosaves",
                   lambda s: s["env_steps"] >= good + 1000 and s["persistence"]["saves_ok"] >= 2,
                   timeout=120)
        game.key("Escape")
        code, err = game.wait_exit()
    finally:
        game.close()
    assert code == 0 and "Traceback" not in err, err
    names = [p.name for p in store.folder.iterdir()]
    assert sum(n.startswith("gen-000002.") and ".corrupt-" in n for n in names) == 4
    result = Store.for_data_dir(data, "classic").load(build=Learner.from_state)
    assert result.messages == [] and result.built.env_steps >= good + 1000

