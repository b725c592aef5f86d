"""Gymnasium environments over the simulation worlds, scalar and natively vectorised.

``flyer/Classic-v0`` and ``flyer/Arcade-v0`` are ``gym.Env`` s over one world each;
``gym.make_vec`` of either id gives a numpy ``VectorEnv`` over the batched world
(``ClassicBatch``/``ArcadeBatch``) instead of a loop over Python envs.

Rendering: ``render_mode="rgb_array"`` returns ``(H, W, 3)`` uint8 frames drawn by
``game.sim.raster`` in numpy, so it works with no display at all; ``"human"`` shows the
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

from game.sim import raster
from game.sim.arcade import OBS_SIZE, ArcadeBatch, ArcadeWorld
from game.sim.classic import ClassicBatch, ClassicWorld
from game.sim.levels import ARCADE, CLASSIC, Level

RENDER_MODES = ["human", "rgb_array"]
ACTIONS_HELP = "actions are 0 (FALL) and 1 (JUMP), as an int or an integer numpy value"
STEP_AFTER_END = ("You are calling 'step()' even though this environment has already returned "
                  "terminated = True. You should always call 'reset()' once you receive "
                  "'terminated = True' -- any further steps are undefined behavior.")
"""Gymnasium's own warning (CartPole's words) for a step after the run ended."""
FRAME_SIZE = 400
"""Default width and height of rendered frames, in pixels."""


def decision_fps(level: Level, world: Any = None) -> float:
    """Frames per second for real-time playback of ``level``: one frame per decision.

    The decision length is the world's own ``decision_ticks`` when a world is given
    (an instance attribute for arcade v2), else the spec's.
    """
    ticks = getattr(world, "decision_ticks", None) if world is not None else None
    return float(level.ticks_per_second) / int(ticks or level.decision_ticks)


# ----------------------------------------------------------------------- episode draws
# Each run's random start (its course seed and initial speed) is a pure function of the env's
# episode key and the run's index, like a course's gates are of (seed, gate): a scalar env and
# the vector env's row for it make bit-identical runs, and the vector env restarts any number
# of runs in whole-array numpy instead of one generator call per run.
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_SALT_SPEED = np.uint64(0x13198A2E03707344)
_NORMAL_BITS = 16
_NORMAL_SHIFT = np.uint64(64 - _NORMAL_BITS)


_S30, _S27, _S31, _ONE = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(1)
_MUL1, _MUL2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(z: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on uint64 (wrap-around arithmetic is intended)."""
    z = (z ^ (z >> _S30)) * _MUL1
    z = (z ^ (z >> _S27)) * _MUL2
    return z ^ (z >> _S31)


def _normal_quantiles(n: int) -> np.ndarray:
    """The standard normal's quantiles at ``(i + 0.5) / n`` (Acklam's rational fit, |err| < 1e-8).

    A table lookup rather than Box-Muller: log and cos may differ in their last bit between
    numpy's scalar and SIMD loops, a table read never does.
    """
    a = (-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
         1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00)
    b = (-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
         6.680131188771972e+01, -1.328068155288572e+01)
    c = (-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
         -2.549671010366180e+00, 4.374664141464968e+00, 2.938163982698783e+00)
    d = (7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
         3.754408661907416e+00)
    p = (np.arange(n) + 0.5) / n
    tail = np.minimum(p, 1 - p)
    q = np.sqrt(-2 * np.log(tail))
    outer = ((((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
             / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1))
    r, m = (p - 0.5) ** 2, p - 0.5
    inner = ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * m
             / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1))
    z = np.where(tail < 0.02425, np.where(p < 0.5, outer, -outer), inner)
    z.setflags(write=False)
    return z


_NORMAL = _normal_quantiles(1 << _NORMAL_BITS)


