"""Errors a user can cause with a file or a state: one line, never a traceback."""

from __future__ import annotations


class PilotError(ValueError):
    """A pilot file is unusable: too big, not safetensors, wrong level or version, bad weights."""


class StateError(ValueError):
    """A saved learner state does not fit: wrong format version, level, shapes or contents."""
