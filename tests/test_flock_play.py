"""The flock in the game loop, headless: the session flies it, the person races it, its panel."""

from __future__ import annotations

import numpy as np

from game.play.flock_play import FlockPlay, SkillWatch
from game.play.phases import Phase
from game.play.session import Session
from game.sim.levels import LEVELS
from game.ui.hud.flock_panel import FlockPanel, FlockState
from game.ui.hud.panels import Sources
from game.ui.layout import layout
from game.wiring.learning import new_learner

FRAME = 1 / 60


def flock_session(level: str = "arcade", n: int = 8, pilot: str = "autopilot") -> Session:
    learner = new_learner(LEVELS[level], seed=3)
    return Session(level, seed=5, learner=learner, pilot=pilot, flock=n)


def test_one_flyer_is_todays_session_and_no_learner_means_no_flock():
    assert Session("arcade", seed=0, learner=new_learner(LEVELS["arcade"]), flock=1).flock is None
    assert Session("arcade", seed=0, flock=8).flock is None


def test_the_autopilots_flock_flies_in_the_sessions_place_and_feeds_the_learner():
    s = flock_session()
    world_t = s.world.t
    for _ in range(240):  # 4 s at 1x: 60 decisions of 8 flyers
        s.advance(FRAME)
    f = s.flock.flock
    assert s.flocking and s.world.t == world_t  # the session's own flyer does not move
    assert f.steps == 60 and s.learner.env_steps >= 8 * 30
    assert f.generation >= 2 and 0 < f.alive_count <= 8
    v = s.view()
    assert v.y == float(s.flock.flyers(s.alpha()).y[s.flock.focus])
    assert s.score == int(f.scores()[f.focus])


def test_gradient_steps_are_spread_over_the_ticks_of_a_decision():
    s = flock_session(n=64)
    lr = s.learner
    while lr.updates == 0:  # past learning_starts and the first full n-step windows
        s.advance(FRAME)
    per_tick = []
    for _ in range(40):
        before = lr.updates
        s._tick()
        per_tick.append(lr.updates - before)
    per_tick = np.asarray(per_tick)
    # 64 flyers and their scouts at the flock's ratio: e.g. 128 transitions at 0.5 steps
    # each, 64 a decision, about 16 on each of its 4 ticks
    f = s.flock
    per_decision = (f.flock.n + f.flock.scouts) * lr.pacing.flock
    assert f.flock.scouts > 0
    assert per_tick.sum() >= 9 * per_decision and per_tick.max() <= per_decision / f.d + 1


def test_the_window_pays_the_steps_and_the_ticks_only_what_it_could_not():
    from game.play.flock_play import SLACK_OWED_CAP
    from game.play.session import SessionConfig

    def run(slack: float | None) -> tuple[list[int], int, int]:
        learner = new_learner(LEVELS["arcade"], seed=3)
        s = Session("arcade", seed=5, learner=learner, pilot="autopilot", flock=64,
                    config=SessionConfig(learn_in_slack=slack is not None))
        for _ in range(60):  # past learning_starts and the first full n-step windows
            s.advance(FRAME)
            if slack is not None:
                s.learn_for(slack)
        in_ticks, most_owed = [], 0
        for _ in range(40):
            before = learner.updates
            s._tick()
            in_ticks.append(learner.updates - before)
            most_owed = max(most_owed, learner.owed)
            if slack is not None:
                s.learn_for(slack)
        return in_ticks, learner.updates + learner.owed, most_owed

    plain, total, _ = run(None)
    ahead, total_ahead, _ = run(10.0)  # time for everything owed: the window pays it all
    assert total_ahead == total  # the same gradient steps, only paid elsewhere
    assert sum(plain) > 0 and sum(ahead) == 0  # the ticks pay nothing
    none, total_none, most = run(0.0)  # the window pays nothing: the ticks pay beyond the cap
    assert total_none == total and 0 < sum(none) <= sum(plain)
    per_decision = 128 * new_learner(LEVELS["arcade"]).pacing.flock
    assert SLACK_OWED_CAP <= most <= SLACK_OWED_CAP + per_decision


def test_the_flip_learner_learns_only_between_open_and_close():
    import threading

    from game.ui.pacing import FlipLearner

    drawing, outside, calls = [False], [], []
    started, release = threading.Event(), threading.Event()

    def pay_one() -> int:
        if not drawing[0]:
            outside.append(len(calls))
        calls.append(1)
        if len(calls) == 1:  # the first step: hold it until the test lets it end
            started.set()
            release.wait()
        return 1 if len(calls) < 30 else 0  # then 29 more owed, then none

    worker = FlipLearner(pay_one)
    drawing[0] = True
    worker.open()
    assert started.wait(10)
    closer = threading.Thread(target=worker.close)
    closer.start()
    closer.join(0.2)
    assert closer.is_alive()  # close waits for the step in progress
    release.set()
    closer.join(10)
    assert not closer.is_alive()
    drawing[0] = False  # from here on any step would be outside a draw
    n = len(calls)
    for _ in range(3):  # frames: the worker pays what is owed while each one draws
        drawing[0] = True
        worker.open()
        worker.close()
        drawing[0] = False
    worker.stop()
    assert outside == [] and worker.paid == min(len(calls), 29) and len(calls) >= n


