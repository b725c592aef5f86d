"""The game loop, headless: accumulator, catch-up cap, pause, speeds, pilots, data flow."""

from __future__ import annotations

import numpy as np
import pytest

from game import make_world
from game.play.events import Crashed, Jumped, NewBest, RunStarted, Scored
from game.play.pause import PauseReason
from game.play.pilots import Pilots
from game.play.session import Phase, Session, SessionConfig
from game.play.speed import SPEEDS, TICK_RATES
from game.sim.actions import FALL, JUMP
from game.wiring.autosave import Autosave
from game.wiring.best_scores import ScoreBook


class FakeLearner:
    """Records every call; flies by a fixed rule so outcomes are predictable."""

    def __init__(self, action: int = FALL) -> None:
        self.learn_enabled = True
        self.action = action
        self.acts: list[tuple[np.ndarray, bool]] = []
        self.transitions: list[tuple] = []
        self.episodes: list[float] = []

    def act(self, obs: np.ndarray, explore: bool = True) -> int:
        self.acts.append((obs.copy(), explore))
        return self.action

    def observe(self, obs, action, reward, next_obs, terminated, truncated, human=False):
        self.transitions.append((obs.copy(), action, reward, next_obs.copy(), terminated,
                                 truncated, human))

    def end_episode(self, score: float) -> None:
        self.episodes.append(score)


class FakeClock:
    """A clock that advances by ``step`` seconds each time it is read."""

    def __init__(self, step: float = 0.0) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


class Hover(FakeLearner):
    """Holds level flight: jumps whenever the next height would be below 0."""

    def act(self, obs, explore=True):
        self.acts.append((obs.copy(), explore))
        return JUMP if obs[0] + obs[1] < 0 else FALL


def make(level="classic", seed=1, learner=None, clock=None, pilot="human", **cfg) -> Session:
    return Session(level, seed=seed, config=SessionConfig(**cfg), learner=learner,
                   clock=clock or FakeClock(), pilot=pilot)


def test_accumulator_runs_whole_ticks_and_the_simulation_leads_the_clock():
    s = make(tick_rate=10.0, learner=Hover(), pilot="autopilot")
    assert s.advance(0.05) == 1  # the next tick runs at once: the latest tick is never behind
    assert s.alpha() == pytest.approx(0.5)  # now is half-way from the previous tick to it
    assert s.advance(0.06) == 1  # 0.11 s of play: tick 2 (due at 0.1 s) has run
    assert s.alpha() == pytest.approx(0.1)
    total = 2 + sum(s.advance(1 / 60) for _ in range(60))
    assert total == 12  # 1.11 s of wall time: ticks 1..12, the 12th at 1.1 s
    assert s.ticks == total


def test_catch_up_is_capped_after_a_stall():
    s = make(tick_rate=10.0, max_frame_dt=0.25, learner=Hover(), pilot="autopilot")
    assert s.advance(5.0) == 3  # a 5 s stall counts as 0.25 s: ticks to 0.3 s, not 50
    assert s.alpha() == pytest.approx(0.5)


def test_work_budget_drops_the_backlog_instead_of_spiralling():
    clock = FakeClock(step=0.004)  # every tick looks like 4 ms of work
    s = make(tick_rate=60.0, clock=clock, work_budget_s=0.008, learner=Hover(),
             pilot="autopilot")
    s.pace.set_index(2)  # 16x: 960 ticks/s, 4 ticks due in a 1/240 s frame... use a long frame
    ran = s.advance(0.1)  # 96 ticks due
    assert 1 <= ran <= 3
    assert s.clock.dropped > 90
    clock.step = 0.0
    assert s.advance(1 / 240) == 4  # the next frame runs its own 4 ticks, no backlog


def test_pause_stops_time_and_resume_does_not_burst():
    s = make(tick_rate=10.0, learner=Hover(), pilot="autopilot")
    s.advance(0.09)
    s.pausing.toggle()
    assert s.paused
    assert sum(s.advance(0.1) for _ in range(50)) == 0
    s.pausing.toggle()
    assert s.alpha() == 1.0  # accumulator emptied: the latest tick is now
    assert s.advance(0.05) == 1  # the next tick, not the 50 s of pause


