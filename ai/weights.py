"""The DQN learner's weights and their gradient step: four networks and one Adam.

``ai.learner.Learner`` decides when a gradient step runs and counts them; this part owns
what a step changes, so the rules about the weights hold in one place:

* a step that leaves a non-finite loss or weight is undone: the last good weights come
  back and Adam's moments, which may be poisoned, are reset; ``ROLLBACK_STREAK_LIMIT``
  undone in a row mean the memory or settings cannot be learned from (``stalled``);
* the target network follows the online one after each good step (a copy every
  ``target_sync_updates`` steps, or Polyak averaging with ``target_tau``);
* the flying weights are the online ones during the early phase, then their running
  average (where the config keeps one), unless a caller has crowned a champion: a snapshot of
  those weights that it judged the best so far (``crown``; the game judges on validation
  courses), which then flies until a better one is crowned;
* loading weights (a pilot) sets all four networks, resets Adam and drops the champion;
* the saved state holds every buffer, checked for shape and finiteness on restore.

Rules: torch and numpy, and ``ai`` modules only.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from ai.config import LearnerConfig
from ai.errors import StateError
from ai.optim import FlatAdam, dqn_loss_and_grad
from ai.qnet import QNet

ROLLBACK_STREAK_LIMIT = 200
"""Gradient steps undone in a row (NaN or Inf) after which the learner stops learning and
says why in ``stalled``: its memory or settings cannot be learned from."""


class DqnWeights:
    """A learner's online, target, last-good and flying weights (flat float32), its Adam, and
    the record of its steps (recent losses, steps undone).

    Args:
        sizes: the layer widths, observation first.
        generator: seeds the online network's initial weights.
        config: the learner's settings (Adam starts at ``lr_early``; a positive
            ``pilot_average_updates`` keeps the flying weights in a network of their own).
    """

    def __init__(self, sizes: tuple[int, ...], generator: torch.Generator,
                 config: LearnerConfig) -> None:
        self.net = QNet(sizes, generator)
        self.target = QNet(sizes)
        self.target.flat.copy_(self.net.flat)
        self.good = self.net.flat.clone()
        """The online weights after the last good step: what an undone step restores."""
        self.layers = self.net.numpy_layers()
        """numpy views of the online weights (exploring acts)."""
        self.pilot_net: QNet | None = None
        """The averaged flying weights, or None: the online ones fly."""
        if config.pilot_average_updates > 0:
            self.pilot_net = QNet(sizes)
            self.pilot_net.flat.copy_(self.net.flat)
        self.sizes = tuple(sizes)
        self.contender_layers = (self.pilot_net or self.net).numpy_layers()
        """numpy views of the average (or online) weights: what flies until a champion is
        crowned."""
        self.pilot_layers = self.contender_layers
        """numpy views of the flying weights (greedy acts and pilots): the champion's, else
        ``contender_layers``."""
        self.champion: QNet | None = None
        """The crowned flying weights (``crown``), or None."""
        self.champion_figures: dict[str, float] = {}
        """What the champion was judged by (the caller's figures; saved with it)."""
        self.optimizer = FlatAdam(self.net.flat, self.net.grad_flat, lr=config.lr_early)
        self.losses: deque[float] = deque(maxlen=100)
        """The loss of each of the last 100 good steps."""
        self.nan_rollbacks = 0
        """Steps undone so far (saved)."""
        self.rollback_streak = 0
        """Steps undone in a row, up to the latest."""
        self.stalled: str | None = None
        """Why learning must stop (``ROLLBACK_STREAK_LIMIT``), else None."""

    @property
    def last_loss(self) -> float | None:
        """Mean loss over the last 100 gradient steps, or None before the first."""
        return sum(self.losses) / len(self.losses) if self.losses else None

    def step(self, batch: Any, c: LearnerConfig) -> float | None:
        """One Double-DQN gradient step on ``batch``; its loss, or None if it was undone
        (then ``stalled`` may say that learning must stop)."""
        # n-step transitions bootstrap n steps on (c.gamma ** 1 is c.gamma exactly)
        loss = dqn_loss_and_grad(self.net, self.target, batch.obs, batch.actions,
                                 batch.rewards, batch.next_obs, batch.terminated,
                                 c.gamma ** c.n_step, c.huber_delta)
        grad = self.net.grad_flat
        # Global-norm clipping on the one flat gradient buffer.
        grad.mul_(torch.clamp(c.grad_clip_norm / (grad.norm() + 1e-6), max=1.0))
        self.optimizer.step()
        loss_value = float(loss)
        if not (math.isfinite(loss_value) and math.isfinite(float(self.net.flat.sum()))):
            self.rollback()
            return None
        self.good.copy_(self.net.flat)
        self.rollback_streak = 0
        self.losses.append(loss_value)
        return loss_value

    def rollback(self) -> None:
        """Restores the last good weights; the optimizer's moments may be poisoned, so reset."""
        with torch.no_grad():
            self.net.flat.copy_(self.good)
            if not torch.isfinite(self.target.flat).all():
                self.target.flat.copy_(self.good)
        self.optimizer.reset()
        self.nan_rollbacks += 1
        self.rollback_streak += 1
        if self.rollback_streak >= ROLLBACK_STREAK_LIMIT and self.stalled is None:
            self.stalled = (f"learning stopped: {self.rollback_streak} gradient steps in a row "
                            "gave NaN or Inf and were undone")

    def follow(self, c: LearnerConfig, updates: int, early: bool) -> None:
        """After good step number ``updates``, the target and flying weights follow the online."""
        if c.target_tau > 0:
            self.target.flat.lerp_(self.net.flat, c.target_tau)
        elif updates % c.target_sync_updates == 0:
            self.target.flat.copy_(self.net.flat)
        if self.pilot_net is not None:
            if early:
                self.pilot_net.flat.copy_(self.net.flat)
            else:
                horizon = float(c.pilot_average_updates)
                if c.pilot_average_warmup > 0:
                    horizon = min(horizon, max(1.0, c.pilot_average_warmup * updates))
                self.pilot_net.flat.lerp_(self.net.flat, 1.0 / horizon)

    def load(self, layers: list[np.ndarray]) -> None:
        """Sets all four networks to ``layers``; Adam's moments belonged to the old weights,
        and a champion judged before belonged to another pilot."""
        self.net.load_layers(layers)
        self.target.flat.copy_(self.net.flat)
        self.good.copy_(self.net.flat)
        if self.pilot_net is not None:
            self.pilot_net.flat.copy_(self.net.flat)
        self.optimizer.reset()
        self._set_champion(None, {})

    def contenders(self) -> list[list[np.ndarray]]:
        """What a caller judges for the next crown: the average (where the config keeps one),
        then the online weights."""
        if self.pilot_net is None:
            return [self.layers]
        return [self.contender_layers, self.layers]

    def crown(self, layers: list[np.ndarray], figures: Mapping[str, float]) -> None:
        """Makes a copy of ``layers`` (of this learner's shape, finite) the flying weights, with
        the ``figures`` it was judged by."""
        champion = QNet(self.sizes)
        champion.load_layers(layers)
        if not torch.isfinite(champion.flat).all():
            raise ValueError("a champion's weights must be finite")
        self._set_champion(champion, figures)

    def _set_champion(self, champion: QNet | None, figures: Mapping[str, float]) -> None:
        self.champion = champion
        self.champion_figures = {str(k): float(v) for k, v in figures.items()}
        self.pilot_layers = (self.contender_layers if champion is None
                             else champion.numpy_layers())

    # ---- saved state ------------------------------------------------------------------

    def tensors(self) -> dict[str, torch.Tensor]:
        """Copies of every buffer, by the names ``Learner.state`` saves them under."""
        opt = self.optimizer
        tensors = {"net": self.net.flat.clone(), "target": self.target.flat.clone(),
                   "good": self.good.clone(), "adam.exp_avg": opt.exp_avg.clone(),
                   "adam.exp_avg_sq": opt.exp_avg_sq.clone()}
        if self.pilot_net is not None:
            tensors["pilot"] = self.pilot_net.flat.clone()
        if self.champion is not None:
            tensors["champion"] = self.champion.flat.clone()
        return tensors

    def restore(self, saved: Mapping[str, torch.Tensor], version: int,
                meta: Mapping[str, Any]) -> None:
        """Copies ``tensors()`` of a state of format ``version`` back, checking every one.

        ``meta`` gives Adam's step count and learning rate (format 1 kept the count as a
        tensor), the steps undone, the recent losses and the champion's figures (format 5).
        """
        n = self.net.flat.numel()
        tensors = dict(saved)
        if version == 1:
            tensors.update(_adam_v1_to_flat(tensors, self.net))
        if version < 3 and self.pilot_net is not None:
            tensors["pilot"] = tensors["net"]  # the average starts from the saved weights
        averaged = ("pilot",) if self.pilot_net is not None else ()
        crowned = ("champion",) if "champion" in tensors else ()
        for key in ("net", "target", "good", "adam.exp_avg", "adam.exp_avg_sq", *averaged,
                    *crowned):
            t = tensors[key]
            if t.shape != (n,) or t.dtype != torch.float32:
                raise StateError(f"learner state tensor {key!r} is {t.dtype}{list(t.shape)}, "
                                 f"expected float32[{n}]")
            if not torch.isfinite(t).all():
                raise StateError(f"learner state tensor {key!r} holds NaN or Inf")
        self.net.flat.copy_(tensors["net"])
        self.target.flat.copy_(tensors["target"])
        self.good.copy_(tensors["good"])
        if self.pilot_net is not None:
            self.pilot_net.flat.copy_(tensors["pilot"])
        opt = self.optimizer
        opt.exp_avg.copy_(tensors["adam.exp_avg"])
        opt.exp_avg_sq.copy_(tensors["adam.exp_avg_sq"])
        opt.steps = int(tensors["adam.steps"]) if version == 1 else int(meta["adam_steps"])
        if opt.steps < 0:
            raise StateError(f"learner state has a negative optimizer step count {opt.steps}")
        opt.lr = float(meta["lr"])
        self.nan_rollbacks = int(meta["nan_rollbacks"])
        self.losses.extend(float(x) for x in meta["losses"])
        if crowned:
            champion = QNet(self.sizes)
            champion.flat.copy_(tensors["champion"])
            self._set_champion(champion, meta.get("champion_figures", {}))


def _adam_v1_to_flat(tensors: dict[str, torch.Tensor], net: QNet) -> dict[str, torch.Tensor]:
    """Format 1 kept ``torch.optim.Adam``'s per-layer moments (``adam.{i}.exp_avg``, ...);
    they are concatenated in layer order into the flat buffers (zeros if never stepped)."""
    out: dict[str, torch.Tensor] = {}
    for key in ("exp_avg", "exp_avg_sq"):
        parts = []
        for i, p in enumerate(net.params):
            t = tensors.get(f"adam.{i}.{key}", torch.zeros(p.shape))
            if t.shape != p.shape:
                raise StateError(f"learner state optimizer {key} {i} has the wrong shape")
            parts.append(t.reshape(-1).to(torch.float32))
        out[f"adam.{key}"] = torch.cat(parts)
    step = tensors.get("adam.0.step")
    out["adam.steps"] = torch.tensor(0 if step is None else int(step.reshape(-1)[0]))
    return out
