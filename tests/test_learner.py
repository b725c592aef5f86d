"""The DQN learner: Double-DQN targets, determinism, NaN rollback, exact resume, regression."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest
import torch
from conftest import as_format_3, fly
from safetensors.torch import load as st_load_torch
from safetensors.torch import save as st_save_torch

from ai import Learner, LearnerConfig, LearnerState, PilotError, StateError
from ai.learner import double_dqn_targets
from ai.nstep import NStepWindows
from ai.qnet import QNet, numpy_forward
from game.sim.evaluation import Evaluation
from game.sim.levels import CLASSIC

OBS = 2
"""The classic level's observation size: these tests fly classic (its preset is the default
``LearnerConfig``)."""


def tiny_net(out_weight: list[list[float]]) -> QNet:
    """A 2-2-2 net: hidden = relu(obs) (identity layer), Q = out_weight @ hidden."""
    net = QNet((2, 2, 2))
    net.load_layers([np.eye(2, dtype=np.float32), np.zeros(2, np.float32),
                     np.array(out_weight, np.float32), np.zeros(2, np.float32)])
    return net


def test_double_dqn_targets_on_a_hand_made_batch() -> None:
    online = tiny_net([[1, 0], [0, 1]])  # Q_online(s') = relu(s')
    target = tiny_net([[2, 0], [0, 3]])  # Q_target(s') = (2 relu(s'0), 3 relu(s'1))
    next_obs = torch.tensor([[1.0, 0.9],    # online picks 0 -> target 2.0 (plain max: 2.7)
                             [0.2, 0.5],    # online picks 1 -> target 1.5
                             [1.0, 0.9],    # terminated: no bootstrap
                             [0.0, 0.0]])   # online tie -> action 0 -> target 0
    rewards = torch.tensor([0.0, 1.0, -1.0, 0.5])
    terminated = torch.tensor([0.0, 0.0, 1.0, 0.0])
    y = double_dqn_targets(online, target, rewards, next_obs, terminated, gamma=0.5)
    torch.testing.assert_close(y, torch.tensor([1.0, 1.75, -1.0, 0.5]))


def test_truncated_transitions_are_stored_bootstrapped() -> None:
    learner = Learner(OBS, seed=0)
    obs = np.zeros(2, np.float32)
    learner.observe(obs, 1, 0.0, obs, terminated=False, truncated=True)
    learner.observe(obs, 0, -1.0, obs, terminated=True, truncated=False)
    m = learner.memory
    assert m.count == 1 and m.terminated[0] == 0.0
    assert m.tcount == 1 and m.terminated[m.ring] == 1.0


def test_epsilon_schedule_and_learn_switch() -> None:
    cfg = LearnerConfig()
    learner = Learner(OBS, cfg, seed=0)
    assert learner.epsilon == cfg.eps_start
    obs = np.zeros(2, np.float32)
    for _ in range(cfg.eps_decay_steps):
        learner.act(obs)
    assert learner.epsilon == pytest.approx(cfg.eps_end)
    learner.act(obs, explore=False)  # greedy acts do not move the schedule
    assert learner.explore_steps == cfg.eps_decay_steps
    learner.learn_enabled = False
    learner.observe(obs, 0, 0.0, obs, False)
    assert learner.memory.size == 0 and learner.env_steps == 0


def test_same_seed_same_weights_other_seed_other_weights() -> None:
    a, b, c = (Learner(OBS, seed=s) for s in (7, 7, 8))
    for learner in (a, b, c):
        fly(learner, 150)
    assert a.updates > 100
    assert torch.equal(a.net.flat, b.net.flat) and torch.equal(a.target.flat, b.target.flat)
    assert not torch.equal(a.net.flat, c.net.flat)


def test_learning_regression_classic_300_steps() -> None:
    learner = Learner(OBS, LearnerConfig(), seed=0)
    fly(learner, 300)
    result = Evaluation.prepare(CLASSIC, 1000, seed=4242).run(learner.greedy_batch)
    assert result["success_rate"] >= 0.99


def test_nan_in_weights_rolls_back_and_learning_carries_on() -> None:
    learner = Learner(OBS, seed=1)
    world = fly(learner, 200)
    with torch.no_grad():
        learner.net.flat[5] = float("nan")  # a poisoned weight, as a bad update would leave it
    updates = learner.updates
    fly(learner, 1, world=world)
    assert learner.nan_rollbacks >= 1
    assert torch.isfinite(learner.net.flat).all() and torch.isfinite(learner.target.flat).all()
    after_rollback = learner.net.flat.clone()
    fly(learner, 50, world=world)
    assert learner.updates > updates  # learning carries on from the good weights
    assert not torch.equal(after_rollback, learner.net.flat)
    assert torch.isfinite(learner.net.flat).all()
    assert learner.nan_rollbacks == 1


def test_nan_gradient_is_rolled_back_within_the_step() -> None:
    learner = Learner(OBS, seed=2)
    world = fly(learner, 100)
    before = learner.net.flat.clone()
    # A NaN reward slipped past the input check poisons the loss of the next update.
    learner.memory.rewards[: learner.memory.count] = float("nan")
    learner.memory.rewards[learner.memory.ring:learner.memory.ring + learner.memory.tcount] = (
        float("nan"))
    fly(learner, 1, world=world)
    assert learner.nan_rollbacks > 0
    assert torch.equal(learner.net.flat, before)


def test_non_finite_transitions_are_not_stored() -> None:
    learner = Learner(OBS, seed=0)
    bad = np.array([np.nan, 0.0], np.float32)
    learner.observe(bad, 0, 0.0, np.zeros(2, np.float32), False)
    assert learner.memory.size == 0 and learner.rejected_transitions == 1


def _through_files(state: LearnerState) -> LearnerState:
    """Round trip through the storage formats: safetensors, .npz, JSON (as persistence does)."""
    tensors = st_load_torch(st_save_torch({k: v.contiguous() for k, v in state.tensors.items()}))
    buf = io.BytesIO()
    np.savez(buf, **state.arrays)
    buf.seek(0)
    with np.load(buf, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    meta = json.loads(json.dumps(state.meta))
    return LearnerState(tensors, arrays, meta)


@pytest.mark.parametrize(("average", "n_step"), [(0, 1), (50, 1), (50, 3)])
def test_state_resume_is_bit_identical_to_an_uninterrupted_run(average: int, n_step: int
                                                                ) -> None:
    cfg = dataclasses.replace(LearnerConfig(), capacity=500, terminal_capacity=50,
                              early_steps=150, pilot_average_updates=average, n_step=n_step)
    whole = Learner(OBS, cfg, seed=3)
    world_whole = fly(whole, 700, world_seed=9)

    first = Learner(OBS, cfg, seed=3)
    world = fly(first, 400, world_seed=9)  # past the early phase and a ring wraparound
    resumed = Learner.from_state(_through_files(first.state()))
    fly(resumed, 300, world=world)

    assert torch.equal(resumed.net.flat, whole.net.flat)
    assert torch.equal(resumed.target.flat, whole.target.flat)
    if average:
        assert torch.equal(resumed.pilot_net.flat, whole.pilot_net.flat)
        assert not torch.equal(resumed.pilot_net.flat, resumed.net.flat)
    assert (resumed.env_steps, resumed.updates, resumed.episodes, resumed.epsilon) == (
        whole.env_steps, whole.updates, whole.episodes, whole.epsilon)
    assert resumed.memory.size == whole.memory.size
    np.testing.assert_array_equal(resumed.memory.obs, whole.memory.obs)
    assert resumed.curve == whole.curve and list(resumed.recent_scores) == list(
        whole.recent_scores)
    assert world.t == world_whole.t


def test_state_from_another_version_or_shape_is_refused() -> None:
    learner = Learner(OBS, seed=0)
    fly(learner, 50)
    state = learner.state()
    old = LearnerState(state.tensors, state.arrays, {**state.meta, "format_version": 0})
    with pytest.raises(StateError, match="format"):
        Learner.from_state(old)
    bad = LearnerState({**state.tensors, "net": torch.zeros(3)}, state.arrays, state.meta)
    with pytest.raises(StateError, match="net"):
        Learner.from_state(bad)
    nan = state.tensors["net"].clone()
    nan[0] = float("inf")
    with pytest.raises(StateError, match="NaN or Inf"):
        Learner.from_state(LearnerState({**state.tensors, "net": nan}, state.arrays, state.meta))
    averaged = Learner(OBS, dataclasses.replace(learner.config, pilot_average_updates=9))
    fly(averaged, 50)
    state_avg = averaged.state()
    missing = {k: v for k, v in state_avg.tensors.items() if k != "pilot"}
    with pytest.raises(StateError, match="pilot"):
        Learner.from_state(LearnerState(missing, state_avg.arrays, state_avg.meta))
    broken = {k: v for k, v in state.meta.items() if k != "memory"}
    with pytest.raises(StateError):
        Learner.from_state(LearnerState(state.tensors, state.arrays, broken))


def test_a_young_learners_average_spans_a_share_of_its_gradient_steps() -> None:
    cfg = dataclasses.replace(LearnerConfig(), early_steps=100, pilot_average_updates=10_000,
                              pilot_average_warmup=0.25)
    learner = Learner(OBS, cfg, seed=2)
    world = fly(learner, 300)  # past the early phase
    for _ in range(3):
        before, updates = learner.pilot_net.flat.clone(), learner.updates
        while learner.updates == updates:
            fly(learner, 1, world=world)
        horizon = max(1.0, 0.25 * learner.updates)  # not yet the 10,000 steps
        expected = before + (learner.net.flat - before) / horizon
        torch.testing.assert_close(learner.pilot_net.flat, expected, rtol=0, atol=1e-6)
    assert learner.updates < 4 * 10_000
    pilot = learner.autopilot()
    learner.load_pilot(pilot)  # a pilot that already flies keeps the whole horizon
    assert learner.config.pilot_average_warmup == 0.0


def test_averaged_pilot_follows_the_online_weights_over_its_horizon() -> None:
    cfg = dataclasses.replace(LearnerConfig(), early_steps=100,
                              pilot_average_updates=40)
    learner = Learner(OBS, cfg, seed=2)
    fly(learner, 100)
    assert learner.updates > 0 and torch.equal(learner.pilot_net.flat, learner.net.flat)
    world = fly(learner, 200)  # past the early phase: the average lags the online weights
    before = learner.pilot_net.flat.clone()
    updates = learner.updates
    while learner.updates == updates:  # a gradient step every 16 env steps now
        fly(learner, 1, world=world)
    assert learner.updates == updates + 1
    expected = before + (learner.net.flat - before) / 40
    torch.testing.assert_close(learner.pilot_net.flat, expected, rtol=0, atol=1e-6)
    assert not torch.allclose(learner.pilot_net.flat, learner.net.flat)

    # Greedy flying uses the average; exploring acts (learning on) use the online weights.
    flying = [w.copy() for w in learner.pilot_net.numpy_layers()]
    online = [w.copy() for w in learner.net.numpy_layers()]
    obs = np.random.default_rng(3).uniform(-1, 1, size=(400, 2)).astype(np.float32)
    np.testing.assert_array_equal(learner.greedy_batch(obs), numpy_forward(flying, obs).argmax(1))
    np.testing.assert_array_equal(learner.autopilot().q_values(obs[0]),
                                  numpy_forward(flying, obs[0]))
    greedy = [learner.act(o, explore=False) for o in obs]
    np.testing.assert_array_equal(greedy, numpy_forward(flying, obs).argmax(1))
    learner.explore_steps = 10**6  # epsilon at its end value, 0.02
    exploring = np.array([learner.act(o) for o in obs])
    online_greedy = numpy_forward(online, obs).argmax(1)
    assert (exploring != online_greedy).mean() <= 0.05
    differ = online_greedy != numpy_forward(flying, obs).argmax(1)
    assert differ.any() and (exploring[differ] == online_greedy[differ]).all()
    np.testing.assert_array_equal(learner.q_values(obs[0]), numpy_forward(online, obs[0]))
    learner.learn_enabled = False
    np.testing.assert_array_equal(learner.q_values(obs[0]), numpy_forward(flying, obs[0]))
    assert not np.array_equal(numpy_forward(online, obs), numpy_forward(flying, obs))

    fresh = Learner(OBS, cfg, seed=3)  # a loaded pilot is the average's new start
    fresh.load_pilot(learner.autopilot())
    assert torch.equal(fresh.pilot_net.flat, learner.pilot_net.flat)
    assert torch.equal(fresh.net.flat, learner.pilot_net.flat)


def test_autopilot_snapshot_and_load_pilot() -> None:
    learner = Learner(OBS, seed=4)
    fly(learner, 300)
    pilot = learner.autopilot()
    obs = np.array([0.3, -0.2], np.float32)
    np.testing.assert_array_equal(pilot.q_values(obs), learner.q_values(obs))
    fly(learner, 100)  # later learning does not change the snapshot
    assert not np.array_equal(pilot.q_values(obs), learner.q_values(obs))
    fresh = Learner(OBS, seed=5)
    fresh.load_pilot(pilot)
    np.testing.assert_array_equal(fresh.q_values(obs), pilot.q_values(obs))
    assert torch.equal(fresh.target.flat, fresh.net.flat)


def test_load_pilot_starts_at_the_end_of_exploration() -> None:
    trained = Learner(OBS, seed=4)
    fly(trained, 300)
    fresh = Learner(OBS, seed=6)
    assert fresh.epsilon == fresh.config.eps_start
    fresh.load_pilot(trained.autopilot())
    assert fresh.epsilon == pytest.approx(fresh.config.eps_end)
    # With epsilon at its end value the loaded pilot's acts are (almost all) its greedy ones.
    rng = np.random.default_rng(0)
    obs = rng.uniform(-1, 1, size=(500, 2)).astype(np.float32)
    acts = np.array([fresh.act(o) for o in obs])
    greedy = fresh.greedy_batch(obs)
    assert (acts != greedy).mean() <= 0.05
    assert fresh.epsilon == pytest.approx(fresh.config.eps_end)


def test_terminal_share_applies_in_the_early_phase_and_after() -> None:
    cfg = dataclasses.replace(LearnerConfig(), terminal_share_early=0.5,
                              terminal_share=0.25, early_steps=100)
    learner = Learner(OBS, cfg, seed=0)
    shares: list[tuple[int, float]] = []
    sample = learner.memory.sample

    def spy(batch_size: int, terminal_share: float = 0.0):
        shares.append((learner.env_steps, terminal_share))
        return sample(batch_size, terminal_share)

    learner.memory.sample = spy  # type: ignore[method-assign]
    fly(learner, 200)
    early = {s for step, s in shares if step < cfg.early_steps}
    late = {s for step, s in shares if step >= cfg.early_steps}
    assert early == {0.5} and late == {0.25}


META = {"level": "classic", "physics_version": "1"}


def test_state_keeps_its_metadata_and_refuses_another() -> None:
    learner = Learner(OBS, seed=0, meta=META)
    fly(learner, 50)
    state = _through_files(learner.state())
    back = Learner.from_state(state, expect=META)
    assert back.meta == META and back.obs_size == OBS
    assert back.autopilot().meta == META
    with pytest.raises(StateError, match="for level classic, not arcade"):
        Learner.from_state(state, expect={"level": "arcade"})
    with pytest.raises(StateError, match="for physics version 1, not 2"):
        Learner.from_state(state, expect={**META, "physics_version": "2"})
    with pytest.raises(StateError, match="for shape None, not x"):
        Learner.from_state(state, expect={"shape": "x"})  # a key the state does not carry


def test_format_3_state_is_read_with_the_callers_legacy_metadata() -> None:
    learner = Learner(OBS, seed=1, meta=META)
    fly(learner, 60)
    old = as_format_3(_through_files(learner.state()))
    back = Learner.from_state(old, expect=META, legacy_meta={"physics_version": "1"})
    assert back.meta == META and torch.equal(back.net.flat, learner.net.flat)
    assert (back.env_steps, back.episodes) == (learner.env_steps, learner.episodes)
    with pytest.raises(StateError, match="physics version 1, not 2"):
        Learner.from_state(old, expect={**META, "physics_version": "2"},
                           legacy_meta={"physics_version": "1"})


def test_load_pilot_refuses_another_shape_or_metadata() -> None:
    learner = Learner(OBS, seed=0, meta=META)
    with pytest.raises(PilotError, match="layers"):
        learner.load_pilot(Learner(3, seed=0, meta=META).autopilot())
    with pytest.raises(PilotError, match="level arcade, not classic"):
        learner.load_pilot(Learner(OBS, seed=0, meta={**META, "level": "arcade"}).autopilot())


# ---- n-step returns ---------------------------------------------------------------------------

def _push(w: NStepWindows, stream: int, obs: float, reward: float, next_obs: float,
          terminated: bool = False, truncated: bool = False):
    return w.push(np.array([stream]), np.array([[obs, 0.0]], np.float32), np.array([int(obs)]),
                  np.array([reward], np.float32), np.array([[next_obs, 0.0]], np.float32),
                  np.array([terminated]), np.array([truncated]), np.array([False]))


def test_n_step_returns_on_a_short_trajectory_with_a_terminal_by_hand() -> None:
    # n = 3, gamma = 0.5; states 0..5, rewards 1, 2, 4, 8, -16, the last step crashes.
    w = NStepWindows(3, 0.5, 2)
    out = [_push(w, 0, s, r, s + 1, terminated=(s == 4))
           for s, r in enumerate([1.0, 2.0, 4.0, 8.0, -16.0])]
    assert [len(e.obs) for e in out] == [0, 0, 1, 1, 3]
    # full windows: (s0, 1 + 0.5*2 + 0.25*4 = 3, s3) and (s1, 2 + 0.5*4 + 0.25*8 = 6, s4)
    assert out[2].obs[0, 0] == 0 and out[2].rewards[0] == 3.0 and out[2].next_obs[0, 0] == 3
    assert out[3].obs[0, 0] == 1 and out[3].rewards[0] == 6.0 and out[3].next_obs[0, 0] == 4
    assert not out[2].terminated[0] and not out[3].terminated[0]
    # the crash ends every pending window, each with its return up to the crash
    end = out[4]
    assert end.obs[:, 0].tolist() == [2, 3, 4] and end.actions.tolist() == [2, 3, 4]
    assert end.rewards.tolist() == [4 + 0.5 * 8 + 0.25 * -16, 8 + 0.5 * -16, -16.0]
    assert end.terminated.all() and w.pending == 0


def test_n_step_truncation_keeps_the_full_window_and_a_new_trajectory_drops_the_rest() -> None:
    w = NStepWindows(2, 0.5, 2)
    _push(w, 0, 0, 1.0, 1)
    e = _push(w, 0, 1, 2.0, 2, truncated=True)  # a time limit: bootstrapped, not an ending
    assert e.rewards.tolist() == [2.0] and not e.terminated.any() and w.pending == 0
    _push(w, 0, 5, 1.0, 6)
    e = _push(w, 0, 9, 1.0, 10)  # does not start where the last one ended: a new trajectory
    assert len(e.obs) == 0 and w.pending == 1
    # streams are independent: stream 1 does not break stream 0's window
    _push(w, 1, 0, 3.0, 1)
    e = _push(w, 0, 10, 4.0, 11)
    assert e.obs[:, 0].tolist() == [9] and e.rewards.tolist() == [1.0 + 0.5 * 4.0]


@pytest.mark.parametrize("n", [2, 3, 5])
def test_n_step_windows_match_a_plain_model_of_them_over_random_flights(n: int) -> None:
    """The vectorised windows against the rules written out per stream and per step."""
    gamma, rng = 0.9, np.random.default_rng(n)
    w = NStepWindows(n, gamma, 2)
    pending: dict[int, list] = {}
    last: dict[int, float] = {}
    for step in range(400):
        streams = rng.choice(12, size=int(rng.integers(0, 9)), replace=False)
        obs = np.array([last.get(int(s), 0.0) if rng.random() < 0.9 else -1.0 - step
                        for s in streams], np.float32)
        nxt = obs + 1.0 + rng.integers(0, 3, streams.size)
        r = rng.choice([0.0, 1.0, -1.0], streams.size).astype(np.float32)
        a = rng.integers(0, 2, streams.size)
        term, trunc = rng.random(streams.size) < 0.1, rng.random(streams.size) < 0.05
        hum = rng.random(streams.size) < 0.3
        got = w.push(streams, np.stack([obs, obs * 0], 1), a, r, np.stack([nxt, nxt * 0], 1),
                     term, trunc, hum)
        want = []
        for i, s in enumerate(int(x) for x in streams):
            win = pending.get(s, [])
            if win and last[s] != obs[i]:
                win = []  # a new trajectory
            win = [*win, (float(obs[i]), int(a[i]), float(r[i]), bool(hum[i]))]
            if term[i]:
                for j in range(len(win)):
                    ret = sum(float(win[k][2]) * gamma ** (k - j) for k in range(j, len(win)))
                    want.append((win[j][0], win[j][1], ret, float(nxt[i]), True, win[j][3]))
                win = []
            elif len(win) == n:
                ret = sum(float(x[2]) * gamma ** k for k, x in enumerate(win))
                want.append((win[0][0], win[0][1], ret, float(nxt[i]), False, win[0][3]))
                win = [] if trunc[i] else win[1:]
            elif trunc[i]:
                win = []
            pending[s], last[s] = win, float(nxt[i])
        assert got.obs[:, 0].tolist() == [x[0] for x in want]
        assert got.actions.tolist() == [x[1] for x in want]
        assert np.allclose(got.rewards, [x[2] for x in want], atol=1e-6)
        assert got.next_obs[:, 0].tolist() == [x[3] for x in want]
        assert got.terminated.tolist() == [x[4] for x in want]
        assert got.human.tolist() == [x[5] for x in want]
        assert w.pending == sum(len(v) for v in pending.values())


def test_an_n_step_learner_stores_each_flyers_n_step_transitions() -> None:
    cfg = dataclasses.replace(LearnerConfig(), n_step=3, learning_starts=10_000)
    learner = Learner(OBS, cfg, seed=0)
    for s in range(4):
        learner.observe(np.array([s, 0.0], np.float32), 1, 1.0,
                        np.array([s + 1, 0.0], np.float32), False)
    m = learner.memory
    assert learner.env_steps == 4 and m.count == 2  # two full windows so far
    assert m.rewards[:2].tolist() == [np.float32(1 + 0.9 + 0.81)] * 2
    assert m.obs[:2, 0].tolist() == [0, 1] and m.next_obs[:2, 0].tolist() == [3, 4]


def test_observe_and_observe_batch_keep_separate_n_step_windows() -> None:
    cfg = dataclasses.replace(LearnerConfig(), n_step=2, learning_starts=10_000)
    learner = Learner(OBS, cfg, seed=0)
    for s in range(3):  # the single flyer (or the person) and a flock's flyer 0, interleaved
        learner.observe(np.array([s, 0.0], np.float32), 1, 1.0,
                        np.array([s + 1, 0.0], np.float32), False, human=True)
        learner.observe_batch(np.array([[10 + s, 0.0]], np.float32), np.array([0]),
                              np.array([2.0], np.float32),
                              np.array([[11 + s, 0.0]], np.float32), np.array([False]))
    # two full windows each: neither trajectory broke the other's
    assert learner.memory.count == 4 and learner.memory.human_count == 2


def test_replay_pacing_is_asked_and_deferred_steps_are_paid_later() -> None:
    cfg = dataclasses.replace(LearnerConfig(), learning_starts=4, early_steps=10,
                              updates_per_step_early=2.0, updates_per_step=0.5,
                              updates_per_step_flock=0.25, updates_per_step_top=0.125)
    p = cfg.pacing
    assert (p.ratio(5), p.ratio(10), p.ratio(5, flock=True), p.ratio(5, flock=True, top=True)
            ) == (2.0, 0.5, 0.25, 0.125)
    learner = Learner(OBS, cfg, seed=0)
    obs = np.zeros((8, OBS), np.float32)
    learner.observe_batch(obs, np.zeros(8, np.int64), np.zeros(8, np.float32), obs,
                          np.zeros(8, bool), defer=True)
    # env steps 4..8 pay 2 each (the early ratio), none of it run yet
    assert learner.updates == 0 and learner.owed == 10
    assert learner.pay(3) == 3 and learner.updates == 3 and learner.owed == 7
    assert learner.pay(100) == 7 and learner.owed == 0


def test_a_crowned_champion_flies_is_saved_and_is_dropped_by_a_loaded_pilot() -> None:
    learner = Learner(OBS, dataclasses.replace(LearnerConfig(), pilot_average_updates=50),
                      seed=3)
    fly(learner, 400)
    crowned = learner.contenders()[0]
    crowned.layers[-2][:] = 0.0  # a champion that always jumps: easy to tell from the average
    crowned.layers[-1][:] = [0.0, 1.0]
    learner.crown(crowned, {"validation": 0.5, "skill": 0.25})
    obs = np.random.default_rng(0).uniform(-1, 1, (500, OBS)).astype(np.float32)
    crowned.layers[-1][:] = [1.0, 0.0]
    assert (learner.greedy_batch(obs) == 1).all()  # the crown took a copy
    crowned.layers[-1][:] = [0.0, 1.0]
    fly(learner, 400)  # the average learns on; the champion stays as crowned
    average, online = learner.contenders()
    np.testing.assert_array_equal(online.layers[0], learner.net.numpy_layers()[0])
    assert (crowned.act_batch(obs) == 1).all() and 0 < average.act_batch(obs).sum() < len(obs)
    np.testing.assert_array_equal(learner.greedy_batch(obs), crowned.act_batch(obs))
    assert [learner.act(o, explore=False) for o in obs[:50]] == list(crowned.act_batch(obs[:50]))
    for a, b in zip(learner.autopilot().layers, crowned.layers, strict=True):
        np.testing.assert_array_equal(a, b)
    assert learner.champion_figures == {"validation": 0.5, "skill": 0.25}
    # saved and resumed with its figures; the average goes on as before
    resumed = Learner.from_state(learner.state())
    assert resumed.champion_figures == {"validation": 0.5, "skill": 0.25}
    np.testing.assert_array_equal(resumed.greedy_batch(obs), crowned.act_batch(obs))
    np.testing.assert_array_equal(resumed.contenders()[0].act_batch(obs),
                                  average.act_batch(obs))
    # a format-4 state (before champions) reads with the average flying
    state = learner.state()
    old = LearnerState({k: v for k, v in state.tensors.items() if k != "champion"}, state.arrays,
                       {**state.meta, "format_version": 4})
    del old.meta["champion_figures"]
    assert Learner.from_state(old).champion_figures == {}
    np.testing.assert_array_equal(Learner.from_state(old).greedy_batch(obs),
                                  average.act_batch(obs))
    # a loaded pilot was judged by nobody: the average (the pilot) flies
    learner.load_pilot(average)
    assert learner.champion_figures == {}
    np.testing.assert_array_equal(learner.greedy_batch(obs), average.act_batch(obs))
    with pytest.raises(ValueError, match="finite"):
        learner.crown(type(average)([w * np.nan for w in average.layers]), {})
