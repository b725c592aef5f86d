"""How fast the game runs: the tick rate at 1x (or game speed) and the fast-forward keys.

Standard library only.
"""

from __future__ import annotations

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

    def label(self) -> tuple[str, str]:
        """The HUD's row for the rate: ('Tick rate', '10 /s') or ('Game speed', '125%')."""
        if self.as_game_speed:
            return "Game speed", f"{100 * self.tick_rate / self.default_rate:.0f}%"
        return "Tick rate", f"{self.tick_rate:g} /s"

    def set_index(self, index: int) -> None:
        if not 0 <= index < len(SPEEDS):
            raise ValueError(f"speed index must be 0..{len(SPEEDS) - 1}")
        self.index = index

    def set_tick_rate(self, hz: float) -> None:
        """Sets ticks per second at 1x; outside the level's bounds is a one-line ValueError."""
        lo, hi = self.bounds
        if not (isinstance(hz, int | float) and lo - 1e-9 <= hz <= hi + 1e-9):  # NaN fails too
            raise ValueError(f"tick rate must be {self.describe_bounds()}, got {hz!r}")
        self.tick_rate = float(hz)

    def faster(self) -> float:
        """'+': the next rate up the ladder."""
        higher = [r for r in self.ladder if r > self.tick_rate + 1e-9]
        self.tick_rate = higher[0] if higher else self.tick_rate
        return self.tick_rate

    def slower(self) -> float:
        """'-': the next rate down the ladder."""
        lower = [r for r in self.ladder if r < self.tick_rate - 1e-9]
        self.tick_rate = lower[-1] if lower else self.tick_rate
        return self.tick_rate
