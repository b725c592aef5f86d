"""The HUD panels: one class each, with a pure ``rows(state)`` and generic drawing.

Each panel reads what it shows into a small frozen state (``state_of``), turns
that into rows of (label, value) with a pure static ``rows`` (tested without a
window), and draws the rows with the widgets of ``game.ui.widgets``. pyglet is
imported only when a panel is built, so this module imports without a display.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from game.ui.controls import help_text
from game.ui.layout import SECTIONS, Rect
from game.ui.messages import fmt_count

Row = tuple[str, str]
SPARK_POINTS = 200
"""Most learning-curve points the sparkline shows (the latest ones)."""


def who(pilot: str) -> str:
    return "you" if pilot == "human" else "autopilot"


@dataclass(frozen=True)
class Sources:
    """The live objects the panels read from (the session, the frame stats, the saver)."""

    session: Any
    stats: dict[str, float]
    autosave: Any = None
    learner_source: str | None = None
    """'saved', 'pilot' or 'new': where the learner came from."""
    info_line: str = ""
    """Why the autopilot is unavailable, if it is."""


class Panel:
    """A box with an opaque background and a title; subclasses add rows."""

    title = ""

    def build(self, batch: Any, groups: list[Any]) -> None:
        from game.ui import widgets as w  # pyglet needs a display: imported only to draw

        self.bg = w.panel_bg(batch, groups[8])
        self.title_label = w.label(batch, groups[9], 13, color=w.ACCENT, bold=True)
        self.title_label.text = self.title
        self.parts: list[Any] = [self.bg, self.title_label]
        self.visible = True

    def place(self, r: Rect) -> None:
        from game.ui import widgets as w

        w.move(self.bg, r.x, r.y)
        self.bg.width, self.bg.height = r.w, r.h
        w.move(self.title_label, r.x + 14, r.top - 30)

    def show(self, visible: bool) -> None:
        self.visible = visible
        for p in self.parts:
            p.visible = visible


# ---------------------------------------------------------------------- the game HUD
@dataclass(frozen=True)
class HudState:
    level: str
    score: int
    best: int
    best_of: str
    """Whose best is shown: the current run's kind."""
    stage: int
    rate: tuple[str, str]
    """The tick rate's row: ('Tick rate', '10 /s') or ('Game speed', '125%')."""
    speed: str
    pilot: str
    learning: bool | None
    """None: no learner."""


class HudPanel(Panel):
    """Level, score, best, stage, tick rate, speed, who flies, learning."""

    title = "GRAVITY FLYER"

    @staticmethod
    def state_of(src: Sources) -> HudState:
        s = src.session
        learner = s.learner
        return HudState(s.level, s.score, s.scoring.best, s.scoring.kind, s.stage,
                        s.pace.label(), s.pace.shown(), s.pilot,
                        None if learner is None else bool(learner.learn_enabled))

    @staticmethod
    def rows(st: HudState) -> list[Row]:
        learning = "—" if st.learning is None else ("on" if st.learning else "off")
        return [("Level", st.level),
                ("Score", str(st.score)),
                (f"Best ({who(st.best_of)})", str(st.best)),
                ("Stage", str(st.stage)),
                st.rate,
                ("Speed", st.speed),
                ("Flying", who(st.pilot)),
                ("Learning", learning)]

    SCORE_ROW = 1
    SPACING = 24

    def build(self, batch: Any, groups: list[Any]) -> None:
        from game.ui import widgets as w

        super().build(batch, groups)
        self.table = w.Rows(batch, groups[9], self.SPACING, size=11)
        # The score has a one-line label of its own, set every frame: at max speed the
        # table re-lays out only a few times a second and would lag the big score.
        self.score_value = w.label(batch, groups[9], 11.5, bold=True, anchor_x="right")
        self.parts += [*self.table.parts, self.score_value]

    def place(self, r: Rect) -> None:
        from game.ui import widgets as w

        super().place(r)
        y = r.top - 64
        self.table.place(r.x + 14, y, r.w - 28)
        w.move(self.score_value, r.right - 14, y - self.SCORE_ROW * self.SPACING)

    def refresh(self, src: Sources) -> None:
        rows = self.rows(self.state_of(src))
        name, value = rows[self.SCORE_ROW]
        rows[self.SCORE_ROW] = (name, "")
        self.table.set(rows)
        self.show_score(value)

    def show_score(self, text: str) -> None:
        from game.ui.widgets import set_text

        set_text(self.score_value, text)


