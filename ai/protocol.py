"""What a game uses of a learner: one protocol, for one flyer and for a flock.

``ai.Learner`` satisfies it, and so may any other learner (a frozen pilot wrapped to learn
nothing, a tutorial learner). Callers outside ``ai`` import it for type hints only
(``if TYPE_CHECKING``), so naming it loads neither torch nor the learner.

Rules: standard library and numpy only.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np


class LearnerLike(Protocol):
    """A learner: an observation in, an action out, transitions and episodes told back."""

    learn_enabled: bool
    """False: acts and records what it is told, but takes no gradient step."""
    env_steps: int
    """Transitions told so far (learning on)."""
    pacing: Any
    """``ai.pacing.ReplayPacing``: the gradient steps per transition a flock asks for."""

    def act(self, obs: np.ndarray, explore: bool = True) -> int:
        """The action for one observation (epsilon-greedy when ``explore``)."""
        ...

    def observe(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray,
                terminated: bool, truncated: bool = False, human: bool = False) -> None:
        """One transition (``human``: a person chose the action)."""
        ...

    def act_batch(self, obs: np.ndarray, rng: np.random.Generator | None = None,
                  epsilon: float | np.ndarray | None = None, explore: bool = True
                  ) -> np.ndarray:
        """One action per row of ``obs`` (a flock), each flyer with its own epsilon."""
        ...

    def observe_batch(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                      next_obs: np.ndarray, terminated: np.ndarray,
                      truncated: np.ndarray | None = None, human: np.ndarray | None = None,
                      updates_per_step: float | None = None, defer: bool = False,
                      streams: np.ndarray | None = None) -> None:
        """One transition per flyer, stored and learned from as one (``defer``: the gradient
        steps they pay for wait in ``owed`` for ``pay``; ``streams``: each row's flyer)."""
        ...

    @property
    def owed(self) -> int:
        """Gradient steps deferred and not yet run."""
        ...

    def pay(self, steps: int) -> int:
        """Runs up to ``steps`` of the owed gradient steps; returns how many ran."""
        ...

    def end_episode(self, score: float) -> None:
        """A run ended with ``score`` (its learning curve point)."""
        ...
