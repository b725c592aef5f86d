"""Makes Gravity Flyer's art and sounds: PNG and WAV files from numpy, no downloads.

Run ``python assets/make_assets.py``; it rewrites the files next to it. Everything
is drawn from code (shapes, gradients, seeded noise), so the output is the same
on every machine. Only numpy and the standard library (zlib, struct, wave) are used.
"""

from __future__ import annotations

import struct
import wave
import zlib
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RATE = 22_050
"""Sample rate of the sounds, in Hz."""
SS = 4
"""Supersampling factor for anti-aliased sprites."""


# ----------------------------------------------------------------------- file writers
def write_png(path: Path, rgba: np.ndarray) -> None:
    """Writes an ``(h, w, 4)`` float image in [0, 1] (row 0 at the top) as an 8-bit PNG."""
    img = np.clip(np.rint(rgba * 255.0), 0, 255).astype(np.uint8)
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[row].tobytes() for row in range(h))

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    png = (b"\x89PNG\r\n\x1a\n"
           + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 9))
           + chunk(b"IEND", b""))
    path.write_bytes(png)


def write_wav(path: Path, samples: np.ndarray) -> None:
    """Writes mono float samples in [-1, 1] as 16-bit PCM."""
    pcm = np.clip(np.rint(samples * 32767.0), -32768, 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm.tobytes())


# ----------------------------------------------------------------------- drawing helpers
def grid(w: int, h: int, ss: int = SS) -> tuple[np.ndarray, np.ndarray]:
    """Sample coordinates in pixels (x right, y down), ``ss`` samples per pixel side."""
    xs = (np.arange(w * ss) + 0.5) / ss
    ys = (np.arange(h * ss) + 0.5) / ss
    return np.meshgrid(xs, ys)


def down(img: np.ndarray, ss: int = SS) -> np.ndarray:
    """Averages ``ss x ss`` blocks (premultiplied alpha, so edges do not darken)."""
    h, w = img.shape[0] // ss, img.shape[1] // ss
    return img.reshape(h, ss, w, ss, -1).mean(axis=(1, 3))


def ellipse(x, y, cx, cy, rx, ry, angle=0.0) -> np.ndarray:
    """Boolean mask of a rotated ellipse."""
    c, s = np.cos(angle), np.sin(angle)
    u = ((x - cx) * c + (y - cy) * s) / rx
    v = (-(x - cx) * s + (y - cy) * c) / ry
    return u * u + v * v <= 1.0


def paint(canvas: np.ndarray, mask: np.ndarray, rgb, alpha: float = 1.0) -> None:
    """Paints a colour over a premultiplied RGBA canvas where ``mask`` is set."""
    rgb = np.asarray(rgb, dtype=float)
    if rgb.ndim == 1:
        rgb = np.broadcast_to(rgb, canvas.shape[:2] + (3,))
    a = mask.astype(float) * alpha
    canvas[..., :3] = canvas[..., :3] * (1 - a[..., None]) + rgb * a[..., None]
    canvas[..., 3] = canvas[..., 3] * (1 - a) + a


def unpremultiply(img: np.ndarray) -> np.ndarray:
    out = img.copy()
    a = out[..., 3:4]
    out[..., :3] = np.where(a > 0, out[..., :3] / np.maximum(a, 1e-6), 0.0)
    return out


def hexrgb(code: str) -> np.ndarray:
    return np.array([int(code[i:i + 2], 16) / 255.0 for i in (1, 3, 5)])


