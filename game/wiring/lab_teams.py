"""The lab's teams: what each one is, in the tutorial's words, and the learner it flies.

The default line-up follows the seed notebook step by step (``game.play.lab``):

1. ``tutorial``: the notebook's algorithm as written (``ai.tutorial.TutorialLearner`` with no
   switch): online Q-learning, one transition per step, targets from the network being
   trained, RMSprop, epsilon x0.99 per action down to 0.1, gamma 0.9, the 2-32-32-2 network
   on classic (on arcade the same algorithm on the level's observation and network width);
2. ``replay``: the same, learning from minibatches drawn from a replay memory;
3. ``target``: the same with replay and a fixed target network;

   (``double``, in the "Double DQN vs plain" line-up: the same with Double DQN's targets;)
4. ``ours``: the game's own autopilot (``game.wiring.learning.new_learner``: everything the
   game's learner does), at the flock's 1x pace of gradient steps at every speed.

Every team keeps its pace of gradient steps per transition at every speed: the lab compares
what each learner makes of the same experience. (Alone at top speed the game's flock takes
one gradient step per 32 transitions, to fly the most per second of compute; in the lab that
would compare compute budgets, not algorithms.)

``LINEUPS`` are the line-ups a key cycles through in the window. ``main.py train --team``
trains any team's learner into a pilot file.

Imports ``ai`` (torch): wiring, not play.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ai.tutorial import TutorialConfig, TutorialLearner
from game.play.lab import TeamSpec
from game.sim.levels import Level
from game.wiring.learning import learner_config, new_learner

OURS_RATIO = 0.5
"""Our team's gradient steps per transition in the lab: the game flock's 1x ratio without
scouts (the lab flies none), at which ``bench/lab.py``'s figures were measured."""


@dataclass(frozen=True)
class TeamKind:
    """A team: its spec (name, words, colour) and how its learner is made for a level."""

    spec: TeamSpec
    make: Callable[[Level, int], Any]


def tutorial_config(level: Level, replay: bool = False, target_network: bool = False,
                    double_dqn: bool = False) -> TutorialConfig:
    """The notebook's settings on ``level``: its observation, the game learner's network
    width on that level (classic: the notebook's 32-32), and the switches."""
    return TutorialConfig(hidden=tuple(learner_config(level).hidden), replay=replay,
                          target_network=target_network, double_dqn=double_dqn)


def _tutorial(replay: bool, target: bool, double: bool = False
              ) -> Callable[[Level, int], TutorialLearner]:
    def make(level: Level, seed: int) -> TutorialLearner:
        return TutorialLearner(level.obs_size, tutorial_config(level, replay, target, double),
                               meta=level.meta, seed=seed)
    return make


TEAMS: dict[str, TeamKind] = {
    "tutorial": TeamKind(TeamSpec(
        "tutorial", "the tutorial",
        "Q-learning as written: learns from each step as it happens",
        (235, 87, 87), replay_ratio=1.0), _tutorial(False, False)),
    "replay": TeamKind(TeamSpec(
        "replay", "+ experience replay",
        "keeps steps in memory, learns from random minibatches",
        (242, 178, 56), replay_ratio=1.0), _tutorial(True, False)),
    "target": TeamKind(TeamSpec(
        "target", "+ fixed target network",
        "aims at a fixed copy of its network, refreshed now and then",
        (96, 200, 110), replay_ratio=1.0), _tutorial(True, True)),
    "double": TeamKind(TeamSpec(
        "double", "+ Double DQN",
        "its network picks the next move, the target values it",
        (200, 120, 230), replay_ratio=1.0), _tutorial(True, True, double=True)),
    "ours": TeamKind(TeamSpec(
        "ours", "our autopilot",
        "the game's learner: Double DQN, Adam, crash memory and more",
        (90, 160, 255), replay_ratio=OURS_RATIO),
        lambda level, seed: new_learner(level, seed)),
}
"""Every team the lab knows, by key (``game.play.lab.TEAM_KEYS``, in that order)."""

DEFAULT_LINEUP = ("tutorial", "replay", "target", "ours")
"""The tutorial's lesson, step by step."""
LINEUPS: tuple[tuple[str, ...], ...] = (
    DEFAULT_LINEUP,
    ("tutorial", "replay"),
    ("replay", "target"),
    ("target", "double"),
    ("tutorial", "ours"),
)
"""The line-ups the window's key cycles through: the lesson, replay vs none, target vs none,
Double DQN vs plain, the tutorial vs our autopilot."""


def parse_lineup(text: str) -> tuple[str, ...]:
    """``'tutorial,replay'`` as keys; ``ValueError`` (one line) for an unknown or repeated
    team or a line-up of the wrong size."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in keys if k not in TEAMS]
    if unknown:
        raise ValueError(f"unknown team {unknown[0]!r}; choose from {', '.join(TEAMS)}")
    if len(set(keys)) != len(keys):
        raise ValueError(f"each team may race once, got {','.join(keys)}")
    if not 2 <= len(keys) <= 4:
        raise ValueError(f"a lab races 2 to 4 teams, got {len(keys)}")
    return keys


def new_team_learner(key: str, level: Level, seed: int = 0) -> Any:
    """A fresh learner of team ``key`` for ``level``."""
    return TEAMS[key].make(level, seed)


def lineup(keys: tuple[str, ...], level: Level, seed: int = 0) -> list[tuple[TeamSpec, Any]]:
    """``(spec, fresh learner)`` per team, for ``game.play.lab.Lab``."""
    return [(TEAMS[k].spec, new_team_learner(k, level, seed)) for k in keys]
