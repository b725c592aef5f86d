"""The game window: the one module that opens a pyglet window and runs ``pyglet.app.run``.

Keys become calls on :class:`game.session.Session`; the session owns the loop's
logic (ticks, pause, speeds, pilots) and the renderer in ``game.ui`` only reads
it. Frames are paced at 60 Hz by re-scheduling against a fixed timeline, so
intervals stay even without vsync; each frame runs the ticks that are due,
interpolates, draws and flips.

Two environment variables exist for tests and benches:
``GRAVITY_FLYER_STATE_FILE`` (a JSON summary rewritten ten times a second) and
``GRAVITY_FLYER_FRAME_LOG`` (every frame's timing, written as JSON at exit).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import signal
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

from game.atomic import sweep_temp_files
from game.cli import CliError
from game.scores import ScoreBook, default_data_dir
from game.session import DEFAULT_TICK_RATE, Session, SessionConfig

ROOT = Path(__file__).resolve().parent.parent
ASSETS = ROOT / "assets"
PILOTS_DIR = ASSETS / "pilots"
STATE_ENV = "GRAVITY_FLYER_STATE_FILE"
FRAME_LOG_ENV = "GRAVITY_FLYER_FRAME_LOG"
FRAME_HZ = 60.0
"""Frames drawn per second."""
WINDOW_SIZE = (1080, 620)
SCORE_SAVE_S = 5.0
"""How often a changed best score is written (and always at exit)."""
STATE_WRITE_S = 0.1
STATS_WINDOW = 120
"""Frames the FPS panel's percentiles are taken over (2 s at 60 FPS)."""
WORK_TARGET_S = 0.0105
"""Work per frame (simulation, learning, drawing) the tick budget aims to stay under."""
SIM_BUDGET_S = (0.002, 0.008)
"""Least and most simulation time per frame; the rest of the target is left for drawing."""


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


def _pilot_path(spec: str, level: str) -> Path:
    if spec == "pretrained":
        path = PILOTS_DIR / f"{level}.safetensors"
        if not path.is_file():
            raise CliError(f"no pretrained pilot for {level} (expected {path})")
        return path
    path = Path(spec)
    if not path.is_file():
        raise CliError(f"pilot file not found: {spec}")
    return path


def _make_learner(args: argparse.Namespace) -> tuple[Any | None, str | None]:
    """The live learner (and the pilot it starts from), or None and why not."""
    try:
        import ai
    except Exception as exc:
        if args.autopilot:
            raise CliError(f"cannot load the autopilot ({type(exc).__name__}: {exc})") from None
        return None, f"autopilot unavailable ({type(exc).__name__})"
    seed = args.seed if args.seed is not None else int(np.random.SeedSequence().entropy % 2**63)
    learner = ai.Learner(level=args.level, config=ai.default_config(args.level), seed=seed)
    if args.autopilot:
        try:
            pilot = ai.Autopilot.load(_pilot_path(args.autopilot, args.level), level=args.level)
            learner.load_pilot(pilot)
        except ai.PilotError as exc:
            raise CliError(str(exc)) from None
    learner.learn_enabled = bool(args.learn)
    return learner, None


class FrameStats:
    """Frame interval, work time and env steps per second over the last frames."""

    def __init__(self) -> None:
        self.intervals: deque[float] = deque(maxlen=STATS_WINDOW)
        self.works: deque[float] = deque(maxlen=STATS_WINDOW)
        self.ticks: deque[tuple[float, int]] = deque()
        self.summary: dict[str, float] = {}
        self._due = 0.0

    def add(self, now: float, interval: float, work: float, total_ticks: int) -> None:
        self.intervals.append(interval)
        self.works.append(work)
        self.ticks.append((now, total_ticks))
        while self.ticks and now - self.ticks[0][0] > 1.0:
            self.ticks.popleft()
        if now >= self._due and len(self.intervals) > 2:
            self._due = now + 0.25
            iv = np.asarray(self.intervals) * 1e3
            wk = np.asarray(self.works) * 1e3
            t0, n0 = self.ticks[0]
            span = max(now - t0, 1e-6)
            self.summary = {
                "fps": 1e3 / float(iv.mean()),
                "int_p50": float(np.percentile(iv, 50)), "int_p99": float(np.percentile(iv, 99)),
                "work_p50": float(np.percentile(wk, 50)), "work_p99": float(np.percentile(wk, 99)),
                "steps_per_s": (total_ticks - n0) / span,
                "ticks_per_frame": (total_ticks - n0) / max(len(self.ticks) - 1, 1),
            }


