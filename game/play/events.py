"""What a session reports happened, one small frozen dataclass per kind of event.

The window turns them into sounds, flashes and messages; it never infers them
from the score. Standard library only.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RunStarted:
    """A new run began (classic: a new streak; arcade: a new course)."""

    kind: str
    """Whose best it counts towards: 'human' or 'autopilot'."""


@dataclass(frozen=True)
class Jumped:
    """A JUMP reached the world."""

    human: bool


@dataclass(frozen=True)
class Scored:
    """A point: a safe crossing (classic) or a gate passed (arcade)."""

    score: int


@dataclass(frozen=True)
class NewBest:
    """The run's score beat its kind's best on this level (and was recorded)."""

    kind: str
    score: int


@dataclass(frozen=True)
class StageReached:
    """The flyer began a new crossing of the field."""

    stage: int


@dataclass(frozen=True)
class Crashed:
    """The flyer hit an edge or a wall."""

    score: int
    """The run's score at the crash."""
    credit: str | None = None
    """Who flew what of a shared run ("you 8 + autopilot 2"), None if one pilot flew it."""


@dataclass(frozen=True)
class Saved:
    """A save of the learner finished."""

    ok: bool
    message: str
    generation: int | None = None


Event = RunStarted | Jumped | Scored | NewBest | StageReached | Crashed | Saved
