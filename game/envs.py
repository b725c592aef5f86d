"""Gymnasium environments over the simulation worlds, scalar and natively vectorised.

``flyer/Classic-v0`` and ``flyer/Arcade-v0`` are ``gym.Env`` s over one world each;
``gym.make_vec`` of either id gives a numpy ``VectorEnv`` over the batched world
(``ClassicBatch``/``ArcadeBatch``) instead of a loop over Python envs.

Rendering: ``render_mode="rgb_array"`` returns ``(H, W, 3)`` uint8 frames drawn by
``game.raster`` in numpy, so it works with no display at all; ``"human"`` shows the
same frames in a pyglet window (pyglet is imported only then). One env step is one
autopilot decision, so real-time playback is ``TICKS_PER_SECOND / decision_ticks``
frames per second (``metadata["render_fps"]``).
"""

from __future__ import annotations

import time
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from game import arcade, classic, raster
from game.arcade import OBS_SIZE, ArcadeBatch, ArcadeWorld
from game.classic import ClassicBatch, ClassicWorld

RENDER_MODES = ["human", "rgb_array"]
FRAME_SIZE = 400
"""Default width and height of rendered frames, in pixels."""


def decision_fps(level_module: Any, world: Any) -> float:
    """Frames per second for real-time playback: one frame per decision."""
    ticks_per_second = getattr(level_module, "TICKS_PER_SECOND", None)
    if ticks_per_second is None:  # before physics v2: the window's default tick rate
        from game.session import DEFAULT_TICK_RATE as ticks_per_second
    return float(ticks_per_second) / int(getattr(world, "decision_ticks", 1))


def _classic_space() -> gym.spaces.Box:
    return gym.spaces.Box(-3.0, 3.0, shape=(2,), dtype=np.float32)


def _arcade_space() -> gym.spaces.Box:
    low = np.array([-3, -3, -0.2, -4, 0, -0.2, -4, 0], dtype=np.float32)
    high = np.array([3, 3, 4, 4, 1, 4, 4, 1], dtype=np.float32)
    assert low.size == OBS_SIZE
    return gym.spaces.Box(low, high, dtype=np.float32)


class HumanView:
    """A pyglet window that shows rendered frames, paced to ``fps`` (the ``human`` mode).

    pyglet is imported here, on the first frame, so the envs stay headless otherwise.
    """

    def __init__(self, title: str, fps: float) -> None:
        self.title = title
        self.fps = fps
        self.window: Any = None
        self._due = 0.0

    def show(self, frame: np.ndarray) -> None:
        """Draws ``frame`` in the window (opened on first use), then waits for its slot."""
        h, w = frame.shape[:2]
        if self.window is None:
            try:
                import pyglet

                self.window = pyglet.window.Window(w, h, caption=self.title, vsync=False)
            except Exception as exc:  # no display, no GL: pyglet raises several kinds
                raise gym.error.DependencyNotInstalled(
                    f"render_mode='human' needs a display ({type(exc).__name__}: {exc}); "
                    "use render_mode='rgb_array' on a server") from None
            self._due = time.perf_counter()
        import pyglet

        window = self.window
        window.switch_to()
        window.dispatch_events()
        image = pyglet.image.ImageData(w, h, "RGB", np.ascontiguousarray(frame).tobytes(),
                                       pitch=-w * 3)  # negative pitch: row 0 is the top
        window.clear()
        image.blit(0, 0)
        window.flip()
        # Real-time playback: a frame per decision at the level's decision rate.
        self._due = max(self._due + 1.0 / self.fps, time.perf_counter() - 0.25)
        delay = self._due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)

    def close(self) -> None:
        if self.window is not None:
            self.window.close()
            self.window = None


