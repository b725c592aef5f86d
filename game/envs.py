"""Gymnasium environments over the simulation worlds (no rendering)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from game.arcade import OBS_SIZE, ArcadeWorld
from game.classic import ClassicWorld

_CLASSIC_DOC = ClassicWorld.__doc__
_ARCADE_DOC = ArcadeWorld.__doc__


class ClassicEnv(gym.Env):
    """``flyer/Classic-v0``: the seed's flight. Obs ``[y, v_y]``; see ``ClassicWorld``.

    Rewards as in the seed: +1 on reaching the right edge, -1 on leaving the field
    at the top or bottom, 0 otherwise; ``terminated`` on either edge.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self) -> None:
        self.world = ClassicWorld()
        self.observation_space = gym.spaces.Box(-3.0, 3.0, shape=(2,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.world.rng = self.np_random
        return self.world.reset(), {}

    def step(self, action):
        reward, terminated = self.world.step(int(action))
        return self.world.observation(), reward, terminated, False, {}


class ArcadeEnv(gym.Env):
    """``flyer/Arcade-v0``: gates on a finite course. See ``ArcadeWorld`` for the table.

    +1 per gate passed, -1 on a crash (which terminates); passing the last of
    ``n_gates`` gates also terminates. ``info['score']`` is the gates passed so far.

    ``reset`` takes ``options={"course_seed": int, "v_y": float}`` to fly a given course
    from a given initial speed; its info also holds the run's ``course_seed`` and
    ``v_y0``, which is what ``game.oracle.oracle_scores`` needs for this run's ceiling.
    """

    metadata: dict[str, Any] = {"render_modes": []}

    def __init__(self, n_gates: int = 100) -> None:
        self.world = ArcadeWorld(n_gates=n_gates)
        low = np.array([-3, -3, -0.2, -4, 0, -0.2, -4, 0], dtype=np.float32)
        high = np.array([3, 3, 4, 4, 1, 4, 4, 1], dtype=np.float32)
        assert low.size == OBS_SIZE
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)
        self.action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.world.rng = self.np_random
        options = options or {}
        obs = self.world.reset(course_seed=options.get("course_seed"), v_y=options.get("v_y"))
        info = {"score": 0, "course_seed": self.world.course_seed, "v_y0": self.world.v_y}
        return obs, info

    def step(self, action):
        reward, terminated = self.world.step(int(action))
        return self.world.observation(), reward, terminated, False, {"score": self.world.score}
