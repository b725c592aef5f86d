"""The flock: batched act/observe, bookkeeping, human tags, determinism, exact resume, skill."""

from __future__ import annotations

import dataclasses
import io
import json

import numpy as np
import pytest
import torch

from ai import Learner, LearnerConfig
from ai.learner import LearnerState
from game.play.flock import Flock, flock_from_state, flock_state
from game.play.skill import SkillMeter
from game.sim.evaluation import Evaluation
from game.sim.levels import ARCADE, CLASSIC
from game.wiring.learning import learner_config, learner_from_state, new_learner


def small_arcade(seed: int = 0, **changes) -> Learner:
    """An arcade learner with small rings and a short early phase (fast tests)."""
    cfg = learner_config(ARCADE, capacity=3_000, terminal_capacity=300, early_steps=200,
                         eps_decay_steps=300, pilot_average_updates=50, **changes)
    return new_learner(ARCADE, seed, cfg)


def transitions(n: int, seed: int = 0) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    obs = rng.standard_normal((n, 8)).astype(np.float32)
    nxt = rng.standard_normal((n, 8)).astype(np.float32)
    actions = rng.integers(2, size=n)
    rewards = rng.choice([-1.0, 0.0, 1.0], size=n).astype(np.float32)
    terminated = rewards < 0
    human = rng.random(n) < 0.3
    return obs, actions, rewards, nxt, terminated, human


# ---- Learner.act_batch / observe_batch --------------------------------------------------------

def test_observe_batch_stores_what_one_by_one_observe_stores() -> None:
    cfg = dataclasses.replace(LearnerConfig(), capacity=50, terminal_capacity=7,
                              learning_starts=10**9)  # no gradient step: memories comparable
    one, many = Learner(8, cfg, seed=1), Learner(8, cfg, seed=1)
    for chunk in range(5):  # both rings wrap; the last chunk is larger than the terminal ring
        obs, actions, rewards, nxt, term, human = transitions(20 + 10 * chunk, seed=chunk)
        for i in range(len(obs)):
            one.observe(obs[i], int(actions[i]), float(rewards[i]), nxt[i], bool(term[i]),
                        human=bool(human[i]))
        many.observe_batch(obs, actions, rewards, nxt, term, human=human)
    a, b = one.memory, many.memory
    for name in a.ARRAYS:
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    assert (a.pos, a.count, a.tpos, a.tcount, a.human_count) == (
        b.pos, b.count, b.tpos, b.tcount, b.human_count)
    assert one.env_steps == many.env_steps == 200


def test_observe_batch_runs_the_same_gradient_steps_and_rejects_bad_rows() -> None:
    cfg = dataclasses.replace(LearnerConfig(), learning_starts=16, early_steps=64,
                              updates_per_step_early=1.5, updates_per_step=0.25)
    one, many = Learner(8, cfg, seed=2), Learner(8, cfg, seed=2)
    obs, actions, rewards, nxt, term, _ = transitions(120)
    for i in range(120):
        one.observe(obs[i], int(actions[i]), float(rewards[i]), nxt[i], bool(term[i]))
    for k in range(0, 120, 40):
        many.observe_batch(obs[k:k + 40], actions[k:k + 40], rewards[k:k + 40],
                           nxt[k:k + 40], term[k:k + 40])
    assert many.updates == one.updates > 0
    assert many.lr == one.lr == cfg.lr  # the switch after the early phase happened
    bad = obs[:3].copy()
    bad[1, 0] = np.nan
    many.observe_batch(bad, actions[:3], rewards[:3], nxt[:3], term[:3])
    assert many.rejected_transitions == 1 and many.env_steps == 122
    ratio = Learner(8, cfg, seed=2)
    ratio.observe_batch(obs, actions, rewards, nxt, term, updates_per_step=0.5)
    assert ratio.updates == (120 - 15) // 2  # from learning_starts on, at the given ratio


