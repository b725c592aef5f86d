"""Learners' gradient steps in a child process (``ai.process.remote``): the same steps, whether
the game's learner or the lesson lab's teams (every kind in one child)."""

from __future__ import annotations

import dataclasses
import threading
import time

import numpy as np
import pytest
import torch

from ai.learner import Learner
from ai.process.remote import Host, RemoteSteps, pack, unpack
from game.play.lab import Lab
from game.sim.levels import LEVELS
from game.wiring.lab_teams import DEFAULT_LINEUP, lineup
from game.wiring.learning import learner_config

OBS = 8
CONFIG = dataclasses.replace(learner_config(LEVELS["arcade"]), early_steps=300)
"""The game's own settings (n-step returns, the averaged flying weights, Polyak targets) with a
short early phase, so a loaded pilot learns again after 300 env steps."""


def _rows(rng: np.random.Generator, n: int) -> tuple[np.ndarray, ...]:
    return (rng.normal(size=(n, OBS)).astype(np.float32), rng.integers(0, 2, n),
            rng.normal(size=n).astype(np.float32), rng.normal(size=(n, OBS)).astype(np.float32),
            rng.random(n) < 0.1)


def _attached(learner: Learner) -> RemoteSteps:
    remote = learner.remote = RemoteSteps(learner)
    deadline = time.monotonic() + 120
    while not remote.attached:  # waits on the pipe for the child's "ready", then sends INIT
        assert remote.failed is None and time.monotonic() < deadline, remote.failed
        remote.poll(0.1)
    return remote


def _same(a: Learner, b: Learner) -> None:
    wa, wb = a.weights, b.weights
    assert (wa.pilot_net is None) == (wb.pilot_net is None)  # an average where it keeps one
    pilots = [] if wa.pilot_net is None else [(wa.pilot_net.flat, wb.pilot_net.flat)]
    for x, y in ((wa.net.flat, wb.net.flat), (wa.target.flat, wb.target.flat),
                 (wa.good, wb.good), *pilots, (wa.optimizer.exp_avg, wb.optimizer.exp_avg),
                 (wa.optimizer.exp_avg_sq, wb.optimizer.exp_avg_sq)):
        assert torch.equal(x, y)
    assert (a.updates, wa.optimizer.steps, list(wa.losses)) == (
        b.updates, wb.optimizer.steps, list(wb.losses))
    assert a.memory.rng.bit_generator.state == b.memory.rng.bit_generator.state


@pytest.fixture
def pair():
    """Two equal learners that have stored the same first rows; the second gets a child."""
    rng = np.random.default_rng(0)
    first = _rows(rng, 300)
    a, b = Learner(OBS, CONFIG, seed=1), Learner(OBS, CONFIG, seed=1)
    for learner in (a, b):
        learner.observe_batch(*first, defer=True)
    remote = _attached(b)
    yield a, b, rng
    remote.close()


def _both(a: Learner, b: Learner, rng: np.random.Generator, rounds: int) -> None:
    """The same flock decisions (deferred, paid) and one flyer's transitions for both."""
    for _ in range(rounds):
        rows = _rows(rng, 64)
        one = tuple(r[0] for r in _rows(rng, 1))
        for learner in (a, b):
            learner.observe_batch(*rows, defer=True)
            learner.pay(learner.owed)
            learner.observe(*one)  # its steps run at once (``observe``'s own path)


def test_the_childs_steps_are_the_game_process_steps_bit_for_bit(pair):
    a, b, rng = pair
    _both(a, b, rng, 12)
    assert a.updates > 0
    b.state()  # a save takes every step in flight back first (``sync``)
    assert b.remote.in_flight == 0
    assert b.remote.done == a.updates  # every step ran in the child, none here
    _same(a, b)


