"""The game window: opens the pyglet window, switches views and runs ``pyglet.app.run``.

Keys become commands through the table in ``game.ui.controls``; commands become
calls on :class:`game.play.session.Session`, which owns the loop's logic (ticks,
pause, speeds, pilots). The session's events become sounds and messages; the
renderer in ``game.ui`` only reads the session. ``game.ui.pacing`` paces the
frames at 60 Hz.

At start-up the level's learner is resumed from the data folder
(``game.wiring.startup``; ``--fresh`` moves the old one aside first). While playing it
is autosaved every ``SessionConfig.autosave_s`` seconds of play, and once more
on every way out (Esc, closing the window, Ctrl-C, SIGTERM) before the process
ends: the snapshot is taken on the frame, the disk write runs on a background
thread.

Three environment variables exist for tests and benches:
``GRAVITY_FLYER_STATE_FILE`` (a JSON summary rewritten ten times a second),
``GRAVITY_FLYER_FRAME_LOG`` (every frame's timing, written as JSON at exit),
``GRAVITY_FLYER_AUTOSAVE_S`` (the autosave interval in seconds, default 60) and
``GRAVITY_FLYER_LEARNER_PROCESS`` (``0``: the learner's gradient steps run in the window's own
process, as before ``ai.process.remote``; for measuring what the child process gives).
"""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import assets
from ai.atomic import sweep_temp_files
from game.errors import CliError
from game.play.flock import FROM_PILOT_LADDER
from game.play.session import Session, SessionConfig
from game.play.speed import GameSpeed
from game.sim.levels import LEVELS
from game.ui.controls import Command, keymap
from game.ui.game_view import GameView
from game.ui.messages import NOTICE_S
from game.ui.pacing import FRAME_HZ, FramePacer, FrameStats
from game.ui.report import FRAME_LOG_ENV, STATE_ENV, FrameLog, StateFile
from game.ui.view import View
from game.wiring.autosave import Autosave
from game.wiring.best_scores import ScoreBook, default_data_dir
from game.wiring.play_config import PlayConfig
from game.wiring.prefs import Settings
from game.wiring.prefs import load as load_settings
from game.wiring.prefs import save as save_settings
from game.wiring.startup import autosave_interval, make_learner, pilot_path

ASSETS = assets.path()
"""Sprites and sounds, found as package data (``importlib.resources``)."""
LEARNER_PROCESS_ENV = "GRAVITY_FLYER_LEARNER_PROCESS"
"""``0``: no child process for the learner's gradient steps (``_learn_elsewhere``)."""
WINDOW_SIZE = (1080, 620)
STATE_WRITE_S = 0.1


class DisplayError(Exception):
    """No display, or no OpenGL 3.3: the game cannot open its window."""


