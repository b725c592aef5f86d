"""The learner's settings: one flat dataclass, and the per-level defaults.

The defaults here are exactly what the game, ``main.py train`` and the benchmarks
under ``bench/`` use; there is no separate tuning for the benchmarks.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

OBS_SIZES = {"classic": 2, "arcade": 8}
"""Observation length of each level (``game.classic`` / ``game.arcade``)."""


@dataclass(frozen=True)
class LearnerConfig:
    """Every setting of the DQN learner (classic defaults; see ``default_config``)."""

    obs_size: int = 2
    """Length of the observation vector; follows the level."""
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
    learning_starts: int = 32
    """Env steps stored before the first gradient step."""
    batch_size: int = 64
    """Transitions per gradient step."""
    target_sync_updates: int = 100
    """Gradient steps between copies of the online weights into the target network."""
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
    curve_points: int = 1_000
    """Most points kept in the learning curve; older ones are thinned out."""


def default_config(level: str) -> LearnerConfig:
    """The default settings for ``level`` ('classic' or 'arcade')."""
    if level == "classic":
        return LearnerConfig()
    if level == "arcade":
        return dataclasses.replace(
            LearnerConfig(), obs_size=OBS_SIZES["arcade"], hidden=(64, 64), gamma=0.98,
            lr_early=3e-3, lr=1e-3, early_steps=5_000, updates_per_step_early=2.0,
            # Half a gradient step per env step: one flyer (as in the window) reaches 0.9 of
            # the oracle within 200k steps on 5/5 seeds, against 4/5 at a quarter (validation).
            updates_per_step=0.5, eps_decay_steps=5_000, target_sync_updates=500,
            # Exploration stays low: one random action at the wrong tick crashes a run, and
            # runs must reach the narrow gates late in a course to learn them.
            eps_end=0.002,
            # Crash lessons keep a quarter of each batch once the pilot flies well: without
            # it they dilute, the pilot forgets the narrow gates, and learning stalls.
            terminal_share=0.25, terminal_share_early=0.0,
            # Flying the average holds the pilot near its best: from scratch, 5 seeds end at
            # 0.96-0.98 of the oracle after 200k steps, against 0.20-0.98 without it.
            pilot_average_updates=10_000)
    raise ValueError(f"unknown level {level!r}; choose from {', '.join(OBS_SIZES)}")


def config_to_dict(config: LearnerConfig) -> dict:
    """The config as JSON-able values (tuples become lists)."""
    d = dataclasses.asdict(config)
    d["hidden"] = list(config.hidden)
    return d


def config_from_dict(d: dict, defaults: LearnerConfig | None = None) -> LearnerConfig:
    """Inverse of ``config_to_dict``; an unknown key raises ``TypeError``, a missing
    ``hidden`` ``KeyError``. Other missing keys (settings added after ``d`` was saved) take
    their values from ``defaults``, else the dataclass defaults."""
    d = dict(d)
    d["hidden"] = tuple(int(h) for h in d["hidden"])
    if defaults is not None:
        d = {**dataclasses.asdict(defaults), **d}
    return LearnerConfig(**d)
