"""Gravity Flyer: an arcade flyer under gravity with a Q-network autopilot that learns live.

The folders are the layers, lowest first; each one's ``__init__`` says what it may import:

- ``game.sim``: the worlds, levels, oracle, rollouts, envs and pictures (numpy only);
- ``game.play``: the game loop without a window (session, flock, thinking);
- ``game.wiring``: the ``ai`` learner wired to the levels, and the user's files;
- ``game.ui``: the window (the only pyglet code);
- ``game.commands``: the command line and the headless commands.

Rules: this package root imports ``game.sim`` only, to register the Gymnasium envs and to
re-export the simulation's names (``from game import make_world``).
"""

from __future__ import annotations

from game.sim import (
    FALL,
    JUMP,
    LEVELS,
    ArcadeBatch,
    ArcadeWorld,
    ClassicBatch,
    ClassicWorld,
    Course,
    make_course,
    make_world,
)

__all__ = ["FALL", "JUMP", "LEVELS", "ArcadeBatch", "ArcadeWorld", "ClassicBatch", "ClassicWorld",
           "Course", "make_course", "make_world"]
