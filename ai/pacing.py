"""Replay pacing: how many gradient steps each stored transition pays for, decided in one place.

A learner learns at a replay ratio (gradient steps per env step). Before this object the ratio
was decided in five places (the config, the level preset, the flock's constants, the window's
flock, which set the flock's ratio to 0 and paid the steps itself, and ``load_pilot``). Now the
config's fields make one ``ReplayPacing``; the learner, the flock and the window all ask it:

* one flyer (the game's single flyer, ``main.py train``): ``early`` gradient steps per env step
  for the first ``early_steps``, then ``later``;
* a flock at the pace of play (1x): ``flock`` from the first step (many flyers give many
  transitions a second, the early burst would not fit a frame);
* a flock fast-forwarded (4x, 16x): ``flock`` over the speed, so its gradient steps per
  second are 1x's;
* any flyers at top speed, where compute and not play time is the limit: ``top``.

No gradient step runs before ``learning_starts`` transitions are stored. The window does not
run a decision's steps at once: ``Learner.observe_batch(defer=True)`` only adds them to the
learner's credit, and the window pays them tick by tick (``Learner.pay``), so no frame carries
a burst. The credit is part of the learner's saved state, so deferring keeps exact resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ReplayPacing:
    """Gradient steps per env step, by phase and by who flies (see the module docstring)."""

    learning_starts: int
    """Env steps stored before the first gradient step."""
    early_steps: int
    """Env steps of the early phase (one flyer)."""
    early: float
    """Gradient steps per env step in the early phase (one flyer)."""
    later: float
    """Gradient steps per env step after it (one flyer)."""
    flock: float
    """Gradient steps per env step of a flock at the pace of play, from the first step."""
    top: float
    """Gradient steps per env step at top speed."""

    @classmethod
    def of(cls, config: Any) -> ReplayPacing:
        """The pacing a ``LearnerConfig`` describes."""
        return cls(int(config.learning_starts), int(config.early_steps),
                   float(config.updates_per_step_early), float(config.updates_per_step),
                   float(config.updates_per_step_flock), float(config.updates_per_step_top))

    def ratio(self, env_steps: int, flock: bool = False, top: bool = False,
              speed: int = 1) -> float:
        """Gradient steps per env step for the env step numbered ``env_steps`` (1-based).

        ``speed``: a flock fast-forwarded ``speed`` times learns at a ``speed``-th of its ratio,
        so its gradient steps per second stay those of 1x.
        """
        if top:
            return self.top
        if flock:
            return self.flock / max(int(speed), 1)
        return self.early if env_steps < self.early_steps else self.later


class StepCredit:
    """Gradient steps paid for by env steps and not yet run: the fractions of a replay ratio
    add up here, and whole steps are taken off one at a time (part of the saved state)."""

    def __init__(self, value: float = 0.0) -> None:
        self.value = float(value)

    def earn(self, steps: float) -> None:
        """Adds the gradient steps one env step pays for (a fraction at a low ratio)."""
        self.value += steps

    @property
    def owed(self) -> int:
        """Whole gradient steps earned and not yet taken."""
        return int(self.value) if self.value >= 1.0 else 0

    def take(self, most: int | None = None) -> int:
        """Takes up to ``most`` whole steps (None: all) off the credit; returns how many."""
        taken = 0
        while self.value >= 1.0 and (most is None or taken < most):
            self.value -= 1.0
            taken += 1
        return taken
