"""The window's rough edges, headless: what the speed keys reach, who is credited with a
shared run, the compact line of a small window, the tap hint, and the drawing's geometry."""

from __future__ import annotations

import numpy as np
import pytest

from game.play.session import Session, SessionConfig
from game.play.speed import GameSpeed, SpeedGauge, fmt_factor
from game.sim.actions import FALL, JUMP
from game.sim.levels import LEVELS
from game.wiring.learning import new_learner

FRAME = 1 / 60


class CostlyClock:
    """A clock read by the session's work budget: every read after a tick costs ``tick_s``."""

    def __init__(self, tick_s: float) -> None:
        self.now = 0.0
        self.tick_s = tick_s

    def __call__(self) -> float:
        self.now += self.tick_s
        return self.now


class Hover:
    """Holds level flight on classic (jumps when the next height would be below 0)."""

    learn_enabled = False

    def act(self, obs, explore=True):
        return JUMP if obs[0] + obs[1] < 0 else FALL

    def observe(self, *a, **k):
        pass

    def end_episode(self, score):
        pass


# ---------------------------------------------------------------- item 1: the speed keys
def test_the_gauge_measures_ticks_per_second_over_its_latest_window():
    g = SpeedGauge(window_s=2.0)
    assert g.rate() is None
    for _ in range(30):  # half a second: not yet a reading
        g.add(FRAME, 4)
    assert g.rate() is None
    for _ in range(150):
        g.add(FRAME, 4)
    assert g.rate() == pytest.approx(240)
    for _ in range(180):  # three seconds at 1 tick a frame: the old frames have left
        g.add(FRAME, 1)
    assert g.rate() == pytest.approx(60, rel=0.02)
    g.add(0.0, 60)  # more ticks of the same frame (max speed flies after the flip too)
    assert g.rate() > 80
    g.clear()
    assert g.rate() is None


def test_the_hud_says_a_speed_only_when_the_game_reaches_it():
    pace = GameSpeed(60.0)
    pace.set_index(2)  # 16x
    assert pace.shown() == "16x"  # no reading yet: the key's name
    for _ in range(120):
        pace.gauge.add(FRAME, 16)  # 960 ticks/s: reached
    assert pace.shown() == "16x" and not pace.short()
    for _ in range(130):
        pace.gauge.add(FRAME, 7)  # 420 ticks/s: 7x
    assert pace.short() and pace.shown() == "16x (7x)"
    pace.set_index(3)  # max says what it reaches once measured
    assert pace.shown() == "max"
    for _ in range(120):
        pace.gauge.add(FRAME, 37)
    assert pace.shown() == "max (37x)" and not pace.short()
    pace.set_index(0)
    for _ in range(120):
        pace.gauge.add(FRAME, 0.2)  # a loaded machine at 1x
    assert pace.shown() == "1x (0.20x)"
    assert [fmt_factor(f) for f in (0.444, 1.44, 2.6, 7.0, 7.04, 36.6)] == [
        "0.44x", "1.4x", "2.6x", "7x", "7x", "37x"]


def test_a_session_whose_ticks_do_not_fit_shows_the_speed_it_really_runs():
    # every tick costs 1 ms of the 8 ms budget: 16x wants 16 a frame, 8 fit
    s = Session("classic", seed=1, learner=Hover(), pilot="autopilot", clock=CostlyClock(0.001),
                config=SessionConfig(tick_rate=60, work_budget_s=0.008))
    s.pace.set_index(2)
    ran = sum(s.advance(FRAME) for _ in range(120))
    reached = s.pace.reached()
    assert reached == pytest.approx(ran / (120 * FRAME) / 60, rel=0.05)
    assert 6 <= reached <= 10 and s.pace.shown() == f"16x ({fmt_factor(reached)})"
    s.pace.set_index(1)  # 4x fits
    for _ in range(120):
        s.advance(FRAME)
    assert s.pace.shown() == "4x" and s.pace.reached() == pytest.approx(4, rel=0.05)


