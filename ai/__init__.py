"""Gravity Flyer's autopilot: a torch DQN learner and greedy pilot files (no window code)."""

from __future__ import annotations

from ai.autopilot import Autopilot
from ai.config import LearnerConfig, default_config
from ai.errors import PilotError, StateError
from ai.learner import Learner, LearnerState

__all__ = ["Autopilot", "Learner", "LearnerConfig", "LearnerState", "PilotError", "StateError",
           "default_config"]