# ---------------------------------------------------------------------- FPS
class FpsPanel(Panel):
    """Frame interval and work time p50/p99, env steps/s, gradient steps/s."""

    @staticmethod
    def state_of(src: Sources) -> dict[str, float]:
        return dict(src.stats)

    @staticmethod
    def rows(stats: dict[str, float]) -> list[Row]:
        g = stats.get
        return [("FPS", f"{g('fps', 0):.0f}"),
                ("ms", "p50 | p99"),
                ("Frame", f"{g('int_p50', 0):.1f} | {g('int_p99', 0):.1f}"),
                ("Work", f"{g('work_p50', 0):.1f} | {g('work_p99', 0):.1f}"),
                ("Env steps/s", fmt_count(g("steps_per_s", 0))),
                ("Updates/s", fmt_count(g("updates_per_s", 0)))]

    def build(self, batch: Any, groups: list[Any]) -> None:
        from game.ui.widgets import Rows

        super().build(batch, groups)
        self.table = Rows(batch, groups[9], 21)
        self.parts += self.table.parts

    def place(self, r: Rect) -> None:
        super().place(r)
        self.table.place(r.x + 14, r.top - 28, r.w - 28)

    def refresh(self, src: Sources) -> None:
        self.table.set(self.rows(self.state_of(src)))


# ---------------------------------------------------------------------- help
class HelpPanel(Panel):
    """The controls, from the one controls table."""

    def build(self, batch: Any, groups: list[Any]) -> None:
        from game.ui import widgets as w

        super().build(batch, groups)
        self.text = w.label(batch, groups[9], 9.5, color=w.DIM, multiline=True, width=190,
                            anchor_y="top")
        self.text.text = help_text()
        self.parts.append(self.text)

    def place(self, r: Rect) -> None:
        from game.ui import widgets as w

        super().place(r)
        self.text.width = r.w - 24
        w.move(self.text, r.x + 12, r.top - 12)

    def refresh(self, src: Sources) -> None:
        pass


# ---------------------------------------------------------------------- memory on disk
@dataclass(frozen=True)
class DiskState:
    saving: bool
    """False: no data folder, nothing is saved."""
    resumed: tuple[int, int] | None = None
    loaded_generation: int | None = None
    from_pilot: bool = False
    last_failed: bool = False
    busy: bool = False
    seconds_since_save: float | None = None


class DiskPanel:
    """Where the learner came from and when it was last saved (inside the learn panel)."""

    title = "MEMORY ON DISK"

    @staticmethod
    def state_of(src: Sources) -> DiskState:
        a = src.autosave
        if a is None:
            return DiskState(saving=False)
        return DiskState(True, a.resumed, a.loaded_generation, src.learner_source == "pilot",
                         a.last is not None and not a.last.ok, bool(a.busy),
                         a.seconds_since_save())

    @staticmethod
    def rows(st: DiskState) -> list[Row]:
        if not st.saving:
            return [("Saving", "off"), ("", ""), ("", ""), ("", "")]
        if st.resumed is None:
            carried = [("Started", "pilot file" if st.from_pilot else "new learner"),
                       ("  carried over", "nothing")]
        else:
            episodes, steps = st.resumed
            carried = [("Resumed from", f"save {st.loaded_generation}"),
                       ("  episodes", fmt_count(episodes)), ("  env steps", fmt_count(steps))]
        ago = st.seconds_since_save
        if st.last_failed:
            last = "failed"
        elif st.busy:
            last = "saving…"
        elif ago is None:
            last = "not yet"
        elif ago < 90:
            last = f"{ago:.0f} s ago"
        else:
            last = f"{ago / 60:.0f} min ago"
        rows = [*carried, ("Last save", last)]
        return rows + [("", "")] * (4 - len(rows))


# ---------------------------------------------------------------------- watch it learn
@dataclass(frozen=True)
class LearnState:
    available: bool
    info_line: str = ""
    pilot: str = "human"
    learn_enabled: bool = False
    epsilon: float = 0.0
    q: tuple[float, float] = (0.0, 0.0)
    loss: float | None = None
    memory_size: int = 0
    memory_capacity: int = 0
    memory_human: int = 0
    episodes: int = 0
    env_steps: int = 0
    recent: tuple[float, ...] = ()
    """Scores of the latest episodes."""
    streak: bool = False
    """Episodes score 0 or 1 (classic): shown as a success rate."""
    skill: float | None = None
    """The skill meter's latest reading (``game.play.skill.SkillMeter``), or None before it."""
    figure_name: str = "score/oracle"
    """What the skill figure is (the level's ``figure_name``)."""


