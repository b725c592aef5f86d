"""Pilot files: round trip, and every refusal (size, format, metadata, weights)."""

from __future__ import annotations

import json
import os
import pickle

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from ai import Autopilot, Learner, PilotError
from ai.autopilot import MAX_PILOT_BYTES

META = {"level": "classic", "physics_version": "1"}


def pilot(obs_size: int = 2, seed: int = 0, meta: dict | None = None) -> Autopilot:
    return Learner(obs_size, seed=seed, meta=META if meta is None else meta).autopilot()


def rewrite(path, tensors=None, **meta_changes: str) -> None:
    """Rewrites a pilot file with changed metadata or tensors (a forged or foreign file)."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        meta = json.loads(f.read(n))["__metadata__"]
    save_file(tensors if tensors is not None else load_file(path), path,
              metadata={**meta, **meta_changes})


def test_round_trip_keeps_weights_metadata_and_card(tmp_path) -> None:
    p = pilot(seed=3)
    path = tmp_path / "p.safetensors"
    p.save(path, card={"note": "hello", "steps": 300})
    back = Autopilot.load(path, expect={**META, "obs_size": "2"})
    for a, b in zip(p.layers, back.layers, strict=True):
        np.testing.assert_array_equal(a, b)
    meta = back.metadata
    assert meta["level"] == "classic" and meta["obs_size"] == "2" and meta["hidden"] == "32,32"
    assert meta["format_version"] == "1" and meta["physics_version"] == "1"
    assert back.meta == META
    assert back.card["note"] == "hello" and back.card["steps"] == 300
    obs = np.array([0.1, -0.3], np.float32)
    assert back.act(obs) == p.act(obs) == int(np.argmax(p.q_values(obs)))
    assert back.act_batch(np.stack([obs, -obs])).shape == (2,)


def test_other_sizes_and_no_metadata_round_trip(tmp_path) -> None:
    path = tmp_path / "a.safetensors"
    pilot(8, meta={}).save(path)
    back = Autopilot.load(path)
    assert back.obs_size == 8 and back.meta == {}


@pytest.mark.parametrize(("expect", "message"), [
    ({"level": "arcade"}, "pilot for level classic, not arcade"),
    ({"physics_version": "2"}, "pilot for physics version 1, not 2"),
    ({"obs_size": "8"}, "pilot for obs size 2, not 8"),
    ({"course": "x"}, "not a pilot for course x"),
])
def test_what_the_caller_expects_is_checked(tmp_path, expect: dict, message: str) -> None:
    path = tmp_path / "p.safetensors"
    pilot().save(path)
    with pytest.raises(PilotError, match=message):
        Autopilot.load(path, expect=expect)
    Autopilot.load(path, expect={**META, "obs_size": "2"})  # what it is for is accepted


def test_caller_metadata_cannot_hide_the_shape() -> None:
    with pytest.raises(ValueError, match="obs_size"):
        pilot(meta={"obs_size": "8"})


@pytest.mark.parametrize(("key", "value", "message"), [
    ("obs_size", "8", "expected float32"),
    ("format_version", "99", "format version 99"),
    ("format", "something-else", "not a Gravity Flyer pilot"),
    ("hidden", "16,16", "expected float32"),
    ("hidden", "abc", "malformed"),
])
def test_metadata_mismatch_is_refused(tmp_path, key: str, value: str, message: str) -> None:
    path = tmp_path / "p.safetensors"
    pilot().save(path)
    rewrite(path, **{key: value})
    with pytest.raises(PilotError, match=message):
        Autopilot.load(path)


def test_missing_metadata_is_refused(tmp_path) -> None:
    path = tmp_path / "plain.safetensors"
    save_file({"x": np.zeros(3, np.float32)}, path)
    with pytest.raises(PilotError, match="not a Gravity Flyer pilot"):
        Autopilot.load(path)


def test_nan_weights_are_refused(tmp_path) -> None:
    path = tmp_path / "p.safetensors"
    pilot().save(path)
    tensors = load_file(path)
    tensors["layers.1.weight"][0, 0] = np.nan
    rewrite(path, tensors=tensors)
    with pytest.raises(PilotError, match="NaN or Inf"):
        Autopilot.load(path)


def test_oversized_file_is_refused_before_reading(tmp_path) -> None:
    path = tmp_path / "huge.safetensors"
    with open(path, "wb") as f:  # sparse: no real 17 MB written
        f.truncate(MAX_PILOT_BYTES + 1)
    with pytest.raises(PilotError, match="at most 16 MB"):
        Autopilot.load(path)


def test_pickle_and_junk_are_refused_and_never_run(tmp_path) -> None:
    canary = tmp_path / "canary"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {canary}",))

    for name, data in [("evil.safetensors", pickle.dumps(Payload())),
                       ("text.safetensors", b"hello, this is not a pilot"),
                       ("empty.safetensors", b""),
                       ("huge_header.safetensors", (2**40).to_bytes(8, "little") + b"{}")]:
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(PilotError, match="not a safetensors file"):
            Autopilot.load(path)
    assert not canary.exists()


def test_truncated_file_is_refused(tmp_path) -> None:
    path = tmp_path / "p.safetensors"
    pilot().save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(PilotError):
        Autopilot.load(path)


def test_missing_file_and_folder_are_refused(tmp_path) -> None:
    with pytest.raises(PilotError, match="no pilot file"):
        Autopilot.load(tmp_path / "nope.safetensors")
    with pytest.raises(PilotError):
        Autopilot.load(tmp_path)
