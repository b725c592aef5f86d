"""Window-side code: drawing, HUD and sound (imports pyglet; only game.app uses it)."""
