"""The game window: the one module that opens a pyglet window and runs ``pyglet.app.run``.

Keys become commands through the table in ``game.ui.controls``; commands become
calls on :class:`game.session.Session`, which owns the loop's logic (ticks,
pause, speeds, pilots). The session's events become sounds and messages; the
renderer in ``game.ui`` only reads the session. ``game.ui.pacing`` paces the
frames at 60 Hz.

At start-up the level's learner is resumed from the data folder
(``game.startup``; ``--fresh`` moves the old one aside first). While playing it
is autosaved every ``SessionConfig.autosave_s`` seconds of play, and once more
on every way out (Esc, closing the window, Ctrl-C, SIGTERM) before the process
ends: the snapshot is taken on the frame, the disk write runs on a background
thread.

Three environment variables exist for tests and benches:
``GRAVITY_FLYER_STATE_FILE`` (a JSON summary rewritten ten times a second),
``GRAVITY_FLYER_FRAME_LOG`` (every frame's timing, written as JSON at exit) and
``GRAVITY_FLYER_AUTOSAVE_S`` (the autosave interval in seconds, default 60).
"""

from __future__ import annotations

import argparse
import gc
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from game.atomic import sweep_temp_files
from game.autosave import Autosave
from game.events import Crashed, Event, Jumped, Scored
from game.scores import ScoreBook, default_data_dir
from game.session import DEFAULT_TICK_RATE, Phase, Session, SessionConfig
from game.startup import autosave_interval, make_learner, pilot_path
from game.ui.controls import SPEED_INDEX, Command, keymap
from game.ui.messages import NOTICE_S, Messages
from game.ui.pacing import FramePacer, FrameStats
from game.ui.report import FRAME_LOG_ENV, STATE_ENV, FrameLog, StateFile, session_state

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
FINAL_SAVE_TIMEOUT_S = 30.0
"""How long quitting waits for the last save to reach the disk."""
WINDOW_SIZE = (1080, 620)
SCORE_SAVE_S = 5.0
"""How often a changed best score is written (and always at exit)."""
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
    """Wires the window's events to the session and runs the frames."""

    def __init__(self, window: Any, session: Session, scores: ScoreBook, info: str | None,
                 autosave: Autosave | None = None) -> None:
        import pyglet

        from game.ui.render import Renderer
        from game.ui.sound import Sounds

        self.pyglet = pyglet
        self.window = window
        self.session = session
        self.scores = scores
        self.autosave = autosave
        self.messages = Messages()
        self.renderer = Renderer(window, ASSETS, hasattr(session.world, "course"),
                                 self.messages)
        self.renderer.info_line = info or ""
        self.renderer.autosave = autosave
        self.final_saves: list[Any] = []
        self._failure_told: str | None = None
        self.learner_source: str | None = None
        """'saved' (resumed), 'pilot' (fresh, from --autopilot) or 'new'; None: no learner."""
        self.sounds = Sounds(ASSETS)
        self.stats = FrameStats()
        self.pacer = FramePacer(pyglet.clock)
        self.hidden = False
        self.stop_signal: int | None = None
        self.state_file = StateFile(os.environ.get(STATE_ENV))
        self.frame_log = FrameLog(os.environ.get(FRAME_LOG_ENV))
        self.frames = 0
        self._score_due = 0.0
        self._state_due = 0.0
        self.keys = keymap(pyglet.window.key)
        self.commands: dict[Command, Callable[[], None]] = {
            Command.QUIT: self.quit, Command.JUMP: self._jump,
            Command.TOGGLE_PILOT: self._toggle_pilot,
            Command.TOGGLE_LEARNING: self._toggle_learning,
            Command.LEARN_PANEL: self.renderer.toggle_learn_panel,
            Command.FPS_PANEL: self.renderer.toggle_fps_panel,
            Command.PAUSE: session.toggle_pause, Command.RESTART: self._restart,
            Command.FASTER: lambda: self._rate(session.pace.faster),
            Command.SLOWER: lambda: self._rate(session.pace.slower),
            **{c: (lambda i=i: self._speed(i)) for c, i in SPEED_INDEX.items()},
        }
        window.push_handlers(self)

    def say(self, text: str, seconds: float = 2.5) -> None:
        self.messages.say(text, seconds)

    # ------------------------------------------------------------------ commands
    def on_key_press(self, symbol: int, modifiers: int) -> bool:
        command = self.keys.get(symbol)
        if command is not None:
            self.commands[command]()
        return True  # handled: pyglet's default Esc handler must not close the window twice

    def _jump(self) -> None:
        s = self.session
        if s.pilot == "autopilot" and not s.paused and s.phase is Phase.FLYING:
            self.say("The autopilot has the controls — press A to take them")
        s.press_jump()

    def _unavailable(self) -> None:
        self.say(self.renderer.info_line or "The autopilot is not available")

    def _toggle_pilot(self) -> None:
        try:
            who = self.session.toggle_pilot()
        except RuntimeError:
            self._unavailable()
        else:
            self.say("Autopilot flying" if who == "autopilot" else "You have the controls")

    def _toggle_learning(self) -> None:
        try:
            on = self.session.toggle_learning()
        except RuntimeError:
            self._unavailable()
        else:
            self.say("Learning on" if on else "Learning off")

    def _restart(self) -> None:
        self.session.restart()
        self.say("Restarted")

    def _speed(self, index: int) -> None:
        self.session.set_speed(index)
        self.say(f"Speed {self.session.pace.name}")

    def _rate(self, change: Callable[[], float]) -> None:
        change()
        name, value = self.session.pace.label()
        self.say(f"{name} {value}")

    # ------------------------------------------------------------------ window events
    def on_activate(self) -> None:
        self.session.focus_gained()

    def on_deactivate(self) -> None:
        self.session.focus_lost()

    def on_hide(self) -> None:
        self.hidden = True
        self.session.hidden()

    def on_show(self) -> None:
        self.hidden = False
        self.session.focus_gained()

    def on_resize(self, width: int, height: int) -> None:
        self.renderer.resize(width, height)  # returning None lets pyglet set the viewport

    def on_draw(self) -> bool:
        self.renderer.draw()
        return True

    def on_close(self) -> bool:
        self.quit()
        return True

    def quit(self) -> None:
        """Leaves the event loop; saving happens after it returns."""
        self.pyglet.app.exit()

    # ------------------------------------------------------------------ the frame
    def start(self) -> None:
        error = self.sounds.take_error()
        if error:
            self.messages.notice(error)
        self.pacer.start(self.frame)

    def frame(self, _dt: float) -> None:
        """One frame: ticks due, events, HUD, draw; then schedule the next on the timeline."""
        start, interval = self.pacer.begin()
        s = self.session
        if self.stop_signal is not None:
            self.quit()
            return
        refresh = self.renderer.refresh_due(start + 0.010)  # due by the draw?
        play = 0.0 if s.paused else min(interval, s.config.max_frame_dt)
        snapshot_s = (self.autosave.snapshot_estimate_s()
                      if self.autosave is not None and self.autosave.due(play) else 0.0)
        s.clock.work_budget_s = self.pacer.sim_budget(refresh, snapshot_s)
        s.advance(interval)
        sim_end = time.perf_counter()
        self._handle_events(s.take_events())
        if not self.hidden:
            self.renderer.update(s, s.view(), self.stats.summary)
            self.window.draw(interval)
        self.pacer.drew(refresh, time.perf_counter() - sim_end)
        # After the flip: a snapshot uses the frame's slack instead of delaying what is shown.
        saving = self._autosave(play)
        end = time.perf_counter()
        self.frames += 1
        self.stats.add(end, interval, end - start, s.ticks)
        self.frame_log.add(start, interval, end - start, s.last_ticks, s.pace.name,
                           sim_end - start, saving)
        if end >= self._score_due:
            self._score_due = end + SCORE_SAVE_S
            self._save_scores()
        if self.state_file.path is not None and end >= self._state_due:
            self._state_due = end + STATE_WRITE_S
            self.state_file.write(self._state())
        self.pacer.schedule_next(self.frame)

    def _autosave(self, play: float) -> int:
        """Counts ``play`` seconds of play, starts a due autosave, shows finished ones.

        Returns 2 if this frame took a snapshot, 1 if a write is running on the saver
        thread, else 0 (for the frame log).
        """
        autosave = self.autosave
        if autosave is None:
            return 0
        started = autosave.play(play)
        events = autosave.poll_events()
        for ev in events:
            if ev.ok:
                self._failure_told = None
            elif ev.message != self._failure_told:  # the terminal hears a problem once
                print(f"gravity-flyer: {ev.message}", file=sys.stderr, flush=True)
                self._failure_told = ev.message
        self.messages.handle(events)
        if started:
            return 2
        return 1 if autosave.busy else 0

    def _handle_events(self, events: list[Event]) -> None:
        self.messages.handle(events)
        error = self.sounds.take_error()
        if error:
            self.messages.notice(error)
        if self.session.pace.index > 1 or not events:
            return  # fast-forward plays no sound: it would only be noise
        kinds = {type(e) for e in events}
        if Crashed in kinds:
            self.sounds.play("crash")
        elif Scored in kinds:
            self.sounds.play("score")
        elif any(isinstance(e, Jumped) and e.human for e in events):
            self.sounds.play("jump")

    def _save_scores(self) -> None:
        try:
            self.scores.save()
        except OSError as exc:
            self.scores.dirty = False  # say it once, not every 5 s
            line = f"could not save best scores ({exc.strerror or exc})"
            print(f"gravity-flyer: {line}", file=sys.stderr)
            self.say(line, 5.0)

    def _state(self) -> dict[str, Any]:
        state = session_state(self.session)
        r = self.renderer
        state.update(frames=self.frames, learn_panel=r.show_learn, fps_panel=r.show_fps,
                     stats=self.stats.summary)
        learner = self.session.learner
        if learner is not None:
            state.update(env_steps=int(learner.env_steps), episodes=int(learner.episodes),
                         epsilon=float(learner.epsilon))
        state["persistence"] = None if self.autosave is None else self.autosave.summary()
        state["learner_source"] = self.learner_source
        state["notices"] = self.messages.notices_shown()
        state["saved_flash"] = self.messages.saved_flash()
        state["toast"] = self.messages.toast()
        state["praises"] = self.messages.praises
        state["sound_error"] = self.sounds.error
        state["final_saves"] = [{"ok": bool(i.ok), "message": i.message,
                                 "generation": i.generation} for i in self.final_saves]
        return state

    def final_save(self) -> None:
        """After the loop: the learner's last save, waited for (up to a timeout)."""
        if self.autosave is None:
            return
        self.final_saves = self.autosave.close(FINAL_SAVE_TIMEOUT_S)
        for info in self.final_saves:
            print(f"gravity-flyer: {info.message}", file=sys.stderr, flush=True)
        if self.autosave.unfinished:
            print(f"gravity-flyer: the last save did not finish within "
                  f"{FINAL_SAVE_TIMEOUT_S:.0f} s; the previous save is kept", file=sys.stderr,
                  flush=True)

    def finish(self) -> None:
        """After the loop: final saves of the learner and scores, state and frame log."""
        self.final_save()
        self._save_scores()
        self.state_file.write(self._state())
        self.frame_log.write()


