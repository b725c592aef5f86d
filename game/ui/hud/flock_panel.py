"""The flock's HUD panel: generation, flyers alive, best and mean per generation, a chart.

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
"""Generations the chart shows (the latest ones)."""


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


class FlockPanel(Panel):
    """Generation, alive, best and mean of the last finished generation, and their chart."""

    title = "THE FLOCK"

    @staticmethod
    def state_of(src: Sources) -> FlockState | None:
        fp = src.session.flock
        if fp is None:
            return None
        f = fp.flock
        return FlockState(f.n, f.generation, f.alive_count, float(f.best),
                          tuple(list(f.history)[-CHART_GENERATIONS:]),
                          "gates" if f.courses else "success")

    @staticmethod
    def rows(st: FlockState) -> list[Row]:
        last = st.history[-1] if st.history else None

        def num(v: float) -> str:
            return f"{v:.0%}" if st.unit == "success" else f"{v:.1f}".removesuffix(".0")

        done = "—" if last is None else f"{num(last[1])} | {num(last[2])}"
        return [("Gen | alive", f"{st.generation:,} | {st.alive}/{st.flyers}"),
                ("Last best | mean", done)]

    @staticmethod
    def chart_points(history: tuple[tuple[int, float, float], ...]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
        """``(generations, bests, means, top)`` of the chart; empty below two generations."""
        if len(history) < 2:
            z = np.zeros(0)
            return z, z, z, 1.0
        h = np.asarray(history[-CHART_GENERATIONS:], dtype=float)
        return h[:, 0], h[:, 1], h[:, 2], max(1.0, float(h[:, 1].max()))

    SPACING = 17

    def build(self, batch: Any, groups: list[Any]) -> None:
        from game.ui import widgets as w

        super().build(batch, groups)
        self.table = w.Rows(batch, groups[9], self.SPACING, size=10)
        self.chart_bg = w.rect(batch, groups[9], (30, 40, 58, 255))
        self.best_line = w.Sparkline(CHART_GENERATIONS, 2, w.ACCENT, batch, groups[10])
        self.mean_line = w.Sparkline(CHART_GENERATIONS, 2, w.PILOT_C, batch, groups[10])
        self.chart_label = w.label(batch, groups[10], 8, color=w.DIM, anchor_y="top")
        self.parts += [*self.table.parts, self.chart_bg, self.best_line, self.mean_line,
                       self.chart_label]
        self._key: tuple | None = None

    def place(self, r: Rect) -> None:
        from game.ui import widgets as w

        super().place(r)
        top = r.top - 47
        self.table.place(r.x + 14, top, r.w - 28)
        chart_top = top - 2 * self.SPACING - 4
        self.chart = (r.x + 14, r.y + 8, r.w - 28, max(chart_top - r.y - 8, 8))
        x, y, cw, ch = self.chart
        w.place_rect(self.chart_bg, x, y, cw, ch)
        # top left: the early generations, which score least, leave it clear of the lines
        w.move(self.chart_label, x + 3, y + ch - 2)
        self._key = None

    def refresh(self, src: Sources) -> None:
        from game.ui import widgets as w

        st = self.state_of(src)
        if st is None:
            return
        self.table.set(self.rows(st))
        key = (len(st.history), st.history[-1] if st.history else None)
        if key == self._key:
            return
        self._key = key
        gens, bests, means, top = self.chart_points(st.history)
        x, y, cw, ch = self.chart
        if gens.size < 2:
            self.best_line.set(gens, gens)
            self.mean_line.set(gens, gens)
            w.set_text(self.chart_label, "chart after two generations")
            return
        xs = x + 2 + (gens - gens[0]) / max(gens[-1] - gens[0], 1.0) * (cw - 4)
        for line, vals in ((self.best_line, bests), (self.mean_line, means)):
            line.set(xs, y + 2 + np.clip(vals / top, 0, 1) * (ch - 4))
        top_text = f"{top:.0%}" if st.unit == "success" else f"{top:.0f}"
        w.set_text(self.chart_label, f"max {top_text}")
