"""A flock: N flyers on the same course at once, all feeding the one learner.

``Flock`` flies a level's batched world (``ArcadeBatch`` / ``ClassicBatch``) one decision at a
time for every flyer. The flyers share the one learner (one Q-network, one replay memory):
their actions come from one ``Learner.act_batch`` call, drawn from the flock's own generator
with the learner's epsilon, and their transitions go in with one ``Learner.observe_batch``.

## Restarts: generations, with respawns among the living (arcade)
A generation is one attempt at one course: every flyer starts it together, at the course's
start, each with its own initial speed.

* ``"generation"``: a flyer that crashes waits for the next generation, which starts when
  the last one has crashed (NEAT Flappy Bird's picture).
* ``"respawn"`` (the default for course levels): a flyer that crashes re-enters at once next
  to a living flyer of its generation (drawn from the flock's generator), with that flyer's
  state, and its first decision there is a random one so the two part ways. The generation
  ends when every flyer is down in the same decision.

Under both, a generation whose leader passes ``course_gates`` gates (arcade: the evaluation's
length) is a finished course: the flyers still in the air finish, and the next course starts.

Why respawn: under ``"generation"`` a flock that has started to learn spends most of each
generation waiting for its last few survivors, so the memory fills N times slower exactly
when the hard, late gates are being met; respawned flyers spend their time where the
survivors are, at those gates (``bench/watch_learning.py --part compare`` measures both;
the README's flock section has the figures). The picture stays readable: every flyer of a
generation is on the same course at the same tick (respawns copy the tick), so the whole
flock is at one x on the screen and differs only in height, and the generation counter,
best and mean still mean one course attempt. Classic flights are a single crossing of 40
ticks at most, so classic always runs plain generations.

Bookkeeping: ``generation`` (course attempts started), ``alive``, per generation the best
gates reached by any flyer and the mean of each flyer's first life (``history``, the chart's
series), and ``focus``, the flyer the HUD describes (the leader, which stays the leader
until it crashes).

Determinism: the flock's generator, the batch's generator and the learner's own are all
seeded, so a seed gives bit-identical weights; ``flock_state`` / ``flock_from_state`` continue
a flock exactly (with ``Learner.state`` / ``from_state`` for the learner).

## Scouts (arcade)
The flock on screen flies one course together and at 1x passes only a few dozen gates of it
a minute: too little variety of gates to learn the held-out courses from. Once its
exploration has decayed its flyers fly one path, and the greedy pilot's held-out skill fell
while the flock flew its own course without a crash. ``Scouts``, each on a course of its own
(``level.train_batch``, as ``main.py train --envs``) and restarted at once on a fresh course
when it crashes, show the learner the variety it needs (the README's flock section has the
measurements). A scout's transitions go to the learner like the flock's (n-step streams
after the flock's flyers); their lives are not the flock's scores.

Numpy only: the learner is duck-typed (``ai.Learner`` fits), so this module imports no torch.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from game.sim import arcade
from game.sim.levels import CourseLevel, Level

if TYPE_CHECKING:
    from ai.protocol import LearnerLike

RESTARTS = ("respawn", "generation")
"""The restart schemes (see the module docstring); the first is the default."""
DEFAULT_FLOCK = 64
"""Flyers in the game's flock (``--flock``)."""
FROM_PILOT_LADDER = 0.4
"""``explore_ladder`` for a flock that learns on from a shipped pilot: the pilot's own flights
hold almost no other actions, so some flyers explore more (Ape-X's 0.4) and show the learner
what those actions lead to, while the leader the HUD follows barely explores
(``tests/test_flock.py`` checks that the pilot holds its skill)."""
SCOUTS = 64
"""Scouts the game's flock flies (``Scouts``)."""
HISTORY_GENERATIONS = 1_000
"""Generations kept in ``Flock.history`` (the chart): the most recent ones."""



