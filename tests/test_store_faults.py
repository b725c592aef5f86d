"""One test per failure of the learner store: damage, refusals, pickles, NaN, kill -9, full disk."""

from __future__ import annotations

import dataclasses
import errno
import hashlib
import io
import json
import os
import pickle
import signal
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
import safetensors.torch
import torch
from test_store import assert_same_state

import ai.atomic
from ai import Learner, LearnerConfig
from ai.atomic import TEMP_SUFFIX
from ai.store.store import BackgroundSaver, LearnerState, StateSpec, Store

SUFFIX = {"weights": "weights.safetensors", "memory": "memory.npz", "state": "state.json",
          "manifest": "manifest.json"}


def make_state(k: int, n: int = 500, obs_size: int = 2, level: str = "classic") -> LearnerState:
    """A learner-like state whose every value follows from ``k``."""
    rng = np.random.default_rng(k)
    gen = torch.Generator().manual_seed(k)
    tensors = {"online.flat": torch.randn(1186, generator=gen),
               "target.flat": torch.randn(1186, generator=gen),
               "adam.step": torch.tensor([k], dtype=torch.int64),
               "torch_rng": gen.get_state()}
    arrays = {"obs": rng.standard_normal((n, obs_size)).astype(np.float32),
              "actions": rng.integers(0, 2, n),
              "human": rng.random(n) < 0.3}
    meta = {"k": k, "format_version": 1, "level": level, "obs_size": obs_size,
            "env_steps": 100 * k, "replay_rng": rng.bit_generator.state}
    return LearnerState(tensors, arrays, meta)


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def gen_file(folder: Path, generation: int, role: str) -> Path:
    return folder / f"gen-{generation:06d}.{SUFFIX[role]}"


def resign(folder: Path, generation: int, **changes) -> None:
    """Rewrites a manifest with the current files' sizes and checksums (a forger's move)."""
    path = gen_file(folder, generation, "manifest")
    body = json.loads(path.read_text())
    body.pop("manifest_sha256")
    for entry in body["files"].values():
        data = (folder / entry["name"]).read_bytes()
        entry["size"], entry["sha256"] = len(data), hashlib.sha256(data).hexdigest()
    body.update(changes)
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    body["manifest_sha256"] = hashlib.sha256(canonical).hexdigest()
    path.write_text(json.dumps(body))


def two_generations(folder: Path) -> Store:
    store = Store(folder, "classic")
    assert store.save(make_state(1)).ok and store.save(make_state(2)).ok
    return store


# ---- damage: detected, moved aside, fallback ------------------------------------------


@pytest.mark.parametrize("role", list(SUFFIX))
@pytest.mark.parametrize("damage", ["truncate", "flip"])
def test_damaged_newest_is_moved_aside_and_previous_loaded(tmp_path, role, damage):
    two_generations(tmp_path)
    path = gen_file(tmp_path, 2, role)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) // 2]
    else:
        data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    before = contents(tmp_path)

    result = Store(tmp_path, "classic").load(StateSpec.of(make_state(0)))

    assert result.generation == 1
    assert_same_state(result.state, make_state(1))
    assert "save 2 is damaged" in result.messages[0] and ".corrupt-" in result.messages[0]
    assert "\n" not in "".join(result.messages)
    after = contents(tmp_path)
    # Nothing deleted: every byte of generation 2 is still there, under a corrupt name.
    for name, data in before.items():
        if name.startswith("gen-000002."):
            moved = [n for n in after if n.startswith(name + ".corrupt-")]
            assert len(moved) == 1 and after[moved[0]] == data
        else:
            assert after[name] == data
    assert len(after) == len(before)
    assert Store(tmp_path, "classic").generations() == [1]


def test_damaged_only_generation_gives_a_fresh_learner_with_a_message(tmp_path):
    store = Store(tmp_path, "classic")
    store.save(make_state(1))
    path = gen_file(tmp_path, 1, "memory")
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    result = Store(tmp_path, "classic").load()
    assert result.state is None and result.generation is None
    assert "damaged" in result.messages[0] and "gen-000001.memory.npz fails its checksum" in \
        result.messages[0]
    assert len(result.messages) == 1 and result.messages[0].endswith("; starting fresh")
    assert sorted(p.name.split(".corrupt-")[0] for p in tmp_path.iterdir()) == [
        "gen-000001.manifest.json", "gen-000001.memory.npz", "gen-000001.state.json",
        "gen-000001.weights.safetensors"]
    # The game goes on: the next save works and is what the next start loads.
    assert store.save(make_state(5)).ok
    assert Store(tmp_path, "classic").load().state.meta["k"] == 5


