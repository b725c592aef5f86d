"""The window's flock: a ``Flock`` ticked at the session's pace, and what drawing reads.

The session ticks the game one physics tick at a time; a flock decides in whole decisions
(``decision_ticks`` ticks, one ``Flock.step``). ``FlockPlay.tick`` steps the flock on the first
tick of each decision and then plays that decision's heights back tick by tick
(``Flock.tick_heights``), so the flock moves as smoothly as the single flyer does. At top
speed ``FlockPlay.decide`` runs whole decisions and nothing is played back (only the latest
state is drawn).

The skill meter (``game.play.skill.SkillMeter``) is refreshed from here every ``SKILL_EVERY_S``
seconds of wall-clock time; its reading runs on its own thread.

Numpy and the standard library only (the learner is duck-typed, as in ``game.play.flock``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from game.play import flock as flock_module
from game.play.flock import Flock
from game.play.motion import View
from game.play.phases import Phase
from game.play.skill import SkillMeter, crown_winner
from game.sim import arcade
from game.sim.levels import Level

SKILL_EVERY_S = 3.0
"""Seconds between the starts of skill-meter readings (each takes a few tenths of a second of
the other core in the window's ``game.play.skill_process``, longer on a loaded machine)."""


@dataclass(frozen=True)
class Flyers:
    """Where to draw the flock this frame (field units), and which flyer is the focus."""

    x: np.ndarray
    y: np.ndarray
    shown: np.ndarray
    """Flyers in the air in the decision being shown."""
    focus: int


def crowns(learner: Any) -> bool:
    """Whether the game's skill readings crown ``learner``'s best pilot: a learner that learns
    (an ONNX graph flown as it is has no weights to judge)."""
    return callable(getattr(learner, "crown", None)) and not getattr(learner, "frozen", False)


class SkillWatch:
    """The skill meter on a timer: a background reading every ``every_s`` seconds.

    Args:
        level: the level (its held-out set and figure).
        clock: monotonic seconds.
        every_s: seconds between readings.
        meter: the meter (default: a ``SkillMeter``).
        crown: the default meter crowns the learner's best pilot (``game.play.skill``; a
            meter passed in says so itself).
    """

    def __init__(self, level: Level, clock: Callable[[], float] = time.perf_counter,
                 every_s: float = SKILL_EVERY_S, meter: Any = None, crown: bool = False) -> None:
        self.meter = SkillMeter(level, crown=crown) if meter is None else meter
        """``SkillMeter`` (a thread), or one with its interface (the window's
        ``game.play.skill_process.SkillProcess``)."""
        self.now = clock
        self.every_s = every_s
        self._due = 0.0
        self._steps: int | None = None
        self.t0 = clock()
        """When the watch began (the skill chart's time zero)."""
        self._started: dict[int, float] = {}
        """Seconds after ``t0`` at which the reading of the learner at N env steps began."""

    def maybe_measure(self, learner: Any) -> bool:
        """Crowns the last reading's winner, if any (a crowning meter); then starts a reading if
        one is due and the learner changed since the last; True if so."""
        if not self.meter.busy:
            crown_winner(self.meter, learner)
        now = self.now()
        steps = int(learner.env_steps)
        if now < self._due or self.meter.busy or steps == self._steps:
            return False
        self._due, self._steps = now + self.every_s, steps
        started = self.meter.refresh(learner)
        if started:
            self._started[steps] = now - self.t0
        return started

    def history(self) -> list[tuple[float, float]]:
        """``(seconds since the watch began, figure)`` of every reading, oldest first: the skill
        over time (a reading is dated when its weights were taken)."""
        return [(self._started[steps], figure) for steps, figure in list(self.meter.readings)
                if steps in self._started]

    @property
    def latest(self) -> float | None:
        """The latest reading (score/oracle; classic: success rate), or None before the first."""
        return self.meter.latest

    @property
    def readings(self) -> int:
        return len(self.meter.readings)

    @property
    def latest_steps(self) -> int | None:
        """The learner's env steps when the latest reading's weights were taken."""
        return self.meter.readings[-1][0] if self.meter.readings else None


class CourseView:
    """The drawing's stand-in for a world: the course the flock flies and its physics."""

    def __init__(self, physics: Any) -> None:
        self.physics = physics
        self.course: Any = None
        self._seed: int | None = None

    def show(self, seed: int, gates: int) -> None:
        """The course of ``seed`` (made once per course: a pure function of the seed)."""
        if seed != self._seed:
            self._seed = seed
            self.course = arcade.make_course(seed, gates)


SLACK_OWED_CAP = 64
"""With ``in_slack``, the gradient steps the window may leave owed (two decisions of the
default flock and its scouts at 1x); a tick pays what is owed beyond it, so the flock learns
at its pacing however slow the machine."""


class FlockPlay:
    """A flock of ``n`` flyers for the window: ticks, drawing positions, the skill meter.

    Args:
        level: the level.
        learner: the shared learner (``ai.Learner``).
        n: flyers.
        seed: the flock's seed.
        explore_ladder: ``Flock``'s per-flyer exploration (``FROM_PILOT_LADDER`` for a
            learner that learns on from a shipped pilot; 0: every flyer at epsilon).
        scouts: flyers out of sight on their own courses (None: ``game.play.flock.SCOUTS``).
    """

    def __init__(self, level: Level, learner: Any, n: int, seed: int = 0,
                 explore_ladder: float = 0.0, scouts: int | None = None) -> None:
        self.level = level
        scouts = flock_module.SCOUTS if scouts is None else scouts
        self.flock = Flock(level, learner, n=n, seed=seed, explore_ladder=explore_ladder,
                           scouts=scouts)
        self._step_s = 0.001
        """The recent gradient steps' mean length (``learn_for``'s guard)."""
        self.d = int(level.decision_ticks)
        self.k = self.d
        """Ticks of the shown decision already played back (``d``: the next tick decides)."""
        b = self.flock.batch
        self.physics = b.physics
        self.course_view = CourseView(self.physics) if self.flock.courses else None
        self.t0 = b.t.copy()
        self.shown = self.flock.alive.copy()
        self.heights = b.y[None, :].copy()
        self.prev_y = self.cur_y = b.y.copy()
        self.focus = self.flock.focus
        self._course_seed = int(b.course_seed[0]) if self.flock.courses else 0
        self.ticks = 0
        self.flown = 0
        """Flyer decisions flown (env steps, whether or not the learner takes them)."""
        self.top = False
        self.in_slack = False
        """The window pays the owed gradient steps, on a worker while it draws (``pay_one``)
        and in each frame's slack after the flip (``learn_for``); the ticks pay only what is
        owed beyond ``SLACK_OWED_CAP``. On a machine with time to spare the ticks then cost
        only flying, and on any machine the flock learns at its pacing."""

    def learn_for(self, seconds: float, now: Any) -> int:
        """Pays owed gradient steps while they fit in ``seconds`` of ``now()``; returns how
        many ran. A step is begun only if one of the recent steps' mean length would still end
        in time."""
        learner = self.learner
        deadline, done = now() + seconds, 0
        while learner.owed and now() + self._step_s <= deadline:
            t = now()
            if not learner.pay(1):
                break
            done += 1
            self._step_s += 0.2 * (now() - t - self._step_s)
        return done

    def pay_one(self) -> int:
        """One owed gradient step, if any is owed (``game.ui.pacing.FlipLearner``'s worker,
        while the window draws); returns how many ran."""
        learner = self.learner
        return learner.pay(1) if learner.owed else 0

    # ---- flying -----------------------------------------------------------------------------
    @property
    def learner(self) -> Any:
        return self.flock.learner

    def set_top_speed(self, top: bool) -> None:
        """Top speed learns at the pacing's top ratio (compute, not play time, is the limit)."""
        self.set_speed(None if top else 1)

    def set_speed(self, multiplier: int | None) -> None:
        """The game's speed (None: max) sets the gradient steps per transition (``ai.pacing``).

        Fast-forward keeps the gradient steps per second of 1x: at 4x and 16x the flock flies
        4 and 16 times the transitions, each worth a 4th and a 16th of 1x's steps. At 1x's
        ratio 16x would owe some three seconds of compute per second, and the game stayed at
        the 1x rate.
        """
        self.top = self.flock.top = multiplier is None
        self.flock.speed = 1 if multiplier is None else max(int(multiplier), 1)

    @property
    def owed(self) -> int:
        """Gradient steps the decision being played back still owes (the learner's credit)."""
        return int(self.learner.owed)

    def tick(self) -> None:
        """One physics tick of the flock: a decision on its first tick, then playback.

        The decision's gradient steps are spread over its ticks: 64 flyers owe 32 of them
        per decision at 1x, which in one frame would be a stutter every fourth frame.
        """
        if self.k >= self.d:
            self.decide(spread=True)
            self.k = 0
        self.k += 1
        row = min(self.k, self.heights.shape[0]) - 1
        self.prev_y, self.cur_y = self.cur_y, self.heights[row]
        self.ticks += 1
        owed = self.owed
        if self.in_slack:  # the window pays as it draws and after; here only what it could not
            due = max(owed - SLACK_OWED_CAP, 0)
        else:
            left = self.d - self.k + 1  # ticks of this decision still to run, this one included
            due = owed if left <= 1 else owed // left
        if due:
            self.learner.pay(due)

    def decide(self, spread: bool = False) -> None:
        """One whole decision of the flock (top speed calls it directly).

        ``spread``: the decision's gradient steps go to the learner's credit (``owed``) for
        ``tick`` to pay, instead of running now.
        """
        f, b = self.flock, self.flock.batch
        f.defer = spread
        self.shown = f.alive.copy()
        self.focus = f.focus
        self.t0 = b.t.copy()
        if f.courses:
            self._course_seed = int(b.course_seed[self.focus])
        prev = b.y.copy()
        self.flown += f.step().transitions
        self.heights = f.tick_heights()
        self.prev_y, self.cur_y = prev, self.heights[-1]
        self.k = self.d

    def fly(self, top: bool) -> int:
        """The flock flies in the session's place: one tick, or at top speed one whole
        decision; returns the ticks flown."""
        if top:
            self.decide()
            return self.d
        self.tick()
        return 1

    def learn_out_of_sight(self, clock: Any, dt: float, ticks_per_second: float | None) -> None:
        """Ticks on through the person's ready, crash or game-over screen, learning out of sight
        (it is drawn only on the person's course) until their next run starts it there;
        ``clock`` (``game.play.clock.FixedStepClock``) runs the frame's ticks (None: max)."""

        def tick() -> bool:
            self.tick()
            return True

        clock.run(dt, ticks_per_second, tick)

    def restart_on(self, course_seed: int | None) -> None:
        """A new generation on the person's course (arcade), so the flock races them on it
        (``Flock.start_generation``)."""
        f = self.flock
        f.start_generation(course_seed)
        b = f.batch
        self.shown, self.focus, self.t0 = f.alive.copy(), f.focus, b.t.copy()
        if f.courses:
            self._course_seed = int(b.course_seed[0])
        self.heights = b.y[None, :].copy()
        self.prev_y = self.cur_y = b.y.copy()
        self.k = self.d

    def on_course(self, world: Any) -> bool:
        """The flock flies ``world``'s course at ``world``'s tick (the person's race)."""
        if self.flock.courses and self._course_seed != int(world.course_seed):
            return False
        return self.focus_t() == int(world.t)

    # ---- drawing ----------------------------------------------------------------------------
    def flyers(self, alpha: float) -> Flyers:
        """Positions ``alpha`` of the way from the previous tick to the latest."""
        t = self.t0 + min(self.k, self.d)
        t_prev = t - 1
        x = self._x(t_prev + alpha)
        y = self.prev_y + (self.cur_y - self.prev_y) * alpha
        return Flyers(x, y, self.shown, self.focus)

    def _x(self, t: np.ndarray) -> np.ndarray:
        p = self.physics
        if self.flock.courses:
            return p.x_start + p.v_x * np.mod(t, p.ticks_per_stage)
        return p.x_start + p.v_x * t

    def focus_view(self, alpha: float, phase: Phase) -> View:
        """The focus flyer as the session's ``View`` (what the HUD flyer and the walls follow)."""
        i = self.focus
        fl = self.flyers(alpha)
        t = float(self.t0[i] + min(self.k, self.d) - 1 + alpha)
        tps = getattr(self.physics, "ticks_per_stage", None)
        stage = int(t) // tps if tps else 0
        return View(t=t, x=float(fl.x[i]), y=float(fl.y[i]), v_y=float(self.flock.batch.v_y[i]),
                    dy=float(self.cur_y[i] - self.prev_y[i]), stage=stage, phase=phase)

    def focus_t(self) -> int:
        """Ticks flown by the focus flyer on the shown decision."""
        return int(self.t0[self.focus]) + min(self.k, self.d)

    def course(self) -> CourseView | None:
        """The course being shown (arcade), or None."""
        cv = self.course_view
        if cv is not None:
            cv.show(self._course_seed, self.level.eval_gates + 2)
        return cv

    # ---- the HUD ----------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        """What the HUD and the state file show of the flock."""
        f = self.flock
        last = f.history[-1] if f.history else None
        return {"flyers": f.n, "generation": f.generation, "alive": f.alive_count,
                "best": f.best, "last_best": None if last is None else last[1],
                "last_mean": None if last is None else last[2],
                "focus": f.focus, "focus_score": float(f.scores()[f.focus]),
                "scouts": f.scouts, "scout_courses": f.scout_courses}
