"""The arcade oracle: every generated course is passable, plans replay, impossible is seen."""

from __future__ import annotations

import itertools

import numpy as np

from game import ArcadeBatch, ArcadeWorld, make_course
from game.sim.arcade import PHYSICS, Course, CourseRules
from game.sim.oracle import oracle_plan, oracle_plans, oracle_scores, search


def start_speeds(rng: np.random.Generator, n: int) -> np.ndarray:
    """Initial speeds as runs really start (field units per tick)."""
    return np.asarray(PHYSICS.start_speeds)[rng.integers(len(PHYSICS.start_speeds), size=n)] \
        * PHYSICS.unit


def replay_scores(seeds: np.ndarray, n_gates: int, v_y0: np.ndarray,
                  plans: list[list[int]], rules: CourseRules | None = None) -> np.ndarray:
    """Each plan flown in one ArcadeBatch, one action per decision; the score when its run
    first ends or the plan does."""
    kw = {} if rules is None else {"rules": rules}
    batch = ArcadeBatch(len(seeds), seed=0, n_gates=n_gates, autoreset=False, **kw)
    batch.reset(course_seeds=seeds, v_y=v_y0)
    length = max(len(p) for p in plans)
    actions = np.zeros((length, len(seeds)), dtype=np.int64)
    for i, plan in enumerate(plans):
        actions[: len(plan), i] = plan
    lens = np.array([len(p) for p in plans])
    score = np.zeros(len(seeds), dtype=np.int64)
    ended = np.zeros(len(seeds), dtype=bool)
    for k in range(length):
        _, _, terminated = batch.step(actions[k])
        live = ~ended
        score[live] = batch.score[live]
        ended |= terminated | (k + 1 >= lens)
    return score


