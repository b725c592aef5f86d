"""Gravity Flyer's autopilot: a torch DQN learner and greedy pilot files (no window code).

The names below are imported on first use (PEP 562), so ``import ai.atomic`` or
``import ai.store``'s lighter neighbours never pull in torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for type checkers and readers; at run time see __getattr__
    from ai.autopilot import Autopilot
    from ai.config import LearnerConfig, default_config
    from ai.errors import PilotError, StateError
    from ai.learner import Learner, LearnerState

_WHERE = {"Autopilot": "ai.autopilot", "Learner": "ai.learner", "LearnerState": "ai.learner",
          "LearnerConfig": "ai.config", "default_config": "ai.config",
          "PilotError": "ai.errors", "StateError": "ai.errors"}

__all__ = ["Autopilot", "Learner", "LearnerConfig", "LearnerState", "PilotError", "StateError",
           "default_config"]


def __getattr__(name: str) -> Any:
    """Imports ``ai.<name>``'s module on first access and caches the name here."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'ai' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