def _splash(window: Any, text: str) -> None:
    """Draws one frame with a message (while torch loads)."""
    import pyglet

    window.switch_to()
    window.dispatch_events()
    window.clear()
    pyglet.text.Label(text, font_name=("DejaVu Sans", "Arial"), font_size=18,
                      x=window.width // 2, y=window.height // 2, anchor_x="center",
                      anchor_y="center").draw()
    window.flip()


def _open_scores(args: argparse.Namespace) -> tuple[ScoreBook, Path | None]:
    """The best scores and the data folder (None when it cannot be used)."""
    data_dir: Path | None = (Path(args.data_dir) if args.data_dir is not None
                             else default_data_dir())
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


def _build_app(window: Any, args: argparse.Namespace, scores: ScoreBook,
               data_dir: Path | None, autosave_s: float) -> App:
    """The level's learner, session and autosave, wired into an App."""
    setup = make_learner(args, data_dir)
    for line in setup.messages:
        print(f"gravity-flyer: {line}", file=sys.stderr, flush=True)
    learner = setup.learner
    pilot = args.pilot
    if learner is None:
        if setup.unavailable:
            print(f"gravity-flyer: {setup.unavailable}; you fly alone", file=sys.stderr)
        pilot = "human"
    config = SessionConfig(tick_rate=args.tick_rate if args.tick_rate else DEFAULT_TICK_RATE,
                           autosave_s=autosave_s)
    session = Session(args.level, seed=args.seed, config=config, learner=learner, scores=scores,
                      pilot=pilot)
    autosave = None
    if learner is not None and setup.store is not None:
        from ai.store import BackgroundSaver

        autosave = Autosave(learner, setup.store, BackgroundSaver(setup.store),
                            interval_s=config.autosave_s, dirty=setup.from_pilot,
                            resumed=setup.resumed, generation=setup.generation)
    app = App(window, session, scores, setup.unavailable, autosave)
    if learner is not None:
        app.learner_source = ("saved" if setup.resumed is not None
                              else "pilot" if setup.from_pilot else "new")
        app.renderer.learner_source = app.learner_source
    if scores.message:
        app.say(scores.message, 6.0)
    for line in setup.messages:
        app.messages.notice(line, NOTICE_S)
    if setup.resumed is not None:
        episodes, steps = setup.resumed
        app.say(f"Resumed: {episodes:,} episodes, {steps:,} steps", 5.0)
    return app


