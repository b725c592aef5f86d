"""Draws the field, the flyer, the walls and the HUD panels; it only reads the game.

Everything lives in one pyglet batch. Sprites and shapes are created once and
moved each frame; label text changes only when the value shown changes, and the
panels refresh a few times a second, so a frame costs little besides the draw.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyglet
from pyglet import shapes
from pyglet.graphics import Batch, Group

from game.session import TICKS_PER_STAGE, Session, View

FONT = ("DejaVu Sans", "Noto Sans", "Arial", "Helvetica")
INK = (238, 243, 250, 255)
DIM = (165, 180, 200, 255)
ACCENT = (255, 209, 84, 255)
HUMAN_C = (255, 150, 80, 255)
PILOT_C = (92, 178, 255, 255)
MARGIN_BG = (27, 36, 51)
PANEL_BG = (18, 26, 40, 255)
"""Panels are opaque and drawn without blending: software GL fills them much faster."""
OPAQUE = {"blend_src": 1, "blend_dest": 0}
"""GL_ONE, GL_ZERO: lets llvmpipe skip reading the pixels underneath."""
PANEL_W = 214
WALL_POOL = 10
PANEL_REFRESH_S = 0.2
SPARK_POINTS = 200
"""Most learning-curve points the sparkline shows (the latest ones)."""
FLYER_UNITS = 0.16
"""The flyer sprite's width in field units (the field is 2 wide)."""

CONTROLS = (
    "SPACE  jump\n"
    "A / TAB  autopilot ⇄ you\n"
    "L  learning on/off\n"
    "H  watch-it-learn panel\n"
    "F  FPS panel\n"
    "1-4  speed 1x 4x 16x max\n"
    "+ / -  tick rate\n"
    "P  pause    R  restart\n"
    "Esc  quit"
)


@dataclass
class Layout:
    """Where the square field [-1, 1]² sits in the window, in pixels."""

    width: int
    height: int
    side: float = 0.0
    x0: float = 0.0
    y0: float = 0.0

    def __post_init__(self) -> None:
        margin = 16
        self.side = max(64.0, min(self.height - 2 * margin, self.width - 2 * margin))
        self.x0 = (self.width - self.side) / 2
        self.y0 = (self.height - self.side) / 2

    def px(self, x: float) -> float:
        return self.x0 + (x + 1.0) * 0.5 * self.side

    def py(self, y: float) -> float:
        return self.y0 + (y + 1.0) * 0.5 * self.side

    @property
    def unit(self) -> float:
        """Pixels per field unit."""
        return self.side * 0.5


def _label(batch: Batch, group: Group, size: float, color=INK, bold: bool = False,
           **kw: Any) -> pyglet.text.Label:
    return pyglet.text.Label("", font_name=FONT, font_size=size, color=color,
                             weight="bold" if bold else "normal", batch=batch, group=group, **kw)


def _set(label: pyglet.text.Label, text: str) -> None:
    """Changes a label's text only when it differs (a re-layout is not free)."""
    if label.text != text:
        label.text = text


def _fmt_count(n: float) -> str:
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e4:
        return f"{n / 1e3:.0f}k"
    if n >= 1e3:
        return f"{n / 1e3:.1f}k"
    return f"{int(n)}"


class ShadowLabel:
    """Large text with a soft dark copy behind it, readable over the bright sky."""

    def __init__(self, batch: Batch, back: Group, front: Group, size: float, **kw: Any) -> None:
        self.shadow = _label(batch, back, size, color=(10, 20, 40, 150), bold=True, **kw)
        self.text = _label(batch, front, size, bold=True, **kw)

    def set(self, text: str, x: float, y: float, color=INK) -> None:
        for lab, dx in ((self.shadow, 2), (self.text, 0)):
            _set(lab, text)
            if (lab.x, lab.y) != (x + dx, y - dx):
                lab.position = (x + dx, y - dx, 0)
        if self.text.color != color:
            self.text.color = color

    def hide(self) -> None:
        self.set("", self.text.x, self.text.y)


class Rows:
    """A column of 'name  value' rows drawn as two multiline labels (each label is a draw call)."""

    def __init__(self, batch: Batch, group: Group, spacing: float, size: float = 10.5,
                 width: float = PANEL_W - 28) -> None:
        self.spacing = spacing
        self.keys = _label(batch, group, size, color=DIM, multiline=True, width=width,
                           anchor_y="top")
        self.vals = _label(batch, group, size + 0.5, bold=True, multiline=True, width=width,
                           align="right", anchor_y="top")
        for lab in (self.keys, self.vals):
            lab.set_style("line_spacing", spacing)

    @property
    def parts(self) -> list:
        return [self.keys, self.vals]

    def place(self, x: float, y: float) -> None:
        """Puts the first row's baseline at ``y``; the rows span ``x .. x + width``."""
        # with a fixed line spacing, pyglet puts the first baseline one spacing below the top
        self.keys.position = (x, y + self.spacing, 0)
        self.vals.position = (x, y + self.spacing, 0)

    def set(self, rows: list[tuple[str, str]]) -> None:
        _set(self.keys, "\n".join(k for k, _ in rows))
        _set(self.vals, "\n".join(v for _, v in rows))


