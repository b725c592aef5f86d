"""What the learner's child (``ai.process.remote``) must know of each kind of learner.

The child runs the gradient steps of two kinds of learner: the game's ``ai.learner.Learner``
(``dqn``) and the tutorial's ``ai.tutorial.TutorialLearner`` (``tutorial``, the lesson lab's
teams). For each kind, a ``Kind`` says how the game's copy is sent whole (``snapshot`` on the
game's thread, ``encode`` on the sending thread, ``build`` in the child), how a stored row
reaches the child's copy (``add_rows``), what a paid step carries (``pay_header``,
``on_pay``), how the child takes one step (``step``) and how its trained buffers come back
(``report``, ``apply``, in place: the numpy views the game acts with stay valid).

A report carries what the steps change and nothing else: the weights the learner trains, its
optimiser's moments, its step counters, its memory's sampling generator. What the game's
process decides (acting, exploration, the champion) never crosses.

Rules: ``ai`` modules, numpy and the standard library; torch and the learners are imported
inside the functions (the game's process has them already; the child imports them once).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

Message = tuple[dict[str, Any], list[bytes | memoryview]]
"""A header (JSON) and raw buffers."""

WEIGHT_KEYS = ("net", "target", "good", "pilot", "adam.exp_avg", "adam.exp_avg_sq")
"""The game learner's buffers a report carries (``DqnWeights.tensors`` names; ``pilot`` when
the learner keeps an average). The champion is never sent: it is the game's."""


@dataclass(frozen=True)
class Kind:
    """How the child serves one kind of learner (the module's docstring)."""

    name: str
    snapshot: Callable[[Any], Any]
    encode: Callable[[Any], Message]
    build: Callable[[dict[str, Any], list[memoryview]], Any]
    add_rows: Callable[[Any, list[np.ndarray]], None]
    pay_header: Callable[[Any], dict[str, Any]]
    on_pay: Callable[[Any, dict[str, Any]], None]
    step: Callable[[Any], None]
    report: Callable[[Any], Message]
    apply: Callable[[Any, dict[str, Any], list[memoryview]], None]


def kind_of(learner: Any) -> Kind:
    """The kind of ``learner`` (``TypeError`` for a learner the child cannot serve)."""
    from ai.learner import Learner
    from ai.tutorial import TutorialLearner

    if isinstance(learner, Learner):
        return DQN
    if isinstance(learner, TutorialLearner):
        return TUTORIAL
    raise TypeError(f"no child process serves a {type(learner).__name__}")


def _floats(buffer: memoryview | bytes) -> np.ndarray:
    return np.frombuffer(buffer, dtype=np.float32)


# ---- the game's learner ------------------------------------------------------------------

def _dqn_encode(state: Any) -> Message:
    """``Learner.state`` as raw buffers and a JSON header (no checksums, no copies: the store's
    safetensors and ``.npz`` took 150 ms of the game's GIL for the 9 MB memory)."""
    tensors = {k: t.detach().contiguous().numpy() for k, t in state.tensors.items()}
    header = {"meta": state.meta,
              "tensors": [[k, a.dtype.str, a.shape] for k, a in tensors.items()],
              "arrays": [[k, a.dtype.str, a.shape] for k, a in state.arrays.items()]}
    return header, [np.ascontiguousarray(a) for a in (*tensors.values(), *state.arrays.values())]


def _dqn_build(header: dict[str, Any], buffers: list[memoryview]) -> Any:
    import torch

    from ai.learner import Learner, LearnerState

    specs = header["tensors"] + header["arrays"]
    values = [np.frombuffer(b, dtype=d).reshape(shape).copy()
              for (_, d, shape), b in zip(specs, buffers, strict=True)]
    n = len(header["tensors"])
    tensors = {k: torch.from_numpy(v) for (k, _, _), v in zip(header["tensors"], values[:n],
                                                               strict=True)}
    arrays = {k: v for (k, _, _), v in zip(header["arrays"], values[n:], strict=True)}
    return Learner.from_state(LearnerState(tensors, arrays, header["meta"]))


def _dqn_on_pay(learner: Any, header: dict[str, Any]) -> None:
    learner.env_steps = int(header["env_steps"])  # the early phase's clock
    learner.optimizer.lr = float(header["lr"])


def _dqn_report(learner: Any) -> Message:
    w = learner.weights
    tensors = w.tensors()
    keys = [k for k in WEIGHT_KEYS if k in tensors]
    flat = np.concatenate([tensors[k].numpy() for k in keys])
    header = {"keys": keys, "updates": learner.updates, "adam_steps": w.optimizer.steps,
              "nan_rollbacks": w.nan_rollbacks, "rollback_streak": w.rollback_streak,
              "stalled": w.stalled, "losses": list(w.losses),
              "learn_enabled": learner.learn_enabled,
              "rng": learner.memory.rng.bit_generator.state}
    return header, [flat.astype(np.float32).tobytes()]


def _dqn_apply(learner: Any, header: dict[str, Any], buffers: list[memoryview]) -> None:
    """Every trained buffer and counter, in place (``DqnWeights.restore``, which checks them)."""
    import torch

    from ai.learner import STATE_FORMAT_VERSION

    w = learner.weights
    values = torch.frombuffer(bytearray(buffers[0]), dtype=torch.float32)
    n = w.net.flat.numel()
    tensors = {key: values[i * n:(i + 1) * n] for i, key in enumerate(header["keys"])}
    w.losses.clear()
    w.restore(tensors, STATE_FORMAT_VERSION, {**header, "lr": w.optimizer.lr})
    w.rollback_streak = int(header["rollback_streak"])
    w.stalled = header["stalled"]
    learner.updates = int(header["updates"])
    learner.memory.rng.bit_generator.state = header["rng"]
    if not header["learn_enabled"]:
        learner.learn_enabled = False  # the child's steps stalled (``DqnWeights.stalled``)


