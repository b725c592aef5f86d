"""The tutorial's learner: the seed notebook's Q-learning, and its two closing techniques.

The seed notebook (``Brain`` and ``Agent.step``) learns online: after every action it takes one
RMSprop step (Keras defaults) on that one transition, toward targets from the network being
trained (``reward`` on a terminal transition, else ``reward + gamma * max_a Q(s', a)``; the
other action's target is its own prediction, so the MSE over both outputs moves only the
taken action's value). Epsilon starts at 1 and is multiplied by 0.99 after every action while
it is above 0.1. The network is Dense(32) ReLU Dense(32) ReLU Dense(2) with Keras's
initialisation (Glorot-uniform weights, zero biases). With neither switch on, this learner is
exactly that algorithm: ``tests/test_lab.py`` checks it against the torch port of the notebook
in ``bench/seed_port.py`` (the same initial weights and epsilon bit for bit; the same steps,
written in numpy in ``ai.optim.MseRmsprop``, to float precision).

The notebook ends by naming the two techniques DQN adds, and this learner adds them one at
a time (``TutorialConfig``):

* ``replay``: every transition goes into a replay memory (one plain ring, oldest overwritten)
  and each gradient step is on a minibatch drawn uniformly from it, instead of on the newest
  transition. One gradient step per transition, as before.
* ``target_network``: the targets come from a second network, a copy of the trained one
  refreshed every ``target_sync_updates`` gradient steps, instead of the network being
  trained.
* ``double_dqn`` (on top of both): the trained network picks the next action and the target
  network values it (Double DQN), the first of the game learner's own additions.

Nothing else changes: same loss, optimiser, learning rate, discount and epsilon schedule. The
game's own learner (``ai.learner.Learner``) adds much more (Double DQN, Huber loss, Adam,
gradient clipping, a protected share of crash lessons, an averaged pilot, a replay-ratio
schedule); the lab (``game.play.lab``) races them all.

The learner fits the game's learner protocol (``ai.protocol``): ``act``, ``observe``,
``act_batch``, ``observe_batch``, ``end_episode``, ``learn_enabled``, and what the flock's
window play reads (``env_steps``, ``updates``, ``epsilon``, ``train``, ``greedy_batch``,
``autopilot``). A flock's ``observe_batch`` is ``B`` calls of ``observe`` in row order: the
tutorial takes one gradient step per transition, on that transition. A caller that paces
learning itself passes ``updates_per_step=0`` and then calls ``train(k)``: the transitions
wait in order and ``train`` learns from the oldest ``k`` (without replay) or takes ``k``
minibatch steps (with replay).

In the window's lab its gradient steps run in the learner's child process (``remote``, an
``ai.process.remote.RemoteSteps``): the rows it keeps go there too, and ``train`` pays the
child, which takes the same steps (``tests/test_remote.py``).

Rules: torch and numpy, and ``ai`` modules only; it knows no game.
"""

from __future__ import annotations

import math
import operator
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ai.autopilot import Autopilot
from ai.optim import MseRmsprop
from ai.protocol import EpisodeRecord
from ai.qnet import QNet, numpy_forward

N_ACTIONS = 2
"""FALL and JUMP."""


