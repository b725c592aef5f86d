"""The ``ai`` learner wired to the game: presets, pilots, starting, autosave and user files.

Rules: imports ``game.sim``, ``game.play``, ``game.errors`` and ``ai``; never pyglet,
``game.ui`` or ``game.commands``.
"""