def test_focus_loss_pauses_and_return_has_no_burst():
    clock = FakeClock()
    s = make(tick_rate=10.0, learner=Hover(), clock=clock)
    s.press_jump()  # the player's run starts
    assert s.advance(0.1) == 1
    s.pausing.focus_lost()
    s.pausing.focus_gained()  # a flicker (X moving focus) resumes by itself
    assert not s.paused
    s.pausing.focus_lost()
    assert s.paused and s.pause_reason is PauseReason.FOCUS
    assert s.advance(3.0) == 0
    clock.now += 3.0
    s.pausing.focus_gained()  # the player was away: stays paused until they press a key
    assert s.paused
    s.press_jump()  # resumes, does not jump
    assert not s.paused and not s.pilots.pending_jump
    assert s.advance(1 / 60) == 1  # the next tick only: none owed for the time away
    s.toggle_pilot()
    s.pausing.focus_lost()
    s.pausing.focus_gained()  # the autopilot carries on by itself
    assert not s.paused
    assert s.advance(1 / 60) == 1


def test_minimized_window_never_spirals():
    s = make(tick_rate=60.0, learner=Hover(), pilot="autopilot")
    s.pausing.hidden()
    assert s.paused and s.pause_reason is PauseReason.HIDDEN
    assert sum(s.advance(10.0) for _ in range(100)) == 0
    s.pausing.focus_lost()
    assert s.pause_reason is PauseReason.HIDDEN
    s.pausing.toggle()
    assert s.advance(10.0) <= 15  # even a giant frame is capped at max_frame_dt


def test_a_players_pause_survives_minimize_and_focus():
    s = make(tick_rate=10.0, learner=Hover(), pilot="autopilot")
    s.pausing.toggle()
    s.pausing.hidden()
    s.pausing.focus_lost()
    s.pausing.focus_gained()
    assert s.paused and s.pause_reason is PauseReason.USER


def test_tick_rate_ladder_and_change_keeps_the_phase():
    s = make(tick_rate=10.0, learner=Hover(), pilot="autopilot")
    s.advance(0.05)
    assert s.pace.faster() == 12
    assert s.alpha() == pytest.approx(0.5)
    assert s.advance(1 / 24) == 0  # the half tick left takes 1/24 s at 12 Hz: level with now
    assert s.alpha() == pytest.approx(1.0)
    assert s.advance(1 / 24) == 1
    s.pace.set_tick_rate(13)
    assert s.pace.slower() == 12 and s.pace.slower() == 10
    for _ in range(30):
        s.pace.slower()
    assert s.tick_rate == TICK_RATES[0]
    for _ in range(30):
        s.pace.faster()
    assert s.tick_rate == TICK_RATES[-1]
    for bad in (0, 1e9, float("nan")):
        with pytest.raises(ValueError, match="between 2 and 60 ticks/s"):
            s.pace.set_tick_rate(bad)


def test_speed_multipliers_scale_ticks():
    for index, mult in enumerate(SPEEDS[:3]):
        s = make("classic", learner=Hover(), pilot="autopilot", tick_rate=8.0)
        s.pace.set_index(index)
        assert s.advance(1 / 16) + s.advance(1 / 16) == mult  # 1 tick of wall time


def test_max_speed_fills_the_work_budget_and_draws_the_latest():
    clock = FakeClock(step=0.0001)  # 0.1 ms per clock read
    learner = FakeLearner()
    s = make("classic", learner=learner, clock=clock, work_budget_s=0.008, tick_rate=10.0)
    s.toggle_pilot()
    s.pace.set_index(3)
    ran = s.advance(1 / 60)
    assert 70 <= ran <= 80  # one clock read per tick after the first
    assert s.alpha() == 1.0
    # crashes start the next flight at once at max: many flights inside one frame
    assert s.flights >= 10 and len(learner.episodes) == s.flights


def test_space_queues_one_jump_for_the_next_tick():
    s = make("classic", seed=3, tick_rate=10.0)
    s.press_jump()
    s.press_jump()
    assert s.pilots.pending_jump
    s.advance(0.1)
    assert s.world.v_y == 0.2 and s.pilots.human_jumps == 1
    assert not s.pilots.pending_jump
    s.advance(0.1)
    assert s.jump_rise == pytest.approx(0.2)


