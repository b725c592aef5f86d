"""Draws the game into numpy pictures: no window, no OpenGL, no pyglet.

The Gymnasium envs' ``rgb_array`` frames and ``main.py record`` come from here (the
learning-curve PNG from ``game.sim.plot``), so a server without a display can make every
picture the game makes. The sprites are the game's own PNG assets, decoded by
``game.sim.png``; text uses the bitmap font of ``game.sim.font``.

Frames are ``(H, W, 3)`` uint8 with row 0 at the top; the square field
``[-1, 1]²`` fills the frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

import numpy as np

from game.sim.font import blend, draw_text, fill
from game.sim.png import read_png

FLYER_UNITS = 0.16
"""The flyer sprite's width in field units (the field is 2 wide), as in the window."""
WALL_HALF_TICK = 0.5
"""Walls are drawn half a tick wider on each side of the ticks they occupy (as in the window)."""
FLOCK_RGB = (150, 205, 255)
"""The flock's cool blue (here and in the window's ``game.ui.flock_view``), so the person's
solid flyer (warm) and the autopilot's (white) are distinct."""
FLOCK_OPACITY = 80
"""The flock's opacity out of 255: many overlap, and the solid flyer must stand out."""
FLOCK_TINT = np.array(FLOCK_RGB, dtype=np.float32) / 255
FLOCK_ALPHA = FLOCK_OPACITY / 255
CAPTION_BG = np.array([18, 26, 40], dtype=np.float32) / 255
SKILL_BAR = np.array([255, 209, 84], dtype=np.float32) / 255
BAR_TRACK = np.array([50, 62, 84], dtype=np.float32) / 255
CRASH_TINT = np.array([255, 140, 130], dtype=np.float32) / 255
EDGE_RED = np.array([220, 60, 60], dtype=np.float32) / 255


# ----------------------------------------------------------------------- assets
def asset_bytes(name: str) -> bytes:
    """The bytes of the asset file ``name``, found as package data (``importlib.resources``)."""
    import assets

    return assets.path(name).read_bytes()


@cache
def sprite(name: str) -> np.ndarray:
    """An asset image as premultiplied float32 RGBA in [0, 1], ``(h, w, 4)``."""
    img = read_png(asset_bytes(name)).astype(np.float32) / 255
    img[..., :3] *= img[..., 3:]
    img.setflags(write=False)
    return img


