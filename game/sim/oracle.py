"""The exact oracle for the arcade level: the best score a seeded course allows, and a plan.

Once a course is generated the arcade is deterministic, so the best achievable score is a
search over states. The oracle searches the autopilot's action space: one action per
decision (``Physics.decision_ticks`` ticks, see ``ArcadeWorld.step``), forward, decision by
decision, batched over many courses in numpy.

* Physics v2 keeps heights and speeds in whole sub-units (1/1024), so a state is a pair of
  integers and states merge exactly: nothing is rounded, nothing is merged by tolerance.
* At a decision boundary the speed is one of a few values, the *rows*: a jump's 20 minus
  3, minus 4 per falling decision since, down to the cap (or the run's start speed minus
  the same). Every decision moves a height by an even number of sub-units, so the heights
  a row can hold are the 1,025 even numbers in [-1024, 1024]: each (course, row) set is a
  1,025-bit bitset (17 uint64 words).
* A decision keeps, per (row, action), the start heights from which all of its ticks stay
  in the field and in the gap of the wall they are in (an interval: the climb or fall is
  fixed by row and action), shifts them by the decision's climb or fall, and ORs them
  into the row the decision ends in. A JUMP ends in the same row from every row.
* Gates are passed on fixed ticks, so every state alive at a decision boundary has the
  same score. The best score is what the last survivors reach: the gates passed by the
  end of the last decision with a survivor, or, if a path passes a gate inside the next
  decision before it crashes, that one more.

The initial vertical speed matters: it sets every height reachable before the first jump.
Evaluate against the oracle with the speeds the runs started with (``ArcadeBatch.v_y``
right after ``reset``, or the ``v_y`` passed to ``reset``); the default 0.0 is the oracle
for runs started with ``v_y = 0.0``. ``flyer/Arcade-v0`` reports it as ``info["v_y0"]``.

Plans (``plans=True``): the state sets of every ``CHECKPOINT_DECISIONS``-th decision are
kept, and each course is walked back from a state it ends in, decision by decision, the
sets in between recomputed one segment at a time. Replayed with ``ArcadeWorld.step`` from
``y = 0, v_y = v_y0``, a plan scores the best.

Cost: ``bench/results/oracle_cost.json`` (``python bench/oracle_cost.py``).
"""

from __future__ import annotations

from functools import lru_cache
from math import gcd

import numpy as np

from game.sim.actions import FALL, JUMP
from game.sim.arcade import PHYSICS, RULES, SUB_UNITS, CourseRules, Physics, make_courses

CHUNK_COURSES = 1024
"""Courses searched together: bounds memory."""
CHECKPOINT_DECISIONS = 32
"""Plans keep the state sets of every this many decisions and recompute those between."""
_WORD = 64
_LOW = np.array([(1 << k) - 1 for k in range(_WORD)] + [(1 << _WORD) - 1], dtype=np.uint64)
"""_LOW[k]: the k lowest bits set."""
_FREE = 1 << 24
"""A bound no height reaches (ticks after the last gate are not judged)."""


def _rows(v0: np.ndarray, p: Physics) -> tuple[list[int], int, np.ndarray, np.ndarray]:
    """The speeds at decision boundaries reachable from ``v0``, and per-tick offsets.

    Returns ``(speeds, jump_row, fall_to, offsets)``: a JUMP decision from any row ends in
    row ``jump_row``, a FALL decision from row ``r`` in ``fall_to[r]``; ``offsets[r, a, j]``
    is the height change after tick ``j + 1`` of action ``a`` from row ``r`` (sub-units).
    """
    d, g, cap = p.decision_ticks, p.gravity, p.v_fall_max

    def ticks(v: int, a: int) -> list[int]:
        out = []
        for j in range(d):
            v = p.v_jump if (a == JUMP and j == 0) else max(v - g, -cap)
            out.append(v)
        return out

    jump_end = ticks(0, JUMP)[-1]
    speeds: list[int] = []
    todo = [jump_end, *sorted(set(v0.tolist()))]
    while todo:
        v = todo.pop()
        if v not in speeds:
            speeds.append(v)
            todo.append(ticks(v, FALL)[-1])
    index = {v: i for i, v in enumerate(speeds)}
    fall_to = np.array([index[ticks(v, FALL)[-1]] for v in speeds])
    offsets = np.array([[np.cumsum(ticks(v, a)) for a in (FALL, JUMP)] for v in speeds],
                       dtype=np.int64)
    return speeds, index[jump_end], fall_to, offsets


