"""``main.py lab``: the lesson lab headless; each team's skill curve (text, JSON, a PNG chart).

The lab (``game.play.lab``) flies every team at 1x on a simulated clock, tick by tick as the
window does, and reads each team's greedy pilot on the skill meter's held-out set every
``SKILL_EVERY_S`` seconds of play from 0 s. ``--json`` prints one object (``curves``)::

    {"level": "arcade", "figure": "score/oracle", "seed": 0, "seconds": 60.0,
     "flyers_per_team": 16,
     "teams": [{"key": "tutorial", "name": "the tutorial", "adds": "...",
                "env_steps": 14400, "updates": 14400,
                "curve": [{"seconds": 0.0, "env_steps": 0, "skill": 0.0}, ...]}, ...]}

``--png PATH`` also draws the curves (``chart_png``). ``LabFilm`` is ``main.py record --lab``:
the same lab filmed with the project's numpy renderer (``game.sim.raster``).

Rules: a command; the racing is ``game.play.lab``, the learners ``game.wiring.lab_teams``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from game.play.flock import DEFAULT_FLOCK
from game.play.lab import Lab
from game.sim import arcade
from game.sim.font import INK, draw_text, fill
from game.sim.levels import Level
from game.sim.plot import plot_curve
from game.sim.png import png_bytes
from game.sim.raster import BAR_TRACK, CAPTION_BG, Painter, Scene, course_walls, tilt_of
from game.wiring.lab_teams import DEFAULT_LINEUP, TEAMS, lineup

HOLD_END_S = 2.0
"""A lab film holds its last frame this long, so the final skills can be read."""


def play_time(seconds: float) -> str:
    """``m:ss`` of ``seconds`` (whole seconds, rounded down)."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


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


def curves(lab: Lab) -> dict[str, Any]:
    """The lab's curves: one object, a curve per team (``python main.py lab --json``)."""
    return {
        "level": lab.level.name, "figure": lab.level.figure_name, "seed": lab.seed,
        "seconds": round(lab.seconds, 3), "flyers_per_team": lab.per_team,
        "teams": [{
            "key": t.spec.key, "name": t.spec.name, "adds": t.spec.adds,
            "env_steps": int(t.learner.env_steps), "updates": int(t.learner.updates),
            "curve": [{"seconds": round(r.seconds, 3), "env_steps": r.env_steps,
                       "skill": round(r.skill, 4)} for r in t.readings],
        } for t in lab.teams],
    }


def curve_lines(lab: Lab) -> list[str]:
    """Each team's curve as text, one line per team, then what each adds."""
    figure = lab.level.figure_name
    out = [f"lab on {lab.level.name}, seed {lab.seed}, {lab.seconds:g} s of play, "
           f"{lab.per_team} flyers per team; {figure} of each greedy pilot over time:"]
    width = max(len(t.spec.name) for t in lab.teams)
    for t in lab.teams:
        curve = "  ".join(f"{r.seconds:g}s {r.skill:.2f}" for r in t.readings)
        out.append(f"  {t.spec.name:<{width}}  {curve}")
    out.append("what each team adds:")
    out += [f"  {t.spec.name:<{width}}  {t.spec.adds}" for t in lab.teams]
    return out


def report(lab: Lab, as_json: bool) -> str:
    """What ``main.py lab`` prints."""
    return json.dumps(curves(lab)) if as_json else "\n".join(curve_lines(lab))


def chart_png(result: dict[str, Any], width: int = 640, height: int = 360) -> bytes:
    """The README's chart: each team's skill over seconds of play (``curves``), a line
    per team in its colour, as PNG bytes."""
    teams = result["teams"]
    xs = np.array([p["seconds"] for p in teams[0]["curve"]], dtype=float)
    series = [np.array([p["skill"] for p in t["curve"]], dtype=float) for t in teams]
    colours = [np.array(TEAMS[t["key"]].spec.colour, np.float32) / 255 for t in teams]
    image = plot_curve(xs, series, width, height, y_range=(0.0, 1.0),
                       labels=tuple(t["key"] for t in teams), colours=colours,
                       x_label=f"seconds of play   {result['level']}")
    return png_bytes(image)


