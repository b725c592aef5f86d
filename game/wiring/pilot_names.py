"""Naming a pilot: ``'pretrained' | 'learner' | PATH``, resolved in one place, one set of words.

Every command that takes a pilot name asks here: play's ``--autopilot``, ``evaluate``,
``record --autopilot``. ``'pretrained'`` is the level's shipped pilot (package data),
``'learner'`` the learner the game saved in the data folder, anything else a pilot file
(``./learner`` for a file of that name).

Rules: the saved learner is only ever read: ``SavedLearner`` opens its store read-only, so
naming it never takes the one-writer lock, moves no file aside and writes nothing (a game
that is running keeps its learner). Every error is one line (``CliError``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai.autopilot import Autopilot
from ai.errors import PilotError
from ai.learner import Learner
from game.errors import CliError
from game.sim.levels import LEVELS, Level
from game.wiring.best_scores import default_data_dir
from game.wiring.learning import learner_from_state, learner_store, load_pilot, pretrained_path

PRETRAINED = "pretrained"
"""The name of the level's shipped pilot."""
LEARNER = "learner"
"""The name of the learner the game saved in the data folder."""
EXPORTED = "exported from a saved learner"
"""The model card's ``source`` of an exported pilot (a trained one has a ``command``)."""


@dataclass(frozen=True)
class PilotName:
    """What a pilot name means: the shipped pilot, the saved learner, or a pilot file."""

    spec: str
    """The name as given."""
    path: Path | None
    """The pilot file (the shipped one for 'pretrained'); None for the saved learner."""

    @property
    def is_learner(self) -> bool:
        return self.path is None


def resolve(spec: str, level: str | None, learner: bool = True) -> PilotName:
    """The pilot ``spec`` names for the level called ``level``.

    Args:
        spec: 'pretrained', 'learner' or a path.
        level: The level ('pretrained' needs one); None: the file's own.
        learner: Whether 'learner' is accepted here.

    Raises:
        CliError: One line: no such file, no shipped pilot, or 'learner' where it is not
            accepted.
    """
    if spec == LEARNER:
        if not learner:
            raise CliError(f"'{LEARNER}' names the saved learner, which is not flown here; "
                           f"give 'pretrained' or a pilot file (./{LEARNER} for a file)")
        return PilotName(spec, None)
    if spec == PRETRAINED:
        if level is None:
            raise CliError(f"'{PRETRAINED}' needs --level ({' or '.join(LEVELS)})")
        path = pretrained_path(level)
        if not path.is_file():
            raise CliError(f"no pretrained pilot for {level} (expected {path})")
        return PilotName(spec, path)
    path = Path(spec)
    if not path.is_file():
        raise CliError(f"{path} is not a file" if path.exists() else f"no pilot file at {path}")
    return PilotName(spec, path)


@dataclass
class LoadedPilot:
    """A pilot ready to fly, and what to tell the person about it."""

    pilot: Autopilot
    level: Level
    who: str
    """One line: which pilot this is."""
    notes: list[str] = field(default_factory=list)
    """One-line notes about what was loaded (the store's, for the saved learner)."""


def load(name: PilotName, level: Level | None, data_dir: Path | None = None) -> LoadedPilot:
    """The greedy pilot ``name`` names, checked against ``level`` (None: the file's own).

    Raises:
        CliError: One line: the file is not a pilot for this level, or there is no usable
            saved learner.
    """
    if name.is_learner:
        if level is None:
            raise CliError(f"'{LEARNER}' needs --level ({' or '.join(LEVELS)})")
        saved = SavedLearner.load(level, data_dir if data_dir is not None else _data_dir())
        return LoadedPilot(saved.pilot(), level, f"the saved {level.name} learner "
                           f"({saved.learner.env_steps} env steps, {saved.where})", saved.notes)
    assert name.path is not None
    try:
        pilot, level = load_pilot(name.path, level)
    except PilotError as exc:
        raise CliError(str(exc)) from None
    who = f"the pretrained {level.name} pilot" if name.spec == PRETRAINED else \
        f"pilot {name.path.name}"
    return LoadedPilot(pilot, level, who)


def _data_dir() -> Path:
    return default_data_dir()


@dataclass
class SavedLearner:
    """A learner read from the game's data folder, and where it came from."""

    level: Level
    folder: Path
    generation: int
    learner: Learner
    notes: list[str] = field(default_factory=list)
    """The store's one-line notes (e.g. the newest save was damaged, an older one is used)."""

    @classmethod
    def load(cls, level: Level, data_dir: Path) -> SavedLearner:
        """Reads the newest usable save, changing nothing on disk.

        Raises:
            CliError: One line: there is no save, or none that this game can use.
        """
        store = learner_store(level, data_dir, read_only=True)
        result = store.load(build=lambda state: learner_from_state(level, state))
        if result.built is None or result.generation is None:
            why = "; ".join(result.messages) or "the game has saved none there"
            raise CliError(f"no saved {level.name} learner to use in {store.folder} ({why})")
        return cls(level, store.folder, result.generation, result.built, list(result.messages))

    @property
    def where(self) -> str:
        """The save, for a person: ``<folder> (save N)``."""
        return f"{self.folder} (save {self.generation})"

    def card(self, exported: bool = False) -> dict[str, Any]:
        """The model card of the learner's greedy pilot: what it is and what it learned from."""
        lr, level = self.learner, self.level
        return {"level": level.name, "physics_version": level.physics_version,
                "observation": level.obs_layout, "trained_env_steps": lr.env_steps,
                "trained_episodes": lr.episodes, "training_updates": lr.updates,
                "seed": lr.seed,
                "source": f"{EXPORTED if exported else 'the saved learner'}: {self.where}"}

    def pilot(self, exported: bool = False) -> Autopilot:
        """The learner's greedy pilot, carrying this save's model card."""
        pilot = self.learner.autopilot()
        pilot.card = self.card(exported)
        return pilot