def test_fast_forward_keeps_the_gradient_steps_per_second_of_1x():
    pacing = new_learner(LEVELS["arcade"], seed=3).pacing
    assert pacing.ratio(10**6, flock=True) == pacing.flock
    assert pacing.ratio(10**6, flock=True, top=True) == pacing.top
    assert pacing.ratio(10**6, flock=True, speed=4) == pacing.flock / 4
    assert pacing.ratio(10**6, flock=True, speed=16) == pacing.flock / 16
    per_second, flyers = {}, 0
    for index, m in ((0, 1), (1, 4), (2, 16)):
        learner = new_learner(LEVELS["arcade"], seed=3)
        s = Session("arcade", seed=5, learner=learner, pilot="autopilot", flock=64,
                    clock=CostlyClock(0.0))  # no budget limit: every tick due runs
        s.pace.set_index(index)
        while learner.env_steps < learner.config.learning_starts + 64:
            s.advance(FRAME)
        updates, ticks = learner.updates, s.ticks
        while s.ticks < ticks + 960:  # 60 decisions of the flock at any speed
            s.advance(FRAME)
        # gradient steps per wall-clock second = per tick * ticks per second (60 m)
        per_second[m] = (learner.updates - updates) / (s.ticks - ticks) * 60 * m
        flyers = s.flock.flock.n + s.flock.flock.scouts  # the scouts' transitions count too
    assert per_second[4] == pytest.approx(per_second[1], rel=0.1)
    assert per_second[16] == pytest.approx(per_second[1], rel=0.1)
    assert np.isclose(per_second[1], flyers * 15 * pacing.flock, rtol=0.1)


# ---------------------------------------------------------------- item 3: a shared run's credit
class Book:
    """The score book's interface, in memory."""

    def __init__(self) -> None:
        self.best = {"human": 0, "autopilot": 0}

    def get(self, level, kind="human"):
        return self.best[kind]

    def record(self, level, kind, score):
        if score > self.best[kind]:
            self.best[kind] = score
            return True
        return False


class Steady:
    """The autopilot: through the gaps of the arcade course (the exact oracle's plan)."""

    learn_enabled = False

    def __init__(self, session: Session) -> None:
        self.session = session

    def act(self, obs, explore=True):
        return steer(self.session)

    def observe(self, *a, **k):
        pass

    def end_episode(self, score):
        pass


def steer(s: Session) -> int:
    """JUMP when the flyer is below the middle of the next gap and not rising fast."""
    w = s.world
    course, t = w.course, w.t
    i = int(np.searchsorted(course.end, t, side="left"))
    target = float(course.gap_y[min(i, course.gap_y.size - 1)])
    return JUMP if w.y < target - 0.05 and w.v_y <= 0 else FALL


def test_a_shared_run_says_who_flew_what_and_each_best_is_what_that_pilot_flew():
    from game.play.events import Crashed, NewBest
    from game.ui.messages import BEST_TOASTS, Messages, banner_text, credit_line

    book = Book()
    s = Session("arcade", seed=7, scores=book, pilot="human", clock=CostlyClock(0.0))
    s.pilots.learner = s.learner = Steady(s)
    s.press_jump()
    events = []
    m = Messages(now=lambda: 0.0)  # what the window says, frame by frame (no toast expires)

    def frame() -> None:
        s.advance(1 / 60)
        new = s.take_events()
        m.handle(new)
        events.extend(new)

    while s.score < 8:  # the person flies 8 gates (tapping as a careful person would)
        if steer(s) == JUMP:
            s.press_jump()
        frame()
        assert s.phase.value == "flying", "the scripted person crashed"
    assert credit_line(s) == "" and book.best["human"] == 8
    s.toggle_pilot()  # A: the autopilot flies on
    while s.score < 10:
        frame()
    assert s.scoring.shares() == {"human": 8, "autopilot": 2}
    assert credit_line(s) == "you 8 + autopilot 2"
    assert book.best == {"human": 8, "autopilot": 2}  # no one flew 10
    bests = [e for e in events if isinstance(e, NewBest)]
    assert all(e.score <= 8 for e in bests) and {e.kind for e in bests} == {"human",
                                                                         "autopilot"}
    # the run's praise is the person's (once per run): never "Autopilot's new best" for 10
    assert m.toast() == BEST_TOASTS["human"] and m.praises == 1
    s.toggle_pilot()  # the person takes back the controls and lets it fall
    while s.phase.value == "flying":
        frame()
    crash = [e for e in events if isinstance(e, Crashed)][-1]
    assert crash.score >= 10 and crash.credit == s.scoring.credit()
    title, sub = banner_text(s)
    assert title == f"Game over — {s.score} gates" and sub.startswith("you 8 + autopilot ")
    s.restart()
    assert s.scoring.credit() is None and s.scoring.shares() == {"human": 0, "autopilot": 0}


