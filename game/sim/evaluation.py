"""Greedy evaluation of a policy on a fixed set of flights: the held-out test set.

An evaluation flies fresh flights (classic) or courses (arcade) of one seed, each
once, with a greedy policy (``game.sim.rollout.fly_once``); arcade runs are scored against
the exact oracle of their course, computed once per set.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from game.sim.levels import Level
from game.sim.rollout import Policy, fly_once

EVAL_SEED = 12345
"""Default seed of ``main.py evaluate``: its courses/flights are the held-out test set."""
VALIDATION_SEED = 54321
"""The validation set's seed: what ``train`` keeps its best checkpoint by and the game crowns
its flying pilot by (``game.play.skill``), never the test set."""


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
        return self.result(self.scores(policy))

    def result(self, scores: np.ndarray) -> dict[str, Any]:
        """``run``'s figures of the runs' ``scores``."""
        out: dict[str, Any] = {"level": self.level.name, "episodes": self.episodes,
                               "seed": self.seed}
        out.update(self.level.figures(scores, self.best))
        return out


def scores_together(sets: list[Evaluation], policies: list[Policy]) -> list[list[np.ndarray]]:
    """``scores`` of every policy on every set (``[policy][set]``), flown as one batch.

    Why: a flight of 100 runs is thousands of small numpy calls, whose cost hardly grows with
    the rows; the skill meter's judged reading (two pilots on the validation and the held-out
    set) took three flights of ~0.9 s and takes one of ~1.5 s this way. Each policy is called
    on each set's rows apart, with the shape ``scores`` calls it with, so the scores are the
    same (``tests/test_levels.py``).
    """
    level = sets[0].level
    sizes = [e.episodes for e in sets]
    edges = np.cumsum([0, *sizes])
    n = int(edges[-1])
    batch = level.eval_batch_joined([(e.episodes, e.seed) for e in sets], len(policies))

    def policy(obs: np.ndarray) -> np.ndarray:
        return np.concatenate([p(obs[i * n + a:i * n + b]) for i, p in enumerate(policies)
                               for a, b in zip(edges[:-1], edges[1:], strict=True)])

    flat = fly_once(level, batch, policy)
    return [[flat[i * n + a:i * n + b] for a, b in zip(edges[:-1], edges[1:], strict=True)]
            for i in range(len(policies))]


EVAL_CHUNK = 100_000
"""Runs flown at once by ``evaluate_in_chunks``: memory stays flat however many are asked for
(10,000,000 arcade runs at once tried to allocate 7.45 GiB)."""


def chunk_seed(seed: int, k: int) -> int:
    """The seed of chunk ``k`` of an evaluation of seed ``seed``: ``seed`` itself for the first."""
    if k == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), k]).generate_state(1, np.uint64)[0] >> 1)


def evaluate_in_chunks(level: Level, episodes: int, seed: int, policy: Policy,
                       progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """``Evaluation.prepare(level, episodes, seed).run(policy)``, ``EVAL_CHUNK`` runs at a time.

    Up to ``EVAL_CHUNK`` runs it is exactly that evaluation (same runs, same figures); beyond,
    chunk ``k`` flies the runs of ``chunk_seed(seed, k)``. ``progress(n)`` is called after
    each chunk with its number of runs.
    """
    scores, best = [], []
    for k, start in enumerate(range(0, episodes, EVAL_CHUNK)):
        n = min(EVAL_CHUNK, episodes - start)
        part = Evaluation.prepare(level, n, chunk_seed(seed, k))
        scores.append(part.scores(policy))
        best.append(part.best)
        if progress is not None:
            progress(n)
    out: dict[str, Any] = {"level": level.name, "episodes": episodes, "seed": seed}
    out.update(level.figures(np.concatenate(scores),
                             None if best[0] is None else np.concatenate(best)))
    return out
