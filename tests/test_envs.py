"""The Gymnasium environments: registration, the checker, determinism, observation bounds,
rendering (rgb_array without a display, human under Xvfb) and the episode-statistics wrapper."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import test_window

import game  # noqa: F401  (registers the environments)
from game.sim import arcade, classic
from game.sim.oracle import oracle_plan

ENV_IDS = ("flyer/Classic-v0", "flyer/Arcade-v0")
ROOT = Path(__file__).resolve().parent.parent
display = test_window.display  # the window tests' Xvfb (or $DISPLAY)


def _python(code: str, env: dict[str, str], timeout: float = 120) -> str:
    """Runs ``code`` in a fresh interpreter from the checkout; returns its stdout."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=timeout)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.mark.window
def test_checker_with_its_render_check_and_the_human_window_shows_the_frames(
        display: str) -> None:
    """check_env renders every declared mode (``human`` opens a window), then the window's
    pixels, grabbed from the X server, are the rgb_array frame of the same state."""
    code = """
        import gymnasium as gym
        import numpy as np
        from gymnasium.utils.env_checker import check_env
        import game
        from game.sim import raster

        for env_id in ("flyer/Classic-v0", "flyer/Arcade-v0"):
            env = gym.make(env_id, render_mode="rgb_array")
            check_env(env.unwrapped)  # with the render check: both modes, via the spec
            env.close()
        env = gym.make("flyer/Arcade-v0", render_mode="human", width=200, height=160)
        env.reset(seed=0)
        for _ in range(6):
            env.step(1)
        # What the X server shows in the window (GetImage), via python-xlib.
        from Xlib import X, display
        d = display.Display()
        window = d.create_resource_object("window", env.unwrapped._human.window._window)
        geo = window.get_geometry()
        image = window.get_image(0, 0, geo.width, geo.height, X.ZPixmap, 0xFFFFFFFF)
        pixels = np.frombuffer(image.data, np.uint8)[: geo.width * geo.height * 4]
        shown = pixels.reshape(geo.height, geo.width, 4)[..., [2, 1, 0]].astype(int)  # BGRX
        d.close()
        ref = raster.render(env.unwrapped.world, 200, 160).astype(int)
        print(shown.shape == ref.shape, np.abs(shown - ref).mean())
        env.close()
    """
    out = _python(code, {**os.environ, "DISPLAY": display}).split()
    assert out[0] == "True" and float(out[1]) < 2.0, out


def test_rgb_array_needs_no_display_and_no_pyglet() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = _python("""
        import sys
        import gymnasium as gym
        import game
        for env_id in ("flyer/Classic-v0", "flyer/Arcade-v0"):
            env = gym.make(env_id, render_mode="rgb_array")
            env.reset(seed=0)
            frame = env.render()
            print(env_id, frame.shape, frame.dtype)
        print("pyglet" in sys.modules)
    """, env)
    assert out.split("\n")[:3] == ["flyer/Classic-v0 (400, 400, 3) uint8",
                                    "flyer/Arcade-v0 (400, 400, 3) uint8", "False"], out


def _flyer_row(frame: np.ndarray) -> float:
    """Mean row of the flyer's yellow body pixels (the sky is blue, walls green)."""
    r, g, b = (frame[..., k].astype(int) for k in range(3))
    rows, _ = np.nonzero((r > 200) & (g > 150) & (b < 140))
    assert rows.size > 50, "the flyer is not in the frame"
    return float(rows.mean())


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rgb_array_frames_follow_the_flyer(env_id: str) -> None:
    env = gym.make(env_id, render_mode="rgb_array")
    env.reset(seed=2)
    world = env.unwrapped.world
    first = env.render()
    assert first.shape == (400, 400, 3) and first.dtype == np.uint8
    rows, heights = [], []
    for action in (1, 1, 1) + (0,) * 20:  # climb, then fall until the run ends
        _, _, terminated, _, _ = env.step(action)
        frame = env.render()
        assert not np.array_equal(frame, first)
        if terminated:  # a crashed flyer is drawn tinted red, tipped over
            break
        # The sprite's centre is where the world says the flyer is (row 0 at the top).
        expected = (1 - min(max(world.y, -0.95), 0.95)) * 200
        assert abs(_flyer_row(frame) - expected) < 6, (world.y, _flyer_row(frame))
        rows.append(_flyer_row(frame))
        heights.append(world.y)
    assert len(rows) >= 5 and max(rows) - min(rows) > 30
    assert np.corrcoef(rows, heights)[0, 1] < -0.95  # higher up, nearer the top
    env.close()


def test_render_fps_is_the_decision_rate() -> None:
    for env_id, module in zip(ENV_IDS, (classic, arcade), strict=True):
        env = gym.make(env_id)
        world = env.unwrapped.world
        ticks = getattr(module, "TICKS_PER_SECOND", None)
        if ticks is None:  # before physics v2 both levels ran 10 ticks a second
            ticks = 10.0
        assert env.metadata["render_fps"] == ticks / getattr(world, "decision_ticks", 1)
        env.close()


def test_render_without_a_mode_returns_none_and_bad_modes_are_refused() -> None:
    env = gym.make("flyer/Arcade-v0")
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="without a render_mode"):
        assert env.render() is None
    with pytest.raises(ValueError, match="render_mode"), pytest.warns(UserWarning):
        gym.make("flyer/Arcade-v0", render_mode="ansi")


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_record_episode_statistics(env_id: str) -> None:
    env = gym.wrappers.RecordEpisodeStatistics(gym.make(env_id))
    rng = np.random.default_rng(5)
    env.reset(seed=11)
    total, length, episodes = 0.0, 0, 0
    while episodes < 20:
        _, reward, terminated, truncated, info = env.step(int(rng.random() < 0.45))
        total += reward
        length += 1
        if terminated or truncated:
            assert info["episode"]["r"] == pytest.approx(total)
            assert info["episode"]["l"] == length
            total, length, episodes = 0.0, 0, episodes + 1
            env.reset()
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