# ---------------------------------------------------------------- item 4: a small window
@pytest.mark.parametrize("size", [(480, 360), (640, 480)])
def test_a_small_window_keeps_who_flies_learning_and_speed_on_the_field(size):
    from game.ui.layout import layout
    from game.ui.messages import status_line

    assert layout(*size).folded  # the side panels (and their "Flying" row) fold away
    learner = new_learner(LEVELS["arcade"], seed=1)
    s = Session("arcade", seed=1, learner=learner, pilot="human")
    assert status_line(s) == "you fly  ·  learning on  ·  1x"
    s.toggle_pilot()
    s.pilots.toggle_learning()
    s.pace.set_index(2)
    assert status_line(s) == "autopilot flies  ·  learning off  ·  16x"
    assert status_line(Session("arcade", seed=1)) == "you fly  ·  no autopilot  ·  1x"


# ---------------------------------------------------------------- issue 19: the skill chart
def test_the_skill_chart_is_the_skill_over_time_from_the_first_reading():
    from game.play.flock_play import SkillWatch

    class Meter:
        busy = False

        def __init__(self) -> None:
            self.readings: list[tuple[int, float]] = []
            self.latest = None

        def refresh(self, learner) -> bool:
            self.readings.append((int(learner.env_steps), 0.1 * len(self.readings)))
            return True

    class Learner:
        env_steps = 0

    t = [50.0]
    watch = SkillWatch(LEVELS["arcade"], clock=lambda: t[0], every_s=3.0, meter=Meter())
    learner = Learner()
    for now, steps in ((50.0, 0), (51.0, 64), (53.5, 128), (57.0, 128), (57.5, 256)):
        t[0], learner.env_steps = now, steps
        watch.maybe_measure(learner)
    # readings at 0 s (the first frame), 3.5 s, and 7.5 s (57.0 had nothing new to read)
    assert watch.history() == [(0.0, 0.0), (3.5, 0.1), (7.5, pytest.approx(0.2))]


# ---------------------------------------------------------------- item 8: tap timing
def test_a_new_player_is_told_how_to_tap_and_why_a_run_hit_the_ceiling():
    from game.ui.messages import CEILING_HINT, HINT_UNTIL, TAP_HINT, hint_text

    book = Book()
    s = Session("arcade", seed=3, scores=book, pilot="human", clock=CostlyClock(0.0))
    assert hint_text(s) == TAP_HINT  # the ready screen of a first run
    s.press_jump()
    assert hint_text(s) == ""  # not while flying
    while s.phase.value == "flying":  # a steady tap every 0.4 s climbs into the ceiling
        if s.ticks % 24 == 0:
            s.press_jump()
        s.advance(1 / 60)
    _, gap_y, half = s.world.gate_ahead(0)
    assert s.world.y > gap_y + half and hint_text(s) == CEILING_HINT
    s.restart()
    s.press_jump()
    while s.phase.value == "flying":  # no taps: it falls to the floor, no "too high" hint
        s.advance(1 / 60)
    assert s.world.y < -1.0 and hint_text(s) == ""
    s.restart()
    book.best["human"] = HINT_UNTIL  # a person who has flown 10 gates needs no hint
    assert hint_text(s) == ""
    assert hint_text(Session("classic", seed=3, pilot="human")) == ""  # classic's jump differs


# ---------------------------------------------------------------- item 9: key to motion
def test_a_jump_is_drawn_in_the_first_frame_after_the_press_even_between_ticks():
    s = Session("arcade", seed=2, pilot="human", clock=CostlyClock(0.0))
    s.press_jump()
    while s.world.v_y >= 0:  # fly until falling
        s.advance(1 / 60)
    s.advance(0.1 / 60)  # a frame that ends just after a tick ran: the next is a tick away
    drawn = s.view().y
    s.press_jump()
    assert s.advance(0.1 / 60) == 1  # an early frame (the window hurries it): the jump's tick
    rose = s.view().y
    assert rose > drawn
    # the next frames hold it (never drawn back down) until the clock catches up
    heights = []
    for _ in range(3):
        s.advance(0.3 / 60)
        heights.append(s.view().y)
    assert heights[0] >= rose and heights == sorted(heights)


