"""Why the game is paused, and when a pause ends by itself. Standard library only."""

from __future__ import annotations

from enum import Enum


class PauseReason(Enum):
    """Why the clock is stopped."""

    USER = "user"
    """P: only the player resumes it."""
    FOCUS = "focus"
    """The window lost the keyboard focus."""
    HIDDEN = "hidden"
    """The window was minimized."""


class Pause:
    """The pause state: a reason while paused, None while running.

    Args:
        flicker_s: a focus loss shorter than this resumes by itself when focus returns.
    """

    def __init__(self, flicker_s: float) -> None:
        self.flicker_s = flicker_s
        self.reason: PauseReason | None = None
        self.since = 0.0
        """When the current reason began (the session's clock)."""

    @property
    def paused(self) -> bool:
        return self.reason is not None

    def stop(self, reason: PauseReason, now: float) -> None:
        """Pauses; a player's own pause (P) is never turned into an automatic one."""
        if not self.paused or (reason is PauseReason.HIDDEN and self.reason is PauseReason.FOCUS):
            self.reason = reason
            self.since = now

    def go(self) -> None:
        self.reason = None

    def ends_on_focus(self, now: float, autopilot: bool) -> bool:
        """Whether focus coming back ends the pause.

        The autopilot carries on by itself; the player resumes with a key, except after
        a flicker (out and back within ``flicker_s``, as X sends when focus moves between
        windows). A player's own pause never ends with focus.
        """
        if self.reason not in (PauseReason.FOCUS, PauseReason.HIDDEN):
            return False
        return autopilot or now - self.since < self.flicker_s
