"""Draws the game into numpy pictures: no window, no OpenGL, no pyglet.

The Gymnasium envs' ``rgb_array`` frames, ``main.py record`` and the learning-curve
PNG of ``main.py train`` all come from here, so a server without a display can
make every picture the game makes. The sprites are the game's own PNG assets,
decoded by the small reader below (our asset writer's format: 8-bit RGB/RGBA).

Frames are ``(H, W, 3)`` uint8 with row 0 at the top; the square field
``[-1, 1]²`` fills the frame.
"""

from __future__ import annotations

import csv
import math
import struct
import zlib
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

FLYER_UNITS = 0.16
"""The flyer sprite's width in field units (the field is 2 wide), as in the window."""
WALL_HALF_TICK = 0.5
"""Walls are drawn half a tick wider on each side of the ticks they occupy (as in the window)."""
SHADOW = np.array([10, 20, 40], dtype=np.float32) / 255
INK = np.array([238, 243, 250], dtype=np.float32) / 255
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
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


# ----------------------------------------------------------------------- PNG files
def read_png(data: bytes) -> np.ndarray:
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG into ``(h, w, 4)`` uint8.

    Enough for the game's own assets (``assets/make_assets.py`` writes them); other
    kinds raise ``ValueError`` with a one-line reason.
    """
    # Kept whole: the chunk walk, the checks and the five row filters read as one format.
    if data[:8] != PNG_SIGNATURE:
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        n, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat.append(body)
        elif tag == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without a header")
    w, h, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (bit depth {depth}, colour type {colour}, "
                         f"interlace {interlace}); expected 8-bit RGB/RGBA")
    ch = 3 if colour == 2 else 4
    stride = w * ch
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    if raw.size != h * (stride + 1):
        raise ValueError("truncated PNG data")
    raw = raw.reshape(h, stride + 1)
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int64)
    for r in range(h):
        kind, line = int(raw[r, 0]), raw[r, 1:].astype(np.int64)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum per channel
            cur = line.reshape(w, ch).cumsum(axis=0).reshape(-1) & 255
        elif kind == 2:  # Up
            cur = (line + prev) & 255
        elif kind in (3, 4):  # Average, Paeth: each byte needs its left neighbour's result
            cur = np.zeros(stride, dtype=np.int64)
            up = prev.tolist()
            vals = line.tolist()
            row = [0] * stride
            for i in range(stride):
                a = row[i - ch] if i >= ch else 0
                b = up[i]
                if kind == 3:
                    row[i] = (vals[i] + (a + b) // 2) & 255
                else:
                    c = up[i - ch] if i >= ch else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                    row[i] = (vals[i] + pred) & 255
            cur[:] = row
        else:
            raise ValueError(f"bad PNG filter type {kind}")
        out[r] = cur
        prev = cur
    img = out.reshape(h, w, ch)
    if ch == 3:
        img = np.concatenate([img, np.full((h, w, 1), 255, dtype=np.uint8)], axis=2)
    return img


def png_bytes(image: np.ndarray) -> bytes:
    """Encodes an ``(h, w, 3)`` or ``(h, w, 4)`` uint8 image as PNG bytes."""
    img = np.ascontiguousarray(image, dtype=np.uint8)
    h, w, ch = img.shape
    if ch not in (3, 4):
        raise ValueError(f"expected 3 or 4 channels, got {ch}")
    raw = np.zeros((h, 1 + w * ch), dtype=np.uint8)  # filter byte 0 on every row
    raw[:, 1:] = img.reshape(h, -1)

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body)))

    return (PNG_SIGNATURE
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if ch == 3 else 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
            + chunk(b"IEND", b""))


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
    flock_rgb: np.ndarray | None = None
    """Each of those flyers' tint, ``(n, 3)`` in 0-1 (the lab's teams); None: the flock's blue."""


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


# ----------------------------------------------------------------------- drawing
DIGITS = {
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11110", "00001", "00001", "01110", "00001", "00001", "11110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
    ".": ("00000", "00000", "00000", "00000", "00000", "01100", "01100"),
    "-": ("00000", "00000", "00000", "11111", "00000", "00000", "00000"),
    "k": ("10000", "10000", "10010", "10100", "11000", "10100", "10010"),
    "M": ("10001", "11011", "10101", "10101", "10001", "10001", "10001"),
    " ": ("00000",) * 7,
    "a": ("00000", "00000", "01110", "00001", "01111", "10001", "01111"),
    "b": ("10000", "10000", "10110", "11001", "10001", "10001", "11110"),
    "c": ("00000", "00000", "01110", "10000", "10000", "10001", "01110"),
    "d": ("00001", "00001", "01101", "10011", "10001", "10001", "01111"),
    "e": ("00000", "00000", "01110", "10001", "11111", "10000", "01110"),
    "f": ("00110", "01001", "01000", "11100", "01000", "01000", "01000"),
    "g": ("00000", "01111", "10001", "10001", "01111", "00001", "01110"),
    "h": ("10000", "10000", "10110", "11001", "10001", "10001", "10001"),
    "i": ("00100", "00000", "01100", "00100", "00100", "00100", "01110"),
    "l": ("01100", "00100", "00100", "00100", "00100", "00100", "01110"),
    "m": ("00000", "00000", "11010", "10101", "10101", "10001", "10001"),
    "n": ("00000", "00000", "10110", "11001", "10001", "10001", "10001"),
    "o": ("00000", "00000", "01110", "10001", "10001", "10001", "01110"),
    "p": ("00000", "00000", "11110", "10001", "11110", "10000", "10000"),
    "r": ("00000", "00000", "10110", "11001", "10000", "10000", "10000"),
    "s": ("00000", "00000", "01111", "10000", "01110", "00001", "11110"),
    "t": ("01000", "01000", "11100", "01000", "01000", "01001", "00110"),
    "u": ("00000", "00000", "10001", "10001", "10001", "10011", "01101"),
    "v": ("00000", "00000", "10001", "10001", "10001", "01010", "00100"),
    "w": ("00000", "00000", "10001", "10001", "10101", "10101", "01010"),
    "x": ("00000", "00000", "10001", "01010", "00100", "01010", "10001"),
    "y": ("00000", "10001", "10001", "10001", "01111", "00001", "01110"),
    "/": ("00000", "00001", "00010", "00100", "01000", "10000", "00000"),
    "(": ("00010", "00100", "01000", "01000", "01000", "00100", "00010"),
    ")": ("01000", "00100", "00010", "00010", "00010", "00100", "01000"),
    ":": ("00000", "01100", "01100", "00000", "01100", "01100", "00000"),
}
"""A 5x7 bitmap font: the digits and the few characters the score, plots and captions use."""


