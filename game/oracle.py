"""The exact oracle for the arcade level: the best score a seeded course allows, and a plan.

Once a course is generated the arcade is deterministic, so the best achievable score is a
search over states. The search runs forward, tick by tick, over the set of reachable
``(y, v_y)`` states after each tick's action, batched over many courses in numpy:

* A state's ``v_y`` is ``v_y0`` minus k falls before the first jump, or 0.2 minus k falls
  after one; which of these it is (a small code) plus ``y`` identifies a state. States are
  merged when they have the same course, the same code and ``y`` equal to within 2**-32
  (~2e-10): paths reaching the same (y, v_y) by different action orders differ only in
  float rounding. Every kept state carries the exact floats of one real path, which is
  what the plan replays, so a plan's replay reproduces the search bit for bit.
* Gates are passed on fixed ticks, so every state alive at a tick has the same score. The
  best score is the number of gates passed by the last tick that still has a survivor.

The initial vertical speed matters: it sets every height the flyer can reach before its
first jump, and so which heights are reachable at all. Evaluate against the oracle with
the same ``v_y0`` the runs started with (``ArcadeBatch.v_y`` right after ``reset``, or the
``v_y`` you passed to ``reset``); the default 0.0 is the oracle for runs started with
``v_y = 0.0``. ``flyer/Arcade-v0`` reports it as ``info["v_y0"]`` at reset.

Cost: about 3-7 s for 1,000 courses of 100 gates on one core (plans take about twice
that); memory is bounded by searching ``CHUNK_COURSES`` courses at a time.

Exactness: the search applies the simulation's own float operations in the same order,
so every reported score is achieved by its plan exactly. Merging states within 2**-32
could in principle hide a path that differs from a kept one only in rounding and sits on
a gap's edge to within that much; no such case has been seen.
"""

from __future__ import annotations

import numpy as np

from game.arcade import RULES, CourseRules, make_courses
from game.physics import FALL, JUMP, PHYSICS, Physics

_CODE_BITS = 16
_PRE_JUMP = (1 << _CODE_BITS) - 1
"""Fall-count code of the one state per course that has not jumped yet."""
_Y_BITS = 34
"""Heights are merged on a grid of edge * 2**-32; |y| <= edge fits in 34 bits with an offset."""
CHUNK_COURSES = 256
"""Courses searched together: bounds memory (plans keep one parent pointer per state)."""
assert CHUNK_COURSES.bit_length() + _CODE_BITS + _Y_BITS < 63


def search(start: np.ndarray, gap_y: np.ndarray, half_gap: np.ndarray,
           v_y0: np.ndarray | None = None, wall_ticks: int = RULES.wall_ticks,
           physics: Physics = PHYSICS, plans: bool = False
           ) -> tuple[np.ndarray, list[list[int]] | None]:
    """Best score on each of the given courses (rows of ``(C, n)`` arrays), and plans.

    Args:
        start: int64 first tick inside each wall, shape ``(C, n)``, increasing along a row.
        gap_y: float64 gap centres, shape ``(C, n)``.
        half_gap: float64 gap half heights, shape ``(C, n)``.
        v_y0: initial vertical speed of each run, shape ``(C,)``; default 0.0.
        wall_ticks: ticks inside each wall (``CourseRules.wall_ticks``).
        physics: the flight constants.
        plans: also return, per course, actions for ticks 1..T where T is the last tick
            with a survivor; replayed from ``y = 0, v_y = v_y0`` they score the best.

    Returns:
        ``(scores, plans)``: int64 best scores, shape ``(C,)``; the plans or ``None``.
    """
    start = np.asarray(start, dtype=np.int64)
    n_courses = start.shape[0]
    v0 = np.zeros(n_courses) if v_y0 is None else np.asarray(v_y0, dtype=np.float64)
    scores = np.zeros(n_courses, dtype=np.int64)
    out_plans: list[list[int]] | None = [] if plans else None
    if start.shape[1] == 0:  # no gates: nothing to pass
        return scores, None if out_plans is None else [[] for _ in range(n_courses)]
    for lo in range(0, n_courses, CHUNK_COURSES):
        hi = min(lo + CHUNK_COURSES, n_courses)
        s, p = _search_chunk(start[lo:hi], np.asarray(gap_y[lo:hi], dtype=np.float64),
                             np.asarray(half_gap[lo:hi], dtype=np.float64), v0[lo:hi],
                             wall_ticks, physics, plans)
        scores[lo:hi] = s
        if out_plans is not None:
            out_plans.extend(p)
    return scores, out_plans


