"""The native vector envs against N scalar envs in Gymnasium's SyncVectorEnv, step for step."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import game  # noqa: F401  (registers the environments)
from game.sim.envs import ArcadeVectorEnv, ClassicVectorEnv

ENV_IDS = ("flyer/Classic-v0", "flyer/Arcade-v0")
MODES = (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP)


def _assert_infos_equal(native: dict[str, Any], sync: dict[str, Any], where: str) -> None:
    assert set(native) == set(sync), (where, sorted(native), sorted(sync))
    for key, ref in sync.items():
        got = native[key]
        if isinstance(ref, dict):
            _assert_infos_equal(got, ref, f"{where}/{key}")
        elif key == "final_obs":
            for a, b in zip(got, ref, strict=True):
                assert (a is None and b is None) or np.array_equal(a, b), (where, a, b)
        elif key.startswith("_"):
            assert np.array_equal(got, ref), (where, key, got, ref)
        else:
            mask = sync[f"_{key}"]
            assert np.array_equal(got[mask], ref[mask]), (where, key, got, ref)


def _aim(obs: np.ndarray) -> np.ndarray:
    """Crude gap-seeking jumps; even rows suit big coarse hops, odd rows fine ones, so
    some runs finish their course whatever the arcade physics' scale."""
    coarse = obs[:, 1] - 0.2 < obs[:, 3]
    fine = (obs[:, 3] > -0.05) & (obs[:, 1] <= 0)
    return np.where(np.arange(len(obs)) % 2 == 0, coarse, fine)


def _make_pair(env_id: str, n: int, mode: AutoresetMode, **kwargs: Any):
    native = gym.make_vec(env_id, num_envs=n, autoreset_mode=mode, **kwargs)
    sync = gym.make_vec(env_id, num_envs=n, vectorization_mode="sync",
                        vector_kwargs={"autoreset_mode": mode}, **kwargs)
    return native, sync


@pytest.mark.parametrize("mode", MODES, ids=lambda m: m.name)
@pytest.mark.parametrize("env_id", ENV_IDS)
def test_native_vector_env_is_n_scalar_envs_step_for_step(env_id: str,
                                                          mode: AutoresetMode) -> None:
    n = 12
    # Short arcade courses, so runs end both ways: crashes and finished courses.
    kwargs = {"n_gates": 2} if env_id.endswith("Arcade-v0") else {}
    native, sync = _make_pair(env_id, n, mode, **kwargs)
    assert type(native) in (ArcadeVectorEnv, ClassicVectorEnv)
    assert native.metadata["autoreset_mode"] == mode
    rng = np.random.default_rng(0)
    ends = {"won": 0, "lost": 0}
    for seed in (5, None, 6):  # a reset without a seed keeps each env's generator going
        obs_a, info_a = native.reset(seed=seed)
        obs_b, info_b = sync.reset(seed=seed)
        assert obs_a.dtype == np.float32 and np.array_equal(obs_a, obs_b)
        _assert_infos_equal(info_a, info_b, "reset")
        for step in range(300):
            # Aim at the next gap (arcade) or fly at random, with some noise: runs then
            # end both ways, in crashes and in flights won / courses finished.
            aim = _aim(obs_a) if obs_a.shape[1] > 2 else rng.random(n) < 0.4
            actions = np.where(rng.random(n) < 0.2, rng.random(n) < 0.4, aim).astype(np.int64)
            a = native.step(actions)
            b = sync.step(actions)
            where = f"seed {seed} step {step}"
            assert np.array_equal(a[0], b[0]), where
            for got, ref in zip(a[1:4], b[1:4], strict=True):
                assert got.dtype == ref.dtype and np.array_equal(got, ref), (where, got, ref)
            _assert_infos_equal(a[4], b[4], where)
            obs_a = a[0]
            ends["won"] += int((a[2] & (a[1] > 0)).sum())
            ends["lost"] += int((a[2] & (a[1] < 0)).sum())
    assert ends["won"] > 5 and ends["lost"] > 20, ends
    native.close()
    sync.close()


def test_reset_mask_restarts_only_the_masked_runs() -> None:
    native, sync = _make_pair("flyer/Arcade-v0", 4, AutoresetMode.NEXT_STEP)
    native.reset(seed=1)
    sync.reset(seed=1)
    for _ in range(5):
        native.step(np.ones(4, dtype=np.int64))
        sync.step(np.ones(4, dtype=np.int64))
    mask = np.array([True, False, True, False])
    obs_a, info_a = native.reset(options={"reset_mask": mask})
    obs_b, info_b = sync.reset(options={"reset_mask": mask})
    assert np.array_equal(obs_a, obs_b)
    _assert_infos_equal(info_a, info_b, "masked reset")


def test_episode_statistics_over_the_native_vector_env() -> None:
    """The vector RecordEpisodeStatistics reads the declared autoreset mode and reports
    the same episodes for the native env as for the sync one."""
    envs = [gym.wrappers.vector.RecordEpisodeStatistics(e)
            for e in _make_pair("flyer/Arcade-v0", 6, AutoresetMode.NEXT_STEP)]
    for e in envs:
        e.reset(seed=3)
    rng = np.random.default_rng(1)
    episodes = 0
    for _ in range(200):
        actions = (rng.random(6) < 0.4).astype(np.int64)
        infos = [e.step(actions)[4] for e in envs]
        if "episode" in infos[1]:
            done = infos[1]["_episode"]
            assert np.array_equal(infos[0]["_episode"], done)
            for k in ("r", "l"):
                assert np.array_equal(infos[0]["episode"][k][done], infos[1]["episode"][k][done])
            episodes += int(done.sum())
    assert episodes > 20


def test_vector_rgb_array_gives_one_frame_per_env() -> None:
    env = gym.make_vec("flyer/Arcade-v0", num_envs=3, render_mode="rgb_array", width=120,
                       height=100)
    env.reset(seed=0)
    frames = env.render()
    assert len(frames) == 3 and all(f.shape == (100, 120, 3) for f in frames)
    assert not np.array_equal(frames[0], frames[1])  # different courses and speeds


@pytest.mark.parametrize("physics", [
    SimpleNamespace(v_y_sigma=0.1),                                    # N(0, 0.1^2)
    SimpleNamespace(start_speeds=(9, 5, 1, -3, -7), unit=1 / 1024),    # one of a few speeds
], ids=["normal", "choices"])
def test_episode_draws_one_at_a_time_equal_the_batched_ones(physics) -> None:
    from game.sim.envs import StartSpeeds, episode_draw, episode_draws

    speeds = StartSpeeds(physics)
    rng = np.random.default_rng(0)
    keys = rng.integers(0, 2**63, 3000, dtype=np.int64).astype(np.uint64) * np.uint64(2)
    episodes = rng.integers(0, 10**9, 3000)
    seeds, v_y = episode_draws(keys, episodes, speeds)
    one = [episode_draw(k, e, speeds) for k, e in zip(keys.tolist(), episodes.tolist(),
                                                       strict=True)]
    assert [s for s, _ in one] == seeds.tolist() and [v for _, v in one] == v_y.tolist()
    assert seeds.min() >= 0 and np.unique(seeds).size == seeds.size  # distinct 63-bit seeds
    if hasattr(physics, "v_y_sigma"):
        assert abs(v_y.mean()) < 0.01 and abs(v_y.std() - 0.1) < 0.005
    else:
        values, counts = np.unique(v_y, return_counts=True)
        assert values.tolist() == sorted(s / 1024 for s in physics.start_speeds)
        assert counts.min() > 500  # about 600 each
