"""The lab on screen: the teams' flocks on the field, each in its colour, and the chart beside it.

The view owns a ``game.play.lab.Lab`` and paces it as the game paces its session: at 1x, 4x
and 16x whole physics ticks from the frame's time (``Lab.tick``, the flocks' decisions played
back tick by tick), at max whole decisions of every team until the frame's work budget is
spent (``Lab.decide``). Skill readings run in the skill meter's child process, one team at a
time (``Lab.poll``), so a reading never holds up a frame.

The field follows one team (TAB cycles): its course's walls, its leader solid in its colour,
and the V overlay's paths for that leader. Another team's flyers are drawn when they fly the
same course on the same crossing (arcade), where the walls on screen are theirs too; on
classic every team is drawn. T cycles the line-ups (``game.wiring.lab_teams.LINEUPS``), R
restarts the line-up with fresh learners.

The person races too: SPACE (at 1x to 16x) starts a run of their own, solid orange, and every
team sets off with them on that run's course (``FlockPlay.restart_on``, as the game's flock
races the person); SPACE then jumps on the next tick, as in the game. The person's flights
teach no team (their runs: ``game.ui.lab.race``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pyglet.graphics import Batch, Group

from game.play.flock_play import FlockPlay
from game.play.lab import MAX_TEAMS, Lab
from game.play.phases import Phase
from game.play.speed import SPEED_NAMES, SPEEDS
from game.sim.levels import CourseLevel, Level
from game.sim.raster import FLOCK_OPACITY
from game.ui.controls import LAB_CONTROLS, SPEED_INDEX, Command
from game.ui.flock_view import FlockSprites
from game.ui.hud.lab_panel import LabPanel, lab_layout, state_of
from game.ui.lab.elsewhere import TeamsElsewhere
from game.ui.lab.race import Race
from game.ui.pacing import FRAME_HZ
from game.ui.render import MARGIN_BG
from game.ui.scene import Scene
from game.ui.think_view import ThinkView
from game.ui.view import Frame, View
from game.wiring.lab_teams import LINEUPS, TEAMS, lineup

PANEL_REFRESH_S = 0.25
"""Seconds between refreshes of the panel's texts and chart."""
MAX_CATCH_UP_S = 0.1
"""A long frame is played as at most this much time (the rest is dropped, as in the game)."""


LEARN_BESIDE: dict[str, bool] = {"arcade": True, "classic": False}
"""Where the teams learn in the window's process (until the learner's child process is ready,
if it fails, or with ``GRAVITY_FLYER_LEARNER_PROCESS=0``: ``TeamsElsewhere``): levels whose lab
learns on a worker thread beside the frames (``game.play.lab.DebtWorker``) instead of in each
frame's spare time. Arcade's four teams owe more gradient steps than the frames leave time
for; classic owes about half as much, which the spare time pays, and there the worker's steps
slowed the software rasteriser's flip more than they saved (measured with an earlier
``bench/lab_window.py``)."""


class _Following:
    """The followed team as the V overlay's session: its flock flies, its learner thinks."""

    phase = Phase.FLYING
    flocking = True

    def __init__(self, play: FlockPlay, learner: Any, alpha: float) -> None:
        self.flock = play
        self.learner = learner
        self.world = play.course() or play.flock.batch
        self._alpha = alpha

    def view(self) -> Any:
        return self.flock.focus_view(self._alpha, Phase.FLYING)


