"""The learner the game saved: ``main.py evaluate learner`` and ``main.py export-pilot``.

Both read ``<data-dir>/learner/<level>/`` through a read-only ``ai.store.store.Store``: they
never take the one-writer lock (a game that is running keeps its learner), never move a
damaged save aside and never write into that folder. What they evaluate and export is
the learner's greedy pilot (``Learner.autopilot``: the weights the game's autopilot
flies with), so an exported file evaluates to exactly the figure ``evaluate learner``
gives on the same runs. Imports ``ai`` (torch): not a simulation module.
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai.autopilot import Autopilot
from ai.learner import Learner
from ai.store.store import Store, memory_cap_bytes
from game.commands.evaluate import EvalReport
from game.commands.train import CARD_EVAL_EPISODES, check_pilot_out, require_onnx_cli, save_pilot
from game.errors import CliError
from game.sim.evaluation import EVAL_SEED, Evaluation
from game.sim.levels import Level
from game.wiring.learning import learner_config, learner_from_state
from game.wiring.onnx_pilots import is_onnx

SOURCE = "exported from a saved learner"
"""The model card's ``source`` of an exported pilot (a trained one has a ``command``)."""


def learner_store(level: Level, data_dir: Path, read_only: bool = False) -> Store:
    """The store of ``level``'s learner in ``data_dir``, checked against this game's physics.

    The memory file is capped at what the level's replay capacity can hold.
    """
    cfg = learner_config(level)
    return Store.for_data_dir(
        data_dir, level.name, expect={"physics_version": str(level.physics_version)},
        max_memory_bytes=memory_cap_bytes(cfg.capacity + cfg.terminal_capacity, level.obs_size),
        read_only=read_only)


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
                "source": f"{SOURCE if exported else 'the saved learner'}: {self.where}"}

    def pilot(self, exported: bool = False) -> Autopilot:
        """The learner's greedy pilot, carrying this save's model card."""
        pilot = self.learner.autopilot()
        pilot.card = self.card(exported)
        return pilot


@dataclass(frozen=True)
class LearnerEvalConfig:
    """``main.py evaluate learner``: fly the saved learner's greedy pilot and report."""

    level: Level
    data_dir: Path
    episodes: int = 1000
    seed: int = EVAL_SEED


def evaluate_learner(cfg: LearnerEvalConfig) -> EvalReport:
    """Evaluates the saved learner's greedy pilot as ``evaluate`` does a pilot file.

    Raises:
        CliError: No usable save (one line).
    """
    saved = SavedLearner.load(cfg.level, cfg.data_dir)
    pilot = saved.pilot()
    result = Evaluation.prepare(cfg.level, cfg.episodes, cfg.seed).run(pilot.act_batch)
    return EvalReport(saved.folder, cfg.level, list(pilot.sizes), pilot.card, result,
                      notes=saved.notes)


@dataclass(frozen=True)
class ExportConfig:
    """``main.py export-pilot``: write the saved learner's greedy pilot as a pilot file."""

    level: Level
    data_dir: Path
    out: Path
    """The pilot file: ``.safetensors``, or ``.onnx`` (the same weights and card as ONNX)."""
    force: bool = False
    """Replace ``out`` if it exists (otherwise refused)."""
    episodes: int = CARD_EVAL_EPISODES
    """Held-out runs (seed ``EVAL_SEED``) of the evaluation written into the card."""

    def command(self) -> str:
        """The command line of this export (written into the model card)."""
        episodes = ([] if self.episodes == CARD_EVAL_EPISODES
                    else ["--episodes", str(self.episodes)])
        return shlex.join(["python", "main.py", "export-pilot", "--level", self.level.name,
                           "--data-dir", str(self.data_dir), "--out", str(self.out), *episodes])


@dataclass
class ExportReport:
    """What ``export-pilot`` wrote."""

    cfg: ExportConfig
    saved: SavedLearner
    evaluation: dict[str, Any]

    def lines(self) -> list[str]:
        """The summary for a person (the store's notes are in ``saved.notes``)."""
        lr, level = self.saved.learner, self.cfg.level
        return [f"exported the {level.name} learner of {self.saved.where} "
                f"({lr.env_steps} env steps, {lr.episodes} episodes learned) to {self.cfg.out}; "
                f"{level.headline(self.evaluation)} on {self.cfg.episodes} held-out runs "
                f"(seed {EVAL_SEED})"]


def export_pilot(cfg: ExportConfig) -> ExportReport:
    """Evaluates the saved learner's greedy pilot and writes it, with its card, atomically.

    Raises:
        CliError: One line: a bad or existing ``--out`` (without ``force``), no usable
            save, or the file could not be written.
    """
    _check_out(cfg)  # before the slow part: a bad --out fails at once
    if is_onnx(cfg.out):
        require_onnx_cli()
    saved = SavedLearner.load(cfg.level, cfg.data_dir)
    pilot = saved.pilot(exported=True)
    final = Evaluation.prepare(cfg.level, cfg.episodes, EVAL_SEED).run(pilot.act_batch)
    card = {"evaluation": final, "evaluated_on": f"{cfg.episodes} held-out runs "
            f"(seed {EVAL_SEED})", "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": cfg.command()}
    _check_out(cfg)  # again: the file may have appeared while the pilot was evaluated
    try:
        save_pilot(pilot, cfg.level, cfg.out, card)
    except OSError as exc:
        raise CliError(f"cannot write {cfg.out}: {exc.strerror or exc}") from None
    return ExportReport(cfg, saved, final)


def _check_out(cfg: ExportConfig) -> None:
    check_pilot_out(cfg.out)
    if os.path.lexists(cfg.out) and not cfg.force:
        raise CliError(f"--out {cfg.out} exists; --force replaces it")