def test_one_tick_matches_the_world_and_tags_human_transitions():
    learner = FakeLearner(action=JUMP)
    s = make("classic", seed=7, learner=learner, tick_rate=10.0)
    ref = make_world("classic", 7)
    actions = []
    for k in range(6):
        if k == 3:
            s.toggle_pilot()  # autopilot takes over mid-flight: no reset
            assert s.world.t == 3
        if s.pilot == "human" and k % 2 == 0:
            s.press_jump()
        s.advance(0.1)
        actions.append(learner.transitions[-1][1])
    for a in actions:
        ref.step(a)
    assert (s.world.t, s.world.y, s.world.v_y) == (ref.t, ref.y, ref.v_y)
    tags = [tr[6] for tr in learner.transitions]
    assert tags == [True, True, True, False, False, False]
    assert actions[:3] == [JUMP, FALL, JUMP] and actions[3:] == [JUMP] * 3
    # each transition chains: next_obs of one is obs of the next
    for a, b in zip(learner.transitions, learner.transitions[1:], strict=False):
        np.testing.assert_array_equal(a[3], b[0])
    assert len(learner.acts) == 3  # the learner is asked only while it flies
    s.toggle_pilot()
    assert s.pilot == "human" and s.world.t == 6


def test_autopilot_explores_only_while_learning():
    learner = FakeLearner(action=JUMP)
    s = make("classic", learner=learner, pilot="autopilot")
    s.advance(0.1)
    s.pilots.toggle_learning()
    assert learner.learn_enabled is False
    s.advance(0.1)
    assert [e for _, e in learner.acts] == [True, False]


def test_classic_streak_stage_and_best(tmp_path):
    book = ScoreBook(tmp_path)
    learner = Hover()
    s = Session("classic", seed=2, learner=learner, scores=book, pilot="autopilot",
                config=SessionConfig(tick_rate=10.0), clock=FakeClock())
    for _ in range(100):
        s.advance(1.0 / 10)
    assert s.flights == 2 and s.score == 2 and s.stage == 2
    assert learner.episodes == [1.0, 1.0]
    assert book.get("classic", "autopilot") == 2 and book.get("classic", "human") == 0
    # the player takes over and falls: streak resets, crash holds, next flight starts
    s.toggle_pilot()
    while s.phase is Phase.FLYING:
        s.advance(0.1)
    assert s.score == 0 and s.stage == 2 and learner.episodes[-1] == 0.0
    assert s.view().phase is Phase.CRASHED
    assert s.advance(0.25) + s.advance(0.25) == 0 and s.phase is Phase.CRASHED  # 0.6 s hold
    s.advance(0.2)
    assert s.phase is Phase.FLYING and s.world.t <= 1
    assert s.scoring.kind == "human"


def frames_until(s: Session, done, limit: int = 2000) -> int:
    """Advances 60 Hz frames until ``done()``; returns how many it took."""
    for n in range(limit):
        if done():
            return n
        s.advance(1 / 60)
    raise AssertionError("never happened")


def test_arcade_game_over_waits_for_the_player_and_autopilot_restarts_itself():
    learner = FakeLearner(action=FALL)
    s = make("arcade", seed=4, learner=learner)
    s.press_jump()  # the player's run starts with SPACE
    frames_until(s, lambda: s.phase is not Phase.FLYING)
    assert s.phase is Phase.GAME_OVER and learner.episodes == [0.0]
    assert sum(s.advance(0.5) for _ in range(10)) == 0  # waits for the player
    s.press_jump()  # SPACE restarts, it does not jump
    assert s.phase is Phase.FLYING and s.world.t == 0 and not s.pilots.pending_jump
    s.toggle_pilot()
    frames_until(s, lambda: s.phase is not Phase.FLYING)
    assert sum(s.advance(0.24) for _ in range(4)) == 0  # the game-over screen shows 1 s
    s.advance(0.1)
    assert s.phase is Phase.FLYING and s.world.t <= 6


def test_restart_key_resets_the_run():
    s = make("arcade", seed=5, learner=FakeLearner())
    s.press_jump()
    s.advance(0.1)
    s.restart()
    assert s.world.t == 0 and s.score == 0 and s.stage == 0 and s.phase is Phase.READY
    s.toggle_pilot()
    s.restart()
    assert s.world.t == 0 and s.phase is Phase.FLYING  # the autopilot needs no SPACE


