"""The lesson lab: each team's learner is what it names, teams are deterministic, the JSON's shape.

The tutorial's learner is checked against the torch port of the seed notebook
(``bench/seed_port.py``, autograd and ``torch.optim.RMSprop``), and each team's gradient steps
are watched as they run (a spy on the learner's step), so "never samples a minibatch" is seen,
not assumed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ai.learner import Learner
from ai.tutorial import TutorialConfig, TutorialLearner
from game.play.lab import TEAM_KEYS, Lab, course_seed
from game.sim.levels import ARCADE, CLASSIC
from game.sim.rollout import Rollout
from game.wiring.lab_teams import DEFAULT_LINEUP, TEAMS, lineup, parse_lineup
from game.wiring.learning import learner_config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from seed_port import SeedPort  # noqa: E402


def spy_steps(learner: TutorialLearner, syncs: list[int] | None = None) -> list[int]:
    """Records the batch size of every gradient step ``learner`` takes (and in ``syncs`` the
    updates after which its target network changed)."""
    sizes: list[int] = []
    step = learner._step

    def spying(obs, *rest):
        sizes.append(len(obs))
        before = None if learner.target is None else learner.target.flat.clone()
        step(obs, *rest)
        if before is not None and not torch.equal(before, learner.target.flat):
            syncs.append(learner.updates)

    learner._step = spying
    return sizes


def small_lab(level, keys=DEFAULT_LINEUP, seed=0, flock=16) -> Lab:
    return Lab(level, lineup(keys, level, seed), flock=flock, seed=seed)


# ---- the tutorial's learner is the notebook's --------------------------------------------------

def test_one_step_equals_the_notebook_port() -> None:
    """Same initial weights, same transitions: the same RMSprop steps as autograd's.

    A step moves a weight by up to lr * sqrt(10) (3e-3): RMSprop's first steps divide the
    gradient by its own size, so float noise in a near-zero gradient (autograd's forward of one
    row against ours of two) shows as up to ~1e-5, and a wrong target or loss as ~1e-3."""
    port, ours = SeedPort(seed=4), TutorialLearner(2, seed=4)
    assert torch.equal(port.net.flat, ours.net.flat)  # Keras's init, the same draws
    obs, next_obs = np.array([0.1, -0.05], np.float32), np.array([0.15, 0.2], np.float32)
    for reward, terminated in ((0.0, False), (-1.0, True), (1.0, True), (0.0, False)):
        port.observe(obs, 1, reward, next_obs, terminated)
        ours.observe(obs, 1, reward, next_obs, terminated)
        assert torch.allclose(port.net.flat, ours.net.flat, atol=5e-5)
        obs, next_obs = next_obs, obs
    assert ours.updates == ours.env_steps == 4


def test_the_notebook_flies_the_same_on_classic() -> None:
    """300 steps of classic side by side: the same epsilon, actions, and nearly the same weights
    (the port uses autograd, ours numpy: they differ in the last bits only)."""
    port, ours = SeedPort(seed=2), TutorialLearner(2, seed=2)
    a = Rollout(CLASSIC, CLASSIC.world(7), port)
    b = Rollout(CLASSIC, CLASSIC.world(7), ours)
    for _ in range(300):
        a.step()
        b.step()
        assert port.eps == ours.eps
    assert float((port.net.flat - ours.net.flat).abs().max()) < 1e-3
    assert ours.eps < 0.1 + 1e-9 and ours.updates == 300


def test_epsilon_decays_per_action_in_a_batch() -> None:
    learner = TutorialLearner(2)
    learner.act_batch(np.zeros((10, 2), np.float32), rng=np.random.default_rng(0))
    assert learner.epsilon == pytest.approx(0.99 ** 10)
    for _ in range(300):
        learner.act(np.zeros(2, np.float32))
    assert 0.099 < learner.epsilon <= 0.1  # the notebook stops decaying once at or below 0.1


# ---- each team is what it names ------------------------------------------------------------------

@pytest.mark.parametrize("level", [CLASSIC, ARCADE], ids=["classic", "arcade"])
def test_each_team_learner_is_what_it_names(level) -> None:
    lab = small_lab(level, flock=64)
    teams = {t.spec.key: t for t in lab.teams}
    syncs: list[int] = []
    steps = {k: spy_steps(teams[k].learner, syncs) for k in ("tutorial", "replay", "target")}
    for _ in range(int(30 * level.ticks_per_second)):  # until the target network synced twice
        if teams["target"].learner.updates >= 250:
            break
        lab.tick()

    tutorial = teams["tutorial"].learner
    assert tutorial.memory is None and tutorial.target is None  # no memory, no second network
    assert steps["tutorial"] and set(steps["tutorial"]) == {1}  # every step on one transition
    # one step per transition, in order: all but the decision still being played back
    assert tutorial.env_steps - lab.per_team <= tutorial.updates <= tutorial.env_steps

    replay = teams["replay"].learner
    assert replay.target is None
    assert replay.memory is not None and replay.memory.samples == len(steps["replay"]) > 0
    assert set(steps["replay"]) == {32}

    target = teams["target"].learner
    assert target.memory.samples == len(steps["target"]) > 0 and set(steps["target"]) == {32}
    assert syncs[:2] == [100, 200]  # every 100 gradient steps, and only then
    assert not torch.equal(target.target.flat, target.net.flat)  # fixed between syncs

    ours = teams["ours"].learner
    assert isinstance(ours, Learner) and ours.config == learner_config(level)
    assert ours.updates > 0
    # n-step returns hold each flyer's last n-1 transitions until their window fills
    held = (ours.config.n_step - 1) * lab.per_team
    assert ours.env_steps - held <= ours.memory.size <= ours.env_steps


def test_the_double_dqn_team_values_its_own_networks_pick_with_the_target() -> None:
    from ai.optim import MseRmsprop
    from ai.qnet import numpy_forward

    learner = TEAMS["double"].make(ARCADE, 0)
    c = learner.config
    assert c.replay and c.target_network and c.double_dqn and learner.target is not None
    with pytest.raises(ValueError, match="needs target_network"):
        TutorialConfig(double_dqn=True)
    rng = np.random.default_rng(1)
    obs, nxt = rng.normal(size=(32, 8)).astype(np.float32), rng.normal(size=(32, 8)).astype(
        np.float32)
    actions, rewards = rng.integers(0, 2, 32), rng.normal(size=32).astype(np.float32)
    done = rng.random(32) < 0.2
    target = [w.copy() for w in learner.net.numpy_layers()]
    target[-2], target[-1] = target[-2][::-1].copy() * 1.5, target[-1][::-1].copy()  # unlike
    online = numpy_forward(learner.net.numpy_layers(), nxt)
    valued = numpy_forward(target, nxt)
    picks = online.argmax(1)
    assert (picks != valued.argmax(1)).any()  # the two networks disagree somewhere

    def step(double: bool) -> np.ndarray:
        """The trained network's first-layer bias gradient after one step."""
        net = TEAMS["double"].make(ARCADE, 0).net
        opt = MseRmsprop(net, 1e-3)
        opt.step(obs, actions, rewards, nxt, done, 0.9, target, double=double)
        return opt.grads[1].copy()

    def expected(next_value: np.ndarray) -> np.ndarray:
        """The same gradient by hand, for the given value of s'."""
        w = learner.net.numpy_layers()
        h1 = np.maximum(obs @ w[0].T + w[1], 0)
        h2 = np.maximum(h1 @ w[2].T + w[3], 0)
        q = h2 @ w[4].T + w[5]
        t = q.copy()
        t[np.arange(32), actions] = rewards + (1 - done) * 0.9 * next_value
        dz = (q - t) * (2.0 / q.size)
        dz = (dz @ w[4]) * (h2 > 0)
        dz = (dz @ w[2]) * (h1 > 0)
        return dz.sum(0)

    np.testing.assert_allclose(step(True), expected(valued[np.arange(32), picks]), atol=1e-5)
    np.testing.assert_allclose(step(False), expected(valued.max(1)), atol=1e-5)
    assert not np.allclose(step(True), step(False))


