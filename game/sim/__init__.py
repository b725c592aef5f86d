"""The simulation: the worlds, levels, oracle, rollouts, envs and pictures of Gravity Flyer.

Rules: numpy and gymnasium only. Nothing here imports pyglet, torch, ``ai`` or any other
``game`` folder, so every world runs headless and deterministically (the layer test checks
this, imports inside functions included). Importing it registers the Gymnasium envs
``flyer/Classic-v0`` and ``flyer/Arcade-v0``.
"""

from __future__ import annotations

import gymnasium as gym

from game.sim.actions import FALL, JUMP
from game.sim.arcade import ArcadeBatch, ArcadeWorld, Course, make_course
from game.sim.classic import ClassicBatch, ClassicWorld
from game.sim.levels import LEVELS

for _name, _entry in (("flyer/Classic-v0", "Classic"), ("flyer/Arcade-v0", "Arcade")):
    if _name not in gym.registry:
        gym.register(id=_name, entry_point=f"game.sim.envs:{_entry}Env",
                     vector_entry_point=f"game.sim.envs:{_entry}VectorEnv")


def make_world(level: str, seed: int | None = None):
    """The game's scalar world for the level called ``level`` (``LEVELS[level].world``)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; choose from {', '.join(LEVELS)}")
    return LEVELS[level].world(seed)


__all__ = ["FALL", "JUMP", "LEVELS", "ArcadeBatch", "ArcadeWorld", "ClassicBatch", "ClassicWorld",
           "Course", "make_course", "make_world"]