class _Rendered:
    """The render half shared by both scalar envs."""

    render_mode: str | None
    world: Any
    metadata: dict[str, Any]

    def _init_render(self, render_mode: str | None, width: int, height: int) -> None:
        if render_mode is not None and render_mode not in RENDER_MODES:
            raise ValueError(f"render_mode must be one of {RENDER_MODES} or None, "
                             f"got {render_mode!r}")
        self.render_mode = render_mode
        self.frame_size = (int(width), int(height))
        self._human: HumanView | None = None

    def _score_shown(self) -> int | None:
        return None

    def render(self) -> np.ndarray | None:
        """The frame (``rgb_array``), or shows it in the window (``human``)."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass "
                            "render_mode='rgb_array' or 'human' to gym.make")
            return None
        frame = raster.render(self.world, *self.frame_size, score=self._score_shown())
        if self.render_mode == "rgb_array":
            return frame
        if self._human is None:
            self._human = HumanView("Gravity Flyer", self.metadata["render_fps"])
        self._human.show(frame)
        return None

    def close(self) -> None:
        if self._human is not None:
            self._human.close()
            self._human = None


class ClassicEnv(_Rendered, gym.Env):
    """``flyer/Classic-v0``: the seed's flight. Obs ``[y, v_y]``; see ``ClassicWorld``.

    Rewards as in the seed: +1 on reaching the right edge, -1 on leaving the field
    at the top or bottom, 0 otherwise; ``terminated`` on either edge. Frames show
    the flights won in a row, as the window does.
    """

    metadata: dict[str, Any] = {"render_modes": RENDER_MODES,
                                "render_fps": decision_fps(classic, ClassicWorld())}

    def __init__(self, render_mode: str | None = None, width: int = FRAME_SIZE,
                 height: int = FRAME_SIZE) -> None:
        self.world = ClassicWorld()
        self.observation_space = _classic_space()
        self.action_space = gym.spaces.Discrete(2)
        self._init_render(render_mode, width, height)
        self.streak = 0
        """Flights won in a row (shown on the frames)."""

    def _score_shown(self) -> int | None:
        return self.streak

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.world.rng = self.np_random
        obs = self.world.reset()
        if self.render_mode == "human":
            self.render()
        return obs, {}

    def step(self, action):
        reward, terminated = self.world.step(int(action))
        if terminated:
            self.streak = self.streak + 1 if reward > 0 else 0
        if self.render_mode == "human":
            self.render()
        return self.world.observation(), reward, terminated, False, {}


class ArcadeEnv(_Rendered, gym.Env):
    """``flyer/Arcade-v0``: gates on a finite course. See ``ArcadeWorld`` for the table.

    +1 per gate passed, -1 on a crash (which terminates); passing the last of
    ``n_gates`` gates also terminates. ``info['score']`` is the gates passed so far.

    ``reset`` takes ``options={"course_seed": int, "v_y": float}`` to fly a given course
    from a given initial speed; its info also holds the run's ``course_seed`` and
    ``v_y0``, which is what ``game.oracle.oracle_scores`` needs for this run's ceiling.
    """

    metadata: dict[str, Any] = {"render_modes": RENDER_MODES,
                                "render_fps": decision_fps(arcade, ArcadeWorld(n_gates=1))}

    def __init__(self, n_gates: int = 100, render_mode: str | None = None,
                 width: int = FRAME_SIZE, height: int = FRAME_SIZE) -> None:
        self.world = ArcadeWorld(n_gates=n_gates)
        self.observation_space = _arcade_space()
        self.action_space = gym.spaces.Discrete(2)
        self._init_render(render_mode, width, height)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.world.rng = self.np_random
        options = options or {}
        obs = self.world.reset(course_seed=options.get("course_seed"), v_y=options.get("v_y"))
        info = {"score": 0, "course_seed": self.world.course_seed, "v_y0": self.world.v_y}
        if self.render_mode == "human":
            self.render()
        return obs, info

    def step(self, action):
        reward, terminated = self.world.step(int(action))
        if self.render_mode == "human":
            self.render()
        return self.world.observation(), reward, terminated, False, {"score": self.world.score}


# ----------------------------------------------------------------------- vector envs
class _FlyerVectorEnv(VectorEnv):
    """N flyers in one batched world, with the scalar envs' seeding and autoreset.

    Each sub-env owns a generator, seeded as ``SyncVectorEnv`` seeds its envs
    (``reset(seed=s)`` gives env ``i`` the seed ``s + i``), and draws its restarts
    from it in the scalar env's order, so the N flyers are the N scalar envs of
    ``gym.make_vec(..., vectorization_mode="sync")`` step for step. Restarts touch
    only the flyers that ended; everything else is whole-array numpy.

    ``autoreset_mode`` is Gymnasium's default ``NEXT_STEP`` (the step after an end
    returns the new run's first observation with reward 0) or ``SAME_STEP`` (the new
    run starts at once; the final observation is in ``info["final_obs"]``).
    """

    level = ""

    def __init__(self, num_envs: int = 1, render_mode: str | None = None,
                 autoreset_mode: str | AutoresetMode = AutoresetMode.NEXT_STEP,
                 width: int = FRAME_SIZE, height: int = FRAME_SIZE) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {num_envs}")
        mode = AutoresetMode(autoreset_mode)
        if mode not in (AutoresetMode.NEXT_STEP, AutoresetMode.SAME_STEP):
            raise ValueError(f"autoreset_mode must be NEXT_STEP or SAME_STEP, got {mode}")
        if render_mode is not None and render_mode != "rgb_array":
            raise ValueError(f"the vector env renders 'rgb_array' only, got {render_mode!r}")
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.frame_size = (int(width), int(height))
        self.autoreset_mode = mode
        self.metadata = {**type(self).metadata, "autoreset_mode": mode}
        self.single_action_space = gym.spaces.Discrete(2)
        self.action_space = batch_space(self.single_action_space, num_envs)
        self._rngs: list[np.random.Generator] = []
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._rows = np.arange(num_envs)

    # per level: draw one restart from a generator, apply restarts, observe rows
    def _draw(self, rng: np.random.Generator) -> tuple:
        raise NotImplementedError

    def _restart(self, idx: np.ndarray, draws: list[tuple]) -> None:
        raise NotImplementedError

    def _observe(self, idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _reset_info(self, idx: np.ndarray) -> dict[str, Any]:
        return {}

    def _step_info(self) -> dict[str, Any]:
        return {}

    def _seed(self, seed: int | list[int | None] | None) -> None:
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(n)]
        else:
            seeds = list(seed)
            if len(seeds) != n:
                raise ValueError(f"expected {n} seeds, got {len(seeds)}")
        if not self._rngs:
            self._rngs = [seeding.np_random(s)[0] for s in seeds]
        else:
            for i, s in enumerate(seeds):
                if s is not None:
                    self._rngs[i] = seeding.np_random(s)[0]

    def _start(self, idx: np.ndarray) -> None:
        self._restart(idx, [self._draw(self._rngs[i]) for i in idx.tolist()])

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None):
        """Starts every run again (or those in ``options["reset_mask"]``)."""
        super().reset(seed=seed if isinstance(seed, int | np.integer) else None)
        self._seed(seed)
        mask = (options or {}).get("reset_mask")
        if mask is None:
            idx = self._rows
        else:
            mask = np.asarray(mask)
            if mask.shape != (self.num_envs,) or mask.dtype != np.bool_:
                raise ValueError(f"options['reset_mask'] must be a bool array of shape "
                                 f"({self.num_envs},)")
            idx = np.flatnonzero(mask)
        self._start(idx)
        self._autoreset[idx] = False
        return self._observe(self._rows), self._reset_info(idx)

    def _batch_step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def step(self, actions):
        """One decision for every flyer; see the class docstring for autoresets."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,):
            raise ValueError(f"expected {self.num_envs} actions, got shape {actions.shape}")
        obs, rewards, terminated = self._batch_step(actions)
        rewards = rewards.astype(np.float64)
        terminated = terminated.copy()
        truncated = np.zeros(self.num_envs, dtype=bool)
        infos = self._step_info()
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            if self._autoreset.any():
                # These flyers ended on the previous step: this step starts their new run
                # instead (the batch also moved them; the restart overwrites that).
                idx = np.flatnonzero(self._autoreset)
                self._start(idx)
                obs[idx] = self._observe(idx)
                rewards[idx] = 0.0
                terminated[idx] = False
                infos = _merge(infos, self._reset_info(idx), self.num_envs)
            self._autoreset = terminated | truncated
        elif terminated.any():
            idx = np.flatnonzero(terminated)
            # As SyncVectorEnv gives them: an object array of the ended runs' observations
            # (None elsewhere), and their step infos masked to those runs.
            final_obs = np.full(self.num_envs, None, dtype=object)
            for i in idx.tolist():
                final_obs[i] = obs[i].copy()
            mask = np.zeros(self.num_envs, dtype=bool)
            mask[idx] = True
            final_info = {k: (v & mask if k.startswith("_") else v)
                          for k, v in self._step_info().items()}
            infos["final_obs"], infos["_final_obs"] = final_obs, mask
            infos["final_info"], infos["_final_info"] = final_info, mask.copy()
            self._start(idx)
            obs[idx] = self._observe(idx)
            infos = _merge(infos, self._reset_info(idx), self.num_envs)
        return obs, rewards, terminated, truncated, infos

    def render(self) -> tuple[np.ndarray, ...] | None:
        """One frame per sub-env (``rgb_array``)."""
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass "
                            "render_mode='rgb_array' to gym.make_vec")
            return None
        return tuple(raster.render(self._row_world(i), *self.frame_size)
                     for i in range(self.num_envs))

    def _row_world(self, i: int) -> Any:
        raise NotImplementedError


