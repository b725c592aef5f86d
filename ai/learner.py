"""The DQN learner: acts epsilon-greedily, stores transitions, learns while the game runs.

One gradient step (``ai.weights.DqnWeights.step``) is Double DQN with a fixed target
network, Huber loss, gradient-norm clipping and Adam; the gradient is written out by hand
(``ai.optim``, checked against autograd) because at this size autograd's
overhead costs more than the arithmetic. The learner decides when steps run and counts
them; the weights, their step and its rollback are ``ai.weights``'s. How many steps run per
env step follows a schedule: a high replay ratio in the early phase so a fresh autopilot learns
from its first few flights, then a low one so the game keeps its frame rate.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ai.autopilot import Autopilot
from ai.config import LearnerConfig, config_from_dict, config_to_dict
from ai.errors import PilotError, StateError
from ai.learner_batch import N_ACTIONS, BatchCalls
from ai.nstep import NStepWindows
from ai.pacing import StepCredit
from ai.protocol import EpisodeRecord
from ai.qnet import QNet, numpy_forward
from ai.replay import ReplayMemory
from ai.weights import ROLLBACK_STREAK_LIMIT as ROLLBACK_STREAK_LIMIT  # its old home
from ai.weights import DqnWeights

STATE_FORMAT_VERSION = 5
"""Bumped whenever ``Learner.state()`` changes shape. Version 5 adds the crowned champion (its
weights, when there is one, and its figures); 4 keeps the caller's metadata
(``meta``) and the observation size instead of a level name; 3 added the averaged pilot
weights; 2 (no averaging) and 1 (``torch.optim.Adam``'s per-layer moments) are still read;
anything else is refused."""



@dataclass
class LearnerState:
    """Everything needed to continue a learner exactly (see ``Learner.state``)."""

    tensors: dict[str, torch.Tensor]
    """Weights, target weights, last good weights, optimizer moments (safetensors)."""
    arrays: dict[str, np.ndarray]
    """The replay memory's arrays (``.npz``)."""
    meta: dict[str, Any]
    """Counters, epsilon schedule position, RNG states, config, curves (JSON)."""


def double_dqn_targets(online: QNet, target: QNet, rewards: torch.Tensor, next_obs: torch.Tensor,
                       terminated: torch.Tensor, gamma: float) -> torch.Tensor:
    """``r + gamma * (1 - terminated) * Q_target(s', argmax_a Q_online(s', a))``.

    The online net picks the next action and the target net values it (Double
    DQN), which removes the max operator's upward bias. A truncated transition
    has ``terminated = 0`` and is bootstrapped like any other.
    """
    with torch.no_grad():
        next_action = online(next_obs).argmax(1, keepdim=True)
        next_q = target(next_obs).gather(1, next_action).squeeze(1)
        return rewards + gamma * (1.0 - terminated) * next_q


class Learner(BatchCalls):
    """An online DQN learner; the window, ``train`` and the benches drive it.

    It knows observations and actions only: what it learns for (a game's level, its
    physics version) is ``meta``, strings it saves and that are checked when a state or
    a pilot is loaded.

    The HUD reads ``epsilon``, ``env_steps``, ``updates``, ``last_loss``, ``memory``, and
    ``episodes``, ``recent_scores`` and ``curve`` (``record``, an ``ai.protocol.EpisodeRecord``
    whose curve keeps at most ``config.curve_points`` points).

    Args:
        obs_size: length of the observation vector.
        config: the settings (default: ``LearnerConfig()``).
        meta: what the learner is for, e.g. ``{"level": "arcade", "physics_version": "2"}``.
        seed: seeds the initial weights, exploration and replay sampling.
    """

    def __init__(self, obs_size: int, config: LearnerConfig | None = None,
                 meta: Mapping[str, str] | None = None, seed: int = 0) -> None:
        obs_size = operator.index(obs_size)  # an int (numpy's too); a float is a TypeError
        if obs_size < 1:
            raise ValueError(f"obs_size must be at least 1, got {obs_size}")
        config = config or LearnerConfig()
        # Tiny matrices: extra threads only add synchronisation overhead.
        torch.set_num_threads(1)
        self.obs_size = obs_size
        self.meta = {str(k): str(v) for k, v in (meta or {}).items()}
        self.config = config
        self.seed = int(seed)
        init_seq, act_seq, memory_seq = np.random.SeedSequence(self.seed).spawn(3)
        generator = torch.Generator().manual_seed(int(init_seq.generate_state(1, np.uint64)[0]))
        self.sizes = (obs_size, *config.hidden, N_ACTIONS)
        self.weights = DqnWeights(self.sizes, generator, config)
        """The networks, Adam and the gradient step (``ai.weights``)."""
        self.memory = ReplayMemory(obs_size, config.capacity, config.terminal_capacity,
                                   seed=memory_seq)
        self.pacing = config.pacing
        """Gradient steps per env step (``ai.pacing``): what the flock and the window ask."""
        self.nstep = (NStepWindows(config.n_step, config.gamma, obs_size)
                      if config.n_step > 1 else None)
        """Each flyer's pending n-step windows (None: one-step returns)."""
        self.rng = np.random.default_rng(act_seq)
        self.learn_enabled = True
        self.env_steps = 0
        self.updates = 0
        self.explore_steps = 0
        self.rejected_transitions = 0
        self.credit = StepCredit()
        """Gradient steps paid for and not yet run (``ai.pacing``)."""
        self.record = EpisodeRecord()
        """Finished episodes: their count, the last 100 scores, the learning curve."""

    net = property(operator.attrgetter("weights.net"), doc="The online Q-network.")
    target = property(operator.attrgetter("weights.target"), doc="The target Q-network.")
    pilot_net = property(operator.attrgetter("weights.pilot_net"),
                         doc="The averaged flying weights, or None: the online ones fly.")
    optimizer = property(operator.attrgetter("weights.optimizer"), doc="Adam (flat).")
    nan_rollbacks = property(operator.attrgetter("weights.nan_rollbacks"),
                             doc="Gradient steps undone (NaN or Inf) so far.")
    rollback_streak = property(operator.attrgetter("weights.rollback_streak"))
    stalled = property(operator.attrgetter("weights.stalled"),
                       doc="Why learning stopped by itself (``ROLLBACK_STREAK_LIMIT``), or None.")
    last_loss = property(operator.attrgetter("weights.last_loss"),
                         doc="Mean loss of the last 100 gradient steps (None before the first).")
    episodes = property(operator.attrgetter("record.episodes"), doc="Episodes ended so far.")
    recent_scores = property(operator.attrgetter("record.recent_scores"))
    curve = property(operator.attrgetter("record.curve"), doc="(env steps, mean score) points.")

    # ---- acting -------------------------------------------------------------------------

    @property
    def epsilon(self) -> float:
        """Current chance of a random action (``LearnerConfig.epsilon_after``)."""
        return self.config.epsilon_after(self.explore_steps)

    def act(self, obs: np.ndarray, explore: bool = True) -> int:
        """An action for ``obs``: epsilon-greedy (advancing the schedule) or greedy.

        Exploring acts use the online weights: learning must see where they go wrong. Greedy
        acts use the flying weights (the average, where the config keeps one).
        """
        if explore:
            eps = self.epsilon
            self.explore_steps += 1
            if self.rng.random() < eps:
                return int(self.rng.integers(N_ACTIONS))
            return int(numpy_forward(self.weights.layers, obs).argmax())
        return int(numpy_forward(self.weights.pilot_layers, obs).argmax())

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of FALL and JUMP for ``obs``, shape ``(2,)``, of the weights the game flies
        with: the online ones while learning is on, else the flying (averaged) ones."""
        layers = self.weights.layers if self.learn_enabled else self.weights.pilot_layers
        return numpy_forward(layers, np.asarray(obs, dtype=np.float32))

    # ---- learning -----------------------------------------------------------------------

    def observe(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray,
                terminated: bool, truncated: bool = False, human: bool = False) -> None:
        """Stores one transition and runs the gradient steps the schedule asks for.

        ``terminated`` means the episode really ended (no bootstrap); ``truncated``
        (cut off by a time limit) is stored as an ordinary, bootstrapped transition.
        Non-finite transitions are dropped and counted in ``rejected_transitions``.
        """
        if not self.learn_enabled:
            return
        if not (np.isfinite(obs).all() and np.isfinite(next_obs).all() and math.isfinite(reward)):
            self.rejected_transitions += 1
            return
        if self.nstep is None:
            self._store(*(np.asarray(a)[None] for a in (obs, action, reward, next_obs,
                                                         bool(terminated), human)))
        else:
            e = self.nstep.push(np.zeros(1, np.int64), np.asarray(obs, np.float32)[None],
                                np.array([action]), np.array([reward], np.float32),
                                np.asarray(next_obs, np.float32)[None], np.array([terminated]),
                                np.array([truncated]), np.array([human]))
            self._store(*e)
        self._count_step()

    def _count_step(self, updates_per_step: float | None = None, defer: bool = False) -> None:
        """Counts one env step: the learning-rate switch, then the gradient steps its
        replay-ratio credit pays for (``updates_per_step`` overrides the pacing's ratio;
        ``defer`` only adds them to the credit, for ``pay``)."""
        c = self.config
        self.env_steps += 1
        if self.env_steps == c.early_steps:
            self.optimizer.lr = c.lr
        # (n-step windows hold the first transitions back: the memory may still be empty)
        if self.env_steps < c.learning_starts or self.memory.size == 0:
            return
        if updates_per_step is None:
            updates_per_step = self.pacing.ratio(self.env_steps)
        self.credit.earn(updates_per_step)
        if not defer:
            self._run(self.credit.take())

    def train(self, steps: int) -> int:
        """Runs up to ``steps`` gradient steps now, outside the replay-ratio schedule (a caller
        that paces learning itself); returns how many ran: none while learning is off or
        before ``learning_starts`` transitions are stored."""
        ready = self.learn_enabled and self.env_steps >= self.config.learning_starts
        steps = max(int(steps), 0) if ready and self.memory.size else 0
        self._run(steps)
        return steps

    def _update(self) -> None:
        """One Double-DQN gradient step, undone if it leaves a non-finite loss or weight."""
        c = self.config
        # The protected share guards crash lessons against dilution. Classic applies it from the
        # first update: without it some seeds collapse for a while after the early phase.
        early = self.env_steps < c.early_steps
        share = c.terminal_share_early if early else c.terminal_share
        stalled = self.weights.stalled
        if self.weights.step(self.memory.sample(c.batch_size, share), c) is None:
            if self.weights.stalled != stalled:  # this step was the one too many: stop
                self.learn_enabled = False
            return
        self.updates += 1
        self.weights.follow(c, self.updates, early)

    @property
    def lr(self) -> float:
        """The optimizer's current learning rate."""
        return self.optimizer.lr

    def set_lr(self, lr: float) -> None:
        """Sets the learning rate (``train`` anneals it over a finite run; the game never does)."""
        self.optimizer.lr = float(lr)

    def end_episode(self, score: float) -> None:
        """Records a finished episode's score (the game's: a success, gates passed, ...)."""
        self.record.add(score, self.env_steps, self.config.curve_points)

    # ---- pilots -------------------------------------------------------------------------

    def autopilot(self) -> Autopilot:
        """A greedy snapshot of the flying weights: the champion (``crown``) if one was crowned,
        else the average (where the config keeps one)."""
        return self._snapshot(self.weights.pilot_layers)

    def contenders(self) -> list[Autopilot]:
        """Snapshots a caller judges for the next crown (``DqnWeights.contenders``)."""
        return [self._snapshot(layers) for layers in self.weights.contenders()]

    def _snapshot(self, layers: list[np.ndarray]) -> Autopilot:
        card = {"trained_env_steps": self.env_steps, "trained_episodes": self.episodes}
        return Autopilot([x.copy() for x in layers], self.meta, {**card, "seed": self.seed})

    def crown(self, pilot: Autopilot, figures: Mapping[str, float]) -> None:
        """Makes ``pilot`` (a judged contender) fly, with its figures (``champion_figures``)."""
        self.weights.crown(pilot.layers, figures)

    champion_figures = property(operator.attrgetter("weights.champion_figures"))

    def load_pilot(self, pilot: Autopilot) -> None:
        """Continues learning from ``pilot``'s weights (all four networks set, Adam reset).

        Exploration jumps to ``eps_end``: a loaded pilot already flies, so it should not
        start by flying randomly. The settings become ``LearnerConfig.after_pilot``'s: no
        early phase, and a small learning rate (why: its docstring).
        """
        if pilot.sizes != self.sizes:
            raise PilotError(f"pilot has layers {list(pilot.sizes)}; this learner has "
                             f"{list(self.sizes)}")
        pilot.check(self.meta)
        if self.remote is not None:
            self.remote.sync()  # its counters and sampling generator, then the new weights
        self.weights.load(pilot.layers)
        self.explore_steps = max(self.explore_steps, self.config.eps_decay_steps)
        self.config = self.config.after_pilot(self.env_steps)
        self.pacing = self.config.pacing
        self.optimizer.lr = self.config.lr
        if self.nstep is not None:
            self.nstep.clear()
        if self.remote is not None and self.remote.sending:
            self.remote.reinit()

    # ---- persistence --------------------------------------------------------------------

    def state(self, filled: bool = False) -> LearnerState:
        """A complete copy: continuing from it is bit-identical (``ReplayMemory.state``)."""
        return _snapshot(self, filled)

    @classmethod
    def from_state(cls, state: LearnerState, expect: Mapping[str, str] | None = None,
                   defaults: LearnerConfig | None = None,
                   legacy_meta: Mapping[str, str] | None = None) -> Learner:
        """Rebuilds a learner from ``state()``; raises ``StateError`` naming what does not fit.

        Args:
            expect: metadata the state must carry (compared as strings), e.g. the level.
            defaults: values for settings added after the state was saved (else the
                ``LearnerConfig`` defaults).
            legacy_meta: metadata assumed for a state of format 3 or older, which carried
                only its ``level`` (e.g. the physics version every such save had).
        """
        try:
            return _rebuild(cls, state, expect or {}, defaults, legacy_meta or {})
        except StateError:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, RuntimeError) as exc:
            raise StateError(f"learner state is incomplete or malformed ({type(exc).__name__}: "
                             f"{exc})".replace("\n", " ")) from None

    def __repr__(self) -> str:
        return (f"Learner(meta={self.meta!r}, env_steps={self.env_steps}, "
                f"updates={self.updates}, epsilon={self.epsilon:.3f})")