def _open_window() -> Any:
    """Opens the game window or raises DisplayError with a one-line reason."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        raise DisplayError("no display found (DISPLAY is not set): run it on a desktop, "
                           "or under Xvfb (xvfb-run python main.py)")
    try:
        import pyglet

        # No glGetError after every GL call: a round trip per call, a few tenths of a
        # millisecond per frame. Set GRAVITY_FLYER_DEBUG_GL=1 to check every call again.
        pyglet.options["debug_gl"] = os.environ.get("GRAVITY_FLYER_DEBUG_GL") == "1"
        window = pyglet.window.Window(*WINDOW_SIZE, caption="Gravity Flyer", resizable=True,
                                      vsync=False)
    except Exception as exc:  # pyglet raises several types; the user needs one line
        name = type(exc).__name__
        text = str(exc).splitlines()[0] if str(exc) else name
        if "Display" in name:
            raise DisplayError(f"cannot open the display ({text})") from None
        raise DisplayError(f"cannot open an OpenGL 3.3 window ({name}: {text})") from None
    from pyglet.gl import gl_info

    if not gl_info.have_version(3, 3):
        version = gl_info.get_version_string()
        window.close()
        raise DisplayError(f"OpenGL 3.3 is needed, this display offers {version}")
    return window


class App:
    """The window: its events become commands for the view on screen (title or game).

    Args:
        window: the pyglet window.
        sounds: the game's sounds.
        settings: the player's saved choices (M mutes).
        data_dir: where the settings are saved, or None.
        make_game: builds the game view for a level (loads its learner).
    """

    def __init__(self, window: Any, sounds: Any, settings: Settings, data_dir: Path | None,
                 make_game: Callable[[str], GameView],
                 make_lab: Callable[[str], View] | None = None) -> None:
        import pyglet

        from game.ui.gamepad import Gamepads

        self.pyglet = pyglet
        self.window = window
        self.sounds = sounds
        self.settings = settings
        self.data_dir = data_dir
        self.make_game = make_game
        self.make_lab = make_lab
        """Builds the lesson lab's view for a level (the title's L, ``--lab``)."""
        self._lab_to_start: str | None = None
        self.view: View = View()
        self._level_to_start: str | None = None
        self.stats = FrameStats()
        self.pacer = FramePacer(pyglet.clock)
        self._shown = False
        self.hidden = False
        self.stop_signal: int | None = None
        self.lost_window: str | None = None
        """Why the window went away without a close request (destroyed, X connection lost)."""
        self.state_file = StateFile(os.environ.get(STATE_ENV))
        self.frame_log = FrameLog(os.environ.get(FRAME_LOG_ENV))
        self.jumps: list[tuple[float, str]] = []
        """When a jump input arrived (``perf_counter``) and from what (the frame log)."""
        self.fullscreen_toggles = 0
        """F11 presses that switched full screen on or off (the window test reads it)."""
        self.inputs: dict[str, int] = {}
        """Jump inputs by source: 'key', 'mouse', 'controller'."""
        self.frames = 0
        self._state_due = 0.0
        self._fullscreen_due = False
        self.keymaps: dict[type, dict[int, Command]] = {}
        """Each view class's keymap, built from its ``controls`` when first shown."""
        self.gamepads = Gamepads(self.on_controller)

    def show(self, view: View) -> None:
        """Puts a view on screen (the window's events reach the App from the first view on)."""
        if not self._shown:
            self.window.push_handlers(self)
            self._shown = True
        self.view = view
        if type(view) not in self.keymaps:
            self.keymaps[type(view)] = keymap(self.pyglet.window.key, view.controls)
        view.resize(self.window.width, self.window.height)
        view.shown(self.settings.think)

    def start_level(self, level: str) -> None:
        """The title screen chose a level: it starts on the next frame (loading takes a while)."""
        self._level_to_start = level

    def start_lab(self, level: str) -> None:
        """The title screen chose the lesson lab: it opens on the next frame."""
        self._lab_to_start = level

    # ------------------------------------------------------------------ input
    def command(self, command: Command, source: str = "key") -> None:
        """One command, from whatever input: the window's own, or the view's."""
        if command is Command.QUIT:
            self.quit()
        elif command is Command.FULLSCREEN:
            self._fullscreen_due = True  # on the next frame, once pyglet has seen the key down
        elif command is Command.MUTE:
            self.toggle_mute()
        else:
            if command is Command.JUMP:
                self.jumps.append((time.perf_counter(), source))
                self.inputs[source] = self.inputs.get(source, 0) + 1
                session = getattr(self.view, "session", None)
                if session is not None and session.pilot == "human" and not session.paused:
                    self.pacer.hurry(self.frame)  # the hop shows now, not at the next slot
            self.view.command(command)
            think = self.view.think_on
            if command is Command.THINK and think is not None:
                self.remember_think(think)

    def remember_think(self, on: bool) -> None:
        """V: the overlay's state is saved like mute (quietly: the view said what V did)."""
        self.settings.think = on
        try:
            save_settings(self.data_dir, self.settings)
        except OSError as exc:
            line = f"Not remembered ({exc.strerror or exc})"
            print(f"gravity-flyer: {line}", file=sys.stderr, flush=True)
            self.view.say(line)

    def on_key_press(self, symbol: int, modifiers: int) -> bool:
        command = self.keymaps[type(self.view)].get(symbol)
        if command is not None:
            self.command(command)
        return True  # handled: pyglet's default Esc handler must not close the window twice

    def on_mouse_press(self, x: int, y: int, button: int, modifiers: int) -> None:
        if button != self.pyglet.window.mouse.LEFT:
            return
        command = self.view.click(x, y)
        if command is not None:
            self.command(command, "mouse")

    def on_controller(self, what: str) -> None:
        """A controller's button: A jumps (starts the chosen level on the title), START pauses."""
        command = self.view.controller(what)
        if command is not None:
            self.command(command, "controller")

    def toggle_mute(self) -> None:
        muted = self.settings.muted = self.sounds.muted = not self.sounds.muted
        line = "Sound off (M turns it on)" if muted else "Sound on"
        try:
            save_settings(self.data_dir, self.settings)
        except OSError as exc:
            line += f" — not remembered ({exc.strerror or exc})"
            print(f"gravity-flyer: {line}", file=sys.stderr, flush=True)
        self.view.say(line)

    # ------------------------------------------------------------------ window events
    def on_activate(self) -> None:
        self.view.focus(True)

    def on_deactivate(self) -> None:
        self.view.focus(False)

    def on_hide(self) -> None:
        self.hidden = True
        self.view.hidden()

    def on_show(self) -> None:
        self.hidden = False
        self.view.focus(True)

    def on_resize(self, width: int, height: int) -> None:
        self.view.resize(width, height)  # returning None lets pyglet set the viewport

    def on_draw(self) -> bool:
        self.view.draw()
        return True

    def on_close(self) -> bool:
        self.quit()
        return True

    def toggle_fullscreen(self) -> None:
        """F11: full screen on or off, and the keyboard stays with the game.

        pyglet remakes the X window to switch. The old window never hears F11 come up, so
        pyglet's record of keys held down kept F11 and took the next press for a key repeat:
        every other F11 did nothing. The new window has seen no key go down, so that record
        starts empty; and it asks for the keyboard focus, which the old window had.
        """
        window = self.window
        window.set_fullscreen(not window.fullscreen)
        held = getattr(window, "pressed_keys", None)  # pyglet's xlib window only
        if held is not None:
            held.clear()
        window.activate()
        self.fullscreen_toggles += 1

    def quit(self) -> None:
        """Leaves the event loop; saving happens after it returns."""
        self.pyglet.app.exit()

    # ------------------------------------------------------------------ the frame
    def start(self) -> None:
        self.pacer.start(self.frame)

    def frame(self, _dt: float) -> None:
        """One frame of the view on screen; then the next is scheduled on the timeline."""
        start, interval = self.pacer.begin()
        if self.stop_signal is not None:
            self.quit()
            return
        if self._fullscreen_due:
            self._fullscreen_due = False
            self.toggle_fullscreen()
        if self._level_to_start is not None:
            level, self._level_to_start = self._level_to_start, None
            splash(self.window, f"Loading {level}…")
            self.show(self.make_game(level))
        if self._lab_to_start is not None and self.make_lab is not None:
            level, self._lab_to_start = self._lab_to_start, None
            splash(self.window, f"Loading the lesson lab on {level}…")
            self.show(self.make_lab(level))
        f = self.view.frame(start, interval, self.pacer, self.stats.summary, not self.hidden)
        end = time.perf_counter()
        self.frames += 1
        steps = self.view.env_steps
        self.stats.add(end, interval, end - start, steps, self.view.updates)
        self.frame_log.add(start, interval, end - start, f.ticks, f.speed, f.sim_s, f.saving,
                           f.drawn_y, f.flipped, f.flying, steps)
        if self.state_file.path is not None and end >= self._state_due:
            self._state_due = end + STATE_WRITE_S
            self.state_file.write(self.state())
        self.pacer.schedule_next(self.frame)

    def state(self) -> dict[str, Any]:
        w = self.window
        return {"view": self.view.name, "frames": self.frames, "clock": time.perf_counter(),
                "stats": self.stats.summary,
                "window": [w.width, w.height], "fullscreen": bool(w.fullscreen),
                "fullscreen_toggles": self.fullscreen_toggles,
                "muted": self.sounds.muted, "sound_error": self.sounds.error,
                "inputs": dict(self.inputs), "controllers": len(self.gamepads.controllers),
                **self.view.state()}

    def keep_older_saves(self) -> None:
        """No save from now on removes an older generation of the learner (after a crash)."""
        autosave = getattr(self.view, "autosave", None)
        keep = getattr(getattr(autosave, "store", None), "keep_older", None)
        if keep is not None:
            keep()

    def finish(self) -> None:
        """After the loop: the view's final saves, the state file and the frame log."""
        self.view.finish()
        self.state_file.write(self.state())
        self.frame_log.write(jumps=[t for t, _ in self.jumps],
                             jump_sources=[src for _, src in self.jumps])


