"""ONNX policies in and out: any greedy policy as an ONNX graph, read without running code.

Out: ``mlp_to_onnx`` writes a pilot's MLP (the ``ai.mlp`` layout) as a graph of ``Gemm`` and
``Relu`` nodes, with the caller's metadata (a pilot's card) in ``metadata_props``;
``torch_to_onnx`` exports any torch module (the examples' SB3 and RLlib networks).

In: ``OnnxPolicy.load`` reads a graph that maps a batch of observations ``(B, obs)`` to
Q-values or action logits ``(B, n_actions)``; the policy takes the argmax. ONNX is protobuf,
so parsing it executes nothing, which keeps the no-pickle rule. The graph is run by
``onnxruntime`` when it is installed, else by a small numpy interpreter of the plain MLP ops
(``NUMPY_OPS``); ``OnnxPolicy.engine`` says which.

Rules: knows no game (what a policy is for is metadata the caller checks, as for
``ai.autopilot``); ``onnx`` and ``onnxruntime`` are optional and imported only when used;
every way a file can be wrong (too big, truncated, external data, control flow, unknown
ops, wrong input size, tensors too large, a graph that fails to run) is a ``PilotError``
with a one-line reason, raised before anything large is allocated where that can be known.
"""

from __future__ import annotations

import io
import json
import os
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ai.atomic import atomic_write_bytes, read_named_file
from ai.errors import PilotError

MAX_ONNX_BYTES = 64 * 1024 * 1024
"""Larger files are refused before they are read."""
MAX_VALUES = 16 * 1024 * 1024
"""Most float values the weights may hold in all, and any one tensor the graph computes for
one observation (shape inference bounds it before anything runs)."""
MAX_NODES = 10_000
"""A policy graph with more nodes than this is refused."""
NUMPY_OPS = frozenset({"Gemm", "MatMul", "Add", "Relu", "Tanh", "Identity", "Cast", "Flatten"})
"""The ops the numpy forward runs: a plain MLP (Tanh for PPO's networks; the Cast to float and
Flatten that Stable-Baselines3's exported policies start with)."""
REFUSED_OPS = frozenset({"Loop", "If", "Scan"})
"""Control flow: a policy needs none, and a loop's length is not bounded by its file."""
INPUT_NAME = "obs"
OUTPUT_NAME = "q_values"
OPSET = 17
"""The ONNX opset of the graphs written here (onnxruntime 1.14 and newer run it)."""
INSTALL_HINT = "pip install 'gravity-flyer[onnx]'"
FLOAT = 1
"""``TensorProto.FLOAT``: the element type of observations and outputs."""


def require_onnx() -> Any:
    """The onnx package; ``PilotError`` (one line, with the install command) if missing."""
    try:
        import onnx
    except ImportError:
        raise PilotError(f"reading and writing ONNX needs the onnx package ({INSTALL_HINT})"
                         ) from None
    return onnx


def onnxruntime_version() -> str | None:
    """The installed onnxruntime's version, or None when it is not installed."""
    try:
        import onnxruntime
    except ImportError:
        return None
    return str(onnxruntime.__version__)


# ---- out ------------------------------------------------------------------------------------