def test_oracle_passes_every_gate_on_1000_courses_and_its_plans_do_too() -> None:
    rng = np.random.default_rng(2024)
    seeds = rng.integers(2**63 - 1, size=1000)
    v_y0 = start_speeds(rng, 1000)
    scores, plans = oracle_plans(seeds, 100, v_y0)
    assert (scores == 100).all()
    # The score-only search (no backtracking) agrees; a sample keeps this test fast.
    assert np.array_equal(oracle_scores(seeds[:100], 100, v_y0[:100]), scores[:100])
    assert (replay_scores(seeds, 100, v_y0, plans) == 100).all()
    # The scalar world too, on a few of them: the plan ends on the decision of the last gate.
    for i in range(0, 1000, 97):
        world = ArcadeWorld(n_gates=100)
        world.reset(course_seed=int(seeds[i]), v_y=float(v_y0[i]))
        for a in plans[i]:
            world.step(a)
        assert world.done and world.score == 100
        assert len(plans[i]) == -(-world.t // world.decision_ticks)


def test_oracle_plan_for_one_course_and_default_speed() -> None:
    plan = oracle_plan(123, 20)
    world = ArcadeWorld(n_gates=20)
    world.reset(course_seed=123, v_y=0.0)
    for a in plan:
        world.step(a)
    assert world.score == 20 and world.done
    assert oracle_scores(np.array([123]), 20).tolist() == [20]


def _impossible_at(seed: int, n_gates: int, k: int, how: str) -> Course:
    c = make_course(seed, n_gates)
    start, gap_y, half = c.start.copy(), c.gap_y.copy(), c.half_gap.copy()
    if how == "outside":
        # A gap wholly above the field.
        gap_y[k], half[k] = 1.5, 0.3
    else:
        # Gate k starts 12 ticks after gate k-1 ends, its gap 0.8 higher: leaving gate k-1
        # below -0.06 and climbing 0.0195 a tick at most, the flyer is below 0.18 when it
        # must be above 0.75. (Off the sub-unit grid on purpose: the oracle must judge such
        # gaps with the world's own float test.)
        gap_y[k - 1], half[k - 1] = -0.5, 0.44
        start[k:] += start[k - 1] + c.rules.wall_ticks + 12 - start[k]
        gap_y[k], half[k] = 0.8, 0.05
    return Course(start, gap_y, half, seed, c.rules)


def test_oracle_reports_the_lower_score_on_impossible_courses() -> None:
    courses = [_impossible_at(s, 12, k, how)
               for s, k, how in [(1, 0, "outside"), (2, 5, "outside"), (3, 4, "climb"),
                                 (4, 11, "climb"), (5, 1, "climb")]]
    want = [0, 5, 4, 11, 1]
    v_y0 = np.array([0, 5, -7, 9, 1]) * PHYSICS.unit
    scores, plans = search(np.stack([c.start for c in courses]),
                           np.stack([c.gap_y for c in courses]),
                           np.stack([c.half_gap for c in courses]), v_y0, plans=True)
    assert scores.tolist() == want
    for course, plan, best, v in zip(courses, plans, want, v_y0, strict=True):
        # The plan reaches the best score in the real world; nothing gets past the block.
        world = ArcadeWorld(n_gates=12)
        world.reset(course=course, v_y=float(v))
        for a in plan:
            world.step(a)
        assert world.score == best and not world.done
        for a in (0, 1):
            probe = ArcadeWorld(n_gates=12)
            probe.reset(course=course, v_y=float(v))
            for b in plan:
                probe.step(b)
            probe.step(a)
            assert probe.done and probe.score == best


def test_oracle_equals_brute_force_over_every_action_sequence() -> None:
    # Tiny, tight courses (short spacing, narrow gaps, big shifts) on which some seeds are
    # impossible: the ArcadeBatch flies all 2**D decision sequences, the oracle must agree.
    rules = CourseRules(first_gate_tick=10, wall_ticks=4, spacing_start_ticks=10,
                        spacing_min_ticks=10, spacing_jitter_ticks=3, half_gap_start=0.06,
                        half_gap_min=0.06, ramp_gates=2, max_shift=0.5, edge_margin=0.0)
    n_gates, seeds = 3, np.arange(12)
    v_y0 = start_speeds(np.random.default_rng(7), seeds.size)
    scores, plans = oracle_plans(seeds, n_gates, v_y0, rules=rules)
    found = []
    for seed, v in zip(seeds, v_y0, strict=True):
        last = int(make_course(int(seed), n_gates, rules).end[-1])
        decisions = -(-last // PHYSICS.decision_ticks)
        every = np.array(list(itertools.product((0, 1), repeat=decisions)), dtype=np.int64)
        found.append(int(replay_scores(np.full(len(every), seed), n_gates,
                                       np.full(len(every), v), list(every), rules).max()))
    assert scores.tolist() == found
    assert min(found) == 0 and max(found) == n_gates  # every kind of course occurs
    assert replay_scores(seeds, n_gates, v_y0, plans, rules).tolist() == found


def test_the_shipped_oracle_scores_are_the_oracle_s_and_cover_the_skill_meter_s_sets():
    from game.sim import oracle
    from game.sim.evaluation import EVAL_SEED, VALIDATION_SEED
    from game.sim.levels import ARCADE

    shipped = oracle._shipped()
    for seed in (EVAL_SEED, VALIDATION_SEED):  # the sets every skill reading flies
        key = oracle.shipped_key("arcade", ARCADE.physics_version, ARCADE.eval_gates, 100, seed)
        assert key in shipped
    for key in shipped:
        level, version, gates, episodes, seed = key.split("_")
        assert level == "arcade" and int(version[1:]) == ARCADE.physics_version
        assert int(gates[1:]) == ARCADE.eval_gates
        computed = ARCADE.oracle(int(episodes[1:]), int(seed[1:]), shipped=False)
        assert np.array_equal(ARCADE.oracle(int(episodes[1:]), int(seed[1:])), computed)
        assert shipped[key].dtype == computed.dtype
    assert oracle.shipped_scores("arcade_v0_g1_n1_s1") is None  # any other set is computed
