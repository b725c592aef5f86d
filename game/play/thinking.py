"""Watch it think: what the greedy pilot plans, what the oracle would do, and the policy map.

The V overlay (``game.ui.think_view``) draws three things computed here:

* ``planned_path``: the deterministic world rolled forward from the flyer's state under
  the greedy policy, decision by decision, with the world's own ``tick`` (a copy of the
  world is flown, so the path is exactly what the world would do if the pilot flew greedy);
* ``oracle_path`` (arcade): the exact oracle's best plan from the same state
  (``game.sim.oracle.plan_from``) over the gates within the horizon and the one after, replayed
  on a copy of the world; ``best_path`` (classic, which has no course): every action
  sequence over the horizon, flown at once on a ``ClassicBatch``, the one that survives
  longest and keeps farthest from the edges;
* ``policy_map`` (classic): the greedy action over the (y, v_y) plane in a few batched calls.

``Thinker`` decides when to compute them (at most once per decision, on wall-clock timers)
and caches them, so the window pays for a plan a few times a second, not every frame
(``bench/think_cost.py`` measures the cost).

Numpy only: no pyglet, no torch, no ``ai``. The policy is any callable from a batch of
observations ``(B, obs)`` to actions ``(B,)`` (``ai.Learner.greedy_batch``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from game.sim import arcade, classic, oracle
from game.sim.actions import FALL

Policy = Callable[[np.ndarray], np.ndarray]
"""Observations ``(B, obs_size)`` float32 -> actions ``(B,)``."""

ARCADE_DECISIONS = 15
"""Arcade horizon: 15 decisions of 4 ticks, one second of play at 1x."""
CLASSIC_DECISIONS = 10
"""Classic horizon: 10 ticks, one second at the default 10 ticks/s (2^10 sequences)."""
MAP_CELLS = 48
"""The policy map's cells per side."""
MAP_CHUNK = 192
"""Rows per policy call of the map (one BLAS thread below ~256 rows; see ``policy_map``)."""
MAP_Y = (-1.0, 1.0)
"""The policy map's height range (field units): the whole field."""
MAP_V = (-1.0, 0.4)
"""The policy map's speed range (field units per tick): a jump sets 0.2, each fall takes
0.2 off, and a flyer falling faster than 1.0 per tick is already lost."""
PLAN_EVERY_S = 1.0 / 15.0
"""Least wall-clock time between two plans: at most once per arcade decision at 1x."""
MAP_EVERY_S = 0.25
"""Least wall-clock time between two policy maps (four a second)."""


@dataclass(frozen=True)
class Path:
    """A flight the world would make: one point per tick after the start state."""

    t: np.ndarray
    """int64 world tick after each point's tick."""
    x: np.ndarray
    """Field x of each point (the world's own ``x``)."""
    y: np.ndarray
    """Height of each point."""
    actions: tuple[int, ...] = ()
    """One action per decision flown (after any forced ticks)."""
    gates: int = 0
    """Gates passed along the path (arcade)."""
    crashed: bool = False
    """The path ends in a crash."""
    promised: int | None = None
    """Oracle: the gates its search says the whole plan passes (within and past the
    horizon); ``gates`` counts those passed within it."""

    def __len__(self) -> int:
        return int(self.t.size)


@dataclass
class Subject:
    """The flyer to think about: a copy of its world to fly, and the ticks already forced.

    ``forced`` is how many FALL ticks are left of the autopilot's decision in progress
    (a decision is one action then falls; the plan starts at the next decision).
    ``prefix`` are points already known (a flock's decision being played back), drawn
    before the plan.
    """

    world: Any
    forced: int = 0
    key: tuple = ()
    """What identifies the state: a new key is a new plan."""
    prefix: Path | None = None


# ---- worlds at a state ----------------------------------------------------------------------

def clone(world: Any) -> Any:
    """A copy of a scalar world that can be flown without touching the original.

    A shallow copy suffices: a tick only rebinds the world's numbers, and an endless
    course grows into new lists (``ArcadeWorld._grow``), never into the shared ones.
    """
    return copy.copy(world)


@lru_cache(maxsize=4)
def _arcade_template(course_seed: int, n_gates: int, physics: arcade.Physics,
                     rules: arcade.CourseRules) -> arcade.ArcadeWorld:
    """An ``ArcadeWorld`` on the course of ``course_seed`` (made once per course)."""
    w = arcade.ArcadeWorld(0, n_gates=n_gates, physics=physics, rules=rules)
    w.reset(course_seed=course_seed, v_y=0.0)
    return w


