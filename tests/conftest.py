"""Helpers shared by the tests (import them with ``from conftest import ...``; tests never
import other test modules)."""

from __future__ import annotations

from typing import Any

from game.sim.levels import CLASSIC
from game.sim.rollout import Rollout


def fly(learner: Any, steps: int, world_seed: int = 100, world: Any = None) -> Any:
    """Online learning on classic for ``steps`` env steps through the game's rollout loop.

    Returns the world, to continue the same flights with another call.
    """
    world = world if world is not None else CLASSIC.world(world_seed)
    Rollout(CLASSIC, world, learner).run(steps)
    return world


def as_format_3(state: Any) -> Any:
    """A learner state as format 3 (and 1, 2) laid it out: a top-level level name and the obs
    size inside the config, no ``meta``. Set ``format_version`` lower for older formats."""
    from ai.learner import LearnerState  # torch: only for the tests that use it

    meta = {k: v for k, v in state.meta.items() if k not in ("meta", "obs_size")}
    meta.update(format_version=3, level=state.meta["meta"]["level"],
                config={**state.meta["config"], "obs_size": state.meta["obs_size"]})
    return LearnerState(state.tensors, state.arrays, meta)
