"""The arcade level: the classic flight made endless, with gates to fly through."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from game.physics import JUMP, PHYSICS, Physics

TICKS_PER_STAGE = 40
"""Ticks for one crossing of the field (2 / v_x); each crossing is a stage."""


@dataclass(frozen=True)
class CourseRules:
    """How courses are laid out and how difficulty grows; all distances in field units."""

    first_gate_tick: int = 24
    """Tick at which the first wall starts (x = 0.2 on the first stage)."""
    wall_ticks: int = 3
    """How many ticks the flyer spends inside a wall (its thickness is 0.15)."""
    spacing_start_ticks: int = 20
    """Ticks from one wall's front to the next at the start of a run."""
    spacing_min_ticks: int = 13
    """The tightest spacing, reached after ``ramp_gates`` gates."""
    spacing_jitter_ticks: int = 3
    """Extra ticks 0..jitter-1 added at random to each spacing."""
    half_gap_start: float = 0.36
    """Half the gap's height at the first gate."""
    half_gap_min: float = 0.22
    """Half the gap's height once difficulty has fully grown."""
    ramp_gates: int = 60
    """Gates over which gap and spacing shrink linearly to their minimum."""
    max_shift: float = 0.6
    """Largest change of the gap centre from one gate to the next."""
    edge_margin: float = 0.12
    """Room kept between a gap and the top or bottom edge."""


RULES = CourseRules()

FAR_TICK = 10**12
"""Start tick given to the padding 'gates' past the end of a finite course."""

# SplitMix64 constants. Course draws come from a counter-based hash of (seed, gate) instead
# of a stateful generator, so any gate of any course can be drawn on its own, vectorised
# over many courses: the batched world makes each gate only when a flyer gets near it.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MUL1 = np.uint64(0xBF58476D1CE4E5B9)
_MUL2 = np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on a uint64 array (wrap-around arithmetic is intended)."""
    z = (z ^ (z >> np.uint64(30))) * _MUL1
    z = (z ^ (z >> np.uint64(27))) * _MUL2
    return z ^ (z >> np.uint64(31))


def course_key(seeds: int | np.ndarray) -> np.ndarray:
    """The uint64 hash key of each course seed (any 64-bit integer; negatives wrap)."""
    return _mix(np.atleast_1d(np.asarray(seeds)).astype(np.uint64) + _GOLDEN)


def course_draws(keys: np.ndarray, gates: np.ndarray) -> np.ndarray:
    """Uniform draws in [0, 1) for gate ``gates`` of the course ``keys``: shape ``(..., 2)``.

    ``keys`` (from ``course_key``) and ``gates`` broadcast together. One 64-bit hash per
    gate: its top 53 bits move the gap centre (draw 0), its low 11 bits set the spacing
    jitter (draw 1). A draw depends only on (key, gate), so course prefixes are stable.
    """
    counter = np.asarray(gates).astype(np.uint64) + np.uint64(1)
    bits = _mix(np.asarray(keys, dtype=np.uint64) + counter * _GOLDEN)
    u = np.empty((*bits.shape, 2))
    u[..., 0] = (bits >> np.uint64(11)).astype(np.float64) * 2.0**-53
    u[..., 1] = (bits & np.uint64(2047)).astype(np.float64) * 2.0**-11
    return u


@dataclass
class Course:
    """A sequence of gates: wall ``i`` spans ticks ``start[i] .. start[i] + wall_ticks - 1``."""

    start: np.ndarray
    """int64 tick at which the flyer reaches each wall's front."""
    gap_y: np.ndarray
    """float64 centre of each gap."""
    half_gap: np.ndarray
    """float64 half height of each gap: the flyer passes while ``|y - gap_y| <= half_gap``."""
    seed: int
    """The course seed it was made from."""
    rules: CourseRules = RULES
    """The rules it was laid out with."""

    @property
    def n_gates(self) -> int:
        """Number of gates."""
        return int(self.start.size)

    @property
    def end(self) -> np.ndarray:
        """Last tick inside each wall; the gate counts as passed on that tick."""
        return self.start + (self.rules.wall_ticks - 1)