def test_missing_data_file_is_damage(tmp_path):
    two_generations(tmp_path)
    gen_file(tmp_path, 2, "weights").unlink()
    result = Store(tmp_path, "classic").load()
    assert result.generation == 1 and "gen-000002.weights.safetensors is missing" in \
        result.messages[0]


# ---- refused: a clear reason, files kept ----------------------------------------------


def test_wrong_shape_is_refused_with_the_reason_and_kept(tmp_path):
    Store(tmp_path, "classic").save(make_state(1, obs_size=3))
    before = contents(tmp_path)
    result = Store(tmp_path, "classic").load(StateSpec.of(make_state(0)))
    assert result.state is None
    assert "array 'obs' is float32[500, 3], expected float32[500, 2]" in result.messages[0]
    assert "kept" in result.messages[0]
    assert contents(tmp_path) == before


def test_real_learner_refuses_a_state_with_the_wrong_net_shape(tmp_path):
    learner = Learner(2, LearnerConfig(), seed=0)
    state = learner.state()
    state.tensors["net"] = torch.zeros(10)
    Store(tmp_path, "classic").save(state)
    before = contents(tmp_path)
    result = Store(tmp_path, "classic").load(build=Learner.from_state)
    assert result.state is None and result.built is None
    assert "tensor 'net' is" in result.messages[0]
    assert "[10], expected float32[" in result.messages[0]
    assert contents(tmp_path) == before


def test_wrong_level_is_refused_and_kept(tmp_path):
    Store(tmp_path, "arcade").save(make_state(1, obs_size=8, level="arcade"))
    before = contents(tmp_path)
    result = Store(tmp_path, "classic").load()
    assert result.state is None
    assert "it is for level 'arcade', not 'classic'" in result.messages[0]
    assert contents(tmp_path) == before


def test_old_store_format_version_is_refused_and_kept(tmp_path):
    Store(tmp_path, "classic").save(make_state(1))
    resign(tmp_path, 1, format_version=0)
    before = contents(tmp_path)
    result = Store(tmp_path, "classic").load()
    assert result.state is None
    assert "format version 0, this game reads version 1" in result.messages[0]
    assert contents(tmp_path) == before


def test_old_learner_format_version_is_refused_and_kept(tmp_path):
    old = make_state(1)
    old.meta["format_version"] = 0
    Store(tmp_path, "classic").save(old)
    before = contents(tmp_path)
    result = Store(tmp_path, "classic").load(StateSpec.of(make_state(0)))
    assert result.state is None and "format_version is 0, expected 1" in result.messages[0]
    result = Store(tmp_path, "classic").load(build=Learner.from_state)
    assert result.state is None and "learner state format 0" in result.messages[0]
    assert contents(tmp_path) == before


def test_refused_newest_falls_back_and_is_never_pruned(tmp_path):
    Store(tmp_path, "classic").save(make_state(1))
    Store(tmp_path, "classic").save(make_state(2, obs_size=3))  # e.g. another game version
    refused = {n: d for n, d in contents(tmp_path).items() if n.startswith("gen-000002.")}
    store = Store(tmp_path, "classic")
    result = store.load(StateSpec.of(make_state(0)))
    assert result.generation == 1 and "save 2 not used" in result.messages[0]
    for k in (3, 4, 5):
        assert store.save(make_state(k)).ok
    after = contents(tmp_path)
    assert {n: d for n, d in after.items() if n.startswith("gen-000002.")} == refused
    assert store.generations() == [5, 4, 2]  # 1 and 3 were superseded by 4 and 5


# ---- pickles are never executed -------------------------------------------------------


class Payload:
    """Unpickling this makes a directory: the canary."""

    def __init__(self, canary: Path) -> None:
        self.canary = canary

    def __reduce__(self):
        return os.mkdir, (str(self.canary),)


