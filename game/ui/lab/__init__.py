"""The lesson lab's window: its view (teams racing on the field, the chart beside it).

Rules: as ``game.ui``: imports ``game.sim``, ``game.play``, ``game.wiring``, ``game.ui``,
``game.errors`` and ``ai``; never ``game.commands``.
"""
