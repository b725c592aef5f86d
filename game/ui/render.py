"""Draws the game: the scene, the texts over it and the HUD panels; it only reads the game.

Everything lives in one pyglet batch. Sprites and shapes are created once and
moved each frame; label text changes only when the value shown changes, and the
panels refresh a few times a second, one panel section per frame, so a frame
costs little besides the draw.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from pyglet import gl
from pyglet.graphics import Batch, Group

from game.play.phases import Phase
from game.play.session import Session, View
from game.ui.hud.flock_panel import FlockPanel
from game.ui.hud.overlay import Overlay
from game.ui.hud.panels import FpsPanel, HelpPanel, HudPanel, LearnPanel, Sources
from game.ui.layout import Layout, layout
from game.ui.messages import Messages
from game.ui.scene import Scene

MARGIN_BG = (27, 36, 51)
HUMAN_TINT = (255, 190, 120)
"""The person's flyer among a flock: solid and warm against the flock's cool blue."""
PANEL_REFRESH_S = 0.2


class Renderer:
    """Owns every drawable; ``update`` moves them to match the session, ``draw`` draws.

    Args:
        window: the pyglet window.
        assets: the folder of images.
        has_course: the level has walls to draw (arcade) rather than a goal line.
        messages: the texts to show (toasts, notices, the saved mark).
    """

    def __init__(self, window: Any, assets: Path, has_course: bool,
                 messages: Messages | None = None, flock: bool = False) -> None:
        self.window = window
        self.batch = Batch()
        self.groups = [Group(order=i) for i in range(12)]
        self.messages = messages or Messages()
        self.scene = Scene(window, self.batch, self.groups, assets, has_course)
        self.overlay = Overlay(self.batch, self.groups, self.messages)
        self.hud, self.fps, self.help, self.learn = (HudPanel(), FpsPanel(), HelpPanel(),
                                                    LearnPanel())
        self.flock_panel = FlockPanel()
        self.has_flock = flock
        """The session flies a flock: its panel shows where the FPS panel goes (F swaps)."""
        for panel in (self.hud, self.fps, self.help, self.learn, self.flock_panel):
            panel.build(self.batch, self.groups)
        self.show_learn = False
        self.show_fps = False
        self.autosave: Any = None
        """The game's ``game.wiring.autosave.Autosave`` (read for the panel), or None."""
        self.learner_source: str | None = None
        """'saved', 'pilot' or 'new': where the learner came from (game.ui.app sets it)."""
        self.info_line = ""
        self._panel_due = 0.0
        """When the panels next refresh; 0 refreshes every section on the next frame."""
        self._section = 0
        """Next panel section to refresh (one per frame; see ``update``)."""
        self._hud_key: tuple = ()
        gl.glClearColor(*(c / 255 for c in MARGIN_BG), 1.0)
        self.layout: Layout = layout(window.width, window.height)
        self.resize(window.width, window.height)

    def toggle_learn_panel(self) -> bool:
        """H: the watch-it-learn panel; returns whether it is on screen."""
        self.show_learn = not self.show_learn
        return self._show_panels() or not self.show_learn

    def toggle_fps_panel(self) -> bool:
        """F: the FPS panel; returns whether it is on screen."""
        self.show_fps = not self.show_fps
        return self._show_panels() or not self.show_fps

    def _show_panels(self) -> bool:
        """Shows the panels that are on and fit; False if a panel that is on does not fit."""
        L = self.layout
        room = not L.folded
        fps = self.show_fps and room
        learn = self.show_learn and room and L.learn_fits
        self.hud.show(room)
        self.fps.show(fps)
        flock = self.has_flock and room and not (fps and L.flock.overlaps(L.fps))
        self.flock_panel.show(flock)
        self.learn.show(learn)
        self.help.show(room and L.help_fits and not (fps and L.help.overlaps(L.fps))
                       and not (flock and L.help.overlaps(L.flock)))
        self._panel_due = 0.0
        return fps == self.show_fps and learn == self.show_learn

    def resize(self, width: int, height: int) -> None:
        """Fits the field and panels to a new window size."""
        L = self.layout = layout(width, height)
        self.scene.resize(L)
        self.hud.place(L.hud)
        self.fps.place(L.fps)
        self.flock_panel.place(L.flock)
        self.help.place(L.help)
        self.learn.place(L.learn)
        self._show_panels()

    # ------------------------------------------------------------------ per frame
    def update(self, session: Session, view: View, stats: dict[str, Any]) -> None:
        """Moves everything to match the session; cheap enough for every frame."""
        L = self.layout
        self._update_flock(session, L)
        world = session.flock.course() if session.flocking else None
        self.scene.update(world or session.world, view, L)
        self.overlay.update(session, L)
        src = Sources(session, stats, self.autosave, self.learner_source, self.info_line)
        key = (session.score, session.stage, session.pilot, session.pace.index)
        # At 1x the panel's score moves with the big score; when fast-forwarding the score
        # changes almost every frame, and re-laying out every panel label each frame costs
        # more than the simulation, so the panels then follow the refresh timer only.
        self.hud.show_score(str(session.score))
        moved = key != self._hud_key and (session.pace.index == 0 or key[2:] != self._hud_key[2:])
        if moved:
            self._hud_key = key
            self.hud.refresh(src)
        now = time.perf_counter()
        if now < self._panel_due:
            return
        # A refresh is spread over consecutive frames, one panel section per frame, so no
        # single frame pays for re-laying out every label (a toggle shows all at once).
        sections = [self.hud.refresh]
        if self.show_learn:
            sections += self.learn.sections()
        if self.show_fps:
            sections.append(self.fps.refresh)
        if self.flock_panel.visible:
            sections.append(self.flock_panel.refresh)
        if self._panel_due == 0.0:
            self._section = 0
            for part in sections:
                part(src)
        else:
            sections[self._section % len(sections)](src)
            self._section += 1
            if self._section < len(sections):
                return
            self._section = 0
        self._hud_key = key
        self._panel_due = now + PANEL_REFRESH_S

    def _update_flock(self, session: Session, L: Layout) -> None:
        """The flock's translucent flyers: all but the focus, or around the person's flyer."""
        fp = session.flock
        if fp is None:
            return
        if session.flocking:
            self.scene.flyer_tint = (255, 255, 255)
            self.scene.flock.update(fp.flyers(session.alpha()), L, fp.focus)
        else:
            self.scene.flyer_tint = HUMAN_TINT
            race = session.phase is Phase.FLYING and fp.on_course(session.world)
            self.scene.flock.update(fp.flyers(session.alpha()) if race else None, L, None)

    def refresh_due(self, now: float) -> bool:
        """Whether ``update`` at time ``now`` (``perf_counter``) refreshes a panel section."""
        return now >= self._panel_due

    def draw(self) -> None:
        self.window.clear()
        self.scene.blit_background(self.layout)
        self.batch.draw()
