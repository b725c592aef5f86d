"""The game loop without a window: phases, pause, speeds, pilots and the data path.

The window (``game.ui.app``) calls :meth:`Session.advance` once per frame with the
wall-clock time since the last frame, draws :meth:`Session.view` and turns
:meth:`Session.take_events` into sounds and messages; every timing decision
lives here (and in ``game.play.clock``) so it can be tested headless. The session owns the
clock, the pace, the pause (the window's pause controls are ``game.play.pause.Pause``'s), who
flies and the flock; its own flyer's world, runs, scoring and side of a hand-over are
``game.play.flight.Flight``'s, where the one data path of a tick is.

Numpy and the standard library only: no pyglet, no torch (the learner and the
score book are passed in, duck-typed, so tests use small fakes).
"""

from __future__ import annotations

import operator
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from game.play.clock import FixedStepClock
from game.play.events import Event
from game.play.flight import Flight
from game.play.flock_play import FlockPlay, SkillWatch, crowns
from game.play.motion import DrawnTime, View
from game.play.pause import Pause
from game.play.phases import Phase
from game.play.pilots import Pilots
from game.play.scoring import ScoreBookLike, Scoring
from game.play.speed import GameSpeed
from game.sim.levels import LEVELS, Level

if TYPE_CHECKING:
    from ai.protocol import LearnerLike

@dataclass
class SessionConfig:
    """Timing of the loop; all durations are wall-clock seconds at 1x."""

    tick_rate: float | None = None
    """Simulation ticks per second at 1x (None: the level's default)."""
    max_frame_dt: float = 0.25
    """Catch-up cap: a longer frame (a stall, a dragged window) counts as this long."""
    work_budget_s: float = 0.008
    """Simulation and learning time allowed per frame; at max speed the loop fills it."""
    crash_hold_s: float = 0.6
    """Classic: how long a crash stays on screen before the next flight starts."""
    autopilot_restart_s: float = 1.0
    """Arcade: how long the game-over screen shows before the autopilot restarts."""
    focus_flicker_s: float = 0.5
    """A focus loss shorter than this resumes by itself when focus returns."""
    autosave_s: float = 60.0
    """Play time (unpaused wall-clock seconds) between autosaves of the learner."""
    learn_in_slack: bool = False
    """The window pays the flock's owed gradient steps in its slack after each flip
    (``learn_for``), ahead of the ticks (``FlockPlay.in_slack``)."""
    frame_hz: float | None = None
    """Frames drawn per second on a fixed timeline (the window's), or None (headless): the
    ticks are locked to the frames when a whole number falls in each
    (``FixedStepClock.run``)."""