# ----------------------------------------------------------------------- images
def flyer(size: int = 96) -> np.ndarray:
    """A round yellow bird facing right: body, belly, wing, eye, beak, outline."""
    x, y = grid(size, size)
    s = size / 96.0
    img = np.zeros(x.shape + (4,))
    cx, cy, r = 46 * s, 50 * s, 30 * s
    outline = hexrgb("#3b2a1a")
    # tail feathers behind the body
    for k, ang in enumerate((-0.5, 0.0, 0.5)):
        paint(img, ellipse(x, y, 14 * s, (48 + 6 * k - 6) * s, 13 * s, 5 * s, ang), outline)
        paint(img, ellipse(x, y, 15 * s, (48 + 6 * k - 6) * s, 11 * s, 3.4 * s, ang),
              hexrgb("#f29e1f"))
    paint(img, ellipse(x, y, cx, cy, r + 3 * s, r + 3 * s), outline)
    # body with a soft vertical shade: light top-left, warmer bottom
    shade = np.clip((y - (cy - r)) / (2 * r), 0, 1)[..., None]
    body = hexrgb("#ffe15a") * (1 - shade) + hexrgb("#f7a928") * shade
    paint(img, ellipse(x, y, cx, cy, r, r), body)
    paint(img, ellipse(x, y, cx + 4 * s, cy + 14 * s, 20 * s, 13 * s), hexrgb("#fff3c4"), 0.9)
    paint(img, ellipse(x, y, cx - 10 * s, cy - 14 * s, 9 * s, 5 * s, -0.5), hexrgb("#fffbe6"), 0.6)
    # wing
    paint(img, ellipse(x, y, cx - 9 * s, cy + 4 * s, 15 * s, 10 * s, 0.35), outline)
    paint(img, ellipse(x, y, cx - 9 * s, cy + 4 * s, 12.5 * s, 7.5 * s, 0.35), hexrgb("#ffffff"))
    paint(img, ellipse(x, y, cx - 7 * s, cy + 6 * s, 10 * s, 4.5 * s, 0.35), hexrgb("#e9eef5"))
    # eye
    paint(img, ellipse(x, y, cx + 13 * s, cy - 10 * s, 10.5 * s, 11.5 * s), outline)
    paint(img, ellipse(x, y, cx + 13 * s, cy - 10 * s, 8.5 * s, 9.5 * s), hexrgb("#ffffff"))
    paint(img, ellipse(x, y, cx + 16 * s, cy - 9 * s, 4.2 * s, 5.2 * s), hexrgb("#1d1d2b"))
    paint(img, ellipse(x, y, cx + 17.5 * s, cy - 11 * s, 1.6 * s, 1.6 * s), hexrgb("#ffffff"))
    # beak: two rounded halves
    paint(img, ellipse(x, y, cx + 29 * s, cy + 3 * s, 13 * s, 6.5 * s), outline)
    paint(img, ellipse(x, y, cx + 29 * s, cy + 1 * s, 11 * s, 4.2 * s), hexrgb("#ff7a2f"))
    paint(img, ellipse(x, y, cx + 27 * s, cy + 6.5 * s, 9 * s, 3.0 * s), hexrgb("#e0541c"))
    # cheek
    paint(img, ellipse(x, y, cx + 6 * s, cy + 6 * s, 5 * s, 3.2 * s), hexrgb("#ff8a7a"), 0.55)
    return unpremultiply(down(img))


def background(w: int = 512, h: int = 512, seed: int = 7) -> np.ndarray:
    """Sky gradient with soft clouds and two layers of rolling hills at the bottom."""
    rng = np.random.default_rng(seed)
    x, y = grid(w, h, ss=1)
    t = y / h
    top, mid, low = hexrgb("#3f7fd0"), hexrgb("#8ec5f0"), hexrgb("#e6f4fb")
    sky = np.where(t[..., None] < 0.6,
                   top * (1 - t[..., None] / 0.6) + mid * (t[..., None] / 0.6),
                   mid * (1 - (t[..., None] - 0.6) / 0.4) + low * ((t[..., None] - 0.6) / 0.4))
    img = np.concatenate([sky, np.ones(x.shape + (1,))], axis=-1)
    # sun glow, upper right
    d = np.hypot(x - 0.8 * w, y - 0.18 * h) / w
    glow = np.exp(-(d / 0.18) ** 2)[..., None]
    img[..., :3] = np.clip(img[..., :3] + hexrgb("#fff2c0") * 0.45 * glow
                           + 0.5 * np.exp(-(d / 0.045) ** 2)[..., None], 0, 1)
    # clouds: clusters of soft ellipses
    for _ in range(7):
        cx, cy = rng.uniform(0, w), rng.uniform(0.08 * h, 0.55 * h)
        scale = rng.uniform(0.6, 1.2)
        for _ in range(6):
            ex = cx + rng.normal(0, 22 * scale)
            ey = cy + rng.normal(0, 5 * scale)
            rx, ry = rng.uniform(18, 34) * scale, rng.uniform(9, 15) * scale
            for dx in (-w, 0, w):  # wrap so the texture tiles sideways
                u = ((x - ex - dx) / rx) ** 2 + ((y - ey) / ry) ** 2
                a = np.clip(1.2 - u, 0, 1) ** 1.5 * 0.55
                shade = np.clip((y - (ey - ry)) / (2 * ry), 0, 1)
                col = hexrgb("#ffffff")[None, None] * (1 - 0.12 * shade[..., None])
                img[..., :3] = img[..., :3] * (1 - a[..., None]) + col * a[..., None]
    # hills: far (blue-green) and near (green), periodic in x so the image tiles
    far = 0.80 * h + 0.05 * h * np.sin(2 * np.pi * x / w * 2 + 1.0) \
        + 0.02 * h * np.sin(2 * np.pi * x / w * 5)
    near = 0.88 * h + 0.04 * h * np.sin(2 * np.pi * x / w * 3 + 2.0) \
        + 0.015 * h * np.sin(2 * np.pi * x / w * 7 + 0.5)
    for edge, colour, a in ((far, hexrgb("#86b6a8"), 0.85), (near, hexrgb("#5fa860"), 1.0)):
        cover = np.clip(y - edge + 0.5, 0, 1)  # 1-pixel anti-aliased edge
        depth = np.clip((y - edge) / (0.2 * h), 0, 1)[..., None]
        col = colour * (1 - 0.25 * depth)
        img[..., :3] = img[..., :3] * (1 - a * cover[..., None]) + col * a * cover[..., None]
    return img


