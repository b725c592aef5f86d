"""The command line and the headless commands: play, train, evaluate, record, export-pilot.

Rules: the top layer; may import every ``game`` folder and ``ai``. The window is opened
only through ``game.ui.app``, imported when ``play`` runs.
"""