class LabFilm:
    """The frames of a lab (``record --lab``): the field following one team, every team's
    flyers on that course and crossing in their colours, and a caption with each team's
    skill. It flies exactly as ``main.py lab`` does (the same curves for the same seed);
    the film only skips frames (``speedup``, ``fps``).

    Args:
        cfg: the lab.
        speedup: seconds of play per second of film.
        fps: frames per second of film.
        size: the field's width and height in pixels; the caption goes below it.
        follow: the team the field follows (default: the last, the game's autopilot in the
            default line-up).
    """

    def __init__(self, cfg: LabConfig, speedup: float, fps: float, size: int,
                 follow: int = -1) -> None:
        self.cfg = cfg
        self.lab = make_lab(cfg)
        self.speedup, self.fps = speedup, fps
        self.painter = Painter(size, size)
        self.follow = follow % len(self.lab.teams)
        self.frames = int(round(cfg.seconds * fps / speedup)) + 1
        self.hold = int(round(HOLD_END_S * fps))
        self.scale = max(1, size // 160)
        self.height = size + self._strip().shape[0]

    def _strip(self) -> np.ndarray:
        """The caption: time of play, then each team's key and latest skill in its colour."""
        s = self.scale
        line_h = 9 * s
        teams = self.lab.teams
        h = 2 * s + line_h * (1 + len(teams)) + 2 * s
        h += h % 2
        canvas = np.empty((h, self.painter.width, 3), np.float32)
        canvas[:] = CAPTION_BG
        w = self.painter.width
        draw_text(canvas, f"{play_time(self.lab.seconds)} of play   skill", w // 2, 2 * s, s,
                  shadow=False)
        left = 8 + 15 * 6 * s  # the bars start after the longest text, 'tutorial 0.00'
        bar_w = max(w - left - 8, 8)
        for k, t in enumerate(teams):
            top = 2 * s + line_h * (k + 1)
            rgb = np.array(t.spec.colour, np.float32) / 255
            value = "-" if t.latest is None else f"{t.latest:.2f}"
            text = f"{t.spec.key:<8} {value}"
            draw_text(canvas, text, 8 + (6 * len(text) * s) // 2, top, s, rgb, shadow=False)
            bh = max(2, 5 * s)
            fill(canvas, np.ones((bh, bar_w), bool), top + s, left, BAR_TRACK)
            filled = int(round(min(max(t.latest or 0.0, 0.0), 1.0) * bar_w))
            if filled:
                fill(canvas, np.ones((bh, filled), bool), top + s, left, rgb)
        return np.clip(np.rint(canvas * 255), 0, 255).astype(np.uint8)

    def __iter__(self) -> Iterator[np.ndarray]:
        lab = self.lab
        lab.read_due()
        frame = self.frame()
        for k in range(self.frames):
            target = min(k * self.speedup / self.fps, self.cfg.seconds)
            if target > lab.seconds:
                lab.run_seconds(target - lab.seconds)
            frame = self.frame()
            yield frame
        for _ in range(self.hold):
            yield frame

    def frame(self) -> np.ndarray:
        """The field now, with the caption strip below it."""
        return np.concatenate([self.painter.frame(self.scene()), self._strip()], axis=0)

    def scene(self) -> Scene:
        """The followed team's leader and course, and every team's flyers on that crossing."""
        lab = self.lab
        team = lab.teams[self.follow]
        f = team.play.flock
        b, p, i = f.batch, f.batch.physics, f.focus
        walls = []
        if lab.courses:
            t = int(b.t[i])
            x = float(p.x_start + p.v_x * (t % p.ticks_per_stage))
            seed = int(b.course_seed[i])
            if getattr(self, "_course_seed", None) != seed:  # a pure function of the seed
                self._course_seed = seed
                self._course = arcade.make_course(seed, lab.level.eval_gates + 2)
            walls = course_walls(self._course, p, x, t)
        else:
            x = float(p.x_start + p.v_x * int(b.t[i]))
        xs, ys, rgb = [], [], []
        for k, other in enumerate(lab.teams):
            g, ob = other.play.flock, other.play.flock.batch
            shown = g.alive.copy()
            if k == self.follow:
                shown[i] = False
            if lab.courses:
                same = (ob.course_seed == b.course_seed[i]) & (
                    ob.t // p.ticks_per_stage == int(b.t[i]) // p.ticks_per_stage)
                shown &= same
                ox = p.x_start + p.v_x * np.mod(ob.t, p.ticks_per_stage)
            else:
                ox = p.x_start + p.v_x * ob.t
            xs.append(np.asarray(ox, float)[shown])
            ys.append(np.asarray(ob.y, float)[shown])
            rgb += [np.array(other.spec.colour, np.float32) / 255] * int(shown.sum())
        return Scene(x=x, y=min(max(float(b.y[i]), -0.95), 0.95),
                     tilt=tilt_of(p, float(b.v_y[i])), walls=walls,
                     score=int(b.score[i]) if lab.courses else None, goal=not lab.courses,
                     flock_x=np.concatenate(xs), flock_y=np.concatenate(ys),
                     flock_rgb=np.array(rgb, np.float32).reshape(-1, 3))

    @property
    def colours(self) -> np.ndarray:
        """The caption's exact colours, kept out of the GIF's quantizing."""
        fixed = [INK, BAR_TRACK, CAPTION_BG] + [np.array(t.spec.colour, np.float32) / 255
                                                for t in self.lab.teams]
        return np.clip(np.rint(np.stack(fixed) * 255), 0, 255).astype(np.uint8)