def test_new_weights_go_to_the_child_and_its_older_steps_are_dropped(pair):
    a, b, rng = pair
    _both(a, b, rng, 4)
    pilot = Learner(OBS, CONFIG, seed=7).autopilot()
    for learner in (a, b):
        learner.load_pilot(pilot)  # b's child starts over from this state (a new epoch)
    epoch = b.remote.epoch
    _both(a, b, rng, 12)  # past the pilot's ``learning_starts``: steps again
    b.state()
    assert b.remote.epoch == epoch > 1 and b.remote.done > 0
    _same(a, b)


def test_a_child_that_dies_leaves_the_learning_to_the_game_process(pair, capfd):
    a, b, rng = pair
    _both(a, b, rng, 2)
    b.state()
    b.remote._proc.kill()
    b.remote._proc.join(10)
    updates = b.updates
    _both(a, b, rng, 3)  # the first send finds the pipe closed
    assert b.remote.failed is not None and not b.remote.attached
    assert b.updates > updates  # the later steps ran here
    err = capfd.readouterr().err
    assert err.count("the learner's process stopped") == 1


def test_a_message_keeps_its_tag_header_and_buffers():
    raw = np.arange(5, dtype=np.float32)
    tag, header, buffers = unpack(pack(b"W", {"a": [1, 2]}, raw.tobytes(), b""))
    assert tag == b"W" and header == {"a": [1, 2]}
    assert np.array_equal(np.frombuffer(buffers[0], np.float32), raw) and bytes(buffers[1]) == b""


def _ready(host: Host) -> Host:
    deadline = time.monotonic() + 120
    while not host.ready:
        assert host.failed is None and time.monotonic() < deadline, host.failed
        host.poll(0.1)
    return host


@pytest.mark.parametrize("level", ["classic", "arcade"])
def test_a_labs_teams_learning_in_one_child_learn_exactly_as_in_the_labs_thread(level):
    """The window's lab: each team's learner (the tutorial's three and ours) a slot of one
    child, its steps sent as they fall due and its weights synced before it decides. After
    the same ticks every team has the same weights, optimiser state, counters and readings as
    the lab that learned in its own thread, and every step ran in the child.

    Each team's steps ran in this process too until the child had caught up (the hand-over,
    ``RemoteSteps.handing_over``); the host is polled once a tick, as the window's frame does."""
    lv = LEVELS[level]
    labs = [Lab(lv, lineup(DEFAULT_LINEUP, lv, 5), flock=32, seed=5, stagger=True)
            for _ in range(2)]
    hosted, alone = labs
    host = _ready(Host())
    try:
        for team in hosted.teams:
            team.learner.remote = RemoteSteps(team.learner, host, auto=False)
            assert team.learner.remote.sending and team.learner.remote.handing_over
        for _ in range(240 if level == "classic" else 600):
            hosted.tick()
            alone.tick()
            host.poll()
        assert all(team.learner.remote.attached for team in hosted.teams)
        for lab in labs:
            lab.read_all()  # settles each team: its owed steps paid, the child's weights back
        for a, b in zip(hosted.teams, alone.teams, strict=True):
            la, lb = a.learner, b.learner
            assert la.updates == lb.updates > 0, a.spec.key
            assert la.remote.done == la.updates and la.remote.in_flight == 0
            assert torch.equal(la.net.flat, lb.net.flat), a.spec.key
            if a.spec.key == "ours":
                _same(la, lb)
            else:
                assert np.array_equal(la.optimizer.square_avg, lb.optimizer.square_avg)
                if lb.target is not None:
                    assert torch.equal(la.target.flat, lb.target.flat)
                if lb.memory is not None:
                    assert la.memory.samples == lb.memory.samples > 0
            assert a.readings[-1].skill == b.readings[-1].skill
    finally:
        host.close()