@dataclass(frozen=True)
class TutorialConfig:
    """The tutorial's settings (the notebook's values) and the two switches."""

    hidden: tuple[int, ...] = (32, 32)
    """Widths of the hidden ReLU layers (the notebook's ``n_mid = 32``, twice)."""
    gamma: float = 0.9
    """Discount per step (the notebook's ``gamma``)."""
    lr: float = 1e-3
    """RMSprop learning rate (Keras's default; rho 0.9 and epsilon 1e-7 are Keras's too)."""
    eps_start: float = 1.0
    """Exploration rate at the first action."""
    eps_decay: float = 0.99
    """Epsilon is multiplied by this after every exploring action (the notebook's ``r``)..."""
    eps_min: float = 0.1
    """... while it is above this."""
    replay: bool = False
    """Experience replay: learn from minibatches drawn from a memory of past transitions."""
    batch_size: int = 32
    """Transitions per minibatch (with ``replay``)."""
    capacity: int = 10_000
    """Replay memory slots (with ``replay``; the oldest transition is overwritten)."""
    target_network: bool = False
    """A fixed target Q-network: targets from a copy refreshed every ``target_sync_updates``."""
    target_sync_updates: int = 100
    """Gradient steps between copies of the trained network into the target network."""
    double_dqn: bool = False
    """Double DQN (van Hasselt et al. 2016; with ``target_network``): the trained network
    picks the next action and the target network values it, instead of the target network's
    own maximum, which overestimates."""

    def __post_init__(self) -> None:
        if self.double_dqn and not self.target_network:
            raise ValueError("double_dqn needs target_network: the target network values "
                             "the action the trained network picks")

    @property
    def learning_starts(self) -> int:
        """Transitions stored before the first gradient step (a minibatch needs a memory)."""
        return self.batch_size if self.replay else 0


class PlainReplay:
    """A replay memory as the tutorial describes it: one ring, uniform draws, its own generator.

    (``ai.replay.ReplayMemory`` keeps crash transitions in a ring of their own; that is one of
    the game learner's additions, not the tutorial's.)
    """

    def __init__(self, obs_size: int, capacity: int, seed: Any = None) -> None:
        self.obs = np.zeros((capacity, obs_size), dtype=np.float32)
        self.actions = np.zeros(capacity, dtype=np.int64)
        self.rewards = np.zeros(capacity, dtype=np.float32)
        self.next_obs = np.zeros((capacity, obs_size), dtype=np.float32)
        self.terminated = np.zeros(capacity, dtype=np.float32)
        self.capacity = capacity
        self.pos = 0
        self.size = 0
        self.samples = 0
        """Minibatches drawn so far."""
        self.rng = np.random.default_rng(seed)

    def add(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray,
            terminated: bool) -> None:
        """Stores one transition over the oldest when full."""
        i = self.pos
        self.obs[i], self.actions[i], self.rewards[i] = obs, action, reward
        self.next_obs[i], self.terminated[i] = next_obs, float(terminated)
        self.pos = (i + 1) % self.capacity
        self.size = min(self.size + 1, self.capacity)

    def sample(self, n: int) -> tuple[np.ndarray, ...]:
        """``n`` transitions drawn uniformly (with replacement) from the filled slots."""
        idx = self.rng.integers(0, self.size, size=n)
        self.samples += 1
        return (self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx],
                self.terminated[idx])


def rows_as_arrays(rows: list[tuple]) -> list[np.ndarray]:
    """Transitions (``(obs, action, reward, next_obs, terminated)`` tuples) as one array per
    field, as ``PlainReplay`` keeps them (the learner's child process gets them so)."""
    obs, actions, rewards, next_obs, terminated = zip(*rows, strict=True)
    return [np.stack(obs).astype(np.float32), np.asarray(actions, np.int64),
            np.asarray(rewards, np.float32), np.stack(next_obs).astype(np.float32),
            np.asarray(terminated, np.float32)]


def glorot_init_(net: QNet, generator: torch.Generator) -> None:
    """Keras's ``glorot_uniform`` weights, ``U(+-sqrt(6 / (fan_in + fan_out)))``, zero biases."""
    with torch.no_grad():
        for i, p in enumerate(net.params):
            if i % 2 == 0:
                limit = math.sqrt(6.0 / (p.shape[0] + p.shape[1]))
                p.copy_(torch.rand(p.shape, generator=generator) * (2 * limit) - limit)
            else:
                p.zero_()


