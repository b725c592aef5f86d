"""The lab's panel: one chart with a line per team (skill over time), one line per team in words.

As the other panels: a frozen state read from the lab (``state_of``), pure rows and chart
points (``rows``, ``chart_points``), tested without a window, and drawing built on demand.
``lab_layout`` places the field and the panel: a pure function of the window's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from game.ui.layout import FIELD_MARGIN, PAD, Layout, Rect

LAB_PANEL_W = 420
"""The lab panel's width: wide enough for a team's line in words beside the field."""
CHART_POINTS = 200
"""Most readings a team's line shows (the latest ones)."""
CHART_MIN_S = 30.0
"""The chart's time axis spans at least this many seconds of play."""


@dataclass(frozen=True)
class TeamLine:
    """What the panel shows of one team."""

    name: str
    adds: str
    colour: tuple[int, int, int]
    latest: float | None
    readings: tuple[tuple[float, float], ...]
    """``(seconds of play, skill)``, oldest first."""
    alive: int
    flyers: int


@dataclass(frozen=True)
class LabState:
    """What the lab panel shows."""

    level: str
    figure: str
    seconds: float
    speed: str
    paused: bool
    lineup: str
    focus: str
    teams: tuple[TeamLine, ...]


def state_of(lab: Any, speed: str, paused: bool, lineup: str, focus: int) -> LabState:
    """The panel's state from a ``game.play.lab.Lab``."""
    teams = tuple(TeamLine(t.spec.name, t.spec.adds, t.spec.colour, t.latest,
                           tuple((r.seconds, r.skill) for r in t.readings[-CHART_POINTS:]),
                           t.play.flock.alive_count, t.play.flock.n) for t in lab.teams)
    return LabState(lab.level.name, lab.level.figure_name, lab.seconds, speed, paused, lineup,
                    lab.teams[focus].spec.name, teams)


def rows(st: LabState) -> list[tuple[str, str]]:
    """Per team: its name with its latest skill, then what it adds."""
    out = []
    for t in st.teams:
        value = "…" if t.latest is None else f"{t.latest:.2f}"
        out.append((f"{t.name}", f"{value}   {t.alive}/{t.flyers} flying"))
    return out


def header(st: LabState) -> str:
    """The line under the title: level, time of play, speed."""
    state = "paused" if st.paused else st.speed
    return f"{st.level} · {st.seconds:,.0f} s of play · {state} · following {st.focus}"


def chart_points(st: LabState, x: float, y: float, w: float, h: float
                 ) -> tuple[list[tuple[np.ndarray, np.ndarray]], float]:
    """Each team's line in window pixels inside ``(x, y, w, h)``, and the axis's end (s)."""
    span = max(CHART_MIN_S, st.seconds,
               max((t.readings[-1][0] for t in st.teams if t.readings), default=0.0))
    lines = []
    for t in st.teams:
        if not t.readings:
            lines.append((np.zeros(0), np.zeros(0)))
            continue
        r = np.asarray(t.readings, dtype=float)
        xs = x + r[:, 0] / span * w
        ys = y + np.clip(r[:, 1], 0.0, 1.0) * h
        if len(xs) == 1:  # one reading: a short stroke, so it shows from the first seconds
            xs, ys = np.array([xs[0], xs[0] + 3.0]), np.array([ys[0], ys[0]])
        lines.append((xs, ys))
    return lines, span


def lab_layout(width: int, height: int) -> Layout:
    """The square field on the left, the lab panel on the right (over the field's right
    part when the window is too narrow)."""
    panel_w = min(LAB_PANEL_W, max(width - 2 * PAD, 120))
    side = max(64.0, min(height - 2 * FIELD_MARGIN, width - panel_w - 2 * PAD - FIELD_MARGIN))
    field = Rect(FIELD_MARGIN, (height - side) / 2, side, side)
    panel = Rect(width - panel_w - PAD, PAD, panel_w, height - 2 * PAD)
    none = Rect(0, 0, 0, 0)
    return Layout(width, height, field, panel, none, none, none)


LEGEND_ROW_H = 44
"""Height of one team's legend rows (name and value, then what it adds)."""
KEYS_H = 58
"""Room for the keys at the panel's foot."""


def chart_rect(panel: Rect, teams: int) -> Rect:
    """Where the chart sits in the panel: under the title, above the legend and the keys."""
    top = panel.top - 62
    y = panel.y + KEYS_H + LEGEND_ROW_H * teams + 24
    return Rect(panel.x + 34, y, panel.w - 48, max(top - y, 40))