def splash(window: Any, text: str) -> None:
    """Draws one frame with a message (while torch loads)."""
    import pyglet

    window.switch_to()
    window.dispatch_events()
    window.clear()
    pyglet.text.Label(text, font_name=("DejaVu Sans", "Arial"), font_size=18,
                      x=window.width // 2, y=window.height // 2, anchor_x="center",
                      anchor_y="center").draw()
    window.flip()


def _open_scores(cfg: PlayConfig) -> tuple[ScoreBook, Path | None]:
    """The best scores and the data folder (None when it cannot be used)."""
    data_dir: Path | None = cfg.data_dir if cfg.data_dir is not None else default_data_dir()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        sweep_temp_files(data_dir)
        scores = ScoreBook(data_dir)
    except OSError as exc:
        print(f"gravity-flyer: cannot use the data folder {data_dir} ({exc.strerror}); "
              "best scores will not be saved", file=sys.stderr)
        scores = ScoreBook(None)
        data_dir = None
    if scores.message:
        print(f"gravity-flyer: {scores.message}", file=sys.stderr)
    return scores, data_dir


def _game_view(window: Any, cfg: PlayConfig, scores: ScoreBook,
               data_dir: Path | None, sounds: Any, autosave_s: float) -> GameView:
    """The level ``cfg.level`` with its learner, session and autosave, as a view."""
    assert cfg.level is not None
    setup = make_learner(cfg, data_dir)
    for line in setup.messages:
        print(f"gravity-flyer: {line}", file=sys.stderr, flush=True)
    learner = setup.learner
    pilot = cfg.pilot
    if learner is None:
        if setup.unavailable:
            print(f"gravity-flyer: {setup.unavailable}; you fly alone", file=sys.stderr)
        pilot = "human"
    config = SessionConfig(tick_rate=cfg.tick_rate, autosave_s=autosave_s, frame_hz=FRAME_HZ,
                           learn_in_slack=True)
    meter = None
    # An ONNX graph flown as it is has no weight arrays to send a child process: the
    # session's own SkillMeter (meter None) flies the graph.
    if learner is not None and not getattr(learner, "frozen", False):
        from game.play.flock_play import crowns
        from game.play.skill_process import SkillProcess

        try:
            # readings off the window's core and GIL; they crown the learner's best pilot
            meter = SkillProcess(LEVELS[cfg.level], crown=crowns(learner))
        except (OSError, RuntimeError) as exc:
            print(f"gravity-flyer: the skill meter runs in the game's own process ({exc})",
                  file=sys.stderr, flush=True)
    session = Session(cfg.level, seed=cfg.seed, config=config, learner=learner, scores=scores,
                      pilot=pilot, flock=cfg.flock,
                      flock_ladder=FROM_PILOT_LADDER if setup.from_pilot else 0.0,
                      skill_meter=meter)
    autosave = None
    if learner is not None and setup.store is not None:
        from ai.store.store import BackgroundSaver

        autosave = Autosave(learner, setup.store, BackgroundSaver(setup.store),
                            interval_s=config.autosave_s, dirty=setup.from_pilot,
                            resumed=setup.resumed, generation=setup.generation)
    view = GameView(window, session, scores, sounds, ASSETS, setup.unavailable, autosave)
    view.learn_elsewhere = lambda: _learn_elsewhere(learner)  # at the first frame (its doc)
    if learner is not None:
        view.learner_source = ("saved" if setup.resumed is not None
                               else "pilot" if setup.from_pilot else "new")
        view.renderer.learner_source = view.learner_source
    if scores.message:
        view.say(scores.message, 6.0)
    for line in setup.messages:
        view.messages.notice(line, NOTICE_S)
    if setup.resumed is not None:
        episodes, steps = setup.resumed
        line = f"Resumed: {episodes:,} episodes, {steps:,} steps"
        print(f"gravity-flyer: {line}", file=sys.stderr, flush=True)  # where people look later
        view.say(line, 5.0)
    error = sounds.take_error()
    if error:
        print(f"gravity-flyer: {error}", file=sys.stderr, flush=True)
        view.messages.notice(error)
    return view


