"""The learner store: exact round trips, generations, pruning, background saves, --fresh."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from ai.atomic import TEMP_SUFFIX
from ai.store.store import (
    BackgroundSaver,
    LearnerState,
    Snapshot,
    StateSpec,
    Store,
    learner_folder,
)


def make_state(k: int, n: int = 500, obs_size: int = 2, level: str = "classic") -> LearnerState:
    """A learner-like state whose every value follows from ``k``."""
    rng = np.random.default_rng(k)
    gen = torch.Generator().manual_seed(k)
    tensors = {
        "online.flat": torch.randn(1186, generator=gen),
        "target.flat": torch.randn(1186, generator=gen),
        "adam.exp_avg": torch.randn(1186, generator=gen, dtype=torch.float64),
        "adam.step": torch.tensor([k], dtype=torch.int64),
        "torch_rng": gen.get_state(),
    }
    arrays = {
        "obs": rng.standard_normal((n, obs_size)).astype(np.float32),
        "actions": rng.integers(0, 2, n),
        "terminated": (rng.random(n) < 0.1).astype(np.float32),
        "human": rng.random(n) < 0.3,
    }
    meta = {"k": k, "format_version": 1, "level": level, "obs_size": obs_size,
            "env_steps": 100 * k, "episodes": k, "epsilon": 1.0 / (k + 1),
            "replay_rng": rng.bit_generator.state, "hidden": [32, 32], "last_loss": None}
    return LearnerState(tensors, arrays, meta)


def assert_same_state(a: LearnerState, b: LearnerState) -> None:
    """Bit-for-bit equal: names, dtypes, shapes and values of everything."""
    assert a.tensors.keys() == b.tensors.keys()
    for name in a.tensors:
        assert a.tensors[name].dtype == b.tensors[name].dtype, name
        assert torch.equal(a.tensors[name], b.tensors[name]), name
    assert a.arrays.keys() == b.arrays.keys()
    for name in a.arrays:
        assert a.arrays[name].dtype == b.arrays[name].dtype, name
        np.testing.assert_array_equal(a.arrays[name], b.arrays[name], strict=True)
    assert json.dumps(a.meta, sort_keys=True) == json.dumps(b.meta, sort_keys=True)


def files(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_round_trip_is_exact_in_a_new_store(tmp_path):
    state = make_state(3)
    info = Store.for_data_dir(tmp_path, "classic").save(state)
    assert info.ok and info.generation == 1 and "saved" in info.message
    assert info.size_bytes == sum(p.stat().st_size for p in learner_folder(
        tmp_path, "classic").iterdir())
    result = Store.for_data_dir(tmp_path, "classic").load(StateSpec.of(state))
    assert result.messages == [] and result.generation == 1
    assert_same_state(result.state, state)
    assert result.state.meta["replay_rng"]["state"]["state"] > 2**64  # big ints survive JSON


def test_one_generation_is_four_files_with_checksummed_manifest(tmp_path):
    store = Store(tmp_path / "s", "classic")
    store.save(make_state(1))
    assert files(store.folder) == ["gen-000001.manifest.json", "gen-000001.memory.npz",
                                   "gen-000001.state.json", "gen-000001.weights.safetensors"]
    manifest = json.loads((store.folder / "gen-000001.manifest.json").read_text())
    assert manifest["level"] == "classic" and manifest["generation"] == 1
    assert manifest["parent"] is None
    assert {f["name"] for f in manifest["files"].values()} == set(files(store.folder)) - {
        "gen-000001.manifest.json"}


def test_load_of_missing_or_empty_folder_is_fresh_without_messages(tmp_path):
    result = Store(tmp_path / "nothing", "classic").load()
    assert (result.state, result.messages, result.generation) == (None, [], None)
    assert not (tmp_path / "nothing").exists()  # a load creates nothing
    (tmp_path / "empty").mkdir()
    result = Store(tmp_path / "empty", "classic").load()
    assert (result.state, result.messages) == (None, [])


def test_newest_generation_is_loaded_and_only_two_of_the_chain_are_kept(tmp_path):
    store = Store(tmp_path, "classic")
    for k in range(1, 6):
        assert store.save(make_state(k)).generation == k
    assert store.generations() == [5, 4]
    assert len(files(tmp_path)) == 8
    result = Store(tmp_path, "classic").load()
    assert result.generation == 5 and result.state.meta["k"] == 5


def test_save_after_load_continues_the_chain_and_prunes_it(tmp_path):
    Store(tmp_path, "classic").save(make_state(1))
    Store(tmp_path, "classic").save(make_state(2))  # parent None: a separate chain, gen 1 kept
    assert Store(tmp_path, "classic").generations() == [2, 1]
    store = Store(tmp_path, "classic")
    assert store.load().generation == 2
    store.save(make_state(3))
    store.save(make_state(4))
    # 2 was loaded, so 3 and 4 descend from it and supersede it; 1 is not of this chain.
    assert store.generations() == [4, 3, 1]


def test_keep_three_keeps_three(tmp_path):
    store = Store(tmp_path, "classic", keep=3)
    for k in range(1, 6):
        store.save(make_state(k))
    assert store.generations() == [5, 4, 3]
    with pytest.raises(ValueError):
        Store(tmp_path, "classic", keep=1)


def test_snapshot_is_independent_of_the_live_state(tmp_path):
    state = make_state(1)
    expected = make_state(1)
    store = Store(tmp_path, "classic")
    snap = store.prepare(state)
    assert isinstance(snap, Snapshot)
    # The learner keeps training while the snapshot waits for the disk.
    state.tensors["online.flat"].add_(1.0)
    state.arrays["obs"][:] = 7.0
    state.meta["k"] = 99
    assert store.write(snap).ok
    assert_same_state(Store(tmp_path, "classic").load().state, expected)


def test_prepare_accepts_views_and_noncontiguous_tensors(tmp_path):
    base = torch.arange(20, dtype=torch.float32).reshape(4, 5)
    arr = np.arange(20, dtype=np.float32).reshape(4, 5)
    state = LearnerState({"t": base.t(), "row": base[1], "p": torch.nn.Parameter(base.clone())},
                         {"a": arr.T, "v": arr[::2]}, {})
    store = Store(tmp_path, "classic")
    assert store.save(state).ok
    loaded = store.load().state
    assert torch.equal(loaded.tensors["t"], base.t()) and torch.equal(loaded.tensors["row"],
                                                                       base[1])
    assert not loaded.tensors["p"].requires_grad
    np.testing.assert_array_equal(loaded.arrays["a"], arr.T)
    np.testing.assert_array_equal(loaded.arrays["v"], arr[::2])


def test_any_array_name_and_shape_survive(tmp_path):
    # np.savez(file, **arrays) would fail on the name "file"; the store writes the zip itself.
    arrays = {"file": np.ones(3), "memory.obs": np.zeros((2, 2), np.float16),
              "scalar": np.array(True), "empty": np.zeros((0, 3), np.float32),
              "fortran": np.asfortranarray(np.arange(6, dtype=np.uint8).reshape(2, 3))}
    state = LearnerState({"scalar": torch.tensor(2.5), "empty": torch.zeros(0, 4)}, arrays, {})
    store = Store(tmp_path, "classic")
    assert store.save(state).ok
    loaded = store.load().state
    for name, a in arrays.items():
        np.testing.assert_array_equal(loaded.arrays[name], a, strict=True)
    for name, t in state.tensors.items():
        assert loaded.tensors[name].shape == t.shape and torch.equal(loaded.tensors[name], t)


def test_spec_mismatch_names_every_difference():
    spec = StateSpec.of(make_state(1))
    other = make_state(1, n=400, obs_size=3)
    other.tensors.pop("adam.step")
    other.tensors["extra"] = torch.zeros(1)
    problems = spec.mismatches(other)
    assert "tensor 'adam.step' is missing" in problems
    assert "tensor 'extra' is not expected" in problems
    assert "array 'obs' is float32[400, 3], expected float32[500, 2]" in problems
    assert "obs_size is 3, expected 2" in problems
    assert spec.mismatches(make_state(7)) == []  # values may differ, the layout may not


def test_background_saver_writes_off_thread_and_reports(tmp_path):
    store = Store(tmp_path, "classic")
    saver = BackgroundSaver(store)
    caller = threading.get_ident()
    seen = []
    real_write = store.write

    def spy(snapshot):
        seen.append(threading.get_ident())
        return real_write(snapshot)

    store.write = spy
    saver.submit(store.prepare(make_state(1)))
    assert saver.wait(30)
    first = saver.poll()
    assert [(i.ok, i.generation) for i in first] == [(True, 1)]
    assert saver.poll() == []
    saver.submit(store.prepare(make_state(2)))
    infos = saver.close(30)
    assert [(i.ok, i.generation) for i in infos] == [(True, 2)]
    assert len(seen) == 2 and all(t != caller for t in seen)
    assert not saver.busy
    assert store.last_save == infos[0]
    assert Store(tmp_path, "classic").load().state.meta["k"] == 2
    with pytest.raises(RuntimeError):
        saver.submit(store.prepare(make_state(3)))


def test_background_saver_keeps_only_the_newest_waiting_snapshot(tmp_path):
    store = Store(tmp_path, "classic")
    release = threading.Event()
    started = threading.Event()
    real_write = store.write
    written = []

    def slow_write(snapshot):
        started.set()
        release.wait(30)
        info = real_write(snapshot)
        written.append(json.loads(snapshot.state_json)["k"])
        return info

    store.write = slow_write
    saver = BackgroundSaver(store)
    saver.submit(store.prepare(make_state(1)))
    assert started.wait(30)  # 1 is being written; 2 then 3 wait, 3 replaces 2
    saver.submit(store.prepare(make_state(2)))
    saver.submit(store.prepare(make_state(3)))
    assert saver.busy
    release.set()
    infos = saver.close(30)
    assert written == [1, 3]
    assert [i.ok for i in infos] == [True, True]
    assert Store(tmp_path, "classic").load().state.meta["k"] == 3


def test_move_aside_all_keeps_everything_and_starts_fresh(tmp_path):
    store = Store.for_data_dir(tmp_path, "classic")
    store.save(make_state(1))
    store.save(make_state(2))
    before = {p.name: p.read_bytes() for p in store.folder.iterdir()}
    moved = store.move_aside_all()
    assert moved.name.startswith("classic.fresh-") and moved.parent == store.folder.parent
    assert {p.name: p.read_bytes() for p in moved.iterdir()} == before
    assert store.load().state is None
    assert store.save(make_state(3)).generation == 1
    assert Store.for_data_dir(tmp_path, "classic").load().state.meta["k"] == 3
    assert Store(tmp_path / "none", "classic").move_aside_all() is None


def test_levels_do_not_share_a_folder(tmp_path):
    Store.for_data_dir(tmp_path, "classic").save(make_state(1))
    Store.for_data_dir(tmp_path, "arcade").save(make_state(2, obs_size=8, level="arcade"))
    assert Store.for_data_dir(tmp_path, "classic").load().state.meta["k"] == 1
    assert Store.for_data_dir(tmp_path, "arcade").load().state.meta["k"] == 2


def dead_pid() -> int:
    """The pid of a process that has ended (its temp files are provably abandoned)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_start_up_removes_dead_writers_temp_files_and_moves_orphans_aside(tmp_path):
    store = Store(tmp_path, "classic")
    store.save(make_state(1))
    dead = dead_pid()
    (tmp_path / f"gen-000002.memory.npz.{dead}-abcd1234{TEMP_SUFFIX}").write_bytes(b"half")
    live = tmp_path / f"gen-000002.state.json.{os.getpid()}-abcd1234{TEMP_SUFFIX}"
    live.write_bytes(b"a live writer's")  # its writer is alive: never removed
    (tmp_path / "gen-000002.weights.safetensors").write_bytes(b"never committed")
    (tmp_path / "gen-000003.memory.npz").write_bytes(b"copied in by hand")
    (tmp_path / "notes.txt").write_text("not ours")
    result = Store(tmp_path, "classic").load()
    assert result.generation == 1
    assert len(result.messages) == 1 and "unfinished save 2, 3" in result.messages[0]
    stamp = result.messages[0].rsplit("orphan-", 1)[1]
    assert files(tmp_path) == sorted([
        "gen-000001.manifest.json", "gen-000001.memory.npz", "gen-000001.state.json",
        "gen-000001.weights.safetensors", f"gen-000002.weights.safetensors.orphan-{stamp}",
        f"gen-000003.memory.npz.orphan-{stamp}", live.name, "notes.txt"])
    assert (tmp_path / f"gen-000002.weights.safetensors.orphan-{stamp}").read_bytes() \
        == b"never committed"
    assert Store(tmp_path, "classic").load().messages == []  # said once


