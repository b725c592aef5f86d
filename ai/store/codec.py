"""A learner state to and from the bytes of a generation's three data files.

Nothing is ever parsed with pickle: tensors go through safetensors, arrays through
``np.load(..., allow_pickle=False)`` and the meta through ``json``. A parse error is
``Damaged`` (the generation is moved aside); a state that cannot be saved is ``StateError``.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from ai.atomic import parse_json
from ai.errors import StateError
from ai.learner import LearnerState
from ai.store.layout import Damaged, Snapshot


def snapshot_of(state: LearnerState, level: str, copy: bool = True) -> Snapshot:
    """Copies and serialises ``state`` in memory (what ``Store.prepare`` does).

    Raises:
        StateError: A tensor holds NaN/Inf, an array holds Python objects, or the meta
            is not JSON.
    """
    tensors = {}
    for name, t in state.tensors.items():
        if not isinstance(t, torch.Tensor):
            raise StateError(f"state tensor {name!r} is a {type(t).__name__}, not a tensor")
        t = t.detach().to("cpu", copy=True).contiguous()
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            raise StateError(f"not saving: tensor {name!r} holds NaN or Inf")
        tensors[name] = t
    arrays = {}
    for name, a in state.arrays.items():
        if not isinstance(a, np.ndarray) or a.dtype.hasobject:
            raise StateError(f"state array {name!r} must be a numeric numpy array")
        arrays[name] = np.array(a, copy=True, order="C") if copy else a
    try:
        state_json = json.dumps(state.meta, sort_keys=True).encode()
    except (TypeError, ValueError) as exc:
        raise StateError(f"state meta is not JSON: {exc}") from None
    weights = save_safetensors(
        tensors, metadata={"format": "gravity-flyer learner", "level": level})
    return Snapshot(weights=weights, arrays=arrays, state_json=state_json)


def snapshot_blobs(snapshot: Snapshot) -> dict[str, list[bytes | memoryview]]:
    """The bytes of each data file of ``snapshot``, by role, as lists of buffers."""
    return {"weights": [snapshot.weights], "memory": npz_chunks(snapshot.arrays),
            "state": [snapshot.state_json]}


class _ChunkSink:
    """A write-only stream that keeps the buffers it is given, uncopied (for ``zipfile``)."""

    def __init__(self) -> None:
        self.chunks: list[bytes | memoryview] = []
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        n = memoryview(data).nbytes
        self.chunks.append(data)
        self.size += n
        return n

    def tell(self) -> int:
        return self.size

    def flush(self) -> None:
        pass


def npz_chunks(arrays: Mapping[str, np.ndarray]) -> list[bytes | memoryview]:
    """An uncompressed ``.npz`` as a list of buffers, the arrays' memory itself included.

    Same format as ``np.savez`` (any array name is allowed, though). No array is copied:
    copies of megabytes hold the GIL and would stall the game's thread, while the CRC,
    the checksum and ``os.write`` all release it.
    """
    sink = _ChunkSink()
    # The sink cannot seek, so zipfile writes sizes and CRCs after each member.
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, a in arrays.items():
            if not a.flags.c_contiguous:  # (np.ascontiguousarray would make 0-d arrays 1-d)
                a = np.array(a, order="C")
            header = io.BytesIO()
            fields = np.lib.format.header_data_from_array_1_0(a)
            try:
                np.lib.format.write_array_header_1_0(header, fields)
            except ValueError:  # a header over 64 KiB (thousands of fields) needs 2.0
                header = io.BytesIO()
                np.lib.format.write_array_header_2_0(header, fields)
            with zf.open(f"{name}.npy", "w", force_zip64=True) as f:
                f.write(header.getvalue())
                f.write(memoryview(a.reshape(-1).view(np.uint8)))
    return sink.chunks


def parse_state(blobs: Mapping[str, bytes]) -> LearnerState:
    """The state held by the three data files' bytes (by role); raises ``Damaged``."""
    return LearnerState(parse_weights(blobs["weights"]), parse_npz(blobs["memory"]),
                        parse_meta(blobs["state"]))


def parse_weights(data: bytes) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file."""
    try:
        # safetensors parses a JSON header and raw tensor bytes; nothing is unpickled.
        return dict(load_safetensors(data))
    except Exception as exc:  # safetensors raises its own error types for bad headers
        raise Damaged(f"the weights file is not safetensors ({type(exc).__name__})") from None


def parse_npz(data: bytes) -> dict[str, np.ndarray]:
    """The arrays of a plain (stored, unpickled) ``.npz`` file."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                # We write stored members only; refusing others rules out a zip bomb.
                if info.compress_type != zipfile.ZIP_STORED or info.file_size > len(data):
                    raise Damaged(f"the memory file has an unexpected member {info.filename!r}")
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except Damaged:
        raise
    except Exception as exc:  # zipfile.BadZipFile, ValueError (pickled data), OSError...
        raise Damaged(f"the memory file is not a plain .npz ({type(exc).__name__})") from None


def parse_meta(data: bytes) -> dict[str, Any]:
    """The meta of a state file (a JSON object)."""
    try:
        meta = parse_json(data)
    except ValueError:  # RecursionError of deep nesting included
        raise Damaged("the state file is not valid JSON") from None
    if not isinstance(meta, dict):
        raise Damaged("the state file is not a JSON object")
    return meta
