"""Who flies, the player's pending jump, and what the learner sees of the flight.

The world ticks finely; the learner decides and learns in decisions of
``decision_ticks`` ticks (a frame skip, as Atari DQN does):

* the autopilot acts on the first tick of each decision and FALLs on the rest;
* the player's SPACE is applied on the very next tick, whatever the decision;
* the learner observes one transition per decision, whoever flew it: the
  observation at its start, the action (for the player: JUMP if they jumped in
  it), the summed reward and the observation at its end, tagged human or not.

With ``decision_ticks == 1`` (classic) every tick is a decision. Numpy only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from game.sim.actions import FALL, JUMP

if TYPE_CHECKING:
    from ai.protocol import LearnerLike

PILOTS = ("human", "autopilot")


@dataclass
class Decision:
    """The decision in progress."""

    obs: np.ndarray
    """The observation at its first tick."""
    action: int
    human: bool
    reward: float = 0.0
    ticks: int = 0


class Pilots:
    """The controls of one flyer and the learner's data path.

    Args:
        learner: the autopilot/learner, or None when the AI is unavailable.
        pilot: who flies first, 'human' or 'autopilot'.
        decision_ticks: ticks per decision.
    """

    def __init__(self, learner: LearnerLike | None, pilot: str, decision_ticks: int = 1) -> None:
        if pilot not in PILOTS:
            raise ValueError(f"pilot must be one of {PILOTS}, got {pilot!r}")
        if pilot == "autopilot" and learner is None:
            raise ValueError("the autopilot cannot fly: no learner is attached")
        self.learner = learner
        self.pilot = pilot
        self.decision_ticks = int(decision_ticks)
        self.pending_jump = False
        self.decision: Decision | None = None
        self.human_ticks = 0
        self.pilot_ticks = 0
        self.human_jumps = 0
        self.decisions = 0
        """Transitions handed to the learner."""

    @property
    def human(self) -> bool:
        return self.pilot == "human"

    def hand_over(self) -> str:
        """Gives the controls to the other pilot mid-flight; returns who flies now.

        The decision in progress ends here (its transition is the previous pilot's).
        """
        if self.human and self.learner is None:
            raise RuntimeError("the autopilot is not available")
        self.pilot = "autopilot" if self.human else "human"
        self.pending_jump = False
        return self.pilot

    def toggle_learning(self) -> bool:
        """L: switches learning; returns the new state."""
        if self.learner is None:
            raise RuntimeError("the autopilot is not available")
        self.learner.learn_enabled = not self.learner.learn_enabled
        return self.learner.learn_enabled

    def action(self, obs: np.ndarray) -> int:
        """The action for the next tick, given the observation before it."""
        d = self.decision
        if d is not None and d.human != self.human:
            self.end_decision(obs, terminated=False)  # the controls changed hands
            d = None
        if self.human:
            action = JUMP if self.pending_jump else FALL
            self.pending_jump = False
            self.human_ticks += 1
            if action == JUMP:
                self.human_jumps += 1
            if d is None:
                self.decision = Decision(obs, action, human=True)
            elif action == JUMP:
                d.action = JUMP
            return action
        self.pilot_ticks += 1
        if d is not None:
            return FALL  # the rest of the autopilot's decision
        learner = self.learner
        action = int(learner.act(obs, explore=learner.learn_enabled))
        self.decision = Decision(obs, action, human=False)
        return action

    def ticked(self, reward: float, terminated: bool, next_obs: np.ndarray) -> None:
        """The tick ran: a decision that is complete (or ended the flight) is learned from."""
        d = self.decision
        d.reward += reward
        d.ticks += 1
        if terminated or d.ticks >= self.decision_ticks:
            self.end_decision(next_obs, terminated)

    def end_decision(self, next_obs: np.ndarray, terminated: bool) -> None:
        """Hands the decision in progress to the learner as one transition."""
        d, self.decision = self.decision, None
        if d is None or d.ticks == 0:
            return
        if self.learner is not None:
            self.learner.observe(d.obs, d.action, d.reward, next_obs, terminated, False,
                                 human=d.human)
        self.decisions += 1

    def drop_decision(self) -> None:
        """A restart: the decision in progress is forgotten (its flight was cut off)."""
        self.decision = None
        self.pending_jump = False

    def counters(self) -> dict[str, Any]:
        return {"human_ticks": self.human_ticks, "pilot_ticks": self.pilot_ticks,
                "human_jumps": self.human_jumps, "decisions": self.decisions}