def test_tutorial_learns_from_each_transition_once_when_paced() -> None:
    """``updates_per_step=0`` then ``train``: the same weights as learning at once."""
    rng = np.random.default_rng(0)
    obs = rng.normal(size=(8, 2)).astype(np.float32)
    nxt = rng.normal(size=(8, 2)).astype(np.float32)
    acts, rew = rng.integers(2, size=8), rng.normal(size=8).astype(np.float32)
    done = np.zeros(8, bool)
    at_once, paced = TutorialLearner(2, seed=1), TutorialLearner(2, seed=1)
    at_once.observe_batch(obs, acts, rew, nxt, done)
    paced.observe_batch(obs, acts, rew, nxt, done, updates_per_step=0)
    assert paced.updates == 0
    assert paced.train(5) == 5 and paced.train(5) == 3 and paced.train(5) == 0
    assert torch.equal(at_once.net.flat, paced.net.flat)


# ---- determinism and one course --------------------------------------------------------------

def test_each_team_is_deterministic_for_a_seed() -> None:
    a, b = small_lab(ARCADE, seed=3), small_lab(ARCADE, seed=3)
    for lab in (a, b):
        lab.run_seconds(4.0)
    for ta, tb in zip(a.teams, b.teams, strict=True):
        assert torch.equal(ta.learner.net.flat, tb.learner.net.flat)
        assert [r.skill for r in ta.readings] == [r.skill for r in tb.readings]
    other = small_lab(ARCADE, seed=4)
    other.run_seconds(1.0, read=False)
    a2 = small_lab(ARCADE, seed=3)
    a2.run_seconds(1.0, read=False)
    assert not torch.equal(other.teams[0].learner.net.flat, a2.teams[0].learner.net.flat)