def text_mask(text: str, scale: int) -> np.ndarray:
    """A boolean ``(7 s, 6 s n - s)`` mask of ``text`` in the 5x7 font, ``s`` = scale."""
    glyphs = [np.array([[c == "1" for c in row] for row in DIGITS.get(ch, DIGITS[" "])])
              for ch in text]
    gap = np.zeros((7, 1), dtype=bool)
    parts: list[np.ndarray] = []
    for g in glyphs:
        parts += [g, gap]
    mask = np.concatenate(parts[:-1] or [np.zeros((7, 0), dtype=bool)], axis=1)
    return np.kron(mask, np.ones((scale, scale), dtype=bool))


def blend(canvas: np.ndarray, top: int, left: int, rgba: np.ndarray) -> None:
    """Composites premultiplied ``rgba`` onto the float RGB ``canvas`` at (top, left), clipped."""
    H, W = canvas.shape[:2]
    h, w = rgba.shape[:2]
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, H), min(left + w, W)
    if r1 <= r0 or c1 <= c0:
        return
    src = rgba[r0 - top:r1 - top, c0 - left:c1 - left]
    dst = canvas[r0:r1, c0:c1]
    dst *= 1 - src[..., 3:]
    dst += src[..., :3]


def fill(canvas: np.ndarray, mask: np.ndarray, top: int, left: int, rgb: np.ndarray,
         alpha: float = 1.0) -> None:
    """Paints ``rgb`` with ``alpha`` where the boolean ``mask`` is set, placed at (top, left)."""
    a = mask.astype(np.float32)[..., None] * alpha
    blend(canvas, top, left, np.concatenate([a * rgb, a], axis=2))


def draw_text(canvas: np.ndarray, text: str, cx: int, top: int, scale: int,
              rgb: np.ndarray = INK, shadow: bool = True) -> None:
    """Draws ``text`` centred on column ``cx``, with a soft dark copy behind it."""
    mask = text_mask(text, scale)
    left = cx - mask.shape[1] // 2
    if shadow:
        off = max(1, scale // 2)
        fill(canvas, mask, top + off, left + off, SHADOW, 0.6)
    fill(canvas, mask, top, left, rgb)


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
            self._flock(canvas, scene.flock_x, scene.flock_y, scene.flock_rgb)
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

    def _flock(self, canvas: np.ndarray, xs: np.ndarray, ys: np.ndarray,
               rgb: np.ndarray | None = None) -> None:
        """The flock's flyers: one tinted, see-through sprite each, level (as the window's);
        ``rgb`` tints each flyer (default: the flock's blue)."""
        if self._flock_sprite is None:
            w = max(2, int(round(FLYER_UNITS * self.width / 2)))
            h = max(2, int(round(w * self.flyer.shape[0] / self.flyer.shape[1])))
            self._flock_base = resize(self.flyer, h, w)
            tinted = self._flock_base.copy()
            tinted[..., :3] *= FLOCK_TINT
            self._flock_sprite = tinted * FLOCK_ALPHA  # premultiplied: alpha scales all four
            self._tinted: dict[tuple[float, ...], np.ndarray] = {}
        h, w = self._flock_sprite.shape[:2]
        tints = [None] * len(xs) if rgb is None else [tuple(c) for c in np.asarray(rgb).tolist()]
        for x, y, tint in zip(np.asarray(xs).tolist(), np.asarray(ys).tolist(), tints,
                              strict=True):
            spr = self._flock_sprite
            if tint is not None:
                spr = self._tinted.get(tint)
                if spr is None:
                    spr = self._flock_base.copy()
                    spr[..., :3] *= np.asarray(tint, np.float32)
                    spr = self._tinted[tint] = spr * np.float32(0.55)
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


# ----------------------------------------------------------------------- learning curves
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
               labels: tuple[str, ...] = (), colours: list[np.ndarray] | None = None,
               x_label: str = "env steps") -> np.ndarray:
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
    colours = colours or [PLOT_LINE, PLOT_LINE2]
    for j, ys in enumerate(ys_all):
        ok = np.isfinite(ys)
        if ok.sum() < 1:
            continue
        px = left + (xs[ok] - x_lo) / (x_hi - x_lo) * pw
        py = bottom - (np.clip(ys[ok], lo, hi) - lo) / (hi - lo) * ph
        if px.size == 1:
            px, py = np.repeat(px, 2), np.repeat(py, 2)
        _polyline(canvas, px, py, colours[j % len(colours)])
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
        mask = text_mask(x_label, scale)
        fill(canvas, mask, bottom + 6, left + (pw - mask.shape[1]) // 2, PLOT_DIM)
    c = left
    for j, text in enumerate(labels):
        mask = text_mask(text, scale)
        fill(canvas, mask, 8, c, colours[j % len(colours)])
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
