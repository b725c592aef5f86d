"""A fixed-step clock: whole simulation ticks from wall-clock frames, never a spiral.

Arcade's ``on_fixed_update`` loop is the model. Each frame adds
``dt * ticks_per_second`` to an accumulator of ticks owed; ticks run until the
simulation is at or just ahead of the wall clock, never behind it. The latest
tick therefore lies at most one tick in the future, and drawing interpolates
from the tick before it to the latest one by ``alpha``: what is drawn is where
the flyer is now, never a whole tick late, and an input reaches the screen with
the very next tick.

When a whole number of ticks falls in each frame (arcade at 1x: 60 ticks/s on a 60 Hz
frame), the clock also keeps the ticks in step with the frames (``lock``): each frame runs
exactly that many ticks, and the latest tick stays about ``LOCK_TARGET`` of a tick ahead of
the wall clock. Left to itself the accumulator sits anywhere, often just below a whole
tick: frames then run 0 and 2 ticks in turn, and what is drawn lags the latest tick by
almost a whole one, so a jump (which runs from the latest tick) first shows the flyer
lower than the frame before. The lock nudges the accumulator by at most ``LOCK_STEP``
of a tick a frame; in a steady state it nudges nothing, so the game's speed is unchanged.

Two guards keep a slow or stalled machine playable: a frame longer than
``max_frame_dt`` counts as that long, and ticks stop once ``work_budget_s`` of
the frame is used, the backlog that did not fit being dropped (and counted)
instead of carried into the next frame.

Standard library only.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

EPS = 1e-9
"""Float noise in the accumulator that must not count as a tick owed."""


LOCK_TARGET = -0.3
"""The accumulator the lock steers to: the latest tick 0.3 of a tick ahead of the wall
clock, what is drawn 0.7 of the way to it. Frames come late more often than early, so
the target leaves 5 ms of a late frame and 11 ms of an early one before a frame's tick
count changes."""
LOCK_GAIN = 0.2
"""The share of the distance to ``LOCK_TARGET`` the lock closes each frame."""
LOCK_STEP = 0.02
"""The most the lock moves the accumulator in one frame, in ticks (2 % of a 1x tick)."""


class FixedStepClock:
    """Turns frame times into whole ticks.

    Args:
        max_frame_dt: catch-up cap, in seconds: a longer frame counts as this long.
        work_budget_s: simulation time allowed per frame, in seconds.
        now: monotonic seconds; injected so tests control the work budget.
    """

    def __init__(self, max_frame_dt: float = 0.25, work_budget_s: float = 0.008,
                 now: Callable[[], float] = time.perf_counter) -> None:
        self.max_frame_dt = float(max_frame_dt)
        self.work_budget_s = float(work_budget_s)
        self.now = now
        self.acc = 0.0
        """Ticks owed to the wall clock: in (-1, 0] between frames, ``-acc`` being how far
        the latest tick lies ahead of now."""
        self.dropped = 0
        """Ticks that were due but did not fit in a frame's work budget."""

    def cap(self, dt: float) -> float:
        """``dt`` clamped to ``[0, max_frame_dt]``: a stall is never made up in a burst."""
        return min(max(float(dt), 0.0), self.max_frame_dt)

    def clear(self) -> None:
        """Forgets the owed ticks (a resume, a new run): the latest tick is now."""
        self.acc = 0.0

    def alpha(self) -> float:
        """How far from the previous tick to the latest one the wall clock is, in [0, 1]."""
        return min(max(1.0 + self.acc, 0.0), 1.0)

    def run(self, dt: float, rate: float | None, step: Callable[[], bool],
            at_least: int = 0, frame_hz: float | None = None) -> int:
        """Calls ``step`` once per tick due after a frame of ``dt`` seconds.

        Args:
            dt: the frame's wall-clock seconds (capped here at ``max_frame_dt``).
            rate: ticks per second of wall clock, or None for "as many as the budget
                allows" (max speed).
            step: runs one tick; returns False when no further tick can follow (the
                flight ended), which also forgets the ticks still owed.
            at_least: ticks to run even if not yet due (a player's jump waits for no tick:
                the simulation then leads the wall clock by up to one more tick, and the
                next frames run fewer).
            frame_hz: the frames drawn per second, when frames come on a fixed timeline:
                if ``rate`` is a whole multiple of it, the ticks are locked to the frames.

        Returns:
            How many ticks ran.
        """
        deadline = self.now() + self.work_budget_s
        n = 0
        if rate is None:
            while True:
                more = step()
                n += 1
                if not more or self.now() >= deadline:
                    return n
        self.acc += self.cap(dt) * rate
        due = math.ceil(self.acc - EPS)  # ticks until the simulation is level with or ahead of now
        due = max(due, min(at_least, math.ceil(self.acc - EPS + 1)))  # at most a tick early
        while n < due:
            more = step()
            n += 1
            if not more:
                self.acc = 0.0
                return n
            if self.now() >= deadline:
                break
        self.acc -= n
        if self.acc > EPS:  # the budget ran out: drop the backlog, keep the fraction
            backlog = math.ceil(self.acc - EPS)
            self.dropped += backlog
            self.acc -= backlog
        if frame_hz and -1.0 < self.acc <= 0.0:
            self._lock(rate / frame_hz)
        return n

    def _lock(self, per_frame: float) -> None:
        """Steers the accumulator towards ``LOCK_TARGET`` when ``per_frame`` ticks are whole."""
        whole = round(per_frame)
        if whole < 1 or abs(per_frame - whole) > 1e-6:
            return  # ticks and frames do not line up: the phase has to move
        nudge = LOCK_GAIN * (LOCK_TARGET - self.acc)
        self.acc = min(max(self.acc + min(max(nudge, -LOCK_STEP), LOCK_STEP), -1.0 + EPS), 0.0)