def test_the_players_run_waits_for_space_and_jumps_on_the_next_tick():
    s = make("arcade", seed=6, learner=FakeLearner())
    assert s.phase is Phase.READY
    assert sum(s.advance(0.2) for _ in range(20)) == 0 and s.world.t == 0
    s.press_jump()  # starts the run and is its first jump
    assert s.phase is Phase.FLYING and s.pilots.pending_jump
    y0 = s.world.y
    assert s.advance(1 / 60) == 1  # the very next tick: the jump, and the flyer is higher
    assert s.world.t == 1 and s.world.v_y > 0 and s.world.y > y0
    assert s.pilots.human_jumps == 1 and s.view().y > y0
    s.restart()
    s.toggle_pilot()  # handing over also starts the run
    assert s.phase is Phase.FLYING
    assert s.advance(1 / 60) == 1


def test_arcade_ticks_at_the_game_speed_and_bounds_it():
    s = make("arcade", seed=1, learner=Track(), pilot="autopilot")
    assert s.pace.label() == ("Game speed", "100%")
    assert sum(s.advance(1 / 60) for _ in range(60)) == s.spec.ticks_per_second  # 1 s of play
    s.pace.faster()
    assert s.pace.label()[1] == "115%"
    for bad in (10.0, 1e9):
        with pytest.raises(ValueError, match="between 15 and 120 ticks/s"):
            s.pace.set_tick_rate(bad)


def test_interpolation_moves_smoothly_between_ticks():
    s = make("classic", seed=0, tick_rate=10.0)
    s.press_jump()
    s.advance(0.1)
    s.advance(0.1)  # ticks 1 and 2 ran; now (0.2 s) is level with tick 2
    y2 = s.world.y
    s.advance(0.05)  # 0.25 s: tick 3 ran, now is half-way from tick 2 to it
    y3 = s.world.y
    v = s.view()
    assert v.t == pytest.approx(2.5)
    assert v.y == pytest.approx((y2 + y3) / 2)
    assert v.x == pytest.approx(-1 + 0.05 * 2.5)


class Track(FakeLearner):
    """Hops towards the next gap: JUMP when the gap is above and the flyer is not rising."""

    def act(self, obs, explore=True):
        self.acts.append((obs.copy(), explore))
        return JUMP if obs[3] > 0.02 and obs[1] <= 0 else FALL


def test_arcade_view_wraps_at_each_stage():
    s = make("arcade", seed=0, learner=Track(), pilot="autopilot")
    stage = s.world.physics.ticks_per_stage
    frames_until(s, lambda: s.world.t == stage - 1)
    assert s.phase is Phase.FLYING
    x_last = s.world.x
    s.advance(1 / 120)  # the stage's last tick ran (x = -1, stage 1): half-way to it
    v = s.view()
    assert v.x == pytest.approx((x_last + 1.0) / 2) and v.stage == 0
    s.advance(1 / 120)  # level with it: drawn from the left edge, on stage 1
    v = s.view()
    assert v.x == pytest.approx(-1.0) and v.stage == 1


def test_autopilot_needs_a_learner():
    s = make("classic")
    with pytest.raises(RuntimeError):
        s.toggle_pilot()
    with pytest.raises(ValueError):
        Session("classic", pilot="autopilot")


def test_events_are_drained():
    s = make("classic", seed=1)
    s.press_jump()
    s.advance(0.1)
    assert s.take_events() == [Jumped(human=True)]
    assert s.take_events() == []


def test_events_tell_a_new_best_and_the_run_that_follows(tmp_path):
    book = ScoreBook(tmp_path)
    s = Session("classic", seed=2, learner=Hover(), scores=book, pilot="autopilot",
                config=SessionConfig(tick_rate=10.0), clock=FakeClock())
    events = []
    for _ in range(100):
        s.advance(0.1)
        events += [e for e in s.take_events() if not isinstance(e, Jumped)]
    assert events == [Scored(1), NewBest("autopilot", 1), Scored(2), NewBest("autopilot", 2)]
    s.toggle_pilot()  # the player takes over and falls: the streak ends, a new run begins
    while s.phase is Phase.FLYING:
        s.advance(0.1)
    events = [e for e in s.take_events() if not isinstance(e, Jumped)]
    assert events == [Crashed(2), RunStarted("human")]
    s.restart()
    assert s.take_events() == [RunStarted("human")]


# ---------------------------------------------------------------- autosave (fakes)
class Counting:
    """A learner stand-in with the counters ``Autosave`` watches."""

    def __init__(self) -> None:
        self.env_steps = self.episodes = self.updates = 0
        self.states = 0

    def state(self) -> dict:
        self.states += 1
        return {"env_steps": self.env_steps}