def test_top_speed_runs_whole_decisions_with_the_lower_replay_ratio():
    s = flock_session()
    s.pace.set_index(3)  # max
    assert s.pace.multiplier is None
    steps, ticks = s.flock.flock.steps, s.ticks
    s.advance(FRAME)
    ran = s.flock.flock.steps - steps
    assert ran >= 1 and s.ticks == ticks + ran * s.flock.d
    pacing = s.learner.pacing
    assert s.flock.flock.top and s.flock.flock.ratio() == pacing.top < pacing.flock
    assert s.flock.owed == 0  # whole decisions pay their own gradient steps


def test_the_person_races_the_flock_on_their_own_course_and_learning_goes_on():
    s = flock_session()
    for _ in range(30):
        s.advance(FRAME)
    assert s.toggle_pilot() == "human" and not s.flocking
    gen = s.flock.flock.generation
    s.press_jump()  # the run starts: the flock sets off with the person
    assert s.flock.flock.generation == gen + 1
    assert set(s.flock.flock.batch.course_seed.tolist()) == {s.world.course_seed}
    steps = s.learner.env_steps
    for _ in range(20):
        s.advance(FRAME)
        assert s.flock.on_course(s.world)
    assert s.world.t == 20 and s.learner.env_steps > steps + 8
    # the person's decisions, tagged as theirs (n-step windows hold the last n - 1 back)
    assert s.learner.memory.human_count >= 4 - (s.learner.config.n_step - 1)
    for _ in range(600):  # no more jumps: the person falls out of the field
        s.advance(FRAME)
        if s.phase is Phase.GAME_OVER:
            break
    assert s.phase is Phase.GAME_OVER
    s.press_jump()  # a new run: the flock races them on the new course too
    s.advance(FRAME)
    assert s.flock.on_course(s.world) and s.world.t == 1


def test_classic_flocks_fly_too():
    s = flock_session("classic", n=8)
    for _ in range(120):
        s.advance(1 / 10)
    assert s.flock.flock.generation >= 2 and s.learner.env_steps > 0


def test_flock_rows_and_chart():
    st = FlockState(64, 12, 37, 9.0, ((10, 14.0, 3.25), (11, 16.0, 4.0)),
                    skill=((0.0, 0.0), (3.1, 0.12), (6.2, 0.31)))
    assert FlockPanel.rows(st) == [("Course | flying", "12 | 37/64"),
                                   ("Last: best | avg", "16 | 4")]
    assert FlockPanel.rows(FlockState(8, 1, 8, 0.0))[1] == ("Last: best | avg", "—")
    classic = FlockState(8, 3, 2, 1.0, ((2, 1.0, 0.625),), unit="success")
    assert FlockPanel.rows(classic)[1] == ("Last: best | avg", "100% | 62%")
    # the main chart: the skill over time from the first reading on
    ts, figures = FlockPanel.chart_points(st.skill)
    assert ts.tolist() == [0.0, 3.1, 6.2] and figures.tolist() == [0.0, 0.12, 0.31]
    assert FlockPanel.chart_points(st.skill[:1])[0].size == 0
    assert FlockPanel.chart_title(st) == "skill 0.31 score/oracle, 0:06"
    assert FlockPanel.chart_title(classic) == "skill: first readings…"
    long = tuple((3.0 * i, 0.5) for i in range(500))
    assert FlockPanel.chart_points(long)[0][0] == 900.0


def test_flock_state_is_read_from_a_real_session():
    s = flock_session()
    for _ in range(120):
        s.advance(FRAME)
    st = FlockPanel.state_of(Sources(s, {}))
    f = s.flock.flock
    assert (st.flyers, st.generation, st.alive) == (8, f.generation, f.alive_count)
    assert FlockPanel.state_of(Sources(Session("classic", seed=0), {})) is None


def test_the_flock_panel_sits_between_the_hud_and_the_controls():
    L = layout(1080, 620)
    assert L.flock.y >= L.help.top and L.flock.top <= L.hud.y and L.flock.h >= 120