def _search_chunk(start: np.ndarray, gap_y: np.ndarray, half: np.ndarray, v0: np.ndarray,
                  wall_ticks: int, p: Physics, plans: bool
                  ) -> tuple[np.ndarray, list[list[int]]]:
    n_courses, n_gates = start.shape
    cols = np.arange(n_courses)
    end = start + (wall_ticks - 1)
    finish = end[:, -1]
    y_scale = 2.0 ** (_Y_BITS - 2) / p.edge
    gate = np.zeros(n_courses, dtype=np.int64)
    done = np.zeros(n_courses, dtype=bool)
    # Per course: the last tick with a survivor, and one of its states after that tick.
    last_tick = np.zeros(n_courses, dtype=np.int64)
    last_state = np.zeros(n_courses, dtype=np.int64)
    # States after the previous tick's action: course, height, speed, fall-count code.
    cid = cols.copy()
    y = np.zeros(n_courses)
    v = v0.copy()
    code = np.full(n_courses, _PRE_JUMP, dtype=np.int64)
    parents: list[np.ndarray] = []
    actions: list[np.ndarray] = []
    t = 0
    while cid.size:
        t += 1
        y = y + v
        g = np.minimum(gate, n_gates - 1)
        in_wall = t >= start[cols, g]
        # The simulation's own checks with the same float operations: edge, then the gap.
        dead = np.abs(y) > p.edge
        dead |= in_wall[cid] & (np.abs(y - gap_y[cols, g][cid]) > half[cols, g][cid])
        dead |= done[cid]
        keep = np.flatnonzero(~dead)
        cid, y, v, code = cid[keep], y[keep], v[keep], code[keep]
        if not cid.size:
            break
        has = np.zeros(n_courses, dtype=bool)
        has[cid] = True
        last_tick[has] = t
        passed = has & (t == end[cols, g])
        gate += passed
        done |= passed & (t == finish)
        # Both actions from every survivor, then equal states merged.
        n = cid.size
        cid = np.concatenate((cid, cid))
        y = np.concatenate((y, y))
        v = np.concatenate((np.full(n, p.v_jump), v - p.gravity))
        fell = np.where(code == _PRE_JUMP, _PRE_JUMP, code + 1)
        if fell.max(initial=0) == _PRE_JUMP - 1:
            raise OverflowError("too many falls in a row to code; physics out of range")
        code = np.concatenate((np.zeros(n, dtype=np.int64), fell))
        key = ((cid << _CODE_BITS) + code) << _Y_BITS
        key += np.rint(y * y_scale).astype(np.int64) + (1 << (_Y_BITS - 1))
        order = np.argsort(key, kind="stable")
        sk = key[order]
        first = np.empty(sk.size, dtype=bool)
        first[0] = True
        np.not_equal(sk[1:], sk[:-1], out=first[1:])
        pick = order[first]
        cid, y, v, code = cid[pick], y[pick], v[pick], code[pick]
        if plans:
            parents.append(keep[pick % n])
            actions.append(np.where(pick < n, JUMP, FALL).astype(np.int8))
            # Sorted keys put each course's states together: note the first of each.
            heads = np.flatnonzero(np.r_[True, cid[1:] != cid[:-1]])
            last_state[cid[heads]] = heads
    out: list[list[int]] = []
    if plans:
        out = [_backtrack(parents, actions, int(last_tick[c]), int(last_state[c]))
               for c in range(n_courses)]
    return gate, out


def _backtrack(parents: list[np.ndarray], actions: list[np.ndarray], last: int,
               i: int) -> list[int]:
    """Actions for ticks 1..last leading to state ``i`` after tick ``last``."""
    plan = [0] * last
    for t in range(last, 0, -1):
        plan[t - 1] = int(actions[t - 1][i])
        i = int(parents[t - 1][i])
    return plan


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
    """Best scores and, per course, an action list (ticks 1..T) that achieves it."""
    start, gap_y, half = make_courses(np.asarray(course_seeds), n_gates, rules)
    scores, plans = search(start, gap_y, half, v_y0, rules.wall_ticks, physics, plans=True)
    assert plans is not None
    return scores, plans


def oracle_plan(course_seed: int, n_gates: int, v_y0: float = 0.0,
                rules: CourseRules = RULES, physics: Physics = PHYSICS) -> list[int]:
    """An action list that scores the best possible on one seeded course.

    Replayed from the run's start (``ArcadeWorld.reset(course_seed=..., v_y=v_y0)``),
    it passes ``oracle_scores`` gates; it covers ticks 1..T, T being the last tick any
    path survives (the end of the course when every gate can be passed).
    """
    return oracle_plans(np.array([course_seed]), n_gates, np.array([v_y0]), rules, physics)[1][0]