def _gap_bounds(gap_y: np.ndarray, half: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lowest and highest whole sub-unit height inside each gap, by the world's own test.

    The world crashes when ``abs(y - gap_y) > half_gap`` in floats; ``y - gap_y`` rounds
    monotonically in ``y``, so the passing heights are an interval, found exactly here
    (on the grid of generated courses it is just ``gap_y +- half``). An empty gap gets
    ``lo > hi``.
    """
    s = SUB_UNITS

    def inside(k: np.ndarray) -> np.ndarray:
        return ~(np.abs(k / s - gap_y) > half)

    lo = np.floor((gap_y - half) * s).astype(np.int64) - 2
    for _ in range(5):  # the estimate is within a unit or two of the true bound
        lo += ~inside(lo)
    hi = np.ceil((gap_y + half) * s).astype(np.int64) + 2
    for _ in range(5):
        hi -= ~inside(hi)
    bad = ~inside(lo) | ~inside(hi) | (lo > hi)
    return np.where(bad, _FREE, lo), np.where(bad, -_FREE, hi)


def _shift_into(out: np.ndarray, x: np.ndarray, s: int) -> None:
    """ORs bitsets ``x`` (``(..., W)`` uint64, bit 0 lowest) moved up by ``s`` bits (down if
    negative) into ``out``, in place; bits moved past either end are dropped."""
    n = x.shape[-1]
    q, b = divmod(abs(s), _WORD)
    if q >= n:
        return
    if s >= 0:
        out[..., q:] |= x[..., : n - q] << np.uint64(b)
        if b:
            out[..., q + 1:] |= x[..., : n - q - 1] >> np.uint64(_WORD - b)
    else:
        out[..., : n - q] |= x[..., q:] >> np.uint64(b)
        if b:
            out[..., : n - q - 1] |= x[..., q + 1:] << np.uint64(_WORD - b)


class _Chunk:
    """The search over a chunk of courses: state sets as bitsets of heights per speed row.

    Bit ``i`` of row ``r`` of a course is the state (height ``(i * step) - SUB_UNITS``,
    speed ``speeds[r]``): heights start at 0 and every decision moves them by a multiple
    of ``step``, so only those heights are held.
    """

    def __init__(self, start: np.ndarray, gap_y: np.ndarray, half: np.ndarray,
                 v0: np.ndarray, wall_ticks: int, p: Physics, y0: np.ndarray | None = None
                 ) -> None:
        self.n, self.n_gates = start.shape
        self.d = p.decision_ticks
        self.speeds, self.jump_row, self.fall_to, self.off = _rows(v0, p)
        self.n_rows = len(self.speeds)
        # Start heights (sub-units; 0 for a run's start) must lie on the grid of held
        # heights too: a start off the even grid makes every height a candidate.
        self.y0 = np.zeros(self.n, dtype=np.int64) if y0 is None else y0
        step = 0
        for v in self.off[:, :, -1].ravel().tolist() + (self.y0 + SUB_UNITS).tolist():
            step = gcd(step, v)
        self.step = max(step, 1)
        self.n_bits = 2 * SUB_UNITS // self.step + 1
        self.n_words = -(-self.n_bits // _WORD)
        pad = np.full((self.n, 3), 10**15, dtype=np.int64)  # "gates" after the last
        self.start = np.concatenate((start, pad), axis=1)
        self.end = self.start + (wall_ticks - 1)
        gl, gh = _gap_bounds(gap_y, half)
        zeros = np.zeros((self.n, 3), dtype=np.int64)
        self.gl = np.concatenate((gl, zeros), axis=1)
        self.gh = np.concatenate((gh, zeros), axis=1)
        self.cols = np.arange(self.n)
        row_of = {v: i for i, v in enumerate(self.speeds)}
        self.row0 = np.array([row_of[int(v)] for v in v0.tolist()], dtype=np.int64)
        # Where each (row, action) lands, and the bit shift it makes.
        self.dest = np.stack((self.fall_to, np.full(self.n_rows, self.jump_row)), axis=1)
        self.shift = self.off[:, :, -1] // self.step
        field_lo, field_hi = self._start_bounds(np.full((1, self.d), -SUB_UNITS),
                                                np.full((1, self.d), SUB_UNITS))
        self.field_mask = self._masks(field_lo, field_hi)[0]

    def initial(self) -> np.ndarray:
        """The state sets before the first decision: each run's start height and speed."""
        x = np.zeros((self.n, self.n_rows, self.n_words), dtype=np.uint64)
        bit = (self.y0 + SUB_UNITS) // self.step
        x[self.cols, self.row0, bit // _WORD] = np.uint64(1) << (bit % _WORD).astype(np.uint64)
        return x

    def tick_bounds(self, k: int, gate: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Allowed heights on each tick of decision ``k``: ``(low, top, special)``, (C, d).

        The field, and the gap of the wall the tick is in (a wall passed on an earlier
        tick of the decision no longer counts; after the last gate nothing counts).
        ``special`` marks the courses whose bounds are not just the field's.
        """
        taus = k * self.d + np.arange(1, self.d + 1)
        g = np.broadcast_to(gate[:, None], (self.n, self.d)).copy()
        c = self.cols[:, None]
        for _ in range(2):
            g += taus > self.end[c, g]
        in_wall = taus >= self.start[c, g]
        low = np.where(in_wall, np.maximum(self.gl[c, g], -SUB_UNITS), -SUB_UNITS)
        top = np.where(in_wall, np.minimum(self.gh[c, g], SUB_UNITS), SUB_UNITS)
        over = g >= self.n_gates
        low[over], top[over] = -_FREE, _FREE
        return low, top, (in_wall | over).any(axis=1)

    def _start_bounds(self, low: np.ndarray, top: np.ndarray, ticks: int | None = None
                      ) -> tuple[np.ndarray, np.ndarray]:
        """Start heights (bit indices) from which every tick of each (row, action) is allowed.

        ``low``/``top`` are ``(C, d)``; returns ``(C, R, 2)`` inclusive bit bounds.
        """
        j = self.d if ticks is None else ticks
        lo = (low[:, None, None, :j] - self.off[None, :, :, :j]).max(axis=3)
        hi = (top[:, None, None, :j] - self.off[None, :, :, :j]).min(axis=3)
        # To bit indices, rounded inwards to the heights that exist.
        lo = -((-(lo + SUB_UNITS)) // self.step)
        hi = (hi + SUB_UNITS) // self.step
        return np.maximum(lo, 0), np.minimum(hi, self.n_bits - 1)

    def _masks(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """Bitset masks ``(..., W)`` of the inclusive bit ranges ``lo..hi``."""
        base = np.arange(self.n_words) * _WORD
        a = np.minimum(np.maximum(lo[..., None] - base, 0), _WORD)
        b = np.minimum(np.maximum(hi[..., None] + 1 - base, 0), _WORD)
        return _LOW[b] & ~_LOW[a]

    def keep(self, x: np.ndarray, low: np.ndarray, top: np.ndarray, special: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
        """Which starts survive the decision: ``(fall, jump_mask)``.

        ``fall`` ``(C, R, W)`` is ``x`` kept where a FALL survives; a JUMP climbs the same
        from every row, so one mask ``(C, W)`` says where it survives.
        """
        fall = x & self.field_mask[None, :, FALL]
        jump = np.broadcast_to(self.field_mask[0, JUMP], (self.n, self.n_words)).copy()
        idx = np.flatnonzero(special)
        if idx.size:
            lo, hi = self._start_bounds(low[idx], top[idx])
            fall[idx] = x[idx] & self._masks(lo[:, :, FALL], hi[:, :, FALL])
            jump[idx] = self._masks(lo[:, 0, JUMP], hi[:, 0, JUMP])
        return fall, jump

    def advance(self, x: np.ndarray, fall: np.ndarray, jump: np.ndarray) -> np.ndarray:
        """The state sets after a decision, from the start sets and what survives of them."""
        new = np.zeros_like(x)
        for r in range(self.n_rows):
            _shift_into(new[:, self.fall_to[r]], fall[:, r], int(self.shift[r, FALL]))
        jumps = np.bitwise_or.reduce(x, axis=1)
        jumps &= jump
        _shift_into(new[:, self.jump_row], jumps, int(self.shift[0, JUMP]))
        return new

    def passes_before_crash(self, c: int, x: np.ndarray, low: np.ndarray, top: np.ndarray,
                            j: int) -> tuple[int, int, int] | None:
        """A start ``(row, action, bit)`` of course ``c`` alive through tick ``j``, if any."""
        lo, hi = self._start_bounds(low[c:c + 1], top[c:c + 1], ticks=j)
        m = self._masks(lo, hi)[0] & x[c][:, None, :]
        for r in range(self.n_rows):
            for a in (FALL, JUMP):
                bit = _lowest(m[r, a])
                if bit is not None:
                    return r, a, bit
        return None


def _lowest(words: np.ndarray) -> int | None:
    """The lowest set bit of a bitset, or None."""
    nz = np.flatnonzero(words)
    if not nz.size:
        return None
    w = int(words[nz[0]])
    return int(nz[0]) * _WORD + (w & -w).bit_length() - 1


def _has(words: np.ndarray, bits: np.ndarray) -> np.ndarray:
    """Whether each bitset ``words[i]`` holds bit ``bits[i]`` (bits outside: False)."""
    ok = (bits >= 0) & (bits < words.shape[-1] * _WORD)
    b = np.where(ok, bits, 0)
    w = words[np.arange(len(b)), b // _WORD]
    return ok & ((w >> (b % _WORD).astype(np.uint64)) & np.uint64(1)).astype(bool)


def search(start: np.ndarray, gap_y: np.ndarray, half_gap: np.ndarray,
           v_y0: np.ndarray | None = None, wall_ticks: int = RULES.wall_ticks,
           physics: Physics = PHYSICS, plans: bool = False, y_0: np.ndarray | None = None
           ) -> tuple[np.ndarray, list[list[int]] | None]:
    """Best score on each of the given courses (rows of ``(C, n)`` arrays), and plans.

    Args:
        start: int64 first tick inside each wall, shape ``(C, n)``, increasing along a row.
        gap_y: float64 gap centres, shape ``(C, n)``.
        half_gap: float64 gap half heights, shape ``(C, n)``.
        v_y0: initial vertical speed of each run (field units per tick, whole sub-units),
            shape ``(C,)``; default 0.0.
        wall_ticks: ticks inside each wall (``CourseRules.wall_ticks``).
        physics: the flight constants.
        plans: also return, per course, one action per decision (``ArcadeWorld.step``)
            from the start; replayed from ``y = 0, v_y = v_y0`` they score the best.
        y_0: start height of each run (field units, whole sub-units in [-1, 1]), shape
            ``(C,)``; default 0.0. With ``start`` counted from the current tick, this
            searches from a flyer's state mid-run (``game.play.thinking.oracle_path``).

    Returns:
        ``(scores, plans)``: int64 best scores, shape ``(C,)``; the plans or ``None``.
    """
    start = np.asarray(start, dtype=np.int64)
    n_courses = start.shape[0]
    v0 = np.zeros(n_courses) if v_y0 is None else np.asarray(v_y0, dtype=np.float64)
    v0_units = np.rint(v0 * SUB_UNITS).astype(np.int64)
    if not np.array_equal(v0_units / SUB_UNITS, v0):
        raise ValueError("v_y0 must be whole sub-units (1/SUB_UNITS field units per tick)")
    y0_units = None
    if y_0 is not None:
        y0 = np.asarray(y_0, dtype=np.float64)
        y0_units = np.rint(y0 * SUB_UNITS).astype(np.int64)
        if not np.array_equal(y0_units / SUB_UNITS, y0) or np.abs(y0_units).max() > SUB_UNITS:
            raise ValueError("y_0 must be whole sub-units in [-1, 1]")
    scores = np.zeros(n_courses, dtype=np.int64)
    out_plans: list[list[int]] | None = [] if plans else None
    if start.shape[1] == 0:  # no gates: nothing to pass
        return scores, None if out_plans is None else [[] for _ in range(n_courses)]
    for lo in range(0, n_courses, CHUNK_COURSES):
        hi = min(lo + CHUNK_COURSES, n_courses)
        chunk = _Chunk(start[lo:hi], np.asarray(gap_y[lo:hi], dtype=np.float64),
                       np.asarray(half_gap[lo:hi], dtype=np.float64), v0_units[lo:hi],
                       wall_ticks, physics, None if y0_units is None else y0_units[lo:hi])
        s, p = _search_chunk(chunk, plans)
        scores[lo:hi] = s
        if out_plans is not None:
            out_plans.extend(p)
    return scores, out_plans


def _search_chunk(ch: _Chunk, plans: bool) -> tuple[np.ndarray, list[list[int]]]:
    """Forward over decisions until no course has survivors or gates left; then plans."""
    n = ch.n
    x = ch.initial()
    gate = np.zeros(n, dtype=np.int64)
    score = np.zeros(n, dtype=np.int64)
    live = np.ones(n, dtype=bool)
    # Where each course's plan ends: the decision k whose start sets hold its last state,
    # that state (row, bit), and the action taken in decision k (-1: none, it crashes).
    last_k = np.zeros(n, dtype=np.int64)
    last_state = np.zeros((n, 3), dtype=np.int64)
    last_state[:, 2] = -1
    checkpoints: list[np.ndarray] = []
    gates_at: list[np.ndarray] = []
    k = 0
    while live.any():
        if plans:
            gates_at.append(gate.copy())
            if k % CHECKPOINT_DECISIONS == 0:
                checkpoints.append(x)
        low, top, special = ch.tick_bounds(k, gate)
        fall, jump = ch.keep(x, low, top, special)
        new = ch.advance(x, fall, jump)
        alive = new.any(axis=(1, 2))
        t = k * ch.d
        passed = (ch.end[ch.cols, gate] <= t + ch.d).astype(np.int64)
        passed += ch.end[ch.cols, gate + 1] <= t + ch.d
        died = live & ~alive
        for c in np.flatnonzero(died).tolist():
            # Every path crashes in this decision; one may first pass a gate on its way.
            score[c] = gate[c]
            last_k[c] = k
            j = int(ch.end[c, gate[c]] - t)
            hit = ch.passes_before_crash(c, x, low, top, j) if 1 <= j < ch.d else None
            if hit is not None:
                score[c] += 1
                last_state[c] = hit
            elif plans:
                r = int(np.flatnonzero(x[c].any(axis=1))[0])
                last_state[c] = (r, _lowest(x[c, r]), -1)
        ok = live & alive
        gate[ok] += passed[ok]
        score[ok] = gate[ok]
        finished = ok & (gate >= ch.n_gates)
        if plans:
            for c in np.flatnonzero(finished).tolist():
                r, a, kept = next((r, a, m) for r in range(ch.n_rows) for a in (FALL, JUMP)
                                  if (m := fall[c, r] if a == FALL else x[c, r] & jump[c]).any())
                last_k[c] = k
                last_state[c] = (r, _lowest(kept), a)
        live = ok & ~finished
        x = new
        k += 1
    out: list[list[int]] = []
    if plans:
        out = _backtrack(ch, checkpoints, gates_at, last_k, last_state)
    return score, out


def _backtrack(ch: _Chunk, checkpoints: list[np.ndarray], gates_at: list[np.ndarray],
               last_k: np.ndarray, last_state: np.ndarray) -> list[list[int]]:
    """Walks every course back from its last state to the start: one action per decision.

    The state sets between checkpoints are recomputed one segment at a time, last first.
    """
    n = ch.n
    plans: list[list[int]] = [[] if a < 0 else [int(a)] for a in last_state[:, 2].tolist()]
    row = last_state[:, 0].copy()
    bit = last_state[:, 1].copy()
    top_k = int(last_k.max(initial=0))
    step = CHECKPOINT_DECISIONS
    for seg in range((top_k - 1) // step, -1, -1):
        k0, k1 = seg * step, min(seg * step + step, top_k)  # decisions k0 .. k1 - 1
        sets = [checkpoints[seg]]  # sets[i]: the start sets of decision k0 + i
        for k in range(k0, k1 - 1):
            low, top, special = ch.tick_bounds(k, gates_at[k])
            sets.append(ch.advance(sets[-1], *ch.keep(sets[-1], low, top, special)))
        for k in range(k1 - 1, k0 - 1, -1):
            # Courses whose state is in the sets after decision k: find where it came from.
            todo = last_k > k
            low, top, special = ch.tick_bounds(k, gates_at[k])
            x = sets[k - k0]
            fall, jump = ch.keep(x, low, top, special)
            found = np.zeros(n, dtype=bool)
            new_row, new_bit, act = row.copy(), bit.copy(), np.zeros(n, dtype=np.int64)
            for r in range(ch.n_rows):
                for a in (FALL, JUMP):
                    prev = bit - ch.shift[r, a]
                    hit = todo & ~found & (row == ch.dest[r, a])
                    hit &= _has(fall[:, r] if a == FALL else x[:, r] & jump, prev)
                    new_row[hit], new_bit[hit], act[hit] = r, prev[hit], a
                    found |= hit
            if (todo & ~found).any():
                raise AssertionError("oracle backtrack lost its path")  # a bug, not a result
            row, bit = new_row, new_bit
            for c in np.flatnonzero(todo).tolist():
                plans[c].append(int(act[c]))
    for p in plans:
        p.reverse()
    return plans


def oracle_scores(course_seeds: np.ndarray, n_gates: int, v_y0: np.ndarray | None = None,
                  rules: CourseRules = RULES, physics: Physics = PHYSICS) -> np.ndarray:
    """The best achievable score (gates passed) on each seeded ``n_gates``-gate course.

    Args:
        course_seeds: one seed per course, as given to ``make_course``.
        n_gates: gates per course.
        v_y0: each run's initial vertical speed; default 0.0 for all. It matters: pass the
            speeds the evaluated runs really started with (see the module docstring).

    Returns:
        int64 array, one best score per course.
    """
    start, gap_y, half = make_courses(np.asarray(course_seeds), n_gates, rules)
    return search(start, gap_y, half, v_y0, rules.wall_ticks, physics)[0]


def oracle_plans(course_seeds: np.ndarray, n_gates: int, v_y0: np.ndarray | None = None,
                 rules: CourseRules = RULES, physics: Physics = PHYSICS
                 ) -> tuple[np.ndarray, list[list[int]]]:
    """Best scores and, per course, an action per decision that achieves it."""
    start, gap_y, half = make_courses(np.asarray(course_seeds), n_gates, rules)
    scores, plans = search(start, gap_y, half, v_y0, rules.wall_ticks, physics, plans=True)
    assert plans is not None
    return scores, plans


def oracle_plan(course_seed: int, n_gates: int, v_y0: float = 0.0,
                rules: CourseRules = RULES, physics: Physics = PHYSICS) -> list[int]:
    """One action per decision that scores the best possible on one seeded course.

    Replayed with ``ArcadeWorld.step`` from the run's start
    (``ArcadeWorld.reset(course_seed=..., v_y=v_y0)``) it passes ``oracle_scores`` gates.
    """
    return oracle_plans(np.array([course_seed]), n_gates, np.array([v_y0]), rules, physics)[1][0]


def _start_mask(off: list[int], low: list[int], top: list[int], step: int) -> int:
    """As a Python int bitset: start bits from which every tick (height changes ``off``)
    stays within ``low..top`` (one bound per tick, sub-units); see ``_Chunk._start_bounds``."""
    lo = max(lw - o for lw, o in zip(low, off, strict=False))
    hi = min(tp - o for tp, o in zip(top, off, strict=False))
    lo = max(-((-(lo + SUB_UNITS)) // step), 0)
    hi = min((hi + SUB_UNITS) // step, 2 * SUB_UNITS // step)
    return ((1 << (hi - lo + 1)) - 1) << lo if hi >= lo else 0


@lru_cache(maxsize=64)
def _scalar_rows(v0: int, physics: Physics
                 ) -> tuple[list[int], int, list[list[int]], list[list[list[int]]], int]:
    """``plan_from``'s speed rows from start speed ``v0`` (sub-units), as Python lists.

    Returns ``(speeds, jump_row, dest, offsets, step)``: ``dest[r][a]`` is the row that
    (row ``r``, action ``a``) ends in, ``step`` the gcd of every decision's height change.
    Cached: a flyer meets the same few start speeds again and again.
    """
    speeds, jump_row, fall_to, off_a = _rows(np.array([v0]), physics)
    step = 0
    for v in off_a[:, :, -1].ravel().tolist():
        step = gcd(step, v)
    dest = [[int(f), jump_row] for f in fall_to.tolist()]
    return speeds, jump_row, dest, off_a.tolist(), step


@lru_cache(maxsize=64)
def _field_masks(v0: int, step: int, physics: Physics) -> list[list[int]]:
    """``field_masks[r][a]``: the start bits (row ``r``, action ``a``) survives from in the
    open field, for the rows of ``_scalar_rows(v0)`` and heights on a grid of ``step``."""
    off = _scalar_rows(v0, physics)[3]
    d = physics.decision_ticks
    low, top = [-SUB_UNITS] * d, [SUB_UNITS] * d
    return [[_start_mask(o[a], low, top, step) for a in (FALL, JUMP)] for o in off]


def _nearest(bits: int, target: int) -> int:
    """The set bit of a non-empty Python int bitset nearest to bit ``target``."""
    below = bits & ((1 << (target + 1)) - 1) if target >= 0 else 0
    above = bits >> (target + 1) if target >= 0 else bits
    lo = below.bit_length() - 1 if below else None
    hi = (above & -above).bit_length() - 1 + max(target + 1, 0) if above else None
    if lo is None:
        return hi
    if hi is None or target - lo <= hi - target:
        return lo
    return hi


def plan_from(start: np.ndarray, gap_y: np.ndarray, half_gap: np.ndarray, y: float,
              v_y: float, wall_ticks: int = RULES.wall_ticks, physics: Physics = PHYSICS
              ) -> tuple[int, list[int]]:
    """The best score and a plan from one flyer's state mid-run, over a few gates.

    The same search as ``search(..., plans=True, y_0=...)`` for one course, with each speed
    row's bitset held as one Python integer: the vectorised search has a fixed cost of numpy
    calls per decision whatever the number of courses, which one course does not amortise;
    this one is cheap enough for the window to ask for a plan every decision
    (``game.play.thinking.oracle_path``; its cost: ``bench/think_cost.py`` and the README).

    Args:
        start: the first tick inside each wall still ahead, counted from the flyer's tick
            (so ``<= 0`` while inside a wall), increasing; shape ``(n,)``.
        gap_y: their gap centres.
        half_gap: their gap half heights.
        y: the flyer's height (field units, whole sub-units in [-1, 1]).
        v_y: its vertical speed (field units per tick, whole sub-units).

    Returns:
        ``(score, plan)``: the most of the ``n`` gates any plan passes, and one action per
        decision that passes them (it ends where the last gate is passed, or before the
        crash that no plan avoids).
    """
    start = np.asarray(start, dtype=np.int64).ravel()
    y0, v0 = int(round(y * SUB_UNITS)), int(round(v_y * SUB_UNITS))
    if y0 / SUB_UNITS != y or v0 / SUB_UNITS != v_y or abs(y0) > SUB_UNITS:
        raise ValueError("y and v_y must be whole sub-units, y in [-1, 1]")
    if start.size == 0:
        return 0, []
    planner = _Planner(start, gap_y, half_gap, y0, v0, wall_ticks, physics)
    score, last, k = planner.forward()
    return score, planner.backtrack(last, k)


def _lowest_bit(x: int) -> int:
    """The lowest set bit of a non-empty Python int bitset."""
    return (x & -x).bit_length() - 1


class _Planner:
    """``plan_from``'s search on one course: forward over the decisions, then back."""

    def __init__(self, start: np.ndarray, gap_y: np.ndarray, half_gap: np.ndarray, y0: int,
                 v0: int, wall_ticks: int, physics: Physics) -> None:
        self.n = start.size
        self.d = physics.decision_ticks
        self.speeds, self.jump_row, self.dest, self.off, step = _scalar_rows(v0, physics)
        # The start height must lie on the grid of held heights too (see ``_Chunk``).
        self.step = step = max(gcd(step, y0 + SUB_UNITS), 1)
        self.field_masks = _field_masks(v0, step, physics)
        self.n_rows = len(self.speeds)
        self.full = (1 << (2 * SUB_UNITS // step + 1)) - 1
        self.shift = [[o[a][-1] // step for a in (FALL, JUMP)] for o in self.off]
        gl_a, gh_a = _gap_bounds(np.asarray(gap_y, dtype=np.float64).ravel(),
                                 np.asarray(half_gap, dtype=np.float64).ravel())
        self.starts, self.gl, self.gh = start.tolist(), gl_a.tolist(), gh_a.tolist()
        self.ends = [s + wall_ticks - 1 for s in self.starts]
        self.field = ([-SUB_UNITS] * self.d, [SUB_UNITS] * self.d)
        self.y0, self.v0 = y0, v0
        self.sets: list[list[int]] = []  # the start sets of every decision
        self.kept: list[tuple[list[int], int]] = []  # what survives it: FALL per row, JUMP mask

    def end_of(self, g: int) -> int:
        return self.ends[g] if g < self.n else 10**15  # the end of the "gates" after the last

    def mask(self, r: int, a: int, low: list[int], top: list[int]) -> int:
        return _start_mask(self.off[r][a], low, top, self.step)

    def bounds(self, k: int, gate: int) -> tuple[list[int], list[int], bool]:
        """Allowed heights on each tick of decision ``k`` (as ``_Chunk.tick_bounds``)."""
        d, n = self.d, self.n
        if gate < n and k * d + d < self.starts[gate]:
            return self.field[0], self.field[1], False  # in the open: the field's bounds
        low, top, special = [], [], False
        for j in range(1, d + 1):
            tau, g = k * d + j, gate
            for _ in range(2):
                g += tau > self.end_of(g)
            if g >= n:
                low.append(-_FREE)
                top.append(_FREE)
                special = True
            elif tau >= self.starts[g]:
                low.append(max(self.gl[g], -SUB_UNITS))
                top.append(min(self.gh[g], SUB_UNITS))
                special = True
            else:
                low.append(-SUB_UNITS)
                top.append(SUB_UNITS)
        return low, top, special

    def forward(self) -> tuple[int, tuple[int, int, int], int]:
        """Decision by decision until every path crashes or every gate is passed.

        Returns ``(score, last, k)``: the score, the last state ``(row, bit, action)``
        (action -1: none passes a gate in the crashing decision) and its decision.
        """
        n_rows, d = self.n_rows, self.d
        x = [0] * n_rows
        x[self.speeds.index(self.v0)] = 1 << ((self.y0 + SUB_UNITS) // self.step)
        gate, k = 0, 0
        while True:
            low, top, special = self.bounds(k, gate)
            if special:
                fall = [x[r] & self.mask(r, FALL, low, top) for r in range(n_rows)]
                jump_mask = self.mask(0, JUMP, low, top)  # a JUMP climbs the same from every row
            else:
                fall = [x[r] & self.field_masks[r][FALL] for r in range(n_rows)]
                jump_mask = self.field_masks[0][JUMP]
            self.sets.append(x)
            self.kept.append((fall, jump_mask))
            new = self.advance(x, fall, jump_mask)
            t = k * d
            if not any(new):
                score, last = self.crash(x, gate, t, low, top)
                return score, last, k
            gate += (self.end_of(gate) <= t + d) + (self.end_of(gate + 1) <= t + d)
            if gate >= self.n:
                return gate, self.through(x, fall, jump_mask), k
            x = new
            k += 1

    def advance(self, x: list[int], fall: list[int], jump_mask: int) -> list[int]:
        """The states after one decision: each row's FALL survivors and every JUMP's."""
        new = [0] * self.n_rows
        jumps = 0
        for r in range(self.n_rows):
            jumps |= x[r]
            s = self.shift[r][FALL]
            new[self.dest[r][FALL]] |= (fall[r] << s) & self.full if s >= 0 else fall[r] >> -s
        jumps &= jump_mask
        s = self.shift[0][JUMP]
        new[self.jump_row] |= (jumps << s) & self.full if s >= 0 else jumps >> -s
        return new

    def crash(self, x: list[int], gate: int, t: int, low: list[int], top: list[int]
              ) -> tuple[int, tuple[int, int, int]]:
        """Every path crashes in this decision; one may first pass a gate on its way."""
        score, last = gate, None
        j = self.end_of(gate) - t
        if 1 <= j < self.d:
            lo_j, top_j = low[:j], top[:j]
            for r in range(self.n_rows):
                for a in (FALL, JUMP):
                    m = x[r] & self.mask(r, a, lo_j, top_j)
                    if m and last is None:
                        last = (r, _lowest_bit(m), a)
        if last is not None:
            return score + 1, last
        r = next(r for r in range(self.n_rows) if x[r])
        return score, (r, _lowest_bit(x[r]), -1)

    def through(self, x: list[int], fall: list[int], jump_mask: int) -> tuple[int, int, int]:
        """Every survivor scores the same: the plan ends at the one nearest the middle of the
        last gap, the safest of them (and the path a viewer expects to see)."""
        n = self.n
        target = max(min((self.gl[n - 1] + self.gh[n - 1]) // 2, SUB_UNITS), -SUB_UNITS)
        target = (target + SUB_UNITS) // self.step
        best_gap, last = None, None
        for r in range(self.n_rows):
            for a in (FALL, JUMP):
                m = fall[r] if a == FALL else x[r] & jump_mask
                if m:
                    bit = _nearest(m, target)
                    if best_gap is None or abs(bit - target) < best_gap:
                        best_gap, last = abs(bit - target), (r, bit, a)
        assert last is not None
        return last

    def backtrack(self, last: tuple[int, int, int], k: int) -> list[int]:
        """Back from the last state to the start, one decision at a time.

        Every state in the sets leads back to the start; of the ways back, the one nearest
        the straight line from the start height to the last one is taken, so the path does
        not dive and climb for nothing.
        """
        row, bit, action = last
        plan = [] if action < 0 else [action]
        first = (self.y0 + SUB_UNITS) // self.step
        for kk in range(k - 1, -1, -1):
            fall, jump_mask = self.kept[kk]
            xs = self.sets[kk]
            target = first + (bit - first) * kk / max(kk + 1, 1)
            found, off_line = None, 0.0
            for r in range(self.n_rows):
                for a in (FALL, JUMP):
                    if self.dest[r][a] == row:
                        prev = bit - self.shift[r][a]
                        live = fall[r] if a == FALL else xs[r] & jump_mask
                        if prev >= 0 and (live >> prev) & 1 and (
                                found is None or abs(prev - target) < off_line):
                            found, off_line = (r, prev, a), abs(prev - target)
            if found is None:
                raise AssertionError("oracle backtrack lost its path")  # a bug, not a result
            row, bit, a = found
            plan.append(a)
        plan.reverse()
        return plan


# ----------------------------------------------------------------------- shipped scores
SHIPPED_FILE = "oracle_scores.npz"
"""The asset of oracle scores shipped with the game: the skill meter's held-out and validation
sets, whose oracle every window and film would otherwise compute at start (1.8 s each on the
2-core machine, before the first skill reading). ``assets/make_oracle.py`` writes it;
``tests/test_oracle.py`` checks every entry against ``oracle_scores``."""


def shipped_key(level: str, physics_version: int, gates: int, episodes: int, seed: int) -> str:
    """The name of one set's scores in ``SHIPPED_FILE``."""
    return f"{level}_v{physics_version}_g{gates}_n{episodes}_s{seed}"


@lru_cache(maxsize=1)
def _shipped() -> dict[str, np.ndarray]:
    import zipfile

    import assets  # package data (importlib.resources); an absent or bad file ships nothing

    try:
        with np.load(assets.path(SHIPPED_FILE), allow_pickle=False) as npz:
            return {name: npz[name] for name in npz.files}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return {}


def shipped_scores(key: str) -> np.ndarray | None:
    """The shipped oracle scores of the set ``key`` (``shipped_key``), a copy; or None."""
    scores = _shipped().get(key)
    return None if scores is None else scores.copy()
