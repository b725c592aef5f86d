"""The agent loop, written once: observe -> act -> ``world.step`` -> observe -> end_episode.

Headless drivers of a learner use it: ``main.py train`` (a batch of flyers,
``BatchRollout``), the benches and the tests (``Rollout``, one decision at a time through
``step_agent``), and greedy evaluations (``fly_once``). The window's session and the
flock keep their own loops, which interleave the person's keys and the frame pacing. One
step here is one decision (``world.step``), ``decision_ticks`` physics ticks.

Rules: numpy only (a simulation module). The agent is typed by ``ai.protocol.LearnerLike``
for the type checker alone; ``ai.Learner`` fits it, and so do the tests' fakes, so nothing
here imports ``ai`` or torch when it runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from game.sim.levels import Level

if TYPE_CHECKING:
    from ai.protocol import LearnerLike

Policy = Callable[[np.ndarray], np.ndarray]
"""Greedy actions for a batch of observations ``(B, obs)``."""


@dataclass(frozen=True)
class Step:
    """What one decision did."""

    action: int
    """The action taken (the given one, or the agent's)."""
    reward: float
    """Reward of the step (summed over its ticks)."""
    terminated: bool
    """The run ended on this step (a crash, a finished flight or course)."""
    truncated: bool
    """The ending was a finite world's cut-off, stored bootstrapped (``Level.truncated``)."""
    next_obs: np.ndarray
    """The observation after the step (the run's last one when it ended)."""
    score: float | None
    """The finished run's score when the step ended it, else None."""


def step_agent(level: Level, world: Any, agent: LearnerLike | None, obs: np.ndarray,
               action: int | None = None, *, explore: bool = True, human: bool = False) -> Step:
    """One decision on a scalar world: act (unless ``action`` is given), step, observe.

    The transition goes to ``agent.observe`` and a finished run to ``agent.end_episode``
    (skipped when ``agent`` is None: nobody learns). The world is not reset: the caller
    decides when the next run starts (the window shows a crash first).

    Args:
        obs: the world's current observation (the one the action is chosen on).
        action: the action to take (a human's); None asks ``agent.act(obs, explore)``.
        human: the action was a person's (stored as a demonstration).
    """
    if action is None:
        action = int(agent.act(obs, explore=explore))
    reward, terminated = world.step(action)
    next_obs = world.observation()
    truncated = level.truncated(reward, terminated)
    score = level.episode_score(world, reward) if terminated else None
    if agent is not None:
        agent.observe(obs, action, reward, next_obs, terminated and not truncated, truncated,
                      human=human)
        if score is not None:
            agent.end_episode(score)
    return Step(action, reward, bool(terminated), truncated, next_obs, score)


class Rollout:
    """One flyer and one agent; a run that ends restarts the world at once.

    Args:
        world: a scalar world of ``level`` (``level.world(seed)``).
        agent: the learner, or None to fly given actions only.
    """

    def __init__(self, level: Level, world: Any, agent: LearnerLike | None) -> None:
        self.level = level
        self.world = world
        self.agent = agent
        self.obs = world.observation()
        self.steps = 0
        """Decisions taken so far."""
        self.episodes = 0
        """Runs finished so far."""

    def step(self, action: int | None = None, *, explore: bool = True,
             human: bool = False) -> Step:
        """One decision (see ``step_agent``); a finished run restarts the world."""
        s = step_agent(self.level, self.world, self.agent, self.obs, action, explore=explore,
                       human=human)
        self.steps += 1
        if s.terminated:
            self.episodes += 1
            self.world.reset()
            self.obs = self.world.observation()
        else:
            self.obs = s.next_obs
        return s

    def run(self, steps: int) -> None:
        """``steps`` decisions of the agent, exploring."""
        for _ in range(steps):
            self.step()


class BatchRollout:
    """A batch of flyers that all feed one agent (``main.py train``).

    Each flyer's transition goes through the same ``act``/``observe`` path as the
    game's, in flyer order, so this is the game's learner, not a second one.

    Args:
        batch: a restarting batch of ``level`` (``level.train_batch(n, seed)``); a finished
            run's real last observation is read from its ``final_obs``.
    """

    def __init__(self, level: Level, batch: Any, agent: LearnerLike) -> None:
        self.level = level
        self.batch = batch
        self.agent = agent
        self.obs = batch.observation()
        self.transitions = 0
        """Transitions fed to the agent so far."""

    def step(self, limit: int | None = None) -> int:
        """One decision for every flyer; feeds at most ``limit`` transitions (flyer order).

        Returns:
            The transitions fed. With a ``limit`` below the batch size the other
            flyers' transitions are dropped (a run's step budget ends mid-batch).
        """
        agent, level, obs = self.agent, self.level, self.obs
        actions = np.array([agent.act(o) for o in obs])
        next_obs, rewards, terminated = self.batch.step(actions)
        final = self.batch.final_obs
        n = len(obs) if limit is None else min(len(obs), limit)
        for i in range(n):
            end = bool(terminated[i])
            truncated = level.truncated(rewards[i], end)
            agent.observe(obs[i], int(actions[i]), float(rewards[i]),
                          final[i] if end else next_obs[i], end and not truncated, truncated)
            if end:
                agent.end_episode(level.batch_episode_score(self.batch, i, rewards[i]))
        self.obs = next_obs
        self.transitions += n
        return n


def fly_once(level: Level, batch: Any, policy: Policy) -> np.ndarray:
    """Flies every flyer of a non-restarting batch through one run greedily.

    Returns:
        Each run's score (float64), as ``level.eval_ended`` counts it.
    """
    obs = batch.observation()
    n = len(obs)
    done = np.zeros(n, dtype=bool)
    scores = np.zeros(n)
    while not done.all():
        obs, rewards, terminated = batch.step(policy(obs))
        ended, score = level.eval_ended(batch, rewards, terminated)
        new = ended & ~done
        scores[new] = score[new]
        done |= new
    return scores