class LabView(View):
    """The lesson lab in the window.

    Args:
        window: the pyglet window.
        level: the level the teams fly.
        assets: the folder of images.
        seed: seeds every lab (learners, flocks, courses).
        flock: flyers in all, shared by the teams.
        meter: the skill meter (``game.play.skill_process.SkillProcess``), or None for one in
            this process (``SkillMeter``).
        lineup_index: the first line-up (``LINEUPS``).
    """

    name = "lab"
    controls = LAB_CONTROLS

    def __init__(self, window: Any, level: Level, assets: Path, seed: int = 0, flock: int = 64,
                 meter: Any = None, lineup_index: int = 0) -> None:
        from pyglet import gl

        from game.play.skill import SkillMeter

        self.window = window
        self.level = level
        self.seed = int(seed)
        self.flock_n = int(flock)
        self.meter = meter if meter is not None else SkillMeter(level)
        self.lineup_index = lineup_index % len(LINEUPS)
        self.batch = Batch()
        self.groups = [Group(order=i) for i in range(12)]
        self.courses = isinstance(level, CourseLevel)
        self.scene = Scene(window, self.batch, self.groups, assets, self.courses)
        self.scene.flock.update(None, lab_layout(window.width, window.height), None)
        self.sprites = [FlockSprites(self.scene.flyer.image, self.batch, self.groups[3])
                        for _ in range(MAX_TEAMS)]
        self._tints: list[tuple] = [()] * MAX_TEAMS
        self.panel = LabPanel()
        self.panel.build(self.batch, self.groups, MAX_TEAMS)
        self.think = ThinkView(self.batch, self.groups, self.courses)
        import pyglet

        self.race = Race(level, self.seed, pyglet.sprite.Sprite(
            self.scene.flyer.image, batch=self.batch, group=self.groups[4]))
        """The person's own runs (``game.ui.lab.race``)."""
        self.speed_index = 0
        self.paused = False
        self._paused_by_focus = False
        self.following = 0
        self.acc = 0.0
        self.alpha = 1.0
        self.dropped_ticks = 0
        self._panel_due = 0.0
        self.layout = lab_layout(window.width, window.height)
        self.child = TeamsElsewhere(LEARN_BESIDE.get(level.name, False))
        """The teams' gradient steps in the learner's child process (``game.ui.app`` sets its
        ``start``), or beside the frames until it is ready or if it fails."""
        gl.glClearColor(*(c / 255 for c in MARGIN_BG), 1.0)
        self.lab = self._new_lab()
        self.resize(window.width, window.height)

    # ---- the lab ----------------------------------------------------------------------------

    @property
    def keys(self) -> tuple[str, ...]:
        return LINEUPS[self.lineup_index]

    def _new_lab(self) -> Lab:
        """A fresh lab of the current line-up (fresh learners, the same seed)."""
        if hasattr(self, "lab"):  # the old lab's worker stops before the new one starts
            self.child.leave(self.lab)
            self.lab.stop_worker()
        lab = Lab(self.level, lineup(self.keys, self.level, self.seed), flock=self.flock_n,
                  seed=self.seed, stagger=True)
        self.child.join(lab)
        lab.set_top_speed(SPEEDS[self.speed_index] is None)
        self.following = min(self.following, len(lab.teams) - 1)
        self.acc = 0.0
        self._panel_due = 0.0
        for i, sp in enumerate(self.sprites):
            if i >= len(lab.teams):
                sp.update(None, self.layout, None)
        return lab

    def command(self, command: Command) -> bool:
        if command in SPEED_INDEX:
            self.speed_index = SPEED_INDEX[command]
            self.lab.set_top_speed(SPEEDS[self.speed_index] is None)
        elif command is Command.PAUSE:
            self.paused, self._paused_by_focus = not self.paused, False
        elif command is Command.LINEUP:
            self.lineup_index = (self.lineup_index + 1) % len(LINEUPS)
            self.lab = self._new_lab()
        elif command is Command.RESTART:
            self.lab = self._new_lab()
        elif command is Command.FOCUS_TEAM:
            self.following = (self.following + 1) % len(self.lab.teams)
            self.think.thinker.reset()
        elif command is Command.THINK:
            self.think.toggle()
        elif command is Command.JUMP:
            if SPEEDS[self.speed_index] is None or self.paused:
                return False
            self.race.press(self.lab)
        else:
            return False
        self._panel_due = 0.0
        return True

    # ---- window events ----------------------------------------------------------------------

    @property
    def updates(self) -> int:
        return sum(int(getattr(t.learner, "updates", 0)) for t in self.lab.teams)

    @property
    def env_steps(self) -> int:
        """Flyer decisions of every team (the FPS figures' steps/s)."""
        return sum(int(t.learner.env_steps) for t in self.lab.teams)

    def controller(self, what: str) -> Command | None:
        return Command.PAUSE if what == "pause" else None

    def focus(self, gained: bool) -> None:
        """Losing the focus pauses the lab, and the focus back resumes it, unless P paused it
        (it never bursts to catch up: a frame plays at most ``MAX_CATCH_UP_S``)."""
        if not gained and not self.paused:
            self.paused, self._paused_by_focus = True, True
        elif gained and self._paused_by_focus:
            self.paused, self._paused_by_focus = False, False

    def hidden(self) -> None:
        if not self.paused:
            self.paused, self._paused_by_focus = True, True

    def say(self, text: str, seconds: float = 3.0) -> None:
        """Messages (mute) go to the terminal: the lab has no toasts."""

    def resize(self, width: int, height: int) -> None:
        L = self.layout = lab_layout(width, height)
        self.scene.resize(L)
        for sp in self.sprites:
            sp.resize(self.scene.flyer.scale)
        self.panel.place(L.hud)
        self._panel_due = 0.0

    # ---- the frame --------------------------------------------------------------------------

    def frame(self, start: float, interval: float, pacer: Any, stats: dict[str, float],
              visible: bool) -> Frame:
        self.child.poll(self.lab)
        lab = self.lab
        mult = SPEEDS[self.speed_index]
        ticks = 0
        if not self.paused:
            budget_end = start + pacer.sim_budget(False, top=mult is None)
            if mult is None:
                while True:
                    lab.decide()
                    ticks += self.level.decision_ticks
                    if time.perf_counter() >= budget_end:
                        break
                self.alpha = 1.0
            else:
                self.acc += min(interval, MAX_CATCH_UP_S) * mult * self.level.ticks_per_second
                due = int(self.acc)
                self.acc -= due
                for k in range(due):
                    lab.tick()
                    self.race.tick()
                    ticks += 1
                    if mult > 1 and time.perf_counter() >= budget_end:
                        self.dropped_ticks += due - k - 1
                        break
                self.alpha = self.acc
                per_frame = mult * self.level.ticks_per_second / FRAME_HZ
                lab.pay_frame(budget_end - time.perf_counter(), (1.0 - self.acc) / per_frame,
                              1.0 / per_frame)
        if self.paused or mult is None:
            lab.pay_frame(0.0, None)
        sim_end = time.perf_counter()
        lab.poll(self.meter)
        flipped = 0.0
        if visible:
            with lab.drawing():  # the worker waits from here to the GL calls' end (``draw``)
                self._update_drawing()
                self.window.draw(interval)
            flipped = time.perf_counter()
        pacer.drew(False, time.perf_counter() - sim_end)
        return Frame(ticks, SPEED_NAMES[self.speed_index], sim_end - start, 0, None, flipped,
                     not self.paused)

    def _update_drawing(self) -> None:
        L, lab = self.layout, self.lab
        focus = lab.teams[self.following]
        fp = focus.play
        view = fp.focus_view(self.alpha, Phase.FLYING)
        self.scene.flyer_tint = focus.spec.colour
        world = fp.course() if self.courses else fp.flock.batch
        self.scene.update(world, view, L)
        where = _where(fp) if self.courses else None
        for i, team in enumerate(lab.teams):
            sp = self.sprites[i]
            same = not self.courses or _where(team.play) == where
            sp.update(team.play.flyers(self.alpha) if same else None, L,
                      fp.focus if i == self.following else None)
            tint = (sp.capacity, team.spec.colour)
            if sp.vertex_list is not None and self._tints[i] != tint:
                sp.vertex_list.colors[:] = (*team.spec.colour, FLOCK_OPACITY) * (4 * sp.capacity)
                self._tints[i] = tint
        self.think.update(_Following(fp, focus.learner, self.alpha), view, L)
        self.race.place(where, L, self.scene.flyer.scale, SPEEDS[self.speed_index] is not None)
        now = time.perf_counter()
        if now >= self._panel_due:
            self._panel_due = now + PANEL_REFRESH_S
            self._refresh_panel()

    def _refresh_panel(self) -> None:
        st = state_of(self.lab, SPEED_NAMES[self.speed_index], self.paused,
                      " vs ".join(TEAMS[k].spec.name for k in self.keys), self.following)
        self.panel.refresh(st, _keys_text())

    def draw(self) -> None:
        self.window.clear()
        self.scene.blit_background(self.layout)
        self.batch.draw()
        if self.lab.worker is not None:
            self.lab.worker.go()  # the flip runs in C without the GIL: the worker may learn

    # ---- the state file and the end ---------------------------------------------------------

    def state(self) -> dict[str, Any]:
        lab = self.lab
        return {"lab": {
            "level": self.level.name, "lineup": list(self.keys), "seconds": round(lab.seconds, 3),
            "speed": SPEED_NAMES[self.speed_index], "paused": self.paused,
            "following": lab.teams[self.following].spec.key, "think": self.think.on,
            "think_drawn": self.think.drawn, "dropped_ticks": self.dropped_ticks,
            "you": self.race.state(),
            "learner_process": self.child.status, "teams": _team_states(lab)}}

    def finish(self) -> None:
        self.lab.stop_worker()
        self.child.close()
        close = getattr(self.meter, "close", None)
        if close is not None:
            close()


def _where(play: FlockPlay) -> tuple[int, int]:
    """The course and crossing a team's leader flies (arcade)."""
    f = play.flock
    stage = play.focus_t() // int(play.physics.ticks_per_stage)
    return int(f.batch.course_seed[play.focus]), int(stage)


def _team_states(lab: Lab) -> list[dict[str, Any]]:
    """Each team's line of the state file."""
    return [{"key": t.spec.key, "name": t.spec.name, "colour": list(t.spec.colour),
             "skill": t.latest, "readings": len(t.readings), "env_steps": int(t.learner.env_steps),
             "alive": t.play.flock.alive_count} for t in lab.teams]


def _keys_text() -> str:
    return "   ".join(f"{c.brief or c.shown} {c.hint}" for c in LAB_CONTROLS)
