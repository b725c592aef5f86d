"""The lesson lab: teams of flyers, each with its own learner, race the same courses.

The seed notebook builds naive Q-learning and ends by naming experience replay and a fixed
target network. The lab shows what they change: two to four **teams**, each with its own
learner, colour and share of a flock, fly the level at once, and each team's greedy pilot is
scored on the skill meter's held-out set (``game.play.skill.SkillMeter``: score/oracle, on
classic the success rate) every ``SKILL_EVERY_S`` seconds of play, from the first second.

Each team is a ``game.play.flock_play.FlockPlay`` (the window's flock: a ``Flock`` ticked at
the session's pace), used through its public interface. What a team's learner is, is not
this module's business: a ``TeamSpec`` names it and says what it adds, and the learners come
in from ``game.wiring.lab_teams`` (the tutorial's ``ai.tutorial.TutorialLearner`` and the
game's ``ai.Learner``).

One course for all (arcade): generation ``g`` of every team flies course ``course_seed(seed,
g)``. A team that finishes a course or loses every flyer starts its next generation on the
next course of that one list, so teams meet the same courses in the same order, each at its
own pace, and a team's flight depends only on its own learner and the seed, never on the
other teams (``tests/test_lab.py``). Classic has no course: every flight starts at the same
point.

Pace: ``tick`` is one physics tick of every team (1x: the level's ticks per second of play);
``decide`` one whole decision of every team (top speed). At 1x a decision's gradient steps are
owed, and they are always paid in full before that team's next decision and before a skill
reading, so the learning does not depend on the pacing. The window has them run in the
learner's child process (a team's learner with an attached ``remote``: they are sent as they
fall due and the child's weights taken back before the team decides, ``game.ui.lab.elsewhere``)
or, without it, pays them beside its frames on a worker thread or in their spare time
(``DebtWorker``). Every team flies the same number of decisions, so the chart's time axis,
seconds of play, is the same for all. Gradient steps per transition are each team's own
(``TeamSpec.replay_ratio``, the same at every speed; None would follow the learner's pacing,
``ai.pacing``).

Numpy and the standard library (``threading``) only; learners are duck-typed (a ``remote``
attribute, where a learner has one, is an ``ai.process.remote.RemoteSteps``).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from game.play.flock import DEFAULT_FLOCK
from game.play.flock_play import SKILL_EVERY_S, FlockPlay
from game.play.skill import SkillMeter
from game.sim.levels import Level

MIN_TEAMS, MAX_TEAMS = 2, 4
"""How many teams race at once."""
TEAM_KEYS = ("tutorial", "replay", "target", "double", "ours")
"""Every team's name on the command line (``game.wiring.lab_teams.TEAMS`` makes their
learners); here so that the CLI can offer them without importing torch."""


@dataclass(frozen=True)
class TeamSpec:
    """What a team is: its name, what it adds (in the tutorial's words), how it is drawn."""

    key: str
    """The name on the command line (``--teams tutorial,replay``)."""
    name: str
    """The legend's name ('the tutorial', '+ experience replay')."""
    adds: str
    """One short line in the tutorial's words: what this team adds."""
    colour: tuple[int, int, int]
    """RGB of its flyers and its line on the chart."""
    replay_ratio: float | None = None
    """Gradient steps per transition at every speed; None: the game's flock pace."""


@dataclass
class Reading:
    """One skill reading of a team's greedy pilot."""

    seconds: float
    """Seconds of play when the pilot's weights were taken."""
    env_steps: int
    skill: float


@dataclass
class Team:
    """A team in the lab: its spec, learner, flock and readings."""

    spec: TeamSpec
    learner: Any
    play: FlockPlay
    readings: list[Reading] = field(default_factory=list)
    generations: int = 1
    """Generations the lab has started for this team (the next course's index)."""
    ratio: float = 0.0
    """Gradient steps per transition at the lab's speed."""
    debt: float = 0.0
    """Gradient steps owed for the transitions of its latest decision (``DebtWorker``)."""

    @property
    def latest(self) -> float | None:
        """The latest skill reading, or None before the first."""
        return self.readings[-1].skill if self.readings else None


def _remote(team: Team) -> Any:
    """The team learner's child process (``ai.process.remote.RemoteSteps``) while its steps
    run there, else None."""
    remote = getattr(team.learner, "remote", None)
    return remote if remote is not None and remote.attached else None


def course_seed(seed: int, generation: int) -> int:
    """The course of generation ``generation`` for every team of a lab of ``seed``."""
    state = np.random.SeedSequence([int(seed), int(generation), 0x1AB]).generate_state(2)
    return int((int(state[0]) << 31 | int(state[1])) & (2**63 - 1))


class DebtWorker:
    """Keeps the teams' owed gradient steps in the window and pays them: on a thread of its
    own, so the window's thread only flies and draws while the learners learn beside it, or
    (no thread) in each frame's spare time (``pay``).

    The window issues its GL calls with the worker on hold (``hold``/``go``): each call
    releases the GIL, and a worker that took it in between stretched those calls from 2-3 ms
    a frame to 6-10 ms. The flip, in C without the GIL, and the rest of the frame run beside
    it; ``pace`` spreads each decision's steps over the frames before the team decides.

    A team's learner is touched by one thread at a time: the worker trains a team only while
    it owes steps, a few at a time, and ``claim`` (the lab, before the team decides or is
    read) waits for the worker's steps on that team in progress and takes the rest of its
    debt back to pay itself. So each learner takes the same steps in the same order as when
    the lab pays alone: the learning is the same however the threads are paced.

    Args:
        teams: the lab's teams (their ``debt`` is read and changed under this worker's lock).
        chunk: most steps of one team per turn.
    """

    def __init__(self, teams: list[Team], chunk: int = 1, thread: bool = True) -> None:
        self.teams = teams
        self.chunk = chunk
        self._cv = threading.Condition()
        self._busy: Team | None = None
        self._held = False
        self._allowance: float | None = None
        """Steps the worker may still start this frame (None: no limit; ``pace``)."""
        self._stop = False
        self._turn = 0
        self.error: BaseException | None = None
        """What a learner raised on the worker; ``claim`` raises it on the lab's thread."""
        self.paid = 0
        """Gradient steps the worker paid."""
        self._thread: threading.Thread | None = None
        """The worker thread (None: the owner's thread pays, in ``pay``)."""
        if thread:
            self._thread = threading.Thread(target=self._run, name="lab-learner", daemon=True)
            self._thread.start()

    @property
    def owed(self) -> float:
        """Gradient steps owed in all."""
        return sum(t.debt for t in self.teams)

    def pay(self, seconds: float, chunk: int = 4) -> int:
        """Without a thread: spends up to ``seconds`` on owed steps, a few per team in turn, on
        the caller's thread; returns how many ran (with a thread: 0, the thread pays)."""
        if self._thread is not None:
            return 0
        end = time.perf_counter() + seconds
        done = 0
        while time.perf_counter() < end:
            owing = [t for t in self.teams if t.debt >= 1.0]
            if not owing:
                break
            for team in owing:
                k = min(chunk, int(team.debt))
                team.debt -= k
                team.learner.train(k)
                done += k
        return done

    def pay_frame(self, seconds: float, frames_to_tick: float | None,
                  frames_per_tick: float = 1.0) -> None:
        """A frame's part of the owed steps (the window). With a thread, its allowance: the
        debts spread over the frames before each team decides (``pace``); without, paid now
        within ``seconds``. ``frames_to_tick`` None: paused or top speed (the thread pays
        freely; nothing is paid now)."""
        if self._thread is not None:
            self.pace(frames_to_tick, frames_per_tick)
        elif frames_to_tick is not None:
            self.pay(seconds)

    @contextmanager
    def drawing(self) -> Iterator[None]:
        """The window's GL calls: the thread takes no step meanwhile (``hold``, ``go``)."""
        self.hold()
        try:
            yield
        finally:
            self.go()

    def owe(self, team: Team, steps: float) -> None:
        """``team`` owes ``steps`` more gradient steps (its latest decision's)."""
        with self._cv:
            team.debt += steps
            self._cv.notify_all()

    def claim(self, team: Team) -> int:
        """Waits until the worker is not training ``team``; returns the whole steps it still
        owes, taken off its debt for the caller to pay."""
        with self._cv:
            while self._busy is team:
                self._cv.wait()
            if self.error is not None:
                raise self.error
            due = int(team.debt)
            team.debt -= due
            return due

    def pace(self, frames_to_tick: float | None, frames_per_tick: float = 1.0) -> None:
        """This frame's allowance: each team's debt spread over the frames left before it
        decides, so a decision's steps (classic: 56 at once, a decision every 6 frames) do
        not all land on the next two frames. A team decides on one of its next ``d - k + 1``
        ticks; ``frames_to_tick``: frames until the next tick (None: no limit, as when paused
        or at top speed)."""
        with self._cv:
            if frames_to_tick is None:
                self._allowance = None
                self._cv.notify_all()
                return
            share = 0.0
            for t in self.teams:
                play = t.play
                ticks = max(play.d - play.k, 0) + 1
                frames = frames_to_tick + (ticks - 1) * frames_per_tick
                share += t.debt / max(frames, 1.0)
            self._allowance = math.ceil(share)
            self._cv.notify_all()

    def hold(self) -> None:
        """No step starts until ``go``; waits for the steps in progress."""
        with self._cv:
            self._held = True
            while self._busy is not None:
                self._cv.wait()

    def wait_idle(self) -> None:
        """Waits until the worker has paid every whole step it may (held or out of this
        frame's allowance, it may pay none)."""
        with self._cv:
            while self.error is None and not self._stop and (
                    self._busy is not None
                    or (self._allowed() and any(t.debt >= 1.0 for t in self.teams))):
                self._cv.wait()

    def _allowed(self) -> bool:
        """Whether the worker may start a step now (under the lock)."""
        return not self._held and (self._allowance is None or self._allowance >= 1)

    def go(self) -> None:
        """The worker may learn again."""
        with self._cv:
            self._held = False
            self._cv.notify_all()

    def stop(self) -> None:
        """Finishes the steps in progress and ends the thread (the rest stays owed)."""
        with self._cv:
            self._stop = True
            self._cv.notify_all()
        if self._thread is not None:
            self._thread.join()

    def _next(self) -> tuple[Team, int] | None:
        """The next team's turn and its steps (under the lock), or None to stop."""
        while True:
            if self._stop or self.error is not None:
                return None
            owing = [t for t in self.teams if t.debt >= 1.0] if self._allowed() else []
            if owing:
                team = owing[self._turn % len(owing)]
                self._turn += 1
                k = min(self.chunk, int(team.debt))
                team.debt -= k
                if self._allowance is not None:
                    self._allowance -= k
                self._busy = team
                return team, k
            self._cv.wait()

    def _run(self) -> None:
        while True:
            with self._cv:
                turn = self._next()
            if turn is None:
                return
            team, k = turn
            try:
                team.learner.train(k)
            except BaseException as e:  # noqa: BLE001 - raised again on the lab's thread
                self.error = e
            with self._cv:
                self._busy = None
                self.paid += k
                self._cv.notify_all()


class Lab:
    """Teams racing on one level (module docstring).

    Args:
        level: the level.
        teams: ``(spec, learner)`` per team, 2 to 4.
        flock: flyers in all, shared equally between the teams (at least one each).
        seed: seeds every team's flock and the course list.
        every_s: seconds of play between skill readings (``read_due`` and ``poll``).
        stagger: at 1x, team ``i`` decides on the ticks ``i * d // n`` past the first team's
            (``d`` ticks a decision, ``n`` teams), so a frame carries fewer teams' decisions
            (the window). Each team learns exactly as without it; its readings fall up to a
            decision apart from the lock-step run's.
    """

    def __init__(self, level: Level, teams: list[tuple[TeamSpec, Any]],
                 flock: int = DEFAULT_FLOCK, seed: int = 0,
                 every_s: float = SKILL_EVERY_S, stagger: bool = False) -> None:
        if not MIN_TEAMS <= len(teams) <= MAX_TEAMS:
            raise ValueError(f"a lab races {MIN_TEAMS} to {MAX_TEAMS} teams, got {len(teams)}")
        keys = [spec.key for spec, _ in teams]
        if len(set(keys)) != len(keys):
            raise ValueError(f"each team may race once, got {', '.join(keys)}")
        self.level = level
        self.seed = int(seed)
        self.every_s = float(every_s)
        self.per_team = max(1, int(flock) // len(teams))
        # No scouts: every team flies only what the viewer sees (the line-ups differ in
        # their learners alone).
        self.teams = [Team(spec, learner, FlockPlay(level, learner, self.per_team, seed=self.seed,
                                                    scouts=0))
                      for spec, learner in teams]
        d = int(level.decision_ticks)
        self.phases = [(i * d) // len(self.teams) if stagger else 0
                       for i in range(len(self.teams))]
        """Tick of the decision cycle on which each team decides (all 0 in lock step)."""
        self.courses = self.teams[0].play.flock.courses
        """The level is a course (arcade): the teams fly the lab's course list."""
        for team in self.teams:
            self._on_course(team, 0)
        self.ticks = 0
        """Physics ticks of play (each team's)."""
        self.decisions = 0
        """Decisions flown by each team."""
        self.top = False
        self._next_reading = 0.0
        self.meter: SkillMeter | None = None
        self._pending: int | None = None
        self._pending_at: tuple[float, int] = (0.0, 0)
        self._turn = 0
        self._last_read: dict[int, float] = {}
        self.worker: DebtWorker | None = None
        """Pays the owed steps beside the window's thread (``start_worker``), or None."""
        self.set_top_speed(False)

    # ---- flying -----------------------------------------------------------------------------

    @property
    def seconds(self) -> float:
        """Seconds of play every team has flown (the chart's time axis)."""
        return self.decisions * self.level.decision_ticks / self.level.ticks_per_second

    def set_top_speed(self, top: bool) -> None:
        """Top speed: whole decisions (``decide``). Each team keeps its own gradient steps per
        transition (``TeamSpec.replay_ratio``; None: the game flock's at that speed)."""
        self.top = bool(top)
        for team in self.teams:
            team.play.set_top_speed(self.top)
            flock = team.play.flock
            if team.spec.replay_ratio is not None:
                flock.replay_ratio = team.spec.replay_ratio
            team.ratio = flock.ratio() or 0.0

    def tick(self) -> None:
        """One physics tick of every team (1x). A team's gradient steps for a decision are
        owed (``pay`` spends frames' spare time on them) and all paid before its next
        decision, so the learning, and every reading, is the same however it is paced."""
        for team, phase in zip(self.teams, self.phases, strict=True):
            play = team.play
            if play.k >= play.d and (self.ticks - phase) % play.d:
                continue  # staggered: this team decides on its own tick of the cycle
            if play.k >= play.d:  # this tick decides
                self._settle(team)
                before = play.flock.generation
                steps = int(team.learner.env_steps)
                play.flock.replay_ratio = 0.0  # FlockPlay owes nothing: the lab keeps the debt
                play.tick()
                play.flock.replay_ratio = team.ratio
                self._owe(team, steps)
                self._after_decision(team, before)
            else:
                play.tick()
        self.ticks += 1
        if self.teams[0].play.k == 1:
            self.decisions += 1

    def decide(self) -> None:
        """One whole decision of every team (top speed), learning as it goes."""
        for team in self.teams:
            self._settle(team)
            before = team.play.flock.generation
            team.play.flock.replay_ratio = team.ratio
            team.play.decide()
            self._after_decision(team, before)
        self.decisions += 1
        self.ticks = self.decisions * self.level.decision_ticks

    def _owe(self, team: Team, steps_before: int) -> None:
        """The gradient steps the transitions of a decision are due (as ``FlockPlay`` counts)."""
        learner = team.learner
        start = max(steps_before, int(learner.config.learning_starts))
        steps = max(int(learner.env_steps) - start, 0) * team.ratio
        if self.worker is not None:
            self.worker.owe(team, steps)
            return
        team.debt += steps
        if _remote(team) is not None:  # sent now: the child runs them before the team decides
            due = int(team.debt)
            team.debt -= due
            team.learner.train(due)

    def _settle(self, team: Team) -> None:
        """Pays all of a team's whole owed gradient steps now (what the worker has not)."""
        if self.worker is None:
            due = int(team.debt)
            team.debt -= due
        else:
            due = self.worker.claim(team)
        if due:
            team.learner.train(due)
        remote = _remote(team)
        if remote is not None:
            remote.sync()  # the weights its steps made, before it flies or is read

    def start_worker(self, thread: bool = True) -> None:
        """From now on ``worker`` keeps the owed steps (``DebtWorker``): a thread pays them as
        they fall due, or (``thread`` False) the window's frames do, in their spare time."""
        if self.worker is None:
            self.worker = DebtWorker(self.teams, thread=thread)

    def stop_worker(self) -> None:
        """The lab's thread pays again (the steps still owed are paid at the next decision)."""
        if self.worker is not None:
            self.worker.stop()
            self.worker = None

    def pay_frame(self, seconds: float, frames_to_tick: float | None,
                  frames_per_tick: float = 1.0) -> None:
        """The window's frame: its part of the owed steps (``DebtWorker.pay_frame``); nothing
        without a worker (the steps went to the learner's child process as they fell due)."""
        if self.worker is not None:
            self.worker.pay_frame(seconds, frames_to_tick, frames_per_tick)

    def drawing(self) -> AbstractContextManager[None]:
        """The window's GL calls (``DebtWorker.drawing``; without a worker, nothing to hold)."""
        return self.worker.drawing() if self.worker is not None else nullcontext()

    def run_seconds(self, seconds: float, read: bool = True) -> None:
        """``seconds`` of play at 1x, tick by tick; skill readings as they fall due (``read``)."""
        end = round((self.ticks / self.level.ticks_per_second + seconds)
                    * self.level.ticks_per_second)
        while self.ticks < end:
            if read:
                self.read_due()
            self.tick()
        if read:
            self.read_due()

    def _after_decision(self, team: Team, before: int) -> None:
        """A team that started a generation flies the lab's next course (arcade)."""
        if team.play.flock.generation != before:
            self._on_course(team, team.generations)
            team.generations += 1

    def _on_course(self, team: Team, generation: int) -> None:
        if not self.courses:
            return
        f = team.play.flock
        f.obs = f.batch.reset(course_seeds=np.full(f.n, course_seed(self.seed, generation),
                                                   dtype=np.int64))

    # ---- skill ------------------------------------------------------------------------------

    def read_all(self) -> None:
        """A skill reading of every team now, on this thread (headless), owed steps paid."""
        meter = self.skill_meter()
        for team in self.teams:
            self._settle(team)
            figure = meter.measure(team.learner.greedy_batch)
            team.readings.append(Reading(self.seconds, int(team.learner.env_steps), figure))

    def read_due(self) -> bool:
        """``read_all`` if a reading is due (every ``every_s`` s of play, the first at 0)."""
        if self.seconds + 1e-9 < self._next_reading:
            return False
        self.read_all()
        self._next_reading += self.every_s
        while self._next_reading <= self.seconds:
            self._next_reading += self.every_s
        return True

    def skill_meter(self) -> SkillMeter:
        """The synchronous meter (its held-out set is computed once per process)."""
        if self.meter is None:
            self.meter = SkillMeter(self.level)
        return self.meter

    def poll(self, meter: Any) -> None:
        """Background readings, one team at a time (the window): ``meter`` has
        ``SkillMeter``'s ``refresh``/``busy``/``readings`` (a ``SkillProcess``). A finished
        reading is filed under its team; the next team whose reading is due (``every_s``
        seconds of play since its last) is sent."""
        if meter.busy:
            return
        if self._pending is not None:
            if meter.readings:
                seconds, steps = self._pending_at
                team = self.teams[self._pending]
                figure = float(meter.readings[-1][1])
                team.readings.append(Reading(seconds, steps, figure))
            self._pending = None
        n = len(self.teams)
        for k in range(n):
            i = (self._turn + k) % n
            last = self._last_read.get(i)
            if last is not None and self.seconds < last + self.every_s:
                continue
            team = self.teams[i]
            self._settle(team)
            if meter.refresh(team.learner):
                self._pending = i
                self._pending_at = (self.seconds, int(team.learner.env_steps))
                self._last_read[i] = self.seconds
                self._turn = i + 1
            return