def test_skill_watch_reads_on_its_timer_and_only_when_the_learner_changed():
    now = [0.0]
    watch = SkillWatch(LEVELS["classic"], clock=lambda: now[0], every_s=5.0)
    lr = new_learner(LEVELS["classic"], seed=0)
    assert watch.maybe_measure(lr)
    watch.meter.wait()
    assert watch.latest is not None and watch.readings == 1
    now[0] = 10.0
    assert not watch.maybe_measure(lr)  # nothing learned since: the same figure
    lr.env_steps += 1
    now[0] = 2.0 + 10.0
    assert watch.maybe_measure(lr)
    watch.meter.wait()
    now[0] = 13.0
    lr.env_steps += 1
    assert not watch.maybe_measure(lr)  # not due yet
    assert watch.readings == 2
    # the figure is the level's own: a direct measurement of the same pilot agrees
    assert watch.latest == watch.meter.measure(lr.autopilot().act_batch)


def always(layers: list[np.ndarray], action: int) -> None:
    """Makes the weights ``layers`` (in place) choose ``action`` everywhere."""
    layers[-2][:] = 0.0
    layers[-1][:] = np.eye(2, dtype=np.float32)[action]


def crowning_learner(level_name: str):
    """A learner flying the shipped pilot: a champion that the always-falling pilot cannot beat."""
    from game.wiring.learning import load_pilot, pretrained_path

    level = LEVELS[level_name]
    pilot, _ = load_pilot(pretrained_path(level_name), level)
    learner = new_learner(level, seed=0)
    learner.load_pilot(pilot)
    return learner


def test_the_skill_watch_crowns_a_better_pilot_and_keeps_it_against_a_worse_one():
    now = [0.0]
    watch = SkillWatch(LEVELS["classic"], clock=lambda: now[0], every_s=1.0, crown=True)
    meter = watch.meter
    lr = crowning_learner("classic")
    shipped = lr.autopilot()
    assert lr.champion_figures == {} and watch.maybe_measure(lr)
    meter.wait()
    assert lr.champion_figures == {}  # crowned on the learner's thread, at its next call
    now[0] = 0.5
    assert not watch.maybe_measure(lr)
    skill = meter.measure(shipped.act_batch)
    assert lr.champion_figures == {"validation": 1.0, "skill": skill} == {"validation": 1.0,
                                                                       "skill": watch.latest}
    # it matched the oracle on every validation run: a reading flies nothing (no thread)
    lr.env_steps += 1
    now[0] = 2.0
    flown = meter._thread
    assert watch.maybe_measure(lr) and not meter.busy and meter._thread is flown
    assert [f for _, f in meter.readings] == [skill, skill]
    # a beatable champion; the learner gets worse (it always falls): judged, not crowned, and
    # the champion flies on
    lr.crown(shipped, {"validation": 0.9, "skill": skill})
    for layers in (lr.weights.contender_layers, lr.weights.layers):
        always(layers, 0)
    lr.env_steps += 1
    now[0] = 4.0
    assert watch.maybe_measure(lr) and meter._thread is not flown
    meter.wait()
    now[0] = 6.0
    lr.env_steps += 1
    assert watch.maybe_measure(lr)
    meter.wait()
    assert [meter.measure(p.act_batch) for p in lr.contenders()] == [0.0] * len(lr.contenders())
    assert [f for _, f in meter.readings] == [skill] * 4  # the chart: what flies
    assert lr.champion_figures == {"validation": 0.9, "skill": skill}
    assert meter.measure(lr.greedy_batch) == skill
    # a crowning watch leaves the lab's kind of meter (no crown) alone
    plain = SkillWatch(LEVELS["classic"], clock=lambda: now[0], every_s=1.0)
    assert plain.maybe_measure(lr)
    assert plain.meter.wait() == skill and plain.meter.take_crown() is None


def test_read_and_crown_crowns_on_the_callers_thread_and_returns_what_flies():
    from game.play.skill import SkillMeter, read_and_crown

    level = LEVELS["classic"]
    lr = crowning_learner("classic")
    shipped = lr.autopilot()
    plain = SkillMeter(level)
    skill = plain.measure(shipped.act_batch)
    assert read_and_crown(plain, lr) == skill and lr.champion_figures == {}  # no crowning
    assert read_and_crown(SkillMeter(level, crown=True), lr) == skill
    assert lr.champion_figures == {"validation": 1.0, "skill": skill}


def test_flock_play_positions_follow_the_batch():
    level = LEVELS["arcade"]
    fp = FlockPlay(level, new_learner(level, seed=1), 4, seed=2)
    for _ in range(4):  # one decision: nobody meets a wall or an edge in it
        fp.tick()
    fl = fp.flyers(1.0)
    b = fp.flock.batch
    assert fl.shown.all() and fp.flock.alive.all()
    assert np.array_equal(fl.y, b.y) and np.allclose(fl.x, -1.0 + 4 * b.physics.v_x)
    assert fp.focus_t() == int(b.t[fp.focus])


