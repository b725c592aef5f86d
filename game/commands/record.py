"""``main.py record``: films an autopilot's flight, or a flock learning, into an MP4 or GIF.

Headless: the frames come from ``game.sim.raster`` (numpy), no display is needed. GIF and MP4
need the ``video`` extra (Pillow; imageio-ffmpeg via moviepy); without it the command says
so in one line.

**A pilot's flight** (the default): the Gymnasium envs' ``rgb_array`` frames, one per
decision, played back in real time (the env's ``render_fps``).

**A flock learning** (``--learn``, ``FlockFilm``): a fresh learner
(``game.wiring.learning.new_learner``) and a ``game.play.flock.Flock`` of ``--flock`` flyers
learn from scratch at the simulated 1x pace (the level's decision rate: arcade 15 flock
decisions per second of play), for ``--seconds`` of play. Every decision is flown and
learned; the film only skips frames: at ``--speedup S`` it lasts ``seconds / S`` and each of
its ``--fps`` frames per second shows the flock ``S / fps`` seconds of play after the last.
A frame is the course's walls, every flyer translucent in the window's cool blue, the focus
flyer (the leader) solid, and a caption: time of play, skill, generation, best gates, flyers
alive, with a bar for the skill. The skill is the flying pilot's score/oracle on the
held-out courses (``game.play.skill.SkillMeter``, classic: its success rate), read as the
window reads it (each reading crowns the best pilot on validation courses) but synchronously,
every ``SKILL_EVERY_S`` seconds of play.
The same seed gives the same film. The README's GIF::

    python main.py record --learn --flock 64 --seconds 60 --speedup 5 --fps 8 --size 320 \
        --seed 0 --out docs/flock.gif
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from game.commands.checks import gif_fits, size, writable
from game.errors import CliError
from game.play import flock_play
from game.play.flock import DEFAULT_FLOCK
from game.play.skill import read_and_crown
from game.sim.font import INK
from game.sim.levels import LEVELS, CourseLevel, Level
from game.sim.raster import (
    BAR_TRACK,
    CAPTION_BG,
    SKILL_BAR,
    Painter,
    Scene,
    course_walls,
    sprite,
    tilt_of,
)

ENV_IDS = {"classic": "flyer/Classic-v0", "arcade": "flyer/Arcade-v0"}
HOLD_END_S = 0.6
"""How long the last frame of a run (a crash, a finished course) stays on screen."""
RECORD_GATES = 10_000
"""Arcade course length while recording: long enough never to end a good flight early."""
FORMATS = (".gif", ".mp4")
GIF_COLOURS = 128
"""Palette size of a GIF: the sky's gradient needs most of them."""
FLYER_COLOURS = 16
"""Palette entries kept for the flyer's own colours."""
PALETTE_FRAMES = 16
"""Frames the GIF palette is taken from (every other one of the first ones)."""
GIF_MAX_FPS = 50
"""A GIF frame lasts a whole number of hundredths of a second, at least two in browsers."""
SKILL_EVERY_S = flock_play.SKILL_EVERY_S
"""Seconds of play between the skill readings of a flock film: the window's interval."""
FLOCK_HOLD_END_S = 2.0
"""How long a flock film's last frame stays, so the final skill can be read before it loops."""


def load_policy(spec: str, level: Level, data_dir: Path | None) -> tuple[Callable, str]:
    """A greedy ``obs -> action`` for ``--autopilot`` and a one-line description of it
    (``game.wiring.pilot_names``: the saved learner is only read)."""
    from game.wiring import pilot_names

    loaded = pilot_names.load(pilot_names.resolve(spec, level.name), level, data_dir)
    for line in loaded.notes:
        print(f"gravity-flyer: {line}", file=sys.stderr)
    return loaded.pilot.act, loaded.who


def flight(level: Level, policy: Callable, seconds: float, seed: int, width: int,
           height: int) -> Iterator[np.ndarray]:
    """The frames of ``seconds`` of flying: runs follow one another; each end is held."""
    import gymnasium as gym

    import game  # noqa: F401  (registers the envs)

    # A course level flies a long course, so a good flight is not cut short by its end.
    kwargs: dict[str, Any] = {"n_gates": RECORD_GATES} if isinstance(level, CourseLevel) else {}
    env = gym.make(ENV_IDS[level.name], render_mode="rgb_array", width=width, height=height,
                   **kwargs)
    fps = float(env.metadata["render_fps"])
    total = max(1, int(round(seconds * fps)))
    hold = max(1, int(round(HOLD_END_S * fps)))
    obs, _ = env.reset(seed=seed)
    frame = env.render()
    made = 0
    while made < total:
        yield frame
        made += 1
        obs, _, terminated, truncated, _ = env.step(policy(obs))
        frame = env.render()
        if terminated or truncated:
            for _ in range(min(hold, total - made)):
                yield frame
                made += 1
            obs, _ = env.reset()
            frame = env.render()
    env.close()


