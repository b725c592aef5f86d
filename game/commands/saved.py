"""The learner the game saved: ``main.py evaluate learner`` and ``main.py export-pilot``.

Both read ``<data-dir>/learner/<level>/`` through ``game.wiring.pilot_names.SavedLearner``
(a read-only ``ai.store.store.Store``): they
never take the one-writer lock (a game that is running keeps its learner), never move a
damaged save aside and never write into that folder. What they evaluate and export is
the learner's greedy pilot (``Learner.autopilot``: the weights the game's autopilot
flies with), so an exported file evaluates to exactly the figure ``evaluate learner``
gives on the same runs.

Rules: a command; imports ``ai`` (torch).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from game.commands.evaluate import EvalReport
from game.commands.train import CARD_EVAL_EPISODES, check_pilot_out
from game.errors import CliError
from game.sim.evaluation import EVAL_SEED, Evaluation
from game.sim.levels import Level
from game.wiring.pilot_names import SavedLearner


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
    saved = SavedLearner.load(cfg.level, cfg.data_dir)
    pilot = saved.pilot(exported=True)
    final = Evaluation.prepare(cfg.level, cfg.episodes, EVAL_SEED).run(pilot.act_batch)
    card = {"evaluation": final, "evaluated_on": f"{cfg.episodes} held-out runs "
            f"(seed {EVAL_SEED})", "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": cfg.command()}
    _check_out(cfg)  # again: the file may have appeared while the pilot was evaluated
    try:
        pilot.save(cfg.out, card)
    except OSError as exc:
        raise CliError(f"cannot write {cfg.out}: {exc.strerror or exc}") from None
    return ExportReport(cfg, saved, final)


def _check_out(cfg: ExportConfig) -> None:
    check_pilot_out(cfg.out)
    if os.path.lexists(cfg.out) and not cfg.force:
        raise CliError(f"--out {cfg.out} exists; --force replaces it")
