"""The person's own run in the lab: their world, their jump, and their flyer on the field.

Why apart from the lab's view: the person races the teams but teaches none of them, so their
run is a small game of its own beside the lab, with its own world and sprite. Rules: SPACE
starts a run (every team sets off with them on its course, as the game's flock races the
person) or jumps on the next tick; the flyer is drawn solid orange, only where it flies on
the crossing shown; the run counts for nothing but its best score.
"""

from __future__ import annotations

from typing import Any

from game.play.lab import Lab, course_seed
from game.sim.actions import FALL, JUMP
from game.sim.levels import CourseLevel, Level
from game.ui.render import HUMAN_TINT


class Race:
    """The person's runs in the lab and their flyer's sprite.

    Args:
        level: the level the teams fly.
        seed: the lab's seed (each run's world and course follow from it).
        sprite: the person's flyer (a ``pyglet.sprite.Sprite``, tinted here).
    """

    def __init__(self, level: Level, seed: int, sprite: Any) -> None:
        self.level = level
        self.seed = seed
        self.courses = isinstance(level, CourseLevel)
        self.sprite = sprite
        sprite.color = HUMAN_TINT
        sprite.visible = False
        self.you: Any = None
        """The person's world while they race (None: not racing)."""
        self.best = 0
        self.races = 0
        self._jump = False

    @property
    def flying(self) -> bool:
        return self.you is not None and not self.you.done

    def press(self, lab: Lab) -> None:
        """SPACE: a new run if none is flying (every team sets off on its course), else a jump."""
        if self.flying:
            self._jump = True
            return
        self.races += 1
        self.you = self.level.world(self.seed + self.races)
        seed = None
        if self.courses:
            seed = course_seed(self.seed, 1_000_000 + self.races)
            self.you.reset(course_seed=seed)
        for team in lab.teams:
            team.play.restart_on(seed)
        self._jump = True

    def tick(self) -> None:
        """One tick of the person's run (jumping if they pressed SPACE since the last)."""
        if not self.flying:
            return
        self.you.tick(JUMP if self._jump else FALL)
        self._jump = False
        self.best = max(self.best, int(getattr(self.you, "score", 0)))

    def place(self, where: tuple[int, int] | None, layout: Any, scale: float,
              shown_speed: bool) -> None:
        """The person's flyer, where it flies on the crossing shown (hidden otherwise)."""
        you, sp = self.you, self.sprite
        show = self.flying and shown_speed
        if show and self.courses:
            stage = int(you.t) // int(you.physics.ticks_per_stage)
            show = (int(you.course_seed), stage) == where
        if show:
            sp.update(x=layout.px(float(you.x)),
                      y=layout.py(min(max(float(you.y), -0.95), 0.95)), scale=scale)
        if sp.visible != show:
            sp.visible = show

    def state(self) -> dict[str, Any]:
        """The state file's ``you``."""
        return {"races": self.races, "flying": self.flying,
                "ticks": 0 if self.you is None else int(self.you.t), "best": self.best}
