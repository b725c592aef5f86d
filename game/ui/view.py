"""A screen of the window: the base class every view extends, with no-op defaults.

The window (``game.ui.app.App``) only switches views and forwards events to the one on
screen, as the Python Arcade library's ``View`` does; a view says what its keys mean
(``controls``), what a click or a controller's button does, and what it reports.

Rules: no pyglet at module level (the views import it when they first draw).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from game.ui.controls import Command, Control


@dataclass(frozen=True)
class Frame:
    """What one frame did, for the frame log."""

    ticks: int = 0
    speed: str = ""
    sim_s: float = 0.0
    saving: int = 0
    drawn_y: float | None = None
    """The flyer's height as drawn (field units), None when no game is drawn."""
    flipped: float = 0.0
    """When the frame was on screen (``perf_counter`` after the flip), 0 if not drawn."""
    flying: bool = False
    """The run was flying (not ready, paused, crashed or over) when the frame began."""


class View:
    """One screen's state, frame, drawing and inputs; every method has a no-op default."""

    name: ClassVar[str] = "view"
    """What the state file calls this view."""
    controls: ClassVar[tuple[Control, ...]] = ()
    """This view's keys (the window builds its keymap from them)."""

    @property
    def env_steps(self) -> int:
        """Flyer decisions flown so far (the FPS panel's steps/s); 0 where nothing flies."""
        return 0

    @property
    def updates(self) -> int:
        """Gradient steps taken so far (the FPS panel's updates/s); 0 where nothing learns."""
        return 0

    @property
    def think_on(self) -> bool | None:
        """Whether the V overlay is on; None where there is none."""
        return None

    def shown(self, think: bool) -> None:
        """The view was put on screen; ``think``: the player left the V overlay on."""

    def command(self, command: Command) -> bool:
        """Runs a command; False if this view has no use for it."""
        return False

    def click(self, x: float, y: float) -> Command | None:
        """A left click at ``(x, y)``: handled here, or the command it stands for."""
        return None

    def controller(self, what: str) -> Command | None:
        """A controller's button ('jump', 'pause'): the command it stands for here."""
        return None

    def say(self, text: str, seconds: float = 2.5) -> None:
        """Tells the player something in a line on screen (where the view shows lines)."""

    def focus(self, gained: bool) -> None:
        """The window gained or lost the keyboard focus."""

    def hidden(self) -> None:
        """The window was minimised or hidden."""

    def resize(self, width: int, height: int) -> None:
        """The window's size changed."""

    def frame(self, start: float, interval: float, pacer: Any, stats: dict[str, float],
              visible: bool) -> Frame:
        """One frame's work (and its drawing when ``visible``)."""
        return Frame()

    def draw(self) -> None:
        """Draws the view (pyglet's ``on_draw``)."""

    def state(self) -> dict[str, Any]:
        """What the state file reports of this view."""
        return {}

    def finish(self) -> None:
        """After the event loop: final saves."""
