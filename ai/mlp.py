"""The Q-network's layout and its numpy forward pass: what flying a pilot needs, without torch.

``ai.qnet`` (the torch network that learns) and ``ai.autopilot`` (a frozen pilot) share these,
so a pilot flies, and the skill meter's process measures one, without importing torch.
"""

from __future__ import annotations

import numpy as np


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


def numpy_forward(layers: list[np.ndarray], x: np.ndarray) -> np.ndarray:
    """The same MLP in numpy, for one observation ``(obs,)`` or a batch ``(B, obs)``."""
    last = len(layers) - 2
    for i in range(0, last, 2):
        x = x @ layers[i].T + layers[i + 1]
        np.maximum(x, 0.0, out=x)
    return x @ layers[last].T + layers[last + 1]
