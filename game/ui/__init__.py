"""The window: views, drawing, HUD, keys and sound; the only code that imports pyglet.

Rules: imports ``game.sim``, ``game.play``, ``game.wiring``, ``game.errors`` and ``ai``;
never ``game.commands``. Modules that must import without a display (layout, controls,
messages, pacing, report) import no pyglet at module level.
"""
