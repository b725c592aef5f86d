"""The classic level against a reference written from the seed notebook's ``Agent.step``."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from game import FALL, JUMP, ClassicBatch, ClassicWorld


class SeedFlyer:
    """The seed's ``Agent`` with the brain taken out: same fields, same order, Python floats."""

    def __init__(self, v_y: float) -> None:
        self.v_x, self.v_jump, self.g = 0.05, 0.2, 0.2
        self.x = -1  # the seed starts from ints
        self.y = 0
        self.v_y = v_y

    def step(self, action: int) -> tuple[int, bool]:
        self.x += self.v_x
        self.y += self.v_y
        reward, terminal = 0, False
        if self.x > 1.0:
            reward, terminal = 1, True
        elif self.y < -1.0 or self.y > 1.0:
            reward, terminal = -1, True
        if action == 0:
            self.v_y -= self.g
        else:
            self.v_y = self.v_jump
        return reward, terminal


def hover(y: float) -> int:
    """A pilot that survives the crossing: jump whenever below the middle."""
    return JUMP if y < 0.0 else FALL


speeds = st.floats(-0.5, 0.5, allow_nan=False)
action_lists = st.lists(st.integers(0, 1), min_size=1, max_size=60)


@settings(max_examples=300, deadline=None)
@given(v_y=speeds, actions=action_lists)
def test_world_matches_seed_number_for_number(v_y: float, actions: list[int]) -> None:
    ref, world = SeedFlyer(v_y), ClassicWorld(seed=0)
    world.reset(v_y=v_y)
    for tick, action in enumerate(actions, start=1):
        want = ref.step(action)
        got = world.step(action)
        assert got == want
        assert (world.x, world.y, world.v_y, world.t) == (ref.x, ref.y, ref.v_y, tick)
        assert world.observation().tolist() == np.float32([ref.y, ref.v_y]).tolist()
        if want[1]:
            # A run that survived to the end reaches the right edge on tick 40, no sooner.
            assert (want[0] == 1) == (tick == 40)
            break


@settings(max_examples=100, deadline=None)
@given(v_y=st.floats(-0.15, 0.15, allow_nan=False))
def test_surviving_flight_reaches_right_edge_on_tick_40(v_y: float) -> None:
    ref, world = SeedFlyer(v_y), ClassicWorld(seed=0)
    world.reset(v_y=v_y)
    while not world.done and world.t < 100:
        action = hover(world.y)
        assert world.step(action) == ref.step(action)
    assert world.done
    assert (world.t, world.x, world.y, world.v_y) == (40, ref.x, ref.y, ref.v_y)
    assert world.x > 1.0 > world.x - 0.05


def test_right_edge_is_judged_before_top_and_bottom() -> None:
    # Hover, then fall from tick k on: for some k the flyer is below the floor exactly on
    # tick 40, when it also crosses the right edge. The seed pays +1 for that.
    both = 0
    for v_y in (0.0, 0.07, -0.05):
        for k in range(30, 40):
            ref, world = SeedFlyer(v_y), ClassicWorld(seed=0)
            world.reset(v_y=v_y)
            while not world.done:
                action = hover(world.y) if world.t < k else FALL
                assert world.step(action) == ref.step(action)
            assert (world.y, world.v_y) == (ref.y, ref.v_y)
            if world.t == 40 and world.y < -1.0:
                assert world.x > 1.0
                both += 1
    assert both >= 3


def test_initial_speed_is_drawn_from_normal_with_sigma_0_1() -> None:
    world = ClassicWorld(seed=3)
    speeds = np.array([world.reset()[1] for _ in range(4000)])
    assert abs(speeds.mean()) < 0.01
    assert abs(speeds.std() - 0.1) < 0.005
    assert world.observation().dtype == np.float32


def test_same_seed_same_rollout_and_different_seed_differs() -> None:
    def rollout(seed: int) -> list[tuple]:
        world, acts = ClassicWorld(seed=seed), np.random.default_rng(99).integers(0, 2, 500)
        trace = []
        for a in acts:
            reward, done = world.step(int(a))
            trace.append((world.y, world.v_y, reward, done))
            if done:
                world.reset()
        return trace

    assert rollout(11) == rollout(11)
    assert rollout(11) != rollout(12)


def test_reset_with_seed_restarts_the_generator() -> None:
    world = ClassicWorld()
    first = [world.reset(seed=5)[1]] + [world.reset()[1] for _ in range(3)]
    again = [world.reset(seed=5)[1]] + [world.reset()[1] for _ in range(3)]
    assert first == again
    assert len(set(first)) == 4


def test_global_numpy_random_state_is_untouched() -> None:
    np.random.seed(1234)
    before = np.random.get_state()
    world, batch = ClassicWorld(), ClassicBatch(64)
    for _ in range(200):
        if world.step(JUMP)[1]:
            world.reset()
        batch.step(np.zeros(64, dtype=np.int64))
    after = np.random.get_state()
    assert after[0] == before[0] and after[2:] == before[2:]
    assert np.array_equal(after[1], before[1])