def gate_shape(i: np.ndarray, rules: CourseRules = RULES
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What gate ``i`` looks like before any draw: ``(base_spacing, half_gap, limit)``.

    Difficulty grows with the gate index alone: the gap and the spacing shrink linearly
    over ``ramp_gates`` gates. ``limit`` is how far from 0 the gap centre may go.
    """
    ramp = np.minimum(i / rules.ramp_gates, 1.0)
    half = rules.half_gap_start - (rules.half_gap_start - rules.half_gap_min) * ramp
    base = np.rint(rules.spacing_start_ticks
                   - (rules.spacing_start_ticks - rules.spacing_min_ticks) * ramp).astype(np.int64)
    return base, half, 1.0 - half - rules.edge_margin


def _spacing(i: np.ndarray, u1: np.ndarray, base: np.ndarray, rules: CourseRules) -> np.ndarray:
    """Ticks from gate ``i - 1``'s front (from the run's start for gate 0) to gate ``i``'s."""
    jitter = np.floor(u1 * rules.spacing_jitter_ticks).astype(np.int64)
    return np.where(i == 0, rules.first_gate_tick, base + jitter)


def _walk(prev_gap_y: np.ndarray, u0: np.ndarray, limit: np.ndarray,
          rules: CourseRules) -> np.ndarray:
    """The next gap centre: uniform in the window ``max_shift`` around the previous one.

    The flyer climbs up to 0.2 a tick and falls faster, so a shift of ``max_shift``
    takes a few ticks of the spacing. Drawn inside the window (rather than drawn and
    clipped) so that gaps do not pile up against the edges.
    """
    lo = np.maximum(prev_gap_y - rules.max_shift, -limit)
    hi = np.minimum(prev_gap_y + rules.max_shift, limit)
    return lo + (hi - lo) * u0