class LearnPanel(Panel):
    """Who flies, epsilon, the Q-values, loss, memory, episodes and the learning curve."""

    title = "WATCH IT LEARN"
    SECTIONS = SECTIONS  # the layout's (learn_view draws the same blocks)
    """Rows in each block: top, Q-values, memory, episodes and skill."""

    @staticmethod
    def state_of(src: Sources) -> LearnState:
        s = src.session
        lr = s.learner
        if lr is None:
            return LearnState(False, src.info_line)
        q = np.asarray(lr.q_values(s.obs), dtype=float)
        mem = lr.memory
        return LearnState(
            True, src.info_line, s.pilot, bool(lr.learn_enabled), float(lr.epsilon),
            (float(q[0]), float(q[1])), lr.last_loss, int(mem.size), int(mem.capacity),
            int(mem.human_count), int(lr.episodes), int(lr.env_steps),
            tuple(lr.recent_scores), s.spec.streak,
            None if s.skill is None else s.skill.latest, s.spec.figure_name)

    @staticmethod
    def rows(st: LearnState) -> list[Row]:
        if not st.available:
            return [(st.info_line or "autopilot unavailable", "")]
        eps = f"{st.epsilon:.3f}" if st.learn_enabled else "greedy"
        recent = st.recent
        if st.streak:
            perf = ("Success (last 100)",
                    f"{100 * sum(recent) / len(recent):.0f}%" if recent else "—")
        else:  # an episode is a life: a flock's flyers explore, and a life ends at a crash
            perf = ("Gates/life (last 100)",
                    f"{sum(recent) / len(recent):.1f}" if recent else "—")
        size, human = st.memory_size, st.memory_human
        return [("Flying", who(st.pilot)), ("Epsilon", eps),
                ("Q FALL", f"{st.q[0]:+.3f}"), ("Q JUMP", f"{st.q[1]:+.3f}"),
                ("Loss", "—" if st.loss is None else f"{st.loss:.4f}"),
                ("Memory", f"{fmt_count(size)} / {fmt_count(st.memory_capacity)}"),
                ("  you | pilot", f"{fmt_count(human)} | {fmt_count(size - human)}"),
                ("Episodes", fmt_count(st.episodes)), ("Env steps", fmt_count(st.env_steps)),
                perf, (f"Skill ({st.figure_name})",
                       "…" if st.skill is None else f"{st.skill:.2f}")]

    @staticmethod
    def curve_points(curve: list, streak: bool) -> tuple[np.ndarray, np.ndarray, float]:
        """The latest ``SPARK_POINTS`` of the curve as (env steps, scores), and its scale's top.

        Args:
            curve: (env step, score) points of the learning curve.
            streak: scores are 0 or 1 (classic): the scale is fixed at 1.
        """
        if len(curve) < 2:
            return np.zeros(0), np.zeros(0), 1.0
        pts = np.asarray(curve[-SPARK_POINTS:], dtype=float)
        top = 1.0 if streak else max(1.0, float(pts[:, 1].max()))
        return pts[:, 0], pts[:, 1], top

    def build(self, batch: Any, groups: list[Any]) -> None:
        from game.ui.hud.learn_view import LearnDrawing

        super().build(batch, groups)
        self.drawing = LearnDrawing(batch, groups)
        self.parts += self.drawing.parts

    def place(self, r: Rect) -> None:
        super().place(r)
        self.drawing.place(r)

    def sections(self) -> list[Any]:
        """The refresh, in parts cheap enough for one frame each."""
        return [self._refresh_learner, self._refresh_disk, self._refresh_curve]

    def refresh(self, src: Sources) -> None:
        for part in self.sections():
            part(src)

    def _refresh_learner(self, src: Sources) -> None:
        st = self.state_of(src)
        self.drawing.show_rows(self.rows(st), st)

    def _refresh_disk(self, src: Sources) -> None:
        self.drawing.show_disk(DiskPanel.rows(DiskPanel.state_of(src)))

    def _refresh_curve(self, src: Sources) -> None:
        lr = src.session.learner
        if lr is None:
            return
        curve = lr.curve
        key = (len(curve), curve[-1] if curve else None)
        if key == self.drawing.spark_key:
            return
        self.drawing.spark_key = key
        streak = src.session.spec.streak
        self.drawing.show_curve(*self.curve_points(list(curve), streak), streak=streak)
