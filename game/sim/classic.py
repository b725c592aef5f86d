"""The classic level: the seed notebook's flight, reproduced number for number."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from game.sim.actions import JUMP

PHYSICS_VERSION = 1
"""The classic level's rules; pilots and learner states made for another version are refused."""
TICKS_PER_SECOND = 10
"""Default ticks per second of play at 1x (the game speed setting scales it)."""


@dataclass(frozen=True)
class Physics:
    """Per-tick constants of the seed's flight (field units per tick)."""

    v_x: float = 0.05
    """Horizontal speed: x advances this much every tick."""
    v_y_sigma: float = 0.1
    """Standard deviation of the initial vertical speed, drawn from N(0, sigma^2)."""
    v_jump: float = 0.2
    """A JUMP sets v_y to this value."""
    gravity: float = 0.2
    """A FALL subtracts this from v_y."""
    x_start: float = -1.0
    """Where each flight starts on the x axis."""
    edge: float = 1.0
    """The field is [-edge, edge] on both axes."""


PHYSICS = Physics()


class ClassicWorld:
    """One flyer crossing the field once, exactly as the seed's ``Agent.step``.

    ## Observation
    | index | meaning            | range          |
    |-------|--------------------|----------------|
    | 0     | y, height          | [-3, 3] (alive: [-1, 1]) |
    | 1     | v_y, vertical speed| [-3, 3] (after the first tick: <= 0.2) |

    ## Actions
    0 = FALL (``v_y -= 0.2``), 1 = JUMP (``v_y = 0.2``).

    ## One tick (``tick``, and ``step``: a decision is one tick here)
    ``x += 0.05``, ``y += v_y``; then ``x > 1`` gives +1 and ends the flight (checked
    first), else ``y < -1`` or ``y > 1`` gives -1 and ends it, else the reward is 0.
    Then the action changes ``v_y``, also on the last tick, as in the seed.

    State is kept in Python floats (float64), so the right edge is reached on tick 40.

    ## Version history
    * physics v1: the seed's rules (unchanged since).
    """

    decision_ticks = 1
    """Physics ticks per autopilot decision: classic decides every tick."""

    def __init__(self, seed: int | None = None, physics: Physics = PHYSICS) -> None:
        self.physics = physics
        self.rng = np.random.default_rng(seed)
        self.x = physics.x_start
        self.y = 0.0
        self.v_y = 0.0
        self.t = 0
        self.done = False
        self.reset()

    def reset(self, seed: int | None = None, v_y: float | None = None) -> np.ndarray:
        """Starts a new flight at (-1, 0) with v_y ~ N(0, sigma^2), or the given ``v_y``."""
        if seed is not None:
            self.rng = np.random.default_rng(seed)
        p = self.physics
        self.x = p.x_start
        self.y = 0.0
        self.v_y = float(p.v_y_sigma * self.rng.standard_normal()) if v_y is None else float(v_y)
        self.t = 0
        self.done = False
        return self.observation()

    def tick(self, action: int) -> tuple[float, bool]:
        """Advances one tick; returns ``(reward, terminated)``."""
        p = self.physics
        self.x += p.v_x
        self.y += self.v_y
        self.t += 1
        if self.x > p.edge:
            reward, self.done = 1.0, True
        elif self.y < -p.edge or self.y > p.edge:
            reward, self.done = -1.0, True
        else:
            reward = 0.0
        if action == JUMP:
            self.v_y = p.v_jump
        else:
            self.v_y -= p.gravity
        return reward, self.done

    step = tick
    """One decision, which on this level is one tick."""

    def observation(self) -> np.ndarray:
        """The float32 observation ``[y, v_y]``."""
        return np.array((self.y, self.v_y), dtype=np.float32)


class ClassicBatch:
    """N classic flyers stepped together in numpy; each matches a ``ClassicWorld``.

    Flights that end are started again at once (``autoreset``); the observation
    returned for them is the one after the reset, and the final one is in
    ``final_obs``.
    """

    obs_size = 2
    decision_ticks = 1
    """Physics ticks per autopilot decision (``step`` is one tick)."""

    def __init__(self, n: int, seed: int | None = None, physics: Physics = PHYSICS,
                 autoreset: bool = True) -> None:
        self.n = n
        self.physics = physics
        self.autoreset = autoreset
        self.rng = np.random.default_rng(seed)
        self.x = np.full(n, physics.x_start)
        self.y = np.zeros(n)
        self.v_y = physics.v_y_sigma * self.rng.standard_normal(n)
        self.t = np.zeros(n, dtype=np.int64)
        self.final_obs = np.zeros((n, 2), dtype=np.float32)
        self._out = np.zeros(n, dtype=bool)
        self._abs = np.zeros(n)

    def reset(self, v_y: np.ndarray | None = None) -> np.ndarray:
        """Starts every flight again; ``v_y`` gives the initial speeds, else drawn."""
        p = self.physics
        self.x.fill(p.x_start)
        self.y.fill(0.0)
        self.v_y[:] = p.v_y_sigma * self.rng.standard_normal(self.n) if v_y is None else v_y
        self.t.fill(0)
        return self.observation()

    def step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advances every flyer one tick; returns ``(obs, rewards, terminated)``."""
        p = self.physics
        x, y, v = self.x, self.y, self.v_y
        x += p.v_x
        y += v
        self.t += 1
        right = x > p.edge
        # |y| > edge is exactly "y < -edge or y > edge" (abs is exact), in one pass.
        out = np.greater(np.abs(y, out=self._abs), p.edge, out=self._out)
        out &= ~right  # the right edge is judged first
        reward = right.astype(np.float32)
        reward -= out
        v -= p.gravity
        np.copyto(v, p.v_jump, where=np.asarray(actions) == JUMP)
        terminated = right
        terminated |= out
        if self.autoreset and terminated.any():
            self.final_obs[:, 0] = y
            self.final_obs[:, 1] = v
            idx = np.flatnonzero(terminated)
            x[idx] = p.x_start
            y[idx] = 0.0
            v[idx] = p.v_y_sigma * self.rng.standard_normal(idx.size)
            self.t[idx] = 0
        return self.observation(), reward, terminated

    def observation(self) -> np.ndarray:
        """The float32 observations, shape ``(n, 2)``."""
        obs = np.empty((self.n, 2), dtype=np.float32)
        obs[:, 0] = self.y
        obs[:, 1] = self.v_y
        return obs