def test_a_lab_team_handed_to_the_child_never_waits_for_it_and_then_learns_there_alone():
    """The hand-over: a team's state goes to the child and the team goes on deciding without
    waiting, its steps taken here and sent there too. The states' sending is held back through
    the first decisions, so the child has nothing and nothing comes back: before the hand-over
    a team waited there for the child's weights (``sync``: for the sending, then the child).
    Once the child has the states and reports every step paid done it has the team's own
    weights (the same state, rows and steps) and the steps run there alone, and the team learns
    exactly as a team that never left the lab's thread."""
    lv = LEVELS["arcade"]
    hosted, alone = (Lab(lv, lineup(("tutorial", "ours"), lv, 3), flock=16, seed=3)
                     for _ in range(2))
    host = _ready(Host())
    release = threading.Event()
    safety = threading.Timer(20.0, release.set)  # the old code would wait for it
    send = host._send_init

    def held(jobs):
        release.wait()
        send(jobs)

    host._send_init = held
    try:
        for _ in range(120):  # both learn in this process first, as before the child is ready
            hosted.tick()
            alone.tick()
        safety.start()
        remotes = [RemoteSteps(team.learner, host, auto=False, send=False)
                   for team in hosted.teams]
        for team, remote in zip(hosted.teams, remotes, strict=True):
            team.learner.remote = remote
        host.send_states(remotes)  # as the window does (``game.ui.lab.elsewhere``)
        before = [t.learner.updates for t in hosted.teams]
        t0 = time.monotonic()
        for _ in range(24):
            hosted.tick()
            alone.tick()
        assert time.monotonic() - t0 < 10.0  # no tick waited for the held states
        for team, b in zip(hosted.teams, before, strict=True):
            remote = team.learner.remote
            assert team.learner.updates > b, team.spec.key  # taken here, not waited for
            assert remote.handing_over and remote.done == 0 and remote.sent > 0
            assert remote.sent == team.learner.updates - b
        release.set()
        deadline = time.monotonic() + 60
        while not all(t.learner.remote.attached for t in hosted.teams):
            assert time.monotonic() < deadline and host.failed is None
            host.poll(0.05)
        handed = [t.learner.updates for t in hosted.teams]
        for _ in range(240):
            hosted.tick()
            alone.tick()
            host.poll()
        for lab in (hosted, alone):
            lab.read_all()
        for a, b, n in zip(hosted.teams, alone.teams, handed, strict=True):
            la, lb, remote = a.learner, b.learner, a.learner.remote
            assert la.updates == lb.updates > n, a.spec.key
            assert remote.done == remote.sent == la.updates - before[hosted.teams.index(a)]
            assert torch.equal(la.net.flat, lb.net.flat), a.spec.key
            if a.spec.key == "ours":
                _same(la, lb)
            assert a.readings[-1].skill == b.readings[-1].skill
    finally:
        release.set()
        safety.cancel()
        host.close()


def test_a_slot_dropped_leaves_the_others_learning():
    """A line-up's learners leave the child (``close``: their slot dropped) and the next
    line-up's take new slots in the same child."""
    lv = LEVELS["classic"]
    host = _ready(Host())
    try:
        first = Lab(lv, lineup(("tutorial", "replay"), lv, 1), flock=16, seed=1)
        for team in first.teams:
            team.learner.remote = RemoteSteps(team.learner, host, auto=False)
        for _ in range(60):
            first.tick()
        for team in first.teams:
            team.learner.remote.close()
        assert not host.slots
        second = Lab(lv, lineup(("replay", "target"), lv, 1), flock=16, seed=1)
        for team in second.teams:
            team.learner.remote = RemoteSteps(team.learner, host, auto=False)
        for _ in range(60):
            second.tick()
        deadline = time.monotonic() + 60  # the hand-over ends (the window's frames poll)
        while not all(t.learner.remote.attached for t in second.teams):
            assert time.monotonic() < deadline and host.failed is None
            host.poll(0.05)
        second.read_all()
        assert [t.learner.remote.slot for t in second.teams] == [2, 3]
        assert all(t.learner.remote.done == t.learner.updates > 0 for t in second.teams)
        assert host.failed is None
    finally:
        host.close()
