"""The game window: the one module that opens a pyglet window and runs ``pyglet.app.run``.

Keys become calls on :class:`game.session.Session`; the session owns the loop's
logic (ticks, pause, speeds, pilots) and the renderer in ``game.ui`` only reads
it. Frames are paced at 60 Hz by re-scheduling against a fixed timeline, so
intervals stay even without vsync; each frame runs the ticks that are due,
interpolates, draws and flips.

At start-up the level's learner is resumed from the data folder (``ai.store``;
``--fresh`` moves the old one aside first). While playing it is autosaved every
``SessionConfig.autosave_s`` seconds of play, and once more on every way out
(Esc, closing the window, Ctrl-C, SIGTERM) before the process ends: the
snapshot is taken on the frame, the disk write runs on a background thread.

Three environment variables exist for tests and benches:
``GRAVITY_FLYER_STATE_FILE`` (a JSON summary rewritten ten times a second),
``GRAVITY_FLYER_FRAME_LOG`` (every frame's timing, written as JSON at exit) and
``GRAVITY_FLYER_AUTOSAVE_S`` (the autosave interval in seconds, default 60).
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import assets
from ai.atomic import sweep_temp_files
from game.errors import CliError
from game.scores import ScoreBook, default_data_dir
from game.session import DEFAULT_TICK_RATE, Autosave, Session, SessionConfig

ASSETS = assets.path()
"""Sprites and sounds, found as package data (``importlib.resources``)."""
PILOTS_DIR = assets.path("pilots")
STATE_ENV = "GRAVITY_FLYER_STATE_FILE"
FRAME_LOG_ENV = "GRAVITY_FLYER_FRAME_LOG"
AUTOSAVE_ENV = "GRAVITY_FLYER_AUTOSAVE_S"
FINAL_SAVE_TIMEOUT_S = 30.0
"""How long quitting waits for the last save to reach the disk."""
BEST_TOASTS = {"human": "New best!", "autopilot": "Autopilot's new best"}
"""The message under the score when a run sets its kind's best."""
NOTICE_S = 8.0
"""How long a message about the saved learner stays on screen."""
FRAME_HZ = 60.0
"""Frames drawn per second."""
WINDOW_SIZE = (1080, 620)
SCORE_SAVE_S = 5.0
"""How often a changed best score is written (and always at exit)."""
STATE_WRITE_S = 0.1
STATS_WINDOW = 120
"""Frames the FPS panel's percentiles are taken over (2 s at 60 FPS)."""
WORK_TARGET_S = 0.010
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


def _pilot_path(spec: str, level: str) -> Path:
    if spec == "pretrained":
        path = PILOTS_DIR / f"{level}.safetensors"
        if not path.is_file():
            raise CliError(f"no pretrained pilot for {level} (expected {path})")
        return path
    path = Path(spec)
    if not path.is_file():  # the same words as ``evaluate`` (Autopilot.load)
        raise CliError(f"{path} is not a file" if path.exists() else f"no pilot file at {path}")
    return path


@dataclass
class LearnerSetup:
    """The learner the game starts with, where it is saved, and what to tell the player."""

    learner: Any | None = None
    """The live learner, or None when the autopilot is unavailable."""
    store: Any | None = None
    """The level's ``ai.store.Store``, or None when the data folder cannot be used."""
    messages: list[str] = field(default_factory=list)
    """One line each, for the terminal and the HUD."""
    unavailable: str | None = None
    """Why there is no learner."""
    resumed: tuple[int, int] | None = None
    """``(episodes, env_steps)`` carried over from the loaded save."""
    generation: int | None = None
    """The save the learner was resumed from."""
    from_pilot: bool = False
    """A fresh learner that starts from the ``--autopilot`` pilot's weights."""


