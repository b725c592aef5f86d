"""``main.py lab``: the lesson lab headless; each team's skill curve, as text or JSON.

The lab (``game.play.lab``) flies every team at 1x on a simulated clock, tick by tick as the
window does, and reads each team's greedy pilot on the skill meter's held-out set every
``SKILL_EVERY_S`` seconds of play from 0 s. ``--json`` prints one object (``Lab.to_json``)::

    {"level": "arcade", "figure": "score/oracle", "seed": 0, "seconds": 60.0,
     "flyers_per_team": 16,
     "teams": [{"key": "tutorial", "name": "the tutorial", "adds": "...",
                "env_steps": 14400, "updates": 14400,
                "curve": [{"seconds": 0.0, "env_steps": 0, "skill": 0.0}, ...]}, ...]}

Rules: a command; the racing is ``game.play.lab``, the learners ``game.wiring.lab_teams``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from game.play.flock import DEFAULT_FLOCK
from game.play.lab import Lab
from game.sim.levels import Level
from game.wiring.lab_teams import DEFAULT_LINEUP, lineup


@dataclass(frozen=True)
class LabConfig:
    """``main.py lab``: which teams race on which level, for how long."""

    level: Level
    seconds: float = 60.0
    """Seconds of play at 1x."""
    seed: int = 0
    """Seeds every team's learner and flock and the course list."""
    teams: tuple[str, ...] = DEFAULT_LINEUP
    """Team keys (``game.wiring.lab_teams.TEAMS``), 2 to 4."""
    flock: int = DEFAULT_FLOCK
    """Flyers in all, shared equally between the teams."""


def make_lab(cfg: LabConfig) -> Lab:
    """A fresh lab of ``cfg``'s teams."""
    return Lab(cfg.level, lineup(cfg.teams, cfg.level, cfg.seed), flock=cfg.flock,
               seed=cfg.seed)


def run_lab(cfg: LabConfig) -> Lab:
    """Flies the lab for ``cfg.seconds`` of play at 1x, with its skill readings."""
    lab = make_lab(cfg)
    lab.run_seconds(cfg.seconds)
    return lab


def report(lab: Lab, as_json: bool) -> str:
    """What ``main.py lab`` prints."""
    return json.dumps(lab.to_json()) if as_json else "\n".join(lab.lines())
