"""What the window tells the player in words, and for how long; no drawing, no pyglet.

Three kinds of message: the toast under the score (a pilot handed over, a new
best), notices at the bottom of the field (a load problem, a failed save, sound
off) and the small "Saved" mark. :class:`Messages` keeps their texts and expiry
times; :meth:`Messages.handle` turns the session's events into them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from game.play.events import Event, NewBest, RunStarted, Saved
from game.play.pause import PauseReason
from game.play.phases import Phase

BEST_TOASTS = {"human": "New best!", "autopilot": "Autopilot's new best"}
"""The message under the score when a run sets its kind's best."""
NOTICE_S = 8.0
"""How long a notice stays on screen."""
TOAST_S = 2.5
SAVED_FLASH_S = 2.0
MAX_NOTICES = 3


class Messages:
    """Texts on screen and their expiry times (``now`` seconds).

    Args:
        now: monotonic seconds; injected so tests need no sleeps.
    """

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self.now = now
        self.toast_text = ""
        self.toast_until = 0.0
        self.praises = 0
        """How many times a new best was praised (the window test reads it)."""
        self.notices: list[tuple[str, float]] = []
        self.saved_until = 0.0
        self._praised = False
        """The current run's praise was said (once per run)."""
        self._failures: set[str] = set()
        """Notices of failed saves (a good save ends them)."""

    # ------------------------------------------------------------------ the toast
    def say(self, text: str, seconds: float = TOAST_S) -> None:
        """A short message under the score."""
        self.toast_text = text
        self.toast_until = self.now() + seconds

    def unsay(self, *texts: str) -> None:
        """Ends the message under the score now if it is one of ``texts``."""
        if self.toast_text in texts:
            self.toast_until = 0.0

    def toast(self) -> str | None:
        """The toast on screen now, or None."""
        return self.toast_text if self.now() < self.toast_until else None

    # ------------------------------------------------------------------ notices
    def notice(self, text: str, seconds: float = NOTICE_S) -> None:
        """A one-line message at the bottom of the field."""
        now = self.now()
        self.notices = [(t, u) for t, u in self.notices if u > now and t != text]
        self.notices.append((text, now + seconds))
        del self.notices[:-MAX_NOTICES]  # the newest few; older ones were in the terminal too

    def notices_shown(self) -> list[str]:
        """The notices on screen now."""
        now = self.now()
        return [t for t, u in self.notices if u > now]

    # ------------------------------------------------------------------ the saved mark
    def flash_saved(self, seconds: float = SAVED_FLASH_S) -> None:
        self.saved_until = self.now() + seconds

    def saved_flash(self) -> bool:
        """True while the "Saved" mark is on screen."""
        return self.now() < self.saved_until

    # ------------------------------------------------------------------ events
    def handle(self, events: Iterable[Event]) -> None:
        """Praise for a new best while its run lasts, the saved mark, failed saves.

        The praise is said once per run, for a best set after the latest run
        started (at fast-forward a best and the next run can fall in one frame),
        and it ends when the next run starts. A best of 1 is not worth a toast.
        """
        praise: NewBest | None = None
        for event in events:
            if isinstance(event, RunStarted):
                praise = None
                self._praised = False
                self.unsay(*BEST_TOASTS.values())
            elif isinstance(event, NewBest) and event.score > 1:
                praise = event
            elif isinstance(event, Saved):  # one state on screen: saved, or the failure
                if event.ok:
                    self.flash_saved()
                    self.notices = [(t, u) for t, u in self.notices if t not in self._failures]
                    self._failures.clear()
                else:
                    self.saved_until = 0.0
                    self.notice(event.message)
                    self._failures.add(event.message)
        if praise is not None and not self._praised:
            self._praised = True
            self.praises += 1
            self.say(BEST_TOASTS[praise.kind])


def fmt_count(n: float) -> str:
    """A count in at most five characters: 950, 1.2k, 45k, 3.1M."""
    if n >= 1e6:
        return f"{n / 1e6:.1f}M"
    if n >= 1e4:
        return f"{n / 1e3:.0f}k"
    if n >= 1e3:
        return f"{n / 1e3:.1f}k"
    return f"{int(n)}"


PAUSED_HINTS = {PauseReason.FOCUS: "the window lost focus — press P or SPACE to fly on",
                PauseReason.HIDDEN: "press P or SPACE to fly on"}


def banner_text(session: Any) -> tuple[str, str]:
    """The banner's title and line under it for the session's phase ('' when none)."""
    if session.paused:
        return "Paused", PAUSED_HINTS.get(session.pause_reason, "P or SPACE to fly on")
    if session.phase is Phase.READY:
        return "Ready?", "SPACE to fly  ·  A hands the controls to the autopilot"
    if session.phase is Phase.GAME_OVER:
        n = session.score
        sub = ("the autopilot tries again…" if session.pilot == "autopilot"
               else "SPACE or R to fly again")
        credit = session.scoring.credit()
        return (f"Game over — {n} gate" + ("" if n == 1 else "s"),
                sub if credit is None else f"{credit}  ·  {sub}")
    return "", ""


def credit_line(session: Any) -> str:
    """Under the big score while a run is shared: who flew what of it ('' otherwise)."""
    if session.phase is Phase.GAME_OVER:
        return ""  # the banner says it
    return session.scoring.credit() or ""


def status_line(session: Any) -> str:
    """Who flies, learning on or off, and the speed, in one line: what a window too small for
    the side panels keeps on the field."""
    who = "you fly" if session.pilot == "human" else "autopilot flies"
    lr = session.learner
    learning = ("no autopilot" if lr is None
                else "learning on" if lr.learn_enabled else "learning off")
    return f"{who}  ·  {learning}  ·  {session.pace.shown()}"


HINT_UNTIL = 10
"""The tap hint shows on the ready screen until the person's best reaches this many gates."""
TAP_HINT = "tap to hop, let it fall between taps: a tap every 0.7 s holds the height"
CEILING_HINT = "too high: tap less often, let it fall between taps"


def hint_text(session: Any) -> str:
    """A line under the banner for a person learning the arcade taps ('' when none): on the
    ready screen until their best reaches ``HINT_UNTIL``, and after a run that ended too high,
    in the ceiling or a wall above its gap (a steady tap every 0.3-0.5 s always climbs)."""
    if session.spec.streak or session.pilot != "human" or session.paused:
        return ""
    if session.phase is Phase.READY and session.scoring.best < HINT_UNTIL:
        return TAP_HINT
    if session.phase is Phase.GAME_OVER and crashed_high(session.world):
        return CEILING_HINT
    return ""


def crashed_high(world: Any) -> bool:
    """The run ended above where it could fly: the ceiling, or a wall above its gap."""
    _, gap_y, half = world.gate_ahead(0)
    return world.y > 1.0 or world.y > gap_y + half