def _learn_elsewhere(learner: Any) -> Any:
    """Gives a learning learner a child process for its gradient steps
    (``ai.process.remote``): the window's thread then never waits for them. Returns it, or
    None. Called at the game view's first frame, after the loading: a Ctrl-C while the level
    loads is noted and acted on there, and the child's start (SIGINT ignored for a moment, so
    the child inherits it) must not swallow it (``tests/test_robust_signals.py``)."""
    from ai.learner import Learner

    if not isinstance(learner, Learner) or os.environ.get(LEARNER_PROCESS_ENV) == "0":
        return None
    from ai.process.remote import RemoteSteps

    try:
        learner.remote = RemoteSteps(learner)
    except (OSError, RuntimeError) as exc:
        print(f"gravity-flyer: the learner learns in the game's own process ({exc})",
              file=sys.stderr, flush=True)
    return learner.remote


def _lab_view(window: Any, cfg: PlayConfig) -> View:
    """The lesson lab on ``cfg.level`` (``game.ui.lab``), its skill readings in a child
    process."""
    from game.play.skill_process import SkillProcess
    from game.ui.lab.view import LabView

    level = LEVELS[str(cfg.level)]
    try:
        meter = SkillProcess(level)
    except (OSError, RuntimeError) as exc:
        print(f"gravity-flyer: the skill meter runs in the game's own process ({exc})",
              file=sys.stderr, flush=True)
        meter = None
    seed = 0 if cfg.seed is None else cfg.seed
    view = LabView(window, level, ASSETS, seed=seed, flock=cfg.flock, meter=meter)
    view.child.start = _lab_host  # at the first frame, as the game's (``_learn_elsewhere``)
    return view