class Sparkline:
    """A polyline of up to ``points`` points, drawn as one triangle list in the batch.

    ``pyglet.shapes.MultiLine`` rebuilds its geometry point by point in Python
    (milliseconds for a 200-point curve, on every refresh while fast-forwarding);
    here every segment is a quad computed with numpy and written in one copy.
    """

    def __init__(self, points: int, thickness: float, color: tuple[int, ...], batch: Batch,
                 group: Group) -> None:
        self.points = points
        self.half = thickness / 2
        n = 6 * (points - 1)
        program = shapes.get_default_shader()
        zeros = (0.0,) * n
        self.vlist = program.vertex_list(
            n, pyglet.gl.GL_TRIANGLES, batch, pyglet.graphics.ShaderGroup(program, parent=group),
            position=("f", zeros * 2), colors=("Bn", tuple(color) * n),
            translation=("f", zeros * 2), rotation=("f", zeros), zposition=("f", zeros))
        self.xy = np.zeros((n, 2), dtype=np.float32)
        """Triangle corners; unused segments stay zero-area."""
        self._visible = True

    def set(self, xs: np.ndarray, ys: np.ndarray) -> None:
        """Draws through the points ``(xs[i], ys[i])`` (the last ``points`` of them)."""
        pts = np.stack((np.asarray(xs, float), np.asarray(ys, float)), 1)[-self.points:]
        self.xy[:] = 0.0
        if len(pts) > 1:
            a, b = pts[:-1], pts[1:]
            d = b - a
            unit = d / np.maximum(np.hypot(d[:, 0], d[:, 1]), 1e-9)[:, None] * self.half
            normal = np.stack((-unit[:, 1], unit[:, 0]), 1)
            a, b = a - unit * 0.5, b + unit * 0.5  # overlap a little: no gaps at the joins
            quads = np.stack((a + normal, a - normal, b - normal, a + normal, b - normal,
                              b + normal), 1)
            self.xy[:quads.shape[0] * 6] = quads.reshape(-1, 2)
        self._push()

    def _push(self) -> None:
        self.vlist.position[:] = (self.xy if self._visible else np.zeros_like(self.xy)).ravel()

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        self._visible = bool(value)
        self._push()


