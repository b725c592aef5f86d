"""``main.py record``: films an autopilot's flight into an MP4 or GIF, headless.

The frames are the Gymnasium envs' ``rgb_array`` frames (``game.raster``), one per
decision, played back in real time (the env's ``render_fps``). No display is
needed. GIF and MP4 need the ``video`` extra (Pillow; imageio-ffmpeg via moviepy);
without it the command says so in one line.
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from game.errors import CliError
from game.levels import LEVELS, CourseLevel, Level
from game.raster import sprite

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


def pilot_path(spec: str, level: Level) -> Path:
    """The pilot file ``--autopilot`` names: a path, or 'pretrained' (the shipped pilot)."""
    from game.learning import pretrained_path

    path = pretrained_path(level.name) if spec == "pretrained" else Path(spec)
    if not path.is_file():
        raise CliError(f"no pretrained pilot for {level.name} (expected {path})"
                       if spec == "pretrained" else f"pilot file not found: {spec}")
    return path


def load_policy(spec: str, level: Level, data_dir: Path | None) -> tuple[Callable, str]:
    """A greedy ``obs -> action`` for ``--autopilot`` and a one-line description of it.

    'learner' is the level's learner saved in the data folder (as the game resumes
    it); anything else is a pilot file (see ``pilot_path``).
    """
    from ai.errors import PilotError
    from game.learning import learner_from_state, load_pilot

    if spec == "learner":
        from ai.store import Store
        from game.scores import default_data_dir

        folder = Path(data_dir) if data_dir is not None else default_data_dir()
        result = Store.for_data_dir(folder, level.name).load(
            build=lambda state: learner_from_state(level, state))
        for line in result.messages:
            print(f"gravity-flyer: {line}", file=sys.stderr)
        learner = result.built
        if learner is None:
            raise CliError(f"no saved {level.name} learner in {folder} (play with the "
                           "autopilot first, or use --autopilot pretrained)")
        return (lambda obs: learner.act(obs, explore=False),
                f"the saved {level.name} learner ({int(learner.env_steps)} env steps)")
    path = pilot_path(spec, level)
    try:
        pilot, _ = load_pilot(path, level)
    except PilotError as exc:
        raise CliError(str(exc)) from None
    return pilot.act, f"pilot {path.name}"


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


def _fps(level: Level) -> float:
    """Real-time playback rate of ``level``: one frame per decision (the env's render_fps)."""
    from game.envs import ArcadeEnv, ClassicEnv

    env = ArcadeEnv if isinstance(level, CourseLevel) else ClassicEnv
    return float(env.metadata["render_fps"])


def write_gif(path: Path, frames: Iterator[np.ndarray], fps: float) -> int:
    """Writes an endlessly looping GIF (Pillow); returns the number of frames."""
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
    scene = Image.fromarray(np.concatenate(head[::2], axis=0)).quantize(
        colors=GIF_COLOURS - FLYER_COLOURS, method=Image.Quantize.MEDIANCUT,
        dither=Image.Dither.NONE)
    flyer = sprite("flyer.png")
    body = flyer[flyer[..., 3] > 0.5]
    body = np.clip(np.rint(body[:, :3] / body[:, 3:] * 255), 0, 255).astype(np.uint8)
    own = Image.fromarray(body[:, None, :]).quantize(colors=FLYER_COLOURS,
                                                     method=Image.Quantize.MEDIANCUT)
    palette = Image.new("P", (1, 1))
    palette.putpalette(scene.getpalette()[:3 * (GIF_COLOURS - FLYER_COLOURS)]
                       + own.getpalette()[:3 * FLYER_COLOURS])
    images = [Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE)
              for f in itertools.chain(head, frames)]
    # GIF delays are in hundredths of a second.
    duration = max(2, int(round(100 / fps))) * 10
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


def record(args: argparse.Namespace) -> int:
    """``main.py record``: writes the film and prints what it holds and how long it took."""
    out = Path(args.out)
    suffix = out.suffix.lower()
    if suffix not in FORMATS:
        raise CliError(f"--out must end with .gif or .mp4, got {out}")
    if not out.parent.is_dir():
        raise CliError(f"--out folder {out.parent} does not exist")
    if out.is_dir():
        raise CliError(f"--out {out} is a folder")
    width = height = int(args.size)
    if width % 2:
        raise CliError(f"--size must be even (video frames are), got {width}")
    # The writer is checked before any flying, so a missing extra fails at once.
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
    level = LEVELS[args.level]
    policy, who = load_policy(args.autopilot, level, args.data_dir)
    fps = _fps(level)
    start = time.perf_counter()
    frames = flight(level, policy, args.seconds, args.seed, width, height)
    # Written under a temporary name and renamed when complete: an interrupted recording
    # never leaves a truncated film under the name asked for.
    part = out.with_name(f".{out.name}.part{suffix}")
    try:
        if suffix == ".gif":
            n = write_gif(part, frames, fps)
        else:
            n = write_mp4(part, frames, fps, (width, height))
        os.replace(part, out)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    finally:
        part.unlink(missing_ok=True)
    seconds = time.perf_counter() - start
    print(f"recorded {n / fps:.1f} s of {args.level} ({n} frames at {fps:g} fps, "
          f"{width}x{height}) flown by {who} in {seconds:.1f} s: {out} "
          f"({out.stat().st_size / 1024:.0f} KiB)")
    return 0
