"""The level specs: each describes its own worlds truthfully, and the game asks it, not names."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import as_format_3

from ai.errors import StateError
from game import make_world
from game.sim import arcade, classic
from game.sim.actions import FALL, JUMP
from game.sim.levels import ARCADE, CLASSIC, LEVELS
from game.wiring.learning import LEGACY_META, learner_config, learner_from_state, new_learner

MODULES = {"classic": classic, "arcade": arcade}


@pytest.mark.parametrize("name", list(LEVELS))
def test_spec_matches_its_worlds(name: str) -> None:
    level = LEVELS[name]
    assert level.name == name
    world = level.world(1)
    assert world.observation().shape == (level.obs_size,)
    assert len(level.obs_layout.split(", ")) == level.obs_size
    assert level.train_batch(3, 1).observation().shape == (3, level.obs_size)
    assert level.eval_batch(4, 1).observation().shape == (4, level.obs_size)
    assert level.physics_version == MODULES[name].PHYSICS_VERSION  # the level module's own
    assert level.meta == {"level": name, "physics_version": str(level.physics_version)}
    assert level.pilot_meta["obs_size"] == str(level.obs_size)
    assert type(make_world(name, 1)) is type(world)


@pytest.mark.parametrize("name", list(LEVELS))
def test_learner_preset_builds_a_learner_for_the_level(name: str) -> None:
    level = LEVELS[name]
    learner = new_learner(level, seed=0, config=learner_config(level, capacity=100))
    assert learner.sizes[0] == level.obs_size and learner.meta == level.meta
    assert learner.config.capacity == 100
    obs = level.world(0).observation()
    assert learner.act(obs) in (FALL, JUMP)


def test_a_classic_run_scores_one_for_a_success_and_zero_for_a_crash() -> None:
    world = CLASSIC.world(2)
    reward, terminated = 0.0, False
    while not terminated:  # hovering: jump whenever the next height would be below 0
        reward, terminated = world.step(JUMP if world.y + world.v_y < 0 else FALL)
    assert reward > 0 and CLASSIC.episode_score(world, reward) == 1.0
    world.reset()
    while not terminated or reward > 0:
        reward, terminated = world.step(FALL)
    assert CLASSIC.episode_score(world, reward) == 0.0


def test_an_arcade_run_scores_its_gates_and_only_a_course_end_is_a_cut_off() -> None:
    world = ARCADE.world(3)
    world.score = 7  # as after seven gates
    assert ARCADE.episode_score(world, -1.0) == 7.0
    assert ARCADE.truncated(1.0, True) and not ARCADE.truncated(-1.0, True)
    assert not ARCADE.truncated(1.0, False) and not CLASSIC.truncated(1.0, True)


def test_the_arcade_oracle_is_a_ceiling_of_the_evaluation_runs() -> None:
    best = ARCADE.oracle(10, 5)
    assert best.shape == (10,) and (best > 0).all()
    assert CLASSIC.oracle(10, 5) is None
    figures = ARCADE.figures(np.minimum(best, 3).astype(float), best)
    assert figures["mean_score"] == pytest.approx(np.minimum(best, 3).mean())
    assert 0 < figures["mean_score_over_oracle"] < 1 and figures["success_rate"] < 1


@pytest.mark.parametrize("name", list(LEVELS))
def test_an_old_save_is_resumed_only_under_the_physics_it_was_learned_with(name: str) -> None:
    level = LEVELS[name]
    learner = new_learner(level, seed=0, config=learner_config(level, capacity=64))
    old = as_format_3(learner.state())  # saves before format 4 all predate physics versions
    if level.physics_version == int(LEGACY_META["physics_version"]):
        assert learner_from_state(level, old).meta == level.meta
    else:
        with pytest.raises(StateError, match="physics version 1, not"):
            learner_from_state(level, old)
    assert learner_from_state(level, learner.state()).meta == level.meta


@pytest.mark.parametrize("name", ["classic", "arcade"])
def test_pilots_flown_together_on_joined_sets_score_as_when_flown_apart(name):
    from game.sim.evaluation import Evaluation, scores_together

    level = LEVELS[name]
    sets = [Evaluation(level, 30, 11), Evaluation(level, 20, 22)]

    def low(obs):  # jumps below the middle: lives a while, crashes on some runs
        return (obs[:, 0] < -0.1).astype(np.int64)

    def lower(obs):
        return (obs[:, 0] < -0.4).astype(np.int64)

    together = scores_together(sets, [low, lower])
    apart = [[e.scores(p) for e in sets] for p in (low, lower)]
    for got, want in zip(together, apart, strict=True):
        for g, w in zip(got, want, strict=True):
            assert np.array_equal(g, w)
    assert not np.array_equal(together[0][0], together[1][0])  # the pilots do differ