def test_act_batch_is_greedy_or_explores_from_the_given_generator() -> None:
    learner = Learner(8, seed=3)
    obs = transitions(64)[0]
    online = learner.act_batch(obs, epsilon=0.0)
    assert learner.explore_steps == 64
    np.testing.assert_array_equal(online, [learner.act(o, explore=False) for o in obs])
    np.testing.assert_array_equal(learner.act_batch(obs, explore=False),
                                  learner.greedy_batch(obs))
    assert learner.explore_steps == 64  # greedy acts do not advance the schedule
    rng = np.random.default_rng(9)
    explored = learner.act_batch(obs, rng=rng, epsilon=1.0)
    ref = np.random.default_rng(9)
    ref.random(64)
    np.testing.assert_array_equal(explored, ref.integers(2, size=64))


# ---- bookkeeping ------------------------------------------------------------------------------

def test_generations_alive_counts_and_the_series() -> None:
    learner = small_arcade()
    flock = Flock(ARCADE, learner, n=6, seed=4, restart="generation")
    assert flock.generation == 1 and flock.alive_count == 6
    lives = 0
    seen_generations = 1
    scores: list[float] = []  # the lives of the generation being flown
    while seen_generations < 4:
        before = flock.alive_count
        step = flock.step()
        lives += step.ended.size
        scores += step.scores.tolist()
        assert step.transitions == before
        if step.new_generation:
            seen_generations += 1
            assert flock.alive_count == 6 and flock.generation == seen_generations
            g, best, mean = flock.history[-1]
            assert g == seen_generations - 1 and len(scores) == 6  # one life per flyer
            assert best == max(scores) and mean == pytest.approx(sum(scores) / 6)
            scores = []
        else:
            assert flock.alive_count == before - step.ended.size
            assert not flock.alive[step.ended].any()
        assert flock.alive[flock.focus] or step.new_generation
    assert learner.episodes == lives == 6 * 3  # one life per flyer per generation
    assert len(flock.history) == 3


def test_respawned_flyers_rejoin_a_living_one_on_the_same_tick() -> None:
    learner = small_arcade()
    flock = Flock(ARCADE, learner, n=8, seed=5)
    assert flock.restart == "respawn"
    respawns = 0
    while respawns < 10:
        step = flock.step()
        if step.respawned.size:
            respawns += step.respawned.size
            b = flock.batch
            assert flock.alive.all()
            assert (b.t == b.t[0]).all() and (b.course_seed == b.course_seed[0]).all()
            np.testing.assert_array_equal(flock.obs, b.observation())
    assert flock.generation >= 1 and learner.episodes >= 10


def test_a_classic_flock_flies_generations_of_flights() -> None:
    learner = new_learner(CLASSIC, 0)
    flock = Flock(CLASSIC, learner, n=4, seed=7, restart="respawn")
    assert flock.restart == "generation"  # one crossing per flight: nothing to respawn into
    while flock.generation < 3:
        flock.step()
    assert learner.episodes == 8 and len(flock.history) == 2


# ---- determinism and exact resume -------------------------------------------------------------

def test_same_seed_same_weights() -> None:
    a, b = small_arcade(seed=8), small_arcade(seed=8)
    Flock(ARCADE, a, n=6, seed=8).run(120)
    Flock(ARCADE, b, n=6, seed=8).run(120)
    assert a.updates > 0 and torch.equal(a.net.flat, b.net.flat)
    c = small_arcade(seed=8)
    Flock(ARCADE, c, n=6, seed=9).run(120)
    assert not torch.equal(a.net.flat, c.net.flat)


def _through_files(learner: Learner, flock: Flock) -> tuple[LearnerState, dict, dict]:
    """Learner state and flock state through safetensors-like copies, .npz and JSON."""
    state = learner.state()
    tensors = {k: v.clone() for k, v in state.tensors.items()}
    out = []
    for arrays in (state.arrays, flock_state(flock)[0]):
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        buf.seek(0)
        with np.load(buf, allow_pickle=False) as z:
            out.append({k: z[k] for k in z.files})
    meta = json.loads(json.dumps(state.meta))
    flock_meta = json.loads(json.dumps(flock_state(flock)[1]))
    return LearnerState(tensors, out[0], meta), out[1], flock_meta


@pytest.mark.parametrize(("restart", "n_step", "scouts"), [
    ("respawn", 1, 0), ("generation", 1, 0), ("respawn", 3, 4)])
