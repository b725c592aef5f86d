"""Content checks of a learner state read from disk, after its checksums matched.

A checksum says the files are what the writer wrote, not that the writer was right: a
save copied from another machine or written by a buggy version can carry replay actions
of 7 (every gradient step then crashes the game), NaN or Inf in the memory, or settings
such as ``lr = NaN`` or ``batch_size = 0`` (every gradient step is then rolled back and
learning silently stops). So every array of the replay memory and every setting and
counter of the meta is checked against what a learner can have made, before anything is
built from it. A failure raises ``Damaged``: the generation is moved aside and the one
before it is loaded. Weights of another network's shape are refused and kept, as the
learner itself would refuse them (checked here so no network is built from huge sizes).

Rules: reads ``ai.learner``'s state layout (``Learner.state``); numpy and the standard
library only; never builds or allocates from the values it checks (a capacity of 10**12
is refused here, not allocated).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ai.learner import LearnerState
from ai.learner_batch import N_ACTIONS
from ai.store.layout import Damaged, Refused

MAX_WIDTH = 4096
"""The widest hidden layer a saved config may name (the game's are 32-128)."""
MAX_SLOTS = 2**27
"""The most replay slots a saved config may name (the game's arcade memory has 110,000)."""
MAX_BATCH = 65_536
MAX_N_STEP = 1_000
"""The longest n-step return a saved config may name (the game's is 3)."""
MAX_RATIO = 1_000.0
"""The most gradient steps per env step a saved config may name."""
MAX_SCALE = 1e6
"""The largest Huber delta, clipping norm or warm-up share a saved config may name."""

_FRACTIONS = ("gamma", "eps_start", "eps_end", "terminal_share", "terminal_share_early",
              "target_tau")
"""Config settings that are shares or probabilities: in [0, 1]."""
_RATES = ("lr", "lr_early")
"""Learning rates: in (0, 1]."""
_POSITIVE = ("huber_delta", "grad_clip_norm")
_COUNTS = {"early_steps": 0, "learning_starts": 0, "target_sync_updates": 1,
           "eps_decay_steps": 0, "pilot_average_updates": 0, "curve_points": 2}
"""Whole-number settings and their least value."""
_META_COUNTS = {"env_steps": 0, "updates": 0, "episodes": 0, "explore_steps": 0,
                "nan_rollbacks": 0, "rejected_transitions": 0, "curve_stride": 1,
                "adam_steps": 0}
"""Whole-number counters of the state and their least value."""


def check_learner_state(state: LearnerState) -> None:
    """Raises ``Damaged`` naming the first value a learner could not have saved.

    States that are not a learner's (no ``config`` in the meta) are left to the caller's
    own checks.
    """
    meta = state.meta
    config = meta.get("config")
    if not isinstance(config, Mapping):
        return
    problem = (_config_problem(config) or _meta_problem(meta)
               or _memory_problem(state.arrays, config, meta))
    if problem:
        raise Damaged(f"its contents fail a check: {problem}")
    mismatch = _size_problem(state, config)
    if mismatch:  # another network's shape, as the learner itself would refuse it: keep it
        raise Refused(mismatch)


def _number(value: Any) -> bool:
    return type(value) in (int, float)


def _whole(value: Any) -> bool:
    return type(value) is int or (type(value) is float and value.is_integer())


def _config_problem(c: Mapping[str, Any]) -> str | None:
    for key in _FRACTIONS:
        if key in c and not (_number(c[key]) and 0.0 <= c[key] <= 1.0):
            return f"setting {key} is {c[key]!r}, not between 0 and 1"
    for key in _RATES:
        if key in c and not (_number(c[key]) and 0.0 < c[key] <= 1.0):
            return f"setting {key} is {c[key]!r}, not a learning rate in (0, 1]"
    for key in _POSITIVE:
        if key in c and not (_number(c[key]) and 0.0 < c[key] <= MAX_SCALE):
            return f"setting {key} is {c[key]!r}, not above 0 and at most {MAX_SCALE:g}"
    for key, least in (("updates_per_step", 0.0), ("updates_per_step_early", -1e-300),
                       ("updates_per_step_flock", 0.0), ("updates_per_step_top", 0.0)):
        # After the early phase no gradient step at all would be a silent stop.
        if key in c and not (_number(c[key]) and least < c[key] <= MAX_RATIO):
            return f"setting {key} is {c[key]!r}, not above {least:g} and at most {MAX_RATIO:g}"
    if "pilot_average_warmup" in c and not (_number(c["pilot_average_warmup"])
                                            and 0.0 <= c["pilot_average_warmup"] <= MAX_SCALE):
        return f"setting pilot_average_warmup is {c['pilot_average_warmup']!r}"
    for key, least in _COUNTS.items():
        if key in c and not (_whole(c[key]) and least <= c[key] < 2**62):
            return f"setting {key} is {c[key]!r}, not a whole number from {least}"
    if "n_step" in c and not (_whole(c["n_step"]) and 1 <= c["n_step"] <= MAX_N_STEP):
        return f"setting n_step is {c['n_step']!r}, not a whole number 1 to {MAX_N_STEP}"
    if not (_whole(c.get("batch_size")) and 1 <= c["batch_size"] <= MAX_BATCH):
        return f"setting batch_size is {c.get('batch_size')!r}, not 1 to {MAX_BATCH}"
    for key in ("capacity", "terminal_capacity"):
        if not (_whole(c.get(key)) and 1 <= c[key] <= MAX_SLOTS):
            return f"setting {key} is {c.get(key)!r}, not 1 to {MAX_SLOTS}"
    hidden = c.get("hidden")
    if not (isinstance(hidden, list) and 1 <= len(hidden) <= 16
            and all(_whole(h) and 1 <= h <= MAX_WIDTH for h in hidden)):
        return f"setting hidden is {hidden!r}, not 1-16 layers of 1 to {MAX_WIDTH} units"
    return None


def _meta_problem(meta: Mapping[str, Any]) -> str | None:
    for key, least in _META_COUNTS.items():
        if key in meta and not (_whole(meta[key]) and least <= meta[key] < 2**62):
            return f"{key} is {meta[key]!r}, not a whole number from {least}"
    if "lr" in meta and not (_number(meta["lr"]) and 0.0 < meta["lr"] <= 1.0):
        return f"the learning rate is {meta['lr']!r}, not in (0, 1]"
    credit = meta.get("credit", 0.0)
    if not (_number(credit) and 0.0 <= credit <= 2 * MAX_RATIO):
        return f"the replay-ratio credit is {meta['credit']!r}"
    for key in ("losses", "recent_scores"):
        values = meta.get(key, [])
        if not (isinstance(values, list)
                and all(_number(v) and math.isfinite(v) for v in values)):
            return f"{key} holds a value that is not a finite number"
    curve = meta.get("curve", [])
    if not (isinstance(curve, list) and all(
            isinstance(p, list) and len(p) == 2 and all(_number(v) and math.isfinite(v)
                                                        for v in p) for p in curve)):
        return "the learning curve holds a point that is not two finite numbers"
    obs_size = meta.get("obs_size", meta.get("config", {}).get("obs_size"))
    if obs_size is not None and not (_whole(obs_size) and 1 <= obs_size <= MAX_WIDTH):
        return f"obs_size is {obs_size!r}"
    return None


def _memory_problem(arrays: Mapping[str, np.ndarray], c: Mapping[str, Any],
                    meta: Mapping[str, Any]) -> str | None:
    """The replay memory: one length for every array, matching the config; valid values."""
    slots = c["capacity"] + c["terminal_capacity"]
    memory = meta.get("memory")
    if isinstance(memory, Mapping) and (memory.get("ring"), memory.get("terminal")) != (
            c["capacity"], c["terminal_capacity"]):
        return (f"the replay memory has rings of {memory.get('ring')!r} and "
                f"{memory.get('terminal')!r} slots, the config {c['capacity']} and "
                f"{c['terminal_capacity']}")
    for name, a in arrays.items():
        if a.ndim == 0 or a.shape[0] != slots:
            return f"replay array {name!r} has shape {list(a.shape)}, not {slots} slots"
    actions = arrays.get("actions")
    if actions is not None:
        if not np.issubdtype(actions.dtype, np.integer):
            return f"replay actions are {actions.dtype}, not whole numbers"
        bad = np.flatnonzero((actions < 0) | (actions >= N_ACTIONS))
        if bad.size:
            return (f"{bad.size} replay action(s) out of range 0-{N_ACTIONS - 1} "
                    f"(slot {int(bad[0])}: {int(actions[bad[0]])})")
    for name in ("obs", "next_obs", "rewards", "terminated"):
        a = arrays.get(name)
        if a is None:
            continue
        if not np.issubdtype(a.dtype, np.floating):
            return f"replay array {name!r} is {a.dtype}, not floating point"
        finite = np.isfinite(a)
        if not finite.all():
            rows = np.flatnonzero(~finite.reshape(a.shape[0], -1).all(axis=1))
            return (f"replay array {name!r} holds NaN or Inf in {rows.size} slot(s) "
                    f"(first: slot {int(rows[0])})")
    terminated = arrays.get("terminated")
    if terminated is not None and not np.isin(terminated, (0.0, 1.0)).all():
        return "replay 'terminated' flags other than 0 and 1"
    human = arrays.get("human")
    if human is not None and human.dtype != np.bool_:
        return f"replay 'human' tags are {human.dtype}, not bool"
    return None


def _size_problem(state: LearnerState, c: Mapping[str, Any]) -> str | None:
    """The weights' length must follow from the layer sizes (nothing huge is ever built)."""
    net = state.tensors.get("net")
    obs_size = state.meta.get("obs_size", c.get("obs_size"))
    if net is None or not _whole(obs_size):
        return None
    sizes = [int(obs_size), *(int(h) for h in c["hidden"]), N_ACTIONS]
    n = sum((a + 1) * b for a, b in zip(sizes, sizes[1:], strict=False))
    if tuple(net.shape) != (n,):
        return (f"learner state tensor 'net' is {str(net.dtype).removeprefix('torch.')}"
                f"{list(net.shape)}, expected float32[{n}] (layers {sizes})")
    return None