def play_time(seconds: float) -> str:
    """``m:ss`` of ``seconds`` (whole seconds, rounded down)."""
    whole = int(seconds)
    return f"{whole // 60}:{whole % 60:02d}"


class FlockFilm:
    """The frames of a fresh flock learning (``--learn``); the module docstring tells what.

    Iterating flies and films it once; ``skill``, ``readings`` and ``flock`` then tell how
    it went.

    Args:
        level: the level the flock learns.
        n: flyers.
        seconds: seconds of play at 1x to film.
        speedup: seconds of play per second of film.
        fps: frames per second of film (at most one frame per decision).
        seed: seeds the learner and the flock.
        size: the field's width and height in pixels; the caption strip goes below it.
    """

    def __init__(self, level: Level, n: int, seconds: float, speedup: float, fps: float,
                 seed: int, size: int) -> None:
        from game.play.flock import SCOUTS, Flock
        from game.play.skill import SkillMeter
        from game.wiring.learning import new_learner

        self.level, self.n, self.seed = level, n, seed
        self.seconds, self.speedup, self.fps = seconds, speedup, fps
        self.rate = level.ticks_per_second / level.decision_ticks
        """Flock decisions per second of play at 1x."""
        if fps > self.rate * speedup:
            raise CliError(f"--fps {fps:g} is more frames than the flock makes decisions: at "
                           f"--speedup {speedup:g} at most {self.rate * speedup:g}")
        self.frames = int(round(seconds * fps / speedup)) + 1
        """Frames of flying, the first at 0 s of play and the last at ``seconds``; the last
        is then held for ``hold`` more."""
        self.hold = int(round(FLOCK_HOLD_END_S * fps))
        self.learner = new_learner(level, seed)
        self.flock = Flock(level, self.learner, n=n, seed=seed, scouts=SCOUTS)  # as the game
        self.meter = SkillMeter(level, crown=True)
        self.painter = Painter(size, size)
        self.skill_every = max(1, int(round(SKILL_EVERY_S * self.rate)))
        """Decisions between skill readings."""
        self.skill = 0.0
        self.readings: list[tuple[float, float]] = []
        """``(seconds of play, skill)`` of every reading."""
        self.decisions = 0
        self._course: Any = None
        self._course_seed: int | None = None
        # The caption strip keeps the height its longest likely line asks for.
        self.chars = max(len(line) for line in self.caption(99, 100, n))
        self.height = size + self.painter.caption(self.caption(0, 0, 0), 0.0,
                                                  self.chars).shape[0]

    def caption(self, generation: int, best: float, alive: int) -> list[str]:
        """The caption's lines for the flock as it is now (the numbers given)."""
        second = (f"gen {generation}  best {best:g}  alive {alive}"
                  if self.flock.courses else
                  f"gen {generation}  won {self._last_wins()}/{self.n}  alive {alive}")
        return [f"{play_time(self.decisions / self.rate)} of play   skill {self.skill:.2f}",
                second]

    def _last_wins(self) -> int:
        """Flyers whose first flight won in the last finished generation (classic)."""
        return int(round(self.flock.history[-1][2] * self.n)) if self.flock.history else 0

    def _measure(self) -> None:
        """A reading as the window takes it: it crowns the best pilot, and reads what flies."""
        self.skill = read_and_crown(self.meter, self.learner)
        self.readings.append((self.decisions / self.rate, self.skill))

    def __iter__(self) -> Iterator[np.ndarray]:
        if self.readings:
            raise RuntimeError("a FlockFilm is flown once: make a new one to film again")
        flock = self.flock
        self._measure()
        total = int(round(self.seconds * self.rate))
        for k in range(self.frames):
            # Frame k shows the flock k / fps seconds of film, so k * speedup / fps of play.
            target = min(int(round(k * self.rate * self.speedup / self.fps)), total)
            while self.decisions < target:
                flock.step()
                self.decisions += 1
                if self.decisions % self.skill_every == 0:
                    self._measure()
            frame = self.frame()
            yield frame
        for _ in range(self.hold):  # frames >= 1: ``frame`` is the last one
            yield frame

    def frame(self) -> np.ndarray:
        """The picture of the flock now: the field and, below it, the caption strip."""
        f = self.flock
        field = self.painter.frame(self.scene())
        strip = self.painter.caption(self.caption(f.generation, f.best, f.alive_count),
                                     self.skill, self.chars)
        return np.concatenate([field, strip], axis=0)

    def scene(self) -> Scene:
        """The field as it is now: the focus flyer's course and the flock around it."""
        f, b = self.flock, self.flock.batch
        p = b.physics
        i = f.focus
        t = np.asarray(b.t, dtype=np.int64)
        y = np.asarray(b.y, dtype=np.float64)
        walls = []
        if f.courses:
            x = p.x_start + p.v_x * np.mod(t, p.ticks_per_stage)
            seed = int(b.course_seed[i])
            if seed != self._course_seed:  # a pure function of the seed: made once a course
                from game.sim import arcade

                self._course_seed = seed
                self._course = arcade.make_course(seed, f.course_gates + 2)
            walls = course_walls(self._course, p, float(x[i]), int(t[i]))
        else:
            x = p.x_start + p.v_x * t
        others = f.alive.copy()
        others[i] = False
        return Scene(x=float(x[i]), y=min(max(float(y[i]), -0.95), 0.95),
                     tilt=tilt_of(p, float(b.v_y[i])), walls=walls,
                     score=int(b.score[i]) if f.courses else None, goal=not f.courses,
                     flock_x=x[others], flock_y=y[others])

    @property
    def colours(self) -> np.ndarray:
        """The caption's exact colours, ``(k, 3)`` uint8: kept out of the GIF's quantizing."""
        return np.clip(np.rint(np.stack([INK, SKILL_BAR, BAR_TRACK, CAPTION_BG]) * 255), 0,
                       255).astype(np.uint8)


