"""Errors a user can cause in the game's commands: one line, never a traceback.

The learner's own errors (a bad pilot file, a learner state that does not fit) are
``ai.errors.PilotError`` and ``ai.errors.StateError``; callers catch the one they mean.
"""

from __future__ import annotations


class CliError(Exception):
    """A user mistake on the command line or in a file they named: one line, exit status 2."""
