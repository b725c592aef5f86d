"""The learner's work in child processes, off the game's thread and its GIL.

``ai.process.remote`` runs a learner's gradient steps in a child (the window's learner);
``ai.process.child`` holds what every child of the game does on start (SIGINT ignored, ends
with its parent), torch-free, so the skill meter's child uses it too.

Rules: imports ``ai`` only, never ``game``; importing this package or ``ai.process.child``
loads no torch (``ai.process.remote`` loads it in the child only).
"""