def test_the_payload_really_runs_when_unpickled(tmp_path):
    # Control: proves the canary would appear if anything unpickled the payload.
    pickle.loads(pickle.dumps(Payload(tmp_path / "control")))
    assert (tmp_path / "control").is_dir()


def _object_npz(canary: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf, zf.open("obs.npy", "w") as f:
        np.lib.format.write_array(f, np.array([Payload(canary)], dtype=object),
                                  allow_pickle=True)
    return buf.getvalue()


def _torch_file(canary: Path) -> bytes:
    buf = io.BytesIO()
    torch.save({"net": Payload(canary)}, buf)
    return buf.getvalue()


@pytest.mark.parametrize("role,make", [
    ("weights", lambda c: pickle.dumps(Payload(c))),
    ("weights", _torch_file),
    ("memory", lambda c: pickle.dumps(Payload(c))),
    ("memory", _object_npz),
    ("state", lambda c: pickle.dumps(Payload(c))),
    ("manifest", lambda c: pickle.dumps(Payload(c))),
])
def test_pickle_disguised_as_a_save_file_is_never_executed(tmp_path, role, make):
    folder = tmp_path / "store"
    canary = tmp_path / "canary"
    two_generations(folder)
    gen_file(folder, 2, role).write_bytes(make(canary))
    if role != "manifest":
        resign(folder, 2)  # checksums match, so the parser itself must refuse it
    result = Store(folder, "classic").load()
    assert not canary.exists()
    assert result.generation == 1 and "save 2 is damaged" in result.messages[0]


# ---- NaN / Inf --------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_weights_on_disk_are_refused_and_kept(tmp_path, bad):
    two_generations(tmp_path)
    state = make_state(2)
    state.tensors["target.flat"][7] = bad
    gen_file(tmp_path, 2, "weights").write_bytes(safetensors.torch.save(state.tensors))
    resign(tmp_path, 2)
    before = contents(tmp_path)
    result = Store(tmp_path, "classic").load()
    assert result.generation == 1
    assert "tensor 'target.flat' holds NaN or Inf" in result.messages[0]
    assert contents(tmp_path) == before


def test_non_finite_weights_are_never_saved(tmp_path):
    store = Store(tmp_path, "classic")
    store.save(make_state(1))
    before = contents(tmp_path)
    state = make_state(2)
    state.tensors["online.flat"][0] = float("nan")
    info = store.save(state)
    assert not info.ok and "'online.flat' holds NaN or Inf" in info.message
    assert contents(tmp_path) == before


# ---- kill -9 during an autosave --------------------------------------------------------


def _leftovers(folder: Path) -> list[str]:
    """Temp files and data files of generations without a manifest (not yet moved aside)."""
    names = [p.name for p in folder.iterdir() if ".orphan-" not in p.name]
    committed = {n.split(".")[0] for n in names if n.endswith(".manifest.json")}
    return [n for n in names if n.endswith(TEMP_SUFFIX) or n.split(".")[0] not in committed]


def test_kill_9_at_random_moments_during_autosave(tmp_path):
    folder = tmp_path / "learner" / "classic"
    bases = [make_state(j, n=20_000) for j in range(40)]
    store = Store(folder, "classic")
    snaps = [store.prepare(s) for s in bases]

    def snapshot(trial: int, j: int):
        meta = dict(bases[j].meta, trial=trial)
        return dataclasses.replace(snaps[j], state_json=json.dumps(meta).encode())

    assert store.write(snapshot(-1, 0)).ok
    t0 = time.perf_counter()
    for j in range(1, 4):
        store.write(snapshot(-1, j))
    per_write = (time.perf_counter() - t0) / 3
    loaded = (-1, 3)
    rng = np.random.default_rng(2026)
    mid_save = 0
    for trial in range(100):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the writer: saves back to back, as fast as it can, until killed
            try:
                os.close(r)
                for j in range(len(snaps)):
                    os.write(w, f"s{j}\n".encode())
                    store.write(snapshot(trial, j))
                    os.write(w, f"d{j}\n".encode())
            finally:
                os._exit(0)
        os.close(w)
        time.sleep(rng.uniform(0.0, 8 * per_write))  # a random moment, not a synchronisation
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        with os.fdopen(r) as f:
            log = f.read().split()
        started = [int(x[1:]) for x in log if x[0] == "s"]
        done = [int(x[1:]) for x in log if x[0] == "d"]
        old = (trial, done[-1]) if done else loaded
        new = (trial, started[-1]) if started else loaded
        mid_save += bool(_leftovers(folder)) or len(Store(folder, "classic").generations()) > 2

        store = Store(folder, "classic")  # the next start
        had_orphans = any(not n.endswith(TEMP_SUFFIX) for n in _leftovers(folder))
        result = store.load()
        # A save killed before its manifest leaves orphans: moved aside, said in one line.
        if had_orphans:
            assert len(result.messages) == 1 and "orphan-" in result.messages[0], trial
        else:
            assert result.messages == [], (trial, result.messages)
        got = (result.state.meta["trial"], result.state.meta["k"])
        assert got in (old, new), (trial, got, old, new)
        expected = bases[got[1]]
        assert_same_state(LearnerState(result.state.tensors, result.state.arrays,
                                       dict(result.state.meta, trial=None)),
                          LearnerState(expected.tensors, expected.arrays,
                                       dict(expected.meta, trial=None)))
        assert _leftovers(folder) == [], trial
        assert len(store.generations()) <= store.keep  # pruned at the latest on load
        loaded = got
    # The kills really landed inside saves, not only between them.
    print(f"per write {per_write * 1e3:.1f} ms, kills inside a save: {mid_save}/100")
    assert mid_save >= 30, mid_save


# ---- disk full / read-only: OSError at the write, the fsync, the replace ----------------


class FaultyOs:
    """``os`` with one call failing on its ``nth`` use, as a full or read-only disk would."""

    def __init__(self, name: str, nth: int, err: int = errno.ENOSPC) -> None:
        self.name, self.nth, self.err, self.calls = name, nth, err, 0

    def __getattr__(self, attr):
        real = getattr(os, attr)
        if attr != self.name:
            return real

        def faulty(*args, **kwargs):
            self.calls += 1
            if self.calls == self.nth:
                raise OSError(self.err, os.strerror(self.err))
            return real(*args, **kwargs)
        return faulty


# A save makes 4 writes and 4 replaces (3 data files, then the manifest) and 6 fsyncs (4 files,
# the folder after the data files, the folder after the manifest): first and last of each.
@pytest.mark.parametrize("name,nth", [("write", 1), ("write", 4), ("fsync", 1), ("fsync", 6),
                                      ("replace", 1), ("replace", 4)])
def test_os_error_during_save_keeps_the_old_save_and_reports(tmp_path, monkeypatch, name, nth):
    store = Store(tmp_path, "classic")
    assert store.save(make_state(1)).ok
    before = contents(tmp_path)
    faulty = FaultyOs(name, nth)
    monkeypatch.setattr(ai.atomic, "os", faulty)
    info = store.save(make_state(2))
    monkeypatch.undo()
    assert faulty.calls >= nth  # the fault was really hit
    assert not info.ok and info.generation is None
    assert info.message.startswith("could not save the classic learner: No space left on device")
    assert store.last_save == info
    assert contents(tmp_path) == before  # old save untouched, nothing half-written left
    result = Store(tmp_path, "classic").load()
    assert result.generation == 1 and result.messages == []
    assert store.save(make_state(3)).ok  # once the disk has room again, saving works


def test_read_only_disk_during_background_save_is_reported_by_poll(tmp_path, monkeypatch):
    store = Store(tmp_path, "classic")
    store.save(make_state(1))
    monkeypatch.setattr(ai.atomic, "os", FaultyOs("replace", 1, errno.EROFS))
    saver = BackgroundSaver(store)
    saver.submit(store.prepare(make_state(2)))
    infos = saver.close(30)
    assert [i.ok for i in infos] == [False]
    assert "Read-only file system" in infos[0].message
    monkeypatch.undo()
    assert Store(tmp_path, "classic").load().state.meta["k"] == 1


def test_save_into_an_unwritable_place_is_reported(tmp_path):
    (tmp_path / "file").write_text("a file where the folder should be")
    info = Store(tmp_path / "file" / "learner", "classic").save(make_state(1))
    assert not info.ok and "could not save" in info.message