def world_of(batch: Any, i: int) -> Any:
    """A scalar world in the state of flyer ``i`` of a batch (``ArcadeBatch``,
    ``ClassicBatch``): the batch's flyers match their scalar worlds tick for tick."""
    if isinstance(batch, arcade.ArcadeBatch):
        w = clone(_arcade_template(int(batch.course_seed[i]), int(batch.n_gates),
                                   batch.physics, batch.rules))
        w.gate, w.score = int(batch.gate[i]), int(batch.score[i])
    elif isinstance(batch, classic.ClassicBatch):
        w = classic.ClassicWorld(0, physics=batch.physics)
        w.x = float(batch.x[i])
    else:
        raise TypeError(f"no scalar world for a {type(batch).__name__}")
    w.t, w.y, w.v_y, w.done = int(batch.t[i]), float(batch.y[i]), float(batch.v_y[i]), False
    return w


def _x_at(world: Any, t: int) -> float:
    """The field x at tick ``t`` of ``world``'s run, by the world's own ``x``."""
    w = clone(world)
    w.t = t
    return float(w.x)


# ---- flying a copy -------------------------------------------------------------------------

class _Recorder:
    """Flies a world tick by tick and keeps every point (the world's own ``tick``)."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.t: list[int] = []
        self.x: list[float] = []
        self.y: list[float] = []
        self.score0 = int(getattr(world, "score", 0))
        self.crashed = False

    def tick(self, action: int) -> bool:
        """One tick; True if the run ended."""
        w = self.world
        reward, done = w.tick(action)
        self.t.append(int(w.t))
        self.x.append(float(w.x))
        self.y.append(float(w.y))
        if done and reward < 0:
            self.crashed = True
        return bool(done)

    def decision(self, action: int) -> bool:
        """One decision as ``world.step`` flies it: the action, then FALL ticks."""
        done = self.tick(action)
        for _ in range(self.world.decision_ticks - 1):
            if done:
                break
            done = self.tick(FALL)
        return done

    def path(self, actions: list[int], promised: int | None = None) -> Path:
        gates = int(getattr(self.world, "score", 0)) - self.score0
        return Path(np.array(self.t, dtype=np.int64), np.array(self.x), np.array(self.y),
                    tuple(actions), gates, self.crashed, promised)


def _fly_forced(rec: _Recorder, forced: int) -> bool:
    """The FALL ticks left of a decision in progress; True if the run ended in them."""
    for _ in range(forced):
        if rec.tick(FALL):
            return True
    return bool(rec.world.done)


def planned_path(world: Any, policy: Policy, decisions: int, forced: int = 0) -> Path:
    """Where the greedy ``policy`` flies from ``world``'s state over ``decisions`` decisions.

    The world is copied and flown with its own ticks; ``forced`` FALL ticks come first
    (the rest of a decision in progress). One policy call per decision.
    """
    rec = _Recorder(clone(world))
    actions: list[int] = []
    if not _fly_forced(rec, forced):
        for _ in range(decisions):
            obs = rec.world.observation()[None, :]
            a = int(np.asarray(policy(obs))[0])
            actions.append(a)
            if rec.decision(a):
                break
    return rec.path(actions)


def oracle_gates(world: Any, horizon_ticks: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The gates an oracle plan from ``world`` must see: those that start within
    ``horizon_ticks`` and the one after (so the plan does not fly into a dead end), as
    ``(start - t, gap_y, half_gap)``."""
    c, g = world.course, int(world.gate)
    start = c.start[g:] - int(world.t)
    # A finite course simply has no more gates; an endless one always holds two ahead.
    n = int(np.searchsorted(start, horizon_ticks, side="right")) + 1
    return start[:n], c.gap_y[g:g + n], c.half_gap[g:g + n]


def oracle_path(world: Any, decisions: int, forced: int = 0) -> Path:
    """The exact oracle's best path from an ``ArcadeWorld``'s state over ``decisions``.

    After the ``forced`` ticks, ``game.sim.oracle.plan_from`` searches every plan over the
    gates within the horizon and the next one; its plan is flown on a copy of the world,
    and the first ``decisions`` decisions of it are the path.
    """
    rec = _Recorder(clone(world))
    if _fly_forced(rec, forced):
        return rec.path([])
    w = rec.world
    p = w.physics
    start, gap_y, half = oracle_gates(w, decisions * p.decision_ticks)
    best, plan = oracle.plan_from(start, gap_y, half, w.y, w.v_y, w.rules.wall_ticks, p)
    flown: list[int] = []
    for a in plan[:decisions]:
        flown.append(a)
        if rec.decision(a):
            break
    return rec.path(flown, promised=best)


