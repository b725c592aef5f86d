"""Greedy evaluation of a policy on a fixed set of flights: the held-out test set.

An evaluation flies fresh flights (classic) or courses (arcade) of one seed, each
once, with a greedy policy (``game.sim.rollout.fly_once``); arcade runs are scored against
the exact oracle of their course, computed once per set.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from game.sim.levels import Level
from game.sim.rollout import Policy, fly_once

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
