"""The window's parts that need no window: layout, panel rows, controls, messages, clock."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from game.play.clock import FixedStepClock
from game.play.events import NewBest, RunStarted, Saved
from game.play.session import Session
from game.ui.controls import (
    CONTROLS,
    LAB_CONTROLS,
    TITLE_CONTROLS,
    Command,
    help_text,
    keymap,
    readme_table,
)
from game.ui.hud.panels import (
    DiskPanel,
    DiskState,
    FpsPanel,
    HudPanel,
    HudState,
    LearnPanel,
    LearnState,
    Sources,
    fmt_count,
)
from game.ui.layout import PANEL_W, card_at, layout, title_layout
from game.ui.messages import BEST_TOASTS, Messages
from game.ui.title import TitleMenu
from game.wiring import prefs as settings

ROOT = Path(__file__).resolve().parent.parent


class Now:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


# ---------------------------------------------------------------- layout
@pytest.mark.parametrize("size", [(1080, 620), (800, 600), (1920, 1080), (400, 300),
                                  (300, 900), (60, 40)])
def test_the_field_is_a_centred_square_inside_the_window(size):
    w, h = size
    L = layout(w, h)
    f = L.field
    assert f.w == f.h >= 64
    assert f.x + f.w / 2 == pytest.approx(w / 2) and f.y + f.h / 2 == pytest.approx(h / 2)
    if min(w, h) > 96:
        assert 0 <= f.x and f.right <= w and 0 <= f.y and f.top <= h
    assert L.px(-1) == f.x and L.px(1) == f.right and L.py(0) == pytest.approx(f.y + f.h / 2)


SIZES = [(1080, 620), (1280, 720), (1920, 1080), (1000, 620), (800, 600), (640, 480),
         (400, 300), (2560, 700), (500, 1400)]


@pytest.mark.parametrize("size", SIZES)
def test_panels_never_cover_the_field_and_fold_only_when_there_is_no_room(size):
    L = layout(*size)
    largest = min(size[0], size[1]) - 32
    if L.folded:
        assert L.side == pytest.approx(largest)  # folded: the field keeps its full size
        # and beside it, even shrunk as far as allowed, there was no room for a panel
        assert (size[0] - L.side * 0.85) / 2 < PANEL_W + 28 or size[1] < 268
    else:
        for panel in (L.hud, L.fps, L.help, L.learn):
            assert not panel.overlaps(L.field), (size, panel)
            assert 0 <= panel.x and panel.right <= size[0]
        assert L.side >= 0.85 * largest  # the field shrank a little at most


def test_the_default_window_shows_the_panels_and_800x600_folds_them():
    assert not layout(1080, 620).folded
    assert layout(800, 600).folded and layout(800, 600).side == 568  # today they covered it
    shrunk = layout(1000, 620)
    assert not shrunk.folded and shrunk.side < 588  # a little smaller, panels beside
    assert not layout(1080, 480).learn_fits and layout(1080, 620).learn_fits


# ---------------------------------------------------------------- title screen
def test_the_title_menu_wraps_and_picks():
    m = TitleMenu(("classic", "arcade"))
    assert m.chosen == "arcade"  # the default level
    m.move(1)
    assert m.chosen == "classic"
    m.move(-1)
    assert m.chosen == "arcade"
    m.pick(0)
    assert m.chosen == "classic"
    m.pick(7)
    assert m.chosen == "classic"
    assert TitleMenu(("classic", "arcade"), chosen="classic").chosen == "classic"


@pytest.mark.parametrize("size", [(1080, 620), (640, 480), (320, 240), (1920, 1080)])
def test_the_title_cards_fit_the_window_and_are_found_by_a_click(size):
    L = title_layout(*size, 2)
    a, b = L.cards
    assert a.right < b.x and not a.overlaps(b) and not a.overlaps(L.keys)
    for r in (a, b, L.keys):
        assert 0 <= r.x and r.right <= size[0] and 0 <= r.y and r.top <= size[1]
    assert card_at(L, a.x + a.w / 2, a.y + a.h / 2) == 0
    assert card_at(L, b.x + 1, b.top - 1) == 1
    assert card_at(L, 1, 1) is None


# ---------------------------------------------------------------- settings
def test_settings_are_kept_and_a_damaged_file_is_moved_aside(tmp_path):
    assert settings.load(tmp_path) == (settings.Settings(), None)
    settings.save(tmp_path, settings.Settings(muted=True))
    assert settings.load(tmp_path) == (settings.Settings(muted=True), None)
    (tmp_path / settings.FILE_NAME).write_text('{"format": 1, "muted": "yes"}')
    got, problem = settings.load(tmp_path)
    assert got == settings.Settings() and "moved to settings.json.corrupt-" in problem
    assert "\n" not in problem and not (tmp_path / settings.FILE_NAME).exists()
    assert len(list(tmp_path.glob("settings.json.corrupt-*"))) == 1
    assert settings.load(None) == (settings.Settings(), None)


# ---------------------------------------------------------------- panels
def test_hud_rows_say_who_flies_and_whose_best_is_shown():
    st = HudState("arcade", 7, 12, "autopilot", 2, ("Game speed", "125%"), "4x", "human", False)
    assert HudPanel.rows(st) == [
        ("Level", "arcade"), ("Score", "7"), ("Best (autopilot)", "12"), ("Stage", "2"),
        ("Game speed", "125%"), ("Speed", "4x"), ("Flying", "you"), ("Learning", "off")]
    no_ai = HudState("classic", 0, 0, "human", 0, ("Tick rate", "10 /s"), "1x", "human", None)
    assert dict(HudPanel.rows(no_ai))["Learning"] == "—"


def test_hud_state_is_read_from_a_real_session():
    s = Session("classic", seed=0)
    rows = dict(HudPanel.rows(HudPanel.state_of(Sources(s, {}))))
    assert rows["Level"] == "classic" and rows["Flying"] == "you" and rows["Speed"] == "1x"


def test_learn_rows_show_success_for_streaks_and_means_otherwise():
    base = dict(available=True, pilot="autopilot", learn_enabled=True, epsilon=0.25,
                q=(0.5, -1.25), loss=0.0123, memory_size=15_000, memory_capacity=110_000,
                memory_human=2_500, episodes=1234, env_steps=56_789)
    rows = LearnPanel.rows(LearnState(**base, recent=(1.0, 0.0, 1.0, 1.0), streak=True))
    assert rows == [("Flying", "autopilot"), ("Epsilon", "0.250"), ("Q FALL", "+0.500"),
                    ("Q JUMP", "-1.250"), ("Loss", "0.0123"), ("Memory", "15k / 110k"),
                    ("  you | pilot", "2.5k | 12k"), ("Episodes", "1.2k"),
                    ("Env steps", "57k"), ("Success (last 100)", "75%"),
                    ("Skill (score/oracle)", "…")]
    assert len(rows) == sum(LearnPanel.SECTIONS)
    rows = dict(LearnPanel.rows(LearnState(**{**base, "learn_enabled": False},
                                           recent=(3.0, 4.0))))
    assert rows["Gates/life (last 100)"] == "3.5" and rows["Epsilon"] == "greedy"
    rows = dict(LearnPanel.rows(LearnState(**base, skill=0.4567, figure_name="success rate")))
    assert rows["Skill (success rate)"] == "0.46"
    assert LearnPanel.rows(LearnState(False, "autopilot unavailable (ImportError)")) == [
        ("autopilot unavailable (ImportError)", "")]


def test_learn_curve_keeps_the_latest_points_and_scales_to_the_best():
    curve = [(i * 10.0, float(i % 7)) for i in range(500)]
    steps, vals, top = LearnPanel.curve_points(curve, streak=False)
    assert steps.size == 200 and steps[-1] == 4990.0 and top == 6.0
    assert LearnPanel.curve_points(curve, streak=True)[2] == 1.0
    assert LearnPanel.curve_points(curve[:1], streak=False)[0].size == 0


def test_disk_rows_say_where_the_learner_came_from_and_when_it_was_saved():
    assert DiskPanel.rows(DiskState(saving=False))[0] == ("Saving", "off")
    fresh = DiskPanel.rows(DiskState(True, from_pilot=True))
    assert fresh == [("Started", "pilot file"), ("  carried over", "nothing"),
                     ("Last save", "not yet"), ("", "")]
    resumed = DiskPanel.rows(DiskState(True, (40, 12_000), 3, seconds_since_save=12.4))
    assert resumed == [("Resumed from", "save 3"), ("  episodes", "40"),
                       ("  env steps", "12k"), ("Last save", "12 s ago")]
    assert DiskPanel.rows(DiskState(True, seconds_since_save=600))[2] == ("Last save",
                                                                            "10 min ago")
    assert DiskPanel.rows(DiskState(True, last_failed=True, busy=True))[2][1] == "failed"
    assert DiskPanel.rows(DiskState(True, busy=True))[2][1] == "saving…"


def test_fps_rows_and_counts():
    rows = dict(FpsPanel.rows({"fps": 59.6, "int_p50": 16.66, "int_p99": 17.04,
                               "steps_per_s": 7321.0, "updates_per_s": 480.0}))
    assert rows["FPS"] == "60" and rows["Frame"] == "16.7 | 17.0" and rows["Work"] == "0.0 | 0.0"
    assert rows["Env steps/s"] == "7.3k" and rows["Updates/s"] == "480"
    assert [fmt_count(n) for n in (999, 1000, 12_345, 2_500_000)] == ["999", "1.0k", "12k",
                                                                       "2.5M"]


# ---------------------------------------------------------------- controls
class FakeKeys:
    """Stands in for pyglet.window.key: every name is a distinct code."""

    def __getattr__(self, name: str) -> int:
        return hash(name)


def test_every_command_has_a_key_and_no_key_does_two_things():
    used = set()
    for table in (CONTROLS, TITLE_CONTROLS, LAB_CONTROLS):
        pairs = [(name, cmd) for c in table for name, cmd in c.keys]
        names = [name for name, _ in pairs]
        assert len(names) == len(set(names))
        used |= {cmd for _, cmd in pairs}
    assert used == set(Command)
    km = keymap(FakeKeys())
    assert [km[hash(k)] for k in ("SPACE", "UP", "W")] == [Command.JUMP] * 3
    assert km[hash("TAB")] is Command.TOGGLE_PILOT and km[hash("F11")] is Command.FULLSCREEN
    title = keymap(FakeKeys(), TITLE_CONTROLS)
    assert title[hash("SPACE")] is Command.START and title[hash("LEFT")] is Command.PREV


def test_the_readme_and_the_help_come_from_the_controls_table():
    assert readme_table() in (ROOT / "README.md").read_text()
    assert help_text().count("\n") == len(CONTROLS) - 1


# ---------------------------------------------------------------- messages
def test_praise_for_a_best_lasts_while_its_run_does():
    now = Now()
    m = Messages(now)
    m.handle([RunStarted("autopilot"), NewBest("autopilot", 1)])
    assert m.toast() is None  # a best of 1 is not worth a toast
    m.handle([NewBest("autopilot", 2)])
    assert m.toast() == BEST_TOASTS["autopilot"] and m.praises == 1
    m.handle([NewBest("autopilot", 3)])
    assert m.praises == 1  # once per run
    m.handle([RunStarted("autopilot")])
    assert m.toast() is None
    # at fast-forward a best and the next run fall in one frame: nothing to praise now
    m.handle([NewBest("human", 5), RunStarted("human")])
    assert m.toast() is None and m.praises == 1
    m.handle([NewBest("human", 6)])
    assert m.toast() == BEST_TOASTS["human"]
    now.t += 3.0
    assert m.toast() is None  # and it times out


def test_saves_flash_and_failures_become_notices():
    now = Now()
    m = Messages(now)
    m.handle([Saved(True, "saved", 1)])
    assert m.saved_flash() and m.notices_shown() == []
    m.handle([Saved(False, "could not save: disk full")])
    assert m.notices_shown() == ["could not save: disk full"]
    for i in range(5):
        m.notice(f"n{i}")
    assert m.notices_shown() == ["n2", "n3", "n4"]
    now.t += 10.0
    assert m.notices_shown() == [] and not m.saved_flash()


# ---------------------------------------------------------------- the fixed-step clock
def test_the_clock_runs_whole_ticks_caps_stalls_and_drops_what_does_not_fit():
    clock = FixedStepClock(max_frame_dt=0.25, work_budget_s=1.0, now=Now())
    ran = []
    # ticks run until the simulation is level with or ahead of the wall clock
    assert clock.run(0.15, 10.0, lambda: ran.append(1) or True) == 2
    assert clock.alpha() == pytest.approx(0.5)  # now: half-way from tick 1 to tick 2
    assert clock.run(9.0, 10.0, lambda: True) == 2  # the stall counts as 0.25 s: to tick 4
    assert clock.alpha() == pytest.approx(1.0)
    t = [0.0]

    def slow() -> bool:
        t[0] += 0.004  # each tick costs 4 ms of a 8 ms budget
        return True

    clock = FixedStepClock(0.25, 0.008, now=lambda: t[0])
    assert clock.run(0.1, 1000.0, slow) == 2 and clock.dropped == 98 and clock.acc <= 0
    # a tick that ends the flight forgets what was still owed
    clock = FixedStepClock(0.25, 1.0, now=Now())
    assert clock.run(0.25, 20.0, lambda: False) == 1 and clock.acc == 0.0


# ---------------------------------------------------------------- sound
def test_sound_that_cannot_play_is_said_once_and_muting_is_silent(tmp_path):
    from game.ui.sound import Sounds

    def no_device(path: str):
        raise OSError("no audio device")

    broken = Sounds(tmp_path, load=no_device)
    assert broken.error == "sound off: no audio device"
    assert broken.take_error() == broken.error and broken.take_error() is None
    broken.play("jump")  # silent, never raises
    played = []

    class Source:
        def play(self) -> None:
            played.append(1)

    ok = Sounds(tmp_path, muted=True, load=lambda path: Source())
    ok.play("jump")
    assert played == []
    ok.muted = False
    ok.play("jump")
    assert played == [1] and ok.take_error() is None


# ---------------------------------------------------------------- the speed's shortfall
class _Remote:
    """A learner's child process as the game view sees it (``ai.process.remote.RemoteSteps``)."""

    def __init__(self) -> None:
        self.attached, self.failed, self.max_in_flight = False, None, 0

    def poll(self) -> None:
        pass


