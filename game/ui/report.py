"""What the game tells tests and benches: the state file and the frame log.

``GRAVITY_FLYER_STATE_FILE``: a JSON summary rewritten ten times a second.
``GRAVITY_FLYER_FRAME_LOG``: every frame's timing, written as JSON at exit.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

STATE_ENV = "GRAVITY_FLYER_STATE_FILE"
FRAME_LOG_ENV = "GRAVITY_FLYER_FRAME_LOG"
FRAME_COLUMNS = ("start", "interval", "work", "ticks", "speed", "sim", "saving", "drawn_y",
                 "flipped", "flying", "env_steps")


class StateFile:
    """Writes a JSON summary atomically (a reader never sees half a file)."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None

    def write(self, state: dict[str, Any]) -> None:
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".part")
        try:
            tmp.write_text(json.dumps(state))
            os.replace(tmp, self.path)
        except OSError as exc:  # a test variable must not crash the frame loop: say it once
            print(f"gravity-flyer: {STATE_ENV}: cannot write {self.path} "
                  f"({exc.strerror or exc}); no more state is written", file=sys.stderr,
                  flush=True)
            self.path = None


class FrameLog:
    """One row per frame, kept in memory and written at exit."""

    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None
        self.rows: list[tuple] = []

    @property
    def on(self) -> bool:
        return self.path is not None

    def add(self, *row: Any) -> None:
        if self.path is not None:
            self.rows.append(row)

    def write(self, **extra: Any) -> None:
        if self.path is None:
            return
        cols = list(zip(*self.rows, strict=True)) if self.rows else [[]] * len(FRAME_COLUMNS)
        out = {name: list(col) for name, col in zip(FRAME_COLUMNS, cols, strict=True)}
        out.update(extra)
        self.path.write_text(json.dumps(out))


def session_state(s: Any) -> dict[str, Any]:
    """A JSON-able summary of a ``game.play.session.Session`` (the window test and the bench)."""
    learner, world = s.learner, s.world
    return {
        "level": s.level, "pilot": s.pilot, "paused": s.paused,
        "pause_reason": None if s.pause_reason is None else s.pause_reason.value,
        "phase": s.phase.value, "t": int(world.t), "y": float(world.y),
        "v_y": float(world.v_y), "score": s.score, "best": s.scoring.best,
        "stage": s.stage, "tick_rate": s.tick_rate, "speed": s.pace.name,
        "speed_shown": s.pace.shown(), "speed_reached": s.pace.reached(),
        "ticks": s.ticks, **s.pilots.counters(), "jump_rise": s.jump_rise,
        "credit": s.scoring.credit(), "points": s.scoring.shares(),
        "flights": s.flights, "restarts": s.restarts, "dropped_ticks": s.clock.dropped,
        "learning": None if learner is None else bool(learner.learn_enabled),
        "obs": [round(float(v), 4) for v in s.obs],
        "flock": None if s.flock is None else {**s.flock.summary(),
                                                 "race": s.flock.on_course(world),
                                                 "t": s.flock.focus_t()},
        "skill": None if s.skill is None else s.skill.latest,
        "skill_readings": 0 if s.skill is None else s.skill.readings,
        "skill_steps": None if s.skill is None else s.skill.latest_steps,
        "env_steps_flown": s.env_steps,
    }