class App:
    """Wires the window's events to the session and paces the frames."""

    def __init__(self, window: Any, session: Session, scores: ScoreBook, info: str | None) -> None:
        import pyglet

        from game.ui.render import Renderer
        from game.ui.sound import Sounds

        self.pyglet = pyglet
        self.window = window
        self.session = session
        self.scores = scores
        self.renderer = Renderer(window, ASSETS, session.level)
        self.renderer.info_line = info or ""
        self.sounds = Sounds(ASSETS)
        self.stats = FrameStats()
        self.hidden = False
        self.stop_signal: int | None = None
        self.period = 1.0 / FRAME_HZ
        self.state_path = os.environ.get(STATE_ENV) or None
        self.frame_log: list[tuple[float, float, float, int, str, float]] | None = (
            [] if os.environ.get(FRAME_LOG_ENV) else None)
        self.draw_times: deque[float] = deque([0.004] * 30, maxlen=60)
        self.frames = 0
        self._score_due = 0.0
        self._state_due = 0.0
        self._last_start = 0.0
        self._next_due = 0.0
        self._best_toasted = False
        self._last_score = 0
        window.push_handlers(self)

    # ------------------------------------------------------------------ window events
    def on_key_press(self, symbol: int, modifiers: int) -> bool:
        key = self.pyglet.window.key
        s, r = self.session, self.renderer
        if symbol == key.ESCAPE:
            self.quit()
        elif symbol == key.SPACE:
            if s.pilot == "autopilot" and not s.paused and s.phase == "flying":
                r.say("The autopilot has the controls — press A to take them")
            s.press_jump()
        elif symbol in (key.A, key.TAB):
            try:
                who = s.toggle_pilot()
            except RuntimeError:
                r.say(r.info_line or "The autopilot is not available")
            else:
                r.say("Autopilot flying" if who == "autopilot" else "You have the controls")
        elif symbol == key.L:
            try:
                on = s.toggle_learning()
            except RuntimeError:
                r.say(r.info_line or "The autopilot is not available")
            else:
                r.say("Learning on" if on else "Learning off")
        elif symbol == key.H:
            r.toggle_learn_panel()
        elif symbol == key.F:
            r.toggle_fps_panel()
        elif symbol == key.P:
            s.toggle_pause()
        elif symbol == key.R:
            s.restart()
            r.say("Restarted")
        elif symbol in (key.PLUS, key.EQUAL, key.NUM_ADD):
            r.say(f"Tick rate {s.faster():g}/s")
        elif symbol in (key.MINUS, key.UNDERSCORE, key.NUM_SUBTRACT):
            r.say(f"Tick rate {s.slower():g}/s")
        elif symbol in (key._1, key._2, key._3, key._4, key.NUM_1, key.NUM_2, key.NUM_3,
                        key.NUM_4):
            index = {key._1: 0, key._2: 1, key._3: 2, key._4: 3, key.NUM_1: 0, key.NUM_2: 1,
                     key.NUM_3: 2, key.NUM_4: 3}[symbol]
            s.set_speed(index)
            r.say(f"Speed {s.speed_name}")
        return True  # handled: pyglet's default Esc handler must not close the window twice

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
        now = time.perf_counter()
        self._last_start = now
        self._next_due = now
        self.pyglet.clock.schedule_once(self.frame, 0.0)

    def frame(self, _dt: float) -> None:
        """One frame: ticks due, events, HUD, draw; then schedule the next on the timeline."""
        start = time.perf_counter()
        interval = start - self._last_start
        self._last_start = start
        s = self.session
        if self.stop_signal is not None:
            self.quit()
            return
        # ticks get what drawing leaves of the work target (a slow software GL draws slower)
        draw_est = sorted(self.draw_times)[int(len(self.draw_times) * 0.9)]
        lo, hi = SIM_BUDGET_S
        s.config.work_budget_s = min(max(WORK_TARGET_S - draw_est, lo), hi)
        s.advance(interval)
        sim_end = time.perf_counter()
        self._handle_events(s.take_events())
        if not self.hidden:
            self.renderer.update(s, s.view(), self.stats.summary)
            self.window.draw(interval)
        end = time.perf_counter()
        self.draw_times.append(end - sim_end)
        self.frames += 1
        self.stats.add(end, interval, end - start, s.ticks)
        if self.frame_log is not None:
            self.frame_log.append((start, interval, end - start, s.last_ticks, s.speed_name,
                                   sim_end - start))
        if end >= self._score_due:
            self._score_due = end + SCORE_SAVE_S
            self._save_scores()
        if self.state_path and end >= self._state_due:
            self._state_due = end + STATE_WRITE_S
            self._write_state()
        self._schedule_next()

    def _schedule_next(self) -> None:
        self._next_due += self.period
        now = time.perf_counter()
        if self._next_due < now - self.period:
            self._next_due = now  # fell far behind (a stall): restart the timeline, no burst
        clock = self.pyglet.clock.get_default()
        # pyglet measures a delay from its last tick unless that is > 0.2 s old
        base = clock.last_ts if clock.last_ts and now - clock.last_ts <= 0.2 else now
        self.pyglet.clock.schedule_once(self.frame, max(0.0, self._next_due - base))

    def _handle_events(self, ev: dict[str, int]) -> None:
        s = self.session
        if s.score < self._last_score or s.score == 0:
            self._best_toasted = False
        self._last_score = s.score
        if ev["best"] and not self._best_toasted and s.best > 1:
            self._best_toasted = True
            self.renderer.say("New best!" if s.run_kind == "human" else "Autopilot's new best")
        if s.speed_index > 1:
            return  # fast-forward plays no sound: it would only be noise
        if ev["crash"]:
            self.sounds.play("crash")
        elif ev["score"]:
            self.sounds.play("score")
        elif ev["jump"] and s.pilot == "human":
            self.sounds.play("jump")

    def _save_scores(self) -> None:
        try:
            self.scores.save()
        except OSError as exc:
            self.scores.dirty = False  # say it once, not every 5 s
            line = f"could not save best scores ({exc.strerror or exc})"
            print(f"gravity-flyer: {line}", file=sys.stderr)
            self.renderer.say(line, 5.0)

    def _write_state(self) -> None:
        state = self.session.state()
        state.update(frames=self.frames, learn_panel=self.renderer.show_learn,
                     fps_panel=self.renderer.show_fps, stats=self.stats.summary)
        learner = self.session.learner
        if learner is not None:
            state.update(env_steps=int(learner.env_steps), episodes=int(learner.episodes),
                         epsilon=float(learner.epsilon))
        path = Path(self.state_path)
        tmp = path.with_name(path.name + ".part")
        tmp.write_text(json.dumps(state))
        os.replace(tmp, path)

    def finish(self) -> None:
        """After the loop: final save of scores and the frame log."""
        self._save_scores()
        if self.state_path:
            self._write_state()
        log_path = os.environ.get(FRAME_LOG_ENV)
        if log_path and self.frame_log is not None:
            cols = list(zip(*self.frame_log, strict=True)) if self.frame_log else [[]] * 6
            Path(log_path).write_text(json.dumps({
                "start": cols[0], "interval": cols[1], "work": cols[2], "ticks": cols[3],
                "speed": cols[4], "sim": cols[5]}))


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