def run(args: argparse.Namespace) -> int:
    """Opens the window and plays until Esc; returns the process exit code.

    0 after Esc or closing the window, ``128 + signal`` after Ctrl-C (130) or SIGTERM
    (143); the learner is saved before the process ends in every one of these cases.
    """
    autosave_s = autosave_interval()
    scores, data_dir = _open_scores(args)
    if args.autopilot:
        pilot_path(args.autopilot, args.level)  # a wrong path fails before any window opens
    try:
        window = _open_window()
    except DisplayError as exc:
        print(f"gravity-flyer: {exc}", file=sys.stderr)
        return 1
    import pyglet

    try:
        _splash(window, "Loading the autopilot…")
        app = _build_app(window, args, scores, data_dir, autosave_s)
    except BaseException:
        window.close()
        raise

    gc.collect()
    gc.freeze()  # the long-lived setup objects need no more cyclic-GC scans during play

    def request_stop(signum: int, _frame: Any) -> None:
        app.stop_signal = signum

    stop_signals = [signal.SIGINT, signal.SIGTERM]
    if hasattr(signal, "SIGHUP"):  # the terminal was closed: save like any other way out
        stop_signals.append(signal.SIGHUP)
    old = {sig: signal.signal(sig, request_stop) for sig in stop_signals}
    try:
        app.start()
        pyglet.app.run(None)
    finally:
        # A second Ctrl-C while the last save is written interrupts the wait; the write
        # is atomic, so the disk keeps the old save or the new one.
        for sig, handler in old.items():
            signal.signal(sig, handler)
        try:
            app.finish()
        finally:
            try:
                window.close()
            except Exception:  # already closed by the window system; nothing left to free
                pass
    if app.stop_signal is not None:
        return 128 + app.stop_signal
    return 0
