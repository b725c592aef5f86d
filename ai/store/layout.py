"""The store's file layout and result types: names, caps, checksums, and what a load returns.

Shared by the lock, the reader and the writer of ``ai.store.store``; import the public names
from ``ai.store.store``.
"""

from __future__ import annotations

import errno
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

from ai.learner import LearnerState

FORMAT_VERSION = 1
"""Version of the store's file layout; a generation with another version is refused."""

KEEP = 2
"""Generations of the current chain kept by default: the newest and the one before."""

ROLES = {"weights": "weights.safetensors", "memory": "memory.npz", "state": "state.json"}
"""The data files of one generation: role -> file name suffix."""

MANIFEST_SUFFIX = "manifest.json"
MAX_BYTES = {"manifest": 256 * 1024, "state": 16 * 2**20, "weights": 256 * 2**20,
             "memory": 4 * 2**30}
"""The largest file of each kind a load reads. A manifest is about a kilobyte; the state
JSON holds counters, RNG states and a bounded curve; the memory file is capped by the
caller from the replay capacity (``memory_cap_bytes``), this is only the default."""
LEGACY_META = {"physics_version": "1"}
"""Meta of manifests written before they recorded any: every such save was made under
physics version 1, the only one there was."""
NO_SPACE = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
"""The errnos of a full disk (or quota): a save then makes room and retries once."""
DEFAULT_META_KEYS = ("format_version", "level", "obs_size", "physics_version")
"""Meta entries ``StateSpec.of`` requires to be equal, when the template has them."""

GEN_FILE = re.compile(r"^gen-(\d+)\.(.+)$")
GEN_DIGITS = 6


def gen_name(generation: int, suffix: str) -> str:
    """The file name of one file of a generation, e.g. ``gen-000007.state.json``."""
    return f"gen-{generation:0{GEN_DIGITS}d}.{suffix}"


def sha256_hex(data: bytes | memoryview) -> str:
    """The SHA-256 of ``data`` as hex."""
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj: Any) -> bytes:
    """``obj`` as JSON with sorted keys and no spaces: the bytes a manifest's checksum covers."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def learner_folder(data_dir: Path, level: str) -> Path:
    """Where ``level``'s learner state lives inside the data folder."""
    return Path(data_dir) / "learner" / level


def memory_cap_bytes(slots: int, obs_size: int) -> int:
    """A generous bound on the memory file of a replay memory with ``slots`` transitions.

    Per slot the replay keeps two float32 observations, an int64 action, a float32
    reward and termination and a bool tag (``ai.replay.ReplayMemory``): 8 * obs + 17
    bytes. Twice that plus 16 MiB means a small layout change never makes a good save
    look damaged, while a file in place of it can still not fill the machine's memory.
    """
    return 2 * int(slots) * (8 * int(obs_size) + 17) + 16 * 2**20


@dataclass(frozen=True)
class Snapshot:
    """A learner state serialised in memory by ``Store.prepare``; safe to write on any thread.

    It shares nothing with the live learner, so the learner may keep training while
    ``Store.write`` puts the snapshot on disk.
    """

    weights: bytes
    """The safetensors file, complete."""
    arrays: dict[str, np.ndarray]
    """Private copies of the state's numpy arrays (serialised by ``write``)."""
    state_json: bytes
    """The meta as UTF-8 JSON."""


@dataclass(frozen=True)
class SaveInfo:
    """The outcome of one save: shown by the HUD, never raised."""

    ok: bool
    """True if the new generation is on disk (durably) and will be loaded next time."""
    message: str
    """One line for the HUD and the terminal."""
    generation: int | None = None
    """Number of the generation written (None if the save failed)."""
    size_bytes: int = 0
    """Bytes written, all files of the generation."""
    seconds: float = 0.0
    """Wall time of the disk part (``write``)."""
    finished_at: float = 0.0
    """``time.time()`` when the save finished (for "last saved 12:03")."""


@dataclass(frozen=True)
class LoadResult:
    """The outcome of a load: a state to resume, or None for a fresh learner, and what happened."""

    state: LearnerState | None
    """The newest good state, or None: start a fresh learner."""
    messages: list[str]
    """One line per problem met (damaged or refused generations), for HUD and terminal."""
    generation: int | None = None
    """Number of the generation loaded."""
    built: Any = None
    """What ``load(build=...)`` made of the state (e.g. the ``Learner``), else None."""


class _Shape(NamedTuple):
    shape: tuple[int, ...]
    dtype: str

    def __str__(self) -> str:
        return f"{self.dtype}{list(self.shape)}"


@dataclass(frozen=True)
class StateSpec:
    """What a loadable state must look like: names, shapes and dtypes, and some meta values.

    Exact: a tensor or array missing, extra, or of another shape or dtype is a mismatch.
    For ``ai.Learner`` states prefer ``Store.load(build=Learner.from_state)``: its Adam
    tensors exist only after the first gradient step, so a fresh learner's state is not
    a template for a trained one.
    """

    tensors: dict[str, _Shape]
    """Tensor name -> (shape, dtype), e.g. ``((32, 2), 'float32')``."""
    arrays: dict[str, _Shape]
    """Array name -> (shape, dtype)."""
    meta: dict[str, Any] = field(default_factory=dict)
    """Meta keys whose saved value must equal this one (e.g. the learner's format version)."""

    @classmethod
    def of(cls, state: LearnerState, meta_keys: tuple[str, ...] = DEFAULT_META_KEYS
           ) -> StateSpec:
        """The spec a state satisfies; pass a fresh learner's state as the template."""
        return cls(
            tensors={k: _tensor_shape(v) for k, v in state.tensors.items()},
            arrays={k: _array_shape(v) for k, v in state.arrays.items()},
            meta={k: state.meta[k] for k in meta_keys if k in state.meta},
        )

    def mismatches(self, state: LearnerState) -> list[str]:
        """What in ``state`` differs from the spec, one short phrase each (empty if it fits)."""
        out: list[str] = []
        for kind, want, have, shape_of in (
                ("tensor", self.tensors, state.tensors, _tensor_shape),
                ("array", self.arrays, state.arrays, _array_shape)):
            for name in sorted(want.keys() - have.keys()):
                out.append(f"{kind} {name!r} is missing")
            for name in sorted(have.keys() - want.keys()):
                out.append(f"{kind} {name!r} is not expected")
            for name in sorted(want.keys() & have.keys()):
                got = shape_of(have[name])
                if got != want[name]:
                    out.append(f"{kind} {name!r} is {got}, expected {want[name]}")
        for key, value in sorted(self.meta.items()):
            if key not in state.meta:
                out.append(f"meta {key!r} is missing")
            elif state.meta[key] != _json_roundtrip(value):
                out.append(f"{key} is {state.meta[key]!r}, expected {value!r}")
        return out


def _tensor_shape(t: torch.Tensor) -> _Shape:
    return _Shape(tuple(t.shape), str(t.dtype).removeprefix("torch."))


def _array_shape(a: np.ndarray) -> _Shape:
    return _Shape(tuple(a.shape), str(a.dtype))


def _json_roundtrip(value: Any) -> Any:
    # A template's tuple (e.g. hidden sizes) comes back from JSON as a list.
    return json.loads(json.dumps(value))


class Damaged(Exception):
    """A generation's files are not what its manifest says (or unparsable): move aside."""


class Refused(Exception):
    """A generation is intact but unusable here (version, level, shapes, NaN): keep it."""


class Outdated(Exception):
    """A generation learned under another physics version: moved aside, never loaded again."""

    def __init__(self, reason: str, tag: str) -> None:
        super().__init__(reason)
        self.tag = tag
