"""The V overlay's thinking, headless: plans are what the worlds do, the oracle's are feasible
and never worse, the policy map is the policy."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from game.play import thinking
from game.play.session import Session
from game.play.thinking import (
    Thinker,
    best_path,
    oracle_gates,
    oracle_path,
    planned_path,
    policy_map,
    world_of,
)
from game.sim.actions import FALL, JUMP
from game.sim.arcade import ArcadeBatch, ArcadeWorld
from game.sim.classic import ClassicBatch, ClassicWorld
from game.sim.levels import LEVELS
from game.sim.oracle import oracle_plan, oracle_scores, plan_from, search
from game.wiring.learning import load_pilot, new_learner, pretrained_path


@pytest.fixture(scope="module")
def arcade_pilot():
    return load_pilot(pretrained_path("arcade"), LEVELS["arcade"])[0].act_batch


@pytest.fixture(scope="module")
def classic_pilot():
    return load_pilot(pretrained_path("classic"), LEVELS["classic"])[0].act_batch


def poor(obs: np.ndarray) -> np.ndarray:
    """A poor but deterministic arcade pilot: it jumps unless the gap is well below it, so
    it often hits the top of a gap (it crashes within 25-200 decisions on most courses)."""
    return ((obs[:, 3] > -0.25) | (obs[:, 0] < -0.6)).astype(np.int64)


def states(pilot, seeds=range(6), every=7, decisions=300):
    """Arcade worlds in the middle of runs flown by ``pilot`` (alive, at decision starts)."""
    for seed in seeds:
        w = ArcadeWorld(seed, n_gates=None)
        for k in range(decisions):
            if k % every == 3:
                yield copy.deepcopy(w)
            if w.step(int(pilot(w.observation()[None])[0]))[1]:
                break


def test_the_planned_path_is_the_world_stepped_with_the_policy(arcade_pilot):
    n = 0
    for w in states(arcade_pilot, seeds=range(3), every=17):
        before = (w.t, w.y, w.v_y, w.gate)
        for forced in (0, 3):
            path = planned_path(w, arcade_pilot, 15, forced=forced)
            ref = copy.deepcopy(w)
            ys, ts = [], []
            for _ in range(forced):
                ref.tick(FALL)
                ys.append(ref.y)
                ts.append(ref.t)
            for a in path.actions:
                assert a == int(arcade_pilot(ref.observation()[None])[0])
                gates = ref.score
                ref.step(a)
                ys.append(ref.y)
                ts.append(ref.t)
                if ref.done:
                    break
            assert (w.t, w.y, w.v_y, w.gate) == before  # the world itself did not move
            assert path.t[-1] == ref.t and path.y[-1] == ref.y
            ends = np.searchsorted(path.t, ts)
            assert np.array_equal(path.y[ends], ys)
            assert path.gates == ref.score - w.score
            assert path.crashed == (ref.done and ref.score == gates)
            assert len(path.actions) == 15 or ref.done
            n += 1
    assert n > 20


def test_a_plan_from_a_batch_flyer_is_what_the_batch_flies(arcade_pilot, classic_pilot):
    for b, pilot, d in ((ArcadeBatch(6, seed=3, n_gates=40, autoreset=False), arcade_pilot, 4),
                        (ClassicBatch(6, seed=3, autoreset=False), classic_pilot, 1)):
        obs = b.observation()
        for _ in range(30 if d == 4 else 5):
            obs = b.step(pilot(obs))[0]
        plans = [planned_path(world_of(b, i), pilot, 10) for i in range(b.n)]
        ts, ys, acts = [], [], []
        for _ in range(10):
            a = pilot(obs)
            obs = b.step(a)[0]
            acts.append(a)
            ts.append(b.t.copy())
            ys.append(b.y.copy())
        crashes = 0
        for i, p in enumerate(plans):
            k = len(p.actions)  # a flyer that ended is not flown on (the batch does not stop)
            assert list(p.actions) == [int(a[i]) for a in acts[:k]]
            at = np.searchsorted(p.t, [t[i] for t in ts[:k]])
            assert np.array_equal(p.t[at], [t[i] for t in ts[:k]])
            assert np.array_equal(p.y[at], [y[i] for y in ys[:k]])
            crashes += p.crashed
        assert d == 1 or crashes < b.n


def test_plan_from_is_the_vectorised_oracle_from_the_same_state(arcade_pilot):
    n = 0
    for policy in (arcade_pilot, poor):
        for w in states(policy, seeds=range(4)):
            start, gy, half = oracle_gates(w, 60)
            best, plan = plan_from(start, gy, half, w.y, w.v_y)
            ref, _ = search(start[None], gy[None], half[None], np.array([w.v_y]),
                            y_0=np.array([w.y]))
            assert best == ref[0]
            replay = copy.deepcopy(w)
            for a in plan:
                replay.step(a)
            assert replay.score - w.score == best
            n += 1
    assert n > 50


def test_plan_from_the_start_of_a_run_is_the_oracle():
    seeds = np.arange(12)
    v0 = np.array([9, 5, 1, -3, -7, 5] * 2) / 1024
    best = oracle_scores(seeds, 8, v0)
    for seed, v, b in zip(seeds.tolist(), v0.tolist(), best.tolist(), strict=True):
        w = ArcadeWorld(0, n_gates=8)
        w.reset(course_seed=seed, v_y=v)
        c = w.course
        score, plan = plan_from(c.start, c.gap_y, c.half_gap, 0.0, v)
        assert score == b
        for a in plan:
            w.step(a)
        assert w.score == b


def test_the_oracle_path_is_feasible_and_never_worse_than_the_greedy_one(arcade_pilot):
    better = 0
    n = 0
    for policy in (arcade_pilot, poor):
        for w in states(policy, seeds=range(5)):
            greedy = planned_path(w, policy, 15)
            best = oracle_path(w, 15)
            # replayed on the world, it passes what it says, within the horizon and beyond
            replay = copy.deepcopy(w)
            for a in best.actions:
                replay.step(a)
            assert replay.score - w.score == best.gates
            assert replay.y == best.y[-1] and not best.crashed
            assert best.gates >= greedy.gates
            assert best.promised >= best.gates
            better += best.gates > greedy.gates or (greedy.crashed and not best.crashed)
            n += 1
    assert n > 50 and better > 0  # the poor pilot crashes where the oracle flies on


def test_the_oracle_path_from_inside_a_wall_and_mid_decision():
    plan = oracle_plan(11, 3, 5 / 1024)
    w = ArcadeWorld(0, n_gates=3)
    w.reset(course_seed=11, v_y=5 / 1024)
    k = 0
    while w.t < w.course.start[0] + 2:  # inside the first wall
        w.step(plan[k])
        k += 1
    w.tick(plan[k])  # one tick into a decision: three FALL ticks are left of it
    path = oracle_path(w, 15, forced=3)
    # it sees the wall it is in and the next gate (the one after the horizon), passes both
    # on its plan, and the wall it is in within the horizon
    assert w.score == 0 and path.promised == 2 and path.gates == 1
    assert path.t[0] == w.t + 1 and not path.crashed


def test_the_best_classic_path_survives_where_any_sequence_does(classic_pilot):
    rng = np.random.default_rng(0)
    for _ in range(30):
        w = ClassicWorld(int(rng.integers(1000)))
        for _ in range(int(rng.integers(0, 30))):
            if w.step(int(rng.integers(2)))[1]:
                break
        if w.done:
            continue
        best = best_path(w, 6)
        greedy = planned_path(w, classic_pilot, 6)
        # brute force on the scalar world: does any sequence survive the six ticks?
        survives = False
        for code in range(64):
            ref = copy.deepcopy(w)
            ok = True
            for k in range(6):
                r, done = ref.step((code >> k) & 1)
                if done:
                    ok = r > 0
                    break
            survives |= ok
        assert (not best.crashed) == survives
        assert len(best) >= len(greedy) or not greedy.crashed
        replay = copy.deepcopy(w)
        for a in best.actions:
            replay.step(a)
        assert replay.y == best.y[-1]


def test_the_policy_map_is_the_policy_at_sample_points():
    learner = new_learner(LEVELS["classic"], seed=4)
    m = policy_map(learner.greedy_batch, cells=48)
    ys, vs = thinking.map_axes(48)
    rng = np.random.default_rng(1)
    for i, j in rng.integers(48, size=(40, 2)).tolist():
        obs = np.array([[ys[i], vs[j]]], dtype=np.float32)
        assert m[i, j] == int(learner.greedy_batch(obs)[0])
    assert set(np.unique(m).tolist()) <= {FALL, JUMP}
    # a policy that jumps below the middle: the map's lower half jumps, the upper falls
    low = policy_map(lambda o: (o[:, 0] < 0).astype(np.int64), cells=8)
    assert (low[:4] == JUMP).all() and (low[4:] == FALL).all()


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_the_thinker_plans_once_per_refresh_and_follows_the_flock(arcade_pilot):
    learner = new_learner(LEVELS["arcade"], seed=3)
    s = Session("arcade", seed=5, learner=learner, pilot="autopilot", flock=4)
    clock = Clock()
    th = Thinker(courses=True, clock=clock)
    for _ in range(8):
        s.advance(1 / 60)
    assert th.update(s, learner.greedy_batch)
    first = th.thought.planned
    assert first is not None and th.thought.best is not None
    assert not th.update(s, learner.greedy_batch)  # the same state: nothing new
    for _ in range(4):
        s.advance(1 / 60)
    assert not th.update(s, learner.greedy_batch)  # a new decision, but too soon
    clock.t += thinking.PLAN_EVERY_S
    assert th.update(s, learner.greedy_batch)
    fp = s.flock
    i = fp.focus
    b = fp.flock.batch
    ref = planned_path(world_of(b, i), learner.greedy_batch, 15)
    assert np.array_equal(th.thought.planned.y, ref.y)
    assert th.thought.prefix is not None and th.thought.prefix.t[-1] == b.t[i]
    assert th.thought.planned.t[0] == b.t[i] + 1
    assert set(th.thought.cost_s) == {"planned", "oracle"}


def test_the_thinker_maps_the_classic_policy_and_waits_out_a_crash():
    learner = new_learner(LEVELS["classic"], seed=3)
    s = Session("classic", seed=5, learner=learner, pilot="human")
    clock = Clock()
    th = Thinker(courses=False, clock=clock)
    assert th.update(s, learner.greedy_batch)  # ready: a plan from the start, and the map
    assert th.thought.map is not None and th.thought.map.shape == (48, 48)
    assert th.thought.planned is None  # ready is not flying
    s.press_jump()
    s.advance(0.1)
    clock.t += 1.0
    th.update(s, learner.greedy_batch)
    assert th.thought.planned is not None and th.thought.best is not None
    col, row = th.thought.point
    assert 0.0 <= col <= 1.0 and 0.0 <= row <= 1.0
    while s.phase.name == "FLYING":  # FALL until the crash
        s.advance(0.1)
    clock.t += 1.0
    th.update(s, learner.greedy_batch)
    assert th.thought.planned is None and th.thought.best is None


def test_the_nearest_set_bit_is_found_on_either_side():
    from game.sim.oracle import _nearest

    rng = np.random.default_rng(2)
    for _ in range(500):
        bits = int(rng.integers(1, 2**40))
        target = int(rng.integers(-2, 45))
        ref = min((i for i in range(41) if bits >> i & 1), key=lambda i: (abs(i - target), i))
        assert _nearest(bits, target) == ref


def test_the_overlay_is_remembered_and_older_settings_files_load(tmp_path):
    from game.wiring import prefs as settings

    (tmp_path / settings.FILE_NAME).write_text('{"format": 1, "muted": true}')  # before V
    assert settings.load(tmp_path) == (settings.Settings(muted=True, think=False), None)
    settings.save(tmp_path, settings.Settings(think=True))
    assert settings.load(tmp_path) == (settings.Settings(think=True), None)
    (tmp_path / settings.FILE_NAME).write_text('{"format": 1, "muted": false, "think": 1}')
    got, problem = settings.load(tmp_path)
    assert got == settings.Settings() and "'think' is not true or false" in problem
    assert len(list(tmp_path.glob("settings.json.corrupt-*"))) == 1