def test_generation_numbers_are_never_reused(tmp_path):
    store = Store(tmp_path, "classic")
    store.save(make_state(1))
    (tmp_path / "gen-000007.memory.npz.corrupt-20260101T000000Z").write_bytes(b"x")
    assert store.save(make_state(2)).generation == 8


# ---- exact resume across processes with the real learner -------------------------------

RESUME_SEEDS = {"learner": 7, "world": 11}


def fly(learner, world, steps: int) -> None:
    """The game's loop without a window: act, step the world, learn, restart after a flight."""
    from game.sim.actions import JUMP

    obs = world.observation()
    for _ in range(steps):
        action = learner.act(obs)
        reward, terminated = world.step(action)
        next_obs = world.observation()
        learner.observe(obs, action, reward, next_obs, terminated, human=action == JUMP and
                        learner.env_steps % 7 == 0)  # some transitions tagged human
        if terminated:
            learner.end_episode(1.0 if reward > 0 else 0.0)
            next_obs = world.reset()
        obs = next_obs


def world_state(world) -> dict:
    """Everything a ClassicWorld needs to continue mid-flight (floats survive JSON exactly)."""
    return {"x": world.x, "y": world.y, "v_y": world.v_y, "t": world.t, "done": world.done,
            "rng": world.rng.bit_generator.state}


