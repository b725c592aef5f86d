"""The skill meter: score/oracle of the greedy pilot on a fixed held-out set of courses.

Every learning view reads its skill here: the game's flock (``game.play.flock_play``), the lab's
teams (``game.play.lab``), the window's child-process meter (``game.play.skill_process``) and the
benches. The held-out set is the first ``SKILL_EPISODES`` runs of ``main.py evaluate``'s set,
and its exact oracle is computed once per process and cached (``held_out``).

Rules: numpy only; the learner is duck-typed (``learner.autopilot()`` gives numpy weights),
so this module imports no torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from game.sim.evaluation import EVAL_SEED, Evaluation
from game.sim.levels import Level

SKILL_EPISODES = 100
"""Held-out runs per skill reading (arcade: courses of the evaluation's length)."""
SKILL_SEED = EVAL_SEED
"""The held-out set's seed: the first ``SKILL_EPISODES`` runs of ``main.py evaluate``'s set."""


_HELD_OUT: dict[tuple[str, int, int], Evaluation] = {}
_HELD_OUT_LOCK = threading.Lock()


def held_out(level: Level, episodes: int = SKILL_EPISODES, seed: int = SKILL_SEED) -> Evaluation:
    """The held-out evaluation set with its oracle scores, computed once per process."""
    key = (level.name, int(episodes), int(seed))
    with _HELD_OUT_LOCK:  # the meter's thread and the caller may ask at once
        if key not in _HELD_OUT:
            _HELD_OUT[key] = Evaluation.prepare(level, episodes, seed)
        return _HELD_OUT[key]


class SkillMeter:
    """score/oracle of the greedy pilot on a fixed held-out set (classic: success rate).

    ``measure(policy)`` is a direct, synchronous reading. ``refresh(learner)`` copies the
    learner's flying weights (``learner.autopilot()``: numpy arrays, a few kB, on the
    caller's thread, so the reading is of one moment's weights while learning goes on) and
    flies them in a daemon thread; ``latest`` is the last finished reading and ``readings``
    all of them as ``(env_steps, figure)``. A refresh while one is running is skipped.

    The flight is numpy only (``Autopilot.act_batch`` is ``ai.qnet.numpy_forward``): one batch
    step for all held-out runs per decision. It holds the GIL in short numpy calls, and Python
    hands the GIL back to the window's thread at least every ``sys.getswitchinterval()``, so
    a frame waits at most about that long.
    """

    def __init__(self, level: Level, episodes: int = SKILL_EPISODES,
                 seed: int = SKILL_SEED) -> None:
        self.level = level
        self.episodes = episodes
        self.seed = seed
        self.latest: float | None = None
        self.readings: list[tuple[int, float]] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def evaluation(self) -> Evaluation:
        """The held-out set (its oracle is computed on first use)."""
        return held_out(self.level, self.episodes, self.seed)

    def measure(self, policy: Callable[[np.ndarray], np.ndarray]) -> float:
        """The level's figure (score/oracle, success rate) of ``policy`` on the held-out set."""
        return self.level.figure(self.evaluation.run(policy))

    def refresh(self, learner: Any) -> bool:
        """Starts a background reading of ``learner``'s pilot; False if one is running."""
        if self.busy:
            return False
        pilot = learner.autopilot()
        steps = int(learner.env_steps)

        def work() -> None:
            figure = self.measure(pilot.act_batch)
            with self._lock:
                self.latest = figure
                self.readings.append((steps, figure))

        self._thread = threading.Thread(target=work, name="skill-meter", daemon=True)
        self._thread.start()
        return True

    @property
    def busy(self) -> bool:
        """A reading is running."""
        return self._thread is not None and self._thread.is_alive()

    def wait(self, timeout: float | None = None) -> float | None:
        """Waits for the running reading (if any) and returns ``latest``."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self.latest