def _lab_host() -> Any:
    """A child process for the lab's teams' gradient steps (``ai.process.remote.Host``), or
    None (``GRAVITY_FLYER_LEARNER_PROCESS=0``, or it could not start)."""
    if os.environ.get(LEARNER_PROCESS_ENV) == "0":
        return None
    from ai.process.remote import Host

    try:
        return Host()
    except (OSError, RuntimeError) as exc:
        print(f"gravity-flyer: the lab learns in the game's own process ({exc})",
              file=sys.stderr, flush=True)
        return None


def _check_tick_rate(cfg: PlayConfig) -> None:
    """``--tick-rate`` outside the level's range is a one-line error before any window."""
    if cfg.tick_rate is None:
        return
    for level in ([cfg.level] if cfg.level else LEVELS):
        pace = GameSpeed(LEVELS[level].ticks_per_second)
        try:
            pace.set_tick_rate(cfg.tick_rate)
        except ValueError:
            raise CliError(f"--tick-rate must be {pace.describe_bounds()} for {level}, "
                           f"got {cfg.tick_rate:g}") from None


def run(cfg: PlayConfig) -> int:
    """Opens the window and plays until Esc; returns the process exit code.

    Without ``--level`` (and no autopilot asked for) the title screen lets the player
    choose. 0 after Esc or closing the window, ``128 + signal`` after Ctrl-C (130) or
    SIGTERM (143); the learner is saved before the process ends in every one of these
    cases.
    """
    autosave_s = autosave_interval()
    state_file = os.environ.get(STATE_ENV)
    if state_file and not Path(state_file).parent.is_dir():  # fail before the window opens
        raise CliError(f"{STATE_ENV}: the folder {Path(state_file).parent} does not exist")
    title = cfg.title
    cfg = cfg.resolved()
    _check_tick_rate(cfg)
    scores, data_dir = _open_scores(cfg)
    settings, problem = load_settings(data_dir)
    if problem:
        print(f"gravity-flyer: {problem}", file=sys.stderr)
    if cfg.autopilot:
        pilot_path(cfg.autopilot, cfg.level)  # a wrong path fails before any window opens
    try:
        window = _open_window()
    except DisplayError as exc:
        print(f"gravity-flyer: {exc}", file=sys.stderr)
        return 1
    import pyglet

    from game.ui.sound import Sounds

    sounds = Sounds(ASSETS, muted=settings.muted)

    def make_game(level: str) -> GameView:
        return _game_view(window, cfg.for_level(level), scores, data_dir, sounds, autosave_s)

    def make_lab(level: str) -> View:
        return _lab_view(window, cfg.for_level(level))

    def load() -> App:
        app = App(window, sounds, settings, data_dir, make_game, make_lab)
        if title:
            from game.ui.title import TitleView

            app.show(TitleView(window, tuple(LEVELS), lambda lv: scores.get(lv, "human"),
                               app.start_level, lab=app.start_lab))
        elif cfg.lab:
            splash(window, "Loading the lesson lab…")
            assert cfg.level is not None
            app.show(make_lab(cfg.level))
        else:
            splash(window, "Loading the autopilot…")
            assert cfg.level is not None
            app.show(make_game(cfg.level))
        return app

    return _play(_load_holding_signals(window, load), window, pyglet)


