"""The numpy renderer: its PNG reader and writer against Pillow, the sprites, the plots."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from game.sim import font, plot, png, raster

ROOT = Path(__file__).resolve().parent.parent


def _pillow_png(img: np.ndarray, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG", **kw)
    return buf.getvalue()


@pytest.mark.parametrize("channels", [3, 4])
def test_png_reader_decodes_pillow_files_with_every_filter(channels: int) -> None:
    # Noise, gradients and flat areas: Pillow's adaptive filtering then uses all five
    # filter types across the rows; level 9 and a small image keep it quick.
    rng = np.random.default_rng(0)
    h, w = 48, 40
    img = np.zeros((h, w, channels), np.uint8)
    img[:16] = rng.integers(0, 256, (16, w, channels))
    img[16:32] = (np.arange(w)[None, :, None] * 6 + np.arange(16)[:, None, None] * 3) % 256
    img[32:] = 200
    decoded = png.read_png(_pillow_png(img, compress_level=9))
    assert decoded.shape == (h, w, 4)
    assert np.array_equal(decoded[..., :channels], img)
    if channels == 3:
        assert (decoded[..., 3] == 255).all()


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def _filtered_png(img: np.ndarray) -> bytes:
    """An RGBA PNG whose row r uses filter type r % 5 (encoded straight from the spec)."""
    h, w, ch = img.shape
    flat = img.reshape(h, w * ch).astype(int)
    rows = []
    for r in range(h):
        kind, line = r % 5, flat[r]
        up = flat[r - 1] if r else np.zeros_like(line)
        out = []
        for i, x in enumerate(line.tolist()):
            a = int(line[i - ch]) if i >= ch else 0
            b, c = int(up[i]), (int(up[i - ch]) if i >= ch else 0)
            pred = (0, a, b, (a + b) // 2, _paeth(a, b, c))[kind]
            out.append((x - pred) % 256)
        rows.append(bytes([kind]) + bytes(out))
    import struct
    import zlib

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def test_png_reader_undoes_each_filter_type() -> None:
    img = np.random.default_rng(2).integers(0, 256, (15, 9, 4), dtype=np.uint8)
    assert np.array_equal(png.read_png(_filtered_png(img)), img)


def test_png_writer_is_read_back_by_pillow() -> None:
    img = np.random.default_rng(1).integers(0, 256, (17, 23, 3), dtype=np.uint8)
    with Image.open(io.BytesIO(png.png_bytes(img))) as im:
        assert im.mode == "RGB" and np.array_equal(np.asarray(im), img)


def test_png_reader_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="not a PNG"):
        png.read_png(b"GIF89a....")
    grey = _pillow_png(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="unsupported PNG"):
        png.read_png(grey)


def test_sprites_are_the_asset_files() -> None:
    with Image.open(ROOT / "assets" / "flyer.png") as im:
        ref = np.asarray(im.convert("RGBA")).astype(np.float32) / 255
    got = raster.sprite("flyer.png")
    assert np.allclose(got[..., 3], ref[..., 3])
    assert np.allclose(got[..., :3], ref[..., :3] * ref[..., 3:], atol=1e-6)  # premultiplied


def test_digits_are_distinct_and_scale() -> None:
    masks = [font.text_mask(str(d), 1) for d in range(10)]
    assert len({m.tobytes() for m in masks}) == 10
    assert font.text_mask("42", 3).shape == (21, 33)


def test_plot_draws_a_rising_curve_rising() -> None:
    xs = np.arange(20)
    img = plot.plot_curve(xs, [xs / 19.0], width=320, height=200, y_range=(0.0, 1.0))
    assert img.shape == (200, 320, 3) and img.dtype == np.uint8
    yellow = (img[..., 0] > 200) & (img[..., 1] > 150) & (img[..., 2] < 140)
    cols = np.flatnonzero(yellow.any(axis=0))
    left = np.flatnonzero(yellow[:, cols[:10]].any(axis=1)).mean()
    right = np.flatnonzero(yellow[:, cols[-10:]].any(axis=1)).mean()
    assert cols.size > 200 and right < left - 100  # rows grow downwards


def test_curve_png_of_a_training_csv(tmp_path: Path) -> None:
    picture = plot.curve_png(ROOT / "assets" / "pilots" / "arcade.csv")
    with Image.open(io.BytesIO(picture)) as im:
        assert im.size == (640, 360)
    empty = tmp_path / "empty.csv"
    empty.write_text("env_steps,eval_score\n")
    with pytest.raises(ValueError, match="no rows"):
        plot.curve_png(empty)


def test_train_writes_its_learning_curve_png_next_to_the_csv(tmp_path: Path) -> None:
    from game.commands.cli import main

    out = tmp_path / "pilot.safetensors"
    assert main(["train", "--level", "classic", "--steps", "400", "--seed", "1", "--out",
                 str(out), "--no-progress"]) == 0
    picture = out.with_suffix(".png")
    assert picture.read_bytes() == plot.curve_png(out.with_suffix(".csv"))
    with Image.open(picture) as im:
        assert im.size == (640, 360)
