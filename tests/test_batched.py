"""Batched worlds against N scalar worlds: bit for bit, through autoresets."""

from __future__ import annotations

import numpy as np
import pytest

from game import ArcadeBatch, ArcadeWorld, ClassicBatch, ClassicWorld
from game.sim.arcade import CourseRules, make_course, make_courses
from game.sim.oracle import oracle_plans


def bits(a: np.ndarray) -> bytes:
    """Exact bytes, so -0.0 vs 0.0 or a last-bit difference fails the comparison."""
    return np.ascontiguousarray(a).tobytes()


def test_classic_batch_equals_scalar_worlds_through_autoresets() -> None:
    n, rng = 64, np.random.default_rng(0)
    batch = ClassicBatch(n, seed=1)
    worlds = [ClassicWorld(seed=0) for _ in range(n)]
    for i, w in enumerate(worlds):
        w.reset(v_y=float(batch.v_y[i]))
    assert bits(batch.observation()) == bits(np.stack([w.observation() for w in worlds]))
    ends = wins = 0
    for _ in range(400):
        # Jumping more often than not lets some flights reach the right edge.
        actions = (rng.random(n) < 0.62).astype(np.int64)
        obs, rewards, terminated = batch.step(actions)
        results = [w.step(int(a)) for w, a in zip(worlds, actions, strict=True)]
        assert bits(rewards) == bits(np.float32([r for r, _ in results]))
        assert terminated.tolist() == [d for _, d in results]
        for i in np.flatnonzero(terminated):
            assert bits(batch.final_obs[i]) == bits(worlds[i].observation())
            ends += 1
            wins += rewards[i] == 1.0
            # The batch drew the new run's speed; a scalar world given it must follow.
            worlds[i].reset(v_y=float(batch.v_y[i]))
            assert batch.x[i] == -1.0 and batch.y[i] == 0.0 and batch.t[i] == 0
        assert bits(obs) == bits(np.stack([w.observation() for w in worlds]))
        assert bits(batch.x) == bits(np.array([w.x for w in worlds]))
    assert ends > 200 and wins > 5


def test_classic_batch_judges_the_right_edge_first() -> None:
    # Each row hovers, then falls from tick k: some leave the field exactly on tick 40.
    ks = np.tile(np.arange(30, 40), 3)
    batch = ClassicBatch(ks.size, seed=0, autoreset=False)
    batch.reset(v_y=np.repeat([0.0, 0.07, -0.05], 10))
    alive = np.ones(ks.size, dtype=bool)
    for tick in range(40):
        actions = np.where(tick < ks, (batch.y < 0.0).astype(np.int64), 0)
        _, rewards, terminated = batch.step(actions)
        if tick < 39:
            assert (rewards[terminated & alive] == -1.0).all()
            alive &= ~terminated
    assert terminated.all() and (rewards[alive] == 1.0).all()
    assert (alive & (batch.y < -1.0)).sum() >= 2


def test_classic_batch_without_autoreset_keeps_final_state() -> None:
    batch = ClassicBatch(8, seed=2, autoreset=False)
    world = ClassicWorld()
    world.reset(v_y=float(batch.v_y[3]))
    for _ in range(6):
        obs, _, terminated = batch.step(np.zeros(8, dtype=np.int64))
        world.step(0)
    assert terminated[3] and world.done
    assert bits(obs[3]) == bits(world.observation())


def test_classic_batch_is_seeded() -> None:
    acts = np.random.default_rng(5).integers(0, 2, (100, 32))
    runs = []
    for _ in range(2):
        batch = ClassicBatch(32, seed=9)
        runs.append(b"".join(bits(batch.step(a)[0]) for a in acts))
    assert runs[0] == runs[1]


def _arcade_pair(n: int, n_gates: int, seed: int, rules: CourseRules | None = None):
    kw = {} if rules is None else {"rules": rules}
    batch = ArcadeBatch(n, seed=seed, n_gates=n_gates, **kw)
    worlds = [ArcadeWorld(seed=0, n_gates=n_gates, **kw) for _ in range(n)]
    for i, w in enumerate(worlds):
        w.reset(course_seed=int(batch.course_seed[i]), v_y=float(batch.v_y[i]))
    return batch, worlds


def test_arcade_batch_equals_scalar_worlds_through_gates_and_autoresets() -> None:
    n, n_gates, rng = 48, 4, np.random.default_rng(1)
    batch, worlds = _arcade_pair(n, n_gates, seed=3)
    # Half the flyers follow the oracle's plans (one action per decision), slightly noisy,
    # so gates are passed, courses are finished and crashes happen at every stage; the
    # rest act at random.
    _, plans = oracle_plans(batch.course_seed, n_gates, batch.v_y.copy())
    follow = np.arange(n) < n // 2
    decisions = np.zeros(n, dtype=np.int64)
    assert bits(batch.observation()) == bits(np.stack([w.observation() for w in worlds]))
    finished = crashed = passed = 0
    for _ in range(1500):
        actions = (rng.random(n) < 0.3).astype(np.int64)
        for i in np.flatnonzero(follow):
            k = decisions[i]
            if k < len(plans[i]) and rng.random() > 0.002:
                actions[i] = plans[i][k]
        obs, rewards, terminated = batch.step(actions)
        results = [w.step(int(a)) for w, a in zip(worlds, actions, strict=True)]
        decisions += 1
        assert bits(rewards) == bits(np.float32([r for r, _ in results]))
        assert terminated.tolist() == [d for _, d in results]
        passed += int((rewards == 1.0).sum())
        for i in np.flatnonzero(terminated):
            assert bits(batch.final_obs[i]) == bits(worlds[i].observation())
            assert batch.final_score[i] == worlds[i].score
            finished += worlds[i].score == n_gates
            crashed += rewards[i] == -1.0
            worlds[i].reset(course_seed=int(batch.course_seed[i]), v_y=float(batch.v_y[i]))
            follow[i] = False
            decisions[i] = 0
        assert bits(obs) == bits(np.stack([w.observation() for w in worlds]))
        assert batch.score.tolist() == [w.score for w in worlds]
        assert batch.gate.tolist() == [w.gate for w in worlds]
        assert batch.t.tolist() == [w.t for w in worlds]
    assert finished >= n // 4 and crashed > 1000 and passed > 3 * n


