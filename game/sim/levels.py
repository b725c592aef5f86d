"""The levels as objects: each spec says how to build, observe, score and train its level.

Code asks a spec (``LEVELS[name]``) instead of comparing level names, as Gymnasium's
registry entries do; a third level is one more spec here (plus its world module).

Rules: numpy only (a simulation module): no pyglet, no ``ai``, no torch. The learner's
settings for each level are typed ``ai.LearnerConfig`` presets in ``game.wiring.learning``,
which knows the learner; a level only says how ``main.py train`` differs from the game.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from game.sim import arcade, classic


@dataclass(frozen=True)
class TrainSettings:
    """What ``main.py train`` does differently from the game's online learning."""

    batch_size: int | None = None
    """Transitions per gradient step; None keeps the game's ``LearnerConfig.batch_size``."""
    lr_final: float | None = None
    """Anneal the learning rate geometrically to this by the last step; None keeps it."""
    keep_best: bool = False
    """Ship the live checkpoint that flew the validation set best, not the last one."""


@dataclass(frozen=True)
class Level(ABC):
    """One level: its worlds, observation, physics, scoring and training settings.

    Subclasses say how a run is scored; everything else is data.
    """

    name: str
    """The level's name on the command line, in files and in pilot metadata."""
    physics_version: int
    """Bumped with any rule change of the level; pilots and learners of another are refused."""
    obs_size: int
    """Length of the observation vector."""
    obs_layout: str
    """The observation's entries in order (written into every model card)."""
    ticks_per_second: float
    """Physics ticks per second of play at 1x."""
    decision_ticks: int
    """Physics ticks per autopilot decision (``world.step`` is one decision)."""
    train: TrainSettings = TrainSettings()
    """How ``main.py train`` differs from the game's learner."""
    figure_name: str = ""
    """What ``figure`` measures, for reports ('success rate', 'score/oracle')."""
    streak: ClassVar[bool] = False
    """True: the game's run is a streak of flights, a point per success (the window's
    scoring); False: a run is one flight and the world keeps its score."""

    @property
    def meta(self) -> dict[str, str]:
        """Metadata a learner state or pilot of this level carries and is checked against."""
        return {"level": self.name, "physics_version": str(self.physics_version)}

    @property
    def pilot_meta(self) -> dict[str, str]:
        """``meta`` plus the observation size: what a pilot file must say to fly this level."""
        return {**self.meta, "obs_size": str(self.obs_size)}

    # ---- worlds ---------------------------------------------------------------------------

    @abstractmethod
    def world(self, seed: int | None = None) -> Any:
        """The scalar world the game plays (endless where the level has courses)."""

    @abstractmethod
    def train_batch(self, n: int, seed: int | None = None) -> Any:
        """``n`` flyers that restart as their runs end, for training."""

    @abstractmethod
    def eval_batch(self, n: int, seed: int) -> Any:
        """``n`` flyers that fly once each (no restart), for a greedy evaluation."""

    @abstractmethod
    def eval_batch_joined(self, sets: list[tuple[int, int]], copies: int) -> Any:
        """One ``eval_batch`` holding ``copies`` times the runs of every ``(n, seed)`` set in
        turn (``evaluation.scores_together``: several pilots on several sets, one world step)."""

    # ---- scoring --------------------------------------------------------------------------

    @abstractmethod
    def episode_score(self, world: Any, reward: float) -> float:
        """The score of a scalar world's run that just ended with ``reward``."""

    @abstractmethod
    def batch_episode_score(self, batch: Any, i: int, reward: float) -> float:
        """The score of flyer ``i``'s run that just ended in a training batch."""

    def truncated(self, reward: float, terminated: bool) -> bool:
        """Whether an ending was a cut-off by a finite world (bootstrapped), not a real end."""
        return False

    @abstractmethod
    def eval_ended(self, batch: Any, rewards: np.ndarray, terminated: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """``(ended, score)`` per flyer of an evaluation batch after a step."""

    def oracle(self, episodes: int, seed: int, shipped: bool = True) -> np.ndarray | None:
        """The best score each run of ``eval_batch(episodes, seed)`` allows, or None."""
        return None

    @abstractmethod
    def figures(self, scores: np.ndarray, best: np.ndarray | None) -> dict[str, Any]:
        """The JSON-able figures of an evaluation's scores (``game.sim.evaluation``)."""

    @abstractmethod
    def figure(self, result: Mapping[str, Any]) -> float:
        """The one number that says how good a pilot is, from ``figures``."""

    @abstractmethod
    def headline(self, result: Mapping[str, Any]) -> str:
        """``figure`` as a short phrase ('success 99.0%')."""

    @abstractmethod
    def report(self, result: Mapping[str, Any]) -> str:
        """One line for ``main.py evaluate``."""


@dataclass(frozen=True)
class FlightLevel(Level):
    """A level of single crossings: a flight succeeds (score 1) or crashes (score 0)."""

    streak: ClassVar[bool] = True

    def world(self, seed: int | None = None) -> classic.ClassicWorld:
        return classic.ClassicWorld(seed)

    def train_batch(self, n: int, seed: int | None = None) -> classic.ClassicBatch:
        return classic.ClassicBatch(n, seed=seed)

    def eval_batch(self, n: int, seed: int) -> classic.ClassicBatch:
        return classic.ClassicBatch(n, seed=seed, autoreset=False)

    def eval_batch_joined(self, sets: list[tuple[int, int]], copies: int) -> classic.ClassicBatch:
        v_y = np.tile(np.concatenate([self.eval_batch(n, s).v_y for n, s in sets]), copies)
        batch = classic.ClassicBatch(v_y.size, autoreset=False)
        batch.reset(v_y)  # a flight is its start speed: the same flights
        return batch

    def episode_score(self, world: Any, reward: float) -> float:
        return 1.0 if reward > 0 else 0.0

    def batch_episode_score(self, batch: Any, i: int, reward: float) -> float:
        return float(reward > 0)

    def eval_ended(self, batch: Any, rewards: np.ndarray, terminated: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        # Every flight ends by its 40th tick, at the right edge at the latest.
        return terminated, (rewards > 0).astype(np.float64)

    def figures(self, scores: np.ndarray, best: np.ndarray | None) -> dict[str, Any]:
        rate = float(scores.mean())
        return {"success_rate": rate, "mean_score": rate, "successes": int(scores.sum())}

    def figure(self, result: Mapping[str, Any]) -> float:
        return result["success_rate"]

    def headline(self, result: Mapping[str, Any]) -> str:
        return f"success {100 * result['success_rate']:.1f}%"

    def report(self, result: Mapping[str, Any]) -> str:
        return (f"{self.name} success rate {100 * result['success_rate']:.1f}% "
                f"({result['successes']}/{result['episodes']} flights, seed {result['seed']})")


@dataclass(frozen=True)
class CourseLevel(Level):
    """A level of runs along a course of gates: the score is gates passed before a crash.

    The game's course is endless. Training flies finite courses of ``train_gates``
    gates (passing the last is a cut-off, not an end); evaluation counts the first
    ``eval_gates`` gates and scores each run against the exact oracle of its course.
    """

    train_gates: int = 1_000
    """Course length while training: long, as the game's course is endless."""
    eval_gates: int = 100
    """Gates counted by an evaluation; the score is capped at this."""

    def world(self, seed: int | None = None) -> arcade.ArcadeWorld:
        return arcade.ArcadeWorld(seed, n_gates=None)

    def train_batch(self, n: int, seed: int | None = None) -> arcade.ArcadeBatch:
        return arcade.ArcadeBatch(n, seed=seed, n_gates=self.train_gates)

    def eval_batch(self, n: int, seed: int) -> arcade.ArcadeBatch:
        # One gate more than counted: on the way to the last counted gate the pilot sees the
        # next one ahead, as in the endless game (course prefixes are stable, so the counted
        # gates are those of the eval_gates-gate course and its oracle is the ceiling). A
        # course ending at eval_gates would show an open field the game never has.
        return arcade.ArcadeBatch(n, seed=seed, n_gates=self.eval_gates + 1, autoreset=False)

    def eval_batch_joined(self, sets: list[tuple[int, int]], copies: int) -> arcade.ArcadeBatch:
        parts = [self.eval_batch(n, s) for n, s in sets]
        courses = np.tile(np.concatenate([b.course_seed for b in parts]), copies)
        v_y = np.tile(np.concatenate([b.v_y for b in parts]), copies)
        batch = arcade.ArcadeBatch(courses.size, n_gates=self.eval_gates + 1, autoreset=False)
        batch.reset(courses, v_y)  # a run is its course and start speed: the same runs
        return batch

    def episode_score(self, world: Any, reward: float) -> float:
        return float(world.score)

    def batch_episode_score(self, batch: Any, i: int, reward: float) -> float:
        return float(batch.final_score[i])

    def truncated(self, reward: float, terminated: bool) -> bool:
        # A run that passed its course's last gate was cut off by the finite world, not
        # ended: stored bootstrapped. (Skipping it instead leaves only crashes at the last
        # gate in memory, and the pilot learns to fail it.)
        return bool(terminated) and reward >= 0

    def eval_ended(self, batch: Any, rewards: np.ndarray, terminated: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        n = self.eval_gates
        return terminated | (batch.score >= n), np.minimum(batch.score, n).astype(np.float64)

    def oracle(self, episodes: int, seed: int, shipped: bool = True) -> np.ndarray:
        """The oracle's score per run; the skill meter's sets are shipped computed
        (``game.sim.oracle.SHIPPED_FILE``; ``shipped=False`` computes them again)."""
        from game.sim import oracle  # a numpy search; imported only when needed

        key = oracle.shipped_key(self.name, self.physics_version, self.eval_gates, episodes, seed)
        known = oracle.shipped_scores(key) if shipped else None
        if known is not None:
            return known
        # The same course seeds and initial speeds as eval_batch(episodes, seed).
        batch = arcade.ArcadeBatch(episodes, seed=seed, n_gates=self.eval_gates,
                                   autoreset=False)
        return oracle.oracle_scores(batch.course_seed, self.eval_gates, batch.v_y.copy())

    def figures(self, scores: np.ndarray, best: np.ndarray | None) -> dict[str, Any]:
        ratio = score_over_oracle(scores, best)
        return {"success_rate": float((scores >= best).mean()),
                "mean_score": float(scores.mean()),
                "mean_score_over_oracle": float(ratio.mean()),
                "min_score_over_oracle": float(ratio.min()), "mean_oracle": float(np.mean(best)),
                "n_gates": self.eval_gates}

    def figure(self, result: Mapping[str, Any]) -> float:
        return result["mean_score_over_oracle"]

    def headline(self, result: Mapping[str, Any]) -> str:
        return f"score/oracle {result['mean_score_over_oracle']:.3f}"

    def report(self, result: Mapping[str, Any]) -> str:
        return (f"{self.name} mean score {result['mean_score']:.2f} gates, mean score/oracle "
                f"{result['mean_score_over_oracle']:.4f} ({result['episodes']} runs of "
                f"{self.eval_gates} gates, seed {result['seed']})")


def score_over_oracle(scores: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Each run's score divided by its oracle score (1.0 where even the oracle scores 0)."""
    best = np.asarray(best, dtype=np.float64)
    return np.where(best > 0, scores / np.maximum(best, 1.0), 1.0)


CLASSIC = FlightLevel(
    name="classic", physics_version=classic.PHYSICS_VERSION,
    obs_size=classic.ClassicBatch.obs_size, obs_layout="y, v_y",
    ticks_per_second=float(classic.TICKS_PER_SECOND),
    decision_ticks=classic.ClassicWorld.decision_ticks, figure_name="success rate")
"""The seed's level: one crossing of the field per flight."""

ARCADE = CourseLevel(
    name="arcade", physics_version=arcade.PHYSICS_VERSION, obs_size=arcade.OBS_SIZE,
    obs_layout="y, v_y, dx_next_wall, next_gap_y - y, next_half_gap, dx_wall_after, "
               "gap_after_y - y, half_gap_after",
    ticks_per_second=float(arcade.TICKS_PER_SECOND), decision_ticks=arcade.DECISION_TICKS,
    figure_name="score/oracle",
    # Twice the game's batch per gradient step: smoother gradients settle the pilot closer to
    # the oracle (held-out score/oracle at 1.5M steps, measured before the averaged pilot:
    # 0.987 against 0.974 for 64); the game keeps 64, which costs less per tick while it
    # learns live. Arcade's greedy score still swings between neighbouring checkpoints, so
    # the pilot kept is the one that flew the validation courses best.
    train=TrainSettings(batch_size=128, lr_final=1e-5, keep_best=True))
"""Gates on an endless course, scored against the exact oracle."""

LEVELS: dict[str, Level] = {level.name: level for level in (CLASSIC, ARCADE)}
"""Every level by name, in menu order."""

