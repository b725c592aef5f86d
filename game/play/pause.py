"""The pause: why the game is paused, what pausing and resuming do, and when a pause ends by
itself.

Standard library only: the clock and who flies are the session's, passed in and duck-typed.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any


class PauseReason(Enum):
    """Why the clock is stopped."""

    USER = "user"
    """P: only the player resumes it."""
    FOCUS = "focus"
    """The window lost the keyboard focus."""
    HIDDEN = "hidden"
    """The window was minimized."""


class Pause:
    """The pause state (a reason while paused, None while running) and the window's pause
    controls: P (``toggle``), the focus lost and back, the window minimized.

    Pausing forgets a queued jump; resuming starts the clock again with an empty accumulator,
    so no burst of catch-up ticks follows.

    Args:
        flicker_s: a focus loss shorter than this resumes by itself when focus returns.
        now: monotonic seconds (the session's).
        clock: the session's tick clock (``game.play.clock.FixedStepClock``), cleared on resuming.
        pilots: who flies (``game.play.pilots.Pilots``): the autopilot carries on when focus
            returns, and a queued jump (``pending_jump``) is forgotten on pausing.
    """

    def __init__(self, flicker_s: float, now: Callable[[], float], clock: Any,
                 pilots: Any) -> None:
        self.flicker_s = flicker_s
        self.now = now
        self.clock = clock
        self.pilots = pilots
        self.reason: PauseReason | None = None
        self.since = 0.0
        """When the current reason began (the session's clock)."""

    @property
    def paused(self) -> bool:
        return self.reason is not None

    def stop(self, reason: PauseReason = PauseReason.USER) -> None:
        """Pauses and forgets a queued jump; a player's own pause (P) is never turned into an
        automatic one."""
        if not self.paused or (reason is PauseReason.HIDDEN and self.reason is PauseReason.FOCUS):
            self.reason = reason
            self.since = self.now()
        self.pilots.pending_jump = False

    def go(self) -> None:
        """Resumes with an empty accumulator: no burst of catch-up ticks."""
        self.reason = None
        self.clock.clear()

    def toggle(self) -> None:
        """P: pause or resume."""
        if self.paused:
            self.go()
        else:
            self.stop(PauseReason.USER)

    def focus_lost(self) -> None:
        """The window lost focus: pause (the player cannot steer what they cannot see)."""
        if not self.paused:
            self.stop(PauseReason.FOCUS)

    def hidden(self) -> None:
        """The window was minimized: pause."""
        self.stop(PauseReason.HIDDEN)

    def focus_gained(self) -> None:
        """Focus is back: the autopilot carries on; the player resumes with a key."""
        if self.ends_on_focus(self.now(), autopilot=not self.pilots.human):
            self.go()

    def ends_on_focus(self, now: float, autopilot: bool) -> bool:
        """Whether focus coming back ends the pause.

        The autopilot carries on by itself; the player resumes with a key, except after
        a flicker (out and back within ``flicker_s``, as X sends when focus moves between
        windows). A player's own pause never ends with focus.
        """
        if self.reason not in (PauseReason.FOCUS, PauseReason.HIDDEN):
            return False
        return autopilot or now - self.since < self.flicker_s
