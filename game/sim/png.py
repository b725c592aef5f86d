"""PNG files without a dependency: the reader for the game's own assets and a plain writer.

The reader knows what ``assets/make_assets.py`` writes (8-bit RGB/RGBA, not interlaced);
anything else is a ``ValueError`` with a one-line reason. The writer is used for the
learning-curve plot and the tests' pictures.

Rules: numpy, ``struct`` and ``zlib`` only.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def read_png(data: bytes) -> np.ndarray:
    """Decodes an 8-bit RGB or RGBA, non-interlaced PNG into ``(h, w, 4)`` uint8.

    Enough for the game's own assets (``assets/make_assets.py`` writes them); other
    kinds raise ``ValueError`` with a one-line reason.
    """
    if data[:8] != PNG_SIGNATURE:
        raise ValueError("not a PNG file")
    pos, idat, header = 8, [], None
    while pos + 8 <= len(data):
        n, tag = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if tag == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif tag == b"IDAT":
            idat.append(body)
        elif tag == b"IEND":
            break
    if header is None:
        raise ValueError("PNG without a header")
    w, h, depth, colour, _, _, interlace = header
    if depth != 8 or colour not in (2, 6) or interlace:
        raise ValueError(f"unsupported PNG (bit depth {depth}, colour type {colour}, "
                         f"interlace {interlace}); expected 8-bit RGB/RGBA")
    ch = 3 if colour == 2 else 4
    stride = w * ch
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8)
    if raw.size != h * (stride + 1):
        raise ValueError("truncated PNG data")
    img = _unfilter(raw.reshape(h, stride + 1), w, ch).reshape(h, w, ch)
    if ch == 3:
        img = np.concatenate([img, np.full((h, w, 1), 255, dtype=np.uint8)], axis=2)
    return img


def _unfilter(raw: np.ndarray, w: int, ch: int) -> np.ndarray:
    """Undoes the row filters (None, Sub, Up, Average, Paeth) of ``raw``, ``(h, 1 + w * ch)``
    uint8 with each row's filter type first; returns the pixel bytes, ``(h, w * ch)``."""
    h, stride = raw.shape[0], w * ch
    out = np.zeros((h, stride), dtype=np.uint8)
    prev = np.zeros(stride, dtype=np.int64)
    for r in range(h):
        kind, line = int(raw[r, 0]), raw[r, 1:].astype(np.int64)
        if kind == 0:
            cur = line
        elif kind == 1:  # Sub: a running sum per channel
            cur = line.reshape(w, ch).cumsum(axis=0).reshape(-1) & 255
        elif kind == 2:  # Up
            cur = (line + prev) & 255
        elif kind in (3, 4):  # Average, Paeth: each byte needs its left neighbour's result
            cur = np.zeros(stride, dtype=np.int64)
            up = prev.tolist()
            vals = line.tolist()
            row = [0] * stride
            for i in range(stride):
                a = row[i - ch] if i >= ch else 0
                b = up[i]
                if kind == 3:
                    row[i] = (vals[i] + (a + b) // 2) & 255
                else:
                    c = up[i - ch] if i >= ch else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                    row[i] = (vals[i] + pred) & 255
            cur[:] = row
        else:
            raise ValueError(f"bad PNG filter type {kind}")
        out[r] = cur
        prev = cur
    return out


def png_bytes(image: np.ndarray) -> bytes:
    """Encodes an ``(h, w, 3)`` or ``(h, w, 4)`` uint8 image as PNG bytes."""
    img = np.ascontiguousarray(image, dtype=np.uint8)
    h, w, ch = img.shape
    if ch not in (3, 4):
        raise ValueError(f"expected 3 or 4 channels, got {ch}")
    raw = np.zeros((h, 1 + w * ch), dtype=np.uint8)  # filter byte 0 on every row
    raw[:, 1:] = img.reshape(h, -1)

    def chunk(tag: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + tag + body
                + struct.pack(">I", zlib.crc32(tag + body)))

    return (PNG_SIGNATURE
            + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2 if ch == 3 else 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw.tobytes(), 9))
            + chunk(b"IEND", b""))