def _fps(level: Level) -> float:
    """Real-time playback rate of ``level``: one frame per decision (the env's render_fps)."""
    from game.sim.envs import ArcadeEnv, ClassicEnv

    env = ArcadeEnv if isinstance(level, CourseLevel) else ClassicEnv
    return float(env.metadata["render_fps"])


def write_gif(path: Path, frames: Iterator[np.ndarray], fps: float,
              exact: np.ndarray | None = None) -> int:
    """Writes an endlessly looping GIF (Pillow); returns the number of frames.

    ``exact``: ``(k, 3)`` uint8 colours given palette entries of their own (a caption's).
    """
    try:
        from PIL import Image
    except ImportError:
        raise CliError("writing a GIF needs Pillow: pip install 'gravity-flyer[video]'"
                       ) from None
    # One palette for the whole film, from its first frames (the colours do not change
    # along a flight): per-frame palettes make the unchanged sky flicker and defeat the
    # writer's frame-difference cropping. Frames are kept as 1-byte palette indices only.
    # The flyer covers a tiny part of each frame, so its colours get their own share.
    head: list[np.ndarray] = []
    for frame in frames:
        head.append(frame)
        if len(head) == PALETTE_FRAMES:
            break
    if not head:
        raise CliError("nothing to record")
    exact = np.zeros((0, 3), np.uint8) if exact is None else np.asarray(exact, np.uint8)
    shared = GIF_COLOURS - FLYER_COLOURS - len(exact)
    scene = Image.fromarray(np.concatenate(head[::2], axis=0)).quantize(
        colors=shared, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    flyer = sprite("flyer.png")
    body = flyer[flyer[..., 3] > 0.5]
    body = np.clip(np.rint(body[:, :3] / body[:, 3:] * 255), 0, 255).astype(np.uint8)
    own = Image.fromarray(body[:, None, :]).quantize(colors=FLYER_COLOURS,
                                                     method=Image.Quantize.MEDIANCUT)
    palette = Image.new("P", (1, 1))
    palette.putpalette(scene.getpalette()[:3 * shared] + own.getpalette()[:3 * FLYER_COLOURS]
                       + exact.reshape(-1).tolist())
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE)
              for f in itertools.chain(head, frames)]
    # GIF delays are whole hundredths of a second: frame k ends at round(k / fps) in those
    # units, so 15 fps alternates 60 and 70 ms and the film keeps real time on average.
    ends = [max(2 * (k + 1), int(round(100 * (k + 1) / fps))) for k in range(len(images))]
    duration = [10 * (b - a) for a, b in zip([0, *ends[:-1]], ends, strict=True)]
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration, loop=0,
                   optimize=True, disposal=1)
    return len(images)


