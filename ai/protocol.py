"""What a game uses of a learner: one protocol, for one flyer and for a flock, and the record
of finished episodes that the game's panels read (``EpisodeRecord``, kept by both learners).

``ai.Learner`` satisfies the protocol, and so may any other learner (a frozen pilot wrapped to
learn nothing, a tutorial learner). Callers outside ``ai`` import it for type hints only
(``if TYPE_CHECKING``), so naming it loads neither torch nor the learner.

Rules: standard library and numpy only.
"""

from __future__ import annotations

from collections import deque
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


class EpisodeRecord:
    """Finished episodes as the game's panels read them: how many, the last 100 scores, and
    (where a learner keeps one) the learning curve.

    ``curve`` holds ``(env_steps, mean of the last 100 scores)`` every ``curve_stride``
    episodes; the stride doubles whenever the curve would exceed its most points.
    """

    def __init__(self) -> None:
        self.episodes = 0
        self.recent_scores: deque[float] = deque(maxlen=100)
        self.curve: list[tuple[int, float]] = []
        self.curve_stride = 1

    def add(self, score: float, env_steps: int, curve_points: int | None = None) -> None:
        """Records a finished episode's ``score`` after ``env_steps`` transitions.

        Args:
            curve_points: most points the learning curve keeps (None: no curve is kept).
        """
        self.episodes += 1
        self.recent_scores.append(float(score))
        if curve_points is not None and self.episodes % self.curve_stride == 0:
            self.curve.append((env_steps, sum(self.recent_scores) / len(self.recent_scores)))
            if len(self.curve) > curve_points:
                self.curve = self.curve[1::2]
                self.curve_stride *= 2
