"""Frame pacing: a fixed 60 Hz timeline, the tick budget each frame gets, frame statistics.

Frames are re-scheduled against a fixed timeline, so intervals stay even without
vsync. Each frame's simulation gets what drawing leaves of a work target (a slow
software GL draws slower, so it gets fewer ticks at max speed). No pyglet import:
the clock to schedule on is passed in.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import numpy as np

FRAME_HZ = 60.0
"""Frames drawn per second."""
STATS_WINDOW = 120
"""Frames the FPS panel's percentiles are taken over (2 s at 60 FPS)."""
WORK_TARGET_S = 0.010
"""Work per frame (simulation, learning, drawing) the tick budget aims to stay under."""
SIM_BUDGET_S = (0.002, 0.008)
"""Least and most simulation time per frame; the rest of the target is left for drawing."""
WORK_TARGET_MAX_S = 0.015
"""The work target at max speed, where simulation and learning take what drawing leaves of it:
15 ms of the 16.7 ms frame. With 13 ms a quarter of each frame was spent idle in pyglet's
event loop (``select``) and the window learned at 12,600 env steps/s; at 15 ms,
18,000-22,000 with the frame interval's p99 at 19.0-21.6 ms (``bench/frame_time.py --level
arcade --flock 64``, 3 runs, quiet 2-core machine, Xvfb)."""
SIM_BUDGET_MAX_S = (0.002, 0.0135)
"""Least and most simulation time per frame at max speed."""
HURRY_MIN_S = 0.004
"""A jump hurries the next frame only if it is due later than this (else it comes anyway)."""


class FrameStats:
    """Frame interval, work time and env steps per second over the last frames."""

    def __init__(self) -> None:
        self.intervals: deque[float] = deque(maxlen=STATS_WINDOW)
        self.works: deque[float] = deque(maxlen=STATS_WINDOW)
        self.steps: deque[tuple[float, int, int]] = deque()
        self.summary: dict[str, float] = {}
        self._due = 0.0

    def add(self, now: float, interval: float, work: float, env_steps: int,
            updates: int = 0) -> None:
        """One frame; ``env_steps`` and ``updates`` (gradient steps) are running counts."""
        self.intervals.append(interval)
        self.works.append(work)
        self.steps.append((now, env_steps, updates))
        while self.steps and now - self.steps[0][0] > 1.0:
            self.steps.popleft()
        if now >= self._due and len(self.intervals) > 2:
            self._due = now + 0.25
            iv = np.asarray(self.intervals) * 1e3
            wk = np.asarray(self.works) * 1e3
            t0, n0, u0 = self.steps[0]
            span = max(now - t0, 1e-6)
            self.summary = {
                "fps": 1e3 / float(iv.mean()),
                "int_p50": float(np.percentile(iv, 50)), "int_p99": float(np.percentile(iv, 99)),
                "work_p50": float(np.percentile(wk, 50)), "work_p99": float(np.percentile(wk, 99)),
                "steps_per_s": (env_steps - n0) / span,
                "updates_per_s": (updates - u0) / span,
            }