def _merge(infos: dict[str, Any], extra: dict[str, Any], n: int) -> dict[str, Any]:
    """Adds ``extra`` (value arrays with ``_key`` masks) into ``infos``, masks or-ed."""
    for key, value in extra.items():
        if key.startswith("_"):
            continue
        mask = extra[f"_{key}"]
        if key in infos:
            infos[key] = np.where(mask, value, infos[key])
            infos[f"_{key}"] = infos[f"_{key}"] | mask
        else:
            infos[key], infos[f"_{key}"] = value, mask
    return infos


class ClassicVectorEnv(_FlyerVectorEnv):
    """``gym.make_vec("flyer/Classic-v0", num_envs=N)``: N classic flights in a ``ClassicBatch``."""

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"],
                                "render_fps": ClassicEnv.metadata["render_fps"],
                                "autoreset_mode": AutoresetMode.NEXT_STEP}
    level = "classic"

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_envs, **kwargs)
        self.batch = ClassicBatch(num_envs, autoreset=False)
        self.single_observation_space = _classic_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._world = ClassicWorld()

    def _draw(self, rng: np.random.Generator) -> tuple:
        return (float(self.batch.physics.v_y_sigma * rng.standard_normal()),)

    def _restart(self, idx: np.ndarray, draws: list[tuple]) -> None:
        b = self.batch
        b.x[idx] = b.physics.x_start
        b.y[idx] = 0.0
        b.v_y[idx] = [d[0] for d in draws]
        b.t[idx] = 0

    def _observe(self, idx: np.ndarray) -> np.ndarray:
        return self.batch.observation()[idx]

    def _batch_step(self, actions: np.ndarray):
        return self.batch.step(actions)

    def _row_world(self, i: int) -> Any:
        w, b = self._world, self.batch
        w.x, w.y, w.v_y, w.t = float(b.x[i]), float(b.y[i]), float(b.v_y[i]), int(b.t[i])
        w.done = bool(self._autoreset[i])
        return w


