"""The drawing of the watch-it-learn panel: four blocks of rows, the Q bars, the memory
bar, the learning curve and the memory-on-disk rows. ``game.ui.hud.panels.LearnPanel``
decides what they show."""

from __future__ import annotations

from typing import Any

import numpy as np

from game.ui import widgets as w
from game.ui.layout import SECTIONS, Rect
from game.ui.messages import fmt_count

BAR_H = 12
MEM_H = 8
LABEL_H = 13
"""Room above the curve's box for its title."""


class LearnDrawing:
    """The drawables of the learn panel under its title."""

    def __init__(self, batch: Any, groups: list[Any]) -> None:
        g9, g10, g11 = groups[9], groups[10], groups[11]
        self.blocks = [w.Rows(batch, g9, 22), w.Rows(batch, g9, 40), w.Rows(batch, g9, 22),
                       w.Rows(batch, g9, 22)]
        self.disk_title = w.label(batch, g9, 9.5, color=w.ACCENT, bold=True)
        self.disk_title.text = "MEMORY ON DISK"
        self.disk = w.Rows(batch, g9, 22)
        self.q_track = [w.rect(batch, g9, w.TRACK_C) for _ in range(2)]
        self.q_bars = [w.rect(batch, g10, w.PILOT_C) for _ in range(2)]
        self.q_zero = w.rect(batch, g11, (200, 210, 230, 200))
        self.mem_track = w.rect(batch, g9, w.TRACK_C)
        self.mem_human = w.rect(batch, g10, w.HUMAN_C)
        self.mem_pilot = w.rect(batch, g10, w.PILOT_C)
        self.spark_bg = w.rect(batch, g9, (30, 40, 58, 255))
        self.spark = w.Sparkline(200, 2, w.ACCENT, batch, g10)
        self.spark_key: tuple | None = None
        self.spark_lo = w.label(batch, g10, 8.5, color=w.DIM)
        self.spark_hi = w.label(batch, g10, 8.5, color=w.DIM)
        self.parts = [p for b in self.blocks for p in b.parts] + [
            self.disk_title, *self.disk.parts, *self.q_track, *self.q_bars, self.q_zero,
            self.mem_track, self.mem_human, self.mem_pilot, self.spark_bg, self.spark,
            self.spark_lo, self.spark_hi]

    def place(self, r: Rect) -> None:
        """Lays the panel out top to bottom inside ``r``."""
        x0, bar_w, top = r.x + 14, r.w - 28, r.top
        y = top - 54
        self.blocks[0].place(x0, y, bar_w)
        y -= 56
        self.blocks[1].place(x0, y, bar_w)
        for i, track in enumerate(self.q_track):
            w.place_rect(track, x0, y - 40 * i - 20, bar_w, BAR_H)
        self.q_geom = (x0, bar_w)
        w.place_rect(self.q_zero, x0 + bar_w / 2 - 1, y - 62, 2, 56)
        y -= 86
        self.blocks[2].place(x0, y, bar_w)
        y -= 2 * 22 + 16
        w.place_rect(self.mem_track, x0, y, bar_w, MEM_H)
        self.mem_geom = (x0, bar_w, y)
        w.place_rect(self.mem_human, x0, y, 1, MEM_H)
        w.place_rect(self.mem_pilot, x0, y, 1, MEM_H)
        y -= 24
        self.blocks[3].place(x0, y, bar_w)
        y -= 3 * 22 + 22
        bottom = r.y + 30 + 112  # room under the curve for the memory-on-disk rows
        # the curve's title sits above its box: a curve at its top never runs over it
        self.spark_rect = (x0, bottom, bar_w, y - 4 - LABEL_H - bottom)
        w.move(self.disk_title, x0, bottom - 36)
        self.disk.place(x0, bottom - 56, bar_w)
        sx, sy, sw, sh = self.spark_rect
        w.place_rect(self.spark_bg, sx, sy, sw, sh)
        w.move(self.spark_lo, sx + 3, sy - 14)
        w.move(self.spark_hi, sx, sy + sh + 4)
        self.spark_key = None

    def line_top(self) -> float:
        """The highest pixel the curve may reach (the drawing test reads it)."""
        sx, sy, sw, sh = self.spark_rect
        return sy + sh - 3 + self.spark.half

    def show_rows(self, rows: list[tuple[str, str]], st: Any) -> None:
        """The rows, cut into the four blocks, and the bars that go with them."""
        if not st.available:
            self.blocks[0].set(rows)
            for b in self.blocks[1:]:
                b.set([])
            return
        i = 0
        for block, n in zip(self.blocks, SECTIONS, strict=True):
            block.set(rows[i:i + n])
            i += n
        self._q_bars(np.asarray(st.q, dtype=float))
        self._mem_bar(st.memory_size, st.memory_capacity, st.memory_human)

    def _q_bars(self, q: np.ndarray) -> None:
        x0, bar_w = self.q_geom
        scale = max(1.0, float(np.max(np.abs(q)))) if np.all(np.isfinite(q)) else 1.0
        best = int(np.argmax(q))
        mid = x0 + bar_w / 2
        for i, bar in enumerate(self.q_bars):
            frac = float(np.clip(q[i] / scale, -1, 1)) if np.isfinite(q[i]) else 0.0
            half = abs(frac) * bar_w / 2
            w.place_rect(bar, mid - half if frac < 0 else mid, self.q_track[i].y,
                         max(half, 1.0), BAR_H)
            bar.color = w.ACCENT if i == best else (120, 135, 160, 255)

    def _mem_bar(self, size: int, cap: int, human: int) -> None:
        mx, mw, my = self.mem_geom
        hw = mw * human / cap if cap else 0.0
        pw = mw * (size - human) / cap if cap else 0.0
        self.mem_human.width = max(hw, 0.0)
        self.mem_pilot.position = (mx + hw, my)
        self.mem_pilot.width = max(pw, 0.0)

    def show_disk(self, rows: list[tuple[str, str]]) -> None:
        self.disk.set(rows)

    def show_curve(self, steps: np.ndarray, vals: np.ndarray, top: float, streak: bool) -> None:
        """The learning curve scaled into its box, with its range written under it."""
        sx, sy, sw, sh = self.spark_rect
        if steps.size < 2:
            self.spark.set(np.zeros(0), np.zeros(0))
            w.set_text(self.spark_lo, "curve: waiting for episodes")
            w.set_text(self.spark_hi, "")
            return
        span = max(steps[-1] - steps[0], 1.0)
        xs = sx + 2 + (steps - steps[0]) / span * (sw - 4)
        ys = sy + 3 + np.clip(vals / top, 0, 1) * (sh - 6)
        self.spark.set(xs, ys)
        shown = f"{top * 100:.0f}%" if streak else f"{top:.0f}"
        w.set_text(self.spark_hi, f"learning curve (max {shown})")
        w.set_text(self.spark_lo, f"{fmt_count(steps[0])} → {fmt_count(steps[-1])} steps")