def _check_meta(saved: Mapping[str, str], expect: Mapping[str, str]) -> None:
    for key, want in expect.items():
        have = saved.get(key)
        if have != str(want):
            raise StateError(f"learner state is for {key.replace('_', ' ')} {have}, not {want}")


def _restore(learner: Learner, state: LearnerState, version: int) -> None:
    """Copies ``state`` into a fresh ``learner`` of the saved shape, checking every part."""
    meta = state.meta
    learner.weights.restore(state.tensors, version, meta)
    try:
        learner.memory = ReplayMemory.from_state(state.arrays, meta["memory"])
    except ValueError as exc:
        raise StateError(str(exc)) from None
    if learner.memory.obs_size != learner.obs_size:
        raise StateError("replay memory obs size does not fit the learner's")
    learner.learn_enabled = bool(meta["learn_enabled"])
    for key in ("env_steps", "updates", "explore_steps", "rejected_transitions"):
        setattr(learner, key, int(meta[key]))
    record = learner.record
    record.episodes, record.curve_stride = int(meta["episodes"]), int(meta["curve_stride"])
    learner.credit.value = float(meta["credit"])
    record.recent_scores.extend(float(x) for x in meta["recent_scores"])
    record.curve = [(int(s), float(v)) for s, v in meta["curve"]]
    learner.rng.bit_generator.state = meta["rng"]
    if learner.nstep is not None and "nstep" in meta:
        learner.nstep.load(meta["nstep"])


