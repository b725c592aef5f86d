"""A flock: N flyers on the same course at once, all feeding the one learner; and the skill meter.

``Flock`` flies a level's batched world (``ArcadeBatch`` / ``ClassicBatch``) one decision at a
time for every flyer. The flyers share the one learner (one Q-network, one replay memory):
their actions come from one ``Learner.act_batch`` call, drawn from the flock's own generator
with the learner's epsilon, and their transitions go in with one ``Learner.observe_batch``.
One flyer may be the person's (``human``): its actions are given, its transitions tagged human.

## Restarts: generations, with respawns among the living (arcade)
A generation is one attempt at one course: every flyer starts it together, at the course's
start, each with its own initial speed. Two schemes were built and measured
(``python bench/watch_learning.py --part compare --seeds 2 --x1 30,60,120``, fresh learner,
64 flyers, arcade v2, shared 2-core machine; ``bench/results/watch_learning.json``): greedy
score/oracle at 30/60/120 s of 1x, respawn 0.09/0.79/0.82, generation 0.01/0.17/0.36 (one
generation seed sat at 0.00 for 90 s: a few survivors kept its generation going while the
other 60 flyers waited, 7,000 transitions a minute instead of 57,600).

* ``"generation"``: a flyer that crashes waits for the next generation, which starts when
  the last one has crashed (NEAT Flappy Bird's picture).
* ``"respawn"`` (the default for course levels): a flyer that crashes re-enters at once next
  to a living flyer of its generation (drawn from the flock's generator), with that flyer's
  state, and its first decision there is a random one so the two part ways. The generation
  ends when every flyer is down in the same decision.

Under both, a generation whose leader passes ``course_gates`` gates (arcade: the evaluation's
100) is a finished course: the flyers still in the air finish, and the next course starts.

A cap on lives per generation (``lives=3``) traded the first minute for the third: over
5 seeds, 0.34 at 60 s (against 0.72 without a cap) and 0.93 at 180 s (against 0.91), so
the default has no cap (``lives=None``).

Respawning keeps all N flyers producing transitions: under ``"generation"`` a flock that has
started to learn spends most of each generation waiting for its last few survivors, so the
memory fills N times slower exactly when the hard, late gates are being met; respawned flyers
spend their time where the survivors are, at those gates. The picture stays readable: every
flyer of a generation is on the same course at the same tick (respawns copy the tick), so
the whole flock is at one x on the screen and differs only in height, and the generation
counter, best and mean still mean one course attempt. Classic flights are a single
crossing of 40 ticks at most, so classic always runs plain generations.

Bookkeeping: ``generation`` (course attempts started), ``alive``, per generation the best
gates reached by any flyer and the mean of each flyer's first life (``history``, the chart's
series), and ``focus``, the flyer the HUD describes (the person's, else the leader, which
stays the leader until it crashes).

Determinism: the flock's generator, the batch's generator and the learner's own are all
seeded, so a seed gives bit-identical weights; ``state`` / ``Flock.from_state`` continue a
flock exactly (with ``Learner.state`` / ``from_state`` for the learner).

## Scouts (arcade)
``scouts`` more flyers fly out of sight, each on its own course of ``level.train_gates``
gates, and a crash restarts a scout at once on a fresh course (``level.train_batch``, as
``main.py train --envs``). Their transitions feed the learner like the flock's (n-step
streams after the flock's flyers); their lives are not the flock's scores. The flock on
screen sees only a few dozen gates of one course a minute, too little variety to learn the
held-out courses from (``SCOUTS``).

## Skill meter
``SkillMeter`` flies a numpy copy of the greedy pilot (``learner.autopilot()``, the averaged
weights) on a small fixed held-out set and scores it against the exact oracle (computed once
per process and cached). ``SkillMeter.refresh`` runs that in a background thread and keeps
the latest figure; see its docstring for what it costs.

Numpy only: the learner is duck-typed (``ai.Learner`` fits), so this module imports no torch.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from game.sim import arcade
from game.sim.actions import FALL
from game.sim.evaluation import EVAL_SEED, Evaluation
from game.sim.levels import CourseLevel, Level

if TYPE_CHECKING:
    from ai.protocol import LearnerLike

RESTARTS = ("respawn", "generation")
"""The restart schemes (see the module docstring); the first is the default."""
DEFAULT_FLOCK = 64
"""Flyers in the game's flock. At 1x its flying and learning took 0.21 s of compute per
simulated second on average, 0.69 s in the worst second of 5 seeds (2 cores, other jobs
running for part of it; ``bench/watch_learning.py``), and its 960 transitions a second
give 0.72 of the oracle after 60 s (mean of 5 seeds)."""
FROM_PILOT_LADDER = 0.4
"""``explore_ladder`` for a flock that learns on from a shipped pilot: the pilot's own flights
hold almost no other actions, so some flyers explore more (Ape-X's 0.4) and show the learner
what those actions lead to, while the leader the HUD follows barely explores. With it the
shipped arcade pilot's greedy score/oracle stayed >= 0.985 over 100k env steps at top speed
(without: down to 0.9), ``tests/test_flock.py`` checks a short run."""
SCOUTS = 64
"""Scouts the game's flock flies out of sight: flyers each on its own course, restarting at
once on a fresh course when they crash, whose transitions feed the same learner.

Why: the flock on screen flies one course together and at 1x passes only a few dozen gates
of it a minute, too little variety of gates to learn the held-out courses from; once its
exploration has decayed its flyers fly one path, and the greedy pilot's held-out skill fell
while the flock flew its own course without a crash. Flyers on courses of their own, fed
the same transitions, learned the held-out courses within seconds (the README's flock
section; ``bench/results/watch_learning.json``, ``issue19``)."""
HISTORY_GENERATIONS = 1_000
"""Generations kept in ``Flock.history`` (the chart): the most recent ones."""



@dataclass(frozen=True)
class FlockStep:
    """What one decision of the flock did."""

    ended: np.ndarray
    """Flyers whose life ended on this decision (crash, finish), in flyer order."""
    scores: np.ndarray
    """The score of each of those lives (gates passed in it; classic 1.0 or 0.0)."""
    respawned: np.ndarray
    """Flyers that re-entered next to a living one (``"respawn"``)."""
    new_generation: bool
    """The generation ended on this decision and the next one has started."""
    transitions: int
    """Transitions this decision gave the learner."""


def flock_batch(level: Level, n: int, seed: int | None) -> Any:
    """The non-restarting batch a flock of ``n`` flies (the flock restarts its flyers)."""
    if isinstance(level, CourseLevel):
        return arcade.ArcadeBatch(n, seed=seed, n_gates=level.train_gates, autoreset=False)
    return level.eval_batch(n, seed)


class Flock:
    """N flyers of ``level`` on one course at a time, feeding one learner.

    Args:
        level: the level (its batched world is flown).
        learner: the shared learner (``act_batch``/``observe_batch``/``end_episode``).
        n: flyers (``--flock``; 1 is a single flyer).
        seed: seeds the flock's generator (courses, exploration, respawns) and the batch's.
        restart: ``"respawn"`` or ``"generation"`` (module docstring); classic always runs
            generations.
        human: the index of the person's flyer, or None.
        replay_ratio: gradient steps per transition, fixed; None asks the learner's pacing
            (``ai.pacing``: a flock's ratio, the top-speed one while ``top``, one flyer's
            schedule for a flock of one).
    """

    def __init__(self, level: Level, learner: LearnerLike, n: int = DEFAULT_FLOCK,
                 seed: int = 0, restart: str = RESTARTS[0], human: int | None = None,
                 replay_ratio: float | None = None,
                 explore_ladder: float = 0.0, lives: int | None = None,
                 scouts: int = 0) -> None:
        if n < 1:
            raise ValueError(f"a flock needs at least one flyer, got {n}")
        if restart not in RESTARTS:
            raise ValueError(f"restart must be one of {RESTARTS}, got {restart!r}")
        if human is not None and not 0 <= human < n:
            raise ValueError(f"human flyer {human} is not one of the {n} flyers")
        self.level = level
        self.learner = learner
        self.n = n
        self.seed = int(seed)
        self.courses = isinstance(level, CourseLevel)
        self.restart = restart if self.courses else "generation"
        self.human = human
        self.replay_ratio = replay_ratio
        """Gradient steps per transition (None: the learner's pacing); may change any time."""
        self.top = False
        """Top speed: the pacing's top ratio (the window sets it)."""
        self.speed = 1
        """The game's fast-forward (1, 4, 16): a flock's ratio is divided by it (``ai.pacing``)."""
        self.defer = False
        """The gradient steps go to the learner's credit, for the caller to ``pay`` (the
        window at 1x spreads them over a decision's frames)."""
        self.explore_ladder = float(explore_ladder)
        """Ape-X's per-flyer exploration: flyer i explores at least ``ladder ** (1 + 7 i /
        (n - 1))`` (0: every flyer at the learner's epsilon)."""
        self.course_gates = level.eval_gates if self.courses else 0
        """A generation whose leader passes this many gates is a finished course (arcade): the
        next one starts, so the flock keeps meeting new courses once it flies well."""
        flock_seq, batch_seq = np.random.SeedSequence([self.seed, 0x5F10C4]).spawn(2)
        self.rng = np.random.default_rng(flock_seq)
        self.batch = flock_batch(level, n, int(batch_seq.generate_state(1, np.uint64)[0] >> 1))
        self.generation = 0
        """Generations (course attempts) started."""
        self.steps = 0
        """Decisions flown by the flock."""
        self.alive = np.zeros(n, dtype=bool)
        """Flyers in the air."""
        self.life_start = np.zeros(n, dtype=np.int64)
        """Gate at which each flyer's current life started (0, or where it respawned)."""
        self.first_score = np.zeros(n)
        """Score of each flyer's first life of this generation (valid once it ended)."""
        self.in_first_life = np.zeros(n, dtype=bool)
        """Flyers still in their first life of this generation."""
        self.best = 0.0
        """The most gates any flyer has reached in this generation."""
        self.leader = 0
        self._explore_next = np.zeros(n, dtype=bool)
        self.lives = lives
        """Lives per flyer per generation under ``"respawn"`` (None: no limit); a flyer out
        of lives waits for the next generation, so a generation cannot hold one course for
        ever."""
        self.lives_used = np.zeros(n, dtype=np.int64)
        self.history: deque[tuple[int, float, float]] = deque(maxlen=HISTORY_GENERATIONS)
        """``(generation, best, mean)`` of each finished generation (the chart)."""
        self.obs = np.zeros((n, level.obs_size), dtype=np.float32)
        self.scouts = int(scouts) if self.courses else 0
        """Flyers out of sight, each on its own course (see ``SCOUTS``)."""
        self.scout_batch = None
        self.scout_obs = np.zeros((self.scouts, level.obs_size), dtype=np.float32)
        self.scout_courses = 0
        """Courses the scouts have started (each of their lives is a fresh course)."""
        if self.scouts:
            scout_seed = int(np.random.SeedSequence([self.seed, 0x5C0075]).generate_state(
                1, np.uint64)[0] >> 1)
            self.scout_batch = level.train_batch(self.scouts, scout_seed)
            self.scout_obs = self.scout_batch.observation()
            self.scout_courses = self.scouts
        self._new_generation()

    # ---- what the HUD reads -----------------------------------------------------------------

    @property
    def alive_count(self) -> int:
        """Flyers in the air."""
        return int(self.alive.sum())

    @property
    def focus(self) -> int:
        """The flyer the HUD describes: the person's, else the leader."""
        return self.leader if self.human is None else self.human

    def scores(self) -> np.ndarray:
        """Each flyer's gates on this course (classic: the ticks flown), float64 ``(n,)``."""
        b = self.batch
        return (b.score if self.courses else b.t).astype(np.float64)

    def tick_heights(self) -> np.ndarray:
        """Heights after each tick of the last decision, ``(decision_ticks, n)`` (drawing)."""
        b = self.batch
        return b._Y.copy() if self.courses else b.y[None, :].copy()

    # ---- flying -----------------------------------------------------------------------------

    def step(self, human_action: int | None = None) -> FlockStep:
        """One decision for every flyer in the air; restarts as the scheme says.

        ``human_action`` is the person's action for this decision (FALL when None).
        """
        learner, level, batch = self.learner, self.level, self.batch
        alive = self.alive.copy()
        obs = self.obs
        actions = np.full(self.n, FALL, dtype=np.int64)
        ai_rows = alive.copy()
        if self.human is not None:
            ai_rows[self.human] = False
            if alive[self.human]:
                actions[self.human] = FALL if human_action is None else int(human_action)
        explore = bool(learner.learn_enabled)
        rows = np.flatnonzero(ai_rows)
        if rows.size:
            eps = None
            if self.explore_ladder > 0:
                eps = np.maximum(learner.epsilon, self._ladder()[rows])
            actions[rows] = learner.act_batch(obs[rows], rng=self.rng, epsilon=eps,
                                              explore=explore)
            forced = rows[self._explore_next[rows]]
            if forced.size and explore:
                actions[forced] = self.rng.integers(2, size=forced.size)
        self._explore_next[:] = False
        next_obs, rewards, terminated = batch.step(actions)
        self.steps += 1
        live = np.flatnonzero(alive)
        ended = live[terminated[live]]
        truncated = np.zeros(self.n, dtype=bool)
        for i in ended:
            truncated[i] = level.truncated(float(rewards[i]), True)
        human = np.zeros(self.n, dtype=bool)
        if self.human is not None:
            human[self.human] = True
        learner.observe_batch(obs[live], actions[live], rewards[live], next_obs[live],
                              terminated[live] & ~truncated[live], truncated[live], human[live],
                              updates_per_step=self.ratio(), defer=self.defer, streams=live)
        scores = np.zeros(ended.size)
        for k, i in enumerate(ended):
            total = level.batch_episode_score(batch, int(i), float(rewards[i]))
            scores[k] = total - self.life_start[i] if self.courses else total
            learner.end_episode(float(scores[k]))
            if self.in_first_life[i]:
                self.first_score[i] = total
                self.in_first_life[i] = False
            self.best = max(self.best, float(total))
        self.alive[ended] = False
        self.obs = next_obs
        if self.courses and live.size:
            self.best = max(self.best, float(batch.score[live].max()))
        if self.courses and self.alive.any() and self.best >= self.course_gates:
            ended, scores = self._finish_course(ended, scores)
        respawned = np.zeros(0, dtype=np.int64)
        new_generation = False
        if not self.alive.any():
            self._end_generation()
            self._new_generation()
            new_generation = True
        else:
            if not self.alive[self.leader]:
                self._pick_leader()
            # The person's flyer does not respawn: their run is the race, until the next
            # generation.
            again = ended[ended != self.human] if self.human is not None else ended
            if self.lives is not None:
                again = again[self.lives_used[again] < self.lives]
            if self.restart == "respawn" and again.size:
                respawned = self._respawn(again)
        flown = int(live.size) + (self._scout_step() if self.scouts else 0)
        return FlockStep(ended, scores, respawned, new_generation, flown)

    def _scout_step(self) -> int:
        """One decision of the scouts: each on its own course, a crash restarts it at once on
        a fresh one (``level.train_batch``). Their transitions feed the learner as the
        flock's do (streams after the flock's); their lives are not the flock's scores."""
        learner, level, b = self.learner, self.level, self.scout_batch
        obs = self.scout_obs
        explore = bool(learner.learn_enabled)
        actions = learner.act_batch(obs, rng=self.rng, explore=explore)
        next_obs, rewards, terminated = b.step(actions)
        final = np.where(terminated[:, None], b.final_obs, next_obs)
        truncated = np.array([level.truncated(float(r), bool(t))
                              for r, t in zip(rewards, terminated, strict=True)], dtype=bool)
        learner.observe_batch(obs, actions, rewards, final, terminated & ~truncated, truncated,
                              updates_per_step=self.ratio(), defer=self.defer,
                              streams=self.n + np.arange(self.scouts))
        self.scout_courses += int(terminated.sum())
        self.scout_obs = next_obs
        return self.scouts

    def ratio(self) -> float | None:
        """Gradient steps per transition now: the fixed ``replay_ratio``, else the learner's
        pacing (None for a flock of one at play pace: one flyer's own schedule)."""
        if self.replay_ratio is not None:
            return self.replay_ratio
        if self.n == 1 and not self.top:
            return None
        return self.learner.pacing.ratio(self.learner.env_steps, flock=True, top=self.top,
                                         speed=self.speed)

    def _ladder(self) -> np.ndarray:
        k = 1.0 + 7.0 * np.arange(self.n) / max(self.n - 1, 1)
        return self.explore_ladder ** k

    def run(self, decisions: int) -> None:
        """``decisions`` decisions of the flock (no person)."""
        for _ in range(decisions):
            self.step()

    def start_generation(self, course_seed: int | None = None) -> None:
        """Ends the generation now and starts the next, on ``course_seed``'s course if given
        (arcade; the window's race against the person). Lives in the air end as finished
        courses (their scores go to the learner as usual); the transitions already stored are
        one-step ones, so cutting a life here mixes nothing."""
        if self.courses and self.alive.any():
            self._finish_course(np.zeros(0, dtype=np.int64), np.zeros(0))
        self._end_generation()
        self._new_generation()
        if self.courses and course_seed is not None:
            self.obs = self.batch.reset(course_seeds=np.full(self.n, int(course_seed),
                                                             dtype=np.int64))

    def _new_generation(self) -> None:
        """Every flyer starts the next course together, each with its own initial speed."""
        b = self.batch
        if self.courses:
            course = int(self.rng.integers(2**63 - 1))
            self.obs = b.reset(course_seeds=np.full(self.n, course, dtype=np.int64))
        else:
            self.obs = b.reset()
        self.generation += 1
        self.alive[:] = True
        self.life_start[:] = 0
        self.lives_used[:] = 1
        self.first_score[:] = 0.0
        self.in_first_life[:] = True
        self.best = 0.0
        self._explore_next[:] = False
        self.leader = 0

    def _finish_course(self, ended: np.ndarray, scores: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The course is done: the flyers still in the air end their lives as finished."""
        done = np.flatnonzero(self.alive)
        total = self.batch.score[done].astype(np.float64)
        lives = total - self.life_start[done]
        for i, t, life in zip(done, total, lives, strict=True):
            self.learner.end_episode(float(life))
            if self.in_first_life[i]:
                self.first_score[i] = t
                self.in_first_life[i] = False
        self.alive[done] = False
        order = np.argsort(np.concatenate((ended, done)), kind="stable")
        return np.concatenate((ended, done))[order], np.concatenate((scores, lives))[order]

    def _end_generation(self) -> None:
        self.history.append((self.generation, self.best, float(self.first_score.mean())))

    def _respawn(self, dead: np.ndarray) -> np.ndarray:
        """Dead flyers ``dead`` take the state of living flyers (random), and explore once."""
        b = self.batch
        living = np.flatnonzero(self.alive)
        src = living[self.rng.integers(living.size, size=dead.size)]
        for name in ("t", "y", "v_y", "gate", "score", "course_seed", "_key", "_end"):
            arr = getattr(b, name)
            arr[dead] = arr[src]
        for name in ("gate_start", "gate_gap_y", "gate_half"):
            arr = getattr(b, name)
            arr[:, dead] = arr[:, src]
        self.obs[dead] = self.obs[src]
        self.alive[dead] = True
        self.life_start[dead] = b.score[src]
        self.lives_used[dead] += 1
        self._explore_next[dead] = True
        return dead

    def _pick_leader(self) -> None:
        living = np.flatnonzero(self.alive)
        if living.size:
            scores = self.scores()[living]
            self.leader = int(living[np.argmax(scores)])  # first of the best on ties

    # ---- persistence ------------------------------------------------------------------------

    FLYER_ARRAYS = ("alive", "life_start", "first_score", "in_first_life", "_explore_next", "obs",
                    "lives_used")

    def state(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """``(arrays, meta)``: everything needed to continue exactly (``.npz`` + JSON)."""
        arrays = {f"flock.{k}": getattr(self, k).copy() for k in self.FLYER_ARRAYS}
        for k, v in vars(self.batch).items():
            if isinstance(v, np.ndarray):
                arrays[f"batch.{k}"] = v.copy()
        if self.scouts:
            arrays["scouts.obs"] = self.scout_obs.copy()
            for k, v in vars(self.scout_batch).items():
                if isinstance(v, np.ndarray):
                    arrays[f"scouts.{k}"] = v.copy()
        meta = {"level": self.level.name, "n": self.n, "seed": self.seed,
                "restart": self.restart, "human": self.human, "generation": self.generation,
                "replay_ratio": self.replay_ratio, "explore_ladder": self.explore_ladder,
                "lives": self.lives, "top": self.top, "speed": self.speed, "defer": self.defer,
                "scouts": self.scouts, "scout_courses": self.scout_courses,
                "steps": self.steps, "best": self.best, "leader": self.leader,
                "history": [list(h) for h in self.history],
                "rng": self.rng.bit_generator.state,
                "batch_rng": self.batch.rng.bit_generator.state}
        if self.scouts:
            meta["scouts_rng"] = self.scout_batch.rng.bit_generator.state
        return arrays, meta

    @classmethod
    def from_state(cls, level: Level, learner: LearnerLike, arrays: dict[str, np.ndarray],
                   meta: dict[str, Any]) -> Flock:
        """Rebuilds a flock saved by ``state``; ``ValueError`` if it does not fit ``level``."""
        if meta["level"] != level.name:
            raise ValueError(f"flock state is for level {meta['level']}, not {level.name}")
        flock = cls(level, learner, int(meta["n"]), int(meta["seed"]), str(meta["restart"]),
                    None if meta["human"] is None else int(meta["human"]),
                    None if meta["replay_ratio"] is None else float(meta["replay_ratio"]),
                    float(meta["explore_ladder"]),
                    None if meta["lives"] is None else int(meta["lives"]),
                    int(meta.get("scouts", 0)))
        targets = {f"flock.{k}": getattr(flock, k) for k in cls.FLYER_ARRAYS}
        targets.update({f"batch.{k}": v for k, v in vars(flock.batch).items()
                        if isinstance(v, np.ndarray)})
        if flock.scouts:
            targets["scouts.obs"] = flock.scout_obs
            targets.update({f"scouts.{k}": v for k, v in vars(flock.scout_batch).items()
                            if isinstance(v, np.ndarray)})
        if set(targets) != set(arrays):
            raise ValueError("flock state arrays do not match this flock")
        for key, dst in targets.items():
            src = np.asarray(arrays[key])
            if src.shape != dst.shape or src.dtype != dst.dtype:
                raise ValueError(f"flock array {key!r} is {src.dtype}{list(src.shape)}, "
                                 f"expected {dst.dtype}{list(dst.shape)}")
            dst[...] = src
        flock.top, flock.defer = bool(meta.get("top", False)), bool(meta.get("defer", False))
        flock.speed = int(meta.get("speed", 1))
        flock.generation, flock.steps = int(meta["generation"]), int(meta["steps"])
        flock.best, flock.leader = float(meta["best"]), int(meta["leader"])
        flock.history.clear()
        flock.history.extend((int(g), float(b), float(m)) for g, b, m in meta["history"])
        flock.rng.bit_generator.state = meta["rng"]
        flock.batch.rng.bit_generator.state = meta["batch_rng"]
        if flock.scouts:
            flock.scout_batch.rng.bit_generator.state = meta["scouts_rng"]
            flock.scout_courses = int(meta["scout_courses"])
        return flock


# ---- the skill meter --------------------------------------------------------------------------

SKILL_EPISODES = 100
"""Held-out runs per skill reading: 100 courses of 100 gates (arcade), a few tenths of a second
of numpy on one core for a pilot that flies them all."""
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

    Cost: the flight is numpy only (``Autopilot.act_batch`` is ``ai.qnet.numpy_forward``), one
    batch step for 100 flyers per decision, ~2,000 decisions for a pilot that flies every
    course to its end; refreshed every few seconds it takes a few per cent of a core. Most of
    it holds the GIL in short numpy calls, and Python hands the GIL back to the window's
    thread at least every 5 ms (``sys.getswitchinterval``), so a frame waits at most about
    that long.
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