def run(args: argparse.Namespace) -> int:
    """Opens the window and plays until Esc; returns the process exit code."""
    data_dir = Path(args.data_dir) if args.data_dir is not None else default_data_dir()
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        sweep_temp_files(data_dir)
        scores = ScoreBook(data_dir)
    except OSError as exc:
        print(f"gravity-flyer: cannot use the data folder {data_dir} ({exc.strerror}); "
              "best scores will not be saved", file=sys.stderr)
        scores = ScoreBook(None)
    if scores.message:
        print(f"gravity-flyer: {scores.message}", file=sys.stderr)
    if args.autopilot:
        _pilot_path(args.autopilot, args.level)  # a wrong path fails before any window opens
    try:
        window = _open_window()
    except DisplayError as exc:
        print(f"gravity-flyer: {exc}", file=sys.stderr)
        return 1
    import pyglet

    try:
        _splash(window, "Loading the autopilot…")
        learner, info = _make_learner(args)
    except BaseException:
        window.close()
        raise
    pilot = args.pilot
    if learner is None:
        if info:
            print(f"gravity-flyer: {info}; you fly alone", file=sys.stderr)
        pilot = "human"
    config = SessionConfig(tick_rate=args.tick_rate if args.tick_rate else DEFAULT_TICK_RATE)
    session = Session(args.level, seed=args.seed, config=config, learner=learner, scores=scores,
                      pilot=pilot)
    app = App(window, session, scores, info)
    if scores.message:
        app.renderer.say(scores.message, 6.0)

    gc.collect()
    gc.freeze()  # the long-lived setup objects need no more cyclic-GC scans during play

    def request_stop(signum: int, _frame: Any) -> None:
        app.stop_signal = signum

    old = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        app.start()
        pyglet.app.run(None)
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)
        app.finish()
        try:
            window.close()
        except Exception:  # already closed by the window system; nothing left to free
            pass
    if app.stop_signal is not None:
        return 128 + app.stop_signal
    return 0
