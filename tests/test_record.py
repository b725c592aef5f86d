"""``main.py record`` (GIF and MP4 of the rgb_array frames) and Gymnasium's RecordVideo.

GIFs are written with Pillow and MP4s with imageio-ffmpeg; both come with the
``video`` extra, which CI installs, so these tests never skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import imageio_ffmpeg
import numpy as np
import pytest
from PIL import Image

import game  # noqa: F401  (registers the environments)
from game.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _gif_frames(path: Path, fps: float) -> list[np.ndarray]:
    """Every frame shown, in order (Pillow stores a repeated frame once, for longer)."""
    with Image.open(path) as im:
        frames = []
        for k in range(im.n_frames):
            im.seek(k)
            frame = np.asarray(im.convert("RGB"))
            frames += [frame] * round(im.info["duration"] * fps / 1000)
        return frames


def _env_frames(level: str, n: int, size: int, seed: int = 0) -> list[np.ndarray]:
    """The first ``n`` rgb_array frames of the shipped pilot flying (one run, no reset)."""
    from game.learning import load_pilot, pretrained_path
    from game.levels import LEVELS

    pilot, _ = load_pilot(pretrained_path(level), LEVELS[level])
    env = gym.make(f"flyer/{level.title()}-v0", render_mode="rgb_array", width=size,
                   height=size, **({"n_gates": 10_000} if level == "arcade" else {}))
    obs, _ = env.reset(seed=seed)
    frames = [env.render()]
    while len(frames) < n:
        obs, _, terminated, _, _ = env.step(pilot.act(obs))
        frames.append(env.render())
        assert not terminated
    return frames


def test_gif_of_the_pretrained_pilot_is_the_env_frames(tmp_path: Path, capsys) -> None:
    out = tmp_path / "flight.gif"
    assert main(["record", "--level", "arcade", "--out", str(out), "--seconds", "3",
                 "--size", "96", "--seed", "0"]) == 0
    fps = gym.make("flyer/Arcade-v0").metadata["render_fps"]
    frames = _gif_frames(out, fps)
    assert len(frames) == round(3 * fps) and frames[0].shape == (96, 96, 3)
    expected = _env_frames("arcade", len(frames), 96)
    for got, ref in zip(frames, expected, strict=True):  # a 128-colour palette: close, not equal
        assert np.abs(got.astype(int) - ref).mean() < 4.0
    assert not np.array_equal(frames[0], frames[-1])
    with Image.open(out) as im:
        assert im.info["duration"] == pytest.approx(1000 / fps, abs=10) and im.info["loop"] == 0
    assert "recorded 3.0 s of arcade" in capsys.readouterr().out


def test_mp4_holds_the_flight_at_the_decision_rate(tmp_path: Path) -> None:
    out = tmp_path / "flight.mp4"
    assert main(["record", "--level", "classic", "--out", str(out), "--seconds", "2",
                 "--size", "64"]) == 0
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = reader.__next__()
    frames = [np.frombuffer(f, np.uint8).reshape(64, 64, 3) for f in reader]
    fps = gym.make("flyer/Classic-v0").metadata["render_fps"]
    assert meta["size"] == (64, 64) and meta["fps"] == pytest.approx(fps)
    assert len(frames) == round(2 * fps)
    expected = _env_frames("classic", 5, 64)
    for got, ref in zip(frames, expected, strict=False):  # H.264 is lossy
        assert np.abs(got.astype(int) - ref).mean() < 8.0


def test_record_from_the_learner_saved_in_the_data_folder(tmp_path: Path) -> None:
    from ai.store import Store
    from game.learning import new_learner
    from game.levels import LEVELS

    learner = new_learner(LEVELS["classic"], seed=3)
    assert Store.for_data_dir(tmp_path, "classic").save(learner.state()).ok
    out = tmp_path / "learner.gif"
    assert main(["record", "--level", "classic", "--autopilot", "learner", "--data-dir",
                 str(tmp_path), "--out", str(out), "--seconds", "1", "--size", "32"]) == 0
    fps = gym.make("flyer/Classic-v0").metadata["render_fps"]
    assert len(_gif_frames(out, fps)) == round(fps)


@pytest.mark.parametrize("argv, message", [
    (["--out", "flight.avi"], "--out must end with .gif or .mp4"),
    (["--out", "no/such/folder/f.gif"], "does not exist"),
    (["--out", "f.gif", "--autopilot", "missing.safetensors"], "pilot file not found"),
    (["--out", "f.gif", "--autopilot", "learner", "--data-dir", "EMPTY"], "no saved arcade"),
    (["--out", "f.gif", "--size", "33"], "--size must be even"),
])
def test_bad_record_requests_get_one_line(tmp_path: Path, capsys, argv: list[str],
                                          message: str) -> None:
    argv = [a.replace("EMPTY", str(tmp_path / "empty")) for a in argv]
    argv = [str(tmp_path / a) if a.startswith(("f.", "flight.", "no/")) else a for a in argv]
    assert main(["record", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not any(p.suffix in (".gif", ".mp4") for p in tmp_path.iterdir())


def test_a_missing_video_extra_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import raises ImportError
    assert main(["record", "--out", str(tmp_path / "f.mp4"), "--seconds", "1"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'gravity-flyer[video]'" in err and err.count("\n") == 1


def test_record_needs_no_display(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = subprocess.run([sys.executable, "-c", (
        "import sys; from game.cli import main; "
        f"code = main(['record', '--out', {str(tmp_path / 'f.gif')!r}, '--seconds', '1', "
        "'--size', '48', '--level', 'classic']); print(code, 'pyglet' in sys.modules)")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and out.stdout.split()[-2:] == ["0", "False"], out.stderr


def test_record_video_wrapper_writes_an_episode(tmp_path: Path) -> None:
    """Gymnasium's RecordVideo (moviepy) films an episode of the rgb_array frames."""
    env = gym.wrappers.RecordVideo(
        gym.make("flyer/Arcade-v0", render_mode="rgb_array", width=96, height=96),
        video_folder=str(tmp_path / "videos"), episode_trigger=lambda episode: episode == 0,
        name_prefix="flight")
    env.reset(seed=0)
    steps = 0
    terminated = False
    while not terminated:
        _, _, terminated, _, _ = env.step(steps % 3 == 0)
        steps += 1
    env.close()
    videos = sorted((tmp_path / "videos").glob("flight-episode-0.mp4"))
    assert len(videos) == 1
    reader = imageio_ffmpeg.read_frames(str(videos[0]))
    meta = reader.__next__()
    assert meta["size"] == (96, 96)
    assert meta["fps"] == pytest.approx(env.metadata["render_fps"])
    assert sum(1 for _ in reader) == steps + 1  # the reset frame and one per step
