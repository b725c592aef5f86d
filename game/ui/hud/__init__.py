"""The HUD panels and the text over the field.

Rules: imports ``game.ui``'s layout and widgets, ``game.play`` and ``game.sim``. A panel's
``rows(state)`` is pure and imports no pyglet; only its drawing does.
"""
