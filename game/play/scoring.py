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


def credit_text(points: dict[str, int]) -> str | None:
    """Who flew what of a shared run ("you 8 + autopilot 2"), or None if one pilot flew it."""
    if points["human"] and points["autopilot"]:
        return f"you {points['human']} + autopilot {points['autopilot']}"
    return None


class Scoring:
    """One run's score, stage and who flew what; records bests and says so with events.

    The controls can change hands mid-run (A), so each point is credited to whoever flew the
    tick that scored it, and each pilot's best is what that pilot flew in one run: a person
    who flew 8 gates and handed over for 2 more has flown 8, and the autopilot 2 (no one 10).

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
        self.flying = "autopilot" if assisted else "human"
        """Who has the controls: the next point is theirs."""
        self.points = {"human": 0, "autopilot": 0}
        """Points of the current run by who flew them."""

    @property
    def kind(self) -> str:
        """Whose best the HUD shows and the next point counts towards: who flies now."""
        return self.flying

    @property
    def assisted(self) -> bool:
        """True once the autopilot has flown any part of the current run (or flies it now)."""
        return self.flying == "autopilot" or self.points["autopilot"] > 0

    def hand_over(self, who: str) -> None:
        """The controls changed hands mid-run: the points so far stay with who flew them."""
        self.flying = who

    def credit(self) -> str | None:
        """Who flew what of this run ("you 8 + autopilot 2"), or None if one pilot flew it."""
        return credit_text(self.shares())

    def shares(self) -> dict[str, int]:
        """The run's points by pilot, adding up to the score shown (the autopilot's flock may
        show a leader who has fewer gates than the person had when they handed over)."""
        human = min(self.points["human"], self.score)
        return {"human": human, "autopilot": self.score - human}

    @property
    def best(self) -> int:
        """Best score of the current run's kind on this level."""
        return self.scores.get(self.level, self.kind) if self.scores is not None else 0

    def new_run(self, assisted: bool, start: int = 0) -> RunStarted:
        """A new run starts from ``start`` points, the flyer's (zero, but a flock's new leader
        starts at the gates it has; the stage counter is the caller's to reset)."""
        self.score = start
        self.flying = "autopilot" if assisted else "human"
        self.points = {"human": 0, "autopilot": 0}
        self.points[self.flying] = start
        return RunStarted(self.kind)

    def point(self, score: int) -> list[Event]:
        """The run's score became ``score``: the points gained are who flies now's, and a new
        best of theirs (what they flew of this run) is recorded and reported."""
        gained = score - self.score
        self.score = score
        out: list[Event] = [Scored(score)]
        if gained <= 0:
            return out
        who = self.flying
        self.points[who] += gained
        flown = self.points[who]
        if self.scores is not None and self.scores.record(self.level, who, flown):
            out.append(NewBest(who, flown))
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
        events.append(Crashed(self.score, self.credit()))
        if not self.streak:
            return Outcome.GAME_OVER, events
        events.append(self.new_run(assisted=autopilot))
        return Outcome.CRASHED, events