class Session:
    """One game: a world, who flies it, the clock that ticks it, and the scores.

    Args:
        level: 'classic' or 'arcade'.
        seed: seed for the world's generator (None: fresh entropy).
        config: loop timing.
        learner: the autopilot/learner, or None when the AI is unavailable.
        scores: where best scores are recorded, or None.
        pilot: who flies first, 'human' or 'autopilot'.
        clock: monotonic seconds; injected so tests control the work budget.
        flock: flyers while the autopilot flies (``--flock``; 1: the single flyer). The
            flock (``game.play.flock_play.FlockPlay``) flies instead of the session's world while
            the autopilot has the controls, and races the person on their course when they
            have them; it needs a learner.
        flock_ladder: the flock's per-flyer exploration (``game.play.flock.FROM_PILOT_LADDER`` for a
            learner that learns on from a shipped pilot).
        skill_meter: what takes the skill readings (default: ``game.play.skill.SkillMeter``, on a
            thread; the window passes ``game.play.skill_process.SkillProcess``).
    """

    def __init__(self, level: str, seed: int | None = None, config: SessionConfig | None = None,
                 learner: LearnerLike | None = None, scores: ScoreBookLike | None = None,
                 pilot: str = "human", clock: Callable[[], float] = time.perf_counter,
                 flock: int = 1, flock_ladder: float = 0.0, skill_meter: Any = None) -> None:
        self.spec: Level = LEVELS[level]
        self.level = level
        self.config = config or SessionConfig()
        self.pilots = Pilots(learner, pilot, self.spec.decision_ticks)
        self.learner = learner
        self.now = clock
        self.clock = FixedStepClock(self.config.max_frame_dt, self.config.work_budget_s, clock)
        self.pace = GameSpeed(self.spec.ticks_per_second, self.config.tick_rate)
        self.flight = Flight(
            self.spec, self.spec.world(seed), self.pilots,
            Scoring(level, scores, assisted=pilot == "autopilot", streak=self.spec.streak),
            learner, Phase.READY if pilot == "human" else Phase.FLYING,
            self.config.crash_hold_s, self.config.autopilot_restart_s)
        """The session's own flyer: its world, runs and scoring (``game.play.flight``)."""
        self.pausing = Pause(self.config.focus_flicker_s, clock, self.clock, self.pilots)
        """The pause and the window's controls of it: ``toggle`` (P), ``focus_lost``,
        ``focus_gained``, ``hidden`` (``game.play.pause``)."""
        self.ticks = 0
        self.last_ticks = 0
        """Ticks run by the latest ``advance`` call."""
        self.drawn = DrawnTime()
        """The tick time drawn last: drawing never goes back."""
        self.skill = (None if learner is None
                      else SkillWatch(self.spec, clock, meter=skill_meter, crown=crowns(learner)))
        """The skill meter (score/oracle of the greedy pilot on held-out courses)."""
        self.flock: FlockPlay | None = None
        if flock > 1 and learner is not None:
            self.flock = FlockPlay(self.spec, learner, flock, seed=0 if seed is None else seed,
                                   explore_ladder=flock_ladder)
            self.flock.in_slack = self.config.learn_in_slack

    # ----------------------------------------------------------------- what it is
    world = property(operator.attrgetter("flight.world"), doc="The session's own world.")
    obs = property(operator.attrgetter("flight.obs"), doc="Its latest observation.")
    phase = property(operator.attrgetter("flight.phase"), doc="Where the run is.")
    scoring = property(operator.attrgetter("flight.scoring"))
    flights = property(operator.attrgetter("flight.flights"))
    restarts = property(operator.attrgetter("flight.restarts"))
    jump_rise = property(operator.attrgetter("flight.jump_rise"))
    paused = property(operator.attrgetter("pausing.paused"))
    pause_reason = property(operator.attrgetter("pausing.reason"),
                            doc="Why the game is paused, or None while it runs.")

    @property
    def pilot(self) -> str:
        """Who flies: 'human' or 'autopilot'."""
        return self.pilots.pilot

    @property
    def tick_rate(self) -> float:
        """Ticks per second at 1x."""
        return self.pace.tick_rate

    @property
    def flocking(self) -> bool:
        """The flock flies in the session's place (a flock, and the autopilot has the controls)."""
        return self.flock is not None and not self.pilots.human

    @property
    def env_steps(self) -> int:
        """Flyer decisions flown so far: every flyer of the flock that decided, and the session's
        own flyer once per ``decision_ticks`` (what the FPS panel counts as env steps)."""
        flown = 0 if self.flock is None else self.flock.flown
        return flown + self.flight.ticks // int(self.spec.decision_ticks)

    @property
    def score(self) -> int:
        if self.flocking and self.flock.flock.courses:
            return int(self.flock.flock.scores()[self.flock.flock.focus])
        return self.scoring.score

    @property
    def stage(self) -> int:
        if self.flocking and self.flock.flock.courses:
            return self.flock.focus_t() // self.world.physics.ticks_per_stage
        return self.scoring.stage

    # ----------------------------------------------------------------- controls
    def press_jump(self) -> None:
        """SPACE: the player's jump; also starts a run, resumes a pause, restarts a game over."""
        if self.paused:
            self.pausing.go()
        elif not self.pilots.human:
            return
        elif self.phase is Phase.GAME_OVER:
            self.restart()
            self.flight.phase = Phase.FLYING
            self._race()
        elif self.phase is Phase.READY:
            self.flight.phase = Phase.FLYING
            self.clock.clear()
            self.pilots.pending_jump = True
            self._race()
        elif self.phase is Phase.FLYING:
            self.pilots.pending_jump = True

    def _race(self) -> None:
        """The person's run starts: a flock sets off with them on their course."""
        if self.flock is not None:
            self.flock.restart_on(getattr(self.world, "course_seed", None))

    def toggle_pilot(self) -> str:
        """A / TAB: hands the controls over mid-flight, without a reset; returns who flies."""
        who = self.pilots.hand_over()
        if self.flock is not None and who == "human":
            self.restart()  # the person starts their own run; the flock races them on it
            return who
        if self.flight.hand_over(who, flock=self.flock is not None):
            self.clock.clear()  # the autopilot's flight starts now
        return who

    def restart(self) -> None:
        """R: a new flight (classic, streak reset) or a new run on a new course (arcade).

        The player's new run waits for SPACE; the autopilot's starts at once.
        """
        self.flight.restart()
        self.clock.clear()
        self.pilots.drop_decision()

    # ----------------------------------------------------------------- the loop
    def advance(self, dt: float) -> int:
        """Runs the ticks due after ``dt`` wall-clock seconds; returns how many ran.

        The clock (``game.play.clock.FixedStepClock``) gains ``dt * tick_rate * speed``
        ticks with ``dt`` capped, stops at the work budget and drops the backlog; at
        max speed the budget alone decides how many ticks run.
        """
        self.last_ticks = 0
        if self.paused:
            return 0
        dt = self.clock.cap(dt)
        speed = self.pace.multiplier
        if self.flock is not None:
            self.flock.set_speed(speed)
        if self.phase is not Phase.FLYING:
            began = self._wait(dt, speed)
            if not began or speed is not None:
                if self.flock is not None and self.pilots.human:  # the flock learns on
                    self.flock.learn_out_of_sight(
                        self.clock, dt, None if speed is None else self.pace.ticks_per_second())
                return 0  # the new flight starts ticking from the next frame
        ticks, jump = self.ticks, 0
        if speed is None:
            n = self.clock.run(dt, None, self._tick_at_max)
        else:
            # the person's jump runs its tick in this frame even a little ahead of time
            jump = int(self.pilots.human and self.pilots.pending_jump)
            n = self.clock.run(dt, self.pace.ticks_per_second(), self._tick_flying, jump,
                               self.config.frame_hz)
        self.last_ticks = n
        if jump and n:
            self.drawn.hold(self.ticks)  # the hop is drawn at once: the latest tick, held after
        self.drawn.settle(self.ticks, self.clock.alpha())
        self.pace.gauge.add(dt, self.ticks - ticks)  # a frame that began flying: the speed reached
        return n

    def learn_for(self, seconds: float) -> int:
        """The window's slack after a flip: pays the flock's owed gradient steps that fit
        (``SessionConfig.learn_in_slack``); returns how many ran."""
        if self.flock is None or not self.flock.in_slack or self.paused:
            return 0
        return self.flock.learn_for(seconds, self.clock.now)

    def _tick_flying(self) -> bool:
        self._tick()
        return self.phase is Phase.FLYING

    def _tick_at_max(self) -> bool:
        # at max speed a crash hold or game-over screen is skipped: the next flight begins
        self._tick()
        return self.phase is Phase.FLYING or self._wait(0.0, None)

    def _wait(self, dt: float, speed: int | None) -> bool:
        """Counts down a crash or game-over pause; True once the next flight has begun."""
        ended = self.flight.hold_over(dt, speed)
        if ended is None:
            return False
        if ended is Phase.CRASHED:
            self._next_flight()
        else:
            self.restart()
        return True

    def _next_flight(self) -> None:
        # the accumulator is left alone: a success starts the next flight inside the tick loop
        self.flight.next_flight()
        if self.pilots.human:
            self._race()

    def _tick(self) -> None:
        """One physics tick: the single data path for the player and the autopilot."""
        if self.flock is not None:
            if self.flocking:
                self._tick_flock()
                return
            self.flock.tick()  # the flock keeps learning around the person
        self.ticks += 1
        if self.flight.tick():  # a success on a streak level: the next flight starts now
            self._next_flight()

    def _tick_flock(self) -> None:
        """The autopilot's flock: one tick at 1x; at top speed one whole decision."""
        self.ticks += self.flock.fly(top=self.pace.multiplier is None)
        self.flight.follow_leader(self.score)  # the leader's score

    # ----------------------------------------------------------------- reading
    def alpha(self) -> float:
        """How far between the previous and the latest tick to draw, in [0, 1]."""
        if self.phase is not Phase.FLYING or self.pace.multiplier is None or self.paused:
            return 1.0
        return self.drawn.alpha(self.ticks, self.clock.alpha())

    def view(self) -> View:
        """The flyer's interpolated position for drawing (max speed: the latest state)."""
        if self.flocking:
            return self.flock.focus_view(self.alpha(), self.phase)
        return self.flight.view(self.alpha())

    def take_events(self) -> list[Event]:
        """What happened since the last call, oldest first."""
        return self.flight.take_events()