def mlp_to_onnx(layers: list[np.ndarray], metadata: Mapping[str, str] | None = None) -> bytes:
    """The MLP ``[W0, b0, W1, b1, ...]`` (torch ``Linear`` layout) as ONNX bytes.

    Input ``obs`` is ``(batch, obs_size)`` float32, output ``q_values`` is
    ``(batch, n_actions)``; ``metadata`` goes into ``metadata_props`` (strings).
    """
    onnx = require_onnx()
    from onnx import TensorProto, helper, numpy_helper

    inits, nodes, x = [], [], INPUT_NAME
    n_layers = len(layers) // 2
    for i in range(n_layers):
        w = np.ascontiguousarray(layers[2 * i], dtype=np.float32)
        b = np.ascontiguousarray(layers[2 * i + 1], dtype=np.float32)
        inits += [numpy_helper.from_array(w, f"layers.{i}.weight"),
                  numpy_helper.from_array(b, f"layers.{i}.bias")]
        y = OUTPUT_NAME if i == n_layers - 1 else f"h{i}"
        nodes.append(helper.make_node("Gemm", [x, f"layers.{i}.weight", f"layers.{i}.bias"],
                                      [y], transB=1, name=f"linear{i}"))
        if i < n_layers - 1:
            nodes.append(helper.make_node("Relu", [y], [f"a{i}"], name=f"relu{i}"))
            y = f"a{i}"
        x = y
    obs_size, n_actions = layers[0].shape[1], layers[-1].shape[0]
    graph = helper.make_graph(
        nodes, "policy",
        [helper.make_tensor_value_info(INPUT_NAME, TensorProto.FLOAT, ["batch", obs_size])],
        [helper.make_tensor_value_info(OUTPUT_NAME, TensorProto.FLOAT, ["batch", n_actions])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="gravity-flyer")
    model.ir_version = 8  # what opset 17 needs; older runtimes refuse newer IR versions
    helper.set_model_props(model, {str(k): str(v) for k, v in (metadata or {}).items()})
    onnx.checker.check_model(model)
    return model.SerializeToString()


def torch_to_onnx(module: Any, obs_size: int, metadata: Mapping[str, str] | None = None
                  ) -> bytes:
    """Any torch module ``(B, obs_size) -> (B, n_actions)`` as ONNX bytes, with metadata.

    Uses torch's TorchScript exporter (``dynamo=False``), which needs nothing beyond torch
    and ``onnx``; its deprecation warning is silenced here.
    """
    onnx = require_onnx()
    import torch

    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(module, (torch.zeros(1, obs_size),), buf, dynamo=False,
                          input_names=[INPUT_NAME], output_names=[OUTPUT_NAME],
                          dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
                          opset_version=OPSET)
    model = onnx.load_model_from_string(buf.getvalue())
    from onnx import helper

    helper.set_model_props(model, {str(k): str(v) for k, v in (metadata or {}).items()})
    return model.SerializeToString()


def save_onnx(path: str | os.PathLike, data: bytes) -> None:
    """Writes ONNX bytes atomically."""
    atomic_write_bytes(Path(path), data)


# ---- in -------------------------------------------------------------------------------------

class OnnxPolicy:
    """A greedy policy read from an ONNX file: observations in, the argmax action out.

    Made by ``load``. ``metadata`` is the file's ``metadata_props``; ``engine`` names what
    runs the graph (``onnxruntime X`` or ``numpy``); ``layers`` is the MLP's weights when
    the graph is a plain chain of ``Gemm``/``Relu`` (as ``mlp_to_onnx`` writes), else None.
    """

    def __init__(self, run: Callable[[np.ndarray], np.ndarray], obs_size: int,
                 n_actions: int, metadata: dict[str, str], engine: str,
                 fixed_batch: bool, layers: list[np.ndarray] | None, nodes: int) -> None:
        self._run = run
        self.obs_size = obs_size
        self.n_actions = n_actions
        self.metadata = metadata
        self.engine = engine
        self.fixed_batch = fixed_batch
        """The graph takes one observation at a time (its batch dimension is fixed at 1)."""
        self.layers = layers
        self.nodes = nodes
        self.notes: list[str] = []
        """One-line notes the caller adds (what it assumed, what runs the graph)."""

    @property
    def card(self) -> dict[str, Any]:
        """The model card: the ``card.<key>`` metadata entries, JSON values decoded."""
        card: dict[str, Any] = {}
        for key, value in self.metadata.items():
            if key.startswith("card."):
                try:
                    card[key[5:]] = json.loads(value)
                except ValueError:
                    card[key[5:]] = value
        return card

    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths of an MLP graph; ``(obs_size, n_actions)`` for any other graph."""
        if self.layers is None:
            return (self.obs_size, self.n_actions)
        return (self.layers[0].shape[1], *(w.shape[0] for w in self.layers[0::2]))

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """The graph's outputs for ``obs`` ``(obs,)`` or ``(B, obs)``: ``(n,)`` or ``(B, n)``."""
        x = np.asarray(obs, dtype=np.float32)
        single = x.ndim == 1
        x = x.reshape(1, -1) if single else x
        if self.fixed_batch and len(x) != 1:
            out = np.concatenate([self._run(x[i:i + 1]) for i in range(len(x))])
        else:
            out = self._run(x)
        return out[0] if single else out

    def act(self, obs: np.ndarray) -> int:
        """The greedy action for one observation."""
        return int(self.q_values(obs).argmax())

    def act_batch(self, obs: np.ndarray) -> np.ndarray:
        """Greedy actions for observations ``(B, obs)``."""
        return self.q_values(obs).argmax(1)

    def check(self, expect: Mapping[str, str], where: object = "policy") -> list[str]:
        """Raises ``PilotError`` if a key of ``expect`` is in the metadata with another value.

        Returns the keys of ``expect`` the metadata lacks (the caller says what it assumed).
        """
        missing = []
        for key, want in expect.items():
            if key not in self.metadata:
                missing.append(key)
            elif self.metadata[key] != str(want):
                raise PilotError(f"{where} is a policy for {key.replace('_', ' ')} "
                                 f"{self.metadata[key]!r}, not {str(want)!r}")
        return missing

    @classmethod
    def load(cls, path: str | os.PathLike, obs_size: int | None = None, n_actions: int = 2,
             engine: str = "auto") -> OnnxPolicy:
        """Reads, checks and test-runs an ONNX policy; ``PilotError`` (one line) if unusable.

        Args:
            obs_size: the observation length the caller will feed (None: the graph's own,
                which must then be fixed).
            n_actions: the length the output's last dimension must have.
            engine: ``auto`` (onnxruntime if installed, else numpy), ``onnxruntime`` or
                ``numpy``.
        """
        path = Path(path)
        data = read_named_file(path, MAX_ONNX_BYTES, "ONNX policies", "policy")
        return cls.from_bytes(data, where=path, obs_size=obs_size, n_actions=n_actions,
                              engine=engine)

    @classmethod
    def from_bytes(cls, data: bytes, where: object = "policy", obs_size: int | None = None,
                   n_actions: int = 2, engine: str = "auto") -> OnnxPolicy:
        """``load`` for bytes already read (``where`` names them in messages)."""
        onnx = require_onnx()
        model = _parse(onnx, data, where)
        graph = model.graph
        inits = {t.name for t in graph.initializer}
        inputs = [v for v in graph.input if v.name not in inits]
        if len(inputs) != 1:
            raise PilotError(f"{where} has {len(inputs)} inputs; a policy takes one "
                             "(the observation batch)")
        if not graph.output:
            raise PilotError(f"{where} has no output")
        inp, out = inputs[0], graph.output[0]
        fixed_batch, size = _input_shape(onnx, inp, where)
        if size is None:
            if obs_size is None:
                raise PilotError(f"{where}: its input's length is not fixed, and no "
                                 "observation length was given")
            size = obs_size
        elif obs_size is not None and size != obs_size:
            raise PilotError(f"{where} takes observations of {size} values; this level gives "
                             f"{obs_size}")
        _bound_shapes(onnx, model, inp.name, size, where)
        metadata = {p.key: p.value for p in model.metadata_props}
        weights = _weights(onnx, graph, where)
        ops = {n.op_type for n in graph.node}
        if engine not in ("auto", "numpy", "onnxruntime"):
            raise ValueError(f"engine must be auto, numpy or onnxruntime, not {engine!r}")
        version = onnxruntime_version() if engine != "numpy" else None
        if engine == "onnxruntime" and version is None:
            raise PilotError(f"{where}: onnxruntime is not installed ({INSTALL_HINT})")
        if version is not None:
            run, label = _ort_runner(data, inp.name, out.name, where), f"onnxruntime {version}"
        else:
            unknown = sorted(ops - NUMPY_OPS)
            if unknown:
                raise PilotError(
                    f"{where} uses {', '.join(unknown)}, which the numpy forward does not run "
                    f"(it runs {', '.join(sorted(NUMPY_OPS))}); onnxruntime runs any graph "
                    f"({INSTALL_HINT})")
            run, label = _numpy_runner(graph, weights, inp.name, out.name, where), "numpy"
        policy = cls(run, size, n_actions, metadata, label, fixed_batch,
                     _mlp_layers(graph, weights, inp.name, out.name), len(graph.node))
        _probe(policy, where)
        return policy

    def __repr__(self) -> str:
        return (f"OnnxPolicy(obs_size={self.obs_size}, n_actions={self.n_actions}, "
                f"engine={self.engine!r}, nodes={self.nodes})")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 160 else line[:157] + "..."


def _parse(onnx: Any, data: bytes, where: object) -> Any:
    """The model, parsed and checked: nothing outside the file is read, nothing is run."""
    from google.protobuf.message import DecodeError

    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError) as exc:
        raise PilotError(f"{where} is not an ONNX model (truncated or not protobuf: "
                         f"{_first_line(exc)})") from None
    graph = model.graph
    if not graph.node or not graph.output:
        raise PilotError(f"{where} is not an ONNX model (no graph)")
    if len(graph.node) > MAX_NODES:
        raise PilotError(f"{where} has {len(graph.node)} nodes; a policy has at most {MAX_NODES}")
    if model.functions:
        raise PilotError(f"{where} defines functions; a policy graph needs none")
    constants = [a.t for n in graph.node for a in n.attribute if a.HasField("t")]
    constants += [t for n in graph.node for a in n.attribute for t in a.tensors]
    for t in [*graph.initializer, *constants]:
        if t.data_location == onnx.TensorProto.EXTERNAL or t.external_data:
            raise PilotError(f"{where} keeps tensor {t.name!r} in an external file; only "
                             "self-contained ONNX files are read")
    if graph.sparse_initializer:
        raise PilotError(f"{where} has sparse weights; only dense ones are read")
    flow = sorted({n.op_type for n in graph.node} & REFUSED_OPS)
    if flow or any(a.g.node or a.graphs for n in graph.node for a in n.attribute):
        raise PilotError(f"{where} has control flow ({', '.join(flow) or 'subgraphs'}); a "
                         "policy graph needs none")
    foreign = sorted({n.domain for n in graph.node} - {"", "ai.onnx"})
    if foreign:
        raise PilotError(f"{where} uses ops of the domain {foreign[0]!r}; only standard ONNX "
                         "ops are read")
    total = 0
    for t in [*graph.initializer, *constants]:
        n = int(np.prod([max(int(d), 0) for d in t.dims], dtype=np.float64))
        total += n
        if total > MAX_VALUES:
            raise PilotError(f"{where} holds more than {MAX_VALUES:,} weight values; a policy "
                             "is far smaller")
    try:
        onnx.checker.check_model(model)
    except Exception as exc:  # onnx raises ValidationError and others for a malformed graph
        raise PilotError(f"{where} is not a valid ONNX model ({_first_line(exc)})") from None
    return model