def _make_learner(args: argparse.Namespace, data_dir: Path | None) -> LearnerSetup:
    """Resumes the level's saved learner (or starts a fresh one) and loads ``--autopilot``.

    A saved learner wins over ``--autopilot``: it is the continuation of the learning
    that may have started from that pilot; ``--fresh`` starts again from the pilot.
    The pilot file is only ever read.
    """
    try:
        import ai
        from ai.store import Store, memory_cap_bytes
        from game.learning import learner_config, learner_from_state, load_pilot, new_learner
        from game.levels import LEVELS
    except Exception as exc:
        if args.autopilot:
            raise CliError(f"cannot load the autopilot ({type(exc).__name__}: {exc})") from None
        return LearnerSetup(unavailable=f"autopilot unavailable ({type(exc).__name__})")
    level, spec = args.level, LEVELS[args.level]
    setup = LearnerSetup()
    pilot = None
    if args.autopilot:
        try:  # read (and checked) even when a saved learner wins: a bad file is an error
            pilot, _ = load_pilot(_pilot_path(args.autopilot, level), spec)
        except ai.PilotError as exc:
            raise CliError(str(exc)) from None
    learner = None
    if data_dir is None:
        setup.messages.append("learning will not be saved: the data folder cannot be used")
    else:
        cfg = learner_config(spec)
        # The store checks saved learners against this level's physics and caps the memory file.
        store = setup.store = Store.for_data_dir(
            data_dir, level, expect={"physics_version": str(spec.physics_version)},
            max_memory_bytes=memory_cap_bytes(cfg.capacity + cfg.terminal_capacity,
                                              spec.obs_size))
        if not store.claim():  # another window has this learner: never write into its chain
            setup.messages.append(store.busy_message)
            setup.store = None
            if not args.fresh:  # start from what it saved last, read without touching it
                learner = store.load(build=lambda state: learner_from_state(spec, state)).built
                if learner is not None:
                    setup.resumed = (int(learner.episodes), int(learner.env_steps))
        elif args.fresh:
            try:
                moved = store.move_aside_all()
            except OSError as exc:
                setup.messages.append(f"--fresh: could not move the old {level} learner aside "
                                      f"({exc.strerror or exc}); it stays, not loaded")
            else:
                setup.messages.append(f"fresh {level} learner; the old one was moved to {moved}"
                                      if moved else f"fresh {level} learner (none was saved)")
        else:
            result = store.load(build=lambda state: learner_from_state(spec, state))
            setup.messages.extend(result.messages)
            if result.built is not None:
                learner = result.built
                setup.resumed = (int(learner.episodes), int(learner.env_steps))
                setup.generation = result.generation
                if pilot is not None:
                    setup.messages.append(f"resumed the saved {level} learner; the pilot "
                                          f"{args.autopilot!r} is not loaded over it "
                                          "(--fresh starts again from the pilot)")
    if learner is None:
        seed = (args.seed if args.seed is not None
                else int(np.random.SeedSequence().entropy % 2**63))
        learner = new_learner(spec, seed=seed)
        if pilot is not None:
            try:
                learner.load_pilot(pilot)
            except ai.PilotError as exc:
                raise CliError(str(exc)) from None
            setup.from_pilot = True
    learner.learn_enabled = bool(args.learn)
    setup.learner = learner
    return setup