class StartSpeeds:
    """How a level's runs draw their initial v_y from 64 uniform bits, in numpy or in Python.

    A level whose physics lists ``start_speeds`` (arcade v2: whole sub-units, so the
    oracle's states stay few) picks one of them uniformly; otherwise the speed is
    N(0, ``v_y_sigma``^2) through a 65,536-entry quantile table.
    """

    def __init__(self, physics: Any) -> None:
        speeds = getattr(physics, "start_speeds", None)
        self.choices = None if speeds is None else [s * physics.unit for s in speeds]
        self._choices = None if speeds is None else np.array(self.choices)
        self.sigma = None if speeds is not None else float(physics.v_y_sigma)

    def many(self, bits: np.ndarray) -> np.ndarray:
        if self._choices is not None:
            return self._choices[(bits % np.uint64(len(self.choices))).astype(np.int64)]
        return self.sigma * _NORMAL[(bits >> _NORMAL_SHIFT).astype(np.int64)]

    def one(self, bits: int) -> float:
        if self.choices is not None:
            return float(self.choices[bits % len(self.choices)])
        return self.sigma * float(_NORMAL[bits >> (64 - _NORMAL_BITS)])


def episode_draws(keys: np.ndarray, episodes: np.ndarray, speeds: StartSpeeds,
                  courses: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
    """``(course_seed, v_y)`` of run ``episodes`` (int) of the envs with episode ``keys``.

    Course seeds are uniform 63-bit integers (None unless ``courses``: classic has none);
    initial speeds are drawn as ``speeds`` says.
    """
    # One hash per run gives the course seed (its top 63 bits); a second, salted, the speed.
    base = _mix(np.asarray(keys, dtype=np.uint64)
                + (np.asarray(episodes).astype(np.uint64) + _ONE) * _GOLDEN)
    course_seed = (base >> _ONE).astype(np.int64) if courses else None
    return course_seed, speeds.many(_mix(base ^ _SALT_SPEED))


_M64 = (1 << 64) - 1


def _mix_int(z: int) -> int:
    """``_mix`` on one Python int: the same bits, without numpy's per-call cost."""
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def episode_draw(key: int, episode: int, speeds: StartSpeeds) -> tuple[int, float]:
    """``episode_draws`` for one run, in Python ints (a scalar env's reset)."""
    base = _mix_int((key + (episode + 1) * 0x9E3779B97F4A7C15) & _M64)
    return base >> 1, speeds.one(_mix_int(base ^ 0x13198A2E03707344))


def _new_key(rng: np.random.Generator) -> int:
    """An episode key drawn from an env's generator (at a seeded or first reset)."""
    return int(rng.integers(2**63))


class _Episodes:
    """A scalar env's episode key and run index: reset(seed) draws a key, other resets count."""

    def __init__(self) -> None:
        self.key: int | None = None
        self.index = 0

    def next(self, seeded: bool, rng: np.random.Generator,
             speeds: StartSpeeds) -> tuple[int, float]:
        if seeded or self.key is None:
            self.key, self.index = _new_key(rng), 0
        else:
            self.index += 1
        return episode_draw(self.key, self.index, speeds)


def checked_actions(actions: Any, shape: tuple[int, ...]) -> np.ndarray:
    """``actions`` as an int64 array of ``shape``, or ``gym.error.InvalidAction``.

    One rule for the scalar env (``shape=()``) and the vector env (``(num_envs,)``), so they
    agree on every input: whole numbers (Python, numpy or bool) that are 0 or 1. A float
    such as 1.5, a string such as '1', 2, -1 or 10**30 is refused, as CartPole refuses
    them (it asserts ``action_space.contains``).
    """
    a = np.asarray(actions)
    if a.shape != shape or a.dtype.kind not in "biu" or not ((a >= 0) & (a <= 1)).all():
        what = "action" if shape == () else "actions"
        raise gym.error.InvalidAction(f"{actions!r} ({type(actions).__name__}) is not a valid "
                                      f"{what}{'' if shape == () else f' for {shape[0]} envs'}:"
                                      f" {ACTIONS_HELP}")
    return a.astype(np.int64)


class _StepOrder:
    """Refuses a step before ``reset`` and warns, as CartPole does, on a step after the end."""

    _ended: bool | None = None
    """None before the first reset; then whether the run has ended."""

    def _begin_step(self, action: Any) -> int:
        if self._ended is None:
            raise gym.error.ResetNeeded("Cannot call env.step() before calling env.reset()")
        if self._ended:
            gym.logger.warn(STEP_AFTER_END)
        return int(checked_actions(action, ()))


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
        self.closed = False
        """The user closed the window: frames are no longer shown (the env keeps running)."""
        self._due = 0.0

    def show(self, frame: np.ndarray) -> None:
        """Draws ``frame`` in the window (opened on first use), then waits for its slot."""
        if self.closed:
            return
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
        if window.has_exit:
            self.close()
            self.closed = True
            return
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


class ClassicEnv(_StepOrder, _Rendered, gym.Env):
    """``flyer/Classic-v0``: the seed's flight. Obs ``[y, v_y]``; see ``ClassicWorld``.

    Rewards as in the seed: +1 on reaching the right edge, -1 on leaving the field
    at the top or bottom, 0 otherwise; ``terminated`` on either edge. Frames show
    the flights won in a row, as the window does.

    A run's initial speed is ``episode_draws`` of the env's episode key (drawn from
    ``np_random`` by a seeded or first reset) and the run's index since then.
    """

    metadata: dict[str, Any] = {"render_modes": RENDER_MODES,
                                "render_fps": decision_fps(CLASSIC, ClassicWorld())}

    def __init__(self, render_mode: str | None = None, width: int = FRAME_SIZE,
                 height: int = FRAME_SIZE) -> None:
        self.world = ClassicWorld()
        self.observation_space = _classic_space()
        self.action_space = gym.spaces.Discrete(2)
        self._init_render(render_mode, width, height)
        self._episodes = _Episodes()
        self._speeds = StartSpeeds(self.world.physics)
        self.streak = 0
        """Flights won in a row (shown on the frames)."""

    def _score_shown(self) -> int | None:
        return self.streak

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.world.rng = self.np_random
        _, v_y = self._episodes.next(seed is not None, self.np_random, self._speeds)
        obs = self.world.reset(v_y=v_y)
        self._ended = False
        if self.render_mode == "human":
            self.render()
        return obs, {}

    def step(self, action):
        reward, terminated = self.world.step(self._begin_step(action))
        self._ended = self._ended or bool(terminated)
        if terminated:
            self.streak = self.streak + 1 if reward > 0 else 0
        if self.render_mode == "human":
            self.render()
        return self.world.observation(), reward, terminated, False, {}


class ArcadeEnv(_StepOrder, _Rendered, gym.Env):
    """``flyer/Arcade-v0``: gates on a finite course. See ``ArcadeWorld`` for the table.

    +1 per gate passed, -1 on a crash (which terminates); passing the last of
    ``n_gates`` gates also terminates. ``info['score']`` is the gates passed so far.

    ``reset`` takes ``options={"course_seed": int, "v_y": float}`` to fly a given course
    from a given initial speed; its info also holds the run's ``course_seed`` and
    ``v_y0``, which is what ``game.sim.oracle.oracle_scores`` needs for this run's ceiling.
    Otherwise both are ``episode_draws`` of the env's episode key (drawn from
    ``np_random`` by a seeded or first reset) and the run's index since then, as the
    vector env's rows draw them.
    """

    metadata: dict[str, Any] = {"render_modes": RENDER_MODES,
                                "render_fps": decision_fps(ARCADE, ArcadeWorld(n_gates=1))}

    def __init__(self, n_gates: int = 100, render_mode: str | None = None,
                 width: int = FRAME_SIZE, height: int = FRAME_SIZE) -> None:
        self.world = ArcadeWorld(n_gates=n_gates)
        self.observation_space = _arcade_space()
        self.action_space = gym.spaces.Discrete(2)
        self._init_render(render_mode, width, height)
        self._episodes = _Episodes()
        self._speeds = StartSpeeds(self.world.physics)

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.world.rng = self.np_random
        options = options or {}
        course_seed, v_y = self._episodes.next(seed is not None, self.np_random,
                                               self._speeds)
        course_seed = options.get("course_seed", course_seed)
        v_y = options.get("v_y", v_y)
        obs = self.world.reset(course_seed=course_seed, v_y=v_y)
        info = {"score": 0, "course_seed": self.world.course_seed, "v_y0": self.world.v_y}
        self._ended = False
        if self.render_mode == "human":
            self.render()
        return obs, info

    def step(self, action):
        reward, terminated = self.world.step(self._begin_step(action))
        self._ended = self._ended or bool(terminated)
        if self.render_mode == "human":
            self.render()
        return self.world.observation(), reward, terminated, False, {"score": self.world.score}


# ----------------------------------------------------------------------- vector envs
class _FlyerVectorEnv(VectorEnv):
    """N flyers in one batched world, with the scalar envs' seeding and autoreset.

    Each sub-env is seeded as ``SyncVectorEnv`` seeds its envs (``reset(seed=s)`` gives
    env ``i`` the seed ``s + i``) and its runs start from ``episode_draws`` as the
    scalar env's do, so the N flyers are the N scalar envs of
    ``gym.make_vec(..., vectorization_mode="sync")`` step for step. Only a seeded
    reset loops over envs; steps and autoresets are whole-array numpy.

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
        self._keys = np.zeros(num_envs, dtype=np.uint64)
        """Each run's episode key (see ``episode_draws``), drawn at a seeded or first reset."""
        self._episode = np.zeros(num_envs, dtype=np.int64)
        self._keyed = np.zeros(num_envs, dtype=bool)
        self._autoreset = np.zeros(num_envs, dtype=bool)
        self._rows = np.arange(num_envs)
        self._started = False
        """False until the first reset: a step before it is refused."""

    # per level: restart runs from their draws, observe rows, infos
    def _restart(self, idx: np.ndarray, course_seeds: np.ndarray, v_y: np.ndarray) -> None:
        raise NotImplementedError

    def _observe(self, idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _reset_info(self, idx: np.ndarray) -> dict[str, Any]:
        """The info of a reset of runs ``idx``, as SyncVectorEnv gathers its envs' infos."""
        return {}

    def _step_info(self, restarted: np.ndarray | None = None) -> dict[str, Any]:
        """The info after a step; runs ``restarted`` have just started again (reset infos)."""
        return {}

    def _new_keys(self, seed: int | list[int | None] | None, idx: np.ndarray) -> None:
        """Episode keys of the runs ``idx`` at a reset, as their scalar envs would draw them."""
        n = self.num_envs
        if seed is None:
            seeds: list[int | None] = [None] * n
        elif isinstance(seed, int | np.integer):
            seeds = [int(seed) + i for i in range(n)]
        else:
            seeds = list(seed)
            if len(seeds) != n:
                raise ValueError(f"expected {n} seeds, got {len(seeds)}")
        for i in idx.tolist():
            if seeds[i] is not None or not self._keyed[i]:
                self._keys[i] = _new_key(seeding.np_random(seeds[i])[0])
                self._episode[i] = 0
                self._keyed[i] = True
            else:
                self._episode[i] += 1

    _courses = True

    def _start(self, idx: np.ndarray) -> None:
        course_seeds, v_y = episode_draws(self._keys[idx], self._episode[idx], self._speeds,
                                          self._courses)
        self._restart(idx, course_seeds, v_y)

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None):
        """Starts every run again (or those in ``options["reset_mask"]``)."""
        super().reset(seed=seed if isinstance(seed, int | np.integer) else None)
        mask = (options or {}).get("reset_mask")
        if mask is None:
            idx = self._rows
        else:
            mask = np.asarray(mask)
            if mask.shape != (self.num_envs,) or mask.dtype != np.bool_:
                raise ValueError(f"options['reset_mask'] must be a bool array of shape "
                                 f"({self.num_envs},)")
            idx = np.flatnonzero(mask)
        if not self._started and idx.size < self.num_envs:
            raise gym.error.ResetNeeded("the first reset must start every env (no reset_mask)")
        self._new_keys(seed, idx)
        self._start(idx)
        self._started = True
        self._autoreset[idx] = False
        return self._observe(self._rows), self._reset_info(idx)

    def _autostart(self, idx: np.ndarray) -> None:
        """The next runs of ``idx``, as a scalar env's unseeded reset makes them."""
        self._episode[idx] += 1
        self._start(idx)

    def _batch_step(self, actions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        raise NotImplementedError

    def step(self, actions):
        """One decision for every flyer; see the class docstring for autoresets."""
        if not self._started:
            raise gym.error.ResetNeeded("Cannot call env.step() before calling env.reset()")
        actions = checked_actions(actions, (self.num_envs,))
        obs, rewards, terminated = self._batch_step(actions)
        rewards = rewards.astype(np.float64)
        truncated = np.zeros(self.num_envs, dtype=bool)
        if self.autoreset_mode == AutoresetMode.NEXT_STEP:
            restart = self._autoreset
            if restart.any():
                # These flyers ended on the previous step: this step starts their new run
                # instead (the batch also moved them; the restart overwrites that).
                idx = np.flatnonzero(restart)
                self._autostart(idx)
                obs[idx] = self._observe(idx)
                rewards[idx] = 0.0
                terminated = terminated & ~restart
                infos = self._step_info(restarted=idx)
            else:
                terminated = terminated.copy()
                infos = self._step_info()
            self._autoreset = terminated | truncated
        elif not terminated.any():
            infos = self._step_info()
        else:
            terminated = terminated.copy()
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
            self._autostart(idx)
            obs[idx] = self._observe(idx)
            infos = self._step_info(restarted=idx)
            infos["final_obs"], infos["_final_obs"] = final_obs, mask
            infos["final_info"], infos["_final_info"] = final_info, mask.copy()
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


class ClassicVectorEnv(_FlyerVectorEnv):
    """``gym.make_vec("flyer/Classic-v0", num_envs=N)``: N classic flights in a ``ClassicBatch``."""

    metadata: dict[str, Any] = {"render_modes": ["rgb_array"],
                                "render_fps": ClassicEnv.metadata["render_fps"],
                                "autoreset_mode": AutoresetMode.NEXT_STEP}
    level = "classic"
    _courses = False

    def __init__(self, num_envs: int = 1, **kwargs: Any) -> None:
        super().__init__(num_envs, **kwargs)
        self.batch = ClassicBatch(num_envs, autoreset=False)
        self._speeds = StartSpeeds(self.batch.physics)
        self.single_observation_space = _classic_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._world = ClassicWorld()

    def _restart(self, idx: np.ndarray, course_seeds: np.ndarray, v_y: np.ndarray) -> None:
        b = self.batch
        b.x[idx] = b.physics.x_start
        b.y[idx] = 0.0
        b.v_y[idx] = v_y
        b.t[idx] = 0

    def _observe(self, idx: np.ndarray) -> np.ndarray:
        b = self.batch
        if idx is self._rows:
            return b.observation()
        obs = np.empty((idx.size, 2), dtype=np.float32)
        obs[:, 0] = b.y[idx]
        obs[:, 1] = b.v_y[idx]
        return obs

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
        self._speeds = StartSpeeds(self.batch.physics)
        self.single_observation_space = _arcade_space()
        self.observation_space = batch_space(self.single_observation_space, num_envs)
        self._all = np.ones(num_envs, dtype=bool)
        self._world = ArcadeWorld(n_gates=n_gates)

    def _restart(self, idx: np.ndarray, course_seeds: np.ndarray, v_y: np.ndarray) -> None:
        self.batch._restart(idx, course_seeds, v_y)

    def _observe(self, idx: np.ndarray) -> np.ndarray:
        return self.batch.observation() if idx is self._rows else self.batch._observe(idx)

    def _batch_step(self, actions: np.ndarray):
        return self.batch.step(actions)

    def _step_info(self, restarted: np.ndarray | None = None) -> dict[str, Any]:
        b = self.batch
        infos: dict[str, Any] = {"score": b.score.copy(), "_score": self._all.copy()}
        if restarted is not None and restarted.size:
            infos.update(self._start_info(restarted))
        return infos

    def _reset_info(self, idx: np.ndarray) -> dict[str, Any]:
        mask = np.zeros(self.num_envs, dtype=bool)
        mask[idx] = True
        return {"score": np.where(mask, 0, self.batch.score), "_score": mask,
                **self._start_info(idx)}

    def _start_info(self, idx: np.ndarray) -> dict[str, Any]:
        """``course_seed`` and ``v_y0`` of the runs ``idx`` that just started (masked)."""
        b, n = self.batch, self.num_envs
        mask = np.zeros(n, dtype=bool)
        mask[idx] = True
        seeds = np.zeros(n, dtype=np.int64)
        seeds[idx] = b.course_seed[idx]
        v_y0 = np.zeros(n)
        v_y0[idx] = b.v_y[idx]
        return {"course_seed": seeds, "_course_seed": mask, "v_y0": v_y0, "_v_y0": mask.copy()}

    def _row_world(self, i: int) -> Any:
        w, b = self._world, self.batch
        if w.course_seed != int(b.course_seed[i]):
            w.reset(course_seed=int(b.course_seed[i]), v_y=0.0)
        w.t, w.y, w.v_y = int(b.t[i]), float(b.y[i]), float(b.v_y[i])
        w.gate, w.score = int(b.gate[i]), int(b.score[i])
        w.done = bool(self._autoreset[i])
        return w