def restore_world(d: dict):
    from game.sim.classic import ClassicWorld

    world = ClassicWorld(seed=0)
    world.x, world.y, world.v_y, world.t, world.done = d["x"], d["y"], d["v_y"], d["t"], d["done"]
    world.rng.bit_generator.state = d["rng"]
    return world


def resume_child(folder: str, steps: int) -> None:
    """Run in a new process: load the saved learner and world, fly ``steps`` more, save."""
    from ai import Learner

    store = Store(Path(folder), "classic")
    result = store.load(build=Learner.from_state)
    assert result.messages == [] and result.built is not None, result.messages
    learner, world = result.built, restore_world(result.state.meta["world"])
    fly(learner, world, steps)
    state = learner.state()
    state.meta["world"] = world_state(world)
    info = store.save(state)
    assert info.ok, info.message


def test_resume_in_a_new_process_is_bit_identical_to_one_run(tmp_path):
    from ai import Learner, LearnerConfig
    from game.sim.classic import ClassicWorld

    # A quicker schedule than the game's, so the run crosses the learning start, target
    # syncs, the early-phase lr switch and epsilon's floor, in both halves.
    cfg = dataclasses.replace(LearnerConfig(), early_steps=500,
                              updates_per_step_early=2.0, target_sync_updates=40,
                              eps_decay_steps=300)
    n, m = 400, 400
    whole = Learner(2, cfg, seed=RESUME_SEEDS["learner"])
    whole_world = ClassicWorld(seed=RESUME_SEEDS["world"])
    fly(whole, whole_world, n + m)
    expected = whole.state()
    expected.meta["world"] = world_state(whole_world)

    first = Learner(2, cfg, seed=RESUME_SEEDS["learner"])
    world = ClassicWorld(seed=RESUME_SEEDS["world"])
    fly(first, world, n)
    assert first.updates > 0 and first.episodes > 0
    state = first.state()
    state.meta["world"] = world_state(world)
    folder = tmp_path / "learner" / "classic"
    assert Store(folder, "classic").save(state).ok

    code = ("import sys; sys.path.insert(0, sys.argv[1]); import test_store; "
            "test_store.resume_child(sys.argv[2], int(sys.argv[3]))")
    repo = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent), str(folder),
                           str(m)], cwd=repo, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]

    result = Store(folder, "classic").load(build=Learner.from_state)
    assert result.generation == 2 and result.messages == []
    resumed = result.built
    assert (resumed.env_steps, resumed.episodes, resumed.updates) == (
        whole.env_steps, whole.episodes, whole.updates)
    assert resumed.env_steps == n + m and resumed.updates > first.updates
    assert_same_state(result.state, expected)  # weights bit for bit, and everything else


def test_a_failing_build_refuses_the_generation_but_never_raises(tmp_path):
    store = Store(tmp_path, "classic")
    store.save(make_state(1))
    store.save(make_state(2))
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def picky(state):
        if state.meta["k"] == 2:
            raise ZeroDivisionError("a bug in the caller")
        return ("built", state.meta["k"])

    result = Store(tmp_path, "classic").load(build=picky)
    assert result.generation == 1 and result.built == ("built", 1)
    assert "ZeroDivisionError: a bug in the caller" in result.messages[0]
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
