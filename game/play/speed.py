"""How fast the game runs: the tick rate at 1x (or game speed), the fast-forward keys, and
how fast it really runs.

A speed key asks for a multiple of the 1x rate; whether the machine reaches it depends on
what a tick costs (a flock of 64 learning, a slow software GL). ``SpeedGauge`` measures the
ticks flown per second of frame time over the last ``GAUGE_WINDOW_S`` seconds, and
``GameSpeed.shown`` says "16x" only when the game reaches it, else what it reaches
("16x (7x)"): the HUD never claims a speed the game does not run at.

Standard library only.
"""

from __future__ import annotations

from collections import deque

SPEEDS: tuple[int | None, ...] = (1, 4, 16, None)
"""Fast-forward multipliers picked with keys 1-4; None is max (as many ticks as fit)."""
SPEED_NAMES = ("1x", "4x", "16x", "max")
TICK_RATES: tuple[float, ...] = (2, 3, 4, 5, 6, 8, 10, 12, 15, 20, 25, 30, 40, 50, 60)
"""The ladder +/- climbs for a level with slow ticks (classic), in ticks per second."""
GAME_SPEEDS: tuple[float, ...] = (0.25, 0.33, 0.5, 0.67, 0.75, 0.85, 1.0, 1.15, 1.25, 1.5, 1.75,
                                  2.0)
"""The ladder for a level that ticks at the display rate (arcade v2), as multiples of its
default ticks per second: slower for beginners, faster for experts."""
FINE_TICKS_PER_SECOND = 60.0
"""A level whose default is at least this many ticks per second is timed as a game speed."""
GAUGE_WINDOW_S = 2.0
"""Seconds of flying the reached speed is measured over (the latest ones)."""
GAUGE_MIN_S = 0.75
"""Seconds of flying at a speed before the gauge gives a reading."""
REACHED = 0.9
"""A speed that reaches at least this share of its multiple is shown as reached."""


class SpeedGauge:
    """Ticks flown per second of frame time over the last ``window_s`` seconds of flying.

    The session adds every frame that began flying (``add``); frames of a ready, crash,
    game-over or paused screen are left out, as their ticks are not owed.
    """

    def __init__(self, window_s: float = GAUGE_WINDOW_S) -> None:
        self.window_s = window_s
        self.frames: deque[tuple[float, int]] = deque()
        self.seconds = 0.0
        self.ticks = 0
        self.flown_s = 0.0
        """Seconds of flying added since the game began (``clear`` keeps it)."""

    def clear(self) -> None:
        """Starts over (another speed or tick rate was chosen)."""
        self.frames.clear()
        self.seconds, self.ticks = 0.0, 0

    def add(self, seconds: float, ticks: int) -> None:
        """A frame of ``seconds`` flew ``ticks`` ticks (0 seconds: more ticks of the same frame)."""
        self.frames.append((seconds, ticks))
        self.flown_s += seconds
        self.seconds += seconds
        self.ticks += ticks
        while len(self.frames) > 1 and self.seconds - self.frames[0][0] >= self.window_s:
            dt, n = self.frames.popleft()
            self.seconds -= dt
            self.ticks -= n

    def rate(self) -> float | None:
        """Ticks per second of the latest frames, or None before ``GAUGE_MIN_S`` of them."""
        if self.seconds < GAUGE_MIN_S:
            return None
        return self.ticks / self.seconds


def fmt_factor(factor: float) -> str:
    """A speed multiple as a player reads it: 0.16x, 1.4x, 2.6x, 7x, 37x."""
    if factor < 1:
        return f"{factor:.2f}x"
    if factor < 2:
        return f"{factor:.1f}x"
    if factor < 10:
        return f"{factor:.1f}x".replace(".0x", "x")
    return f"{factor:.0f}x"