class ArcadeVectorEnv(_FlyerVectorEnv):
    """``gym.make_vec("flyer/Arcade-v0", num_envs=N)``: N arcade runs in an ``ArcadeBatch``.

    ``info["score"]`` holds every run's gates so far; after a restart ``info``
    also holds its ``course_seed`` and ``v_y0`` (masked by ``_course_seed``), as the
    scalar env's reset info does.
    """

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"],
                                "render_fps": ArcadeEnv.metadata["render_fps"],
                                "autoreset_mode": AutoresetMode.NEXT_STEP}
    level = "arcade"

    def __init__(self, num_envs: int = 1, n_gates: int = 100, **kwargs: Any) -> None:
        super().__init__(num_envs, **kwargs)
        self.batch = ArcadeBatch(num_envs, n_gates=n_gates, autoreset=False)
        self.single_observation_space = _arcade_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._all = np.ones(num_envs, dtype=bool)
        self._world = ArcadeWorld(n_gates=n_gates)

    def _draw(self, rng: np.random.Generator) -> tuple:
        # The scalar world's order: the course seed, then the initial speed.
        course_seed = int(rng.integers(2**63 - 1))
        return course_seed, float(self.batch.physics.v_y_sigma * rng.standard_normal())

    def _restart(self, idx: np.ndarray, draws: list[tuple]) -> None:
        seeds = np.array([d[0] for d in draws], dtype=np.int64)
        v_y = np.array([d[1] for d in draws])
        self.batch._restart(idx, seeds, v_y)

    def _observe(self, idx: np.ndarray) -> np.ndarray:
        return self.batch.observation() if idx is self._rows else self.batch._observe(idx)

    def _batch_step(self, actions: np.ndarray):
        return self.batch.step(actions)

    def _step_info(self) -> dict[str, Any]:
        return {"score": self.batch.score.copy(), "_score": self._all.copy()}

    def _reset_info(self, idx: np.ndarray) -> dict[str, Any]:
        mask = np.zeros(self.num_envs, dtype=bool)
        mask[idx] = True
        b = self.batch
        return {"score": np.where(mask, 0, b.score), "_score": mask.copy(),
                "course_seed": np.where(mask, b.course_seed, 0), "_course_seed": mask.copy(),
                "v_y0": np.where(mask, b.v_y, 0.0), "_v_y0": mask}

    def _row_world(self, i: int) -> Any:
        w, b = self._world, self.batch
        if w.course_seed != int(b.course_seed[i]):
            w.reset(course_seed=int(b.course_seed[i]), v_y=0.0)
        w.t, w.y, w.v_y = int(b.t[i]), float(b.y[i]), float(b.v_y[i])
        w.gate, w.score = int(b.gate[i]), int(b.score[i])
        w.done = bool(self._autoreset[i])
        return w