def test_a_team_flies_the_same_whoever_races_it() -> None:
    four = small_lab(ARCADE, seed=5, flock=32)  # 8 flyers a team
    two = small_lab(ARCADE, ("replay", "tutorial"), seed=5, flock=16)  # 8 a team
    for lab in (four, two):
        lab.run_seconds(3.0, read=False)
    by_key = {t.spec.key: t for t in two.teams}
    for team in four.teams:
        if team.spec.key in by_key:
            assert torch.equal(team.learner.net.flat, by_key[team.spec.key].learner.net.flat)


def test_every_team_starts_on_the_labs_course() -> None:
    lab = small_lab(ARCADE, seed=9)
    first = course_seed(9, 0)
    assert first != course_seed(9, 1) and first != course_seed(10, 0)
    for team in lab.teams:
        assert (team.play.flock.batch.course_seed == first).all()
    lab.run_seconds(20.0, read=False)
    for team in lab.teams:  # a later generation flies the list's course of its number
        f = team.play.flock
        assert team.generations >= 1
        assert int(f.batch.course_seed[f.focus]) == course_seed(9, team.generations - 1)


# ---- the command -------------------------------------------------------------------------------

def test_lab_json_has_the_documented_shape() -> None:
    r = subprocess.run([sys.executable, "main.py", "lab", "--level", "classic", "--seconds", "6",
                        "--seed", "2", "--teams", "tutorial,ours", "--json"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"level", "figure", "seed", "seconds", "flyers_per_team", "teams"}
    assert (out["level"], out["figure"], out["seed"], out["seconds"]) == (
        "classic", "success rate", 2, 6.0)
    assert [t["key"] for t in out["teams"]] == ["tutorial", "ours"]
    for team in out["teams"]:
        assert set(team) == {"key", "name", "adds", "env_steps", "updates", "curve"}
        assert [p["seconds"] for p in team["curve"]] == [0.0, 3.0, 6.0]
        assert all(0.0 <= p["skill"] <= 1.0 for p in team["curve"])
        assert 0 < team["curve"][-1]["env_steps"] == team["env_steps"]
    tutorial = out["teams"][0]
    assert tutorial["env_steps"] - 32 <= tutorial["updates"] <= tutorial["env_steps"]


@pytest.mark.parametrize("teams, words", [("tutorial,nope", "unknown team 'nope'"),
                                          ("tutorial", "2 to 4 teams"),
                                          ("ours,ours", "each team may race once")])
def test_lab_bad_teams_is_one_line(teams, words) -> None:
    r = subprocess.run([sys.executable, "main.py", "lab", "--teams", teams], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and words in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_parse_lineup_and_team_words() -> None:
    assert parse_lineup("replay, ours") == ("replay", "ours")
    assert tuple(TEAMS) == TEAM_KEYS  # the CLI's choices (no torch import) name every team
    assert all(TEAMS[k].spec.adds and len(TEAMS[k].spec.adds) <= 60 for k in TEAMS)
    assert len({TEAMS[k].spec.colour for k in TEAMS}) == len(TEAMS)
    assert TutorialConfig().learning_starts == 0 and TutorialConfig(replay=True).learning_starts


def test_train_reaches_a_lab_team(tmp_path) -> None:
    from ai.autopilot import Autopilot
    from game.commands.train import TrainConfig, train

    out = tmp_path / "tutorial.safetensors"
    report = train(TrainConfig(CLASSIC, out, steps=300, seed=1, progress=False, team="tutorial"))
    assert isinstance(report.learner, TutorialLearner) and report.learner.memory is None
    assert report.learner.updates == report.learner.env_steps == 300
    pilot = Autopilot.load(out)
    assert pilot.sizes == (2, 32, 32, 2)
    assert "lab team 'tutorial'" in pilot.card["config"]
    assert "--team tutorial" in pilot.card["command"]
    r = subprocess.run([sys.executable, "main.py", "train", "--level", "classic", "--team",
                        "double", "--steps", "200", "--no-progress", "--out",
                        str(tmp_path / "double.safetensors")], capture_output=True, text=True,
                       cwd=Path(__file__).resolve().parent.parent)
    assert r.returncode == 0, r.stderr
    assert Autopilot.load(tmp_path / "double.safetensors").card["double_dqn"] is True


def test_paying_the_steps_early_changes_nothing() -> None:
    """A frame's spare time may pay owed gradient steps early (``DebtWorker.pay``, the window
    without a thread); the headless lab pays them at the next decision: the same learning
    either way."""
    eager, lazy = small_lab(CLASSIC, seed=6), small_lab(CLASSIC, seed=6)
    eager.start_worker(thread=False)
    paid = 0
    for _ in range(40):
        eager.tick()
        paid += eager.worker.pay(10.0, chunk=1)
        lazy.tick()
    assert paid > 0 and eager.worker.owed < 1.0
    eager.read_all()
    lazy.read_all()
    for a, b in zip(eager.teams, lazy.teams, strict=True):
        assert torch.equal(a.learner.net.flat, b.learner.net.flat)
        assert a.readings[-1].skill == b.readings[-1].skill


def test_the_worker_thread_learns_exactly_as_the_lab_alone() -> None:
    """The window's lab pays the owed steps on a worker thread: each learner takes the same
    steps in the same order, so the weights and readings equal the headless lab's; the
    worker pays them (not the decisions), and stopping it leaves the rest owed."""
    threaded, alone = small_lab(CLASSIC, seed=6), small_lab(CLASSIC, seed=6)
    threaded.start_worker()
    worker = threaded.worker
    for _ in range(40):
        threaded.tick()
        worker.wait_idle()  # the worker has paid all the whole steps owed
        assert worker.owed < len(threaded.teams)
        alone.tick()
    assert worker.paid > 0
    threaded.stop_worker()
    assert threaded.worker is None and not worker._thread.is_alive()
    threaded.read_all()
    alone.read_all()
    for a, b in zip(threaded.teams, alone.teams, strict=True):
        assert a.learner.updates == b.learner.updates > 0
        assert torch.equal(a.learner.net.flat, b.learner.net.flat)
        assert a.readings[-1].skill == b.readings[-1].skill


def test_a_learner_error_on_the_worker_is_raised_on_the_labs_thread() -> None:
    """A learner that fails on the worker does not fail silently: the lab's next settling of
    that team raises the same error, and the worker stops taking steps."""
    lab = small_lab(CLASSIC, keys=("tutorial", "replay"), seed=2)
    broken = lab.teams[1].learner

    def train(n: int) -> None:
        raise RuntimeError("the learner broke")

    broken.train = train
    lab.start_worker()
    with pytest.raises(RuntimeError, match="the learner broke"):
        for _ in range(200):
            lab.tick()
            lab.worker.wait_idle()
    assert isinstance(lab.worker.error, RuntimeError)
    lab.stop_worker()


def test_record_lab_and_the_png_chart(tmp_path) -> None:
    """``record --lab`` films the lab with each team's colour in it; ``lab --png`` draws the
    chart: both are the project's own pictures of the same seeded lab."""
    from PIL import Image

    gif, png = tmp_path / "lab.gif", tmp_path / "chart.png"
    r = subprocess.run([sys.executable, "main.py", "record", "--lab", "--level", "classic",
                        "--seconds", "4", "--fps", "5", "--size", "160", "--seed", "1",
                        "--teams", "tutorial,ours", "--out", str(gif)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "recorded the lab on classic" in r.stdout
    film = Image.open(gif)
    total_ms = 0
    for k in range(film.n_frames):
        film.seek(k)
        total_ms += film.info["duration"]
    # one frame per 0.2 s of play from 0 to 4 s, the last held 2 s (GIF merges the copies)
    assert total_ms == pytest.approx((4 * 5 + 1 + 2 * 5) * 200, abs=50)
    last = np.asarray(film.convert("RGB")).reshape(-1, 3).astype(int)
    for key in ("tutorial", "ours"):  # each team's line of the caption, in its colour
        assert (np.abs(last - TEAMS[key].spec.colour).max(axis=1) <= 8).sum() > 20
    r = subprocess.run([sys.executable, "main.py", "lab", "--level", "classic", "--seconds", "3",
                        "--teams", "replay,target", "--png", str(png)],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    chart = np.asarray(Image.open(png).convert("RGB")).reshape(-1, 3).astype(int)
    for key in ("replay", "target"):
        assert (np.abs(chart - TEAMS[key].spec.colour).max(axis=1) <= 8).sum() > 20


def test_the_lab_panel_rows_and_chart_without_a_window() -> None:
    from game.ui.hud.lab_panel import chart_points, chart_rect, header, lab_layout, rows, state_of

    lab = small_lab(CLASSIC, ("tutorial", "ours"), seed=2, flock=8)
    st = state_of(lab, "1x", False, "the tutorial vs our autopilot", 1)
    assert rows(st) == [("the tutorial", "…   4/4 flying"), ("our autopilot", "…   4/4 flying")]
    assert header(st) == "classic · 0 s of play · 1x · following our autopilot"
    lines, span = chart_points(st, 10, 20, 300, 100)
    assert span == 30.0 and all(xs.size == 0 for xs, _ in lines)  # no reading yet: no line
    lab.run_seconds(6.0)
    st = state_of(lab, "max", True, "", 0)
    lines, span = chart_points(st, 10, 20, 300, 100)
    for (xs, ys), team in zip(lines, lab.teams, strict=True):
        assert xs.tolist() == pytest.approx([10, 10 + 3 / 30 * 300, 10 + 6 / 30 * 300])
        assert ys.tolist() == pytest.approx([20 + 100 * r.skill for r in team.readings])
    assert "paused" in header(st)
    L = lab_layout(1080, 620)
    assert not L.field.overlaps(L.hud) and L.field.w == L.field.h
    c = chart_rect(L.hud, 4)
    assert L.hud.x < c.x and c.right < L.hud.right and c.h >= 40


def test_staggered_teams_decide_on_their_own_ticks_and_learn_the_same() -> None:
    """The window staggers the teams' decisions over a decision's ticks: fewer decisions per
    frame, the same learning per team (the first team, phase 0, exactly as in lock step)."""
    lock, stag = small_lab(ARCADE, seed=8), Lab(ARCADE, lineup(DEFAULT_LINEUP, ARCADE, 8),
                                                 flock=16, seed=8, stagger=True)
    assert stag.phases == [0, 1, 2, 3] and lock.phases == [0, 0, 0, 0]
    most = 0
    for _ in range(240):
        lock.tick()
        before = [int(t.learner.env_steps) for t in stag.teams]
        stag.tick()
        most = max(most, sum(int(t.learner.env_steps) > b
                             for t, b in zip(stag.teams, before, strict=True)))
    assert most == 1  # one team's decision a tick
    first_lock, first_stag = lock.teams[0].learner, stag.teams[0].learner
    assert first_lock.env_steps == first_stag.env_steps > 0
    assert torch.equal(first_lock.net.flat, first_stag.net.flat)
    stag.set_top_speed(True)
    stag.decide()  # max puts every team on the same tick; 1x re-staggers them
    stag.set_top_speed(False)
    for _ in range(8):
        before = [int(t.learner.env_steps) for t in stag.teams]
        stag.tick()
        assert sum(int(t.learner.env_steps) > b
                   for t, b in zip(stag.teams, before, strict=True)) <= 1