class _StepsElsewhere:
    """The tutorial learner's side of a child process that runs its gradient steps
    (``ai.process.remote``, the window's lab): the rows it stores go there too, and a paid step
    there is taken off here as the child will take it."""

    config: TutorialConfig
    memory: PlainReplay | None
    _pending: deque
    remote: Any = None
    """An ``ai.process.remote.RemoteSteps`` (the gradient steps in a child), or None."""

    def __init__(self) -> None:
        self._unsent: list[tuple[np.ndarray, int, float, np.ndarray, bool]] = []

    def _keep(self, row: tuple[np.ndarray, int, float, np.ndarray, bool]) -> None:
        """Stores a transition (in the memory, or to learn from in turn) and, where the steps
        run in a child process, keeps it to send there."""
        if self.memory is not None:
            self.memory.add(*row)
        else:
            self._pending.append(row)
        if self.remote is not None and self.remote.sending:
            self._unsent.append(row)

    def _send_rows(self) -> None:
        """The transitions stored since the last send, to the child's copy (in order)."""
        if self._unsent:
            self.remote.add_rows(*rows_as_arrays(self._unsent))
            self._unsent.clear()

    def _pay_child(self, steps: int) -> int:
        """``train`` where the steps run in the child (``remote``): the same count, the
        transitions learned from taken off here as there; the child's weights come back."""
        self._send_rows()
        if self.memory is None:
            steps = min(steps, len(self._pending))
            for _ in range(steps):
                self._pending.popleft()
        elif self.memory.size < self.config.batch_size:
            steps = 0
        if steps:
            self.remote.pay(steps)
        return steps