class _Book:
    """A score book in memory: what ``Session`` records as bests."""

    def __init__(self) -> None:
        self.best: dict[tuple[str, str], int] = {}

    def get(self, level: str, kind: str = "human") -> int:
        return self.best.get((level, kind), 0)

    def record(self, level: str, kind: str, score: int) -> bool:
        if score <= self.get(level, kind):
            return False
        self.best[(level, kind)] = score
        return True


def test_the_flocks_leader_sets_the_autopilots_best():
    from game.wiring.learning import load_pilot, pretrained_path

    level = LEVELS["arcade"]
    learner = new_learner(level, seed=3)
    learner.load_pilot(load_pilot(pretrained_path("arcade"), level)[0])
    book = _Book()
    s = Session("arcade", seed=5, learner=learner, pilot="autopilot", flock=8, scores=book)
    s.pace.set_index(3)  # max: whole decisions, so the leader reaches gates within a few frames
    seen = 0
    for _ in range(400):
        s.advance(FRAME)
        seen = max(seen, s.score)
        if seen >= 3:
            break
    assert seen >= 3
    assert book.get("arcade", "autopilot") >= 3 and book.get("arcade", "human") == 0
    assert s.scoring.best == book.get("arcade", "autopilot")


def test_a_lower_leader_score_is_a_new_run_its_praise_ended_and_no_best_made_up():
    """A new generation (or a new leader with fewer gates) drops the score shown: the praise
    for the last run's best ends with it, and the gates after it count from the new score."""
    from game.play.events import NewBest, RunStarted
    from game.ui.messages import Messages

    book = _Book()
    s = Session("arcade", seed=5, learner=new_learner(LEVELS["arcade"], seed=3),
                pilot="autopilot", flock=8, scores=book)
    s.flight.take_events()
    messages = Messages(now=lambda: 0.0)
    s.flight.follow_leader(1)
    s.flight.follow_leader(2)
    events = s.flight.take_events()
    assert [e.score for e in events if isinstance(e, NewBest)] == [1, 2]
    messages.handle(events)
    assert messages.toast() == "Autopilot's new best" and book.get("arcade", "autopilot") == 2
    s.flight.follow_leader(0)  # the next generation
    events = s.flight.take_events()
    assert any(isinstance(e, RunStarted) for e in events)
    messages.handle(events)
    assert messages.toast() is None  # the praise ended with its run
    s.flight.follow_leader(1)
    s.flight.follow_leader(2)
    assert not [e for e in s.flight.take_events() if isinstance(e, NewBest)]
    assert book.get("arcade", "autopilot") == 2 and s.scoring.points["autopilot"] == 2
    s.flight.follow_leader(3)
    assert [e.score for e in s.flight.take_events() if isinstance(e, NewBest)] == [3]


def test_env_steps_count_every_flyers_decisions_with_learning_on_or_off():
    s = flock_session()
    for _ in range(120):
        s.advance(FRAME)
    assert s.env_steps == s.learner.env_steps > 0  # every decision flown went to the learner
    s.learner.learn_enabled = False
    learned, flown = s.learner.env_steps, s.env_steps
    for _ in range(120):
        s.advance(FRAME)
    assert s.learner.env_steps == learned and s.env_steps > flown  # flown, not learned
    solo = Session("arcade", seed=0, pilot="autopilot", learner=new_learner(LEVELS["arcade"]))
    for _ in range(120):
        solo.advance(FRAME)
    assert solo.env_steps == solo.ticks // LEVELS["arcade"].decision_ticks > 0


def test_the_flock_learns_on_while_the_person_gets_ready_and_after_their_game_over():
    s = flock_session(pilot="human")
    assert s.phase is Phase.READY and not s.flocking
    world_t, steps = s.world.t, s.learner.env_steps
    for _ in range(120):  # 2 s on the ready screen
        s.advance(FRAME)
    assert s.phase is Phase.READY and s.world.t == world_t  # the person's flyer waits
    assert s.learner.env_steps > steps and s.flock.flock.steps == 30  # 2 s of 15 decisions
    s.press_jump()  # the run starts: the flock sets off on the person's course
    while s.phase is Phase.FLYING:
        s.advance(FRAME)  # no more jumps: the person's flyer falls and the run ends
    assert s.phase is Phase.GAME_OVER
    steps = s.learner.env_steps
    for _ in range(60):
        s.advance(FRAME)
    assert s.phase is Phase.GAME_OVER and s.learner.env_steps > steps