def test_a_decision_is_one_tick_of_the_action_then_falls_until_the_run_ends() -> None:
    rng = np.random.default_rng(4)
    for seed in range(20):
        a, b = ArcadeWorld(n_gates=3), ArcadeWorld(n_gates=3)
        a.reset(course_seed=seed, v_y=0.0)
        b.reset(course_seed=seed, v_y=0.0)
        while not a.done:
            action = int(rng.random() < 0.3)
            reward, done = a.step(action)
            want, ticks = 0.0, 0
            for k in range(b.decision_ticks):
                r, end = b.tick(action if k == 0 else 0)
                want, ticks = want + r, ticks + 1
                if end:
                    break
            assert (reward, done) == (want, end)
            assert (a.t, a.y, a.v_y, a.score) == (b.t, b.y, b.v_y, b.score)
            assert a.t % a.decision_ticks == 0 or a.done
    assert a.decision_ticks == 4 and ClassicWorld().decision_ticks == 1


def test_arcade_batch_reset_takes_given_courses_and_speeds() -> None:
    seeds, v_y = np.array([7, 8, 9]), np.array([5, -7, 0]) / 1024
    batch = ArcadeBatch(3, seed=0, n_gates=10)
    obs = batch.reset(course_seeds=seeds, v_y=v_y)
    for i in range(3):
        world = ArcadeWorld(n_gates=10)
        assert bits(obs[i]) == bits(world.reset(course_seed=int(seeds[i]), v_y=float(v_y[i])))
        assert batch.gate_start[0, i] == make_course(int(seeds[i]), 10).start[0]


def test_arcade_batch_with_other_rules_matches_scalar_worlds() -> None:
    rules = CourseRules(first_gate_tick=10, wall_ticks=3, spacing_start_ticks=12,
                        spacing_min_ticks=8, half_gap_start=0.5, half_gap_min=0.3, ramp_gates=3)
    batch, worlds = _arcade_pair(16, 6, seed=4, rules=rules)
    rng = np.random.default_rng(2)
    for _ in range(300):
        actions = (rng.random(16) < 0.3).astype(np.int64)
        obs, rewards, terminated = batch.step(actions)
        results = [w.step(int(a)) for w, a in zip(worlds, actions, strict=True)]
        assert bits(rewards) == bits(np.float32([r for r, _ in results]))
        for i in np.flatnonzero(terminated):
            worlds[i].reset(course_seed=int(batch.course_seed[i]), v_y=float(batch.v_y[i]))
        assert bits(obs) == bits(np.stack([w.observation() for w in worlds]))


def test_rules_whose_walls_a_decision_could_straddle_are_refused() -> None:
    rules = CourseRules(first_gate_tick=6, wall_ticks=2, spacing_start_ticks=6,
                        spacing_min_ticks=4)
    for make in (lambda: ArcadeBatch(2, rules=rules), lambda: ArcadeWorld(rules=rules)):
        with pytest.raises(ValueError, match="at least 4 ticks apart"):
            make()


def test_courses_are_pure_prefix_stable_and_the_same_everywhere() -> None:
    seeds = np.array([0, 1, 2**62, -5])
    start, gap_y, half = make_courses(seeds, 30)
    for row, seed in enumerate(seeds):
        course = make_course(int(seed), 30)
        longer = make_course(int(seed), 60)
        assert bits(course.start) == bits(start[row]) == bits(longer.start[:30])
        assert bits(course.gap_y) == bits(gap_y[row]) == bits(longer.gap_y[:30])
        assert bits(course.half_gap) == bits(half[row]) == bits(longer.half_gap[:30])
        # Gaps sit on the sub-unit grid, so the oracle's integer heights are exact.
        assert np.array_equal(np.rint(course.gap_y * 1024) / 1024, course.gap_y)
        assert np.array_equal(np.rint(course.half_gap * 1024) / 1024, course.half_gap)
    assert len({bits(g) for g in gap_y}) == len(seeds)


def test_endless_world_grows_its_course_without_changing_it() -> None:
    world = ArcadeWorld(seed=0, n_gates=None)
    world.reset(course_seed=21, v_y=0.0)
    first = world.course.gap_y.copy()
    _, plans = oracle_plans(np.array([21]), 250, np.array([0.0]))
    for a in plans[0]:
        world.step(a)
    assert world.score == 250 and not world.done and world.course.n_gates > first.size
    assert bits(world.course.gap_y[: first.size]) == bits(first)
