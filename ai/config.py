"""The learner's settings: one flat dataclass (the seed's classic values by default).

A game gives its own settings per level (Gravity Flyer: ``game.sim.levels``, turned into a
config by ``game.wiring.learning.learner_config``); the game, ``main.py train`` and the
benchmarks under ``bench/`` all use those, with no separate tuning for the benchmarks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ai.pacing import ReplayPacing

PILOT_LR_SCALE = 0.01
"""A learner continuing from a loaded pilot learns at this share of its ``lr`` (arcade: 1e-5,
the rate the shipped pilot's training was annealed to)."""


@dataclass(frozen=True)
class LearnerConfig:
    """Every setting of the DQN learner (the observation size is the learner's own argument)."""

    hidden: tuple[int, ...] = (32, 32)
    """Widths of the hidden ReLU layers (the seed's 2-32-32-2 on classic)."""
    gamma: float = 0.9
    """Discount per tick (the seed's value)."""
    lr_early: float = 1e-3
    """Adam learning rate during the first ``early_steps`` env steps."""
    lr: float = 3e-4
    """Adam learning rate afterwards (low: the pilot keeps learning forever without drifting)."""
    early_steps: int = 400
    """Env steps of the early phase: high replay ratio and ``lr_early``."""
    updates_per_step_early: float = 6.0
    """Gradient steps per env step in the early phase (replay ratio)."""
    updates_per_step: float = 0.0625
    """Gradient steps per env step after the early phase (fractions accumulate); keeps the
    game's per-tick cost low at top speed."""
    updates_per_step_flock: float = 0.5
    """Gradient steps per env step of a flock of flyers at the pace of play (the game at 1x),
    from the first step: many flyers give many transitions a second, and an early burst would
    not fit the frame budget (``ai.pacing``)."""
    updates_per_step_top: float = 1 / 32
    """Gradient steps per env step at the game's top speed, where compute and not play time
    is the limit: the fewest gradient steps per transition learned fastest per second of
    compute (``bench/watch_learning.py --part ratios``)."""
    n_step: int = 1
    """Steps per return (``ai.nstep``): 1 is one-step Q-learning; n > 1 stores each flyer's
    uncorrected n-step returns and bootstraps with ``gamma ** n``."""
    learning_starts: int = 32
    """Env steps stored before the first gradient step."""
    batch_size: int = 64
    """Transitions per gradient step."""
    target_sync_updates: int = 100
    """Gradient steps between copies of the online weights into the target network."""
    target_tau: float = 0.0
    """Polyak target updates: after each gradient step the target moves this share of the way
    to the online weights (0: a hard copy every ``target_sync_updates``)."""
    huber_delta: float = 1.0
    """Huber loss: quadratic inside this TD error, linear outside."""
    grad_clip_norm: float = 10.0
    """Gradients are scaled down to at most this global L2 norm."""
    eps_start: float = 1.0
    """Exploration rate (chance of a random action) at the first act."""
    eps_end: float = 0.02
    """Exploration rate once the decay is over; it stays there forever."""
    eps_decay_steps: int = 100
    """Exploring acts over which epsilon falls linearly from start to end."""
    capacity: int = 100_000
    """Replay slots for ordinary transitions (a ring: the oldest is overwritten)."""
    terminal_capacity: int = 10_000
    """Extra replay slots kept for terminal (crash or finish) transitions only, so the rare
    lessons of a crash are not flushed out by thousands of safe ticks."""
    terminal_share: float = 0.25
    """Least share of each batch drawn from the terminal ring after the early phase."""
    terminal_share_early: float = 0.25
    """The same least share during the early phase (classic: from the first update, which
    removes the temporary collapses some seeds showed right after the early phase)."""
    pilot_average_updates: int = 0
    """Greedy flying (learning off, saved pilots, evaluations) uses an exponential moving
    average of the online weights over about this many gradient steps, which smooths out
    DQN's swings between neighbouring updates; 0 flies the online weights. Exploring acts
    always use the online weights. The average equals them during the early phase."""
    pilot_average_warmup: float = 0.0
    """While the learner is young the average's horizon is at most this share of the gradient
    steps taken (0: always ``pilot_average_updates``): a fresh learner improves fast, and a
    fixed 10,000-step average flew the pilot of ~20 s before at 1x (a flock at 20 s: online
    weights 0.84-0.95 of the oracle, their 10,000-step average 0.05-0.25)."""
    curve_points: int = 1_000
    """Most points kept in the learning curve; older ones are thinned out."""

    @property
    def pacing(self) -> ReplayPacing:
        """The replay pacing these settings describe (the one place a ratio is decided)."""
        return ReplayPacing.of(self)

    def epsilon_after(self, explore_steps: int) -> float:
        """The chance of a random action after ``explore_steps`` exploring acts: linear from
        ``eps_start`` to ``eps_end`` over ``eps_decay_steps``, then flat."""
        frac = (min(1.0, explore_steps / self.eps_decay_steps) if self.eps_decay_steps > 0
                else 1.0)
        return self.eps_start + (self.eps_end - self.eps_start) * frac

    def after_pilot(self, env_steps: int) -> LearnerConfig:
        """The settings of a learner that continues from a loaded pilot after ``env_steps``.

        No early phase: its high replay ratio and learning rate, meant to get a fresh net off
        the ground, fit the pilot's weights to a nearly empty memory and unlearn it (the
        shipped arcade pilot fell from 1.0 to 0.08 of the oracle within 4,000 steps).
        Learning starts once the memory holds ``early_steps`` of the pilot's own flights, at
        ``PILOT_LR_SCALE`` times ``lr``: the shipped pilots end their training annealed to a
        small rate, and at the full ``lr`` the updates on the pilot's own, nearly crash-free
        flights pull it away. The flying average starts at a pilot that already flies, so it
        keeps its whole horizon (no warm-up).
        """
        lr = self.lr * PILOT_LR_SCALE
        return dataclasses.replace(
            self, early_steps=0, lr_early=lr, lr=lr, pilot_average_warmup=0.0,
            learning_starts=max(self.learning_starts, env_steps + self.early_steps))


def config_to_dict(config: LearnerConfig) -> dict:
    """The config as JSON-able values (tuples become lists)."""
    d = dataclasses.asdict(config)
    d["hidden"] = list(config.hidden)
    return d


def config_from_dict(d: dict, defaults: LearnerConfig | None = None) -> LearnerConfig:
    """Inverse of ``config_to_dict``; an unknown key raises ``TypeError``, a missing
    ``hidden`` ``KeyError``. Other missing keys (settings added after ``d`` was saved) take
    their values from ``defaults``, else the dataclass defaults. An ``obs_size`` (kept in
    the config by saves of format 3 and older) is ignored."""
    d = dict(d)
    d.pop("obs_size", None)
    d["hidden"] = tuple(int(h) for h in d["hidden"])
    if defaults is not None:
        d = {**dataclasses.asdict(defaults), **d}
    return LearnerConfig(**d)
