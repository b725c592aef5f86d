"""The Q-network: a small ReLU MLP whose weights live in one flat float32 buffer.

One flat buffer makes the things done every tick cheap: the target sync, the
last-good snapshot for the NaN guard, the finiteness check and the gradient
clipping are each one tensor operation, and ``numpy_layers`` gives zero-copy numpy
views for acting without touching torch.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ai.mlp import layer_names, layer_shapes, numpy_forward

__all__ = ["QNet", "layer_names", "layer_shapes", "numpy_forward"]


def _views(flat: torch.Tensor, shapes: list[tuple[int, ...]]) -> list[torch.Tensor]:
    out, offset = [], 0
    for shape in shapes:
        n = math.prod(shape)
        out.append(flat[offset:offset + n].view(shape))
        offset += n
    return out


class QNet:
    """MLP ``obs -> Q(obs, .)`` with sizes like ``(2, 32, 32, 2)``.

    ``params`` are leaf ``torch.nn.Parameter`` views into ``flat``, and their
    ``.grad`` (also listed in ``grads``) are views into ``grad_flat``: autograd (the
    seed port) sees ordinary per-layer parameters, while the learner's hand-written
    gradient and flat optimizer (``ai.optim``) handle the whole net at once.
    """

    def __init__(self, sizes: tuple[int, ...], generator: torch.Generator | None = None) -> None:
        self.sizes = tuple(int(s) for s in sizes)
        self.shapes = layer_shapes(self.sizes)
        n = sum(math.prod(s) for s in self.shapes)
        self.flat = torch.zeros(n)
        self.grad_flat = torch.zeros(n)
        self.params = [torch.nn.Parameter(v) for v in _views(self.flat, self.shapes)]
        self.grads = _views(self.grad_flat, self.shapes)
        for p, g in zip(self.params, self.grads, strict=True):
            p.grad = g
        self._np = [p.detach().numpy() for p in self.params]
        if generator is not None:
            self.init_(generator)

    def init_(self, generator: torch.Generator) -> None:
        """torch ``Linear``'s default init: weights and biases ~ U(-1/sqrt(fan_in), +)."""
        with torch.no_grad():
            for i, p in enumerate(self.params):
                bound = 1.0 / math.sqrt(self.sizes[i // 2])
                p.copy_(torch.rand(p.shape, generator=generator) * (2 * bound) - bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Q-values, shape ``(B, n_actions)``, for observations ``x`` of shape ``(B, obs)``."""
        p = self.params
        last = len(p) - 2
        for i in range(0, last, 2):
            x = torch.relu(torch.addmm(p[i + 1], x, p[i].t()))
        return torch.addmm(p[last + 1], x, p[last].t())

    __call__ = forward

    def numpy_layers(self) -> list[np.ndarray]:
        """Zero-copy numpy views of the current weights, ``[W0, b0, W1, b1, ...]``."""
        return self._np

    def load_layers(self, layers: list[np.ndarray]) -> None:
        """Copies per-layer weights (numpy, in ``layer_shapes`` order) into the buffer."""
        with torch.no_grad():
            for p, w in zip(self.params, layers, strict=True):
                p.copy_(torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)))
