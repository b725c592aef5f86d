"""The Gymnasium envs check actions as Gymnasium's own envs do (issue 22, defect 10).

CartPole refuses any action its ``action_space`` does not contain, refuses a step before
``reset`` and warns on a step after ``terminated``. Ours did none of that: 2, -1 and
10**30 flew as FALL, and 1.5 and '1' were JUMP in the scalar env but FALL in the vector
env. Now the scalar and vector envs of both levels take and refuse exactly the same inputs.
"""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np
import pytest

import game  # noqa: F401  (registers the envs)
from game.sim.envs import ArcadeEnv, ArcadeVectorEnv, ClassicEnv, ClassicVectorEnv

IDS = ["flyer/Classic-v0", "flyer/Arcade-v0"]
VALID = [0, 1, True, False, np.int64(1), np.uint8(0), np.int32(1), np.array(1), np.bool_(True)]
INVALID = [2, -1, 10**30, 1.5, 1.0, "1", None, np.float32(1.0), np.array([1]), [1], -0.0,
           np.int64(2), complex(1, 0)]


def _scalar_takes(env_id: str, action) -> bool:
    env = gym.make(env_id)
    env.reset(seed=0)
    try:
        env.step(action)
    except gym.error.InvalidAction as exc:
        assert "0 (FALL) and 1 (JUMP)" in str(exc)
        return False
    finally:
        env.close()
    return True


def _vector_takes(env_id: str, action) -> bool:
    envs = gym.make_vec(env_id, num_envs=3)
    envs.reset(seed=0)
    try:
        envs.step([action] * 3)
    except gym.error.InvalidAction:
        return False
    finally:
        envs.close()
    return True


@pytest.mark.parametrize("env_id", IDS)
@pytest.mark.parametrize("action", VALID + INVALID, ids=repr)
def test_scalar_and_vector_envs_take_and_refuse_the_same_actions(env_id, action):
    want = any(action is v for v in VALID)
    assert _scalar_takes(env_id, action) is want
    assert _vector_takes(env_id, action) is want


@pytest.mark.parametrize("env_id", IDS)
def test_valid_actions_mean_the_same_in_both_envs(env_id):
    """JUMP as True, 1 or np.int64(1) flies the same as in the vector env's row 0."""
    env = gym.make(env_id)
    envs = gym.make_vec(env_id, num_envs=1, vectorization_mode="vector_entry_point")
    obs, _ = env.reset(seed=5)
    vobs, _ = envs.reset(seed=5)
    np.testing.assert_array_equal(obs, vobs[0])
    for action in (True, 1, np.int64(0), False, np.array(1), 1, 1):
        obs, r, term, _, _ = env.step(action)
        vobs, vr, vterm, _, _ = envs.step(np.asarray([action]))
        np.testing.assert_array_equal(obs, vobs[0])
        assert (r, term) == (vr[0], vterm[0])
        if term:
            break


@pytest.mark.parametrize("cls", [ClassicVectorEnv, ArcadeVectorEnv])
def test_the_vector_env_refuses_a_step_before_reset(cls):
    envs = cls(num_envs=4)
    with pytest.raises(gym.error.ResetNeeded):
        envs.step(np.zeros(4, dtype=np.int64))
    with pytest.raises(gym.error.ResetNeeded):  # a partial first reset would leave rows unset
        envs.reset(seed=0, options={"reset_mask": np.array([True, False, True, False])})
    envs.reset(seed=0)
    envs.step(np.zeros(4, dtype=np.int64))
    with pytest.raises(gym.error.InvalidAction, match="for 4 envs"):
        envs.step(np.zeros(3, dtype=np.int64))


@pytest.mark.parametrize("cls", [ClassicEnv, ArcadeEnv])
def test_the_scalar_env_refuses_a_step_before_reset_and_warns_after_the_end(cls):
    env = cls()
    with pytest.raises(gym.error.ResetNeeded):
        env.step(0)
    env.reset(seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning while the run lasts
        for _ in range(10_000):
            _, _, terminated, _, _ = env.step(0)  # FALL until the flyer crashes
            if terminated:
                break
    assert terminated
    with pytest.warns(UserWarning, match="already returned terminated = True"):
        env.step(0)
    env.reset()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a new run: no warning
        env.step(1)
