"""Line plots as numpy pictures: the learning curve PNG of ``main.py train``.

Rules: numpy only; drawn with ``game.sim.font``, written with ``game.sim.png``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from game.sim.font import fill, text_mask
from game.sim.png import png_bytes

PLOT_BG = np.array([18, 26, 40], np.float32) / 255
PLOT_GRID = np.array([50, 62, 84], np.float32) / 255
PLOT_LINE = np.array([255, 209, 84], np.float32) / 255
PLOT_LINE2 = np.array([92, 178, 255], np.float32) / 255
PLOT_DIM = np.array([165, 180, 200], np.float32) / 255


def _fmt(n: float) -> str:
    if abs(n) >= 1e6:
        return f"{n / 1e6:.1f}M"
    if abs(n) >= 1e4:
        return f"{n / 1e3:.0f}k"
    if abs(n) >= 1e3:
        return f"{n / 1e3:.1f}k"
    return f"{n:g}" if n == int(n) else f"{n:.2f}"


def _polyline(canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray, rgb: np.ndarray,
              thick: float = 1.6) -> None:
    """Anti-aliased-ish polyline: each pixel's distance to the nearest segment sets its cover."""
    H, W = canvas.shape[:2]
    for (xa, ya), (xb, yb) in zip(zip(xs[:-1], ys[:-1], strict=True),
                                  zip(xs[1:], ys[1:], strict=True), strict=True):
        r0 = int(max(min(ya, yb) - thick - 1, 0))
        r1 = int(min(max(ya, yb) + thick + 2, H))
        c0 = int(max(min(xa, xb) - thick - 1, 0))
        c1 = int(min(max(xa, xb) + thick + 2, W))
        if r1 <= r0 or c1 <= c0:
            continue
        rr, cc = np.mgrid[r0:r1, c0:c1].astype(np.float32)
        px, py = cc + 0.5 - xa, rr + 0.5 - ya
        dx, dy = xb - xa, yb - ya
        t = np.clip((px * dx + py * dy) / max(dx * dx + dy * dy, 1e-9), 0, 1)
        d = np.hypot(px - t * dx, py - t * dy)
        a = np.clip(thick / 2 + 0.5 - d, 0, 1)[..., None]
        region = canvas[r0:r1, c0:c1]
        region *= 1 - a
        region += a * rgb


def plot_curve(xs: np.ndarray, series: list[np.ndarray], width: int = 640, height: int = 360,
               y_range: tuple[float, float] | None = None,
               labels: tuple[str, ...] = ()) -> np.ndarray:
    """An ``(height, width, 3)`` uint8 line plot of ``series`` against ``xs``.

    The x range is written under the plot, the y range at its left, and ``labels``
    (one per series, in the series' colours: yellow, then blue) along the top.
    """
    xs = np.asarray(xs, dtype=float)
    canvas = np.empty((height, width, 3), np.float32)
    canvas[:] = PLOT_BG
    scale = 2
    top = 16 + (10 * scale if labels else 0)
    left, right, bottom = 16 + 6 * 6 * scale, width - 16, height - 16 - 9 * scale
    pw, ph = right - left, bottom - top
    ys_all = [np.asarray(s, dtype=float) for s in series]
    finite = np.concatenate([s[np.isfinite(s)] for s in ys_all] or [np.zeros(1)])
    if y_range is None:
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        lo = min(lo, 0.0)
        hi = hi if hi > lo else lo + 1.0
    else:
        lo, hi = y_range
    x_lo = float(xs.min()) if xs.size else 0.0
    x_hi = float(xs.max()) if xs.size else 1.0
    x_hi = x_hi if x_hi > x_lo else x_lo + 1.0
    for k in range(5):  # horizontal grid lines at quarters
        r = int(round(top + ph * k / 4))
        canvas[r, left:right] = PLOT_GRID
    canvas[top:bottom, left] = PLOT_GRID
    colours = [PLOT_LINE, PLOT_LINE2]
    for j, ys in enumerate(ys_all):
        ok = np.isfinite(ys)
        if ok.sum() < 1:
            continue
        px = left + (xs[ok] - x_lo) / (x_hi - x_lo) * pw
        py = bottom - (np.clip(ys[ok], lo, hi) - lo) / (hi - lo) * ph
        if px.size == 1:
            px, py = np.repeat(px, 2), np.repeat(py, 2)
        _polyline(canvas, px, py, colours[j % 2])
    for value, r in ((hi, top), (lo, bottom)):
        label = _fmt(value)
        mask = text_mask(label, scale)
        fill(canvas, mask, max(0, r - mask.shape[0] // 2), left - 8 - mask.shape[1], PLOT_DIM)
    for value, c in ((x_lo, left), (x_hi, right)):
        label = _fmt(value)
        mask = text_mask(label, scale)
        c = min(max(c - mask.shape[1] // 2, 0), width - mask.shape[1])
        fill(canvas, mask, bottom + 6, c, PLOT_DIM)
    if labels:
        mask = text_mask("env steps", scale)
        fill(canvas, mask, bottom + 6, left + (pw - mask.shape[1]) // 2, PLOT_DIM)
    c = left
    for j, text in enumerate(labels):
        mask = text_mask(text, scale)
        fill(canvas, mask, 8, c, colours[j % 2])
        c += mask.shape[1] + 16 * scale
    return np.clip(np.rint(canvas * 255), 0, 255).astype(np.uint8)


def curve_png(csv_path: str | Path) -> bytes:
    """The PNG of a ``main.py train`` learning-curve CSV: the held-out score per env step.

    Yellow is ``eval_score`` (score/oracle on arcade, success rate on classic, both in
    [0, 1]); blue is ``recent_mean_score`` (the training runs' scores) divided by its
    maximum, which the label gives.
    """
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise ValueError(f"{csv_path} holds no rows")

    def column(name: str) -> np.ndarray:
        out = []
        for r in rows:
            try:
                out.append(float(r.get(name, "") or "nan"))
            except ValueError:
                out.append(float("nan"))
        return np.array(out)

    steps = column("env_steps")
    evals = column("eval_score")
    recent = column("recent_mean_score")
    top = np.nanmax(recent) if np.isfinite(recent).any() else 0.0
    series = [evals] + ([recent / top] if top > 0 else [])
    names = ("held-out score", f"recent mean / {_fmt(round(float(top), 2))}")
    return png_bytes(plot_curve(steps, series, y_range=(0.0, 1.0),
                                labels=names[:len(series)]))