class LabPanel:
    """The drawing: a panel background, a title, the chart and a legend row per team."""

    def build(self, batch: Any, groups: list[Any], teams: int) -> None:
        from game.ui import widgets as w  # pyglet needs a display: imported only to draw

        self.bg = w.panel_bg(batch, groups[8])
        self.title = w.label(batch, groups[9], 13, color=w.ACCENT, bold=True)
        self.title.text = "THE LESSON LAB"
        self.sub = w.label(batch, groups[9], 9, color=w.DIM)
        self.chart_bg = w.rect(batch, groups[9], (30, 40, 58, 255))
        self.axis = [w.label(batch, groups[10], 8, color=w.DIM) for _ in range(4)]
        self.lines = [w.Sparkline(CHART_POINTS, 2.5, (255, 255, 255, 255), batch, groups[10])
                      for _ in range(teams)]
        self.swatches = [w.rect(batch, groups[9], (255, 255, 255, 255)) for _ in range(teams)]
        self.names = [w.label(batch, groups[9], 11, bold=True) for _ in range(teams)]
        self.values = [w.label(batch, groups[9], 11, anchor_x="right") for _ in range(teams)]
        self.adds = [w.label(batch, groups[9], 8.5, color=w.DIM) for _ in range(teams)]
        self.keys = w.label(batch, groups[9], 8.5, color=w.DIM, multiline=True, width=380)
        self.rect = Rect(0, 0, 1, 1)
        self.chart = (0.0, 0.0, 1.0, 1.0)

    def place(self, r: Rect) -> None:
        from game.ui import widgets as w

        self.rect = r
        w.move(self.bg, r.x, r.y)
        self.bg.width, self.bg.height = r.w, r.h
        w.move(self.title, r.x + 14, r.top - 30)
        w.move(self.sub, r.x + 14, r.top - 48)
        c = chart_rect(r, len(self.names))
        self.chart = (c.x, c.y, c.w, c.h)
        x, y, cw, ch = self.chart
        w.place_rect(self.chart_bg, x, y, cw, ch)
        for i, lab in enumerate(self.axis[:2]):  # 1.0 and 0.0 on the left
            w.move(lab, r.x + 8, y + (ch - 10 if i == 0 else 0))
        w.move(self.axis[2], x, y - 14)
        w.move(self.axis[3], x + cw - 40, y - 14)
        for i in range(len(self.names)):
            top = y - 24 - LEGEND_ROW_H * i
            w.place_rect(self.swatches[i], r.x + 14, top - 12, 12, 12)
            w.move(self.names[i], r.x + 32, top - 12)
            w.move(self.values[i], r.right - 14, top - 12)
            w.move(self.adds[i], r.x + 32, top - 30)
        self.keys.width = int(r.w - 28)
        w.move(self.keys, r.x + 14, r.y + KEYS_H - 12)
        self.keys.anchor_y = "top"

    def refresh(self, st: LabState, keys: str) -> None:
        from game.ui import widgets as w

        w.set_text(self.sub, header(st))
        x, y, cw, ch = self.chart
        lines, span = chart_points(st, x, y, cw, ch)
        w.set_text(self.axis[0], "1.0")
        w.set_text(self.axis[1], "0.0")
        w.set_text(self.axis[2], f"0 s   ({st.figure} of each team's greedy pilot)")
        w.set_text(self.axis[3], f"{span:,.0f} s")
        for i, (t, (xs, ys)) in enumerate(zip(st.teams, lines, strict=True)):
            colour = (*t.colour, 255)
            if self.lines[i].vlist.colors[:4] != list(colour):
                self.lines[i].vlist.colors[:] = colour * (len(self.lines[i].vlist.colors) // 4)
            self.lines[i].set(xs, ys)
            self.swatches[i].color = colour
            self.names[i].color = colour
            name, value = rows(st)[i]
            w.set_text(self.names[i], name)
            w.set_text(self.values[i], value)
            w.set_text(self.adds[i], t.adds)
        w.set_text(self.keys, keys)
        self._show_rows(len(st.teams))

    def _show_rows(self, n: int) -> None:
        """Shows the legend rows and chart lines of the first ``n`` teams, hides the rest."""
        for i in range(len(self.names)):
            for part in (self.swatches[i], self.names[i], self.values[i], self.adds[i]):
                part.visible = i < n
            if self.lines[i].visible != (i < n):
                self.lines[i].visible = i < n
