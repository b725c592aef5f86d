"""The learner's work in child processes, off the game's thread and its GIL.

``ai.process.remote`` runs learners' gradient steps in a child (the window's learner, the
lab's teams): the game's side; ``ai.process.serve`` is the child's side and
``ai.process.kinds`` what it must know of each kind of learner. ``ai.process.child`` holds what
every child of the game does on start (SIGINT ignored, ends with its parent), torch-free, so
the skill meter's child uses it too.

Rules: imports ``ai`` only, never ``game``; importing this package or any of its modules
loads no torch (the learners bring it; the child imports it once).
"""