class Scouts:
    """``n`` flyers, each on its own course of ``level.train_gates`` gates.

    Args:
        level: a course level.
        n: scouts.
        seed: the flock's seed (the scouts' batch has its own stream of it).
        first_stream: the n-step stream of the first scout (the flock's size).
    """

    def __init__(self, level: Level, n: int, seed: int, first_stream: int) -> None:
        self.level = level
        self.n = int(n)
        batch_seed = int(np.random.SeedSequence([int(seed), 0x5C0075]).generate_state(
            1, np.uint64)[0] >> 1)
        self.batch = level.train_batch(self.n, batch_seed)
        self.obs = self.batch.observation()
        self.courses = self.n
        """Courses the scouts have started (each of their lives is a fresh course)."""
        self.streams = first_stream + np.arange(self.n)

    def step(self, learner: Any, rng: np.random.Generator, ratio: float | None,
             defer: bool) -> int:
        """One decision of every scout, learned from at ``ratio``; returns the transitions."""
        level, b, obs = self.level, self.batch, self.obs
        actions = learner.act_batch(obs, rng=rng, explore=bool(learner.learn_enabled))
        next_obs, rewards, terminated = b.step(actions)
        final = np.where(terminated[:, None], b.final_obs, next_obs)
        truncated = np.array([level.truncated(float(r), bool(t))
                              for r, t in zip(rewards, terminated, strict=True)], dtype=bool)
        learner.observe_batch(obs, actions, rewards, final, terminated & ~truncated, truncated,
                              updates_per_step=ratio, defer=defer, streams=self.streams)
        self.courses += int(terminated.sum())
        self.obs = next_obs
        return self.n

    # ---- persistence (within ``Flock.state``) -----------------------------------------------

    def arrays(self) -> dict[str, np.ndarray]:
        out = {"scouts.obs": self.obs}
        out.update({f"scouts.{k}": v for k, v in vars(self.batch).items()
                    if isinstance(v, np.ndarray)})
        return out

    def meta(self) -> dict[str, Any]:
        return {"scout_courses": self.courses, "scouts_rng": self.batch.rng.bit_generator.state}

    def load_meta(self, meta: dict[str, Any]) -> None:
        self.batch.rng.bit_generator.state = meta["scouts_rng"]
        self.courses = int(meta["scout_courses"])


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
        replay_ratio: gradient steps per transition, fixed; None asks the learner's pacing
            (``ai.pacing``: a flock's ratio, the top-speed one while ``top``, one flyer's
            schedule for a flock of one).
        explore_ladder: Ape-X's per-flyer exploration: flyer i explores at least ``ladder **
            (1 + 7 i / (n - 1))`` (0: every flyer at the learner's epsilon).
        scouts: flyers out of sight on courses of their own (``Scouts``; arcade).
    """

    def __init__(self, level: Level, learner: LearnerLike, n: int = DEFAULT_FLOCK,
                 seed: int = 0, restart: str = RESTARTS[0], replay_ratio: float | None = None,
                 explore_ladder: float = 0.0, scouts: int = 0) -> None:
        if n < 1:
            raise ValueError(f"a flock needs at least one flyer, got {n}")
        if restart not in RESTARTS:
            raise ValueError(f"restart must be one of {RESTARTS}, got {restart!r}")
        self.level, self.learner, self.n, self.seed = level, learner, n, int(seed)
        self.courses = isinstance(level, CourseLevel)
        self.restart = restart if self.courses else "generation"
        self.replay_ratio = replay_ratio
        """Gradient steps per transition (None: the learner's pacing); may change any time."""
        self.top = False
        """Top speed: the pacing's top ratio (the window sets it)."""
        self.speed = 1
        """The game's fast-forward (1, 4, 16): a flock's ratio is divided by it (``ai.pacing``)."""
        self.defer = False
        """The gradient steps go to the learner's credit, for the caller to ``pay`` (the
        window spreads them over a decision's frames)."""
        self.explore_ladder = float(explore_ladder)
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
        self.history: deque[tuple[int, float, float]] = deque(maxlen=HISTORY_GENERATIONS)
        """``(generation, best, mean)`` of each finished generation (the chart)."""
        self.obs = np.zeros((n, level.obs_size), dtype=np.float32)
        self.scouting = Scouts(level, scouts, self.seed, n) if scouts and self.courses else None
        """The scouts, or None."""
        self._new_generation()

    # ---- what the HUD reads -----------------------------------------------------------------

    @property
    def scouts(self) -> int:
        """Scouts flying out of sight."""
        return 0 if self.scouting is None else self.scouting.n

    @property
    def scout_courses(self) -> int:
        """Courses the scouts have started."""
        return 0 if self.scouting is None else self.scouting.courses

    @property
    def alive_count(self) -> int:
        """Flyers in the air."""
        return int(self.alive.sum())

    @property
    def focus(self) -> int:
        """The flyer the HUD describes: the leader."""
        return self.leader

    def scores(self) -> np.ndarray:
        """Each flyer's gates on this course (classic: the ticks flown), float64 ``(n,)``."""
        b = self.batch
        return (b.score if self.courses else b.t).astype(np.float64)

    def tick_heights(self) -> np.ndarray:
        """Heights after each tick of the last decision, ``(decision_ticks, n)`` (drawing)."""
        b = self.batch
        return b._Y.copy() if self.courses else b.y[None, :].copy()

    # ---- flying -----------------------------------------------------------------------------

    def step(self) -> FlockStep:
        """One decision for every flyer in the air; restarts as the scheme says."""
        learner, level, batch = self.learner, self.level, self.batch
        live = np.flatnonzero(self.alive)
        obs, actions = self.obs, self._actions(live)
        next_obs, rewards, terminated = batch.step(actions)
        self.steps += 1
        ended = live[terminated[live]]
        truncated = np.zeros(self.n, dtype=bool)
        for i in ended:
            truncated[i] = level.truncated(float(rewards[i]), True)
        learner.observe_batch(obs[live], actions[live], rewards[live], next_obs[live],
                              terminated[live] & ~truncated[live], truncated[live],
                              np.zeros(live.size, dtype=bool), updates_per_step=self.ratio(),
                              defer=self.defer, streams=live)
        scores = np.array([self._end_life(int(i), level.batch_episode_score(
            batch, int(i), float(rewards[i]))) for i in ended], dtype=np.float64)
        self.alive[ended] = False
        self.obs = next_obs
        if self.courses and live.size:
            self.best = max(self.best, float(batch.score[live].max()))
        if self.courses and self.alive.any() and self.best >= self.course_gates:
            ended, scores = self._finish_course(ended, scores)
        respawned, new_generation = np.zeros(0, dtype=np.int64), not self.alive.any()
        if new_generation:
            self._end_generation()
            self._new_generation()
        else:
            if not self.alive[self.leader]:
                self._pick_leader()
            if self.restart == "respawn" and ended.size:
                respawned = self._respawn(ended)
        flown = int(live.size)
        if self.scouting is not None:
            flown += self.scouting.step(learner, self.rng, self.ratio(), self.defer)
        return FlockStep(ended, scores, respawned, new_generation, flown)

    def _actions(self, live: np.ndarray) -> np.ndarray:
        """This decision's actions of the flyers ``live`` (the rest FALL, unused)."""
        learner = self.learner
        actions = np.zeros(self.n, dtype=np.int64)
        explore = bool(learner.learn_enabled)
        if live.size:
            eps = None
            if self.explore_ladder > 0:
                eps = np.maximum(learner.epsilon, self._ladder()[live])
            actions[live] = learner.act_batch(self.obs[live], rng=self.rng, epsilon=eps,
                                              explore=explore)
            forced = live[self._explore_next[live]]
            if forced.size and explore:
                actions[forced] = self.rng.integers(2, size=forced.size)
        self._explore_next[:] = False
        return actions

    def _end_life(self, i: int, total: float) -> float:
        """Flyer ``i``'s life ended with ``total`` on the course: the learner's episode score
        (the life's own gates), the generation's bookkeeping."""
        score = total - self.life_start[i] if self.courses else total
        self.learner.end_episode(float(score))
        if self.in_first_life[i]:
            self.first_score[i] = total
            self.in_first_life[i] = False
        self.best = max(self.best, float(total))
        return float(score)

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
        """``decisions`` decisions of the flock."""
        for _ in range(decisions):
            self.step()

    def start_generation(self, course_seed: int | None = None) -> None:
        """Ends the generation now and starts the next, on ``course_seed``'s course if given
        (arcade; the window's race against the person). Lives in the air end as finished
        courses (their scores go to the learner as usual)."""
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
        self.first_score[:] = 0.0
        self.in_first_life[:] = True
        self.best = 0.0
        self._explore_next[:] = False
        self.leader = 0

    def _finish_course(self, ended: np.ndarray, scores: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """The course is done: the flyers still in the air end their lives as finished."""
        done = np.flatnonzero(self.alive)
        lives = np.array([self._end_life(int(i), float(self.batch.score[i])) for i in done],
                         dtype=np.float64)
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
        self._explore_next[dead] = True
        return dead

    def _pick_leader(self) -> None:
        living = np.flatnonzero(self.alive)
        if living.size:
            scores = self.scores()[living]
            self.leader = int(living[np.argmax(scores)])  # first of the best on ties


# ---- persistence --------------------------------------------------------------------------------

FLYER_ARRAYS = ("alive", "life_start", "first_score", "in_first_life", "_explore_next", "obs")
"""The flock's own per-flyer arrays in its state."""


def _arrays(flock: Flock) -> dict[str, np.ndarray]:
    """Every array of a flock's state, by key (the live arrays, not copies)."""
    out = {f"flock.{k}": getattr(flock, k) for k in FLYER_ARRAYS}
    out.update({f"batch.{k}": v for k, v in vars(flock.batch).items()
                if isinstance(v, np.ndarray)})
    if flock.scouting is not None:
        out.update(flock.scouting.arrays())
    return out


def flock_state(flock: Flock) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(arrays, meta)``: everything needed to continue ``flock`` exactly (``.npz`` + JSON)."""
    arrays = {k: v.copy() for k, v in _arrays(flock).items()}
    meta = {"level": flock.level.name, "n": flock.n, "seed": flock.seed,
            "restart": flock.restart, "generation": flock.generation,
            "replay_ratio": flock.replay_ratio, "explore_ladder": flock.explore_ladder,
            "top": flock.top, "speed": flock.speed, "defer": flock.defer,
            "scouts": flock.scouts, "steps": flock.steps, "best": flock.best,
            "leader": flock.leader, "history": [list(h) for h in flock.history],
            "rng": flock.rng.bit_generator.state,
            "batch_rng": flock.batch.rng.bit_generator.state}
    if flock.scouting is not None:
        meta.update(flock.scouting.meta())
    return arrays, meta


def flock_from_state(level: Level, learner: LearnerLike, arrays: dict[str, np.ndarray],
                     meta: dict[str, Any]) -> Flock:
    """Rebuilds a flock saved by ``flock_state``; ``ValueError`` if it does not fit ``level``."""
    if meta["level"] != level.name:
        raise ValueError(f"flock state is for level {meta['level']}, not {level.name}")
    flock = Flock(level, learner, int(meta["n"]), int(meta["seed"]), str(meta["restart"]),
                  None if meta["replay_ratio"] is None else float(meta["replay_ratio"]),
                  float(meta["explore_ladder"]), int(meta.get("scouts", 0)))
    targets = _arrays(flock)
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
    if flock.scouting is not None:
        flock.scouting.load_meta(meta)
    return flock