def _snapshot(learner: Learner, filled: bool = False) -> LearnerState:
    """``Learner.state``: copies of every tensor and array, and the counters as JSON."""
    if learner.remote is not None:
        learner.remote.sync()  # the child's steps in flight, done and taken back
    tensors = learner.weights.tensors()
    arrays, memory_meta = learner.memory.state(filled)
    meta = {
        "format_version": STATE_FORMAT_VERSION,
        "meta": dict(learner.meta),
        "obs_size": learner.obs_size,
        "seed": learner.seed,
        "config": config_to_dict(learner.config),
        "lr": learner.optimizer.lr,
        "adam_steps": learner.optimizer.steps,
        "learn_enabled": learner.learn_enabled,
        "env_steps": learner.env_steps,
        "updates": learner.updates,
        "episodes": learner.episodes,
        "explore_steps": learner.explore_steps,
        "nan_rollbacks": learner.weights.nan_rollbacks,
        "rejected_transitions": learner.rejected_transitions,
        "credit": learner.credit.value,
        "losses": list(learner.weights.losses),
        "recent_scores": list(learner.recent_scores),
        "curve": [list(p) for p in learner.curve],
        "curve_stride": learner.record.curve_stride,
        "rng": learner.rng.bit_generator.state,
        "memory": memory_meta,
        "champion_figures": dict(learner.weights.champion_figures),
    }
    if learner.nstep is not None:
        meta["nstep"] = learner.nstep.state()
    return LearnerState(tensors, arrays, meta)


def _rebuild(cls: type[Learner], state: LearnerState, expect: Mapping[str, str],
             defaults: LearnerConfig | None, legacy_meta: Mapping[str, str]) -> Learner:
    """``Learner.from_state`` without its error wrapping."""
    meta = state.meta
    version = meta.get("format_version")
    if version not in (1, 2, 3, 4, STATE_FORMAT_VERSION):
        raise StateError(f"learner state format {version!r} is not the supported "
                         f"{STATE_FORMAT_VERSION}")
    if version < 4:
        saved_meta = {**legacy_meta, "level": str(meta["level"])}
        obs_size = int(meta["config"]["obs_size"])
    else:
        saved_meta, obs_size = dict(meta["meta"]), int(meta["obs_size"])
    _check_meta(saved_meta, expect)
    learner = cls(obs_size, config_from_dict(meta["config"], defaults), saved_meta,
                  int(meta["seed"]))
    _restore(learner, state, version)
    return learner