def _autosave_interval() -> float:
    """``GRAVITY_FLYER_AUTOSAVE_S`` if set (tests and benches), else the default."""
    text = os.environ.get(AUTOSAVE_ENV, "").strip()
    if not text:
        return SessionConfig.autosave_s
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0 or value == float("inf"):
        raise CliError(f"{AUTOSAVE_ENV} must be a positive number of seconds, got {text!r}")
    return value


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
        self.renderer = Renderer(window, ASSETS, session.level)
        self.renderer.info_line = info or ""
        self.renderer.autosave = autosave
        self.final_saves: list[Any] = []
        self._failure_told: str | None = None
        self.learner_source: str | None = None
        """'saved' (resumed), 'pilot' (fresh, from --autopilot) or 'new'; None: no learner."""
        self.sounds = Sounds(ASSETS)
        self.stats = FrameStats()
        self.hidden = False
        self.stop_signal: int | None = None
        self.period = 1.0 / FRAME_HZ
        self.state_path = os.environ.get(STATE_ENV) or None
        self.frame_log: list[tuple[float, float, float, int, str, float, int]] | None = (
            [] if os.environ.get(FRAME_LOG_ENV) else None)
        # Recent draw times of frames that refresh a panel section and of those that do not:
        # the tick budget of each frame is what its kind of draw leaves of the work target.
        self.draw_times: dict[bool, deque[float]] = {
            kind: deque([0.004] * 30, maxlen=60) for kind in (False, True)}
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
        refresh = self.renderer.refresh_due(start + WORK_TARGET_S)  # due by the draw?
        times = self.draw_times[refresh]
        draw_est = sorted(times)[int(len(times) * 0.9)]
        lo, hi = SIM_BUDGET_S
        s.config.work_budget_s = min(max(WORK_TARGET_S - draw_est, lo), hi)
        play = 0.0 if s.paused else min(interval, s.config.max_frame_dt)
        if self.autosave is not None and self.autosave.due(play):
            # this frame ends with the autosave's snapshot: its ticks leave room for it
            s.config.work_budget_s = max(s.config.work_budget_s
                                         - self.autosave.snapshot_estimate_s(), lo / 2)
        s.advance(interval)
        sim_end = time.perf_counter()
        self._handle_events(s.take_events())
        if not self.hidden:
            self.renderer.update(s, s.view(), self.stats.summary)
            self.window.draw(interval)
        drawn = time.perf_counter()
        times.append(drawn - sim_end)
        # After the flip: a snapshot uses the frame's slack instead of delaying what is shown.
        saving = self._autosave(play)
        end = time.perf_counter()
        self.frames += 1
        self.stats.add(end, interval, end - start, s.ticks)
        if self.frame_log is not None:
            self.frame_log.append((start, interval, end - start, s.last_ticks, s.speed_name,
                                   sim_end - start, saving))
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

    def _autosave(self, play: float) -> int:
        """Counts ``play`` seconds of play, starts a due autosave, shows finished ones.

        Returns 2 if this frame took a snapshot, 1 if a write is running on the saver
        thread, else 0 (for the frame log).
        """
        autosave = self.autosave
        if autosave is None:
            return 0
        started = autosave.play(play)
        for info in autosave.poll():
            # One state on screen: a good save ends the failure's notice, a failure the badge.
            if info.ok:
                self.renderer.flash_saved()
                self.renderer.notices = [n for n in self.renderer.notices
                                         if n[0] != self._failure_told]
                self._failure_told = None
                continue
            self.renderer.flash_saved(0.0)
            if info.message != self._failure_told:
                self._tell(info.message)
                self._failure_told = info.message
            else:  # the same problem again (every autosave): on screen, not the terminal
                self.renderer.notice(info.message, NOTICE_S)
        if started:
            return 2
        return 1 if autosave.busy else 0

    def _tell(self, line: str, seconds: float = NOTICE_S) -> None:
        """A one-line message in the terminal and, briefly, on screen."""
        print(f"gravity-flyer: {line}", file=sys.stderr, flush=True)
        self.renderer.notice(line, seconds)

    def _handle_events(self, ev: dict[str, int]) -> None:
        s = self.session
        if s.score < self._last_score or s.score == 0:  # a new run
            if self._best_toasted:  # the praise belongs to the run that ended
                self.renderer.unsay(*BEST_TOASTS.values())
            self._best_toasted = False
        self._last_score = s.score
        # At fast-forward a best and the next run can fall in one frame: praise only a run
        # that still holds the best.
        if ev["best"] and not self._best_toasted and s.best > 1 and s.score >= s.best:
            self._best_toasted = True
            self.renderer.say(BEST_TOASTS[s.run_kind])
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
        state["persistence"] = None if self.autosave is None else self.autosave.summary()
        state["learner_source"] = self.learner_source
        state["notices"] = self.renderer.notices_shown()
        state["saved_flash"] = self.renderer.saved_flash_live()
        state["toast"] = self.renderer.toast_text if self.renderer.toast_live() else None
        state["final_saves"] = [{"ok": bool(i.ok), "message": i.message,
                                 "generation": i.generation} for i in self.final_saves]
        path = Path(self.state_path)
        tmp = path.with_name(path.name + ".part")
        try:
            tmp.write_text(json.dumps(state))
            os.replace(tmp, path)
        except OSError as exc:  # a test variable must not crash the frame loop: say it once
            print(f"gravity-flyer: {STATE_ENV}: cannot write {path} ({exc.strerror or exc}); "
                  "no more state is written", file=sys.stderr, flush=True)
            self.state_path = None

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
        if self.state_path:
            self._write_state()
        log_path = os.environ.get(FRAME_LOG_ENV)
        if log_path and self.frame_log is not None:
            cols = list(zip(*self.frame_log, strict=True)) if self.frame_log else [[]] * 7
            Path(log_path).write_text(json.dumps({
                "start": cols[0], "interval": cols[1], "work": cols[2], "ticks": cols[3],
                "speed": cols[4], "sim": cols[5], "saving": cols[6]}))


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
    """Opens the window and plays until Esc; returns the process exit code.

    0 after Esc or closing the window, ``128 + signal`` after Ctrl-C (130) or SIGTERM
    (143); the learner is saved before the process ends in every one of these cases.
    """
    autosave_s = _autosave_interval()
    state_file = os.environ.get(STATE_ENV)
    if state_file and not Path(state_file).parent.is_dir():  # fail before the window opens
        raise CliError(f"{STATE_ENV}: the folder {Path(state_file).parent} does not exist")
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
        setup = _make_learner(args, data_dir)
    except BaseException:
        window.close()
        raise
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
        app.renderer.say(scores.message, 6.0)
    for line in setup.messages:
        app.renderer.notice(line, NOTICE_S)
    if setup.resumed is not None:
        episodes, steps = setup.resumed
        app.renderer.say(f"Resumed: {episodes:,} episodes, {steps:,} steps", 5.0)

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