class TutorialLearner(_StepsElsewhere):
    """The notebook's Q-learning, optionally with experience replay and a fixed target network.

    Args:
        obs_size: length of the observation vector (classic: 2, the notebook's ``n_state``).
        config: the settings and switches (default: the notebook as written).
        meta: what the learner is for (saved into its pilots, e.g. the level).
        seed: seeds the initial weights, exploration and (with replay) the memory's draws.
    """

    def __init__(self, obs_size: int, config: TutorialConfig | None = None,
                 meta: Mapping[str, str] | None = None, seed: int = 0) -> None:
        torch.set_num_threads(1)  # tiny matrices: extra threads only add overhead
        self.config = config = config or TutorialConfig()
        self.obs_size = int(obs_size)
        self.meta = {str(k): str(v) for k, v in (meta or {}).items()}
        self.seed = int(seed)
        # The same seeding as bench/seed_port.py, so the plain tutorial equals it bit for bit.
        init_seq, act_seq = np.random.SeedSequence(self.seed).spawn(2)
        generator = torch.Generator().manual_seed(int(init_seq.generate_state(1, np.uint64)[0]))
        self.sizes = (self.obs_size, *config.hidden, N_ACTIONS)
        self.net = QNet(self.sizes)
        glorot_init_(self.net, generator)
        self._layers = self.net.numpy_layers()
        self.optimizer = MseRmsprop(self.net, config.lr)
        """The gradient step: the MSE's gradient and RMSprop, in numpy (``ai.optim``)."""
        self.target: QNet | None = None
        if config.target_network:
            self.target = QNet(self.sizes)
            self.target.flat.copy_(self.net.flat)
        self.memory: PlainReplay | None = None
        if config.replay:
            memory_seq = np.random.SeedSequence([self.seed, 0x7E7]).spawn(1)[0]
            self.memory = PlainReplay(self.obs_size, config.capacity, memory_seq)
        self.rng = np.random.default_rng(act_seq)
        self.eps = config.eps_start
        self.learn_enabled = True
        self.env_steps = 0
        self._owed = 0
        self.updates = 0
        self._credit = 0.0
        self._pending: deque[tuple[np.ndarray, int, float, np.ndarray, bool]] = deque()
        self._losses: deque[float] = deque(maxlen=100)
        _StepsElsewhere.__init__(self)
        self.record = EpisodeRecord()
        """Finished episodes: their count and the last 100 scores (no curve)."""

    episodes = property(operator.attrgetter("record.episodes"), doc="Episodes ended so far.")
    recent_scores = property(operator.attrgetter("record.recent_scores"))

    # ---- acting -------------------------------------------------------------------------

    @property
    def epsilon(self) -> float:
        """The current chance of a random action."""
        return self.eps

    def _decay(self) -> None:
        if self.eps > self.config.eps_min:
            self.eps *= self.config.eps_decay

    def act(self, obs: np.ndarray, explore: bool = True) -> int:
        """The notebook's ``get_action``: epsilon-greedy, then epsilon decays; or greedy."""
        q = numpy_forward(self._layers, np.asarray(obs, dtype=np.float32))
        if not explore:
            return int(q.argmax())
        if self.rng.random() < self.eps:
            action = int(self.rng.integers(N_ACTIONS))
        else:
            action = int(q.argmax())
        self._decay()
        return action

    def act_batch(self, obs: np.ndarray, rng: np.random.Generator | None = None,
                  epsilon: float | np.ndarray | None = None, explore: bool = True
                  ) -> np.ndarray:
        """Actions for a batch ``(B, obs)`` (a flock), int64 ``(B,)``.

        Exploring: row ``i`` sees the epsilon after ``i`` decays, as ``B`` calls of ``act``
        would (unless ``epsilon`` is given), the draws from ``rng`` (default the learner's).
        """
        obs = np.asarray(obs, dtype=np.float32)
        n = len(obs)
        greedy = numpy_forward(self._layers, obs).argmax(1) if n else np.zeros(0, np.int64)
        if not explore:
            return greedy.astype(np.int64)
        rng = self.rng if rng is None else rng
        eps = np.empty(n)
        for i in range(n):
            eps[i] = self.eps
            self._decay()
        if epsilon is not None:
            eps = np.broadcast_to(np.asarray(epsilon, dtype=np.float64), (n,))
        explore_rows = rng.random(n) < eps
        random_actions = rng.integers(N_ACTIONS, size=n)
        return np.where(explore_rows, random_actions, greedy).astype(np.int64)

    def q_values(self, obs: np.ndarray) -> np.ndarray:
        """Q-values of FALL and JUMP for one observation."""
        return numpy_forward(self._layers, np.asarray(obs, dtype=np.float32))

    def greedy_batch(self, obs: np.ndarray) -> np.ndarray:
        """Greedy actions for a batch of observations (the notebook flies its one network)."""
        return numpy_forward(self._layers, np.asarray(obs, dtype=np.float32)).argmax(1)

    # ---- learning -----------------------------------------------------------------------

    def observe(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray,
                terminated: bool, truncated: bool = False, human: bool = False,
                updates_per_step: float | None = None) -> None:
        """One transition, and the gradient step it pays for (the notebook's ``Brain.train``).

        ``truncated`` (a time limit) is bootstrapped like any transition; ``human`` makes no
        difference to the tutorial. ``updates_per_step`` (default 1) is the gradient steps
        this transition pays for; 0 leaves them to ``train``.
        """
        if not self.learn_enabled:
            return
        obs = np.asarray(obs, dtype=np.float32)
        next_obs = np.asarray(next_obs, dtype=np.float32)
        if not (np.isfinite(obs).all() and np.isfinite(next_obs).all()
                and math.isfinite(reward)):
            return
        self.env_steps += 1
        self._keep((obs, int(action), float(reward), next_obs, bool(terminated)))
        self._send_rows()
        self._credit += 1.0 if updates_per_step is None else float(updates_per_step)
        due = int(self._credit)
        if due:
            self._credit -= due
            self.train(due)

    def observe_batch(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                      next_obs: np.ndarray, terminated: np.ndarray,
                      truncated: np.ndarray | None = None, human: np.ndarray | None = None,
                      updates_per_step: float | None = None, defer: bool = False,
                      streams: np.ndarray | None = None) -> None:
        """``B`` calls of ``observe`` in row order (one gradient step each, by default).

        ``defer`` and ``streams`` are the protocol's (``ai.protocol``): the tutorial learns
        one-step, so streams do not matter, and the lab never defers to it (it keeps its own
        debt and calls ``train``); deferred steps would be paid by ``pay`` all the same.
        """
        if not self.learn_enabled:
            return
        obs = np.asarray(obs, dtype=np.float32)
        next_obs = np.asarray(next_obs, dtype=np.float32)
        rewards = np.asarray(rewards, dtype=np.float64)
        ok = np.isfinite(obs).all(axis=1) & np.isfinite(next_obs).all(axis=1)
        ok &= np.isfinite(rewards)
        credit = 1.0 if updates_per_step is None else float(updates_per_step)
        for i in np.flatnonzero(ok).tolist():  # in row order, as B calls of observe
            self.env_steps += 1
            row = (obs[i].copy(), int(actions[i]), float(rewards[i]), next_obs[i].copy(),
                   bool(terminated[i]))
            self._keep(row)
            self._credit += credit
            due = int(self._credit)
            if due:
                self._credit -= due
                if defer:
                    self._owed += due
                else:
                    self.train(due)
        self._send_rows()

    @property
    def owed(self) -> int:
        """Gradient steps deferred by ``observe_batch(defer=True)`` and not yet paid."""
        return self._owed

    def pay(self, steps: int) -> int:
        """Runs up to ``steps`` of the owed gradient steps; returns how many ran."""
        steps = min(max(int(steps), 0), self._owed)
        self._owed -= steps
        return self.train(steps)

    def train(self, steps: int) -> int:
        """Up to ``steps`` gradient steps now; returns how many ran.

        Without replay each learns from the oldest transition not yet learned from (so none
        once every transition has been); with replay each is on a fresh minibatch, once the
        memory holds ``batch_size`` transitions.
        """
        if not self.learn_enabled:
            return 0
        if self.remote is not None and self.remote.attached:
            return self._pay_child(max(int(steps), 0))
        done = 0
        for _ in range(max(int(steps), 0)):
            if self.memory is None:
                if not self._pending:
                    break
                o, a, r, no, t = self._pending.popleft()
                self._step(o[None], np.array([a]), np.array([r], np.float32), no[None],
                           np.array([float(t)], np.float32))
            else:
                if self.memory.size < self.config.batch_size:
                    break
                self._step(*self.memory.sample(self.config.batch_size))
            done += 1
        if self.remote is not None and self.remote.sending:  # handing over: the child too
            self._send_rows()
            if done:
                self.remote.pay(done)
        return done

    def _step(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
              next_obs: np.ndarray, terminated: np.ndarray) -> None:
        """One RMSprop step on the MSE between ``Q(s, .)`` and the notebook's targets (from
        the target network, with that switch on); the target network's sync."""
        target = None if self.target is None else self.target.numpy_layers()
        self._losses.append(self.optimizer.step(obs, actions, rewards, next_obs, terminated,
                                                self.config.gamma, target,
                                                double=self.config.double_dqn))
        self.updates += 1
        if self.target is not None and self.updates % self.config.target_sync_updates == 0:
            self.target.flat.copy_(self.net.flat)

    @property
    def last_loss(self) -> float | None:
        """Mean loss over the last 100 gradient steps, or None before the first."""
        return sum(self._losses) / len(self._losses) if self._losses else None

    def end_episode(self, score: float) -> None:
        """A run ended (the notebook keeps no statistics; the lab's HUD reads these)."""
        self.record.add(score, self.env_steps)

    # ---- pilots -------------------------------------------------------------------------

    def autopilot(self) -> Autopilot:
        """A greedy snapshot of the network, as a pilot (``main.py train --team``)."""
        c = self.config
        card = {"trained_env_steps": self.env_steps, "trained_episodes": self.episodes,
                "seed": self.seed, "learner": "tutorial", "replay": c.replay,
                "target_network": c.target_network, "double_dqn": c.double_dqn}
        return Autopilot([w.copy() for w in self._layers], meta=self.meta, card=card)

    def __repr__(self) -> str:
        c = self.config
        return (f"TutorialLearner(replay={c.replay}, target_network={c.target_network}, "
                f"double_dqn={c.double_dqn}, "
                f"env_steps={self.env_steps}, updates={self.updates}, epsilon={self.eps:.3f})")
