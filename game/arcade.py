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
    rules: CourseRules = RULES

    @property
    def n_gates(self) -> int:
        return int(self.start.size)

    @property
    def end(self) -> np.ndarray:
        """Last tick inside each wall; the gate counts as passed on that tick."""
        return self.start + (self.rules.wall_ticks - 1)


def layout(u: np.ndarray, rules: CourseRules = RULES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turns uniform draws ``u`` of shape ``(..., n, 2)`` into ``(start, gap_y, half_gap)``.

    Pure and vectorised over leading axes, so batched and scalar worlds build the
    same course from the same draws. Gap centres stay ``max_shift`` apart at most
    and ``edge_margin`` inside the field, so every course is passable.
    """
    n = u.shape[-2]
    i = np.arange(n)
    ramp = np.minimum(i / rules.ramp_gates, 1.0)
    half = rules.half_gap_start - (rules.half_gap_start - rules.half_gap_min) * ramp
    half = np.broadcast_to(half, u.shape[:-1]).copy()
    base = np.rint(rules.spacing_start_ticks
                   - (rules.spacing_start_ticks - rules.spacing_min_ticks) * ramp).astype(np.int64)
    spacing = base + np.floor(u[..., 1] * rules.spacing_jitter_ticks).astype(np.int64)
    spacing[..., 0] = rules.first_gate_tick
    start = np.cumsum(spacing, axis=-1)
    limit = 1.0 - half - rules.edge_margin
    gap_y = np.empty(u.shape[:-1])
    prev = np.zeros(u.shape[:-2])
    for k in range(n):
        g = prev + (2.0 * u[..., k, 0] - 1.0) * rules.max_shift
        g = np.clip(g, -limit[..., k], limit[..., k])
        gap_y[..., k] = g
        prev = g
    return start, gap_y, half


def make_course(seed: int, n_gates: int, rules: CourseRules = RULES) -> Course:
    """The course for ``seed``: a pure function of the seed and the gate count."""
    u = np.random.default_rng(seed).random((n_gates, 2))
    start, gap_y, half = layout(u, rules)
    return Course(start, gap_y, half, seed, rules)


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
              v_y: float | None = None) -> np.ndarray:
        """Starts a run on a new course (drawn from the world's generator unless given)."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        if course_seed is None:
            course_seed = int(self.rng.integers(2**63 - 1))
        if v_y is None:
            v_y = float(self.physics.v_y_sigma * self.rng.standard_normal())
        self.course_seed = course_seed
        self._chunk = self.n_gates if self.n_gates is not None else 200
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
            if self.gate == self.n_gates:
                self.done = True
            elif self.n_gates is None and self.gate + 2 >= self._chunk:
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
    (``autoreset``); the observation returned is then the new run's first one.
    """

    obs_size = OBS_SIZE

    def __init__(self, n: int, seed: int | None = None, n_gates: int = 100,
                 physics: Physics = PHYSICS, rules: CourseRules = RULES,
                 autoreset: bool = True) -> None:
        self.n = n
        self.n_gates = n_gates
        self.physics = physics
        self.rules = rules
        self.autoreset = autoreset
        self.rng = np.random.default_rng(seed)
        cols = n_gates + 2  # two open gates pad the lookahead past the end
        self.start = np.full((n, cols), 10**12, dtype=np.int64)
        self.end = np.full((n, cols), 10**12, dtype=np.int64)
        self.gap_y = np.zeros((n, cols))
        self.half_gap = np.full((n, cols), OPEN_HALF_GAP)
        self.course_seed = np.zeros(n, dtype=np.int64)
        self.t = np.zeros(n, dtype=np.int64)
        self.y = np.zeros(n)
        self.v_y = np.zeros(n)
        self.gate = np.zeros(n, dtype=np.int64)
        self.score = np.zeros(n, dtype=np.int64)
        self._rows = np.arange(n)
        self.final_score = np.zeros(n, dtype=np.int64)
        self.reset()

    def reset(self, course_seeds: np.ndarray | None = None,
              v_y: np.ndarray | None = None) -> np.ndarray:
        """Starts every run again, on the given courses or new ones."""
        self._restart(self._rows, course_seeds, v_y)
        return self.observation()

    def _restart(self, idx: np.ndarray, course_seeds=None, v_y=None) -> None:
        k = idx.size
        if course_seeds is None:
            course_seeds = self.rng.integers(2**63 - 1, size=k)
        if v_y is None:
            v_y = self.physics.v_y_sigma * self.rng.standard_normal(k)
        u = np.stack([np.random.default_rng(int(s)).random((self.n_gates, 2))
                      for s in course_seeds])
        start, gy, half = layout(u, self.rules)
        m = self.n_gates
        self.start[idx, :m] = start
        self.end[idx, :m] = start + (self.rules.wall_ticks - 1)
        self.gap_y[idx, :m] = gy
        self.half_gap[idx, :m] = half
        self.course_seed[idx] = course_seeds
        self.t[idx] = 0
        self.y[idx] = 0.0
        self.v_y[idx] = v_y
        self.gate[idx] = 0
        self.score[idx] = 0

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advances every flyer one tick; returns ``(obs, rewards, terminated)``."""
        p = self.physics
        rows, g = self._rows, self.gate
        self.t += 1
        t = self.t
        y = self.y
        y += self.v_y
        out = (y < -p.edge) | (y > p.edge)
        inside = t >= self.start[rows, g]
        hit = inside & (np.abs(y - self.gap_y[rows, g]) > self.half_gap[rows, g])
        crash = out | hit
        passed = (t == self.end[rows, g]) & ~crash
        reward = passed.astype(np.float32) - crash
        g += passed
        self.score += passed
        terminated = crash | (g == self.n_gates)
        self.v_y -= p.gravity
        self.v_y[np.asarray(actions) == JUMP] = p.v_jump
        if terminated.any():
            self.final_score[terminated] = self.score[terminated]
            if self.autoreset:
                self._restart(np.flatnonzero(terminated))
        return self.observation(), reward, terminated

    def observation(self) -> np.ndarray:
        """The float32 observations, shape ``(n, 8)``; see ``ArcadeWorld``."""
        rows, g, y = self._rows, self.gate, self.y
        vx = self.physics.v_x
        obs = np.empty((self.n, OBS_SIZE), dtype=np.float32)
        obs[:, 0] = y
        obs[:, 1] = self.v_y
        for k, col in ((0, 2), (1, 5)):
            start = self.start[rows, g + k]
            far = start >= 10**12
            obs[:, col] = np.where(far, LOOKAHEAD_TICKS * vx, (start - self.t) * vx)
            obs[:, col + 1] = self.gap_y[rows, g + k] - y
            obs[:, col + 2] = self.half_gap[rows, g + k]
        return obs
