"""Greedy evaluation of a pilot on a fixed set of flights, and ``main.py evaluate``.

An evaluation flies fresh flights (classic) or courses (arcade) of one seed, each
once, with a greedy policy (``game.rollout.fly_once``); arcade runs are scored against
the exact oracle of their course, computed once per set.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from game.levels import Level
from game.rollout import Policy, fly_once

EVAL_SEED = 12345
"""Default seed of ``main.py evaluate``: its courses/flights are the held-out test set."""


@dataclass
class Evaluation:
    """Greedy flights on a fixed set: the courses (arcade) or flights (classic) of one seed."""

    level: Level
    episodes: int
    seed: int
    best: np.ndarray | None = None
    """The oracle's score per run, where the level has one (computed once)."""

    @classmethod
    def prepare(cls, level: Level, episodes: int, seed: int) -> Evaluation:
        """Sets up the evaluation, running the level's oracle (if any) once."""
        return cls(level, episodes, seed, level.oracle(episodes, seed))

    def scores(self, policy: Policy) -> np.ndarray:
        """Each run's score, flown greedily with ``policy``."""
        return fly_once(self.level, self.level.eval_batch(self.episodes, self.seed), policy)

    def run(self, policy: Policy) -> dict[str, Any]:
        """Flies every run with ``policy``; returns the JSON-able figures.

        Classic: ``success_rate``. Arcade: ``mean_score``, ``mean_score_over_oracle``,
        and ``success_rate``, the share of runs that scored the oracle's best.
        """
        out: dict[str, Any] = {"level": self.level.name, "episodes": self.episodes,
                               "seed": self.seed}
        out.update(self.level.figures(self.scores(policy), self.best))
        return out


@dataclass(frozen=True)
class EvalConfig:
    """``main.py evaluate``: fly a pilot file greedily and report its score."""

    path: Path
    """The pilot file (``game.learning.pretrained_path`` for a shipped one)."""
    level: Level | None = None
    """The level to fly; None: the one the pilot names."""
    episodes: int = 1000
    """Runs to fly."""
    seed: int = EVAL_SEED
    """Seed of the flights or courses (the default is the held-out test set)."""


@dataclass
class EvalReport:
    """What ``evaluate`` found: the pilot, its level and the figures."""

    path: Path
    level: Level
    layers: list[int]
    card: dict[str, Any]
    result: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    """One-line notes about what was loaded (for stderr; not part of the report)."""

    def json(self) -> str:
        """One JSON line: the figures and the model card."""
        return json.dumps({**self.result, "card": self.card})

    def text(self) -> str:
        """The model card, then the score, for a person."""
        return (f"{self.path}: {self.level.name} pilot, layers {self.layers}\nmodel card:\n"
                f"{format_card(self.card)}\n{self.level.report(self.result)}")


def evaluate(cfg: EvalConfig) -> EvalReport:
    """Loads the pilot (``PilotError`` if it does not fit) and flies it greedily."""
    from game.learning import load_pilot  # imports ai (torch): only when a pilot is flown

    pilot, level = load_pilot(cfg.path, cfg.level)
    result = Evaluation.prepare(level, cfg.episodes, cfg.seed).run(pilot.act_batch)
    return EvalReport(cfg.path, level, list(pilot.sizes), pilot.card, result)


def format_card(card: dict[str, Any]) -> str:
    """The model card as indented ``key: value`` lines (empty card: a one-line note)."""
    if not card:
        return "  (no model card)"
    return "\n".join(f"  {key}: {value if isinstance(value, str) else json.dumps(value)}"
                     for key, value in card.items())