def test_exact_resume_with_a_flock(restart: str, n_step: int, scouts: int) -> None:
    whole = small_arcade(seed=10, n_step=n_step)
    whole_flock = Flock(ARCADE, whole, n=6, seed=10, restart=restart, scouts=scouts)
    for _ in range(400):
        whole_flock.step()

    first = small_arcade(seed=10, n_step=n_step)
    flock = Flock(ARCADE, first, n=6, seed=10, restart=restart, scouts=scouts)
    for _ in range(250):  # past the early phase and a ring wraparound
        flock.step()
    state, arrays, meta = _through_files(first, flock)
    resumed = learner_from_state(ARCADE, state)
    again = flock_from_state(ARCADE, resumed, arrays, meta)
    for _ in range(250, 400):
        again.step()

    assert torch.equal(resumed.net.flat, whole.net.flat)
    assert torch.equal(resumed.pilot_net.flat, whole.pilot_net.flat)
    assert (resumed.env_steps, resumed.updates, resumed.episodes) == (
        whole.env_steps, whole.updates, whole.episodes)
    assert again.generation == whole_flock.generation
    if n_step > 1:
        assert resumed.nstep.pending > 0 and resumed.nstep.pending == whole.nstep.pending
    assert list(again.history) == list(whole_flock.history)
    for key, value in flock_state(whole_flock)[0].items():
        np.testing.assert_array_equal(flock_state(again)[0][key], value, err_msg=key)


def test_a_flock_state_for_another_level_is_refused() -> None:
    flock = Flock(ARCADE, small_arcade(), n=3, seed=0)
    arrays, meta = flock_state(flock)
    with pytest.raises(ValueError, match="level arcade, not classic"):
        flock_from_state(CLASSIC, new_learner(CLASSIC), arrays, meta)
    arrays["flock.alive"] = np.zeros(4, dtype=bool)
    with pytest.raises(ValueError, match="flock.alive"):
        flock_from_state(ARCADE, small_arcade(), arrays, meta)


# ---- the skill meter --------------------------------------------------------------------------

def test_skill_meter_agrees_with_a_direct_evaluation() -> None:
    learner = small_arcade(seed=11)
    Flock(ARCADE, learner, n=16, seed=11).run(150)
    pilot = learner.autopilot()
    meter = SkillMeter(ARCADE, episodes=20, seed=777)
    direct = Evaluation.prepare(ARCADE, 20, 777).run(pilot.act_batch)
    assert meter.measure(pilot.act_batch) == direct["mean_score_over_oracle"]
    assert meter.refresh(learner)
    assert meter.wait() == direct["mean_score_over_oracle"]
    assert meter.readings == [(learner.env_steps, direct["mean_score_over_oracle"])]
    classic = SkillMeter(CLASSIC, episodes=50, seed=3)
    flyer = new_learner(CLASSIC, 0)
    assert classic.measure(flyer.greedy_batch) == Evaluation.prepare(CLASSIC, 50, 3).run(
        flyer.greedy_batch)["success_rate"]


def test_skill_process_reads_what_the_meter_reads() -> None:
    from game.play.skill_process import SkillProcess

    learner = small_arcade(seed=12)
    Flock(ARCADE, learner, n=16, seed=12).run(150)
    direct = SkillMeter(ARCADE, episodes=20, seed=777).measure(learner.autopilot().act_batch)
    meter = SkillProcess(ARCADE, episodes=20, seed=777)
    try:
        assert meter.latest is None and not meter.busy
        assert meter.refresh(learner)
        assert meter.busy and not meter.refresh(learner)  # one reading in flight at a time
        assert meter.wait(timeout=120) == direct
        assert meter.readings == [(learner.env_steps, direct)] and not meter.busy
        Flock(ARCADE, learner, n=16, seed=13).run(50)  # the learner moves on: a new reading
        later = SkillMeter(ARCADE, episodes=20, seed=777).measure(learner.autopilot().act_batch)
        assert meter.refresh(learner) and meter.wait(timeout=120) == later
        assert len(meter.readings) == 2
    finally:
        meter.close()
    assert not meter._proc.is_alive()
    assert not meter.refresh(learner)  # a stopped meter takes no more readings