def next_gate(i: np.ndarray, u: np.ndarray, prev_start: np.ndarray, prev_gap_y: np.ndarray,
              rules: CourseRules = RULES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gate ``i`` (int64) from its draws ``u`` (``(..., 2)``) and gate ``i - 1``.

    For ``i == 0`` pass ``prev_start = 0`` and ``prev_gap_y = 0.0`` (the flyer's start
    height). Returns ``(start, gap_y, half_gap)``.
    """
    base, half, limit = gate_shape(i, rules)
    start = prev_start + _spacing(i, u[..., 1], base, rules)
    return start, _walk(prev_gap_y, u[..., 0], limit, rules), half


def layout(u: np.ndarray, rules: CourseRules = RULES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turns uniform draws ``u`` of shape ``(..., n, 2)`` into ``(start, gap_y, half_gap)``.

    Pure and vectorised over leading axes, and built from the same pieces as
    ``next_gate``, so every world builds bit-identical gates from the same draws. Gap
    centres stay ``max_shift`` apart at most and ``edge_margin`` inside the field, so
    every course is passable.
    """
    lead, n = u.shape[:-2], u.shape[-2]
    i = np.arange(n)
    base, half, limit = gate_shape(i, rules)
    start = np.cumsum(_spacing(i, u[..., 1], base, rules), axis=-1)
    gap_y = np.empty((*lead, n))
    if not lead:
        # One course: the walk in Python floats is ~10x faster than on 0-d arrays, and
        # identical: both are IEEE binary64, and max/min pick the same operand as
        # np.maximum/np.minimum (the first one on ties).
        prev, shift = 0.0, rules.max_shift
        for k, (u0, lim) in enumerate(zip(u[:, 0].tolist(), limit.tolist(), strict=True)):
            lo = max(prev - shift, -lim)
            hi = min(prev + shift, lim)
            prev = gap_y[k] = lo + (hi - lo) * u0
    else:
        prev = np.zeros(lead)
        for k in range(n):
            prev = gap_y[..., k] = _walk(prev, u[..., k, 0], limit[k], rules)
    return start, gap_y, np.broadcast_to(half, (*lead, n)).copy()


def make_course(seed: int, n_gates: int, rules: CourseRules = RULES) -> Course:
    """The course for ``seed``: a pure function of the seed and the gate count."""
    u = course_draws(course_key(seed)[0], np.arange(n_gates))
    start, gap_y, half = layout(u, rules)
    return Course(start, gap_y, half, seed, rules)


def make_courses(seeds: np.ndarray, n_gates: int,
                 rules: CourseRules = RULES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(start, gap_y, half_gap)`` of shape ``(len(seeds), n_gates)``; row i = make_course."""
    keys = course_key(np.asarray(seeds))
    return layout(course_draws(keys[:, None], np.arange(n_gates)[None, :]), rules)


OBS_SIZE = 8
OPEN_HALF_GAP = 1.0
"""Half gap reported for the 'gate' after the last one: the whole field is open."""
LOOKAHEAD_TICKS = 2 * TICKS_PER_STAGE
"""dx reported for a gate that does not exist (beyond the end of the course)."""


class ArcadeWorld:
    """One flyer on an endless or finite course of gates.

    ## Observation (float32)
    | index | meaning                                         | range        |
    |-------|-------------------------------------------------|--------------|
    | 0     | y, height                                       | [-3, 3]      |
    | 1     | v_y, vertical speed                             | [-3, 3]      |
    | 2     | dx to the next wall's front (<= 0 while inside) | [-0.1, 4]    |
    | 3     | next gap centre minus y                         | [-4, 4]      |
    | 4     | next gap half height                            | [0.2, 1]     |
    | 5     | dx to the wall after it                         | [0, 4]       |
    | 6     | that gap's centre minus y                       | [-4, 4]      |
    | 7     | that gap's half height                          | [0.2, 1]     |

    ## Actions
    0 = FALL, 1 = JUMP, with the classic physics.

    ## One tick
    ``t += 1``, ``y += v_y``. Leaving ``[-1, 1]`` vertically, or being inside a wall
    (``start <= t <= end``) with ``|y - gap_y| > half_gap``, gives -1 and ends the run.
    Otherwise, on a wall's last tick the gate is passed: +1 and the score grows.
    A finite course ends (terminated) when its last gate is passed. Then the action
    changes ``v_y``. The flyer never leaves the field to the right: each crossing of
    40 ticks is a new stage, drawn from the left edge again.

    ## Courses (``CourseRules``)
    The first wall is met on tick 24; walls are 3 ticks thick, 20-22 ticks apart at
    first and 13-15 after 60 gates, when the gap has shrunk from 0.72 to 0.44 tall
    (the field is 2 tall). Each gap centre lies within 0.6 of the previous one and
    0.12 inside the field. ``game.oracle`` finds every gate passable on every course
    it has been run on (tests: 1,000 courses of 100 gates).

    ## Version history
    * v0: first release.
    """

    obs_size = OBS_SIZE

    def __init__(self, seed: int | None = None, n_gates: int | None = 100,
                 physics: Physics = PHYSICS, rules: CourseRules = RULES) -> None:
        self.physics = physics
        self.rules = rules
        self.n_gates = n_gates
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self, seed: int | None = None, course_seed: int | None = None,
              v_y: float | None = None, course: Course | None = None) -> np.ndarray:
        """Starts a run on a new course (drawn from the world's generator unless given).

        ``course`` flies a hand-made course instead of a generated one; the run then
        ends when its last gate is passed, whatever ``n_gates`` says.
        """
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        if course_seed is None:
            course_seed = course.seed if course is not None else int(self.rng.integers(2**63 - 1))
        if v_y is None:
            v_y = float(self.physics.v_y_sigma * self.rng.standard_normal())
        self.course_seed = course_seed
        if course is not None:
            self._chunk = course.n_gates
            self._last_gate = course.n_gates
            self.course = course
        else:
            self._chunk = self.n_gates if self.n_gates is not None else 200
            self._last_gate = self.n_gates
            self.course = make_course(course_seed, self._chunk, self.rules)
        self._load_course()
        self.t = 0
        self.y = 0.0
        self.v_y = float(v_y)
        self.gate = 0
        self.score = 0
        self.done = False
        return self.observation()

    def _load_course(self) -> None:
        # Python lists: indexing them is several times faster than numpy scalars per tick.
        c = self.course
        self._start = c.start.tolist()
        self._end = c.end.tolist()
        self._gy = c.gap_y.tolist()
        self._half = c.half_gap.tolist()

    def _grow(self) -> None:
        """Endless mode: regenerates a twice-as-long course; its prefix is unchanged."""
        self._chunk *= 2
        self.course = make_course(self.course_seed, self._chunk, self.rules)
        self._load_course()

    @property
    def stage(self) -> int:
        """Crossings completed so far."""
        return self.t // TICKS_PER_STAGE

    @property
    def x(self) -> float:
        """Position on the screen's x axis within the current stage."""
        return self.physics.x_start + self.physics.v_x * (self.t % TICKS_PER_STAGE)

    def step(self, action: int) -> tuple[float, bool]:
        """Advances one tick; returns ``(reward, terminated)``."""
        p = self.physics
        self.t += 1
        self.y += self.v_y
        g = self.gate
        reward = 0.0
        if self.y < -p.edge or self.y > p.edge:
            reward, self.done = -1.0, True
        elif self.t >= self._start[g] and abs(self.y - self._gy[g]) > self._half[g]:
            reward, self.done = -1.0, True
        elif self.t == self._end[g]:
            reward = 1.0
            self.score += 1
            self.gate = g + 1
            if self.gate == self._last_gate:
                self.done = True
            elif self._last_gate is None and self.gate + 2 >= self._chunk:
                self._grow()
        if action == JUMP:
            self.v_y = p.v_jump
        else:
            self.v_y -= p.gravity
        return reward, self.done

    def gate_ahead(self, k: int) -> tuple[float, float, float]:
        """``(dx, gap_y, half_gap)`` of the k-th gate not yet passed (k = 0 is the next)."""
        g = self.gate + k
        if g >= len(self._start):
            return LOOKAHEAD_TICKS * self.physics.v_x, 0.0, OPEN_HALF_GAP
        return (self._start[g] - self.t) * self.physics.v_x, self._gy[g], self._half[g]

    def observation(self) -> np.ndarray:
        """The float32 observation described in the class docstring."""
        dx1, gy1, h1 = self.gate_ahead(0)
        dx2, gy2, h2 = self.gate_ahead(1)
        y = self.y
        return np.array((y, self.v_y, dx1, gy1 - y, h1, dx2, gy2 - y, h2), dtype=np.float32)


class ArcadeBatch:
    """N arcade flyers on finite courses, stepped together; each matches an ``ArcadeWorld``.

    Runs that end restart at once on a new course drawn from the batch's generator
    (``autoreset``); the observation returned is then the new run's first one, and the
    final one is in ``final_obs`` (and the final score in ``final_score``).

    Only the next two gates of each run are held (``gate_start``, ``gate_gap_y``,
    ``gate_half``; row 0 is the next gate, row 1 the one after). A gate is laid out
    when a flyer passes the one two ahead of it, from the same pieces (``gate_shape``,
    the spacing and the walk) that ``layout`` uses for whole courses, so restarts cost
    no per-course Python work and every gate is bit-identical to ``make_course``'s.
    """

    obs_size = OBS_SIZE

    def __init__(self, n: int, seed: int | None = None, n_gates: int = 100,
                 physics: Physics = PHYSICS, rules: CourseRules = RULES,
                 autoreset: bool = True) -> None:
        if n_gates < 1:
            raise ValueError(f"n_gates must be at least 1, got {n_gates}")
        self.n = n
        self.n_gates = n_gates
        self.physics = physics
        self.rules = rules
        self.autoreset = autoreset
        self.rng = np.random.default_rng(seed)
        self.course_seed = np.zeros(n, dtype=np.int64)
        self._key = np.zeros(n, dtype=np.uint64)
        self.t = np.zeros(n, dtype=np.int64)
        self.y = np.zeros(n)
        self.v_y = np.zeros(n)
        self.gate = np.zeros(n, dtype=np.int64)
        self.score = np.zeros(n, dtype=np.int64)
        self.final_score = np.zeros(n, dtype=np.int64)
        self.final_obs = np.zeros((n, OBS_SIZE), dtype=np.float32)
        self.gate_start = np.full((2, n), FAR_TICK, dtype=np.int64)
        self.gate_gap_y = np.zeros((2, n))
        self.gate_half = np.full((2, n), OPEN_HALF_GAP)
        self._end = np.full(n, FAR_TICK, dtype=np.int64)
        # Per gate index (one spare past the end): spacing base, half gap, centre limit.
        self._base, self._half, self._limit = gate_shape(np.arange(n_gates + 1), rules)
        self._rows = np.arange(n)
        self.reset()

    def reset(self, course_seeds: np.ndarray | None = None,
              v_y: np.ndarray | None = None) -> np.ndarray:
        """Starts every run again, on the given courses or new ones."""
        self._restart(self._rows, course_seeds, v_y)
        return self.observation()

    def _restart(self, idx: np.ndarray, course_seeds: np.ndarray | None = None,
                 v_y: np.ndarray | None = None) -> None:
        k = idx.size
        if course_seeds is None:
            course_seeds = self.rng.integers(2**63 - 1, size=k)
        if v_y is None:
            v_y = self.physics.v_y_sigma * self.rng.standard_normal(k)
        key = course_key(course_seeds)
        self.course_seed[idx] = course_seeds
        self._key[idx] = key
        self.t[idx] = 0
        self.y[idx] = 0.0
        self.v_y[idx] = v_y
        self.gate[idx] = 0
        self.score[idx] = 0
        u = course_draws(key[:, None], np.arange(2))
        first = np.zeros(k, dtype=np.int64)
        s, gy = self._lay(idx, 0, first, u[:, 0], first, np.zeros(k))
        self._end[idx] = s + (self.rules.wall_ticks - 1)
        self._lay(idx, 1, first + 1, u[:, 1], s, gy)

    def _lay(self, idx: np.ndarray, row: int, i: np.ndarray, u: np.ndarray,
             prev_start: np.ndarray, prev_gap_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Lays out gate ``i`` of runs ``idx`` as gate row ``row``; returns its start, gap."""
        j = np.minimum(i, self.n_gates)
        start = prev_start + _spacing(i, u[:, 1], self._base[j], self.rules)
        gap_y = _walk(prev_gap_y, u[:, 0], self._limit[j], self.rules)
        real = i < self.n_gates
        self.gate_start[row, idx] = np.where(real, start, FAR_TICK)
        self.gate_gap_y[row, idx] = np.where(real, gap_y, 0.0)
        self.gate_half[row, idx] = np.where(real, self._half[j], OPEN_HALF_GAP)
        return start, gap_y

    def _advance(self, idx: np.ndarray) -> None:
        """Runs ``idx`` passed their next gate: the gate after it moves up, a new one is laid."""
        g = self.gate[idx] + 1
        self.gate[idx] = g
        self.score[idx] += 1
        start = self.gate_start[0, idx] = self.gate_start[1, idx]
        gap_y = self.gate_gap_y[0, idx] = self.gate_gap_y[1, idx]
        self.gate_half[0, idx] = self.gate_half[1, idx]
        self._end[idx] = start + (self.rules.wall_ticks - 1)
        self._lay(idx, 1, g + 1, course_draws(self._key[idx], g + 1), start, gap_y)

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advances every flyer one tick; returns ``(obs, rewards, terminated)``."""
        p = self.physics
        t, y, v = self.t, self.y, self.v_y
        t += 1
        y += v
        # |y| > edge is exactly "y < -edge or y > edge" (abs is exact), in one pass.
        crash = np.abs(y) > p.edge
        hit = np.abs(y - self.gate_gap_y[0]) > self.gate_half[0]
        hit &= t >= self.gate_start[0]
        crash |= hit
        passed = t == self._end
        passed &= ~crash
        reward = passed.astype(np.float32)
        reward -= crash
        v -= p.gravity
        np.copyto(v, p.v_jump, where=np.asarray(actions) == JUMP)
        if passed.any():
            self._advance(np.flatnonzero(passed))
        terminated = crash
        terminated |= self.gate == self.n_gates
        if terminated.any():
            idx = np.flatnonzero(terminated)
            self.final_score[idx] = self.score[idx]
            if self.autoreset:
                self.final_obs[idx] = self._observe(idx)
                self._restart(idx)
        return self.observation(), reward, terminated

    def observation(self) -> np.ndarray:
        """The float32 observations, shape ``(n, 8)``; see ``ArcadeWorld``."""
        return self._observe(self._rows)

    def _observe(self, idx: np.ndarray) -> np.ndarray:
        full = idx is self._rows  # plain slices avoid a gather on the hot path
        sel = slice(None) if full else idx
        y, t = self.y[sel], self.t[sel]
        vx = self.physics.v_x
        obs = np.empty((len(y), OBS_SIZE), dtype=np.float32)
        obs[:, 0] = y
        obs[:, 1] = self.v_y[sel]
        for k in (0, 1):
            col = 2 + 3 * k
            start = self.gate_start[k, sel]
            obs[:, col] = np.where(start >= FAR_TICK, LOOKAHEAD_TICKS * vx, (start - t) * vx)
            obs[:, col + 1] = self.gate_gap_y[k, sel] - y
            obs[:, col + 2] = self.gate_half[k, sel]
        return obs