def gate(w: int = 64, h: int = 8) -> np.ndarray:
    """A pillar's cross-section, lit from the left; stretched vertically when drawn."""
    u = (np.arange(w) + 0.5) / w
    light = 0.55 + 0.6 * np.sin(np.pi * np.clip(u * 1.15 - 0.05, 0, 1)) ** 0.7 - 0.25 * u
    base = hexrgb("#3d9b4f")
    row = np.clip(base[None] * light[:, None] + 0.18 * np.exp(-((u - 0.28) / 0.07) ** 2)[:, None],
                  0, 1)
    edge = (u < 2 / w) | (u > 1 - 2 / w)
    row[edge] = hexrgb("#1f4d2a")
    img = np.ones((h, w, 4))
    img[..., :3] = row[None]
    return img


def gate_cap(w: int = 80, h: int = 24) -> np.ndarray:
    """The lip at the gap's edge of a pillar: wider, with a dark outline."""
    img = gate(w, h)
    img[:2] = np.concatenate([hexrgb("#1f4d2a"), [1.0]])
    img[-2:] = np.concatenate([hexrgb("#1f4d2a"), [1.0]])
    return img


# ----------------------------------------------------------------------- sounds
def envelope(n: int, attack: float, release: float) -> np.ndarray:
    t = np.arange(n) / RATE
    a = np.clip(t / attack, 0, 1)
    r = np.clip((n / RATE - t) / release, 0, 1)
    return a * r


def jump_sound() -> np.ndarray:
    """A short rising chirp."""
    n = int(0.14 * RATE)
    t = np.arange(n) / RATE
    f = 420 + 900 * (t / t[-1]) ** 0.8
    phase = 2 * np.pi * np.cumsum(f) / RATE
    tone = np.sin(phase) + 0.25 * np.sin(2 * phase)
    return 0.35 * tone * envelope(n, 0.005, 0.09)


def score_sound() -> np.ndarray:
    """Two bright notes, a fifth apart."""
    parts = []
    for freq, dur in ((880.0, 0.08), (1318.5, 0.16)):
        n = int(dur * RATE)
        t = np.arange(n) / RATE
        tone = np.sin(2 * np.pi * freq * t) + 0.3 * np.sin(2 * np.pi * 2 * freq * t)
        parts.append(tone * envelope(n, 0.004, dur * 0.8))
    return 0.3 * np.concatenate(parts)


def crash_sound(seed: int = 3) -> np.ndarray:
    """A thud with a burst of filtered noise."""
    rng = np.random.default_rng(seed)
    n = int(0.45 * RATE)
    t = np.arange(n) / RATE
    noise = rng.standard_normal(n)
    kernel = np.ones(12) / 12  # a crude low-pass so it rumbles rather than hisses
    noise = np.convolve(noise, kernel, mode="same")
    thud = np.sin(2 * np.pi * (120 - 70 * t / t[-1]) * t)
    out = (1.6 * noise * np.exp(-t / 0.09) + 0.8 * thud * np.exp(-t / 0.15))
    return 0.45 * out / np.max(np.abs(out)) * envelope(n, 0.002, 0.1)


def main() -> None:
    """Writes every asset next to this script."""
    write_png(HERE / "flyer.png", flyer())
    write_png(HERE / "background.png", background())
    write_png(HERE / "gate.png", gate())
    write_png(HERE / "gate_cap.png", gate_cap())
    write_wav(HERE / "jump.wav", jump_sound())
    write_wav(HERE / "score.wav", score_sound())
    write_wav(HERE / "crash.wav", crash_sound())
    for p in sorted(HERE.glob("*.png")) + sorted(HERE.glob("*.wav")):
        print(f"{p.name:16s} {p.stat().st_size:>8d} bytes")


if __name__ == "__main__":
    main()