def best_path(world: Any, decisions: int) -> Path:
    """Classic: the best of every action sequence over the horizon, flown on a batch.

    All ``2 ** decisions`` sequences fly at once on a ``ClassicBatch`` (the world's batched
    step); the best reaches the right edge or survives the most ticks and, among those,
    keeps farthest from the top and bottom edges. It is flown again on a copy of the world.
    """
    n = 1 << decisions
    b = classic.ClassicBatch(n, seed=0, physics=world.physics, autoreset=False)
    b.x[:], b.y[:], b.v_y[:], b.t[:] = world.x, world.y, world.v_y, world.t
    seqs = (np.arange(n)[:, None] >> np.arange(decisions)[None, :]) & 1
    alive = np.ones(n, dtype=bool)
    success = np.zeros(n, dtype=bool)
    ticks = np.zeros(n, dtype=np.int64)
    margin = np.full(n, np.inf)
    edge = world.physics.edge
    for k in range(decisions):
        _, reward, terminated = b.step(seqs[:, k])
        success |= alive & (reward > 0)
        ticks += alive
        crashed = alive & terminated & (reward < 0)
        still = alive & ~terminated
        margin[still] = np.minimum(margin[still], edge - np.abs(b.y[still]))
        margin[crashed] = -np.inf
        alive = still
        if not alive.any():
            break
    order = np.lexsort((-margin, -ticks, ~success))  # the last key sorts first
    choice = seqs[order[0]].tolist()
    rec = _Recorder(clone(world))
    flown: list[int] = []
    for a in choice:
        flown.append(a)
        if rec.decision(a):
            break
    return rec.path(flown)


def policy_map(policy: Policy, cells: int = MAP_CELLS, y_range: tuple[float, float] = MAP_Y,
               v_range: tuple[float, float] = MAP_V) -> np.ndarray:
    """The greedy action at the centre of each cell of the (y, v_y) plane (classic).

    Returns int8 ``(cells, cells)``: row ``i`` is a height (bottom row first), column ``j``
    a speed (slowest first). A few batched policy calls.
    """
    ys, vs = map_axes(cells, y_range, v_range)
    obs = np.empty((cells, cells, 2), dtype=np.float32)
    obs[..., 0] = ys[:, None]
    obs[..., 1] = vs[None, :]
    obs = obs.reshape(-1, 2)
    # In slices of MAP_CHUNK rows: a bigger matmul runs on two BLAS threads, and on a busy
    # 2-core machine it then waits for a descheduled one (bench/think_cost.py: 10 ms p50
    # for one call of 2,304 rows, against well under 1 ms in slices).
    out = np.concatenate([np.asarray(policy(obs[i:i + MAP_CHUNK]))
                          for i in range(0, len(obs), MAP_CHUNK)])
    return out.reshape(cells, cells).astype(np.int8)


def map_axes(cells: int = MAP_CELLS, y_range: tuple[float, float] = MAP_Y,
             v_range: tuple[float, float] = MAP_V) -> tuple[np.ndarray, np.ndarray]:
    """The cell centres of the policy map: heights (rows) and speeds (columns)."""
    def centres(lo: float, hi: float) -> np.ndarray:
        return lo + (np.arange(cells) + 0.5) * (hi - lo) / cells

    return centres(*y_range), centres(*v_range)


def map_cell(y: float, v_y: float, y_range: tuple[float, float] = MAP_Y,
             v_range: tuple[float, float] = MAP_V) -> tuple[float, float]:
    """Where a flyer's (y, v_y) sits on the map, as fractions ``(column, row)`` in [0, 1]."""
    def frac(v: float, lo: float, hi: float) -> float:
        return min(max((v - lo) / (hi - lo), 0.0), 1.0)

    return frac(v_y, *v_range), frac(y, *y_range)


# ---- what the window thinks about ------------------------------------------------------------

def subject(session: Any) -> Subject | None:
    """The flyer the HUD follows, as a ``Subject``, or None when there is none in the air.

    The flock's focus flyer while the flock flies (at the end of the decision being played
    back, with the rest of that decision's heights as the prefix), else the session's own
    world (the single flyer, or the person's): then the plan starts after the autopilot's
    decision in progress.
    """
    from game.play.phases import Phase

    if session.phase is not Phase.FLYING:
        return None
    if session.flocking:
        fp = session.flock
        f, i = fp.flock, int(fp.focus)
        if not f.alive[i]:
            return None
        b = f.batch
        world = world_of(b, i)
        d = fp.d
        t0 = int(fp.t0[i])
        rows = fp.heights.shape[0]
        prefix = None
        if d > 1 and rows == d:  # the decision being played back, to draw before the plan
            t = t0 + np.arange(1, d + 1, dtype=np.int64)
            prefix = Path(t, np.array([_x_at(world, k) for k in t.tolist()]),
                          fp.heights[:, i].astype(np.float64))
        key = ("flock", i, int(b.course_seed[i]) if f.courses else 0, int(b.t[i]))
        return Subject(world, 0, key, prefix)
    world = session.world
    if world.done:
        return None
    forced = 0
    pilots = session.pilots
    if not pilots.human and pilots.decision is not None:
        forced = max(int(pilots.decision_ticks) - int(pilots.decision.ticks), 0)
    seed = int(getattr(world, "course_seed", 0))
    key = ("world", seed, session.restarts, session.flights, int(world.t), forced)
    return Subject(clone(world), forced, key)


