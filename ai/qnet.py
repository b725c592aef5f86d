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


def layer_shapes(sizes: tuple[int, ...]) -> list[tuple[int, ...]]:
    """Shapes ``[W0, b0, W1, b1, ...]`` (torch ``Linear`` layout) for layer widths ``sizes``."""
    shapes: list[tuple[int, ...]] = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        shapes += [(fan_out, fan_in), (fan_out,)]
    return shapes


def layer_names(sizes: tuple[int, ...]) -> list[str]:
    """Tensor names in pilot files: ``layers.0.weight``, ``layers.0.bias``, ..."""
    return [f"layers.{i // 2}.{'weight' if i % 2 == 0 else 'bias'}"
            for i in range(2 * (len(sizes) - 1))]


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


def numpy_forward(layers: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """The same MLP in numpy, for one observation ``(obs,)`` or a batch ``(B, obs)``."""
    last = len(layers) - 2
    for i in range(0, last, 2):
        x = x @ layers[i].T + layers[i + 1]
        np.maximum(x, 0.0, out=x)
    return x @ layers[last].T + layers[last + 1]
