"""Arcade physics v2: its constants, its exact grid, its feel, and refusal of v1 pilots."""

from __future__ import annotations

import numpy as np
import pytest

import game.sim.arcade as arcade
import game.sim.classic as classic
from ai import Autopilot, PilotError
from game import FALL, JUMP, ArcadeWorld, ClassicWorld
from game.commands.cli import main
from game.sim.levels import ARCADE
from game.wiring.learning import load_pilot


def test_each_level_has_its_own_physics_version_and_tick_rate() -> None:
    assert (classic.PHYSICS_VERSION, classic.TICKS_PER_SECOND) == (1, 10)
    assert (arcade.PHYSICS_VERSION, arcade.TICKS_PER_SECOND) == (2, 60)
    assert ArcadeWorld().decision_ticks * 15 == arcade.TICKS_PER_SECOND  # 15 decisions a second
    # Classic: a decision is one tick, and tick is step.
    a, b = ClassicWorld(), ClassicWorld()
    a.reset(v_y=0.05)
    b.reset(v_y=0.05)
    for action in (1, 0, 0, 1, 0):
        assert a.step(action) == b.tick(action)
        assert (a.x, a.y, a.v_y, a.t) == (b.x, b.y, b.v_y, b.t)


def test_one_tap_is_a_hop_of_a_third_of_a_second_and_the_fall_is_capped() -> None:
    # An open course (one gate far away), so only the edges count.
    course = arcade.Course(np.array([10**6]), np.array([0.0]), np.array([1.0]), seed=0)
    world = ArcadeWorld(n_gates=1)
    world.reset(course=course, v_y=0.0)
    world.tick(JUMP)  # the jump moves the flyer up on its own tick
    heights, rise_ticks = [world.y], 1
    while world.v_y > 0:
        world.tick(FALL)
        heights.append(world.y)
        rise_ticks += world.v_y > 0
    assert rise_ticks == 20 and rise_ticks / arcade.TICKS_PER_SECOND == pytest.approx(1 / 3)
    assert max(heights) == pytest.approx(210 / 1024)
    speeds = []
    while not world.done:
        world.tick(FALL)
        speeds.append(world.v_y)
    # From the top of the hop to the floor takes almost a second, at a capped speed.
    assert min(speeds) == -31 / 1024 and speeds[-1] == speeds[-2] == speeds[-20]
    assert 0.8 < len(speeds) / arcade.TICKS_PER_SECOND < 1.0


def test_heights_and_speeds_stay_whole_sub_units_under_any_play() -> None:
    rng = np.random.default_rng(3)
    world = ArcadeWorld(seed=5, n_gates=None)
    on_grid = 0
    for _ in range(20):
        world.reset()
        while not world.done:
            world.tick(int(rng.random() < 0.08))
            for value in (world.y, world.v_y):
                assert value * 1024 == round(value * 1024)
            on_grid += 1
    assert on_grid > 2000


def test_observation_units_are_order_one() -> None:
    world = ArcadeWorld(seed=1, n_gates=100)
    obs = world.observation()
    assert obs[1] == pytest.approx(world.v_y * 60)  # field units per second
    world.tick(JUMP)
    assert world.observation()[1] == pytest.approx(20 / 1024 * 60)
    assert 0.5 < obs[2] < 2 and 0.3 <= obs[4] <= 0.45 and 0.84 <= obs[5] <= 4


def _arcade_pilot_file(path, physics_version: str) -> None:
    rng = np.random.default_rng(0)
    sizes = (8, 4, 2)
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [rng.standard_normal((fan_out, fan_in)).astype(np.float32),
                   rng.standard_normal(fan_out).astype(np.float32)]
    Autopilot(layers, meta={**ARCADE.meta, "physics_version": physics_version}).save(
        path, {"level": "arcade"})


def test_a_physics_v1_arcade_pilot_is_refused_in_one_line(tmp_path, capsys) -> None:
    path = tmp_path / "old-arcade.safetensors"
    _arcade_pilot_file(path, "1")
    with pytest.raises(PilotError, match="physics version 1, not 2"):
        load_pilot(path)
    assert main(["evaluate", str(path), "--episodes", "5"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "physics version 1" in err
    # The same file with the current version loads.
    _arcade_pilot_file(path, "2")
    assert load_pilot(path)[1] is ARCADE
