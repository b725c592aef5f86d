"""Starting a level's learner the way the game does: resumed, fresh, or from a pilot file.

The command line (``game.ui.app.run``) and the title screen both start a level
through :func:`make_learner`, from a ``PlayConfig``.

Rules: no pyglet; torch is imported only when a learner is made.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from game.errors import CliError
from game.play.session import SessionConfig
from game.wiring.play_config import PlayConfig

AUTOSAVE_ENV = "GRAVITY_FLYER_AUTOSAVE_S"


def pilot_path(spec: str, level: str) -> Path:
    """The pilot file ``--autopilot`` names (``game.wiring.pilot_names``; the saved learner
    is what the game resumes anyway, so 'learner' is no pilot here)."""
    from game.wiring.pilot_names import resolve  # imports torch: only when a pilot is named

    path = resolve(spec, level, learner=False).path
    assert path is not None
    return path


@dataclass
class LearnerSetup:
    """The learner the game starts with, where it is saved, and what to tell the player."""

    learner: Any | None = None
    """The live learner, or None when the autopilot is unavailable."""
    store: Any | None = None
    """The level's ``ai.store.store.Store``, or None when the data folder cannot be used."""
    messages: list[str] = field(default_factory=list)
    """One line each, for the terminal and the HUD."""
    unavailable: str | None = None
    """Why there is no learner."""
    resumed: tuple[int, int] | None = None
    """``(episodes, env_steps)`` carried over from the loaded save."""
    generation: int | None = None
    """The save the learner was resumed from."""
    from_pilot: bool = False
    """A fresh learner that starts from the ``--autopilot`` pilot's weights."""


def make_learner(cfg: PlayConfig, data_dir: Path | None) -> LearnerSetup:
    """Resumes the level's saved learner (or starts a fresh one) and loads ``--autopilot``.

    A saved learner wins over ``--autopilot``: it is the continuation of the learning
    that may have started from that pilot; ``--fresh`` starts again from the pilot.
    The pilot file is only ever read.
    """
    try:
        import ai
        from game.wiring.learning import LEVELS, load_pilot, new_learner
    except Exception as exc:
        if cfg.autopilot:
            raise CliError(f"cannot load the autopilot ({type(exc).__name__}: {exc})") from None
        return LearnerSetup(unavailable=f"autopilot unavailable ({type(exc).__name__})")
    level, spec = cfg.level, LEVELS[cfg.level]
    setup = LearnerSetup()
    pilot = None
    if cfg.autopilot:
        try:  # read (and checked) even when a saved learner wins: a bad file is an error
            pilot, _ = load_pilot(pilot_path(cfg.autopilot, level), spec)
        except ai.PilotError as exc:
            raise CliError(str(exc)) from None
    learner = None
    if data_dir is None:
        setup.messages.append("learning will not be saved: the data folder cannot be used")
    else:
        learner = _saved_learner(setup, cfg, spec, data_dir, pilot is not None)
    if learner is None:
        seed = (cfg.seed if cfg.seed is not None
                else int(np.random.SeedSequence().entropy % 2**63))
        learner = new_learner(spec, seed=seed)
        if pilot is not None:
            try:
                learner.load_pilot(pilot)
            except ai.PilotError as exc:
                raise CliError(str(exc)) from None
            setup.from_pilot = True
    learner.learn_enabled = bool(cfg.learn)
    setup.learner = learner
    return setup


def _saved_learner(setup: LearnerSetup, cfg: PlayConfig, spec: Any, data_dir: Path,
                   have_pilot: bool) -> Any | None:
    """The level's store in ``setup.store`` and the learner saved there, if any.

    Another window holding the store's lock keeps it: this one learns in memory only,
    starting from what that one saved last.
    """
    from game.wiring.learning import learner_from_state, learner_store

    store = setup.store = learner_store(spec, data_dir)

    def build(state: Any) -> Any:
        return learner_from_state(spec, state)

    if store.claim():
        return _resume(setup, cfg, build, have_pilot)
    setup.messages.append(store.busy_message)
    setup.store = None
    if cfg.fresh:
        return None
    learner = store.load(build=build).built  # read without touching it
    if learner is not None:
        setup.resumed = (int(learner.episodes), int(learner.env_steps))
    return learner


def _resume(setup: LearnerSetup, cfg: PlayConfig, build: Any,
            have_pilot: bool) -> Any | None:
    """The saved learner of ``setup.store`` (None: none, or ``--fresh`` moved it aside)."""
    store, level = setup.store, cfg.level
    if cfg.fresh:
        try:
            moved = store.move_aside_all()
        except OSError as exc:
            setup.messages.append(f"--fresh: could not move the old {level} learner aside "
                                  f"({exc.strerror or exc}); it stays, not loaded")
        else:
            setup.messages.append(f"fresh {level} learner; the old one was moved to {moved}"
                                  if moved else f"fresh {level} learner (none was saved)")
        return None
    result = store.load(build=build)
    setup.messages.extend(result.messages)
    learner = result.built
    if learner is not None:
        setup.resumed = (int(learner.episodes), int(learner.env_steps))
        setup.generation = result.generation
        if have_pilot:
            setup.messages.append(f"resumed the saved {level} learner; the pilot "
                                  f"{cfg.autopilot!r} is not loaded over it "
                                  "(--fresh starts again from the pilot)")
    return learner


def autosave_interval() -> float:
    """``GRAVITY_FLYER_AUTOSAVE_S`` if set (tests and benches), else the default."""
    text = os.environ.get(AUTOSAVE_ENV, "").strip()
    if not text:
        return SessionConfig.autosave_s
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise CliError(f"{AUTOSAVE_ENV} must be a positive number of seconds, got {text!r}")
    return value
