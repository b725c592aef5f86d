"""A small DQN learner library: an observation vector in, an action out, a state saved.

It knows nothing of any game (Gravity Flyer's wiring is ``game.wiring.learning``): what a
learner or pilot is for is metadata it stores and checks.

Imports are lazy (PEP 562): ``import ai.errors`` or ``import ai.atomic`` does not load
torch; ``ai.Learner`` does, on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ai.autopilot import Autopilot
    from ai.config import LearnerConfig
    from ai.errors import PilotError, StateError
    from ai.learner import Learner, LearnerState

_HOMES = {"Autopilot": "ai.autopilot", "LearnerConfig": "ai.config", "PilotError": "ai.errors",
          "StateError": "ai.errors", "Learner": "ai.learner", "LearnerState": "ai.learner"}
"""Where each public name lives; the module is imported when the name is first read."""

__all__ = ["Autopilot", "Learner", "LearnerConfig", "LearnerState", "PilotError", "StateError"]


def __getattr__(name: str) -> Any:
    try:
        home = _HOMES[name]
    except KeyError:
        raise AttributeError(f"module 'ai' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
