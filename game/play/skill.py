"""The skill meter: score/oracle of the greedy pilot on a fixed held-out set of courses.

Every learning view reads its skill here: the game's flock (``game.play.flock_play``), the lab's
teams (``game.play.lab``), the window's child-process meter (``game.play.skill_process``) and the
benches. The held-out set is the first ``SKILL_EPISODES`` runs of ``main.py evaluate``'s set,
and its exact oracle is computed once per process and cached (``held_out``).

**Crowning** (``crown=True``, the game's learner): what flies greedy, is saved and is charted
must not lose what it learned. The learner's averaged weights can get worse for a while as it
learns on (issue 19 measured falls of 0.25 of the oracle), and while it is young they lag the
online weights by seconds. So each reading judges the learner's *contenders* (the average and
the online weights, ``learner.contenders()``) on validation courses first (the first
``SKILL_EPISODES`` runs of seed ``VALIDATION_SEED``, which ``train`` keeps its best checkpoint
by, never the held-out ones). If the better of them does at least as well there as the
champion, it is measured on the held-out set and handed back to be crowned (``take_crown``, on
the caller's thread), and the reading is its figure; otherwise the champion keeps flying and
the reading is the champion's own figure again. The chart is then the skill of what flies,
chosen without looking at the held-out courses. A champion that matched the oracle on every
validation run and on every held-out run can only be tied, and the chart is at its ceiling: its
readings fly nothing (``unbeatable``), which leaves the other core to the game once a pilot is
that good.

Rules: numpy only; the learner is duck-typed (``learner.autopilot()`` gives numpy weights),
so this module imports no torch.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from game.sim.evaluation import EVAL_SEED, VALIDATION_SEED, Evaluation, scores_together
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


def settle(champion: dict[str, float], pilot: Any, validation: float,
           skill: float | None) -> tuple[float, tuple[Any, dict[str, float]] | None]:
    """A judged reading's chart figure, and ``(pilot, figures)`` to crown or None.

    ``skill`` None means the contender lost on validation: the champion's figure stands."""
    if skill is None:
        return champion["skill"], None
    return skill, (pilot, {"validation": validation, "skill": skill})


def unbeatable(champion: dict[str, float]) -> bool:
    """A champion that matched the oracle on every validation run and every held-out run
    (classic: flew every one): a contender could only tie it on validation and the chart is at
    its ceiling, so a reading needs no flight (the champion's figure).

    Perfect on validation alone is not enough: a window run crowned a champion perfect there
    that read 0.907 on the held-out set, and with no reading flown after it the chart said 0.91
    for the rest of the session while the flock flew every course to its end. A contender that
    ties such a champion on validation is crowned, as any tie is (``judge``)."""
    return bool(champion) and champion["validation"] >= 1.0 and champion["skill"] >= 1.0


def champion_of(learner: Any) -> dict[str, float]:
    """The learner's champion figures, or {} if it has none that this meter can compare."""
    figures = dict(getattr(learner, "champion_figures", {}))
    return figures if {"validation", "skill"} <= figures.keys() else {}


def crown_winner(meter: Any, learner: Any) -> None:
    """Crowns the last reading's winner on ``learner``, on this thread, if ``meter`` has one
    (a crowning meter's ``take_crown`` gives it once; other meters have none)."""
    take = getattr(meter, "take_crown", None)
    won = None if take is None else take()
    if won is not None:
        learner.crown(*won)


def read_and_crown(meter: Any, learner: Any) -> float:
    """A reading of ``learner`` on a crowning ``meter``, waited for, its winner crowned on this
    thread (as the window's ``SkillWatch`` does a frame later); returns the reading. Films and
    benches, which must be the same every time, read this way."""
    meter.refresh(learner)
    meter.wait()
    crown_winner(meter, learner)
    return float(meter.latest)


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

    With ``crown`` a reading judges the learner's contender first (the module's docstring);
    ``take_crown`` gives what won, once.
    """

    def __init__(self, level: Level, episodes: int = SKILL_EPISODES,
                 seed: int = SKILL_SEED, crown: bool = False) -> None:
        self.level = level
        self.episodes = episodes
        self.seed = seed
        self.crowning = crown
        self.latest: float | None = None
        self.readings: list[tuple[int, float]] = []
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._crown: tuple[Any, dict[str, float]] | None = None

    @property
    def evaluation(self) -> Evaluation:
        """The held-out set (its oracle is computed on first use)."""
        return held_out(self.level, self.episodes, self.seed)

    def measure(self, policy: Callable[[np.ndarray], np.ndarray]) -> float:
        """The level's figure (score/oracle, success rate) of ``policy`` on the held-out set."""
        return self.level.figure(self.evaluation.run(policy))

    def judge(self, policies: list[Callable[[np.ndarray], np.ndarray]],
              champion: dict[str, float]) -> tuple[int, float, float | None]:
        """The contender that does best on the validation set (its index, the first of a tie)
        and its figure there, and its figure on the held-out set if it does at least as well
        there as ``champion`` (else None: it is not measured)."""
        validation = held_out(self.level, self.episodes, VALIDATION_SEED)
        test = self.evaluation
        # every contender flies both sets in one batch (``scores_together``: a third of the
        # time of three flights); only the pick's held-out figure is read
        scores = scores_together([validation, test], policies)
        figures = [self.level.figure(validation.result(s[0])) for s in scores]
        pick = int(np.argmax(figures))
        if champion and figures[pick] < champion["validation"]:
            return pick, figures[pick], None
        return pick, figures[pick], self.level.figure(test.result(scores[pick][1]))

    def take_crown(self) -> tuple[Any, dict[str, float]] | None:
        """The last reading's winner ``(pilot, figures)`` for ``learner.crown``, once; or None."""
        with self._lock:
            crown, self._crown = self._crown, None
        return crown

    def refresh(self, learner: Any) -> bool:
        """Starts a background reading of ``learner``'s pilot; False if one is running."""
        if self.busy:
            return False
        steps = int(learner.env_steps)
        champion = champion_of(learner)
        if self.crowning and unbeatable(champion):
            with self._lock:
                self.latest = champion["skill"]
                self.readings.append((steps, champion["skill"]))
            return True
        pilots = learner.contenders() if self.crowning else [learner.autopilot()]

        def work() -> None:
            crown = None
            if self.crowning:
                pick, validation, skill = self.judge([p.act_batch for p in pilots], champion)
                figure, crown = settle(champion, pilots[pick], validation, skill)
            else:
                figure = self.measure(pilots[0].act_batch)
            with self._lock:
                self.latest = figure
                self.readings.append((steps, figure))
                self._crown = crown

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