def write_mp4(path: Path, frames: Iterator[np.ndarray], fps: float, size: tuple[int, int]
              ) -> int:
    """Writes an H.264 MP4 through imageio-ffmpeg; returns the number of frames."""
    try:
        import imageio_ffmpeg
    except ImportError:
        raise CliError("writing an MP4 needs the video extra: pip install "
                       "'gravity-flyer[video]'") from None
    writer = imageio_ffmpeg.write_frames(str(path), size, fps=fps, codec="libx264",
                                         pix_fmt_out="yuv420p", macro_block_size=2,
                                         ffmpeg_log_level="error")
    writer.send(None)
    n = 0
    try:
        for frame in frames:
            writer.send(np.ascontiguousarray(frame))
            n += 1
    finally:
        writer.close()
    return n


@dataclass(frozen=True)
class RecordConfig:
    """Every setting of ``main.py record`` (built by the CLI)."""

    out: Path
    """The film to write: ``.gif`` or ``.mp4``."""
    level: str = "arcade"
    seconds: float = 10.0
    """Length of the flight; with ``learn``, seconds of play at 1x."""
    seed: int = 0
    size: int = 400
    """Frame width and height in pixels (with ``learn``, the field's; the caption is below)."""
    autopilot: str | None = None
    """The pilot to film ('pretrained', 'learner' or a file); None: 'pretrained'."""
    data_dir: Path | None = None
    """Where the saved learner is (for ``autopilot='learner'``)."""
    learn: bool = False
    """Film a fresh learner's flock learning from scratch instead of a pilot."""
    flock: int | None = None
    """With ``learn``: flyers in the flock; None: the game's default."""
    speedup: float | None = None
    """With ``learn``: seconds of play per second of film; None: 1."""
    fps: float | None = None
    """With ``learn``: frames per second of film; None: one per decision at 1x."""
    lab: bool = False
    """Film the lesson lab (``game.commands.lab.LabFilm``; ``flock``, ``speedup`` and ``fps``
    as with ``learn``)."""
    teams: tuple[str, ...] | None = None
    """With ``lab``: its line-up; None: the default one."""

    def check(self) -> None:
        """One-line errors for settings that cannot make a film, before any work."""
        suffix = self.out.suffix.lower()
        if suffix not in FORMATS:
            raise CliError(f"--out must end with .gif or .mp4, got {self.out}")
        writable(self.out)  # a probe file: an unwritable folder fails now, before any flying
        size(self.size)
        if self.size % 2:
            raise CliError(f"--size must be even (video frames are), got {self.size}")
        if self.teams is not None and not self.lab:
            raise CliError("--teams is for filming the lab: add --lab")
        if self.lab:
            if self.learn or self.autopilot is not None:
                raise CliError("--lab films the lesson lab: drop --learn and --autopilot")
        elif self.learn:
            for flag, value in (("--autopilot", self.autopilot), ("--data-dir", self.data_dir)):
                if value is not None:
                    raise CliError(f"--learn films a fresh learner, {flag} names a pilot to "
                                   "film: give one of them")
        else:
            for flag, value in (("--flock", self.flock), ("--speedup", self.speedup),
                                ("--fps", self.fps)):
                if value is not None:
                    raise CliError(f"{flag} is for filming a flock learning: add --learn")
        _check_writer(suffix)  # a missing extra fails before any flying


def _check_writer(suffix: str) -> None:
    if suffix == ".gif":
        try:
            import PIL  # noqa: F401
        except ImportError:
            raise CliError("writing a GIF needs Pillow: pip install 'gravity-flyer[video]'"
                           ) from None
    else:
        try:
            import imageio_ffmpeg  # noqa: F401
        except ImportError:
            raise CliError("writing an MP4 needs the video extra: pip install "
                           "'gravity-flyer[video]'") from None


