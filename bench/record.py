"""``main.py record``: seconds to film the shipped pilots and a flock learning, and file sizes.

Run::

    python bench/record.py                 # 30 s of arcade and classic, GIF and MP4, 400 px,
                                           # and the README's flock GIF (record --learn)

Each case runs ``game.commands.cli.main(["record", ...])`` in this process (the pilot load and
the first-frame sprite scaling included; Python start-up and imports not) and reports
the wall time, real-time factor (film seconds per second of work) and file size. The
flock row is the README's ``docs/flock.gif`` command (``FLOCK_ARGS``): a fresh flock of 64
learning for 60 s of play, filmed at 5x; its time includes the learning and the skill
readings. Writes ``bench/results/record.json``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from game.commands.cli import main as cli_main  # noqa: E402

FLOCK_ARGS = ["--learn", "--flock", "64", "--seconds", "60", "--speedup", "5", "--fps", "8",
              "--size", "320", "--seed", "0"]
"""The README's ``docs/flock.gif`` (see ``game.commands.record``)."""


def main() -> None:
    """Measures, prints and writes the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="film length")
    parser.add_argument("--size", type=int, default=400, help="frame side in pixels")
    parser.add_argument("--no-flock", action="store_true", help="skip the flock film")
    parser.add_argument("--note", default="", help="e.g. 'machine shared with 4 other jobs'")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "record.json")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for level in ("arcade", "classic"):
            for suffix in (".gif", ".mp4"):
                path = Path(tmp) / f"{level}{suffix}"
                start = time.perf_counter()
                with contextlib.redirect_stdout(io.StringIO()):
                    code = cli_main(["record", "--level", level, "--out", str(path),
                                     "--seconds", str(args.seconds), "--size", str(args.size)])
                seconds = time.perf_counter() - start
                assert code == 0, f"record failed for {level}{suffix}"
                size = path.stat().st_size
                results[f"{level}{suffix}"] = {"wall_s": seconds,
                                               "film_s_per_wall_s": args.seconds / seconds,
                                               "bytes": size}
                print(f"{level:8s}{suffix}: {args.seconds:g} s of film in {seconds:5.2f} s "
                      f"({args.seconds / seconds:5.1f}x real time), {size / 1024:7.0f} KiB")
        if not args.no_flock:
            path = Path(tmp) / "flock.gif"
            start = time.perf_counter()
            with contextlib.redirect_stdout(io.StringIO()) as said:
                code = cli_main(["record", *FLOCK_ARGS, "--out", str(path)])
            seconds = time.perf_counter() - start
            assert code == 0, "record --learn failed"
            size = path.stat().st_size
            from PIL import Image

            film_ms = 0
            with Image.open(path) as im:
                for k in range(im.n_frames):
                    im.seek(k)
                    film_ms += im.info["duration"]
            film_s = film_ms / 1000
            results["arcade flock.gif"] = {"args": FLOCK_ARGS, "wall_s": seconds,
                                           "film_s": film_s, "film_s_per_wall_s": film_s / seconds,
                                           "bytes": size, "said": said.getvalue().strip()}
            print(f"flock   .gif: 60 s of play learned and filmed as {film_s:g} s of film in "
                  f"{seconds:5.2f} s, {size / 1024:7.0f} KiB")
    report = {"film_seconds": args.seconds, "size_px": args.size, "pilot": "pretrained",
              "load_average": os.getloadavg(),
              "note": args.note, "python": platform.python_version(), "results": results}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
