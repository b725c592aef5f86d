"""Game controllers through ``pyglet.input.ControllerManager``; having none is fine."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

BUTTONS = {"a": "jump", "start": "pause"}
"""Controller buttons the game uses, by pyglet's button name."""


class Gamepads:
    """Opens every controller, now and when one is plugged in, and reports button presses.

    Args:
        on_button: called with ``"jump"`` or ``"pause"`` when a button for it is pressed.
    """

    def __init__(self, on_button: Callable[[str], None]) -> None:
        self.on_button = on_button
        self.manager: Any = None
        self.controllers: list[Any] = []
        self.error: str | None = None
        """Why controllers cannot be used (no input backend), if so; the game plays on."""
        try:
            import pyglet.input

            self.manager = pyglet.input.ControllerManager()
            for controller in self.manager.get_controllers():
                self.attach(controller)
            self.manager.push_handlers(on_connect=self.attach, on_disconnect=self.detach)
        except Exception as exc:  # no evdev, no permission, another backend's error
            self.error = f"controllers unavailable ({type(exc).__name__})"

    def attach(self, controller: Any) -> None:
        """Opens a controller and listens to its buttons."""
        try:
            controller.open()
        except Exception:  # already open, or the device went away: not worth stopping for
            pass
        controller.push_handlers(on_button_press=self.on_button_press)
        self.controllers.append(controller)

    def detach(self, controller: Any) -> None:
        if controller in self.controllers:
            self.controllers.remove(controller)

    def on_button_press(self, controller: Any, button: str) -> None:
        what = BUTTONS.get(button)
        if what is not None:
            self.on_button(what)