def test_a_crowning_skill_process_judges_as_the_meter_does() -> None:
    from game.play.skill_process import SkillProcess

    learner = small_arcade(seed=12)
    Flock(ARCADE, learner, n=16, seed=12).run(150)
    here = SkillMeter(ARCADE, episodes=20, seed=777)
    contenders = learner.contenders()
    assert len(contenders) == 2  # the average and the online weights
    pick, validation, skill = here.judge([c.act_batch for c in contenders], {})
    meter = SkillProcess(ARCADE, episodes=20, seed=777, crown=True)
    try:
        assert meter.refresh(learner) and meter.wait(timeout=120) == skill
        pilot, figures = meter.take_crown()
        assert figures == {"validation": validation, "skill": skill} and meter.take_crown() is None
        assert [w.tolist() for w in pilot.layers] == [w.tolist() for w in contenders[pick].layers]
        learner.crown(pilot, figures)
        for layers in (learner.weights.contender_layers, learner.weights.layers):
            layers[-2][:] = layers[-1][:] = 0.0  # tied Q-values: it always falls, and crashes
        learner.env_steps += 1
        _, worse, none = here.judge([c.act_batch for c in learner.contenders()], figures)
        assert worse < validation and none is None
        assert meter.refresh(learner) and meter.wait(timeout=120) == skill  # the champion's
        assert meter.take_crown() is None and learner.champion_figures == figures
        # perfect on validation but not on the held-out set: readings go on (a tie crowns)
        learner.crown(pilot, {"validation": 1.0, "skill": 0.5})
        assert meter.refresh(learner) and meter._pending is not None
        meter.wait(timeout=120)
        # a champion that matched the oracle on every run of both sets: nothing is flown
        learner.crown(pilot, {"validation": 1.0, "skill": 1.0})
        assert meter.refresh(learner) and not meter.busy and meter._pending is None
        assert meter.latest == 1.0 and len(meter.readings) == 4
    finally:
        meter.close()


# ---- learning on from the shipped pilot -------------------------------------------------------

def test_learning_on_from_the_shipped_pilot_keeps_its_skill() -> None:
    from game.play.flock import FROM_PILOT_LADDER
    from game.wiring.learning import load_pilot, pretrained_path

    pilot, _ = load_pilot(pretrained_path("arcade"), ARCADE)
    meter = SkillMeter(ARCADE, episodes=40, seed=777)
    assert meter.measure(pilot.act_batch) >= 0.99
    learner = new_learner(ARCADE, seed=0)
    learner.load_pilot(pilot)
    assert learner.config.early_steps == 0
    assert learner.epsilon == pytest.approx(learner.config.eps_end)
    assert learner.lr < learner_config(ARCADE).lr  # the pilot's fine rate, not a fresh one's
    flock = Flock(ARCADE, learner, n=16, seed=0, replay_ratio=learner.pacing.top,
                  explore_ladder=FROM_PILOT_LADDER)
    while learner.env_steps < learner.config.learning_starts - 16:
        flock.step()
    assert learner.updates == 0  # no gradient step on a nearly empty memory
    while learner.updates < 1_000 and learner.env_steps < 100_000:
        flock.step()
    assert learner.updates >= 1_000
    assert meter.measure(learner.greedy_batch) >= 0.99


def test_scouts_fly_their_own_courses_out_of_sight_and_feed_the_learner() -> None:
    learner = small_arcade(seed=4)
    flock = Flock(ARCADE, learner, n=6, seed=4, scouts=5)
    step = flock.step()
    assert step.transitions == 6 + 5 and learner.env_steps == 11
    assert len(flock.alive) == 6  # the flock on screen is still six flyers
    assert len(set(flock.scouting.batch.course_seed.tolist())) == 5  # a course each
    assert int(flock.scouting.batch.course_seed[0]) != int(flock.batch.course_seed[0])
    before = flock.scouting.batch.course_seed.copy()
    ended = len(step.ended)
    while flock.scout_courses == 5:
        ended += len(flock.step().ended)
    # a crashed scout flies on at once on a fresh course
    assert (flock.scouting.batch.course_seed != before).any()
    # the learner's episodes (the HUD's scores) are the flock's lives, not the scouts'
    assert learner.episodes == ended
