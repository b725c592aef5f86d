"""The game loop without a window: fixed ticks, pause, speeds, pilots and scores.

The window (``game.app``) calls :meth:`Session.advance` once per frame with the
wall-clock time since the last frame and draws :meth:`Session.view`; every
timing decision lives here so it can be tested headless. One tick is always the
same data flow, whoever flies::

    obs -> action (the player's pending SPACE, or learner.act) -> world.step
        -> learner.observe(..., human=...) -> end_episode when a flight ends

:class:`Autosave` decides when the learner's state is saved and keeps what the
HUD says about saves; the store and the background saver (``ai.store``) are
passed in.

Numpy and the standard library only: no pyglet, no torch (the learner, the
store and the saver are passed in, duck-typed, so tests use small fakes).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from game import make_world
from game.physics import FALL, JUMP

SPEEDS: tuple[int | None, ...] = (1, 4, 16, None)
"""Fast-forward multipliers picked with keys 1-4; None is max (as many ticks as fit)."""
SPEED_NAMES = ("1x", "4x", "16x", "max")
TICK_RATES: tuple[float, ...] = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60)
"""The ladder +/- climbs, in ticks per second."""
DEFAULT_TICK_RATE = 10.0
"""A person can play at 10 ticks/s; the seed's 20 needs a jump every ~150 ms."""
PILOTS = ("human", "autopilot")
TICKS_PER_STAGE = 40


@dataclass
class SessionConfig:
    """Timing of the loop; all durations are wall-clock seconds at 1x."""

    tick_rate: float = DEFAULT_TICK_RATE
    """Simulation ticks per second at 1x."""
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


class LearnerLike(Protocol):
    """What the session uses of ``ai.Learner`` (the loop's side: ``game.rollout.Agent``)."""

    learn_enabled: bool

    def act(self, obs: np.ndarray, explore: bool = True) -> int: ...

    def observe(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray,
                terminated: bool, truncated: bool, human: bool = False) -> None: ...

    def end_episode(self, score: float) -> None: ...


class SaveInfoLike(Protocol):
    """What the game reads of ``ai.store.SaveInfo``."""

    ok: bool
    message: str
    generation: int | None
    finished_at: float


class StoreLike(Protocol):
    """What :class:`Autosave` uses of ``ai.store.Store``."""

    def prepare(self, state: Any, copy: bool = True) -> Any: ...


class SaverLike(Protocol):
    """What :class:`Autosave` uses of ``ai.store.BackgroundSaver``."""

    @property
    def busy(self) -> bool: ...

    def submit(self, snapshot: Any) -> None: ...

    def poll(self) -> list[Any]: ...

    def close(self, timeout: float | None = None) -> list[Any]: ...


class ScoreBookLike(Protocol):
    """What the session uses of ``game.scores.ScoreBook``."""

    def get(self, level: str, kind: str = "human") -> int: ...

    def record(self, level: str, kind: str, score: int) -> bool: ...


