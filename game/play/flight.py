"""The session's own flyer and its runs: the world it flies, the run's phase and bookkeeping.

``game.play.session.Session`` owns the clock, the pace, the pause, who flies and the flock;
this part owns what happens to the one flyer that is not the flock's (the single autopilot
flyer, or the person): its world, observation and motion for drawing, the phase of its run
and the hold before the next flight, the counts of flights and restarts, the scoring, its side
of a hand-over of the controls, and the events a window shows. One tick is always the same
data flow, whoever flies::

    obs -> action (pilots.action) -> world.tick -> pilots.ticked (the learner's transition)
        -> scoring -> end_episode and the next phase when a flight ends

Rules: numpy and the standard library only (no pyglet, no torch); it never touches the clock
or the flock: when a hold is over it says so, and the session starts the next flight.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from game.play.events import Event, Jumped
from game.play.motion import Motion, View
from game.play.phases import Phase
from game.play.pilots import Pilots
from game.play.scoring import Outcome, Scoring
from game.sim.actions import JUMP
from game.sim.levels import Level

if TYPE_CHECKING:
    from ai.protocol import LearnerLike


class Flight:
    """The session's own flyer on its level, and the bookkeeping of its runs.

    Args:
        spec: the level.
        world: the level's world (reset for each flight).
        pilots: who flies it (the person or the learner).
        scoring: the run's score and the best scores.
        learner: told each finished flight's score, or None.
        phase: the phase to start in (READY waits for the person's SPACE).
        crash_hold_s, game_over_s: how long a crash and a game over stay on screen.
    """

    def __init__(self, spec: Level, world: Any, pilots: Pilots, scoring: Scoring,
                 learner: LearnerLike | None, phase: Phase, crash_hold_s: float,
                 game_over_s: float) -> None:
        self.spec = spec
        self.world = world
        self.pilots = pilots
        self.scoring = scoring
        self.learner = learner
        self.phase = phase
        self.crash_hold_s = crash_hold_s
        self.game_over_s = game_over_s
        self.timer = 0.0
        """Seconds left of a crash hold or of the game-over screen (autopilot)."""
        self.ticks = 0
        """Ticks of this world (the single flyer's or the person's)."""
        self.flights = 0
        self.restarts = 0
        self.jump_rise: float | None = None
        """Height gained on the tick after the player's latest jump (the window test reads it)."""
        self._check_rise = False
        self.events: list[Event] = []
        """What happened since the session last took them, oldest first."""
        self.obs = world.observation()
        self.motion = Motion(world, 0)

    def stage_now(self) -> int:
        """The crossing the flyer is on (a streak level counts its successes)."""
        return self.scoring.stage if self.spec.streak else int(self.world.stage)

    def view(self, alpha: float) -> View:
        """The flyer ``alpha`` of the way from the previous tick to the latest."""
        return self.motion.view(alpha, self.phase)

    def restart(self) -> None:
        """A new run (classic: streak reset; arcade: a new course), waiting for the person's
        SPACE or flying at once for the autopilot."""
        self.world.reset()
        self.obs = self.world.observation()
        self.restarts += 1
        self.phase = Phase.READY if self.pilots.human else Phase.FLYING
        self.timer = 0.0
        self._check_rise = False
        self.events.append(self.scoring.new_run(assisted=not self.pilots.human))
        self.scoring.stage = 0
        self.motion.jump_to(self.world, self.stage_now())

    def next_flight(self) -> None:
        """The next flight of the same run (after a success, or a crash's hold)."""
        self.world.reset()
        self.obs = self.world.observation()
        self.phase = Phase.FLYING
        self.timer = 0.0
        self.motion.jump_to(self.world, self.stage_now())

    def hand_over(self, who: str, flock: bool) -> bool:
        """The controls went to ``who`` ('human' or 'autopilot') mid-flight, without a reset;
        True when the autopilot's flight starts now (the session restarts its clock).

        ``flock``: the flock flies for the autopilot, so the person's decision ends here.
        """
        if who == "human":
            self.scoring.hand_over("human")
            return False
        if flock:
            self.pilots.end_decision(self.obs, terminated=False)
        self.scoring.hand_over("autopilot")
        if self.phase is Phase.READY:
            self.phase = Phase.FLYING
            return True
        if self.phase is Phase.GAME_OVER:
            self.timer = self.game_over_s
        return False

    def hold_over(self, dt: float, speed: int | None) -> Phase | None:
        """Counts down a crash or game-over hold by ``dt`` at ``speed`` (None: max, which skips
        it); the phase whose hold just ended (the session starts what follows), else None."""
        if self.phase is Phase.READY or (self.phase is Phase.GAME_OVER and self.pilots.human):
            return None  # the player starts with SPACE (or R after a game over)
        self.timer -= math.inf if speed is None else dt * speed
        return None if self.timer > 0 else self.phase

    def tick(self) -> bool:
        """One physics tick of the one data path; True when the next flight starts now (a
        success on a streak level), for the session to start it."""
        world = self.world
        action = self.pilots.action(self.obs)
        y_before = world.y
        reward, terminated = world.tick(action)
        self.obs = world.observation()
        self.pilots.ticked(reward, terminated, self.obs)
        self.ticks += 1
        if self._check_rise:
            self.jump_rise = world.y - y_before
            self._check_rise = False
        if action == JUMP:
            self.events.append(Jumped(self.pilots.human))
            self._check_rise = self.pilots.human and not terminated
        self.motion.ticked(world, self.stage_now())
        return self._scored(reward, terminated)

    def _scored(self, reward: float, terminated: bool) -> bool:
        """What the tick's outcome means for the run and the phase (True: the next flight)."""
        outcome, events = self.scoring.after_tick(self.world, reward, terminated,
                                                  autopilot=not self.pilots.human)
        self.events += events
        if outcome is Outcome.FLYING:
            return False
        self.flights += 1
        if self.learner is not None:
            self.learner.end_episode(self.spec.episode_score(self.world, reward))
        if outcome is Outcome.NEXT_FLIGHT:
            return True
        if outcome is Outcome.CRASHED:
            self.phase, self.timer = Phase.CRASHED, self.crash_hold_s
        else:
            self.phase, self.timer = Phase.GAME_OVER, self.game_over_s
        return False

    def follow_leader(self, score: int) -> None:
        """The flock's leader flies for the run: a gate it passes is a point, and maybe a best.
        A lower score (a new generation, or a new leader with fewer gates) is a new run of what
        is shown: the praise for the last one's best ends (``RunStarted``) and its points start
        at the new leader's gates, without a point event (counted on, they made bests that no
        flyer flew: 2 gates, a drop to 0, then 1 gate recorded 3)."""
        if score > self.scoring.score:
            self.events += self.scoring.point(score)
        elif score < self.scoring.score:
            self.events.append(self.scoring.new_run(assisted=True, start=score))

    def take_events(self) -> list[Event]:
        """What happened since the last call, oldest first."""
        out, self.events = self.events, []
        return out
