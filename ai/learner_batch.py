"""Batched calls of the learner: many flyers' actions and transitions at once (a flock).

A mixin of ``ai.learner.Learner``, kept in its own module because it is a separate way of
driving the same learner: ``act_batch`` and ``observe_batch`` use the learner's own state
(weights, schedule, replay memory and replay-ratio credit) exactly as ``act`` and
``observe`` do, and ``greedy_batch`` flies the flying weights. The gradient steps a batch
defers (``observe_batch(defer=True)``, the window's flock) wait in ``owed`` until the caller
``pay``s them. Every row the memory stores goes through ``_store`` and every gradient step
through ``_run``: where the window gives the learner a child process (``remote``, an
``ai.process.remote.RemoteSteps``), the rows are copied there and the steps run there.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ai.mlp import numpy_forward

N_ACTIONS = 2
"""FALL and JUMP."""


class BatchCalls:
    """``act_batch``, ``greedy_batch``, ``observe_batch``, ``owed`` and ``pay`` for ``Learner``
    (which provides the state)."""

    rng: np.random.Generator
    epsilon: float
    explore_steps: int
    learn_enabled: bool
    rejected_transitions: int
    memory: Any
    credit: Any
    nstep: Any
    weights: Any
    remote: Any = None
    """An ``ai.process.remote.RemoteSteps`` (the gradient steps in a child process), or None."""

    def _update(self) -> None:
        raise NotImplementedError

    def _store(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
               next_obs: np.ndarray, terminated: np.ndarray, human: np.ndarray) -> None:
        """Stores rows in the memory (and the child's copy of it)."""
        self.memory.add_batch(obs, actions, rewards, next_obs, terminated, human)
        if self.remote is not None:
            self.remote.add_rows(obs, actions, rewards, next_obs, terminated, human)

    def _run(self, steps: int) -> None:
        """Runs ``steps`` gradient steps, in the child process where one is attached."""
        if steps <= 0:
            return
        if self.remote is not None and self.remote.sending:
            self.remote.pay(steps)  # what the steps read of the learner: before they run
            if self.remote.attached:
                return
        for _ in range(steps):
            self._update()

    def act_batch(self, obs: np.ndarray, rng: np.random.Generator | None = None,
                  epsilon: float | np.ndarray | None = None, explore: bool = True
                  ) -> np.ndarray:
        """Actions for a batch of observations ``(B, obs)``, as int64 ``(B,)``.

        Exploring: epsilon-greedy on the online weights, the random draws taken from ``rng``
        (a flock's own generator; default the learner's), with ``epsilon`` per row or for all
        (default: the schedule's ``epsilon``). The schedule then advances by ``B`` exploring
        acts. Unlike ``B`` calls of ``act``, every row sees the epsilon at the batch's start.
        Not exploring: the greedy actions of the flying weights (``greedy_batch``).
        """
        obs = np.asarray(obs, dtype=np.float32)
        if not explore:
            return self.greedy_batch(obs)
        rng = self.rng if rng is None else rng
        eps = self.epsilon if epsilon is None else epsilon
        n = len(obs)
        self.explore_steps += n
        greedy = numpy_forward(self.weights.layers, obs).argmax(1) if n else np.zeros(0, np.int64)
        explore_rows = rng.random(n) < eps
        random_actions = rng.integers(N_ACTIONS, size=n)
        return np.where(explore_rows, random_actions, greedy).astype(np.int64)

    def greedy_batch(self, obs: np.ndarray) -> np.ndarray:
        """Greedy actions for a batch of observations ``(B, obs)``, as int64 ``(B,)``."""
        return numpy_forward(self.weights.pilot_layers, obs).argmax(1)

    def observe_batch(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                      next_obs: np.ndarray, terminated: np.ndarray,
                      truncated: np.ndarray | None = None, human: np.ndarray | None = None,
                      updates_per_step: float | None = None, defer: bool = False,
                      streams: np.ndarray | None = None) -> None:
        """Stores ``B`` transitions at once and runs the gradient steps they are due.

        The effect is that of ``B`` calls of ``observe`` in row order (the same memory
        contents, counters, learning-rate switch and replay-ratio credit, so the same number
        of gradient steps at the same ``env_steps``), with one difference: the gradient steps
        run after all ``B`` transitions are stored, so they may sample the later rows of the
        batch, which the one-by-one calls would not yet hold. ``truncated`` transitions are
        ordinary (bootstrapped) ones, as in ``observe``; ``human`` tags the player's rows.

        Args:
            updates_per_step: the replay ratio for these transitions, early phase or not
                (None: the config's schedule). A caller that steps many flyers at once sets
                it from its compute budget, e.g. lower at top speed than at 1x.
            defer: only add the gradient steps to the credit (``Learner.owed``), for the
                caller to ``pay`` later (the window spreads them over a decision's frames).
            streams: the flyer of each row (n-step returns follow each flyer's trajectory;
                default: row ``i`` is flyer ``i``).
        """
        if not self.learn_enabled:
            return
        obs = np.asarray(obs, dtype=np.float32)
        next_obs = np.asarray(next_obs, dtype=np.float32)
        rewards = np.asarray(rewards, dtype=np.float32)
        actions = np.asarray(actions, dtype=np.int64)
        terminated = np.asarray(terminated, dtype=bool)
        n = len(obs)
        human = np.zeros(n, dtype=bool) if human is None else np.asarray(human, dtype=bool)
        truncated = (np.zeros(n, dtype=bool) if truncated is None
                     else np.asarray(truncated, dtype=bool))
        streams = np.arange(n) if streams is None else np.asarray(streams, dtype=np.int64)
        ok = np.isfinite(obs).all(axis=1) & np.isfinite(next_obs).all(axis=1)
        ok &= np.isfinite(rewards)
        if not ok.all():
            self.rejected_transitions += int(n - ok.sum())
            obs, actions, rewards = obs[ok], actions[ok], rewards[ok]
            next_obs, terminated, human = next_obs[ok], terminated[ok], human[ok]
            truncated, streams = truncated[ok], streams[ok]
            n = len(obs)
        if self.nstep is None:
            self._store(obs, actions, rewards, next_obs, terminated, human)
        else:
            # stream 0 is ``observe``'s (the game's single flyer, the person's); a batch's
            # flyers follow it, so the two never break each other's windows
            self._store(*self.nstep.push(streams + 1, obs, actions, rewards,
                                                   next_obs, terminated, truncated, human))
        for _ in range(n):
            self._count_step(updates_per_step, defer)

    @property
    def owed(self) -> int:
        """Whole gradient steps deferred by ``observe_batch(defer=True)`` and not yet paid."""
        return self.credit.owed

    def pay(self, steps: int) -> int:
        """Runs up to ``steps`` of the owed gradient steps (``owed``); returns how many ran."""
        if not self.learn_enabled or self.memory.size == 0:
            return 0
        done = self.credit.take(steps)
        self._run(done)
        return done
