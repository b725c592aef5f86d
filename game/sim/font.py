"""A 5x7 bitmap font and the compositing it draws with, for pictures made without a window.

The score in ``rgb_array`` frames, the film captions and the plots' labels use it.

Rules: numpy only; a character the font lacks draws as a space (a test checks that every
caption's characters are here).
"""

from __future__ import annotations

import numpy as np

SHADOW = np.array([10, 20, 40], dtype=np.float32) / 255
INK = np.array([238, 243, 250], dtype=np.float32) / 255


DIGITS = {
    "0": ("01110", "10001", "10011", "10101", "11001", "10001", "01110"),
    "1": ("00100", "01100", "00100", "00100", "00100", "00100", "01110"),
    "2": ("01110", "10001", "00001", "00010", "00100", "01000", "11111"),
    "3": ("11110", "00001", "00001", "01110", "00001", "00001", "11110"),
    "4": ("00010", "00110", "01010", "10010", "11111", "00010", "00010"),
    "5": ("11111", "10000", "11110", "00001", "00001", "10001", "01110"),
    "6": ("00110", "01000", "10000", "11110", "10001", "10001", "01110"),
    "7": ("11111", "00001", "00010", "00100", "01000", "01000", "01000"),
    "8": ("01110", "10001", "10001", "01110", "10001", "10001", "01110"),
    "9": ("01110", "10001", "10001", "01111", "00001", "00010", "01100"),
    ".": ("00000", "00000", "00000", "00000", "00000", "01100", "01100"),
    "-": ("00000", "00000", "00000", "11111", "00000", "00000", "00000"),
    "k": ("10000", "10000", "10010", "10100", "11000", "10100", "10010"),
    "M": ("10001", "11011", "10101", "10101", "10001", "10001", "10001"),
    " ": ("00000",) * 7,
    "a": ("00000", "00000", "01110", "00001", "01111", "10001", "01111"),
    "b": ("10000", "10000", "10110", "11001", "10001", "10001", "11110"),
    "c": ("00000", "00000", "01110", "10000", "10000", "10001", "01110"),
    "d": ("00001", "00001", "01101", "10011", "10001", "10001", "01111"),
    "e": ("00000", "00000", "01110", "10001", "11111", "10000", "01110"),
    "f": ("00110", "01001", "01000", "11100", "01000", "01000", "01000"),
    "g": ("00000", "01111", "10001", "10001", "01111", "00001", "01110"),
    "h": ("10000", "10000", "10110", "11001", "10001", "10001", "10001"),
    "i": ("00100", "00000", "01100", "00100", "00100", "00100", "01110"),
    "l": ("01100", "00100", "00100", "00100", "00100", "00100", "01110"),
    "m": ("00000", "00000", "11010", "10101", "10101", "10001", "10001"),
    "n": ("00000", "00000", "10110", "11001", "10001", "10001", "10001"),
    "o": ("00000", "00000", "01110", "10001", "10001", "10001", "01110"),
    "p": ("00000", "00000", "11110", "10001", "11110", "10000", "10000"),
    "r": ("00000", "00000", "10110", "11001", "10000", "10000", "10000"),
    "s": ("00000", "00000", "01111", "10000", "01110", "00001", "11110"),
    "t": ("01000", "01000", "11100", "01000", "01000", "01001", "00110"),
    "u": ("00000", "00000", "10001", "10001", "10001", "10011", "01101"),
    "v": ("00000", "00000", "10001", "10001", "10001", "01010", "00100"),
    "w": ("00000", "00000", "10001", "10001", "10101", "10101", "01010"),
    "x": ("00000", "00000", "10001", "01010", "00100", "01010", "10001"),
    "y": ("00000", "10001", "10001", "10001", "01111", "00001", "01110"),
    "/": ("00000", "00001", "00010", "00100", "01000", "10000", "00000"),
    "(": ("00010", "00100", "01000", "01000", "01000", "00100", "00010"),
    ")": ("01000", "00100", "00010", "00010", "00010", "00100", "01000"),
    ":": ("00000", "01100", "01100", "00000", "01100", "01100", "00000"),
}
"""A 5x7 bitmap font: the digits and the few characters the score, plots and captions use."""


def text_mask(text: str, scale: int) -> np.ndarray:
    """A boolean ``(7 s, 6 s n - s)`` mask of ``text`` in the 5x7 font, ``s`` = scale."""
    glyphs = [np.array([[c == "1" for c in row] for row in DIGITS.get(ch, DIGITS[" "])])
              for ch in text]
    gap = np.zeros((7, 1), dtype=bool)
    parts: list[np.ndarray] = []
    for g in glyphs:
        parts += [g, gap]
    mask = np.concatenate(parts[:-1] or [np.zeros((7, 0), dtype=bool)], axis=1)
    return np.kron(mask, np.ones((scale, scale), dtype=bool))


def blend(canvas: np.ndarray, top: int, left: int, rgba: np.ndarray) -> None:
    """Composites premultiplied ``rgba`` onto the float RGB ``canvas`` at (top, left), clipped."""
    H, W = canvas.shape[:2]
    h, w = rgba.shape[:2]
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, H), min(left + w, W)
    if r1 <= r0 or c1 <= c0:
        return
    src = rgba[r0 - top:r1 - top, c0 - left:c1 - left]
    dst = canvas[r0:r1, c0:c1]
    dst *= 1 - src[..., 3:]
    dst += src[..., :3]


def fill(canvas: np.ndarray, mask: np.ndarray, top: int, left: int, rgb: np.ndarray,
         alpha: float = 1.0) -> None:
    """Paints ``rgb`` with ``alpha`` where the boolean ``mask`` is set, placed at (top, left)."""
    a = mask.astype(np.float32)[..., None] * alpha
    blend(canvas, top, left, np.concatenate([a * rgb, a], axis=2))


def draw_text(canvas: np.ndarray, text: str, cx: int, top: int, scale: int,
              rgb: np.ndarray = INK, shadow: bool = True) -> None:
    """Draws ``text`` centred on column ``cx``, with a soft dark copy behind it."""
    mask = text_mask(text, scale)
    left = cx - mask.shape[1] // 2
    if shadow:
        off = max(1, scale // 2)
        fill(canvas, mask, top + off, left + off, SHADOW, 0.6)
    fill(canvas, mask, top, left, rgb)
