"""The gradient steps written out by hand: the learner's Adam and DQN loss, the tutorial's
RMSprop and MSE.

The game runs gradient steps between frames, so their fixed cost per call is what
limits how fast the autopilot can fly and learn. For a network this small that
cost is almost all Python and dispatch overhead: autograd's graph and
``torch.optim.Adam``'s per-parameter bookkeeping cost more than the arithmetic.
Both are replaced here by a few whole-buffer torch operations (the tutorial's step, on one
transition at a time, by numpy). ``tests/test_optim.py`` checks the gradient against
autograd and the optimizer against ``torch.optim.Adam``; ``tests/test_lab.py`` checks the
tutorial's step against the notebook's port, which uses autograd and ``torch.optim``.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ai.qnet import QNet, numpy_forward


class FlatAdam:
    """Adam (Kingma & Ba, as in ``torch.optim.Adam`` without weight decay) on a flat buffer.

    ``params`` and ``grad`` are 1-D float32 tensors; ``step()`` updates ``params``
    in place from ``grad``. The moments ``exp_avg`` and ``exp_avg_sq`` and the step
    count are the whole state (saved and restored by the learner).
    """

    def __init__(self, params: torch.Tensor, grad: torch.Tensor, lr: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        self.params = params
        self.grad = grad
        self.lr = float(lr)
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.exp_avg = torch.zeros_like(params)
        self.exp_avg_sq = torch.zeros_like(params)
        self.steps = 0

    def step(self) -> None:
        self.steps += 1
        b1, b2 = self.beta1, self.beta2
        g = self.grad
        self.exp_avg.lerp_(g, 1.0 - b1)
        self.exp_avg_sq.mul_(b2).addcmul_(g, g, value=1.0 - b2)
        bias1 = 1.0 - b1 ** self.steps
        bias2_sqrt = math.sqrt(1.0 - b2 ** self.steps)
        denom = self.exp_avg_sq.sqrt().div_(bias2_sqrt).add_(self.eps)
        self.params.addcdiv_(self.exp_avg, denom, value=-self.lr / bias1)

    def reset(self) -> None:
        """Forgets the moments (after a rollback or when new weights are loaded)."""
        self.exp_avg.zero_()
        self.exp_avg_sq.zero_()
        self.steps = 0


def _forward_keep(net: QNet, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Q-values and the input of every layer (post-ReLU activations), for the backward pass."""
    p = net.params
    last = len(p) - 2
    inputs = [x]
    for i in range(0, last, 2):
        x = torch.relu(torch.addmm(p[i + 1], x, p[i].t()))
        inputs.append(x)
    return torch.addmm(p[last + 1], x, p[last].t()), inputs