def _input_shape(onnx: Any, inp: Any, where: object) -> tuple[bool, int | None]:
    """``(batch fixed at 1, observation length or None)`` of the input ``(batch, obs)``."""
    t = inp.type.tensor_type
    if not inp.type.HasField("tensor_type") or t.elem_type != onnx.TensorProto.FLOAT:
        raise PilotError(f"{where}: its input {inp.name!r} is not a float32 tensor")
    dims = list(t.shape.dim)
    if len(dims) != 2:
        raise PilotError(f"{where}: its input {inp.name!r} has {len(dims)} dimensions; a "
                         "policy takes a batch of observations (batch, obs)")
    batch, obs = dims
    if batch.HasField("dim_value") and batch.dim_value != 1:
        raise PilotError(f"{where}: its batch dimension is fixed at {batch.dim_value}; "
                         "export it as 1 or as a dynamic axis")
    size = int(obs.dim_value) if obs.HasField("dim_value") else None
    if size is not None and not 1 <= size <= 4096:
        raise PilotError(f"{where}: its input takes {size} values per observation")
    return batch.HasField("dim_value"), size


def _bound_shapes(onnx: Any, model: Any, name: str, size: int, where: object) -> None:
    """Refuses a graph whose shapes, inferred for one observation, hold too many values."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    for v in probe.graph.input:
        if v.name == name:
            dims = v.type.tensor_type.shape.dim
            dims[0].Clear()
            dims[0].dim_value = 1
            dims[1].Clear()
            dims[1].dim_value = size
    try:
        inferred = onnx.shape_inference.infer_shapes(probe, check_type=True, strict_mode=True,
                                                     data_prop=True)
    except Exception as exc:  # InferenceError and others: the shapes do not fit together
        raise PilotError(f"{where}: its shapes do not fit an input of {size} values "
                         f"({_first_line(exc)})") from None
    for v in [*inferred.graph.value_info, *inferred.graph.output]:
        dims = v.type.tensor_type.shape.dim
        known = [d.dim_value for d in dims if d.HasField("dim_value")]
        if np.prod(known, dtype=np.float64) > MAX_VALUES:
            raise PilotError(f"{where}: its tensor {v.name!r} would hold "
                             f"{int(np.prod(known, dtype=np.float64)):,} values for one "
                             f"observation (at most {MAX_VALUES:,})")


def _weights(onnx: Any, graph: Any, where: object) -> dict[str, np.ndarray]:
    from onnx import numpy_helper

    out = {}
    for t in graph.initializer:
        try:
            out[t.name] = numpy_helper.to_array(t)
        except Exception as exc:  # a tensor whose bytes do not match its shape or type
            raise PilotError(f"{where}: its tensor {t.name!r} is unreadable "
                             f"({_first_line(exc)})") from None
    return out


def _ort_runner(data: bytes, inp: str, out: str, where: object
                ) -> Callable[[np.ndarray], np.ndarray]:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1  # a small MLP: more threads only add overhead
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3  # errors only: its warnings would bury the one-line report
    try:
        session = ort.InferenceSession(data, sess_options=opts,
                                       providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own types for graphs it cannot run
        raise PilotError(f"{where}: onnxruntime cannot run it ({_first_line(exc)})") from None

    def run(x: np.ndarray) -> np.ndarray:
        return session.run([out], {inp: x})[0]

    return run


def _attr(node: Any, name: str, default: Any) -> Any:
    from onnx import helper

    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default


def _numpy_runner(graph: Any, weights: dict[str, np.ndarray], inp: str, out: str,
                  where: object) -> Callable[[np.ndarray], np.ndarray]:
    """The graph as numpy calls, in its (topological) node order."""
    nodes = list(graph.node)
    for node in nodes:
        if node.op_type == "Gemm" and _attr(node, "transA", 0):
            raise PilotError(f"{where}: the numpy forward does not run Gemm with transA; "
                             f"onnxruntime does ({INSTALL_HINT})")
        if node.op_type == "Cast" and _attr(node, "to", 0) != FLOAT:
            raise PilotError(f"{where}: the numpy forward only runs a Cast to float32; "
                             f"onnxruntime runs any ({INSTALL_HINT})")
    consts = {k: (v.astype(np.float32) if v.dtype == np.float64 else v)
              for k, v in weights.items()}

    def run(x: np.ndarray) -> np.ndarray:
        values = {**consts, inp: x}
        for node in nodes:
            a = [values[i] for i in node.input if i]
            op = node.op_type
            if op == "Gemm":
                y = a[0] @ (a[1].T if _attr(node, "transB", 0) else a[1])
                alpha, beta = _attr(node, "alpha", 1.0), _attr(node, "beta", 1.0)
                if alpha != 1.0:
                    y = y * np.float32(alpha)
                if len(a) > 2:
                    y = y + (a[2] if beta == 1.0 else np.float32(beta) * a[2])
            elif op == "MatMul":
                y = a[0] @ a[1]
            elif op == "Add":
                y = a[0] + a[1]
            elif op == "Relu":
                y = np.maximum(a[0], 0.0)
            elif op == "Tanh":
                y = np.tanh(a[0])
            elif op == "Cast":  # to float32 (checked above)
                y = a[0].astype(np.float32, copy=False)
            elif op == "Flatten":
                axis = _attr(node, "axis", 1) % max(a[0].ndim, 1)
                y = a[0].reshape(int(np.prod(a[0].shape[:axis])), -1)
            else:  # Identity
                y = a[0]
            values[node.output[0]] = y
        return values[out]

    return run


def _mlp_layers(graph: Any, weights: dict[str, np.ndarray], inp: str, out: str
                ) -> list[np.ndarray] | None:
    """``[W0, b0, ...]`` if the graph is a chain Gemm(transB=1), Relu, ..., Gemm; else None."""
    layers: list[np.ndarray] = []
    x = inp
    nodes = list(graph.node)
    while nodes and _passes_through(nodes[0], x):  # SB3's Cast to float and Flatten
        x = nodes.pop(0).output[0]
    for i, node in enumerate(nodes):
        gemm = i % 2 == 0
        if node.input[0] != x or len(node.output) != 1:
            return None
        if gemm:
            if (node.op_type != "Gemm" or len(node.input) != 3 or _attr(node, "transA", 0)
                    or not _attr(node, "transB", 0) or _attr(node, "alpha", 1.0) != 1.0
                    or _attr(node, "beta", 1.0) != 1.0):
                return None
            w, b = weights.get(node.input[1]), weights.get(node.input[2])
            if (w is None or b is None or w.dtype != np.float32 or b.dtype != np.float32
                    or w.ndim != 2 or b.shape != (w.shape[0],)
                    or (layers and w.shape[1] != layers[-2].shape[0])):
                return None
            layers += [w, b]
        elif node.op_type != "Relu":
            return None
        x = node.output[0]
    if x != out or len(nodes) % 2 == 0:
        return None
    return layers


def _passes_through(node: Any, x: str) -> bool:
    """True for a node on ``x`` (a float ``(batch, obs)`` input) that changes nothing."""
    if list(node.input) != [x] or len(node.output) != 1:
        return False
    return (node.op_type == "Identity"
            or (node.op_type == "Cast" and _attr(node, "to", 0) == FLOAT)
            or (node.op_type == "Flatten" and _attr(node, "axis", 1) == 1))


def _probe(policy: OnnxPolicy, where: object) -> None:
    """Runs the graph once on zero observations: its output must be ``(B, n_actions)``."""
    batch = 1 if policy.fixed_batch else 2
    try:
        q = np.asarray(policy._run(np.zeros((batch, policy.obs_size), np.float32)))
    except Exception as exc:  # a runtime or numpy error: the graph does not run on this input
        raise PilotError(f"{where} does not run on observations of {policy.obs_size} values "
                         f"({_first_line(exc)})") from None
    if q.shape != (batch, policy.n_actions):
        raise PilotError(f"{where} outputs shape {list(q.shape)} for {batch} observation(s); "
                         f"a policy outputs one value per action ({policy.n_actions})")
    if not np.issubdtype(q.dtype, np.floating) or not np.isfinite(q).all():
        raise PilotError(f"{where} outputs {q.dtype} values that are not all finite")