def _load_holding_signals(window: Any, load: Callable[[], App]) -> App:
    """Runs ``load`` (the App and its first screen) with a Ctrl-C or SIGTERM noted, not raised.

    The first one noted becomes the App's ``stop_signal``, acted on once the level has loaded
    (the game then quits at its first frame, saving as always): raised as an exception at
    any point of the loading, it could land in a callback that ignores exceptions, and the
    game played on. The window is closed if the loading fails.
    """
    stops: list[int] = []
    early = {sig: signal.signal(sig, lambda signum, _f: stops.append(signum))
             for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        app = load()
    except BaseException:
        window.close()
        raise
    finally:
        for sig, handler in early.items():
            signal.signal(sig, handler)
    if stops:
        app.stop_signal = stops[0]
    return app


def _watch_display(app: App, window: Any, stop_signals: list[int]) -> Any:
    """X11: a destroyed window or a lost X connection saves the learner and ends the game.

    pyglet ignores ``DestroyNotify`` (a window destroyed by another client, as ``xdotool
    windowclose`` does, left the game running unseen, holding the learner's lock), and
    Xlib ends the process on a lost connection (``xkill``, a force-quit, the X server
    gone) before any save. A destroyed window now quits like Esc; a lost connection runs
    the exit's saves inside Xlib's I/O error handler, which must not return, then exits 1.
    Returns the C callback, which must stay referenced.
    """
    try:
        from pyglet.libs.x11 import xlib
    except Exception:  # not X11 (Windows, macOS): the window system's close reaches on_close
        return None
    handlers = getattr(window, "_event_handlers", None)
    if not isinstance(handlers, dict):
        return None

    def destroyed(_event: Any) -> None:
        if app.lost_window is None:
            app.lost_window = "the game window was destroyed"
            print("gravity-flyer: the game window was destroyed; saving and quitting",
                  file=sys.stderr, flush=True)
        app.quit()

    handlers[xlib.DestroyNotify] = destroyed

    def io_error(_display: Any) -> int:
        app.lost_window = "the connection to the X display was lost"
        for sig in stop_signals:
            signal.signal(sig, _saving_first(app))
        code = 1
        try:
            print("gravity-flyer: lost the connection to the X display; saving the learner",
                  file=sys.stderr, flush=True)
            app.finish()
        except BaseException as exc:  # noqa: BLE001 - Xlib exits after this: one line only
            print(f"gravity-flyer: the final save failed ({type(exc).__name__}: {exc})",
                  file=sys.stderr, flush=True)
            code = 2
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    callback = xlib.XIOErrorHandler(io_error)
    xlib.XSetIOErrorHandler(callback)
    return callback


def _saving_first(app: App) -> Callable[[int, Any], None]:
    """A stop signal's handler while the last save is written: says once that it waits."""
    told = []

    def note(signum: int, _frame: Any) -> None:
        if not told:
            told.append(signum)
            os.write(2, b"gravity-flyer: saving the learner before quitting "
                        b"(Ctrl-C is ignored until the save is written)\n")

    return note


def _play(app: App, window: Any, pyglet: Any) -> int:
    """Runs the event loop; every way out saves first. Returns the exit code."""
    gc.collect()
    gc.freeze()  # the long-lived setup objects need no more cyclic-GC scans during play

    def request_stop(signum: int, _frame: Any) -> None:
        app.stop_signal = signum

    stop_signals = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGHUP"):  # the terminal was closed: save like any other way out
        stop_signals.append(signal.SIGHUP)
    old = {sig: signal.signal(sig, request_stop) for sig in stop_signals}
    keep = _watch_display(app, window, stop_signals)  # noqa: F841 (the C callback must live)
    try:
        app.start()
        pyglet.app.run(None)
    except Exception:
        app.keep_older_saves()  # a crash: its last save must not prune the good ones
        raise
    finally:
        # An impatient second Ctrl-C (or SIGTERM) must not abort the last save: until it is
        # written, further stop signals are only noted (issue 22: two Ctrl-Cs 30 ms apart
        # used to interrupt it and lose the session's learning).
        for sig in stop_signals:
            signal.signal(sig, _saving_first(app))
        try:
            app.finish()
        finally:
            try:
                if app.lost_window is None:
                    window.close()
            except Exception:  # already closed by the window system; nothing left to free
                pass
            for sig, handler in old.items():
                signal.signal(sig, handler)
    if app.stop_signal is not None:
        return 128 + app.stop_signal
    return 0