class GameSpeed:
    """The tick rate at 1x, bounded to a level's ladder, and the fast-forward multiplier.

    Args:
        default_rate: the level's default ticks per second of play.
        tick_rate: the starting ticks per second (None: the default).
    """

    def __init__(self, default_rate: float, tick_rate: float | None = None) -> None:
        self.default_rate = float(default_rate)
        self.as_game_speed = self.default_rate >= FINE_TICKS_PER_SECOND
        """True: shown and set as a percentage of the default (a fine-ticked level)."""
        self.ladder = (tuple(round(m * self.default_rate, 6) for m in GAME_SPEEDS)
                       if self.as_game_speed else TICK_RATES)
        self.index = 0
        """Which of ``SPEEDS`` is on."""
        self.tick_rate = self.default_rate
        self.gauge = SpeedGauge()
        """How fast the game really runs (the session feeds it)."""
        self.set_tick_rate(self.default_rate if tick_rate is None else tick_rate)

    @property
    def bounds(self) -> tuple[float, float]:
        """The least and most ticks per second allowed."""
        return self.ladder[0], self.ladder[-1]

    def describe_bounds(self) -> str:
        """The allowed range in words, for a one-line error."""
        lo, hi = self.bounds
        return f"between {lo:g} and {hi:g} ticks/s"

    @property
    def multiplier(self) -> int | None:
        """The fast-forward multiplier (None = max)."""
        return SPEEDS[self.index]

    @property
    def name(self) -> str:
        return SPEED_NAMES[self.index]

    def ticks_per_second(self) -> float | None:
        """Ticks per wall-clock second now (None: as many as fit)."""
        m = self.multiplier
        return None if m is None else self.tick_rate * m

    def reached(self) -> float | None:
        """The multiple of the 1x rate the game really ran at lately, or None before a reading."""
        rate = self.gauge.rate()
        return None if rate is None else rate / self.tick_rate

    def short(self) -> bool:
        """True when the speed asked for is clearly not reached (max is never short)."""
        m, got = self.multiplier, self.reached()
        return m is not None and got is not None and got < REACHED * m

    def shown(self) -> str:
        """The speed as the HUD says it: '16x' when reached, '16x (7x)' when not, and at max
        what max reaches ('max (37x)')."""
        got = self.reached()
        if got is not None and (self.multiplier is None or self.short()):
            return f"{self.name} ({fmt_factor(got)})"
        return self.name

    def label(self) -> tuple[str, str]:
        """The HUD's row for the rate: ('Tick rate', '10 /s') or ('Game speed', '125%')."""
        if self.as_game_speed:
            return "Game speed", f"{100 * self.tick_rate / self.default_rate:.0f}%"
        return "Tick rate", f"{self.tick_rate:g} /s"

    def set_index(self, index: int) -> None:
        if not 0 <= index < len(SPEEDS):
            raise ValueError(f"speed index must be 0..{len(SPEEDS) - 1}")
        self.index = index
        self.gauge.clear()

    def set_tick_rate(self, hz: float) -> None:
        """Sets ticks per second at 1x; outside the level's bounds is a one-line ValueError."""
        lo, hi = self.bounds
        if not (isinstance(hz, int | float) and lo - 1e-9 <= hz <= hi + 1e-9):  # NaN fails too
            raise ValueError(f"tick rate must be {self.describe_bounds()}, got {hz!r}")
        self.tick_rate = float(hz)
        self.gauge.clear()

    def faster(self) -> float:
        """'+': the next rate up the ladder."""
        higher = [r for r in self.ladder if r > self.tick_rate + 1e-9]
        self.tick_rate = higher[0] if higher else self.tick_rate
        self.gauge.clear()
        return self.tick_rate

    def slower(self) -> float:
        """'-': the next rate down the ladder."""
        lower = [r for r in self.ladder if r < self.tick_rate - 1e-9]
        self.tick_rate = lower[-1] if lower else self.tick_rate
        self.gauge.clear()
        return self.tick_rate
