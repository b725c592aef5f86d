"""The flock's HUD panel: the course the flock is on, flyers in the air, how far the last
course went, and the main chart: the skill over time.

The figures say what they count in words a newcomer reads: a course is one attempt of the
whole flock at one course, "flying" the flyers in the air; "best" is the most gates a flyer
reached on the last course and "avg" the mean gates of a flyer's own first try there. The
chart is the skill meter's readings (score/oracle of the greedy pilot on held-out courses,
1 = the exact oracle) against the seconds since the game began, so it rises from the first
seconds.

As in ``game.ui.hud.panels``: a frozen state read from the session (``state_of``), pure rows
(``rows``) and chart points (``chart_points``), tested without a window, and generic drawing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from game.ui.hud.panels import Panel, Row, Sources
from game.ui.layout import Rect

CHART_GENERATIONS = 200
"""Finished generations the panel keeps (its "last" row reads the latest)."""
CHART_POINTS = 200
"""Skill readings the chart shows (the latest ones; one every few seconds)."""


def fmt_clock(seconds: float) -> str:
    """Seconds as m:ss (the chart's time since the game began)."""
    m, sec = divmod(int(seconds), 60)
    return f"{m}:{sec:02d}"


@dataclass(frozen=True)
class FlockState:
    """What the flock panel shows."""

    flyers: int
    generation: int
    alive: int
    best_now: float
    """The most gates any flyer has reached in this generation."""
    history: tuple[tuple[int, float, float], ...] = ()
    """``(generation, best, mean)`` of finished generations, oldest first."""
    unit: str = "gates"
    """What a score counts: gates (arcade) or successes (classic)."""
    skill: tuple[tuple[float, float], ...] = ()
    """``(seconds since the game began, figure)`` of the skill meter's readings."""
    figure_name: str = "score/oracle"


class FlockPanel(Panel):
    """Generation, alive, best and mean of the last finished generation, and their chart."""

    title = "THE FLOCK"

    @staticmethod
    def state_of(src: Sources) -> FlockState | None:
        fp = src.session.flock
        if fp is None:
            return None
        f = fp.flock
        skill = src.session.skill
        return FlockState(f.n, f.generation, f.alive_count, float(f.best),
                          tuple(list(f.history)[-CHART_GENERATIONS:]),
                          "gates" if f.courses else "success",
                          () if skill is None else tuple(skill.history()[-CHART_POINTS:]),
                          src.session.spec.figure_name)

    @staticmethod
    def rows(st: FlockState) -> list[Row]:
        last = st.history[-1] if st.history else None

        def num(v: float) -> str:
            return f"{v:.0%}" if st.unit == "success" else f"{v:.1f}".removesuffix(".0")

        done = "—" if last is None else f"{num(last[1])} | {num(last[2])}"
        return [("Course | flying", f"{st.generation:,} | {st.alive}/{st.flyers}"),
                ("Last: best | avg", done)]

    @staticmethod
    def chart_points(skill: tuple[tuple[float, float], ...]
                     ) -> tuple[np.ndarray, np.ndarray]:
        """``(seconds, figures)`` of the skill chart (the latest ``CHART_POINTS``); empty below
        two readings. The figure's scale is fixed: 0 to 1 (the oracle)."""
        if len(skill) < 2:
            z = np.zeros(0)
            return z, z
        h = np.asarray(skill[-CHART_POINTS:], dtype=float)
        return h[:, 0], h[:, 1]

    @staticmethod
    def chart_title(st: FlockState) -> str:
        """What the chart shows, above it."""
        if len(st.skill) < 2:
            return "skill: first readings…"
        t, figure = st.skill[-1]
        return f"skill {figure:.2f} {st.figure_name}, {fmt_clock(t)}"

    SPACING = 17
    LABEL_H = 13
    """Room above the chart for its label (the line never runs over it)."""

    def build(self, batch: Any, groups: list[Any]) -> None:
        from game.ui import widgets as w

        super().build(batch, groups)
        self.table = w.Rows(batch, groups[9], self.SPACING, size=10)
        self.chart_bg = w.rect(batch, groups[9], (30, 40, 58, 255))
        self.skill_line = w.Sparkline(CHART_POINTS, 2, w.ACCENT, batch, groups[10])
        self.chart_label = w.label(batch, groups[10], 8, color=w.DIM)
        self.parts += [*self.table.parts, self.chart_bg, self.skill_line, self.chart_label]
        self._key: tuple | None = None

    def place(self, r: Rect) -> None:
        from game.ui import widgets as w

        super().place(r)
        top = r.top - 47
        self.table.place(r.x + 14, top, r.w - 28)
        label_y = top - 2 * self.SPACING - self.LABEL_H + 2
        chart_top = label_y - 4
        self.chart = (r.x + 14, r.y + 8, r.w - 28, max(chart_top - r.y - 8, 8))
        x, y, cw, ch = self.chart
        w.place_rect(self.chart_bg, x, y, cw, ch)
        w.move(self.chart_label, x, label_y)  # its baseline above the chart's box
        self._key = None

    def refresh(self, src: Sources) -> None:
        from game.ui import widgets as w

        st = self.state_of(src)
        if st is None:
            return
        self.table.set(self.rows(st))
        key = (len(st.skill), st.skill[-1] if st.skill else None)
        if key == self._key:
            return
        self._key = key
        w.set_text(self.chart_label, self.chart_title(st))
        ts, figures = self.chart_points(st.skill)
        x, y, cw, ch = self.chart
        if ts.size < 2:
            self.skill_line.set(ts, ts)
            return
        xs = x + 2 + (ts - ts[0]) / max(ts[-1] - ts[0], 1e-6) * (cw - 4)
        self.skill_line.set(xs, y + 2 + np.clip(figures, 0, 1) * (ch - 4))

    def line_top(self) -> float:
        """The highest pixel the chart's line may reach (the drawing test reads it)."""
        x, y, cw, ch = self.chart
        return y + ch - 2 + self.skill_line.half
