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
from game.commands.cli import main

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
    from game.sim.levels import LEVELS
    from game.wiring.learning import load_pilot, pretrained_path

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
        total = 0
        for k in range(im.n_frames):
            im.seek(k)
            total += im.info["duration"]
    assert total == pytest.approx(3000, abs=10)  # real time, in whole hundredths
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


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file and folder under ``folder``: its bytes (files) and modification time."""
    return {str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"",
                                         p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}


def test_record_from_the_learner_saved_in_the_data_folder_changes_nothing_there(
        tmp_path: Path) -> None:
    from ai.store.store import Store
    from game.sim.levels import LEVELS
    from game.wiring.learning import new_learner

    data = tmp_path / "data"
    learner = new_learner(LEVELS["classic"], seed=3)
    store = Store.for_data_dir(data, "classic")
    assert store.save(learner.state()).ok and store.save(learner.state()).ok
    store.release()
    newest = data / "learner" / "classic" / "gen-000002.memory.npz"
    blob = bytearray(newest.read_bytes())
    blob[len(blob) // 2] ^= 0xFF  # damaged: a game would move it aside and use save 1
    newest.write_bytes(bytes(blob))
    before = _snapshot(data)
    out = tmp_path / "learner.gif"
    assert main(["record", "--level", "classic", "--autopilot", "learner", "--data-dir",
                 str(data), "--out", str(out), "--seconds", "1", "--size", "32"]) == 0
    assert _snapshot(data) == before  # read-only: no lock file, nothing moved or written
    fps = gym.make("flyer/Classic-v0").metadata["render_fps"]
    assert len(_gif_frames(out, fps)) == round(fps)


def _flock_film(seed: int = 0, n: int = 6, seconds: float = 2.0, level: str = "arcade"):
    from game.commands.record import FlockFilm
    from game.sim.levels import LEVELS

    return FlockFilm(LEVELS[level], n=n, seconds=seconds, speedup=2.0, fps=5.0, seed=seed,
                     size=200)


def test_flock_film_holds_the_frames_asked_for(tmp_path: Path, capsys) -> None:
    out = tmp_path / "flock.gif"
    assert main(["record", "--learn", "--flock", "6", "--seconds", "2", "--speedup", "2",
                 "--fps", "5", "--size", "200", "--seed", "0", "--out", str(out)]) == 0
    frames = _gif_frames(out, 5)
    # 2 s of play at 2x is 1 s of film: 5 frames after the first (0 s of play), then the
    # last held for 2 s.
    assert len(frames) == 6 + 10
    film = _flock_film()
    expected = list(film)
    assert frames[0].shape == expected[0].shape == (film.height, 200, 3)
    assert film.height > 200  # the caption strip is below the field
    for got, ref in zip(frames, expected, strict=True):  # a 128-colour palette: close
        assert np.abs(got.astype(int) - ref).mean() < 4.0
    assert all(np.array_equal(f, frames[5]) for f in frames[6:])  # the hold
    assert film.decisions == 2 * 15  # every decision of 2 s at 1x was flown
    line = capsys.readouterr().out
    assert "recorded 2 s of a fresh arcade flock of 6 learning" in line and "16 frames" in line


def test_flock_film_caption_follows_the_play_time() -> None:
    film = _flock_film()
    frames = list(film)
    strip = slice(200, film.height)
    field = slice(0, 200)
    # The caption strip changes as the play time runs (0:00 -> 0:02); the text is drawn in
    # the caption's ink.
    assert not np.array_equal(frames[0][strip], frames[5][strip])
    ink = np.all(frames[0][strip] == (238, 243, 250), axis=-1)
    assert ink.sum() > 50
    assert not np.array_equal(frames[0][field], frames[5][field])
    assert film.caption(3, 7, 5)[1] == "gen 3  best 7  alive 5"
    assert film.caption(3, 7, 5)[0].startswith("0:02 of play   skill ")
    assert [t for t, _ in film.readings] == [0.0]  # the first reading; the next at 5 s


@pytest.mark.parametrize("level", ["arcade", "classic"])
def test_every_caption_character_is_in_the_font(level: str) -> None:
    from game.sim.font import DIGITS

    film = _flock_film(level=level)
    lines = film.caption(123, 45, 6) + film.caption(0, 0, 0)
    assert set("".join(lines)) <= set(DIGITS), set("".join(lines)) - set(DIGITS)


def test_flock_film_draws_every_flyer_translucent() -> None:
    from dataclasses import replace

    from game.sim.raster import FLOCK_ALPHA

    film = _flock_film(n=6, seconds=4.0)
    shown = 0
    for frame in film:
        scene = film.scene()
        assert np.array_equal(frame[:200], film.painter.frame(scene))  # the film draws it
        assert scene.flock_x.size == film.flock.alive_count - 1  # all but the solid one
        gap = np.abs(scene.flock_y - scene.y)
        if gap.size == 0 or gap.max() < 0.15:
            continue  # every flock flyer is behind the solid one
        j = int(np.argmax(gap))  # one flyer clear of the solid one, drawn alone
        one = replace(scene, flock_x=scene.flock_x[j:j + 1], flock_y=scene.flock_y[j:j + 1])
        with_flock = film.painter.frame(one).astype(int)
        without = film.painter.frame(replace(scene, flock_x=None, flock_y=None)).astype(int)
        change = np.abs(with_flock - without)
        changed = change.max(axis=-1) > 8
        assert changed.sum() > 20  # the flyer is there
        # See-through: no pixel moves further than the flock's opacity allows (plus
        # rounding), where a solid sprite replaces the sky outright.
        assert change.max() <= round(FLOCK_ALPHA * 255) + 1
        shown += 1
    assert shown >= 3


def test_the_flock_is_tinted_cool_blue() -> None:
    """On black, a flock flyer is exactly its sprite times the tint times the opacity."""
    from game.sim.raster import FLOCK_ALPHA, FLOCK_TINT, Painter, Scene, sprite

    painter = Painter(200, 200)
    painter.background = np.zeros_like(painter.background)
    # The solid flyer is off the field; one flock flyer in the middle.
    picture = painter.frame(Scene(x=5.0, y=0.0, flock_x=np.zeros(1), flock_y=np.zeros(1)))
    middle = picture[60:140, 60:140].reshape(-1, 3).astype(int)
    assert (middle.max(axis=1) > 0).sum() > 100
    top = sprite("flyer.png")[..., :3].reshape(-1, 3).max(axis=0) * 255  # the sprite's own
    bound = np.rint(top * FLOCK_TINT * FLOCK_ALPHA).astype(int) + 1
    assert np.all(middle.max(axis=0) <= bound), (middle.max(axis=0), bound)
    assert np.all(middle.max(axis=0) >= bound - 4)  # the brightest pixel is as bright as that
    assert top[0] * FLOCK_TINT[0] < top[0] - 50  # and the tint did dim the red


def test_same_seed_same_flock_film() -> None:
    first, again, other = (list(_flock_film(seed)) for seed in (4, 4, 5))
    assert len(first) == len(again) and all(
        np.array_equal(a, b) for a, b in zip(first, again, strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other, strict=True))


def test_classic_flock_film(tmp_path: Path) -> None:
    out = tmp_path / "classic.mp4"
    assert main(["record", "--learn", "--level", "classic", "--flock", "4", "--seconds", "2",
                 "--speedup", "2", "--fps", "5", "--size", "64", "--out", str(out)]) == 0
    reader = imageio_ffmpeg.read_frames(str(out))
    meta = reader.__next__()
    assert meta["fps"] == pytest.approx(5) and meta["size"][0] == 64
    assert sum(1 for _ in reader) == 6 + 10


@pytest.mark.parametrize("argv, message", [
    (["--out", "f.gif", "--flock", "8"], "--flock is for filming a flock learning: add --learn"),
    (["--out", "f.gif", "--speedup", "4"], "--speedup is for filming a flock learning"),
    (["--out", "f.gif", "--fps", "10"], "--fps is for filming a flock learning"),
    (["--out", "f.gif", "--learn", "--autopilot", "pretrained"],
     "--learn films a fresh learner, --autopilot names a pilot"),
    (["--out", "f.gif", "--learn", "--data-dir", "EMPTY"], "--data-dir names a pilot"),
    (["--out", "f.gif", "--learn", "--fps", "40", "--speedup", "2"],
     "--fps 40 is more frames than the flock makes decisions: at --speedup 2 at most 30"),
    (["--out", "f.gif", "--learn", "--fps", "60", "--speedup", "4"],
     "--fps 60 is faster than a GIF plays (at most 50)"),
    (["--out", "flight.avi"], "--out must end with .gif or .mp4"),
    (["--out", "no/such/folder/f.gif"], "does not exist"),
    (["--out", "f.gif", "--autopilot", "missing.safetensors"],
     "no pilot file at missing.safetensors"),
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


@pytest.mark.parametrize("flag, value", [("--speedup", "0"), ("--fps", "-1"), ("--flock", "0")])
def test_bad_flock_film_numbers_are_one_line(tmp_path: Path, capsys, flag: str,
                                             value: str) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["record", "--learn", flag, value, "--out", str(tmp_path / "f.gif")])
    assert stop.value.code == 2
    err = capsys.readouterr().err
    assert f"argument {flag}" in err and err.count("\n") == 1, err
    assert not list(tmp_path.iterdir())


def test_a_missing_video_extra_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "imageio_ffmpeg", None)  # import raises ImportError
    assert main(["record", "--out", str(tmp_path / "f.mp4"), "--seconds", "1"]) == 2
    err = capsys.readouterr().err
    assert "pip install 'gravity-flyer[video]'" in err and err.count("\n") == 1


def test_record_needs_no_display(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = subprocess.run([sys.executable, "-c", (
        "import sys; from game.commands.cli import main; "
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