@torch.no_grad()
def dqn_loss_and_grad(net: QNet, target: QNet, obs: np.ndarray, actions: np.ndarray,
                      rewards: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray,
                      gamma: float, delta: float) -> torch.Tensor:
    """The Double-DQN Huber loss of a batch; its gradient is written into ``net.grad_flat``.

    Equal to autograd on ``huber(Q(s, a), r + gamma * (1 - terminated) *
    Q_target(s', argmax_a' Q(s', a')))`` with the target held fixed (see
    ``ai.learner.double_dqn_targets``). The online network sees ``s`` and ``s'``
    in one stacked pass; the backward pass runs through the ``s`` half only.
    """
    b = obs.shape[0]
    q_all, inputs = _forward_keep(net, torch.from_numpy(np.concatenate((obs, next_obs))))
    tq, _ = _forward_keep(target, torch.from_numpy(next_obs))
    a = torch.from_numpy(actions).unsqueeze(1)
    next_q = tq.gather(1, q_all[b:].argmax(1, keepdim=True)).squeeze(1)
    y = torch.from_numpy(rewards).addcmul_(1.0 - torch.from_numpy(terminated), next_q,
                                           value=gamma)
    q = q_all[:b].gather(1, a).squeeze(1)
    diff = q - y
    loss = torch.nn.functional.huber_loss(q, y, delta=delta)
    # d loss / d q: the Huber derivative, clipped TD error over the batch size
    dz = torch.zeros(b, q_all.shape[1]).scatter_(1, a, diff.clamp_(-delta, delta).div_(b)
                                                 .unsqueeze(1))
    p, grads = net.params, net.grads
    for i in range(len(p) // 2 - 1, -1, -1):
        h = inputs[i][:b]
        torch.mm(dz.t(), h, out=grads[2 * i])
        torch.sum(dz, 0, out=grads[2 * i + 1])
        if i > 0:
            dz = torch.mm(dz, p[2 * i]).mul_(h > 0)
    return loss


def _numpy_forward_keep(layers: list[np.ndarray], x: np.ndarray
                        ) -> tuple[np.ndarray, list[np.ndarray]]:
    """``_forward_keep`` in numpy: Q-values and the input of every layer."""
    last = len(layers) - 2
    inputs = [x]
    for i in range(0, last, 2):
        x = x @ layers[i].T + layers[i + 1]
        np.maximum(x, 0.0, out=x)
        inputs.append(x)
    return x @ layers[last].T + layers[last + 1], inputs


class MseRmsprop:
    """The tutorial's gradient step on ``net``: Keras's ``mse`` toward Q-learning targets, then
    RMSprop with Keras's defaults (rho 0.9, epsilon 1e-7), in numpy on the flat buffers.

    Numpy because on one transition autograd's fixed overhead is most of a step's cost.
    """

    def __init__(self, net: QNet, lr: float, rho: float = 0.9, eps: float = 1e-7) -> None:
        self.layers = net.numpy_layers()
        self.flat = net.flat.numpy()
        self.grad_flat = net.grad_flat.numpy()
        self.grads = [g.numpy() for g in net.grads]
        self.square_avg = np.zeros_like(self.flat)
        self.lr, self.rho, self.eps = lr, rho, eps

    def step(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
             next_obs: np.ndarray, terminated: np.ndarray, gamma: float,
             target_layers: list[np.ndarray] | None = None, double: bool = False) -> float:
        """One step on a batch; returns its loss.

        The taken action's target is ``reward`` on a terminal transition, else ``reward +
        gamma * max_a Q(s', a)`` with ``Q`` from ``target_layers`` (None: the trained network,
        as the notebook does); the other action's target is its own prediction. ``double``
        (with ``target_layers``): Double DQN's ``Q_target(s', argmax_a Q(s', a))``, the
        trained network picking the next action and the target network valuing it.
        """
        b = len(obs)
        w = self.layers
        rows = np.arange(b)
        if target_layers is None or double:  # the trained network sees s and s'
            q_all, hidden = _numpy_forward_keep(
                w, np.concatenate((obs, next_obs)).astype(np.float32))
            next_q = q_all[b:]
        else:
            q_all, hidden = _numpy_forward_keep(w, np.asarray(obs, dtype=np.float32))
            next_q = numpy_forward(target_layers, np.asarray(next_obs, dtype=np.float32))
        if target_layers is not None and double:
            valued = numpy_forward(target_layers, np.asarray(next_obs, dtype=np.float32))
            next_value = valued[rows, next_q.argmax(1)]
        else:
            next_value = next_q.max(1)
        q = q_all[:b]
        t = q.copy()
        t[rows, actions] = rewards + (1.0 - terminated) * np.float32(gamma) * next_value
        diff = q - t
        # Keras "mse": the mean over both outputs and the batch.
        dz = diff * np.float32(2.0 / diff.size)
        grads = self.grads
        for i in range(len(w) // 2 - 1, -1, -1):
            h = hidden[i][:b]
            np.matmul(dz.T, h, out=grads[2 * i])
            np.sum(dz, axis=0, out=grads[2 * i + 1])
            if i > 0:
                dz = (dz @ w[2 * i]) * (h > 0)
        g, v = self.grad_flat, self.square_avg
        v *= np.float32(self.rho)
        v += np.float32(1.0 - self.rho) * g * g
        self.flat -= np.float32(self.lr) * g / (np.sqrt(v) + np.float32(self.eps))
        return float(np.mean(diff * diff))
