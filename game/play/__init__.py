"""The game loop without a window: the session and its parts, the flock in play, thinking.

Rules: imports ``game.sim``, ``game.errors`` and the torch-free ``ai.mlp``, ``ai.protocol`` and
``ai.process.child`` only; never pyglet, torch or the upper folders. The learner comes in
through ``ai.protocol.LearnerLike``.
"""
