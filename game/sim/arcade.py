"""The arcade level: an endless course of gates, with physics made for a person's hands.

Physics version 2 (see ``ArcadeWorld``): 60 ticks per second of play, a jump that gives a
hop of about a third of a second, a capped fall speed, and heights and speeds on an exact
binary grid so that the oracle (``game.sim.oracle``) can search every reachable state exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from game.sim.actions import JUMP

PHYSICS_VERSION = 2
"""The arcade level's rules; pilots and learner states made for another version are refused."""
TICKS_PER_SECOND = 60
"""Ticks per second of play at 1x: one physics tick per frame of a 60 Hz display."""
SUB_UNITS = 1024
"""Sub-units per field unit. Heights, speeds and gaps are whole numbers of sub-units; 1024 is
a power of two, so every one of them is an exact float and float sums of them are exact."""
TICKS_PER_STAGE = 150
"""Ticks for one crossing of the field (2.5 s of play); each crossing is a stage."""
DECISION_TICKS = 4
"""Physics ticks per autopilot decision: 15 decisions a second, Atari DQN's frame skip."""


@dataclass(frozen=True)
class Physics:
    """Arcade flight constants. Vertical ones are whole sub-units (``1 / SUB_UNITS``).

    Tuned with ``bench/human_play.py`` (a player who sees the screen 200 ms late): with
    gravity 1/512 per tick per tick and a jump of 16/512 (a 0.27 s hop, and wider gaps
    than now) that player's median was 7 gates; these constants give it 57.
    """

    gravity: int = 1
    """Subtracted from v_y every tick that is not a jump (sub-units per tick per tick)."""
    v_jump: int = 20
    """A JUMP sets v_y to this (sub-units per tick; 1.17 field units per second): a rise of
    210 sub-units (0.21 field units) over 20 ticks (1/3 s), then the fall back."""
    v_fall_max: int = 31
    """Fastest fall (sub-units per tick; 1.82 field units per second, reached 31 ticks,
    0.52 s, after the top of a hop). On the decision grid too: 20 - 3 - 4 * 12."""
    start_speeds: tuple[int, ...] = (9, 5, 1, -3, -7)
    """A run starts with v_y drawn uniformly from these (sub-units per tick). They are
    speeds a flyer also has at decision boundaries after a jump (20 - 3 - 4k), which keeps
    the oracle's state set small."""
    ticks_per_stage: int = TICKS_PER_STAGE
    """Ticks to cross the field horizontally."""
    decision_ticks: int = DECISION_TICKS
    """Physics ticks per autopilot decision (``step``)."""
    x_start: float = -1.0
    """Where each stage starts on the x axis (the field is [-1, 1] both ways)."""

    @property
    def unit(self) -> float:
        """One sub-unit in field units."""
        return 1.0 / SUB_UNITS

    @property
    def v_x(self) -> float:
        """Horizontal speed (field units per tick)."""
        return 2.0 / self.ticks_per_stage


PHYSICS = Physics()

V_OBS_SCALE = float(TICKS_PER_SECOND)
"""Observation 1 is v_y times this: field units per second of play (jump: +1.17, fastest
fall: -1.82), so that it is O(1) like the heights."""


@dataclass(frozen=True)
class CourseRules:
    """How courses are laid out and how difficulty grows (ticks, and field units)."""

    first_gate_tick: int = 90
    """Tick at which the first wall starts (1.5 s into the run)."""
    wall_ticks: int = 10
    """How many ticks the flyer spends inside a wall."""
    spacing_start_ticks: int = 96
    """Ticks from one wall's front to the next at the start of a run (1.6 s)."""
    spacing_min_ticks: int = 72
    """The tightest spacing (1.2 s), reached after ``ramp_gates`` gates."""
    spacing_jitter_ticks: int = 12
    """Extra ticks 0..jitter-1 added at random to each spacing."""
    half_gap_start: float = 0.44
    """Half the gap's height at the first gate."""
    half_gap_min: float = 0.3
    """Half the gap's height once difficulty has fully grown."""
    ramp_gates: int = 100
    """Gates over which gap and spacing shrink linearly to their minimum."""
    max_shift: float = 0.5
    """Largest change of the gap centre from one gate to the next."""
    edge_margin: float = 0.2
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
    """float64 centre of each gap (a whole number of sub-units)."""
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