@dataclass
class View:
    """What the renderer needs for one frame, interpolated between two ticks."""

    t: float
    """Ticks since the flight (classic) or run (arcade) began, fractional between ticks."""
    x: float
    """Screen x in field units, [-1, 1]."""
    y: float
    """Height in field units (outside [-1, 1] after an edge crash)."""
    v_y: float
    """Vertical speed after the latest tick."""
    dy: float
    """Height change over the tick being drawn (tilts the sprite)."""
    stage: int
    """Which crossing the flyer is on (arcade: selects the walls to draw)."""
    phase: str
    """'ready', 'flying', 'crashed' (classic, brief) or 'game_over' (arcade)."""


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
    """

    def __init__(self, level: str, seed: int | None = None, config: SessionConfig | None = None,
                 learner: LearnerLike | None = None, scores: ScoreBookLike | None = None,
                 pilot: str = "human", clock: Callable[[], float] = time.perf_counter) -> None:
        if pilot not in PILOTS:
            raise ValueError(f"pilot must be one of {PILOTS}, got {pilot!r}")
        if pilot == "autopilot" and learner is None:
            raise ValueError("the autopilot cannot fly: no learner is attached")
        self.level = level
        self.config = config or SessionConfig()
        self.world: Any = make_world(level, seed)
        self.learner = learner
        self.scores = scores
        self.clock = clock
        self.tick_rate = float(self.config.tick_rate)
        self.speed_index = 0
        self.pilot = pilot
        self.paused = False
        self._paused_at = 0.0
        self.pause_reason: str | None = None
        """'user' (P), 'focus' (window lost focus) or 'hidden' (minimized)."""
        self.phase = "ready" if pilot == "human" else "flying"
        """'ready' (the player's run waits for SPACE), 'flying', 'crashed' or 'game_over'."""
        self.timer = 0.0
        self.acc = 0.0
        """Accumulated ticks not yet run, in ticks (the fraction is the interpolation alpha)."""
        self.pending_jump = False
        self.score = 0
        self.stage = 0
        self.run_assisted = pilot == "autopilot"
        """True once the autopilot has flown any part of the current run."""
        # counters for the HUD, the FPS panel and the window test
        self.ticks = 0
        self.human_ticks = 0
        self.pilot_ticks = 0
        self.human_jumps = 0
        self.flights = 0
        self.restarts = 0
        self.dropped_ticks = 0
        self.last_ticks = 0
        """Ticks run by the latest ``advance`` call."""
        self.jump_rise: float | None = None
        """Height gained on the tick after the player's latest jump (the window test reads it)."""
        self._check_rise = False
        self.events = {"jump": 0, "score": 0, "crash": 0, "best": 0, "stage": 0}
        self.obs = self.world.observation()
        self._prev = self._cur = self._snap()

    # ----------------------------------------------------------------- properties
    @property
    def speed(self) -> int | None:
        """The fast-forward multiplier (None = max)."""
        return SPEEDS[self.speed_index]

    @property
    def speed_name(self) -> str:
        return SPEED_NAMES[self.speed_index]

    @property
    def run_kind(self) -> str:
        """Whose best the current run counts towards: 'human' or 'autopilot'."""
        return "autopilot" if self.run_assisted else "human"

    @property
    def best(self) -> int:
        """Best score of the current run's kind on this level."""
        return self.scores.get(self.level, self.run_kind) if self.scores is not None else 0

    # ----------------------------------------------------------------- controls
    def press_jump(self) -> None:
        """SPACE: the player's jump; also starts a run, resumes a pause, restarts a game over."""
        if self.paused:
            self.resume()
        elif self.pilot != "human":
            return
        elif self.phase == "game_over":
            self.restart()
            self.phase = "flying"
        elif self.phase == "ready":
            self.phase = "flying"
            self.acc = 0.0
            self.pending_jump = True
        elif self.phase == "flying":
            self.pending_jump = True

    def toggle_pause(self) -> None:
        """P: pause or resume."""
        if self.paused:
            self.resume()
        else:
            self.pause("user")

    def pause(self, reason: str = "user") -> None:
        """Stops the clock; a player's own pause (P) is never turned into an automatic one."""
        if not self.paused or (reason == "hidden" and self.pause_reason == "focus"):
            self.pause_reason = reason
            self._paused_at = self.clock()
        self.paused = True
        self.pending_jump = False

    def resume(self) -> None:
        """Starts the clock again with an empty accumulator: no burst of catch-up ticks."""
        self.paused = False
        self.pause_reason = None
        self.acc = 0.0

    def focus_lost(self) -> None:
        """The window lost focus: pause (the player cannot steer what they cannot see)."""
        if not self.paused:
            self.pause("focus")

    def hidden(self) -> None:
        """The window was minimized: pause."""
        self.pause("hidden")

    def focus_gained(self) -> None:
        """Focus is back: the autopilot carries on; the player resumes with a key.

        A focus flicker (out and back within ``focus_flicker_s``, as X sends when
        focus moves between windows) does not leave the player's game paused.
        """
        if not self.paused or self.pause_reason not in ("focus", "hidden"):
            return
        brief = self.clock() - self._paused_at < self.config.focus_flicker_s
        if self.pilot == "autopilot" or brief:
            self.resume()

    def set_speed(self, index: int) -> None:
        """Keys 1-4: pick 1x, 4x, 16x or max."""
        if not 0 <= index < len(SPEEDS):
            raise ValueError(f"speed index must be 0..{len(SPEEDS) - 1}")
        self.speed_index = index
        self.acc = min(self.acc, 1.0)

    def set_tick_rate(self, hz: float) -> None:
        """Sets ticks per second at 1x; the fraction of the tick in progress is kept."""
        if not hz > 0 or math.isinf(hz):
            raise ValueError(f"tick rate must be a positive number, got {hz!r}")
        self.tick_rate = float(hz)

    def faster(self) -> float:
        """'+': the next tick rate up the ladder."""
        higher = [r for r in TICK_RATES if r > self.tick_rate + 1e-9]
        self.set_tick_rate(higher[0] if higher else self.tick_rate)
        return self.tick_rate

    def slower(self) -> float:
        """'-': the next tick rate down the ladder."""
        lower = [r for r in TICK_RATES if r < self.tick_rate - 1e-9]
        self.set_tick_rate(lower[-1] if lower else self.tick_rate)
        return self.tick_rate

    def toggle_pilot(self) -> str:
        """A / TAB: hands the controls over mid-flight, without a reset; returns who flies."""
        if self.pilot == "human":
            if self.learner is None:
                raise RuntimeError("the autopilot is not available")
            self.pilot = "autopilot"
            self.run_assisted = True
            if self.phase == "ready":
                self.phase = "flying"
                self.acc = 0.0
            elif self.phase == "game_over":
                self.timer = self.config.autopilot_restart_s
        else:
            self.pilot = "human"
        self.pending_jump = False
        return self.pilot

    def toggle_learning(self) -> bool:
        """L: switches learning; returns the new state."""
        if self.learner is None:
            raise RuntimeError("the autopilot is not available")
        self.learner.learn_enabled = not self.learner.learn_enabled
        return self.learner.learn_enabled

    def restart(self) -> None:
        """R: a new flight (classic, streak reset) or a new run on a new course (arcade).

        The player's new run waits for SPACE; the autopilot's starts at once.
        """
        self.world.reset()
        self.obs = self.world.observation()
        self.restarts += 1
        self.phase = "ready" if self.pilot == "human" else "flying"
        self.timer = 0.0
        self.acc = 0.0
        self.pending_jump = False
        self._check_rise = False
        self.score = 0
        self.stage = 0
        self.run_assisted = self.pilot == "autopilot"
        self._prev = self._cur = self._snap()

    # ----------------------------------------------------------------- the loop
    def advance(self, dt: float) -> int:
        """Runs the ticks due after ``dt`` wall-clock seconds; returns how many ran.

        The accumulator gains ``dt * tick_rate * speed`` ticks, with ``dt`` capped
        at ``max_frame_dt`` so a stall is never made up in a burst. Ticks stop once
        ``work_budget_s`` is used; a backlog that did not fit is dropped, so a slow
        machine plays slower instead of spiralling. At max speed the budget alone
        decides how many ticks run.
        """
        self.last_ticks = 0
        if self.paused:
            return 0
        dt = min(max(float(dt), 0.0), self.config.max_frame_dt)
        speed = self.speed
        if self.phase != "flying":
            began = self._wait(dt, speed)
            if not began or speed is not None:
                return 0  # the new flight starts ticking from the next frame
        deadline = self.clock() + self.config.work_budget_s
        n = 0
        if speed is None:
            while self.phase == "flying" or self._wait(0.0, None):
                self._tick()
                n += 1
                if self.clock() >= deadline:
                    break
        else:
            self.acc += dt * self.tick_rate * speed
            due = int(self.acc)
            while n < due and self.phase == "flying":
                self._tick()
                n += 1
                if self.clock() >= deadline:
                    break
            self.acc -= n
            if self.phase != "flying":
                self.acc = 0.0
            elif self.acc >= 1.0:
                dropped = int(self.acc)
                self.dropped_ticks += dropped
                self.acc -= dropped
        self.last_ticks = n
        return n

    def _wait(self, dt: float, speed: int | None) -> bool:
        """Counts down a crash or game-over pause; True once the next flight has begun."""
        if self.phase == "ready" or (self.phase == "game_over" and self.pilot == "human"):
            return False  # the player starts with SPACE (or R after a game over)
        self.timer -= math.inf if speed is None else dt * speed
        if self.timer > 0:
            return False
        if self.phase == "crashed":
            self._next_flight()
        else:
            self.restart()
        return True

    def _next_flight(self) -> None:
        self.world.reset()
        self.obs = self.world.observation()
        self.phase = "flying"
        self.timer = 0.0
        # the accumulator is left alone: a success starts the next flight inside the tick loop
        self._prev = self._cur = self._snap()

    def _tick(self) -> None:
        """One simulation tick: the single data path for the player and the autopilot."""
        obs = self.obs
        human = self.pilot == "human"
        learner = self.learner
        if human:
            action = JUMP if self.pending_jump else FALL
            self.pending_jump = False
            self.human_ticks += 1
        else:
            action = int(learner.act(obs, explore=learner.learn_enabled))
            self.pilot_ticks += 1
        y_before = self.world.y
        reward, terminated = self.world.step(action)
        next_obs = self.world.observation()
        if learner is not None:
            learner.observe(obs, action, reward, next_obs, terminated, False, human=human)
        self.obs = next_obs
        self.ticks += 1
        if self._check_rise:
            self.jump_rise = self.world.y - y_before
            self._check_rise = False
        if action == JUMP:
            self.events["jump"] += 1
            if human:
                self.human_jumps += 1
                self._check_rise = not terminated
        self._prev, self._cur = self._cur, self._snap()
        if self.level == "classic":
            self._after_classic(reward, terminated)
        else:
            self._after_arcade(reward, terminated)

    def _after_classic(self, reward: float, terminated: bool) -> None:
        if not terminated:
            return
        self.flights += 1
        success = reward > 0
        if self.learner is not None:
            self.learner.end_episode(1.0 if success else 0.0)
        if success:
            self.score += 1
            self.stage += 1
            self.events["score"] += 1
            self._record_best()
            self._next_flight()
        else:
            self.events["crash"] += 1
            self.score = 0
            self.run_assisted = self.pilot == "autopilot"
            self.phase = "crashed"
            self.timer = self.config.crash_hold_s

    def _after_arcade(self, reward: float, terminated: bool) -> None:
        world = self.world
        if world.stage != self.stage:
            self.stage = world.stage
            self.events["stage"] += 1
        if reward > 0:
            self.score = world.score
            self.events["score"] += 1
            self._record_best()
        if terminated:
            self.flights += 1
            self.events["crash"] += 1
            if self.learner is not None:
                self.learner.end_episode(float(world.score))
            self.phase = "game_over"
            self.timer = self.config.autopilot_restart_s

    def _record_best(self) -> None:
        if self.scores is not None and self.scores.record(self.level, self.run_kind, self.score):
            self.events["best"] += 1

    # ----------------------------------------------------------------- reading
    def _snap(self) -> tuple[int, float, float]:
        return (self.world.t, float(self.world.y), float(self.world.v_y))

    def alpha(self) -> float:
        """How far between the previous and the latest tick to draw, in [0, 1]."""
        if self.phase != "flying" or self.speed is None or self.paused:
            return 1.0
        return min(max(self.acc, 0.0), 1.0)

    def view(self) -> View:
        """The flyer's interpolated position for drawing (max speed: the latest state)."""
        a = self.alpha()
        (t0, y0, _), (t1, y1, v1) = self._prev, self._cur
        t = t0 + (t1 - t0) * a
        y = y0 + (y1 - y0) * a
        if self.level == "classic":
            x = -1.0 + 0.05 * t
            stage = self.stage
        else:
            x = -1.0 + 0.05 * (t % TICKS_PER_STAGE)
            stage = int(t // TICKS_PER_STAGE)
        return View(t=t, x=x, y=y, v_y=v1, dy=y1 - y0, stage=stage, phase=self.phase)

    def take_events(self) -> dict[str, int]:
        """Events since the last call (sounds, flashes); the counters start again at 0."""
        out = dict(self.events)
        for k in self.events:
            self.events[k] = 0
        return out

    def state(self) -> dict[str, Any]:
        """A JSON-able summary (the window test and the bench read it)."""
        learner = self.learner
        return {
            "level": self.level,
            "pilot": self.pilot,
            "paused": self.paused,
            "pause_reason": self.pause_reason,
            "phase": self.phase,
            "t": int(self.world.t),
            "y": float(self.world.y),
            "v_y": float(self.world.v_y),
            "score": self.score,
            "best": self.best,
            "stage": self.stage,
            "tick_rate": self.tick_rate,
            "speed": self.speed_name,
            "ticks": self.ticks,
            "human_ticks": self.human_ticks,
            "pilot_ticks": self.pilot_ticks,
            "human_jumps": self.human_jumps,
            "jump_rise": self.jump_rise,
            "flights": self.flights,
            "restarts": self.restarts,
            "dropped_ticks": self.dropped_ticks,
            "learning": None if learner is None else bool(learner.learn_enabled),
        }


class Autosave:
    """When the learner is saved, and what the HUD and the terminal say about saves.

    A save is split in two: the snapshot (``learner.state()`` and ``store.prepare``,
    a millisecond or two) runs on the caller's thread, the game's frame, so the
    learner never changes under it; the disk write runs on the saver's own thread,
    so the frame never waits for the disk. A save is skipped while the learner is
    unchanged since the last one (paused, or learning off).

    Args:
        learner: the live learner (reads ``env_steps``, ``episodes``, ``updates``).
        store: makes snapshots (``prepare``).
        saver: writes snapshots in the background (``submit``, ``poll``, ``close``).
        interval_s: play seconds between autosaves.
        dirty: the learner is not on disk yet although it has taken no step (a
            fresh learner started from a pilot file).
        resumed: ``(episodes, env_steps)`` carried over from the loaded save, or None
            for a new learner.
        generation: the save the learner was loaded from, if any.
        clock: wall-clock seconds, the clock of ``SaveInfo.finished_at``.
    """

    def __init__(self, learner: Any, store: StoreLike, saver: SaverLike,
                 interval_s: float = 60.0, dirty: bool = False,
                 resumed: tuple[int, int] | None = None, generation: int | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        if not interval_s > 0:
            raise ValueError(f"autosave interval must be positive, got {interval_s!r}")
        self.learner = learner
        self.store = store
        self.saver = saver
        self.interval_s = float(interval_s)
        self.resumed = resumed
        self.loaded_generation = generation
        self.clock = clock
        self.play_s = 0.0
        """Play time since the last snapshot, in seconds."""
        self.snapshots = 0
        self.snapshot_ms = 0.0
        """Time the latest snapshot took on the caller's thread."""
        self.snapshot_ms_max = 0.0
        self.saves_ok = 0
        self.saves_failed = 0
        self.last: SaveInfoLike | None = None
        """The latest finished save, good or failed."""
        self.last_ok: SaveInfoLike | None = None
        self.unfinished = False
        """True if ``close`` timed out with a write still running."""
        self._saved_key = None if dirty else self._key()

    def _key(self) -> tuple[int, int, int]:
        lr = self.learner
        return (int(lr.env_steps), int(lr.episodes), int(lr.updates))

    @property
    def dirty(self) -> bool:
        """True if the learner changed since the last snapshot (or that save failed)."""
        return self._key() != self._saved_key

    @property
    def busy(self) -> bool:
        """True while a save is waiting or being written."""
        return bool(self.saver.busy)

    def due(self, dt: float) -> bool:
        """True if ``play(dt)`` would take a snapshot now."""
        return self.play_s + max(float(dt), 0.0) >= self.interval_s and self.dirty

    def snapshot_estimate_s(self) -> float:
        """How long the next snapshot will likely take on the caller's thread, in seconds."""
        return (self.snapshot_ms or 3.0) * 1e-3

    def play(self, dt: float) -> bool:
        """Counts ``dt`` seconds of play; starts a save when one is due. True if it did."""
        self.play_s += max(float(dt), 0.0)
        if self.play_s < self.interval_s:
            return False
        return self.save_now()

    def save_now(self) -> bool:
        """Snapshots the learner and hands it to the saver, if it changed. True if it did.

        A learner that cannot be saved (NaN in its weights: ``StateError``) is reported
        like a failed write and the previous save stays the newest.
        """
        self.play_s = 0.0
        key = self._key()
        if key == self._saved_key:
            return False
        t0 = time.perf_counter()
        try:
            snapshot = self.store.prepare(self.learner.state(), copy=False)
        except ValueError as exc:  # ai.StateError: one line naming the problem
            self._record(_Failed(str(exc).splitlines()[0], self.clock()))
            return False
        self.saver.submit(snapshot)
        self.snapshot_ms = (time.perf_counter() - t0) * 1e3
        self.snapshot_ms_max = max(self.snapshot_ms_max, self.snapshot_ms)
        self.snapshots += 1
        self._saved_key = key
        return True

    def poll(self) -> list[SaveInfoLike]:
        """The saves finished since the last call; the counters and ``last`` follow them."""
        infos = self.saver.poll()
        for info in infos:
            self._record(info)
        return infos

    def close(self, timeout: float | None = None) -> list[SaveInfoLike]:
        """The final save: snapshots a changed learner and waits up to ``timeout`` for the disk.

        Returns the saves finished since the last ``poll``; ``unfinished`` is True if the
        write was still running at the timeout (the previous save then stays the newest).
        """
        failed_before = self.saves_failed
        self.save_now()
        pre = [] if self.saves_failed == failed_before else [self.last]
        infos = self.saver.close(timeout)
        for info in infos:
            self._record(info)
        self.unfinished = bool(self.saver.busy)
        return [i for i in pre if i is not None] + infos

    def _record(self, info: SaveInfoLike) -> None:
        self.last = info
        if info.ok:
            self.saves_ok += 1
            self.last_ok = info
        else:
            self.saves_failed += 1
            self._saved_key = None  # the learner is not on disk: retry at the next autosave

    def seconds_since_save(self) -> float | None:
        """Seconds since the latest good save finished (None: none this session)."""
        if self.last_ok is None:
            return None
        return max(self.clock() - self.last_ok.finished_at, 0.0)

    def summary(self) -> dict[str, Any]:
        """A JSON-able summary for the state file."""
        last = self.last
        return {
            "autosave_s": self.interval_s,
            "play_s": round(self.play_s, 3),
            "snapshots": self.snapshots,
            "snapshot_ms": round(self.snapshot_ms, 3),
            "snapshot_ms_max": round(self.snapshot_ms_max, 3),
            "saves_ok": self.saves_ok,
            "saves_failed": self.saves_failed,
            "busy": self.busy,
            "dirty": self.dirty,
            "last_ok": None if last is None else bool(last.ok),
            "last_message": None if last is None else last.message,
            "last_generation": None if self.last_ok is None else self.last_ok.generation,
            "seconds_since_save": self.seconds_since_save(),
            "loaded_generation": self.loaded_generation,
            "resumed_episodes": None if self.resumed is None else self.resumed[0],
            "resumed_env_steps": None if self.resumed is None else self.resumed[1],
        }


@dataclass(frozen=True)
class _Failed:
    """A save that failed before reaching the saver (the learner could not be snapshotted)."""

    message: str
    finished_at: float
    ok: bool = False
    generation: int | None = None
