"""A faithful torch port of the seed notebook's own learner, for side-by-side benchmarks.

The seed (Keras) does, on every tick, in this order (``Agent.step``):
``states = [y, v_y]``; move; reward and terminal from the move; ``get_action(states)``
(epsilon-greedy on ``predict(states)``, then ``eps *= 0.99`` while ``eps > 0.1``);
apply the action to ``v_y``; ``next_states = [y, v_y]``; ``Brain.train`` on this one
transition: targets are ``predict(states)`` with the taken action's entry replaced by
``reward`` (terminal) or ``reward + 0.9 * max predict(next_states)``, computed with the
same network before the update, then one ``train_on_batch`` step (MSE over both
outputs, RMSprop with Keras defaults). ``ClassicWorld.step`` moves, scores and then
applies the action exactly like that, so ``act`` then ``observe`` reproduces it.

Network: Dense(32) ReLU Dense(32) ReLU Dense(2), Keras initialisation
(Glorot-uniform weights, zero biases).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ai.qnet import QNet, numpy_forward


class SeedPort:
    """The seed's ``Brain`` (and the learning half of its ``Agent``), in torch."""

    def __init__(self, seed: int = 0, n_state: int = 2, n_mid: int = 32, n_action: int = 2,
                 gamma: float = 0.9, r: float = 0.99) -> None:
        torch.set_num_threads(1)
        init_seq, act_seq = np.random.SeedSequence(seed).spawn(2)
        generator = torch.Generator().manual_seed(int(init_seq.generate_state(1, np.uint64)[0]))
        self.net = QNet((n_state, n_mid, n_mid, n_action))
        with torch.no_grad():
            for i, p in enumerate(self.net.params):
                if i % 2 == 0:  # Keras glorot_uniform: U(+-sqrt(6 / (fan_in + fan_out)))
                    limit = math.sqrt(6.0 / (p.shape[0] + p.shape[1]))
                    p.copy_(torch.rand(p.shape, generator=generator) * (2 * limit) - limit)
                else:
                    p.zero_()
        self._layers = self.net.numpy_layers()
        # Keras 2.9 RMSprop defaults; torch's update  p -= lr * g / (sqrt(v) + eps)  is the same.
        self.optimizer = torch.optim.RMSprop(self.net.params, lr=1e-3, alpha=0.9, eps=1e-7)
        self.eps = 1.0
        self.gamma = gamma
        self.r = r
        self.rng = np.random.default_rng(act_seq)
        self.env_steps = 0

    def act(self, obs: np.ndarray, explore: bool = True) -> int:
        """``Brain.get_action`` for one state: epsilon-greedy, then epsilon decays."""
        q = numpy_forward(self._layers, obs)
        if not explore:
            return int(q.argmax())
        if self.rng.random() < self.eps:
            action = int(self.rng.integers(q.shape[0]))
        else:
            action = int(q.argmax())
        if self.eps > 0.1:
            self.eps *= self.r
        return action

    def observe(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray,
                terminated: bool, truncated: bool = False, human: bool = False) -> None:
        """``Brain.train`` on one transition: one RMSprop step on the MSE to the Q target."""
        x = torch.from_numpy(np.stack((obs, next_obs)).astype(np.float32))
        with torch.no_grad():
            q, next_q = self.net(x)
            t = q.clone()
            t[action] = reward if terminated else reward + self.gamma * next_q.max()
        pred = self.net(x[:1])[0]
        loss = torch.mean((pred - t) ** 2)  # Keras "mse": mean over the two outputs
        self.net.grad_flat.zero_()
        loss.backward()
        self.optimizer.step()
        self.env_steps += 1

    def end_episode(self, score: float) -> None:
        """The seed keeps no episode statistics."""

    def greedy_batch(self, obs: np.ndarray) -> np.ndarray:
        """Greedy actions for a batch of observations."""
        return numpy_forward(self._layers, obs).argmax(1)
