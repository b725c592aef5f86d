"""ONNX policies for the levels: the metadata an export writes, and the checks on loading.

``ai.onnx_io`` reads and writes graphs without knowing the game. Here a level gives the
metadata an ONNX pilot carries (level, physics version, observation size and layout, and
our pilots' model card), and a loaded file is checked against it as a pilot file is: a
value that is present must match; a value that is absent is assumed, and the person is told
in one line what was assumed. A second line says what runs the graph (onnxruntime or the
numpy forward). Both lines are in ``policy.notes``.

In the window an ONNX policy flies as it is (``FrozenFlyer``): it learns nothing and saves
nothing, and the level's saved learner is neither loaded nor written, so what flies is that
policy and no other.

Rules: a wiring module (``game.sim`` and ``ai``); the ``onnx`` package is imported only
when an ONNX file is read or written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ai.autopilot import Autopilot
from ai.errors import PilotError
from ai.onnx_io import OnnxPolicy, mlp_to_onnx, save_onnx, torch_to_onnx
from game.sim.levels import LEVELS, Level

SUFFIX = ".onnx"
"""File names ending with this are ONNX policies; anything else is a safetensors pilot."""


def is_onnx(path: str | os.PathLike) -> bool:
    """True when ``path`` names an ONNX file (by its suffix, any case)."""
    return Path(path).suffix.lower() == SUFFIX


def level_metadata(level: Level) -> dict[str, str]:
    """What an ONNX policy for ``level`` should carry in ``metadata_props`` (all checked)."""
    return {**level.pilot_meta, "observation": level.obs_layout}


def pilot_to_onnx(pilot: Autopilot, level: Level, card: dict | None = None) -> bytes:
    """One of our pilots as ONNX bytes: its weights, its metadata and model card."""
    if card:
        pilot.card.update(card)
    return mlp_to_onnx(pilot.layers, {**pilot.metadata, **level_metadata(level)})


def save_pilot_onnx(pilot: Autopilot, level: Level, path: str | os.PathLike,
                    card: dict | None = None) -> None:
    """Writes ``pilot`` as an ONNX file atomically (``pilot_to_onnx``)."""
    save_onnx(path, pilot_to_onnx(pilot, level, card))


def save_torch_onnx(module: Any, level: str | Level, path: str | os.PathLike,
                    card: dict | None = None) -> None:
    """Writes a torch module ``(B, obs) -> (B, 2)`` for ``level`` as ONNX with its metadata.

    For policies trained elsewhere (the examples' Stable-Baselines3 and RLlib networks):
    ``card`` entries go in as ``card.<key>``, as our pilots' cards do.
    """
    import json

    level = LEVELS[level] if isinstance(level, str) else level
    meta = {**level_metadata(level), **{f"card.{k}": v if isinstance(v, str) else json.dumps(v)
                                        for k, v in (card or {}).items()}}
    save_onnx(path, torch_to_onnx(module, level.obs_size, meta))


def load_onnx(path: str | os.PathLike, level: Level | None = None) -> tuple[OnnxPolicy, Level]:
    """Reads an ONNX policy for ``level`` (None: the level it names, else the one its input
    size fits); ``PilotError`` (one line) if it does not fit. ``policy.notes`` says what
    was assumed and what runs the graph."""
    try:
        policy = OnnxPolicy.load(path, obs_size=None if level is None else level.obs_size)
    except PilotError as exc:
        if level is None and "no observation length was given" in str(exc):
            raise PilotError(f"{path}: its input's length is not fixed and it names no level; "
                             "say which level it flies") from None
        raise
    if level is None:
        name = policy.metadata.get("level")
        if name is not None and name not in LEVELS:
            raise PilotError(f"{path} is a policy for an unknown level {name!r}")
        fits = [lv for lv in LEVELS.values() if lv.obs_size == policy.obs_size]
        if name is not None:
            level = LEVELS[name]
        elif fits:
            level = fits[-1]
        else:
            sizes = ", ".join(f"{lv.name} {lv.obs_size}" for lv in LEVELS.values())
            raise PilotError(f"{path} takes observations of {policy.obs_size} values; no level "
                             f"gives that ({sizes})")
        if policy.obs_size != level.obs_size:
            raise PilotError(f"{path} takes observations of {policy.obs_size} values; "
                             f"{level.name} gives {level.obs_size}")
    missing = policy.check(level_metadata(level), where=path)
    if missing:
        words = ", ".join(k.replace("_", " ") for k in missing)
        policy.notes.append(
            f"{path} carries no {words} metadata: assumed level {level.name}, physics "
            f"version {level.physics_version}, observation ({level.obs_layout})")
    policy.notes.append(f"{Path(path).name} runs on {policy.engine}" + (
        "" if policy.engine != "numpy" else " (onnxruntime is not installed; the numpy "
        "forward runs plain MLP graphs)"))
    return policy, level


def as_autopilot(policy: OnnxPolicy, level: Level) -> Autopilot | None:
    """The policy as one of our pilots, if its graph is a plain ReLU MLP (what
    ``pilot_to_onnx`` writes, or Stable-Baselines3's DQN); None for any other graph."""
    if policy.layers is None or policy.n_actions != 2:
        return None
    return Autopilot(policy.layers, meta=level.meta, card=policy.card)


class FrozenFlyer:
    """A learner for the game that flies a fixed policy (an ONNX graph) and learns nothing.

    The window asks a learner for its actions, Q-values, memory, epsilon, curve and skill.
    Here every action and the greedy policy are the policy's argmax (exploration and
    epsilon are ignored: a frozen policy is flown as it is), its outputs are the "Q-values"
    the HUD shows, and ``autopilot()`` is the policy itself, so an in-process skill meter
    (``game.play.skill.SkillMeter``, which only calls ``act_batch``) reads its score/oracle.
    Everything else is a fresh learner's, with learning off for good: it stores nothing and
    takes no gradient step, and the game gives it no store, so nothing is saved.
    """

    frozen = True
    """The window's cue: no skill process (it flies weight arrays), no autosave."""

    def __init__(self, learner: Any, policy: OnnxPolicy) -> None:
        learner.learn_enabled = False
        self._learner = learner
        self.policy = policy

    @property
    def learn_enabled(self) -> bool:
        """Always False: the L key cannot turn learning on for a frozen policy."""
        return False

    @learn_enabled.setter
    def learn_enabled(self, value: bool) -> None:
        pass

    def act(self, obs: Any, explore: bool = True) -> int:
        return self.policy.act(obs)

    def act_batch(self, obs: Any, rng: Any = None, epsilon: Any = None, explore: bool = True
                  ) -> Any:
        return self.policy.act_batch(obs)

    def greedy_batch(self, obs: Any) -> Any:
        return self.policy.act_batch(obs)

    def q_values(self, obs: Any) -> Any:
        return self.policy.q_values(obs)

    def autopilot(self) -> OnnxPolicy:
        return self.policy

    def train(self, steps: int) -> int:
        return 0

    def __getattr__(self, name: str) -> Any:  # the rest: the idle learner's (memory, curve...)
        return getattr(self._learner, name)