class FakeStore:
    def prepare(self, state, copy=True):
        if state.get("nan"):
            raise ValueError("not saving: tensor 'net' holds NaN or Inf")
        return ("snapshot", state["env_steps"])


class FakeSaver:
    """Records submits; ``finish`` makes the pending ones come back from ``poll``."""

    def __init__(self) -> None:
        self.submitted: list = []
        self.done: list = []
        self.closed_with: float | None = None
        self.busy = False

    def submit(self, snapshot) -> None:
        self.submitted.append(snapshot)

    def finish(self, ok: bool, now: float, message: str = "") -> None:
        gen = len(self.submitted) if ok else None
        self.done.append(SaveInfo(ok, message or ("saved" if ok else "could not save: No space "
                                                  "left on device"), gen, now))

    def poll(self) -> list:
        done, self.done = self.done, []
        return done

    def close(self, timeout=None) -> list:
        self.closed_with = timeout
        if self.submitted:
            self.finish(True, 0.0)
        return self.poll()


class SaveInfo:
    def __init__(self, ok: bool, message: str, generation, finished_at: float) -> None:
        self.ok, self.message, self.generation, self.finished_at = (ok, message, generation,
                                                                      finished_at)


def make_autosave(dirty=False, interval=60.0):
    learner, saver = Counting(), FakeSaver()
    now = [1000.0]
    a = Autosave(learner, FakeStore(), saver, interval_s=interval, dirty=dirty,
                 clock=lambda: now[0])
    return a, learner, saver, now


def test_autosave_runs_after_the_interval_of_play_and_only_when_something_changed():
    a, learner, saver, _ = make_autosave()
    assert not a.play(59.0)
    learner.env_steps = 10
    assert not a.play(0.5)  # 59.5 s: not yet
    assert a.play(0.5)  # 60 s of play: snapshot taken now, written by the saver
    assert saver.submitted == [("snapshot", 10)] and a.play_s == 0.0
    assert not a.play(60.0)  # nothing learned since: no second copy of the same state
    assert saver.submitted == [("snapshot", 10)] and learner.states == 1
    learner.episodes = 1
    assert a.play(60.0) and saver.submitted[-1] == ("snapshot", 10)


def test_autosave_reports_finished_saves_and_the_time_since_the_last():
    a, learner, saver, now = make_autosave()
    assert a.seconds_since_save() is None
    learner.env_steps = 5
    a.play(60.0)
    saver.finish(True, now[0])
    now[0] += 12.0
    (info,) = a.poll()
    assert info.ok and a.saves_ok == 1 and a.seconds_since_save() == pytest.approx(12.0)
    assert a.summary()["last_generation"] == 1 and not a.dirty


def test_a_failed_save_is_retried_at_the_next_autosave_even_without_new_learning():
    a, learner, saver, now = make_autosave()
    learner.env_steps = 5
    a.play(60.0)
    saver.finish(False, now[0])
    (info,) = a.poll()
    assert not info.ok and a.saves_failed == 1 and a.dirty
    assert a.summary()["last_ok"] is False and "No space" in a.summary()["last_message"]
    assert a.play(60.0) and len(saver.submitted) == 2  # the learner is not on disk yet


def test_an_unsaveable_learner_is_reported_not_raised():
    a, learner, saver, _ = make_autosave()
    learner.env_steps = 5
    learner.state = lambda: {"env_steps": 5, "nan": True}
    assert not a.play(60.0)
    assert saver.submitted == [] and a.saves_failed == 1
    assert "NaN" in a.last.message and "\n" not in a.last.message


def test_final_save_snapshots_a_changed_learner_and_waits_for_the_saver():
    a, learner, saver, _ = make_autosave()
    assert a.close(5.0) == [] and saver.submitted == []  # nothing learned: nothing to write
    a, learner, saver, _ = make_autosave()
    learner.env_steps = 3
    infos = a.close(5.0)
    assert saver.submitted == [("snapshot", 3)] and saver.closed_with == 5.0
    assert [i.ok for i in infos] == [True] and not a.unfinished


def test_a_fresh_learner_from_a_pilot_is_saved_before_its_first_step():
    a, learner, saver, _ = make_autosave(dirty=True)
    a.close(1.0)
    assert saver.submitted == [("snapshot", 0)]


def test_autosave_interval_must_be_positive():
    with pytest.raises(ValueError):
        Autosave(Counting(), FakeStore(), FakeSaver(), interval_s=0.0)


