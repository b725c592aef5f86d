"""The game screen: a session, its learner's autosave, the renderer and the game's commands.

The window (``game.ui.app.App``) gives this view the frames and the commands the
controls table maps keys, clicks and controller buttons to; the view runs the
session's ticks, turns its events into sounds and messages, and draws.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ai.process.remote import MAX_IN_FLIGHT, PACED_IN_FLIGHT
from game.play.events import Crashed, Event, Jumped, Scored
from game.play.phases import Phase
from game.play.session import Session
from game.ui.controls import CONTROLS, SPEED_INDEX, Command
from game.ui.messages import Messages
from game.ui.pacing import FlipLearner, FramePacer
from game.ui.report import session_state
from game.ui.view import Frame, View
from game.wiring.autosave import Autosave

FINAL_SAVE_TIMEOUT_S = 30.0
"""How long quitting waits for the last save to reach the disk."""
SCORE_SAVE_S = 5.0
"""How often a changed best score is written (and always at exit)."""
MAX_SPEED_MARGIN_S = 0.002
"""After its flip a frame flies and learns (max speed) or pays the flock's gradient steps
(1x-16x) until this long before the next frame is due (a decision of 64 flyers with its
gradient steps takes up to ~2 ms)."""


class Keeper:
    """What the game view saves: the learner's autosaves (their messages and, once, their
    failures on the terminal), the best scores every few seconds, and the last saves at exit.

    Args:
        autosave: saves the learner, or None.
        scores: the best scores.
        messages: the view's on-screen messages.
    """

    def __init__(self, autosave: Autosave | None, scores: Any, messages: Messages) -> None:
        self.autosave = autosave
        self.scores = scores
        self.messages = messages
        self.final_saves: list[Any] = []
        """The last saves at exit (``Autosave.close``'s infos)."""
        self._failure_told: str | None = None
        self._score_due = 0.0

    def snapshot_due_s(self, play: float) -> float:
        """An autosave's snapshot this frame will take after ``play`` more seconds: its
        estimated seconds (the tick budget leaves room for it), else 0."""
        a = self.autosave
        return a.snapshot_estimate_s() if a is not None and a.due(play) else 0.0

    def after_flip(self, play: float) -> int:
        """Counts ``play`` seconds of play, starts a due autosave, shows finished ones, and
        saves changed best scores every ``SCORE_SAVE_S``.

        Returns 2 if this frame took a snapshot, 1 if a write is running on the saver
        thread, else 0 (for the frame log).
        """
        if time.perf_counter() >= self._score_due:
            self._score_due = time.perf_counter() + SCORE_SAVE_S
            self.save_scores()
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

    def save_scores(self) -> None:
        try:
            self.scores.save()
        except OSError as exc:
            self.scores.dirty = False  # say it once, not every 5 s
            line = f"could not save best scores ({exc.strerror or exc})"
            print(f"gravity-flyer: {line}", file=sys.stderr)
            self.messages.say(line, 5.0)

    def close(self) -> None:
        """The learner's last save (waited for, up to a timeout), then the scores."""
        if self.autosave is not None:
            self.final_saves = self.autosave.close(FINAL_SAVE_TIMEOUT_S)
            for info in self.final_saves:
                print(f"gravity-flyer: {info.message}", file=sys.stderr, flush=True)
            if self.autosave.unfinished:
                print(f"gravity-flyer: the last save did not finish within "
                      f"{FINAL_SAVE_TIMEOUT_S:.0f} s; the previous save is kept",
                      file=sys.stderr, flush=True)
        self.save_scores()

    def state(self) -> dict[str, Any]:
        return {"persistence": None if self.autosave is None else self.autosave.summary(),
                "final_saves": [{"ok": bool(i.ok), "message": i.message,
                                 "generation": i.generation} for i in self.final_saves]}


class GameCommands:
    """The game's commands (keys, clicks, controller buttons) and what the view says of them.

    Args:
        view: the game view (its session, renderer, overlay and messages).
    """

    def __init__(self, view: GameView) -> None:
        self.view = view
        session = view.session
        self._short_told: tuple[int, float] | None = None
        """The speed whose shortfall was last explained (said once per speed chosen)."""
        self.table: dict[Command, Callable[[], Any]] = {
            Command.JUMP: self._jump,
            Command.TOGGLE_PILOT: self._toggle_pilot,
            Command.TOGGLE_LEARNING: self._toggle_learning,
            Command.LEARN_PANEL: lambda: self._panel(view.renderer.toggle_learn_panel),
            Command.FPS_PANEL: lambda: self._panel(view.renderer.toggle_fps_panel),
            Command.THINK: self._toggle_think,
            Command.PAUSE: session.pausing.toggle, Command.RESTART: self._restart,
            Command.FASTER: lambda: self._rate(session.pace.faster),
            Command.SLOWER: lambda: self._rate(session.pace.slower),
            **{c: (lambda i=i: self._speed(i)) for c, i in SPEED_INDEX.items()},
        }

    def _jump(self) -> None:
        s = self.view.session
        if s.pilot == "autopilot" and not s.paused and s.phase is Phase.FLYING:
            self.view.say("The autopilot has the controls — press A to take them")
        s.press_jump()

    def _unavailable(self) -> None:
        self.view.say(self.view.renderer.info_line or "The autopilot is not available")

    def _toggle_pilot(self) -> None:
        try:
            who = self.view.session.toggle_pilot()
        except RuntimeError:
            self._unavailable()
        else:
            self.view.say("Autopilot flying" if who == "autopilot" else "You have the controls")

    def _toggle_learning(self) -> None:
        try:
            on = self.view.session.pilots.toggle_learning()
        except RuntimeError:
            self._unavailable()
        else:
            self.view.say("Learning on" if on else "Learning off")

    def _panel(self, toggle: Callable[[], bool]) -> None:
        if not toggle():
            self.view.say("No room for the panel: widen or enlarge the window")

    def _toggle_think(self) -> None:
        on = self.view.think.toggle()
        self.view.say("Watching it think" if on else "Thinking hidden")

    def _restart(self) -> None:
        self.view.session.restart()
        self.view.say("Restarted")

    def _speed(self, index: int) -> None:
        self.view.session.pace.set_index(index)
        self.view.say(f"Speed {self.view.session.pace.name}")

    def tell_shortfall(self) -> None:
        """Once per speed chosen: why the speed asked for is not reached (the HUD says what is)."""
        pace = self.view.session.pace
        key = (pace.index, pace.tick_rate)
        if (not pace.short() or key == self._short_told or pace.gauge.seconds < pace.gauge.window_s
                or self.view.child_starting
                or pace.gauge.flown_s - self.view.handed_at_s < pace.gauge.window_s):
            return  # (a whole window of frames first: the first frames after a load are slow)
        self._short_told = key
        learner = self.view.session.learner
        learning = learner is not None and learner.learn_enabled
        reached = pace.shown().split("(")[1][:-1]
        why = ("flying and learning fill every frame (L turns learning off)" if learning
               else "drawing and flying fill every frame")
        print(f"gravity-flyer: {pace.name} runs at {reached} here: {why}", file=sys.stderr,
              flush=True)
        self.view.say(f"{pace.name} runs at {reached}" + (" (L: learning off)" if learning else ""),
                 5.0)

    def _rate(self, change: Callable[[], float]) -> None:
        change()
        name, value = self.view.session.pace.label()
        self.view.say(f"{name} {value}")


class GameView(View):
    """One level being played.

    Args:
        window: the pyglet window.
        session: the game.
        scores: the best scores (saved every few seconds and at exit).
        sounds: the game's sounds (shared with the window: mute is global).
        assets: the folder of images.
        info: why the autopilot is unavailable, if it is.
        autosave: saves the learner, or None.
    """

    name = "game"
    controls = CONTROLS

    def __init__(self, window: Any, session: Session, scores: Any, sounds: Any, assets: Path,
                 info: str | None = None, autosave: Autosave | None = None) -> None:
        from game.ui.render import Renderer
        from game.ui.think_view import ThinkView

        self.window = window
        self.session = session
        self.scores = scores
        self.sounds = sounds
        self.autosave = autosave
        self.messages = Messages()
        self.renderer = Renderer(window, assets, hasattr(session.world, "course"),
                                 self.messages, flock=session.flock is not None)
        self.renderer.info_line = info or ""
        self.renderer.autosave = autosave
        r = self.renderer
        self.think = ThinkView(r.batch, r.groups, hasattr(session.world, "course"))
        """V: the "watch it think" overlay."""
        self.keeper = Keeper(autosave, scores, self.messages)
        self.flip_learner = (FlipLearner(session.flock.pay_one)
                             if session.flock is not None and session.flock.in_slack else None)
        """Learns on a second core while the frame is drawn (the flock's owed steps), until
        the learner's child process (``ai.process.remote``) is ready."""
        self.remote: Any = None
        """The learner's child process for its gradient steps, or None."""
        self.learn_elsewhere: Callable[[], Any] | None = None
        """Starts that child at the first frame (``game.ui.app``); returns it or None."""
        self.learner_source: str | None = None
        """'saved' (resumed), 'pilot' (fresh, from --autopilot) or 'new'; None: no learner."""
        self.commands = GameCommands(self)
        self._learning_there = False
        self.handed_at_s = 0.0
        """The speed gauge's flying seconds when the learner's child took the steps."""

    @property
    def child_starting(self) -> bool:
        """The learner's child process is starting: until it takes the gradient steps they
        run in this process, and the speed reached then says nothing of the rest."""
        remote = self.remote
        return self.learn_elsewhere is not None or (
            remote is not None and not remote.attached and remote.failed is None)

    def say(self, text: str, seconds: float = 2.5) -> None:
        self.messages.say(text, seconds)

    @property
    def env_steps(self) -> int:
        return self.session.env_steps

    @property
    def updates(self) -> int:
        return int(getattr(self.session.learner, "updates", 0))

    @property
    def think_on(self) -> bool | None:
        return self.think.on

    def shown(self, think: bool) -> None:
        if think and not self.think.on:
            self.think.toggle()  # the overlay was on when the player last left

    def click(self, x: float, y: float) -> Command | None:
        return Command.JUMP

    def controller(self, what: str) -> Command | None:
        return {"jump": Command.JUMP, "pause": Command.PAUSE}.get(what)

    # ------------------------------------------------------------------ commands
    def command(self, command: Command) -> bool:
        """Runs a command; False if this view has no use for it."""
        handler = self.commands.table.get(command)
        if handler is None:
            return False
        handler()
        return True

    # ------------------------------------------------------------------ window events
    def focus(self, gained: bool) -> None:
        if gained:
            self.session.pausing.focus_gained()
        else:
            self.session.pausing.focus_lost()

    def hidden(self) -> None:
        self.session.pausing.hidden()

    def resize(self, width: int, height: int) -> None:
        self.renderer.resize(width, height)

    def draw(self) -> None:
        self.renderer.draw()

    # ------------------------------------------------------------------ the frame
    def frame(self, start: float, interval: float, pacer: FramePacer, stats: dict[str, float],
              visible: bool) -> Frame:
        """Ticks due, events, HUD, draw, autosave."""
        s = self.session
        if self.learn_elsewhere is not None:
            self.remote, self.learn_elsewhere = self.learn_elsewhere(), None
        if self.remote is not None:
            self._poll_remote()
        flying = s.phase is Phase.FLYING and not s.paused
        refresh = self.renderer.refresh_due(start + 0.010)  # due by the draw?
        play = 0.0 if s.paused else min(interval, s.config.max_frame_dt)
        snapshot_s = self.keeper.snapshot_due_s(play)
        # Fast-forward (4x, 16x) and max get max's share of the frame: 16 ticks of a learning
        # flock do not fit in what a 1x frame leaves after a software-GL draw.
        s.clock.work_budget_s = pacer.sim_budget(refresh, snapshot_s,
                                                 top=s.pace.multiplier != 1)
        s.advance(interval)
        sim_end = time.perf_counter()
        self._handle_events(s.take_events())
        self.commands.tell_shortfall()
        view = s.view()
        flipped = 0.0
        if visible:
            self.renderer.update(s, view, stats)
            self.think.update(s, view, self.renderer.layout)
            self._draw(interval)
            flipped = time.perf_counter()
        pacer.drew(refresh, time.perf_counter() - sim_end)
        # After the flip: a snapshot uses the frame's slack instead of delaying what is shown.
        saving = self.keeper.after_flip(play)
        if s.skill is not None and not s.paused:
            s.skill.maybe_measure(s.learner)  # its reading runs on the meter's own thread
        ticks, sim_s = s.last_ticks, sim_end - start
        if s.pace.multiplier is not None and not saving:
            # 1x-16x: what is left of the frame after the flip pays the flock's gradient
            # steps ahead of the ticks that owe them
            t0 = time.perf_counter()
            if s.learn_for(pacer.next_due() - MAX_SPEED_MARGIN_S - t0):
                sim_s += time.perf_counter() - t0
        elif s.pace.multiplier is None and not s.paused and not saving:
            # Max speed: what is left of the frame after the flip goes to flying and learning
            # too (the tick budget before the draw had to allow for a slow draw).
            t0 = time.perf_counter()
            left = pacer.next_due() - MAX_SPEED_MARGIN_S - t0
            if left > 0:
                s.clock.work_budget_s = left
                s.advance(0.0)
                ticks += s.last_ticks
                sim_s += time.perf_counter() - t0
                # their events now, not at the next frame: the state file is written before
                # it, and read a new run's score beside the last run's praise
                self._handle_events(s.take_events())
        return Frame(ticks, s.pace.name, sim_s, saving, view.y if visible else None,
                     flipped, flying)

    def _poll_remote(self) -> None:
        """The child's weights taken in; once it learns, the ticks hand it their steps (each
        one a message, nothing left to pay as the frame is drawn)."""
        self.remote.poll()
        if self.remote.attached and not self._learning_there:
            # its first frame: a shortfall is told only of the frames after it (the frames
            # before took the steps in this process, while the child's import held the other
            # core); the HUD goes on showing what the gauge measures
            self.handed_at_s = self.session.pace.gauge.flown_s
        self._learning_there = self.remote.attached
        paced = self.session.pace.multiplier is not None
        self.remote.max_in_flight = PACED_IN_FLIGHT if paced else MAX_IN_FLIGHT
        flock = self.session.flock
        if self.remote.attached and flock is not None and flock.in_slack:
            flock.in_slack = False
            if self.flip_learner is not None:
                self.flip_learner.stop()
                self.flip_learner = None

    def _draw(self, interval: float) -> None:
        """Draws and flips, the flock learning on the worker meanwhile (not while paused)."""
        worker = None if self.session.paused else self.flip_learner
        if worker is not None:
            worker.open()
        try:
            self.window.draw(interval)
        finally:
            if worker is not None:
                worker.close()

    def _handle_events(self, events: list[Event]) -> None:
        self.messages.handle(events)
        error = self.sounds.take_error()
        if error:
            print(f"gravity-flyer: {error}", file=sys.stderr, flush=True)
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

    def state(self) -> dict[str, Any]:
        """What the state file shows of the game."""
        state = session_state(self.session)
        r = self.renderer
        state.update(learn_panel=r.show_learn, fps_panel=r.show_fps,
                     panels_folded=r.layout.folded, status_line=r.overlay.status_shown,
                     hint=r.overlay.hint_shown,
                     think=self.think.on,
                     think_dots=self.think.drawn)
        learner = self.session.learner
        if learner is not None:
            state.update(env_steps=int(learner.env_steps), episodes=int(learner.episodes),
                         epsilon=float(learner.epsilon), updates=self.updates)
        remote = self.remote
        state["learner_process"] = (None if remote is None else "learning" if remote.attached
                                    else remote.failed or "starting")
        state["learner_steps_in_flight"] = None if remote is None else remote.in_flight
        m = self.messages
        state.update(learner_source=self.learner_source, notices=m.notices_shown(),
                     saved_flash=m.saved_flash(), toast=m.toast(), praises=m.praises,
                     **self.keeper.state())
        return state

    def finish(self) -> None:
        """After the loop: the learner's last save (waited for, up to a timeout), the scores."""
        if self.flip_learner is not None:
            self.flip_learner.stop()
        close = getattr(None if self.session.skill is None else self.session.skill.meter,
                        "close", None)
        if close is not None:
            close()  # the skill meter's process
        self.keeper.close()
        if self.remote is not None:
            self.remote.close()  # after the last save, which took the child's weights