DQN = Kind(
    "dqn",
    snapshot=lambda learner: learner.state(filled=True),  # the memory's stored rows only
    encode=_dqn_encode,
    build=_dqn_build,
    add_rows=lambda learner, rows: learner.memory.add_batch(*rows),
    pay_header=lambda learner: {"env_steps": int(learner.env_steps),
                                "lr": float(learner.optimizer.lr)},
    on_pay=_dqn_on_pay,
    step=lambda learner: learner._update(),
    report=_dqn_report,
    apply=_dqn_apply,
)


# ---- the tutorial's learner --------------------------------------------------------------

ROW_FIELDS = ("obs", "actions", "rewards", "next_obs", "terminated")
"""A tutorial transition's fields, as ``PlainReplay`` keeps them."""


def _tutorial_snapshot(learner: Any) -> Message:
    mem = learner.memory
    header = {"obs_size": learner.obs_size, "config": dataclasses.asdict(learner.config),
              "meta": learner.meta, "seed": learner.seed, "updates": learner.updates,
              "learn_enabled": learner.learn_enabled, "pending": len(learner._pending),
              "memory": None if mem is None else {
                  "pos": mem.pos, "size": mem.size, "samples": mem.samples,
                  "rng": mem.rng.bit_generator.state}}
    buffers = [learner.net.flat.numpy().tobytes(),
               b"" if learner.target is None else learner.target.flat.numpy().tobytes(),
               learner.optimizer.square_avg.tobytes()]
    if mem is not None:
        buffers += [getattr(mem, f).tobytes() for f in ROW_FIELDS]
    if learner._pending:
        from ai.tutorial import rows_as_arrays

        buffers += [a.tobytes() for a in rows_as_arrays(list(learner._pending))]
    return header, buffers


def _tutorial_build(header: dict[str, Any], buffers: list[memoryview]) -> Any:
    import torch

    from ai.tutorial import TutorialConfig, TutorialLearner

    config = TutorialConfig(**{**header["config"], "hidden": tuple(header["config"]["hidden"])})
    learner = TutorialLearner(header["obs_size"], config, header["meta"], header["seed"])
    learner.net.flat.copy_(torch.from_numpy(_floats(buffers[0]).copy()))
    if learner.target is not None:
        learner.target.flat.copy_(torch.from_numpy(_floats(buffers[1]).copy()))
    learner.optimizer.square_avg[:] = _floats(buffers[2])
    learner.updates, learner.learn_enabled = int(header["updates"]), header["learn_enabled"]
    rest = buffers[3:]
    if header["memory"] is not None:
        mem, m = learner.memory, header["memory"]
        for f, b in zip(ROW_FIELDS, rest[:5], strict=True):
            getattr(mem, f)[:] = np.frombuffer(b, getattr(mem, f).dtype).reshape(
                getattr(mem, f).shape)
        mem.pos, mem.size, mem.samples = int(m["pos"]), int(m["size"]), int(m["samples"])
        mem.rng.bit_generator.state = m["rng"]
        rest = rest[5:]
    if header["pending"]:
        _tutorial_add(learner, _row_arrays(rest, learner.obs_size))
    return learner


def _row_arrays(buffers: list[memoryview], obs_size: int) -> list[np.ndarray]:
    obs, actions, rewards, next_obs, terminated = buffers
    return [_floats(obs).reshape(-1, obs_size), np.frombuffer(actions, np.int64),
            _floats(rewards), _floats(next_obs).reshape(-1, obs_size), _floats(terminated)]


def _tutorial_add(learner: Any, rows: list[np.ndarray]) -> None:
    """Keeps the rows as ``TutorialLearner.observe`` does (a row each, in order)."""
    obs, actions, rewards, next_obs, terminated = rows
    for i in range(len(actions)):
        learner._keep((obs[i].copy(), int(actions[i]), float(rewards[i]), next_obs[i].copy(),
                       bool(terminated[i])))


def _tutorial_report(learner: Any) -> Message:
    mem = learner.memory
    header = {"updates": learner.updates, "losses": list(learner._losses),
              "learn_enabled": learner.learn_enabled,
              "memory": None if mem is None else {"samples": mem.samples,
                                                  "rng": mem.rng.bit_generator.state}}
    return header, [learner.net.flat.numpy().tobytes(),
                    b"" if learner.target is None else learner.target.flat.numpy().tobytes(),
                    learner.optimizer.square_avg.tobytes()]


def _tutorial_apply(learner: Any, header: dict[str, Any], buffers: list[memoryview]) -> None:
    learner.net.flat.numpy()[:] = _floats(buffers[0])  # in place: ``_layers`` are views of it
    if learner.target is not None:
        learner.target.flat.numpy()[:] = _floats(buffers[1])
    learner.optimizer.square_avg[:] = _floats(buffers[2])
    learner.updates = int(header["updates"])
    learner._losses.clear()
    learner._losses.extend(header["losses"])
    if header["memory"] is not None:
        learner.memory.samples = int(header["memory"]["samples"])
        learner.memory.rng.bit_generator.state = header["memory"]["rng"]
    if not header["learn_enabled"]:
        learner.learn_enabled = False


TUTORIAL = Kind(
    "tutorial",
    snapshot=_tutorial_snapshot,
    encode=lambda message: message,
    build=_tutorial_build,
    add_rows=_tutorial_add,
    pay_header=lambda learner: {},
    on_pay=lambda learner, header: None,
    step=lambda learner: learner.train(1),
    report=_tutorial_report,
    apply=_tutorial_apply,
)

KINDS = {k.name: k for k in (DQN, TUTORIAL)}
"""Every kind, by the name an ``INIT`` message carries."""