def _on_grid(a: np.ndarray | float) -> np.ndarray:
    """Rounds field units to the nearest whole sub-unit (exact: SUB_UNITS is a power of 2).

    ``+ 0.0`` turns a -0.0 into 0.0, as Python's ``round`` (an int) gives in ``layout``.
    """
    return np.rint(np.asarray(a) * SUB_UNITS) / SUB_UNITS + 0.0


def gate_shape(i: np.ndarray, rules: CourseRules = RULES
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What gate ``i`` looks like before any draw: ``(base_spacing, half_gap, limit)``.

    Difficulty grows with the gate index alone: the gap and the spacing shrink linearly
    over ``ramp_gates`` gates. ``limit`` is how far from 0 the gap centre may go.
    """
    ramp = np.minimum(i / rules.ramp_gates, 1.0)
    half = _on_grid(rules.half_gap_start - (rules.half_gap_start - rules.half_gap_min) * ramp)
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

    Drawn inside the window (rather than drawn and clipped) so that gaps do not pile up
    against the edges, then put on the sub-unit grid.
    """
    lo = np.maximum(prev_gap_y - rules.max_shift, -limit)
    hi = np.minimum(prev_gap_y + rules.max_shift, limit)
    return _on_grid(lo + (hi - lo) * u0)


def layout(u: np.ndarray, rules: CourseRules = RULES) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Turns uniform draws ``u`` of shape ``(..., n, 2)`` into ``(start, gap_y, half_gap)``.

    Pure and vectorised over leading axes, and built from the same pieces as
    ``ArcadeBatch._lay``, so every world builds bit-identical gates from the same draws.
    """
    lead, n = u.shape[:-2], u.shape[-2]
    i = np.arange(n)
    base, half, limit = gate_shape(i, rules)
    start = np.cumsum(_spacing(i, u[..., 1], base, rules), axis=-1)
    gap_y = np.empty((*lead, n))
    if not lead:
        # One course: the walk in Python floats is ~10x faster than on 0-d arrays, and
        # identical: both are IEEE binary64, max/min pick the same operand as
        # np.maximum/np.minimum (the first one on ties), and round() rounds half to even
        # as np.rint does.
        prev, shift = 0.0, rules.max_shift
        for k, (u0, lim) in enumerate(zip(u[:, 0].tolist(), limit.tolist(), strict=True)):
            lo = max(prev - shift, -lim)
            hi = min(prev + shift, lim)
            prev = gap_y[k] = round((lo + (hi - lo) * u0) * SUB_UNITS) / SUB_UNITS
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


def check_rules(physics: Physics, rules: CourseRules) -> None:
    """Raises ``ValueError`` unless a decision can meet at most one wall, and so on.

    ``ArcadeBatch`` judges a whole decision at once against the next gate only, so the
    flyer must not be able to leave one wall and reach the next within a decision; and it
    tells a real gate from padding by its distance (``LOOKAHEAD_TICKS``).
    """
    gap = min(rules.spacing_min_ticks, rules.spacing_start_ticks) - rules.wall_ticks
    if gap < physics.decision_ticks or rules.wall_ticks < 1:
        raise ValueError(f"walls must be at least {physics.decision_ticks} ticks apart "
                         f"(decision_ticks) and 1 tick thick; got {gap} and {rules.wall_ticks}")
    # The observation reports the gate after next; it must be nearer than the lookahead.
    widest = max(rules.spacing_min_ticks, rules.spacing_start_ticks) + rules.spacing_jitter_ticks
    far = max(rules.first_gate_tick + widest, 2 * widest - rules.wall_ticks)
    if far >= LOOKAHEAD_TICKS:
        raise ValueError(f"gates must come within {LOOKAHEAD_TICKS} ticks of the next; "
                         f"these rules allow {far}")


OBS_SIZE = 8
OPEN_HALF_GAP = 1.0
"""Half gap reported for the 'gate' after the last one: the whole field is open."""
LOOKAHEAD_TICKS = 2 * TICKS_PER_STAGE
"""dx reported for a gate that does not exist (beyond the end of the course), in ticks."""


class ArcadeWorld:
    """One flyer on an endless or finite course of gates (physics version 2).

    Heights are in field units (the field is [-1, 1] both ways); a tick is 1/60 s of play
    at 1x (``TICKS_PER_SECOND``); the game speed setting only changes how many ticks run
    per wall-clock second. Vertical quantities are whole sub-units of 1/1024 field unit.

    ## Observation (float32)
    | index | meaning                                         | range         | units              |
    |-------|-------------------------------------------------|---------------|--------------------|
    | 0     | y, height                                       | [-1.03, 1.03] | field units        |
    | 1     | v_y, vertical speed                             | [-1.82, 1.17] | field units / s    |
    | 2     | dx to the next wall's front (<= 0 while inside) | [-0.12, 4]    | field units        |
    | 3     | next gap centre minus y                         | [-2, 2]       | field units        |
    | 4     | next gap half height                            | [0.3, 1]      | field units        |
    | 5     | dx to the wall after it                         | [0.84, 4]     | field units        |
    | 6     | that gap's centre minus y                       | [-2, 2]       | field units        |
    | 7     | that gap's half height                          | [0.3, 1]      | field units        |

    dx is ``(wall's first tick - t) * v_x``, ``v_x = 2 / 150`` field units per tick (a
    crossing of the field takes 2.5 s). A gate past the end of a finite course is reported
    at dx 4 with the whole field open (half height 1, centre 0). Heights are only observed
    while alive, so y stays in [-1, 1] but for the final observation of a crash.

    ## Actions
    0 = FALL: ``v_y = max(v_y - 1, -31)`` sub-units per tick (gravity, and a capped fall).
    1 = JUMP: ``v_y = 20`` sub-units per tick, an impulse that shows on the same tick: the
    flyer rises 0.21 field units over 1/3 s, then falls back.

    ## One tick (``tick``)
    The action sets ``v_y``, then ``y += v_y`` and ``t += 1``. Leaving ``[-1, 1]``
    vertically, or being inside a wall (``start <= t <= end``) with
    ``|y - gap_y| > half_gap``, gives -1 and ends the run. Otherwise, on a wall's last tick
    the gate is passed: +1 and the score grows. A finite course ends (terminated) when its
    last gate is passed. Every height, speed and gap is a whole number of sub-units, so the
    float arithmetic is exact. The flyer never leaves the field to the right: each crossing
    of 150 ticks is a new stage, drawn from the left edge again.

    ## One decision (``step``)
    The autopilot, the Gymnasium env, ``train``, ``evaluate`` and the oracle act every
    ``decision_ticks`` = 4 ticks (15 times a second, Atari DQN's frame skip): ``step(a)`` is
    ``tick(a)`` then ``tick(FALL)`` 3 times, stopping at the tick that ends the run; the
    rewards are summed. A person's key press is applied as ``tick(JUMP)`` on the very next
    tick instead. A crash cannot follow a pass within one decision (gaps keep 0.2 from the
    edges; three ticks fall at most 0.09), so a decision's reward is +1, -1 or 0.

    ## Episode end
    Terminated on a crash or after the last gate of a finite course; the endless course
    (``n_gates=None``) ends only in a crash. A run starts at ``y = 0`` with ``v_y`` drawn
    uniformly from ``Physics.start_speeds`` (-7..9 sub-units per tick).

    ## Courses (``CourseRules``)
    The first wall is met 1.5 s into the run; walls are 10 ticks thick, 96-107 ticks apart
    at first and 72-83 after 100 gates, when the gap has shrunk from 0.88 to 0.6 tall (the
    field is 2 tall). Each gap centre lies within 0.5 of the previous one and 0.2 inside
    the field. Jumping every decision climbs 74 sub-units (0.07 field units) per decision,
    so the largest shift takes 7 of the 15 or more decisions between walls; ``game.sim.oracle``
    finds every gate passable on every course it has been run on (tests: 1,000 courses of
    100 gates).

    ## Version history
    * physics v1: the seed's per-tick physics made endless (10 ticks/s; a jump sets
      v_y = 0.2 and each fall subtracts 0.2; walls 3 ticks thick, 13-22 ticks apart).
      A person could not fly it: one tick of rise per jump, and the floor 0.3 s away.
    * physics v2: 60 ticks/s; a hop of 1/3 s (gravity 1/20 of the jump speed per tick);
      a capped fall; the action applied before the move; an exact sub-unit grid;
      decisions of 4 ticks; courses retuned for people; observation 1 in field units
      per second.
    """

    obs_size = OBS_SIZE

    def __init__(self, seed: int | None = None, n_gates: int | None = 100,
                 physics: Physics = PHYSICS, rules: CourseRules = RULES) -> None:
        check_rules(physics, rules)
        self.physics = physics
        self.rules = rules
        self.n_gates = n_gates
        self.decision_ticks = physics.decision_ticks
        u = physics.unit
        self._g, self._vj, self._vmax = physics.gravity * u, physics.v_jump * u, \
            physics.v_fall_max * u
        self.rng = np.random.default_rng(seed)
        self.reset()

    def reset(self, seed: int | None = None, course_seed: int | None = None,
              v_y: float | None = None, course: Course | None = None) -> np.ndarray:
        """Starts a run on a new course (drawn from the world's generator unless given).

        ``course`` flies a hand-made course instead of a generated one; the run then
        ends when its last gate is passed, whatever ``n_gates`` says. A given ``v_y``
        (field units per tick) should be a whole number of sub-units for exactness.
        """
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        if course_seed is None:
            course_seed = course.seed if course is not None else int(self.rng.integers(2**63 - 1))
        if v_y is None:
            speeds = self.physics.start_speeds
            v_y = speeds[int(self.rng.integers(len(speeds)))] * self.physics.unit
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
        return self.t // self.physics.ticks_per_stage

    @property
    def x(self) -> float:
        """Position on the screen's x axis within the current stage."""
        p = self.physics
        return p.x_start + p.v_x * (self.t % p.ticks_per_stage)

    def tick(self, action: int) -> tuple[float, bool]:
        """Advances one physics tick with ``action``; returns ``(reward, terminated)``."""
        if action == JUMP:
            v = self._vj
        else:
            v = self.v_y - self._g
            if v < -self._vmax:
                v = -self._vmax
        self.v_y = v
        self.y += v
        self.t += 1
        g = self.gate
        if self.y < -1.0 or self.y > 1.0:
            self.done = True
            return -1.0, True
        if self.t >= self._start[g] and abs(self.y - self._gy[g]) > self._half[g]:
            self.done = True
            return -1.0, True
        if self.t == self._end[g]:
            self.score += 1
            self.gate = g + 1
            if self.gate == self._last_gate:
                self.done = True
            elif self._last_gate is None and self.gate + 2 >= self._chunk:
                self._grow()
            return 1.0, self.done
        return 0.0, False

    def step(self, action: int) -> tuple[float, bool]:
        """One decision: ``tick(action)``, then FALL ticks; returns summed reward, terminated."""
        reward, done = self.tick(action)
        for _ in range(self.decision_ticks - 1):
            if done:
                break
            r, done = self.tick(0)
            reward += r
        return reward, done

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
        return np.array((y, self.v_y * V_OBS_SCALE, dx1, gy1 - y, h1, dx2, gy2 - y, h2),
                        dtype=np.float32)


class ArcadeBatch:
    """N arcade flyers on finite courses, stepped together; each matches an ``ArcadeWorld``.

    ``step(actions)`` is one decision (``decision_ticks`` ticks) for every flyer, judged
    in one pass over ``(decision_ticks, N)`` blocks of speeds and heights (the heights a
    running sum of the speeds, exact, as every value is a whole number of sub-units); only
    the next gate can be met in a decision (``check_rules``), and only flyers at its wall
    are checked against its gap.

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
        check_rules(physics, rules)
        self.n = n
        self.n_gates = n_gates
        self.physics = physics
        self.rules = rules
        self.autoreset = autoreset
        self.decision_ticks = d = physics.decision_ticks
        u = physics.unit
        self._vj, self._vmax = physics.v_jump * u, physics.v_fall_max * u
        self._g = physics.gravity * u
        self._ticks = np.arange(1, d + 1)[:, None]
        # Speeds and heights after each tick of a decision (reused buffers).
        self._V = np.zeros((d, n))
        self._Y = np.zeros((d, n))
        self._speeds = np.asarray(physics.start_speeds) * u
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
            v_y = self._speeds[self.rng.integers(self._speeds.size, size=k)]
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
        """One decision for every flyer; returns ``(obs, rewards, terminated)``.

        The training hot path: no temporary array beyond what the numbers need, and only
        two helper calls (``_fly``, ``_finish_runs``), which cost nothing measurable per decision.
        """
        d = self.decision_ticks
        t0 = self.t
        V, Y = self._V, self._Y
        crashed = self._fly(actions)
        # The next gate's gap, checked only for flyers that meet its wall in this decision.
        to_front = self.gate_start[0] - t0
        to_end = self._end - t0
        near = to_front <= d
        near &= to_end >= 1
        def gap_crash(w: np.ndarray) -> np.ndarray:
            """``(d, len(w))``: flyers ``w`` are inside the wall and outside its gap."""
            k = self._ticks
            out = (k >= to_front[w]) & (k <= to_end[w])
            out &= np.abs(Y[:, w] - self.gate_gap_y[0, w]) > self.gate_half[0, w]
            return out

        w = np.flatnonzero(near)
        if w.size:
            crashed[w] |= gap_crash(w).any(axis=0)
        stop = np.full(self.n, d)
        ended = crashed
        c = np.flatnonzero(crashed)
        if c.size:
            # The first tick that crashes, tick by tick as the world does.
            bad = np.abs(Y[:, c]) > 1.0
            cw = near[c]
            if cw.any():
                bad[:, cw] |= gap_crash(c[cw])
            stop[c] = bad.argmax(axis=0) + 1
        # The gate is passed on its last tick, if that comes before any crash.
        passed = near & (to_end <= d)
        p = np.flatnonzero(passed)
        if p.size:
            got = to_end[p] < np.where(ended[p], stop[p], d + 1)
            passed[p[~got]] = False
            # The run's last gate ends it on that tick, before anything that follows.
            fin = p[got & (self.gate[p] + 1 == self.n_gates)]
            stop[fin] = to_end[fin]
            ended[fin] = False
        reward = passed.astype(np.float32)
        reward -= ended
        self.v_y[:] = V[d - 1]
        self.y[:] = Y[d - 1]
        t0 += d
        terminated = ended
        if p.size:
            self._advance(np.flatnonzero(passed))
            terminated |= self.gate == self.n_gates
        if terminated.any():
            self._finish_runs(np.flatnonzero(terminated), stop)
        return self.observation(), reward, terminated

    def _fly(self, actions: np.ndarray) -> np.ndarray:
        """Fills the decision's speeds and heights per tick (``_V``, ``_Y``); returns which
        flyers leave the field (above or below it) on some tick of it."""
        d, V, Y = self.decision_ticks, self._V, self._Y
        # Speed after each tick of the decision: the action's tick, then falls (the cap
        # applied per tick equals the cap of the running difference, as V[0] >= -vmax).
        v1 = V[0]
        np.subtract(self.v_y, self._g, out=v1)
        np.maximum(v1, -self._vmax, out=v1)
        np.copyto(v1, self._vj, where=np.asarray(actions) == JUMP)
        np.add(self.y, v1, out=Y[0])
        for j in range(1, d):
            np.subtract(v1, j * self._g, out=V[j])
            np.maximum(V[j], -self._vmax, out=V[j])
            np.add(Y[j - 1], V[j], out=Y[j])
        # The edges: heights within a decision are concave in time (the speed only falls),
        # so the lowest is at an end and the highest anywhere; crash ticks are found later.
        top = np.maximum(Y[0], Y[1]) if d > 1 else Y[0].copy()
        for j in range(2, d):
            np.maximum(top, Y[j], out=top)
        crashed = top > 1.0
        crashed |= np.minimum(Y[0], Y[d - 1]) < -1.0
        return crashed

    def _finish_runs(self, idx: np.ndarray, stop: np.ndarray) -> None:
        """Runs ``idx`` ended on tick ``stop`` of the decision: their state at that tick, their
        final score, and (``autoreset``) their final observation and a new run."""
        s = stop[idx] - 1
        self.v_y[idx] = self._V[s, idx]
        self.y[idx] = self._Y[s, idx]
        self.t[idx] += s + 1 - self.decision_ticks
        self.final_score[idx] = self.score[idx]
        if self.autoreset:
            self.final_obs[idx] = self._observe(idx)
            self._restart(idx)

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
        obs[:, 1] = self.v_y[sel] * V_OBS_SCALE
        for k in (0, 1):
            col = 2 + 3 * k
            # A real gate is always nearer than the lookahead, a padding one much further:
            # the minimum picks exactly the scalar world's value (one operand, unchanged).
            obs[:, col] = np.minimum((self.gate_start[k, sel] - t) * vx, LOOKAHEAD_TICKS * vx)
            obs[:, col + 1] = self.gate_gap_y[k, sel] - y
            obs[:, col + 2] = self.gate_half[k, sel]
        return obs
