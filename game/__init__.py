"""Gravity Flyer's simulation: numpy only, no window. Importing it registers the envs."""

from __future__ import annotations

import gymnasium as gym

from game.arcade import ArcadeBatch, ArcadeWorld, Course, make_course
from game.classic import ClassicBatch, ClassicWorld
from game.levels import LEVELS
from game.physics import FALL, JUMP

for _name, _entry in (("flyer/Classic-v0", "Classic"), ("flyer/Arcade-v0", "Arcade")):
    if _name not in gym.registry:
        gym.register(id=_name, entry_point=f"game.envs:{_entry}Env",
                     vector_entry_point=f"game.envs:{_entry}VectorEnv")


def make_world(level: str, seed: int | None = None):
    """The game's scalar world for the level called ``level`` (``LEVELS[level].world``)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
    return LEVELS[level].world(seed)


__all__ = ["FALL", "JUMP", "LEVELS", "ArcadeBatch", "ArcadeWorld", "ClassicBatch", "ClassicWorld",
           "Course", "make_course", "make_world"]
