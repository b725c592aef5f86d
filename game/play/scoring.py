"""The score of the run being flown, whose run it is, and the best scores it may beat.

Standard library only. The best scores are kept by a ``game.wiring.best_scores.ScoreBook``
(passed in, duck-typed).
"""

from __future__ import annotations

from enum import Enum
from typing import Any, Protocol

from game.play.events import Crashed, Event, NewBest, RunStarted, Scored, StageReached


class Outcome(Enum):
    """What a tick meant for the run."""

    FLYING = "flying"
    NEXT_FLIGHT = "next_flight"
    """Classic: a safe crossing; the streak goes on with a new flight at once."""
    CRASHED = "crashed"
    """Classic: the streak ended."""
    GAME_OVER = "game_over"
    """Arcade: the run ended."""


class ScoreBookLike(Protocol):
    """What the game uses of ``game.wiring.best_scores.ScoreBook``."""

    def get(self, level: str, kind: str = "human") -> int: ...

    def record(self, level: str, kind: str, score: int) -> bool: ...


class Scoring:
    """One run's score, stage and kind; records bests and says so with events.

    A run counts towards the player's best only if the autopilot flew none of it.

    Args:
        level: the level's name (the score book's key).
        scores: the best scores, or None (nothing is recorded).
        assisted: True if the autopilot flies the first run.
    """

    def __init__(self, level: str, scores: ScoreBookLike | None, assisted: bool,
                 streak: bool = False) -> None:
        self.level = level
        self.streak = streak
        """True: a run is a streak of flights, a point each (classic); False: a run is one
        flight and the world keeps the score (arcade)."""

        self.scores = scores
        self.score = 0
        self.stage = 0
        """Crossings of the field in this run (arcade) or the streak's length (classic)."""
        self.assisted = assisted
        """True once the autopilot has flown any part of the current run."""

    @property
    def kind(self) -> str:
        """Whose best the current run counts towards: 'human' or 'autopilot'."""
        return "autopilot" if self.assisted else "human"

    @property
    def best(self) -> int:
        """Best score of the current run's kind on this level."""
        return self.scores.get(self.level, self.kind) if self.scores is not None else 0

    def new_run(self, assisted: bool) -> RunStarted:
        """A new run starts from zero (the stage counter is the caller's to reset)."""
        self.score = 0
        self.assisted = assisted
        return RunStarted(self.kind)

    def point(self, score: int) -> list[Event]:
        """The run's score became ``score``; a new best is recorded and reported."""
        self.score = score
        out: list[Event] = [Scored(score)]
        if self.scores is not None and self.scores.record(self.level, self.kind, score):
            out.append(NewBest(self.kind, score))
        return out

    def after_tick(self, world: Any, reward: float, terminated: bool,
                   autopilot: bool) -> tuple[Outcome, list[Event]]:
        """Scores one tick by the level's rules.

        Args:
            world: the world after the tick (arcade: its ``score`` and ``stage``).
            reward, terminated: what the tick returned.
            autopilot: the autopilot flies (whose run a new streak is).
        """
        events: list[Event] = []
        if not self.streak and world.stage != self.stage:
            self.stage = world.stage
            events.append(StageReached(self.stage))
        success = reward > 0
        if self.streak and terminated and success:
            self.stage += 1
            events += self.point(self.score + 1)
        elif not self.streak and success:
            events += self.point(world.score)
        if not terminated:
            return Outcome.FLYING, events
        if self.streak and success:
            return Outcome.NEXT_FLIGHT, events
        events.append(Crashed(self.score))
        if not self.streak:
            return Outcome.GAME_OVER, events
        events.append(self.new_run(assisted=autopilot))
        return Outcome.CRASHED, events