def test_autosave_says_in_advance_when_the_next_frame_takes_a_snapshot():
    a, learner, saver, _ = make_autosave(interval=1.0)
    assert not a.due(2.0)  # unchanged learner: no snapshot, however long the play
    learner.env_steps = 1
    assert not a.due(0.5) and a.due(1.0)
    assert a.snapshot_estimate_s() == pytest.approx(0.003)  # before any snapshot: a guess
    a.play(1.0)
    assert a.snapshot_estimate_s() == pytest.approx(a.snapshot_ms / 1e3)


# ---------------------------------------------------------------- decisions of several ticks
class Ticking:
    """A world stand-in of fine ticks: obs is (t,), a reward of 1 every 3rd tick."""

    decision_ticks = 4

    def __init__(self) -> None:
        self.t = 0
        self.actions: list[int] = []

    def observation(self) -> np.ndarray:
        return np.array([self.t], dtype=np.float32)

    def tick(self, action: int) -> tuple[float, bool]:
        self.actions.append(action)
        self.t += 1
        return (1.0 if self.t % 3 == 0 else 0.0), self.t == 10


def fly_ticks(pilots: Pilots, world: Ticking, n: int, jumps_at: tuple[int, ...] = ()) -> None:
    for k in range(n):
        if k in jumps_at:
            pilots.pending_jump = True
        action = pilots.action(world.observation())
        reward, done = world.tick(action)
        pilots.ticked(reward, done, world.observation())


def test_the_autopilot_decides_every_few_ticks_and_learns_once_per_decision():
    learner, world = FakeLearner(action=JUMP), Ticking()
    pilots = Pilots(learner, "autopilot", decision_ticks=4)
    fly_ticks(pilots, world, 10)  # the flight ends on tick 10, mid-decision
    assert world.actions == [JUMP, FALL, FALL, FALL] * 2 + [JUMP, FALL]
    assert [int(o[0]) for o, _ in learner.acts] == [0, 4, 8]
    got = [(int(o[0]), a, r, int(n[0]), term, human)
           for o, a, r, n, term, _, human in learner.transitions]
    assert got == [(0, JUMP, 1.0, 4, False, False), (4, JUMP, 1.0, 8, False, False),
                   (8, JUMP, 1.0, 10, True, False)]


def test_the_players_jump_lands_on_the_next_tick_and_tags_the_decision():
    learner, world = FakeLearner(), Ticking()
    pilots = Pilots(learner, "human", decision_ticks=4)
    fly_ticks(pilots, world, 8, jumps_at=(2, 3))
    assert world.actions == [FALL, FALL, JUMP, JUMP, FALL, FALL, FALL, FALL]
    got = [(int(o[0]), a, r, int(n[0]), human) for o, a, r, n, _, _, human in learner.transitions]
    assert got == [(0, JUMP, 1.0, 4, True), (4, FALL, 1.0, 8, True)]
    assert learner.acts == [] and pilots.human_jumps == 2


def test_handing_over_mid_decision_ends_it_as_the_previous_pilots():
    learner, world = FakeLearner(action=JUMP), Ticking()
    pilots = Pilots(learner, "human", decision_ticks=4)
    fly_ticks(pilots, world, 2)
    pilots.hand_over()
    fly_ticks(pilots, world, 4)
    got = [(int(o[0]), a, int(n[0]), human) for o, a, _, n, _, _, human in learner.transitions]
    assert got == [(0, FALL, 2, True), (2, JUMP, 6, False)]
    assert world.actions == [FALL, FALL, JUMP, FALL, FALL, FALL]


def test_on_arcade_the_learner_sees_decisions_that_match_world_step():
    learner = Track()
    s = make("arcade", seed=2, learner=learner, pilot="autopilot")
    assert s.spec.decision_ticks == 4
    frames_until(s, lambda: s.ticks >= 200 or s.phase is not Phase.FLYING)
    assert len(learner.acts) == -(-s.ticks // 4)  # one decision per 4 ticks, rounded up
    ref = s.spec.world(2)  # the same course, flown a decision at a time with world.step
    for obs, action, reward, next_obs, terminated, _, human in learner.transitions:
        np.testing.assert_array_equal(obs, ref.observation())
        assert (reward, terminated) == ref.step(action) and not human
        np.testing.assert_array_equal(next_obs, ref.observation())
    assert len(learner.transitions) >= 40
