"""The game's wiring of the ``ai`` learner to its levels: settings, learners, pilots, saves.

``ai`` knows nothing of the game; here each level has its typed ``LearnerConfig`` preset
(``PRESETS``), and its spec (``game.sim.levels``) gives the metadata a learner or pilot
carries and the checks on loading. Imports ``ai`` (and so torch): not a simulation module.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import assets
from ai.autopilot import Autopilot
from ai.config import LearnerConfig
from ai.errors import PilotError
from ai.learner import Learner, LearnerState
from ai.onnx_io import OnnxPolicy
from ai.store.store import Store, memory_cap_bytes
from game.sim.levels import LEVELS, Level
from game.wiring.onnx_pilots import is_onnx, load_onnx

PILOTS_DIR = assets.path("pilots")
"""Where the shipped pretrained pilots live (``<level>.safetensors``), as package data."""
PRETRAINED = "pretrained"
"""The name of the shipped pilot of a level (``load_pilot("pretrained", level)``)."""
DEFAULT_LEVEL = "arcade"
"""The level ``'pretrained'`` means when none is named (the game's default)."""
LEGACY_META = {"physics_version": "1"}
"""What a learner state of format 3 or older was for besides its level: those saves predate
per-level physics versions, and every level had version 1 then."""


PRESETS: dict[str, LearnerConfig] = {
    # The seed's values (``LearnerConfig``'s defaults): 2-32-32-2, gamma 0.9.
    "classic": LearnerConfig(),
    "arcade": LearnerConfig(
        hidden=(64, 64), gamma=0.98, lr_early=3e-3, lr=1e-3, early_steps=5_000,
        updates_per_step_early=2.0,
        # Half a gradient step per env step: one flyer trained by ``main.py train`` reaches 0.9
        # of the oracle within 200k steps on 5/5 seeds, against 4/5 at a quarter (validation).
        # The game's one flyer takes a whole step (``PLAY``).
        updates_per_step=0.5, eps_decay_steps=5_000, target_sync_updates=500,
        # Exploration stays low: one random action at the wrong tick crashes a run, and runs
        # must reach the narrow gates late in a course to learn them.
        eps_end=0.002,
        # Crash lessons keep a quarter of each batch once the pilot flies well: without it
        # they dilute, the pilot forgets the narrow gates, and learning stalls.
        terminal_share=0.25, terminal_share_early=0.0,
        # Flying the average holds the pilot near its best: from scratch, 5 seeds end at
        # 0.96-0.98 of the oracle after 200k steps, against 0.20-0.98 without it.
        pilot_average_updates=10_000, pilot_average_warmup=0.25),
}
"""Each level's learner settings, for the game and ``main.py train`` alike."""


PLAY: dict[str, dict[str, Any]] = {"classic": {}, "arcade": {
    # Three-step returns carry a crash's lesson three decisions back per update; with the
    # scouts they held the worst seed up where one-step returns fell (the README's flock
    # section, bench/results/watch_learning.json "issue19").
    "n_step": 3,
    # The scouts double the transitions at 1x; a quarter step per transition keeps the
    # gradient steps a second where they were without them (the window's frames), and
    # learned as well on the worst seeds (the README's flock section).
    "updates_per_step_flock": 0.25,
    # A target network that follows the trained one by 0.5 % a step (Polyak, as BBF and
    # data-efficient Rainbow) instead of a copy every 500 steps held the worst of 10 seeds
    # at 0.94 of the oracle at 30 s and 60 s, against 0.76 and 0.64 (the README's flock
    # section; bench/results/watch_learning.json "main:tau005").
    "target_tau": 0.005,
    # One flyer (``--flock 1``) after its early phase: a gradient step per env step, not half.
    # It reached 0.9 of the oracle within 10,000 env steps on 10 of 10 seeds (7,000-10,000),
    # against 8 of 10 (9,000-15,000); at 1x that is 15 steps a second (the README's flock
    # section, bench/results/watch_learning.json "efficiency:one-ups1").
    "updates_per_step": 1.0}}
"""Settings the game's live learning puts on top of ``PRESETS`` and ``main.py train`` does not
(so the shipped pilots' card commands re-make them bit for bit)."""


def learner_config(level: Level, play: bool = True, **changes) -> LearnerConfig:
    """The learner's settings for ``level`` (its preset; the game's play settings on top
    unless ``play`` is False, as ``main.py train`` asks), with ``changes`` on top."""
    return dataclasses.replace(PRESETS[level.name],
                               **{**(PLAY[level.name] if play else {}), **changes})


def new_learner(level: Level, seed: int = 0, config: LearnerConfig | None = None) -> Learner:
    """A fresh learner for ``level`` (its preset unless ``config``), tagged with its metadata."""
    return Learner(level.obs_size, config or learner_config(level), meta=level.meta, seed=seed)


def learner_from_state(level: Level, state: LearnerState) -> Learner:
    """Rebuilds a saved learner of ``level``; ``StateError`` if it is for another level or
    physics version. Settings added since the save take the level's preset values."""
    return Learner.from_state(state, expect=level.meta, defaults=learner_config(level),
                              legacy_meta=LEGACY_META)


def load_pilot(path: str | os.PathLike, level: Level | str | None = None
               ) -> tuple[Autopilot | OnnxPolicy, Level]:
    """Reads a pilot for ``level`` (a spec or a name), or for the level the file names.

    ``path`` is a pilot file (``.safetensors``), an ONNX policy (``.onnx``, see
    ``game.wiring.onnx_pilots``; its ``notes`` say what was assumed) or ``'pretrained'``:
    the shipped pilot of ``level`` (default arcade), found wherever the game is installed::

        pilot, level = load_pilot("pretrained", "arcade")
        action = pilot.act(obs)

    Raises ``PilotError`` (one line) if it does not fit the level's physics version and
    observation.
    """
    if isinstance(level, str):
        if level not in LEVELS:
            raise PilotError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
        level = LEVELS[level]
    if str(path) == PRETRAINED:
        level = level or LEVELS[DEFAULT_LEVEL]
        path = pretrained_path(level.name)
    if is_onnx(path):
        return load_onnx(path, level)
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


def learner_store(level: Level, data_dir: Path, read_only: bool = False) -> Store:
    """The store of ``level``'s learner in ``data_dir``, checked against this game's physics.

    The memory file is capped at what the level's replay capacity can hold.
    """
    cfg = learner_config(level)
    return Store.for_data_dir(
        data_dir, level.name, expect={"physics_version": str(level.physics_version)},
        max_memory_bytes=memory_cap_bytes(cfg.capacity + cfg.terminal_capacity, level.obs_size),
        read_only=read_only)