def first_frames_after_presses(frame_hz: float | None, seed: int = 0) -> list[float]:
    """A player's game on the window's 60 Hz timeline, frames up to 3 ms late, SPACE at
    random moments; a press more than 4 ms before the next slot gets a frame at once (as
    ``FramePacer.hurry``). Returns, for each press on a falling flyer, how much higher the
    first frame after it draws the flyer than the frame before."""
    rng = np.random.default_rng(seed)
    s = Session("arcade", seed=seed, config=SessionConfig(frame_hz=frame_hz), pilot="human",
                clock=CostlyClock(0.0))
    period, last, slot, drawn, rises = 1 / 60, 0.0, 0, 0.0, []
    press_at = float(rng.uniform(0.3, 0.6))
    while len(rises) < 60 and slot < 20_000:
        slot += 1
        start = slot * period + float(rng.uniform(0.0, 0.003))
        if press_at < start:
            if start - press_at > 0.004:  # the frame the press brings forward
                start = press_at + 0.0003
            falling = s.phase.name == "FLYING" and s.world.v_y < 0
            s.press_jump()
            press_at = start + float(rng.uniform(0.3, 0.6))
            s.advance(start - last)
            last, y = start, s.view().y
            if falling:
                rises.append(y - drawn)
            drawn = y
            continue
        s.advance(start - last)
        last, drawn = start, s.view().y
    return rises


def test_every_jump_shows_the_flyer_higher_in_the_first_frame_after_the_press():
    # Without the lock, the accumulator drifted to just below a whole tick: what was drawn
    # lagged the latest tick by almost a tick, and the jump's first frame showed the flyer
    # lower than the frame before (the worst press took 45-50 ms, three frames, to show).
    rises = first_frames_after_presses(60.0)
    assert len(rises) == 60 and min(rises) > 0.0
    assert min(first_frames_after_presses(None)) <= 0.0  # the case the lock is for


def test_the_lock_keeps_one_tick_a_frame_and_the_game_speed():
    from game.play.clock import FixedStepClock

    rng = np.random.default_rng(4)
    starts = np.arange(601) / 60 + rng.uniform(0.0, 0.003, 601)  # the timeline, frames late
    jitter = [float(dt) for dt in np.diff(starts)]
    for start_acc in (-0.95, -0.02):  # where an unlocked accumulator had drifted
        clock = FixedStepClock(0.25, 1.0)
        clock.acc = start_acc
        counts = [clock.run(dt, 60.0, lambda: True, frame_hz=60.0) for dt in jitter]
        assert counts[60:].count(1) == 540  # locked: one tick a frame, frames up to 3 ms late
        assert abs(sum(counts) - sum(jitter) * 60) < 1.0  # and the game keeps its speed
    clock = FixedStepClock(0.25, 1.0)
    clock.acc = -0.95
    counts = [clock.run(dt, 60.0, lambda: True) for dt in jitter]
    assert counts.count(1) < 500  # unlocked, the same frames run 0 and 2 ticks in turn
    clock = FixedStepClock(0.25, 1.0)  # 45 ticks/s on 60 Hz: no whole number to lock to
    assert sum(clock.run(1 / 60, 45.0, lambda: True, frame_hz=60.0) for _ in range(600)) == 450


def test_a_jump_brings_the_next_frame_forward_and_the_timeline_keeps_its_slots():
    import time

    from game.ui.pacing import FramePacer

    class Clock:
        def __init__(self) -> None:
            self.calls: list[tuple[str, float]] = []
            self.last_ts = 0.0

        def schedule_once(self, f, delay):
            self.calls.append(("once", delay))

        def unschedule(self, f):
            self.calls.append(("unschedule", 0.0))

        def get_default(self):
            return self

    clock = Clock()
    pacer = FramePacer(clock)
    pacer.start(print)
    pacer.begin()
    pacer.schedule_next(print)  # the next slot: a period after the first frame's
    slot = pacer.next_due() - pacer.period
    clock.calls.clear()
    assert pacer.hurry(print)  # well before the slot: runs now
    assert clock.calls == [("unschedule", 0.0), ("once", 0.0)]
    assert not pacer.hurry(print)  # once per slot
    pacer.begin()
    pacer.schedule_next(print)
    assert pacer.next_due() - pacer.period == slot  # the slot it ran ahead of still comes
    assert clock.calls[-1][1] > 0.0
    pacer._next_due = time.perf_counter() + 0.001  # the slot is almost here: no hurry
    assert not pacer.hurry(print)