class FramePacer:
    """When the next frame runs, and how much of it the simulation may use.

    Args:
        clock: pyglet's clock module (``schedule_once``, ``get_default``).
        hz: frames per second.
    """

    def __init__(self, clock: Any, hz: float = FRAME_HZ) -> None:
        self.clock = clock
        self.period = 1.0 / hz
        self._next_due = 0.0
        self._last_start = 0.0
        self._hurried = False
        """The frame running now was brought forward for a jump: its slot is still to come."""
        self.hurries = 0
        """Frames brought forward for a jump."""
        # Recent draw times of frames that refresh a panel section and of those that do not:
        # the tick budget of each frame is what its kind of draw leaves of the work target.
        self.draw_times: dict[bool, deque[float]] = {
            kind: deque([0.004] * 30, maxlen=60) for kind in (False, True)}

    def start(self, frame: Callable[[float], None]) -> None:
        now = time.perf_counter()
        self._last_start = self._next_due = now
        self.clock.schedule_once(frame, 0.0)

    def begin(self) -> tuple[float, float]:
        """A frame starts: returns ``(start, interval since the last frame's start)``."""
        start = time.perf_counter()
        interval = start - self._last_start
        self._last_start = start
        return start, interval

    def sim_budget(self, refresh: bool, snapshot_s: float = 0.0, top: bool = False) -> float:
        """Seconds of simulation this frame may use.

        Args:
            refresh: the frame's draw refreshes a panel section (a slower draw).
            snapshot_s: an autosave's snapshot that this frame also takes, if any.
            top: max speed (a larger share of the frame goes to learning).
        """
        times = self.draw_times[refresh]
        draw_est = sorted(times)[int(len(times) * 0.9)]
        target = WORK_TARGET_MAX_S if top else WORK_TARGET_S
        lo, hi = SIM_BUDGET_MAX_S if top else SIM_BUDGET_S
        budget = min(max(target - draw_est, lo), hi)
        if snapshot_s:  # the frame ends with the autosave's snapshot: leave room for it
            budget = max(budget - snapshot_s, lo / 2)
        return budget

    def drew(self, refresh: bool, seconds: float) -> None:
        """Records how long a frame's draw took."""
        self.draw_times[refresh].append(seconds)

    def next_due(self) -> float:
        """When the next frame is due on the timeline (``perf_counter`` seconds)."""
        return self._next_due + self.period

    def hurry(self, frame: Callable[[float], None]) -> bool:
        """A person's jump arrived between frames: the next frame runs now, not at its slot.

        Waiting for the slot cost up to a whole frame of key-to-motion latency. The frame
        brought forward is an extra one: the timeline keeps its slots (``schedule_next``).
        Returns whether the frame was brought forward.
        """
        if self._hurried or self._next_due - time.perf_counter() < HURRY_MIN_S:
            return False
        self.clock.unschedule(frame)
        self.clock.schedule_once(frame, 0.0)
        self._hurried = True
        self.hurries += 1
        return True

    def schedule_next(self, frame: Callable[[float], None]) -> None:
        now = time.perf_counter()
        if self._hurried:  # an extra frame: the slot it ran ahead of comes next, unless close
            self._hurried = False
            if self._next_due - now < self.period / 3:
                self._next_due += self.period
        else:
            self._next_due += self.period
        if self._next_due < now - self.period:
            self._next_due = now  # fell far behind (a stall): restart the timeline, no burst
        clock = self.clock.get_default()
        # pyglet measures a delay from its last tick unless that is > 0.2 s old
        base = clock.last_ts if clock.last_ts and now - clock.last_ts <= 0.2 else now
        self.clock.schedule_once(frame, max(0.0, self._next_due - base))


class FlipLearner:
    """Pays owed gradient steps on a worker thread while the window's thread draws.

    A software-GL flip rasterises the frame in C with the GIL released (7-8 ms of a 60 Hz
    frame on a 2-core machine with llvmpipe): the window's thread waits there, and a second
    core can learn. The learner is only ever touched by one thread at a time: the window
    opens the gate just before drawing (``open``), where it touches no learner state, and
    ``close`` waits for the step in progress before the frame goes on. Each side then pays
    from the same credit (``Learner.pay``), so the steps are those the pacing asked for,
    only paid sooner.

    Args:
        pay_one: pays one owed gradient step; returns 1, or 0 when nothing is owed.
    """

    def __init__(self, pay_one: Callable[[], int]) -> None:
        self._pay_one = pay_one
        self._cv = threading.Condition()
        self._open = False
        self._busy = False
        self._frame = 0
        self._stop = False
        self.paid = 0
        """Gradient steps the worker paid."""
        self._thread: threading.Thread | None = None
        """Started by the first ``open`` (none while the level loads)."""

    def open(self) -> None:
        """The window is about to draw: the worker may learn."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="flip-learner", daemon=True)
            self._thread.start()
        with self._cv:
            self._open = True
            self._frame += 1
            self._cv.notify_all()

    def close(self) -> None:
        """The frame is drawn: waits for the worker's step in progress, if any."""
        with self._cv:
            self._open = False
            while self._busy:
                self._cv.wait()

    def stop(self) -> None:
        """Ends the worker (after the step in progress)."""
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join(5.0)

    def _run(self) -> None:
        idle_frame = -1  # the frame in which nothing was owed: wait for the next
        while True:
            with self._cv:
                while not self._stop and (not self._open or self._frame == idle_frame):
                    self._cv.wait()
                if self._stop:
                    return
                self._busy, frame = True, self._frame
            try:
                n = self._pay_one()
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()
            self.paid += n
            if not n:
                idle_frame = frame