def record(cfg: RecordConfig) -> int:
    """``main.py record``: writes the film and prints what it holds and how long it took."""
    cfg.check()
    out, suffix = cfg.out, cfg.out.suffix.lower()
    level = LEVELS[cfg.level]
    width = height = cfg.size
    start = time.perf_counter()
    film: FlockFilm | None = None
    exact = None
    if cfg.lab:
        return _record_lab(cfg, level, start)
    if cfg.learn:
        fps = cfg.fps if cfg.fps is not None else film_fps(level)
        if suffix == ".gif" and fps > GIF_MAX_FPS:
            raise CliError(f"--fps {fps:g} is faster than a GIF plays (at most {GIF_MAX_FPS})")
        if suffix == ".gif":  # frames: seconds of play / speedup * fps; the caption adds rows
            gif_fits(cfg.seconds / (cfg.speedup or 1.0) * fps, width, height + 80, fps)
        film = FlockFilm(level, cfg.flock or DEFAULT_FLOCK, cfg.seconds, cfg.speedup or 1.0,
                         fps, cfg.seed, width)
        frames: Iterator[np.ndarray] = iter(film)
        height, exact = film.height, film.colours
    else:
        policy, who = load_policy(cfg.autopilot or "pretrained", level, cfg.data_dir)
        fps = _fps(level)
        if suffix == ".gif":
            gif_fits(cfg.seconds * fps, width, height, fps)
        frames = flight(level, policy, cfg.seconds, cfg.seed, width, height)
    n = _write(out, frames, fps, exact, (width, height))
    seconds = time.perf_counter() - start
    kib = out.stat().st_size / 1024
    if film is not None:
        print(f"recorded {film.seconds:g} s of a fresh {cfg.level} flock of {film.n} learning "
              f"as {n / fps:.1f} s of film ({film.speedup:g}x; {n} frames at {fps:g} fps, "
              f"{width}x{height}; skill {film.readings[0][1]:.2f} -> {film.skill:.2f}, "
              f"generation {film.flock.generation}) in {seconds:.1f} s: {out} ({kib:.0f} KiB)")
        return 0
    print(f"recorded {n / fps:.1f} s of {cfg.level} ({n} frames at {fps:g} fps, "
          f"{width}x{height}) flown by {who} in {seconds:.1f} s: {out} ({kib:.0f} KiB)")
    return 0


def _write(out: Path, frames: Iterator[np.ndarray], fps: float, exact: Any,
           size: tuple[int, int]) -> int:
    """Writes the film under a temporary name and renames it when complete, so an
    interrupted recording never leaves a truncated film under the name asked for."""
    suffix = out.suffix.lower()
    part = out.with_name(f".{out.name}.part{suffix}")
    try:
        if suffix == ".gif":
            n = write_gif(part, frames, fps, exact)
        else:
            n = write_mp4(part, frames, fps, size)
        os.replace(part, out)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        part.unlink(missing_ok=True)
    return n


def _record_lab(cfg: RecordConfig, level: Level, start: float) -> int:
    """``record --lab``: the lesson lab filmed (``game.commands.lab.LabFilm``)."""
    from game.commands.lab import LabConfig, LabFilm
    from game.wiring.lab_teams import DEFAULT_LINEUP

    fps = cfg.fps if cfg.fps is not None else film_fps(level)
    if cfg.out.suffix.lower() == ".gif" and fps > GIF_MAX_FPS:
        raise CliError(f"--fps {fps:g} is faster than a GIF plays (at most {GIF_MAX_FPS})")
    film = LabFilm(LabConfig(level, cfg.seconds, cfg.seed, cfg.teams or DEFAULT_LINEUP,
                             cfg.flock or DEFAULT_FLOCK), cfg.speedup or 1.0, fps, cfg.size)
    size = (cfg.size, film.height)
    n = _write(cfg.out, iter(film), fps, film.colours, size)
    lab = film.lab
    skills = ", ".join(f"{t.spec.key} {t.latest:.2f}" for t in lab.teams)
    print(f"recorded the lab on {level.name}: {lab.seconds:g} s of play as {n / fps:.1f} s of "
          f"film ({n} frames at {fps:g} fps, {size[0]}x{size[1]}); skill at the end: {skills}; "
          f"in {time.perf_counter() - start:.1f} s: {cfg.out} "
          f"({cfg.out.stat().st_size / 1024:.0f} KiB)")
    return 0


def film_fps(level: Level) -> float:
    """A flock film's default frame rate: one frame per decision at 1x (arcade 15)."""
    return level.ticks_per_second / level.decision_ticks