@dataclass
class Thought:
    """What the overlay draws: the latest plans (None: none yet) and the policy map."""

    planned: Path | None = None
    best: Path | None = None
    prefix: Path | None = None
    map: np.ndarray | None = None
    point: tuple[float, float] | None = None
    """The flyer's place on the policy map (``map_cell``)."""
    cost_s: dict[str, list[float]] = field(default_factory=dict)
    """Seconds each computation took, latest last (``bench/think_cost.py`` reads them)."""


class Thinker:
    """Computes the overlay's plans when due and keeps them.

    Args:
        courses: the level has courses (arcade: the oracle plans; classic: the exhaustive
            search and the policy map).
        decisions: the horizon in decisions (default: one second of play at 1x).
        clock: monotonic seconds, for the refresh timers.
        timer: monotonic seconds, for the costs (a benchmark simulates ``clock``).
    """

    def __init__(self, courses: bool, decisions: int | None = None,
                 clock: Callable[[], float] | None = None,
                 timer: Callable[[], float] | None = None) -> None:
        import time

        self.courses = courses
        self.decisions = decisions or (ARCADE_DECISIONS if courses else CLASSIC_DECISIONS)
        self.now = clock or time.perf_counter
        self.timer = timer or time.perf_counter
        self.thought = Thought()
        self._key: tuple | None = None
        self._plan_due = 0.0
        self._map_due = 0.0
        self.keep_costs = 256
        """Timings kept per computation."""

    def _timed(self, name: str, fn: Callable[[], Any]) -> Any:
        t = self.timer()
        out = fn()
        costs = self.thought.cost_s.setdefault(name, [])
        costs.append(self.timer() - t)
        if len(costs) > self.keep_costs:
            del costs[: len(costs) - self.keep_costs]
        return out

    def update(self, session: Any, policy: Policy | None) -> bool:
        """Refreshes what is due for ``session``'s flyer; True if anything was computed."""
        now = self.now()
        did = False
        sub = subject(session)
        if sub is None:
            if self._key is not None:
                self.thought.planned = self.thought.best = self.thought.prefix = None
                self._key = None
        elif sub.key != self._key and now >= self._plan_due:
            self._key, self._plan_due = sub.key, now + PLAN_EVERY_S
            th = self.thought
            th.prefix = sub.prefix
            world, forced, n = sub.world, sub.forced, self.decisions
            th.planned = (None if policy is None else
                          self._timed("planned", lambda: planned_path(world, policy, n, forced)))
            if self.courses:
                th.best = self._timed("oracle", lambda: oracle_path(world, n, forced))
            else:
                th.best = self._timed("oracle", lambda: best_path(world, n))
            did = True
        if not self.courses and policy is not None and now >= self._map_due:
            self._map_due = now + MAP_EVERY_S
            self.thought.map = self._timed("map", lambda: policy_map(policy))
            did = True
        if not self.courses:
            view = session.view()
            self.thought.point = map_cell(view.y, view.v_y)
        return did

    def reset(self) -> None:
        """Forgets everything (the overlay was switched off): the next update computes."""
        self.thought = Thought(cost_s=self.thought.cost_s)
        self._key = None
        self._plan_due = self._map_due = 0.0


def visible(path: Path | None, t_now: float, stage_ticks: int | None) -> tuple[np.ndarray,
                                                                                 np.ndarray]:
    """The points of ``path`` still ahead of the drawn flyer on its crossing: ``(x, y)``.

    Points at or before the drawn tick ``t_now`` are behind the flyer; on a level of
    crossings (``stage_ticks``) the points past the right edge belong to the next crossing.
    """
    if path is None or not len(path):
        return np.zeros(0), np.zeros(0)
    keep = (path.t > t_now) & (path.x <= 1.0)  # classic: past the right edge is the goal
    if stage_ticks:
        keep &= (path.t // stage_ticks) == int(t_now) // stage_ticks
    return path.x[keep], path.y[keep]
