"""The game's wiring of the ``ai`` learner to its levels: settings, learners, pilots, saves.

``ai`` knows nothing of the game; here each level's spec (``game.sim.levels``) becomes a
``LearnerConfig``, the metadata a learner or pilot carries, and the checks on loading.
Imports ``ai`` (and so torch, on first use): not a simulation module.
"""

from __future__ import annotations

import os
from pathlib import Path

import assets
from ai.autopilot import Autopilot
from ai.config import LearnerConfig
from ai.errors import PilotError
from ai.learner import Learner, LearnerState
from game.sim.levels import LEVELS, Level

PILOTS_DIR = assets.path("pilots")
"""Where the shipped pretrained pilots live (``<level>.safetensors``), as package data."""
LEGACY_META = {"physics_version": "1"}
"""What a learner state of format 3 or older was for besides its level: those saves predate
per-level physics versions, and every level had version 1 then."""


def learner_config(level: Level, play: bool = True, **changes) -> LearnerConfig:
    """The learner's settings for ``level`` (its preset; the game's play settings on top
    unless ``play`` is False, as ``main.py train`` asks), with ``changes`` on top."""
    return LearnerConfig(**{**level.learner, **(level.play if play else {}), **changes})


def new_learner(level: Level, seed: int = 0, config: LearnerConfig | None = None) -> Learner:
    """A fresh learner for ``level`` (its preset unless ``config``), tagged with its metadata."""
    return Learner(level.obs_size, config or learner_config(level), meta=level.meta, seed=seed)


def learner_from_state(level: Level, state: LearnerState) -> Learner:
    """Rebuilds a saved learner of ``level``; ``StateError`` if it is for another level or
    physics version. Settings added since the save take the level's preset values."""
    return Learner.from_state(state, expect=level.meta, defaults=learner_config(level),
                              legacy_meta=LEGACY_META)


def load_pilot(path: str | os.PathLike, level: Level | None = None) -> tuple[Autopilot, Level]:
    """Reads a pilot file for ``level``, or for the level the file names; ``PilotError``
    (one line) if it does not fit that level's physics version and observation."""
    if level is not None:
        return Autopilot.load(path, expect=level.pilot_meta), level
    pilot = Autopilot.load(path)
    name = pilot.meta.get("level")
    if name not in LEVELS:
        raise PilotError(f"{path} is a pilot for an unknown level {name!r}")
    level = LEVELS[name]
    pilot.check(level.pilot_meta, where=path)
    return pilot, level


def pretrained_path(level: str) -> Path:
    """The shipped pilot for the level called ``level``."""
    return PILOTS_DIR / f"{level}.safetensors"
