"""The Gymnasium environments: registration, the checker, determinism, observation bounds."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import game  # noqa: F401  (registers the environments)
from game.oracle import oracle_plan

ENV_IDS = ("flyer/Classic-v0", "flyer/Arcade-v0")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_registered_and_passes_the_checker(env_id: str) -> None:
    assert env_id in gym.registry
    env = gym.make(env_id)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()


def _rollout(env_id: str, seed: int | None, steps: int = 600) -> list[tuple]:
    env = gym.make(env_id)
    actions = np.random.default_rng(0).integers(0, 2, steps)
    obs, _ = env.reset(seed=seed)
    trace = [obs.tobytes()]
    for a in actions:
        obs, reward, terminated, truncated, _ = env.step(int(a))
        trace.append((obs.tobytes(), reward, terminated, truncated))
        if terminated or truncated:
            obs, _ = env.reset()
            trace.append(obs.tobytes())
    env.close()
    return trace


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_same_seed_same_rollout(env_id: str) -> None:
    assert _rollout(env_id, 3) == _rollout(env_id, 3)
    assert _rollout(env_id, 3) != _rollout(env_id, 4)


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_observations_are_float32_inside_the_space(env_id: str) -> None:
    env = gym.make(env_id)
    rng = np.random.default_rng(1)
    obs, _ = env.reset(seed=0)
    episodes = 0
    for _ in range(5000):
        assert obs.dtype == np.float32 and env.observation_space.contains(obs), obs
        # Mostly jumping keeps flights alive longer, so late states are visited too.
        obs, reward, terminated, _, _ = env.step(int(rng.random() < 0.6))
        assert reward in (-1.0, 0.0, 1.0)
        if terminated:
            assert env.observation_space.contains(obs), obs
            obs, _ = env.reset()
            episodes += 1
    assert episodes > 50
    env.close()


def test_classic_rewards_and_obs_follow_the_seed() -> None:
    env = gym.make("flyer/Classic-v0")
    obs, _ = env.reset(seed=8)
    world = env.unwrapped.world
    assert obs.tolist() == np.float32([0.0, world.v_y]).tolist()
    total = 0.0
    while True:
        obs, reward, terminated, truncated, _ = env.step(0)  # FALL until the floor
        total += reward
        if terminated:
            break
    assert total == -1.0 and not truncated and world.y < -1.0
    env.close()


def test_arcade_info_score_and_course_seed_option() -> None:
    env = gym.make("flyer/Arcade-v0")
    _, info = env.reset(seed=0, options={"course_seed": 42})
    world = env.unwrapped.world
    assert info == {"score": 0, "course_seed": 42, "v_y0": world.v_y}
    first = world.course.gap_y.copy()
    obs, info = env.reset(seed=1, options={"course_seed": 42, "v_y": 0.0})
    assert np.array_equal(world.course.gap_y, first) and obs[1] == 0.0 and info["v_y0"] == 0.0
    # Fly the oracle's plan: info['score'] counts every gate up to the last one.
    plan = oracle_plan(42, env.unwrapped.world.n_gates, 0.0)
    for a in plan:
        _, _, terminated, _, info = env.step(a)
    assert terminated and info["score"] == world.n_gates
    env.close()


def test_envs_leave_global_numpy_random_alone() -> None:
    np.random.seed(77)
    before = np.random.get_state()
    for env_id in ENV_IDS:
        _rollout(env_id, None, steps=200)
    after = np.random.get_state()
    assert np.array_equal(after[1], before[1]) and after[2:] == before[2:]
