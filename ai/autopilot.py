"""Pilot files: a frozen, greedy Q-network saved as safetensors with checked metadata.

The pilot knows nothing of the game: what it was trained for (a level name, a physics
version, ...) is caller-given metadata, stored as strings and checked on load against
what the caller expects (``Autopilot.load(path, expect={...})``).
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path

import numpy as np
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from ai.atomic import atomic_write_bytes, read_named_file
from ai.errors import PilotError
from ai.mlp import layer_names, layer_shapes, numpy_forward

PILOT_FORMAT = "gravity-flyer-pilot"
"""The ``format`` metadata value every pilot file carries."""
PILOT_FORMAT_VERSION = 1
"""Bumped whenever the pilot file layout changes; other versions are refused."""
MAX_PILOT_BYTES = 16 * 1024 * 1024
"""Larger files are refused before they are read."""
MAX_HEADER_BYTES = 1024 * 1024
"""A safetensors header longer than this is not a pilot file."""
SHAPE_KEYS = ("format", "format_version", "obs_size", "hidden", "n_actions")
"""Metadata the file format itself writes; caller metadata may not use these names."""


class Autopilot:
    """A greedy pilot: the Q-network's weights in numpy, and what they were trained for.

    Args:
        layers: weight, bias, weight, bias, ... of the network, first layer first.
        meta: what the pilot was trained for (strings; e.g. ``{"level": "arcade"}``); saved
            as top-level metadata, so it may not use the format's own keys or ``card.``.
        card: the model card (JSON-able values).
    """

    def __init__(self, layers: list[np.ndarray], meta: Mapping[str, str] | None = None,
                 card: dict | None = None) -> None:
        self.meta = {str(k): str(v) for k, v in (meta or {}).items()}
        clash = {k for k in self.meta if k in SHAPE_KEYS or k.startswith("card.")}
        if clash:
            raise ValueError(f"pilot metadata may not set {sorted(clash)}")
        self.layers = [np.ascontiguousarray(w, dtype=np.float32) for w in layers]
        self.sizes = (self.layers[0].shape[1], *(w.shape[0] for w in self.layers[0::2]))
        self.card = dict(card or {})

    @property
    def obs_size(self) -> int:
        """Observation length the network takes."""
        return self.sizes[0]

    @property
    def metadata(self) -> dict[str, str]:
        """The safetensors metadata written by ``save`` (all values are strings)."""
        meta = {f"card.{k}": v if isinstance(v, str) else json.dumps(v)
                for k, v in self.card.items()}
        meta.update(format=PILOT_FORMAT, format_version=str(PILOT_FORMAT_VERSION), **self.meta,
                    obs_size=str(self.obs_size), hidden=",".join(str(h) for h in self.sizes[1:-1]),
                    n_actions=str(self.sizes[-1]))
        return meta

    def check(self, expect: Mapping[str, str], where: object = "pilot") -> None:
        """Raises ``PilotError`` unless every ``expect`` entry matches the pilot's metadata.

        ``expect`` may name any metadata key, ``obs_size`` included; values compare as
        strings. ``where`` names the pilot in the message (its path).
        """
        have = self.metadata
        for key, want in expect.items():
            if key not in have:
                raise PilotError(f"{where} is not a pilot for {_words(key)} {want} "
                                 f"(it has no {key!r} metadata)")
            if have[key] != str(want):
                raise PilotError(f"{where} is a pilot for {_words(key)} {have[key]}, "
                                 f"not {want}")

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of FALL and JUMP for ``obs``, shape ``(2,)`` (or ``(B, 2)`` for a batch)."""
        return numpy_forward(self.layers, np.asarray(obs, dtype=np.float32))

    def act(self, obs: np.ndarray) -> int:
        """The greedy action for one observation."""
        return int(numpy_forward(self.layers, obs).argmax())

    def act_batch(self, obs: np.ndarray) -> np.ndarray:
        """Greedy actions for observations ``(B, obs)``."""
        return numpy_forward(self.layers, obs).argmax(1)

    def to_bytes(self, card: dict | None = None) -> bytes:
        """The pilot file's bytes (safetensors), with ``card`` merged into the model card."""
        if card:
            self.card.update(card)
        tensors = dict(zip(layer_names(self.sizes), self.layers, strict=True))
        return st_save(tensors, metadata=self.metadata)

    def save(self, path: str | os.PathLike, card: dict | None = None) -> None:
        """Writes the pilot atomically to ``path`` (safetensors + metadata + model card)."""
        atomic_write_bytes(Path(path), self.to_bytes(card))

    @classmethod
    def load(cls, path: str | os.PathLike, expect: Mapping[str, str] | None = None
             ) -> Autopilot:
        """Reads and checks a pilot file; raises ``PilotError`` with a one-line reason.

        The size is checked before the file is read, so a huge file never causes a large
        allocation. Nothing is unpickled.

        Args:
            expect: metadata the pilot must carry, e.g. ``{"level": "arcade",
                "physics_version": "2", "obs_size": "8"}`` (see ``check``).
        """
        path = Path(path)
        data = read_named_file(path, MAX_PILOT_BYTES, "pilot files", "pilot")
        if len(data) < 8:
            raise PilotError(f"{path} is not a safetensors file (too short)")
        (n,) = struct.unpack("<Q", data[:8])
        if n < 2 or n > min(MAX_HEADER_BYTES, len(data) - 8):
            raise PilotError(f"{path} is not a safetensors file (bad header length)")
        header_bytes = data[8:8 + n]
        try:
            header = json.loads(header_bytes)
            if not isinstance(header, dict):
                raise ValueError("header is not an object")
        except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting: RecursionError
            raise PilotError(f"{path} is not a safetensors file (unreadable header)") from None
        meta = header.get("__metadata__") or {}
        # safetensors' metadata is a flat object of strings; anything else (a string, a
        # number, a list, nested objects) is not a pilot's, and ``need`` would trip on it.
        if not isinstance(meta, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
            raise PilotError(f"{path} is not a Gravity Flyer pilot (its metadata is not a "
                             "table of strings)")
        pilot = cls._from_checked(path, data, meta)
        pilot.check(expect or {}, where=path)
        return pilot

    @classmethod
    def _from_checked(cls, path: Path, data: bytes, meta: dict) -> Autopilot:
        def need(key: str) -> str:
            if key not in meta:
                raise PilotError(f"{path} is not a Gravity Flyer pilot (no {key!r} metadata)")
            return str(meta[key])

        if need("format") != PILOT_FORMAT:
            raise PilotError(f"{path} is not a Gravity Flyer pilot (format {meta['format']!r})")
        if need("format_version") != str(PILOT_FORMAT_VERSION):
            raise PilotError(f"{path} has pilot format version {meta['format_version']}, "
                             f"this game reads version {PILOT_FORMAT_VERSION}")
        try:
            obs_size = int(need("obs_size"))
            hidden = tuple(int(h) for h in need("hidden").split(",") if h)
            n_actions = int(need("n_actions"))
        except ValueError:
            raise PilotError(f"{path} has malformed size metadata") from None
        if n_actions != 2 or not hidden or min(hidden) < 1:
            raise PilotError(f"{path} has an unsupported network shape")
        sizes = (obs_size, *hidden, n_actions)
        try:
            tensors = st_load(data)
        except Exception as exc:  # safetensors raises its own error types for bad bytes
            raise PilotError(f"{path} is not a readable safetensors file ({type(exc).__name__})"
                             ) from None
        names, shapes = layer_names(sizes), layer_shapes(sizes)
        if set(tensors) != set(names):
            raise PilotError(f"{path} holds tensors {sorted(tensors)}, expected {names}")
        layers = []
        for name, shape in zip(names, shapes, strict=True):
            w = tensors[name]
            if w.shape != shape or w.dtype != np.float32:
                raise PilotError(f"{path}: {name} is {w.dtype}{list(w.shape)}, "
                                 f"expected float32{list(shape)}")
            if not np.isfinite(w).all():
                raise PilotError(f"{path}: {name} holds NaN or Inf")
            layers.append(w)
        card, tags = {}, {}
        for key, value in meta.items():
            if key.startswith("card."):
                try:
                    card[key[5:]] = json.loads(value)
                except ValueError:
                    card[key[5:]] = value
            elif key not in SHAPE_KEYS:
                tags[key] = str(value)
        return cls(layers, meta=tags, card=card)

    def __repr__(self) -> str:
        return f"Autopilot(meta={self.meta!r}, sizes={list(self.sizes)})"


def _words(key: str) -> str:
    return key.replace("_", " ")