def test_a_slow_start_while_the_learners_child_starts_is_not_told():
    """Until the learner's child takes the gradient steps they run in the window's process
    (~4 s), and 1x may fall short then. That says nothing of the game after it: the "1x runs
    at 0.88x (L: learning off)" notice waits until a whole gauge window has flown after the
    child's first frame, while the HUD goes on showing what the gauge measures. A shortfall
    after that is told, once."""
    from game.ui.game_view import GameCommands, GameView

    said = []
    view = SimpleNamespace(session=Session("arcade", seed=0), say=lambda t, s=2.5: said.append(t),
                           renderer=None, learn_elsewhere=None, remote=_Remote(),
                           _learning_there=False, handed_at_s=0.0)
    view.child_starting = GameView.child_starting.fget(view)
    commands = GameCommands(view)
    pace = view.session.pace

    def fly(frames: int) -> None:  # frames that fly half the ticks 1x asks for
        for i in range(frames):
            pace.gauge.add(1 / 60, i % 2)

    fly(150)
    assert pace.short() and view.child_starting
    commands.tell_shortfall()
    assert said == []
    view.remote.attached = True
    GameView._poll_remote(view)  # the child's first frame
    view.child_starting = GameView.child_starting.fget(view)
    assert not view.child_starting and view.handed_at_s == pytest.approx(2.5)
    assert pace.short() and "(" in pace.shown()  # the HUD still says what is measured
    fly(60)
    commands.tell_shortfall()
    assert said == []  # a second after the hand-over: its window still holds the start
    fly(90)
    commands.tell_shortfall()
    commands.tell_shortfall()
    assert said == ["1x runs at 0.50x"]  # (no learner here: no "L: learning off")