class Renderer:
    """Owns every drawable; ``update`` moves them to match the session, ``draw`` draws."""

    def __init__(self, window: pyglet.window.Window, assets: Path, level: str) -> None:
        self.window = window
        self.level = level
        self.batch = Batch()
        g = [Group(order=i) for i in range(12)]
        self.g = g
        self.layout = Layout(window.width, window.height)
        self.show_learn = False
        self.show_fps = False
        self._panel_due = 0.0
        """When the panels next refresh; 0 refreshes every section on the next frame."""
        self._section = 0
        """Next panel section to refresh (one per frame; see ``update``)."""
        self._hud_key: tuple = ()
        self.toast_text = ""
        self.toast_until = 0.0
        self.info_line = ""
        self.autosave: Any = None
        self.learner_source: str | None = None
        """'saved', 'pilot' or 'new': where the learner came from (game.app sets it)."""
        """The game's ``game.session.Autosave`` (read for the panel), or None."""
        self.notices: list[tuple[str, float]] = []
        """Messages about the saved learner and their expiry times (``perf_counter``)."""
        self._notice_key: tuple[str, ...] = ()
        self.saved_until = 0.0

        def image(name: str, center: bool = False) -> pyglet.image.AbstractImage:
            img = pyglet.image.load(str(assets / name))
            if center:
                img.anchor_x, img.anchor_y = img.width // 2, img.height // 2
            return img

        self.bg_image = image("background.png")
        self.bg_fb: Any = None
        self.bg_tex: Any = None
        gate_img, cap_img = image("gate.png"), image("gate_cap.png")
        self.walls = []
        for _ in range(WALL_POOL):
            parts = [pyglet.sprite.Sprite(gate_img, batch=self.batch, group=g[1], **OPAQUE),
                     pyglet.sprite.Sprite(gate_img, batch=self.batch, group=g[1], **OPAQUE),
                     pyglet.sprite.Sprite(cap_img, batch=self.batch, group=g[2], **OPAQUE),
                     pyglet.sprite.Sprite(cap_img, batch=self.batch, group=g[2], **OPAQUE)]
            for p in parts:
                p.visible = False
            self.walls.append(parts)
        self.edges = [shapes.Rectangle(0, 0, 1, 1, color=(220, 60, 60, 150), batch=self.batch,
                                       group=g[2]) for _ in range(2)]
        self.goal = [shapes.Rectangle(0, 0, 1, 1, color=(255, 255, 255, 210) if i % 2 == 0
                                      else (30, 30, 40, 210), batch=self.batch, group=g[2])
                     for i in range(32)]
        for r in self.goal:
            r.visible = level == "classic"
        self.next_strip = shapes.Rectangle(0, 0, 1, 1, color=(150, 40, 40, 150),
                                           batch=self.batch, group=g[3])
        self.next_gap = shapes.Rectangle(0, 0, 1, 1, color=(120, 255, 140, 230),
                                         batch=self.batch, group=g[3])
        self.next_strip.visible = self.next_gap.visible = False
        self.flyer = pyglet.sprite.Sprite(image("flyer.png", center=True), batch=self.batch,
                                          group=g[4])
        self.score = ShadowLabel(self.batch, g[6], g[7], 40, anchor_x="center", anchor_y="top")
        self.toast = ShadowLabel(self.batch, g[6], g[7], 15, anchor_x="center", anchor_y="top")
        self.banner_bg = shapes.Rectangle(0, 0, 1, 1, color=(10, 18, 32, 170), batch=self.batch,
                                          group=g[6])
        self.banner = ShadowLabel(self.batch, g[6], g[7], 26, anchor_x="center",
                                  anchor_y="center")
        self.banner_sub = _label(self.batch, g[7], 13, anchor_x="center", anchor_y="center")
        # messages about the learner's memory (load problems, failed saves): bottom of the field
        self.notice_bg = shapes.Rectangle(0, 0, 1, 1, color=(10, 18, 32, 200), batch=self.batch,
                                          group=g[6])
        self.notice_bg.visible = False
        self.notice_label = _label(self.batch, g[7], 10.5, multiline=True, width=100,
                                   anchor_y="bottom")
        # the small "Saved" flash: top-left corner of the field
        self.saved_bg = shapes.Rectangle(0, 0, 1, 1, color=(10, 18, 32, 190), batch=self.batch,
                                         group=g[6])
        self.saved_bg.visible = False
        self.saved = _label(self.batch, g[7], 10.5, color=(150, 235, 160, 255), bold=True,
                            anchor_y="top")
        self._build_hud()
        from pyglet import gl

        gl.glClearColor(*(c / 255 for c in MARGIN_BG), 1.0)
        self.resize(window.width, window.height)

    # ------------------------------------------------------------------ HUD building
    def _build_hud(self) -> None:
        b, g = self.batch, self.g
        self.hud_bg = shapes.RoundedRectangle(
            0, 0, PANEL_W, 256, 10, color=PANEL_BG, batch=b, group=g[8], **OPAQUE)
        self.hud_title = _label(b, g[9], 13, color=ACCENT, bold=True)
        self.hud_rows = Rows(b, g[9], 24, size=11)
        self.help = _label(b, g[9], 9.5, color=DIM, multiline=True, width=PANEL_W - 24)
        self.help.text = CONTROLS
        self.help_bg = shapes.RoundedRectangle(
            0, 0, PANEL_W, 180, 10, color=PANEL_BG, batch=b, group=g[8], **OPAQUE)
        # the watch-it-learn panel (right)
        self.learn_bg = shapes.RoundedRectangle(
            0, 0, PANEL_W, 420, 10, color=PANEL_BG, batch=b, group=g[8], **OPAQUE)
        self.learn_title = _label(b, g[9], 13, color=ACCENT, bold=True)
        self.learn_top = Rows(b, g[9], 22)
        self.q_rows = Rows(b, g[9], 40)
        self.learn_mid = Rows(b, g[9], 22)
        self.learn_low = Rows(b, g[9], 22)
        self.learn_save = Rows(b, g[9], 22)
        self.learn_save_title = _label(b, g[9], 9.5, color=ACCENT, bold=True)
        self.q_track = [shapes.Rectangle(0, 0, 1, 1, color=(50, 62, 84, 255), batch=b,
                                         group=g[9]) for _ in range(2)]
        self.q_bars = [shapes.Rectangle(0, 0, 1, 1, color=PILOT_C, batch=b, group=g[10])
                       for _ in range(2)]
        self.q_zero = shapes.Rectangle(0, 0, 1, 1, color=(200, 210, 230, 200), batch=b,
                                       group=g[11])
        self.mem_track = shapes.Rectangle(0, 0, 1, 1, color=(50, 62, 84, 255), batch=b,
                                          group=g[9])
        self.mem_human = shapes.Rectangle(0, 0, 1, 1, color=HUMAN_C, batch=b, group=g[10])
        self.mem_pilot = shapes.Rectangle(0, 0, 1, 1, color=PILOT_C, batch=b, group=g[10])
        self.spark_bg = shapes.Rectangle(0, 0, 1, 1, color=(30, 40, 58, 255), batch=b,
                                         group=g[9])
        self.spark = Sparkline(SPARK_POINTS, 2, ACCENT, b, g[10])
        self.spark_key: tuple | None = None
        self.spark_lo = _label(b, g[10], 8.5, color=DIM)
        self.spark_hi = _label(b, g[10], 8.5, color=DIM)
        self.learn_parts = [self.learn_bg, self.learn_title,
                            *self.learn_top.parts, *self.q_rows.parts, *self.learn_mid.parts,
                            *self.learn_low.parts, *self.learn_save.parts,
                            self.learn_save_title, *self.q_track, *self.q_bars, self.q_zero,
                            self.mem_track, self.mem_human, self.mem_pilot, self.spark_bg,
                            self.spark, self.spark_lo, self.spark_hi]
        # the FPS panel (left, under the HUD)
        self.fps_bg = shapes.RoundedRectangle(
            0, 0, PANEL_W, 118, 10, color=PANEL_BG, batch=b, group=g[8], **OPAQUE)
        self.fps_rows = Rows(b, g[9], 21)
        self.fps_parts = [self.fps_bg, *self.fps_rows.parts]
        self._set_visible(self.learn_parts, False)
        self._set_visible(self.fps_parts, False)

    @staticmethod
    def _set_visible(parts: list, visible: bool) -> None:
        for p in parts:
            p.visible = visible

    def toggle_learn_panel(self) -> bool:
        self.show_learn = not self.show_learn
        self._set_visible(self.learn_parts, self.show_learn)
        self._panel_due = 0.0
        return self.show_learn

    def toggle_fps_panel(self) -> bool:
        self.show_fps = not self.show_fps
        self._set_visible(self.fps_parts, self.show_fps)
        self._panel_due = 0.0
        return self.show_fps

    def say(self, text: str, seconds: float = 2.5) -> None:
        """A short message under the score (pilot handed over, learning off...)."""
        self.toast_text = text
        self.toast_until = time.perf_counter() + seconds

    def unsay(self, *texts: str) -> None:
        """Ends the message under the score now if it is one of ``texts``."""
        if self.toast_text in texts:
            self.toast_until = 0.0

    def toast_live(self) -> bool:
        """True while the toast under the score is on screen."""
        return time.perf_counter() < self.toast_until

    def notice(self, text: str, seconds: float = 8.0) -> None:
        """A one-line message at the bottom of the field (a load problem, a failed save)."""
        now = time.perf_counter()
        self.notices = [(t, u) for t, u in self.notices if u > now and t != text]
        self.notices.append((text, now + seconds))
        del self.notices[:-3]  # the newest three; older ones were in the terminal too

    def notices_shown(self) -> list[str]:
        """The messages on screen now."""
        now = time.perf_counter()
        return [t for t, u in self.notices if u > now]

    def flash_saved(self, seconds: float = 2.0) -> None:
        """Shows the small "Saved" mark for a moment (an autosave finished)."""
        self.saved_until = time.perf_counter() + seconds

    def saved_flash_live(self) -> bool:
        """True while the "Saved" mark is on screen."""
        return time.perf_counter() < self.saved_until

    # ------------------------------------------------------------------ layout
    def resize(self, width: int, height: int) -> None:
        """Fits the field and panels to a new window size."""
        L = self.layout = Layout(width, height)
        self._bake_background(L)
        self.flyer.scale = FLYER_UNITS * L.unit / self.flyer.image.width
        for e, y in zip(self.edges, (L.y0, L.y0 + L.side - 3), strict=True):
            e.position, e.width, e.height = (L.x0, y), L.side, 3
        strip_w = max(5.0, 0.03 * L.unit)
        self.next_strip.position = (L.x0 + L.side - strip_w, L.y0)
        self.next_strip.width, self.next_strip.height = strip_w, L.side
        self.next_gap.x, self.next_gap.width = L.x0 + L.side - strip_w, strip_w
        cell = L.side / 16
        w = max(4.0, 0.035 * L.unit)
        for i, r in enumerate(self.goal):
            col, row = divmod(i, 16)
            r.position = (L.x0 + L.side - (2 - col) * w, L.y0 + row * cell)
            r.width, r.height = w, cell
            r.color = (255, 255, 255, 210) if (row + col) % 2 == 0 else (30, 30, 40, 210)
        # panels: left column (HUD, FPS, controls), right column (watch it learn)
        left = 12 if L.x0 >= PANEL_W + 16 else L.x0 + 8
        right = width - PANEL_W - 12 if L.x0 >= PANEL_W + 16 else L.x0 + L.side - PANEL_W - 8
        top = height - 12
        self.hud_bg.position, self.hud_bg.height = (left, top - 244), 244
        self.hud_title.position = (left + 14, top - 30, 0)
        self.hud_rows.place(left + 14, top - 64)
        fy = top - 244 - 10
        self.fps_bg.position, self.fps_bg.height = (left, fy - 148), 148
        self.fps_rows.place(left + 14, fy - 28)
        self.help_bg.position, self.help_bg.height = (left, 12), 176
        self.help.position = (left + 12, 12 + 164, 0)
        self.help.anchor_y = "top"
        # watch-it-learn
        h = 558
        self.learn_bg.position, self.learn_bg.height = (right, top - h), h
        x0, x1 = right + 14, right + PANEL_W - 14
        self.learn_title.position = (x0, top - 28, 0)
        y = top - 54
        self.learn_top.place(x0, y)
        y -= 56
        bar_w = x1 - x0
        self.q_rows.place(x0, y)
        for i in range(2):
            yy = y - 40 * i
            self.q_track[i].position, self.q_track[i].width, self.q_track[i].height = \
                (x0, yy - 20), bar_w, 12
        self.q_geom = (x0, bar_w, y - 20)
        self.q_zero.position, self.q_zero.width, self.q_zero.height = \
            (x0 + bar_w / 2 - 1, y - 62), 2, 56
        y -= 86
        self.learn_mid.place(x0, y)
        y -= 2 * 22 + 16
        self.mem_track.position, self.mem_track.width, self.mem_track.height = (x0, y), bar_w, 8
        self.mem_geom = (x0, bar_w, y)
        self.mem_human.position, self.mem_human.height = (x0, y), 8
        self.mem_pilot.position, self.mem_pilot.height = (x0, y), 8
        y -= 24
        self.learn_low.place(x0, y)
        y -= 2 * 22 + 22
        bottom = top - h + 30 + 112  # room under the curve for the memory-on-disk rows
        self.spark_rect = (x0, bottom, bar_w, y - 4 - bottom)
        self.learn_save_title.position = (x0, bottom - 36, 0)
        self.learn_save.place(x0, bottom - 56)
        sx, sy, sw, sh = self.spark_rect
        self.spark_bg.position, self.spark_bg.width, self.spark_bg.height = (sx, sy), sw, sh
        self.spark_lo.position = (sx + 3, sy - 14, 0)
        self.spark_hi.position = (sx + 3, sy + sh - 12, 0)
        self.spark_key = None
        self._panel_due = 0.0

    def _bake_background(self, L: Layout) -> None:
        """Scales the sky into an offscreen texture once per resize.

        Each frame then copies it with ``glBlitFramebuffer``: a plain copy, which
        software OpenGL (llvmpipe under Xvfb) does about twice as fast as drawing
        a textured quad over the same area.
        """
        from pyglet import gl
        from pyglet.image import Framebuffer, Texture

        side = max(1, int(round(L.side)))
        if self.bg_fb is not None:
            self.bg_fb.delete()
        self.bg_tex = Texture.create(side, side)
        self.bg_fb = Framebuffer()
        self.bg_fb.attach_texture(self.bg_tex)
        from pyglet.math import Mat4

        window = self.window
        saved = window.projection
        self.bg_fb.bind()
        gl.glViewport(0, 0, side, side)
        window.projection = Mat4.orthogonal_projection(0, side, 0, side, -255, 255)
        self.bg_image.get_texture().blit(0, 0, width=side, height=side)
        self.bg_fb.unbind()
        window.projection = saved
        w, h = window.get_framebuffer_size()
        gl.glViewport(0, 0, w, h)
        self.bg_side = side

    def _blit_background(self) -> None:
        from pyglet import gl

        L, side = self.layout, self.bg_side
        scale = self.window.get_pixel_ratio()
        x0, y0 = int(round(L.x0 * scale)), int(round(L.y0 * scale))
        x1, y1 = int(round((L.x0 + L.side) * scale)), int(round((L.y0 + L.side) * scale))
        gl.glBindFramebuffer(gl.GL_READ_FRAMEBUFFER, self.bg_fb.id)
        gl.glBindFramebuffer(gl.GL_DRAW_FRAMEBUFFER, 0)
        gl.glBlitFramebuffer(0, 0, side, side, x0, y0, x1, y1, gl.GL_COLOR_BUFFER_BIT,
                             gl.GL_NEAREST if (x1 - x0) == side else gl.GL_LINEAR)
        gl.glBindFramebuffer(gl.GL_FRAMEBUFFER, 0)

    # ------------------------------------------------------------------ per frame
    def update(self, session: Session, view: View, stats: dict[str, Any]) -> None:
        """Moves everything to match the session; cheap enough for every frame."""
        L = self.layout
        self._place_flyer(view, L)
        if self.level == "arcade":
            self._place_walls(session, view, L)
        now = time.perf_counter()
        top = L.y0 + L.side - 14
        self.score.set(str(session.score), L.x0 + L.side / 2, top)
        if now < self.toast_until:
            self.toast.set(self.toast_text, L.x0 + L.side / 2, top - 58)
        else:
            self.toast.hide()
        self._place_notices(now, L)
        self._place_saved(now, L)
        self._banner(session, L)
        key = (session.score, session.stage, session.pilot, session.speed_index)
        # At 1x the panel's score moves with the big score; when fast-forwarding the score
        # changes almost every frame, and re-laying out every panel label each frame costs
        # more than the simulation, so the panels then follow the refresh timer only.
        moved = key != self._hud_key and (session.speed_index == 0 or key[2:] != self._hud_key[2:])
        if moved:
            self._hud_key = key
            self._update_hud(session, stats)
        if now < self._panel_due:
            return
        # A refresh is spread over consecutive frames, one panel section per frame, so no
        # single frame pays for re-laying out every label (a toggle shows all at once).
        sections = [self._update_hud]
        if self.show_learn:
            sections += [self._update_learn, self._update_learn_stats, self._update_save_rows,
                         self._update_spark]
        if self.show_fps:
            sections.append(self._update_fps)
        if self._panel_due == 0.0:
            self._section = 0
            for update in sections:
                update(session, stats)
        else:
            sections[self._section % len(sections)](session, stats)
            self._section += 1
            if self._section < len(sections):
                return
            self._section = 0
        self._hud_key = key
        self._panel_due = now + PANEL_REFRESH_S

    def refresh_due(self, now: float) -> bool:
        """Whether ``update`` at time ``now`` (``perf_counter``) refreshes a panel section."""
        return now >= self._panel_due

    def _place_notices(self, now: float, L: Layout) -> None:
        shown = tuple(t for t, u in self.notices if u > now)
        if shown == self._notice_key and (not shown or self.notice_label.x == L.x0 + 14):
            return
        self._notice_key = shown
        if not shown:
            self.notices = []
            _set(self.notice_label, "")
            self.notice_bg.visible = False
            return
        self.notice_label.width = max(L.side - 28, 60)
        _set(self.notice_label, "\n".join(shown))
        self.notice_label.position = (L.x0 + 14, L.y0 + 14, 0)
        self.notice_bg.position = (L.x0 + 6, L.y0 + 6)
        self.notice_bg.width = L.side - 12
        self.notice_bg.height = self.notice_label.content_height + 16
        self.notice_bg.visible = True

    def _place_saved(self, now: float, L: Layout) -> None:
        on = now < self.saved_until
        if on == self.saved_bg.visible and (not on or self.saved.x == L.x0 + 16):
            return
        _set(self.saved, "✓ Saved" if on else "")
        self.saved_bg.visible = on
        if on:
            self.saved.position = (L.x0 + 16, L.y0 + L.side - 16, 0)
            self.saved_bg.position = (L.x0 + 8, L.y0 + L.side - 16 - self.saved.content_height
                                      - 6)
            self.saved_bg.width = self.saved.content_width + 16
            self.saved_bg.height = self.saved.content_height + 12

    def _place_flyer(self, view: View, L: Layout) -> None:
        y = min(max(view.y, -0.95), 0.95)  # a crash past the edge stays in sight
        crashed = view.phase in ("crashed", "game_over")
        if crashed:
            rotation = 70.0
            color = (255, 140, 130)
        else:
            rotation = -math.degrees(math.atan(view.dy * 4.0))
            color = (255, 255, 255)
        self.flyer.update(x=L.px(view.x), y=L.py(y), rotation=rotation)
        if self.flyer.color[:3] != color:
            self.flyer.color = color

    def _place_walls(self, session: Session, view: View, L: Layout) -> None:
        course = session.world.course
        base = view.stage * TICKS_PER_STAGE
        local_t = view.t - base
        starts = course.start
        lo = int(np.searchsorted(starts, base - 3))
        hi = int(np.searchsorted(starts, base + TICKS_PER_STAGE))
        items = [(i, 255) for i in range(lo, min(hi, starts.size))]
        # beyond the right edge: mark where the next stage's first gap will be, so the
        # player can line up before the flyer wraps to the left
        nxt = base + TICKS_PER_STAGE
        show = hi < starts.size and starts[hi] < nxt + 12 and local_t > TICKS_PER_STAGE - 14
        self.next_strip.visible = self.next_gap.visible = bool(show)
        if show:
            gy, half = float(course.gap_y[hi]), float(course.half_gap[hi])
            self.next_gap.y = L.py(gy - half)
            self.next_gap.height = half * L.side
        ends = course.end
        wall_w = 0.15 * L.unit
        for slot, parts in enumerate(self.walls):
            if slot >= len(items):
                if parts[0].visible:
                    for p in parts:
                        p.visible = False
                continue
            i, alpha = items[slot]
            stage_base = base
            xa = -1.0 + 0.05 * (int(starts[i]) - stage_base) - 0.025
            xb = -1.0 + 0.05 * (int(ends[i]) - stage_base) + 0.025
            xa, xb = max(xa, -1.0), min(xb, 1.0)
            if xb <= xa:
                for p in parts:
                    p.visible = False
                continue
            gy, half = float(course.gap_y[i]), float(course.half_gap[i])
            left, width = L.px(xa), (xb - xa) * L.unit
            gap_lo, gap_hi = L.py(gy - half), L.py(gy + half)
            bottom, top = L.y0, L.y0 + L.side
            low, up, cap_lo, cap_hi = parts
            low.update(x=left, y=bottom, scale_x=width / low.image.width,
                       scale_y=max(gap_lo - bottom, 0.5) / low.image.height)
            up.update(x=left, y=gap_hi, scale_x=width / up.image.width,
                      scale_y=max(top - gap_hi, 0.5) / up.image.height)
            cap_h = 0.045 * L.unit
            cap_w = min(width + 0.04 * L.unit, wall_w * 1.3)
            cx = left + width / 2 - cap_w / 2
            cap_lo.update(x=cx, y=gap_lo - cap_h, scale_x=cap_w / cap_lo.image.width,
                          scale_y=cap_h / cap_lo.image.height)
            cap_hi.update(x=cx, y=gap_hi, scale_x=cap_w / cap_hi.image.width,
                          scale_y=cap_h / cap_hi.image.height)
            for p in parts:
                p.visible = True
                if p.opacity != alpha:
                    p.opacity = alpha

    def _banner(self, session: Session, L: Layout) -> None:
        title = sub = ""
        if session.paused:
            title = "Paused"
            sub = {"focus": "the window lost focus — press P or SPACE to fly on",
                   "hidden": "press P or SPACE to fly on"}.get(session.pause_reason or "",
                                                                "P or SPACE to fly on")
        elif session.phase == "ready":
            title = "Ready?"
            sub = "SPACE to fly  ·  A hands the controls to the autopilot"
        elif session.phase == "game_over":
            title = f"Game over — {session.score} gate" + ("" if session.score == 1 else "s")
            sub = ("the autopilot tries again…" if session.pilot == "autopilot"
                   else "SPACE or R to fly again")
        cx, cy = L.x0 + L.side / 2, L.y0 + L.side * 0.55
        if title:
            self.banner.set(title, cx, cy + 14)
            _set(self.banner_sub, sub)
            self.banner_sub.position = (cx, cy - 22, 0)
            self.banner_bg.position = (L.x0, cy - 46)
            self.banner_bg.width, self.banner_bg.height = L.side, 96
            self.banner_bg.visible = True
        else:
            self.banner.hide()
            _set(self.banner_sub, "")
            self.banner_bg.visible = False

    def _update_hud(self, session: Session, stats: dict[str, Any]) -> None:
        _set(self.hud_title, "GRAVITY FLYER")
        who = "you" if session.pilot == "human" else "autopilot"
        best_of = "you" if session.run_kind == "human" else "autopilot"
        learner = session.learner
        learning = "—" if learner is None else ("on" if learner.learn_enabled else "off")
        rows = [("Level", self.level),
                ("Score", str(session.score)),
                (f"Best ({best_of})", str(session.best)),
                ("Stage", str(session.stage)),
                ("Tick rate", f"{session.tick_rate:g} /s"),
                ("Speed", session.speed_name),
                ("Flying", who),
                ("Learning", learning)]
        self.hud_rows.set(rows)

    def _update_learn(self, session: Session, stats: dict[str, Any]) -> None:
        """The learn panel's top: who flies, epsilon and the Q bars."""
        learner = session.learner
        _set(self.learn_title, "WATCH IT LEARN")
        if learner is None:
            self.learn_top.set([(self.info_line or "autopilot unavailable", "")])
            return
        who = "you" if session.pilot == "human" else "autopilot"
        eps = f"{learner.epsilon:.3f}" if learner.learn_enabled else "greedy"
        self.learn_top.set([("Flying", who), ("Epsilon", eps)])
        q = np.asarray(learner.q_values(session.obs), dtype=float)
        x0, bar_w, _ = self.q_geom
        scale = max(1.0, float(np.max(np.abs(q)))) if np.all(np.isfinite(q)) else 1.0
        best = int(np.argmax(q))
        self.q_rows.set([("Q FALL", f"{q[0]:+.3f}"), ("Q JUMP", f"{q[1]:+.3f}")])
        for i in range(2):
            frac = float(np.clip(q[i] / scale, -1, 1)) if np.isfinite(q[i]) else 0.0
            bar = self.q_bars[i]
            mid = x0 + bar_w / 2
            w = abs(frac) * bar_w / 2
            bar.position = (mid - w if frac < 0 else mid, self.q_track[i].y)
            bar.width, bar.height = max(w, 1.0), 12
            bar.color = (ACCENT if i == best else (120, 135, 160, 255))

    def _update_learn_stats(self, session: Session, stats: dict[str, Any]) -> None:
        """The learn panel's middle: loss, memory (and its bar), episodes and success."""
        learner = session.learner
        if learner is None:
            return
        loss = learner.last_loss
        mem = learner.memory
        human = int(mem.human_count)
        size, cap = int(mem.size), int(mem.capacity)
        recent = list(learner.recent_scores)
        if self.level == "classic":
            perf_k = "Success (last 100)"
            perf_v = f"{100 * sum(recent) / len(recent):.0f}%" if recent else "—"
        else:
            perf_k = "Mean (last 100)"
            perf_v = f"{sum(recent) / len(recent):.1f}" if recent else "—"
        self.learn_mid.set([("Loss", "—" if loss is None else f"{loss:.4f}"),
                            ("Memory", f"{_fmt_count(size)} / {_fmt_count(cap)}"),
                            ("  you / autopilot",
                             f"{_fmt_count(human)} / {_fmt_count(size - human)}")])
        self.learn_low.set([("Episodes", _fmt_count(learner.episodes)),
                            ("Env steps", _fmt_count(learner.env_steps)), (perf_k, perf_v)])
        mx, mw, my = self.mem_geom
        hw = mw * human / cap if cap else 0.0
        pw = mw * (size - human) / cap if cap else 0.0
        self.mem_human.width = max(hw, 0.0)
        self.mem_pilot.position = (mx + hw, my)
        self.mem_pilot.width = max(pw, 0.0)

    def _update_save_rows(self, session: Session, stats: dict[str, Any]) -> None:
        _set(self.learn_save_title, "MEMORY ON DISK")
        a = self.autosave
        if a is None:
            self.learn_save.set([("Saving", "off"), ("", ""), ("", ""), ("", "")])
            return
        if a.resumed is None:
            origin = "pilot file" if self.learner_source == "pilot" else "new learner"
            carried = [("Started", origin), ("  carried over", "nothing")]
        else:
            episodes, steps = a.resumed
            carried = [("Resumed from", f"save {a.loaded_generation}"),
                       ("  episodes", _fmt_count(episodes)), ("  env steps", _fmt_count(steps))]
        ago = a.seconds_since_save()
        if a.last is not None and not a.last.ok:
            last = "failed"
        elif a.busy:
            last = "saving…"
        elif ago is None:
            last = "not yet"
        elif ago < 90:
            last = f"{ago:.0f} s ago"
        else:
            last = f"{ago / 60:.0f} min ago"
        rows = [*carried, ("Last save", last)]
        self.learn_save.set(rows + [("", "")] * (4 - len(rows)))

    def _update_spark(self, session: Session, stats: dict[str, Any]) -> None:
        if session.learner is None:
            return
        curve = session.learner.curve
        key = (len(curve), curve[-1] if curve else None)
        if key == self.spark_key:
            return
        self.spark_key = key
        sx, sy, sw, sh = self.spark_rect
        if len(curve) < 2:
            self.spark.set(np.zeros(0), np.zeros(0))
            _set(self.spark_lo, "curve: waiting for episodes")
            _set(self.spark_hi, "")
            return
        pts = np.asarray(curve[-SPARK_POINTS:], dtype=float)
        steps, vals = pts[:, 0], pts[:, 1]
        lo, hi = (0.0, 1.0) if self.level == "classic" else (0.0, max(1.0, float(vals.max())))
        span = max(steps[-1] - steps[0], 1.0)
        xs = sx + 2 + (steps - steps[0]) / span * (sw - 4)
        ys = sy + 3 + np.clip((vals - lo) / (hi - lo), 0, 1) * (sh - 6)
        self.spark.set(xs, ys)
        unit = "%" if self.level == "classic" else ""
        top = f"{hi * 100:.0f}{unit}" if self.level == "classic" else f"{hi:.0f}"
        _set(self.spark_hi, f"learning curve (max {top})")
        _set(self.spark_lo, f"{_fmt_count(steps[0])} → {_fmt_count(steps[-1])} steps")

    def _update_fps(self, session: Session, stats: dict[str, Any]) -> None:
        g = stats.get
        rows = [("FPS", f"{g('fps', 0):.0f}"),
                ("ms", "p50 | p99"),
                ("Frame", f"{g('int_p50', 0):.1f} | {g('int_p99', 0):.1f}"),
                ("Work", f"{g('work_p50', 0):.1f} | {g('work_p99', 0):.1f}"),
                ("Env steps/s", _fmt_count(stats.get("steps_per_s", 0))),
                ("Ticks/frame", f"{stats.get('ticks_per_frame', 0):.1f}")]
        self.fps_rows.set(rows)

    def draw(self) -> None:
        self.window.clear()
        self._blit_background()
        self.batch.draw()