def resize(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """Bilinear resampling of ``(H, W, C)`` float to ``(h, w, C)`` (pixel centres aligned)."""
    H, W = img.shape[:2]

    def axis(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        return lo, hi, (pos - lo).astype(np.float32)

    y0, y1, fy = axis(h, H)
    x0, x1, fx = axis(w, W)
    rows = img[y0] * (1 - fy)[:, None, None] + img[y1] * fy[:, None, None]
    return rows[:, x0] * (1 - fx)[None, :, None] + rows[:, x1] * fx[None, :, None]


# ----------------------------------------------------------------------- the scene
@dataclass
class Wall:
    """One wall in field units: it spans ``x0 .. x1``, open for ``|y - gap_y| <= half_gap``."""

    x0: float
    x1: float
    gap_y: float
    half_gap: float


@dataclass
class Scene:
    """What one frame shows, in field units; built from a world by ``scene_of``."""

    x: float
    """The flyer's centre."""
    y: float
    tilt: float = 0.0
    """Nose-up angle in radians."""
    crashed: bool = False
    walls: list[Wall] = field(default_factory=list)
    score: int | None = None
    goal: bool = False
    """Draw the classic level's chequered finish line."""
    flock_x: np.ndarray | None = None
    """Centres of the flock's other flyers, drawn translucent behind the solid one."""
    flock_y: np.ndarray | None = None


def tilt_of(physics: Any, v_y: float) -> float:
    """The flyer's nose-up angle in radians for vertical speed ``v_y``."""
    # The window tilts by atan(4 dy) at the seed's jump of 0.2 per tick: the tilt is
    # v_y over the jump speed, in whatever units the level's physics keeps them.
    jump = float(getattr(physics, "v_jump", 0.2)) * float(getattr(physics, "unit", 1.0))
    return math.atan(0.8 * v_y / jump) if jump > 0 else 0.0


def _world_level(world: Any) -> str:
    return "arcade" if hasattr(world, "course") else "classic"


def scene_of(world: Any, score: int | None = None) -> Scene:
    """The scene for a scalar world (``ArcadeWorld`` or ``ClassicWorld``) as it is now.

    Only reads the world. ``score`` overrides the number shown (the classic world has
    none of its own; its env shows the flights won in a row).
    """
    p = world.physics
    edge = float(getattr(p, "edge", 1.0))
    tilt = tilt_of(p, float(world.v_y))
    y = min(max(float(world.y), -0.95), 0.95)  # a crash past the edge stays in sight
    crashed = bool(world.done) and (abs(float(world.y)) > edge or _hit_wall(world))
    if _world_level(world) == "classic":
        return Scene(x=float(world.x), y=y, tilt=tilt, crashed=crashed,
                     score=score, goal=True)
    x = float(world.x)
    return Scene(x=x, y=y, tilt=tilt, crashed=crashed,
                 walls=course_walls(world.course, p, x, int(world.t)),
                 score=int(world.score) if score is None else score)


def course_walls(course: Any, physics: Any, x: float, t: int) -> list[Wall]:
    """The walls of an arcade ``course`` on screen for a flyer at ``x`` on tick ``t``."""
    v_x = physics.v_x
    edge = float(getattr(physics, "edge", 1.0))
    x_start = float(getattr(physics, "x_start", -1.0))
    start, end = course.start, course.end
    # Walls on screen: from the one straddling the left edge to the right edge.
    lo = int(np.searchsorted(start, t - (x - x_start) / v_x - (end[0] - start[0]) - 1
                             if start.size else 0))
    hi = int(np.searchsorted(start, t + (edge - x) / v_x + 1))
    walls = []
    for i in range(lo, min(hi, start.size)):
        x0 = x + (int(start[i]) - t - WALL_HALF_TICK) * v_x
        x1 = x + (int(end[i]) - t + WALL_HALF_TICK) * v_x
        x0, x1 = max(x0, -edge), min(x1, edge)
        if x1 > x0:
            walls.append(Wall(x0, x1, float(course.gap_y[i]), float(course.half_gap[i])))
    return walls


def _hit_wall(world: Any) -> bool:
    """Whether an arcade flyer that stopped did so in a wall (a finished course did not)."""
    if _world_level(world) == "classic":
        return False
    n = world.course.n_gates
    return world.gate < n


class Painter:
    """Draws scenes into ``(height, width, 3)`` uint8 frames; the scaled sprites are cached."""

    def __init__(self, width: int = 400, height: int = 400) -> None:
        if width < 16 or height < 16:
            raise ValueError(f"frames must be at least 16x16 pixels, got {width}x{height}")
        self.width, self.height = int(width), int(height)
        bg = sprite("background.png")
        self.background = resize(bg, self.height, self.width)[..., :3].copy()
        self.flyer = sprite("flyer.png")
        self.gate_row = sprite("gate.png")[0]  # a pillar is this cross-section, stretched
        self.cap = sprite("gate_cap.png")
        self._caps: dict[tuple[int, int], np.ndarray] = {}
        self._flock_sprite: np.ndarray | None = None

    # field units -> pixels (row 0 at the top)
    def col(self, x: float) -> float:
        return (x + 1.0) * 0.5 * self.width

    def row(self, y: float) -> float:
        return (1.0 - y) * 0.5 * self.height

    def frame(self, scene: Scene) -> np.ndarray:
        """The picture of ``scene``."""
        canvas = self.background.copy()
        for wall in scene.walls:
            self._wall(canvas, wall)
        self._edges(canvas)
        if scene.goal:
            self._goal(canvas)
        if scene.flock_x is not None and scene.flock_y is not None:
            self._flock(canvas, scene.flock_x, scene.flock_y)
        self._flyer(canvas, scene)
        if scene.score is not None:
            scale = max(2, self.height // 70)
            draw_text(canvas, str(scene.score), self.width // 2, max(4, self.height // 30), scale)
        return np.clip(np.rint(canvas * 255), 0, 255).astype(np.uint8)

    def _wall(self, canvas: np.ndarray, wall: Wall) -> None:
        c0, c1 = int(round(self.col(wall.x0))), int(round(self.col(wall.x1)))
        c0, c1 = max(c0, 0), min(c1, self.width)
        if c1 <= c0:
            return
        w = c1 - c0
        idx = np.minimum(((np.arange(w) + 0.5) * self.gate_row.shape[0] / w).astype(int),
                         self.gate_row.shape[0] - 1)
        column = self.gate_row[idx][:, :3]  # opaque: pillars simply replace the sky
        top_gap = int(round(self.row(wall.gap_y + wall.half_gap)))
        low_gap = int(round(self.row(wall.gap_y - wall.half_gap)))
        canvas[:max(top_gap, 0), c0:c1] = column
        canvas[min(max(low_gap, 0), self.height):, c0:c1] = column
        unit = self.width / 2
        cap_h = max(2, int(round(0.045 * unit)))
        cap_w = max(w, int(round(min(w + 0.04 * unit, 0.15 * unit * 1.3))))
        cap = self._caps.get((cap_h, cap_w))
        if cap is None:
            cap = self._caps[(cap_h, cap_w)] = resize(self.cap, cap_h, cap_w)
        left = c0 + w // 2 - cap_w // 2
        blend(canvas, top_gap - cap_h, left, cap)
        blend(canvas, low_gap, left, cap)

    def _flock(self, canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> None:
        """The flock's flyers: one tinted, see-through sprite each, level (as the window's)."""
        if self._flock_sprite is None:
            w = max(2, int(round(FLYER_UNITS * self.width / 2)))
            h = max(2, int(round(w * self.flyer.shape[0] / self.flyer.shape[1])))
            tinted = resize(self.flyer, h, w)
            tinted[..., :3] *= FLOCK_TINT
            self._flock_sprite = tinted * FLOCK_ALPHA  # premultiplied: alpha scales all four
        spr = self._flock_sprite
        h, w = spr.shape[:2]
        for x, y in zip(np.asarray(xs).tolist(), np.asarray(ys).tolist(), strict=True):
            y = min(max(y, -0.95), 0.95)
            blend(canvas, int(round(self.row(y) - h / 2)), int(round(self.col(x) - w / 2)), spr)

    def caption_scale(self, chars: int) -> int:
        """The largest text scale (1 to 3) at which ``chars`` characters fit across a frame."""
        return max(1, min(3, (self.width - 8 + 1) // max(6 * chars - 1, 1)))

    def caption(self, lines: list[str], bar: float | None = None, chars: int = 0
                ) -> np.ndarray:
        """A dark ``(h, width, 3)`` uint8 strip with ``lines`` of text and a bar filled to ``bar``.

        The strip's height follows from the text scale for ``chars`` characters (at least the
        widest line), so a film whose lines vary keeps one height when ``chars`` is its
        longest; a line wider than that is drawn smaller. The bar (0 to 1, e.g. the skill)
        runs along the strip's foot. ``h`` is even (video frames are).
        """
        scale = self.caption_scale(max([chars, *(len(t) for t in lines)]))
        line_h = 9 * scale
        bar_h = max(2, self.height // 100) if bar is not None else 0
        h = 2 * scale + line_h * len(lines) + (bar_h + 2 * scale if bar_h else 0)
        h += h % 2
        canvas = np.empty((h, self.width, 3), np.float32)
        canvas[:] = CAPTION_BG
        for k, text in enumerate(lines):
            fit = min(scale, self.caption_scale(len(text)))
            draw_text(canvas, text, self.width // 2, 2 * scale + k * line_h, fit, shadow=False)
        if bar is not None:
            top = h - bar_h - scale
            fill(canvas, np.ones((bar_h, self.width - 8), bool), top, 4, BAR_TRACK)
            filled = int(round(min(max(bar, 0.0), 1.0) * (self.width - 8)))
            if filled:
                fill(canvas, np.ones((bar_h, filled), bool), top, 4, SKILL_BAR)
        return np.clip(np.rint(canvas * 255), 0, 255).astype(np.uint8)

    def _edges(self, canvas: np.ndarray) -> None:
        """The thin red lines at the top and bottom: leaving the field there is a crash."""
        edge = max(2, int(round(3 * self.height / 400)))
        band = np.ones((edge, self.width), bool)
        fill(canvas, band, 0, 0, EDGE_RED, 150 / 255)
        fill(canvas, band, self.height - edge, 0, EDGE_RED, 150 / 255)

    def _goal(self, canvas: np.ndarray) -> None:
        unit = self.width / 2
        w = max(4, int(round(0.035 * unit)))
        cell = self.height / 16
        for col in range(2):
            for r in range(16):
                light = (r + col) % 2 == 0
                rgb = np.array([255, 255, 255] if light else [30, 30, 40], np.float32) / 255
                top, bottom = int(round(r * cell)), int(round((r + 1) * cell))
                fill(canvas, np.ones((bottom - top, w), bool), top,
                     self.width - (2 - col) * w, rgb, 210 / 255)

    def _flyer(self, canvas: np.ndarray, scene: Scene) -> None:
        src = self.flyer
        sh, sw = src.shape[:2]
        size = FLYER_UNITS * self.width / 2  # on-screen width in pixels
        scale = size / sw
        angle = math.radians(70.0) if scene.crashed else scene.tilt
        # Inverse mapping: each output pixel in the rotated box samples the sprite.
        half = int(math.ceil(size * 0.75)) + 1
        cx, cy = self.col(scene.x), self.row(scene.y)
        top, left = int(math.floor(cy)) - half, int(math.floor(cx)) - half
        rr, cc = np.mgrid[0:2 * half, 0:2 * half].astype(np.float32)
        dx = cc + left + 0.5 - cx
        dy = rr + top + 0.5 - cy
        # Nose up means rotating counter-clockwise on screen (rows grow downwards).
        ca, sa = math.cos(angle), math.sin(angle)
        u = (dx * ca - dy * sa) / scale + sw / 2 - 0.5
        v = (dx * sa + dy * ca) / scale + sh / 2 - 0.5
        inside = (u > -1) & (u < sw) & (v > -1) & (v < sh)
        u0, v0 = np.floor(u).astype(np.int64), np.floor(v).astype(np.int64)
        fu, fv = (u - u0)[..., None], (v - v0)[..., None]
        pad = np.pad(src, ((1, 1), (1, 1), (0, 0)))  # transparent border: soft sprite edges

        def at(vv: np.ndarray, uu: np.ndarray) -> np.ndarray:
            return pad[np.clip(vv + 1, 0, sh + 1), np.clip(uu + 1, 0, sw + 1)]

        out = (at(v0, u0) * (1 - fu) * (1 - fv) + at(v0, u0 + 1) * fu * (1 - fv)
               + at(v0 + 1, u0) * (1 - fu) * fv + at(v0 + 1, u0 + 1) * fu * fv)
        out *= inside[..., None]
        if scene.crashed:
            out[..., :3] *= CRASH_TINT
        blend(canvas, top, left, out)


@lru_cache(maxsize=8)
def painter(width: int = 400, height: int = 400) -> Painter:
    """A shared ``Painter`` for that frame size (the sprites are scaled once)."""
    return Painter(width, height)


def render(world: Any, width: int = 400, height: int = 400,
           score: int | None = None) -> np.ndarray:
    """The ``(height, width, 3)`` uint8 picture of a scalar world as it is now."""
    return painter(width, height).frame(scene_of(world, score))


