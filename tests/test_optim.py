"""The hand-written gradient and flat Adam (``ai.optim``) against torch's own."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from conftest import as_format_3

from ai.learner import Learner, LearnerState, double_dqn_targets
from ai.optim import FlatAdam, dqn_loss_and_grad
from ai.qnet import QNet, numpy_forward
from game.sim.levels import CLASSIC, LEVELS
from game.wiring.learning import learner_config, learner_from_state, new_learner


def _batch(rng: np.random.Generator, b: int, obs_size: int) -> dict[str, np.ndarray]:
    return {"obs": rng.normal(size=(b, obs_size)).astype(np.float32),
            "actions": rng.integers(0, 2, size=b),
            "rewards": rng.choice([-1.0, 0.0, 1.0], size=b).astype(np.float32),
            "next_obs": rng.normal(size=(b, obs_size)).astype(np.float32),
            "terminated": (rng.random(b) < 0.3).astype(np.float32)}


@pytest.mark.parametrize("sizes", [(2, 32, 32, 2), (8, 64, 64, 2), (3, 5, 2), (4, 16, 8, 8, 2)])
@pytest.mark.parametrize("delta", [1.0, 0.05])
def test_hand_written_gradient_equals_autograd(sizes: tuple[int, ...], delta: float) -> None:
    gen = torch.Generator().manual_seed(sum(sizes))
    net, target = QNet(sizes, gen), QNet(sizes, gen)
    rng = np.random.default_rng(len(sizes))
    b = _batch(rng, 64, sizes[0])
    # reference: autograd through the online net, with the Double-DQN target held fixed
    y = double_dqn_targets(net, target, torch.from_numpy(b["rewards"]),
                           torch.from_numpy(b["next_obs"]), torch.from_numpy(b["terminated"]),
                           0.9)
    q = net(torch.from_numpy(b["obs"])).gather(1, torch.from_numpy(b["actions"]).unsqueeze(1))
    ref_loss = F.huber_loss(q.squeeze(1), y, delta=delta)
    net.grad_flat.zero_()
    ref_loss.backward()
    ref = net.grad_flat.clone()
    net.grad_flat.fill_(123.0)  # stale values must be overwritten, not accumulated
    loss = dqn_loss_and_grad(net, target, b["obs"], b["actions"], b["rewards"], b["next_obs"],
                             b["terminated"], 0.9, delta)
    assert float(loss) == pytest.approx(float(ref_loss.detach()), rel=1e-6)
    assert float(ref.abs().max()) > 0
    torch.testing.assert_close(net.grad_flat, ref, rtol=1e-5, atol=1e-7)


def test_flat_adam_follows_torch_adam() -> None:
    gen = torch.Generator().manual_seed(3)
    flat = torch.randn(300, generator=gen)
    grad = torch.zeros(300)
    ref = torch.nn.Parameter(flat.clone())
    torch_adam = torch.optim.Adam([ref], lr=3e-3)
    ours = FlatAdam(flat, grad, lr=3e-3)
    for step in range(60):
        g = torch.randn(300, generator=gen) * (1 + step % 7)
        grad.copy_(g)
        ref.grad = g.clone()
        ours.step()
        torch_adam.step()
    torch.testing.assert_close(flat, ref.detach(), rtol=1e-5, atol=1e-6)
    assert ours.steps == 60
    ours.reset()
    assert ours.steps == 0 and float(ours.exp_avg.abs().sum()) == 0.0


def _trained(level: str, steps: int = 600) -> Learner:
    learner = new_learner(LEVELS[level], seed=5)
    rng = np.random.default_rng(5)
    n = learner.obs_size
    for i in range(steps):
        obs = rng.normal(size=n).astype(np.float32)
        learner.observe(obs, learner.act(obs), float(i % 3 == 0), obs * 0.5, i % 9 == 0)
    return learner


def _as_format_1(state: LearnerState, learner: Learner) -> LearnerState:
    """The same learner as format 1 stored it: torch.optim.Adam's per-layer moments."""
    tensors = {k: v for k, v in state.tensors.items() if not k.startswith("adam.")}
    offset = 0
    for i, p in enumerate(learner.net.params):
        n = p.numel()
        for key in ("exp_avg", "exp_avg_sq"):
            tensors[f"adam.{i}.{key}"] = state.tensors[f"adam.{key}"][offset:offset + n].view(
                p.shape).clone()
        tensors[f"adam.{i}.step"] = torch.tensor(float(state.meta["adam_steps"]))
        offset += n
    old = as_format_3(state)
    meta = {k: v for k, v in old.meta.items() if k != "adam_steps"}
    meta["format_version"] = 1
    return LearnerState(tensors, state.arrays, meta)


def test_a_format_1_state_still_loads_and_continues_the_same() -> None:
    learner = _trained("classic")
    state = learner.state()
    assert state.meta["adam_steps"] == learner.optimizer.steps > 0
    new = learner_from_state(CLASSIC, state)
    old = learner_from_state(CLASSIC, _as_format_1(state, learner))
    assert old.optimizer.steps == new.optimizer.steps
    torch.testing.assert_close(old.optimizer.exp_avg_sq, new.optimizer.exp_avg_sq, rtol=0,
                               atol=0)
    rng = np.random.default_rng(9)
    for i in range(200):
        obs = rng.normal(size=2).astype(np.float32)
        for lrn in (old, new):
            lrn.observe(obs, lrn.act(obs), 0.0, obs * 0.5, i % 7 == 0)
    assert torch.equal(old.net.flat, new.net.flat)
    assert math.isfinite(old.last_loss or math.nan)


@pytest.mark.parametrize("level", ["classic", "arcade"])
def test_a_format_2_state_loads_and_takes_the_levels_new_settings(level: str) -> None:
    learner = _trained(level)
    state = as_format_3(learner.state())
    # As format 2 wrote it: no averaging setting in the config, no averaged weights.
    config = {k: v for k, v in state.meta["config"].items() if k != "pilot_average_updates"}
    tensors = {k: v for k, v in state.tensors.items() if k != "pilot"}
    spec = LEVELS[level]
    # As if saved under today's physics (game.wiring.learning refuses an old save of another one).
    old = Learner.from_state(
        LearnerState(tensors, state.arrays, {**state.meta, "format_version": 2, "config": config}),
        expect=spec.meta, defaults=learner_config(spec),
        legacy_meta={"physics_version": str(spec.physics_version)})
    assert old.config == learner.config  # the missing setting takes the level's default
    assert torch.equal(old.net.flat, learner.net.flat)
    if level == "arcade":  # the average starts from the saved online weights
        assert old.config.pilot_average_updates > 0
        assert torch.equal(old.pilot_net.flat, learner.net.flat)
    else:
        assert old.pilot_net is None
    obs = np.random.default_rng(4).normal(size=(50, learner.obs_size)).astype(np.float32)
    online = numpy_forward(learner.net.numpy_layers(), obs).argmax(1)
    np.testing.assert_array_equal(old.greedy_batch(obs), online)
