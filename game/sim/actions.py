"""The action codes, shared by every level (each level module holds its own physics)."""

from __future__ import annotations

FALL = 0
"""Action 0: let gravity pull."""
JUMP = 1
"""Action 1: jump (what a jump does is up to the level's physics)."""
