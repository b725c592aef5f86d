"""Memory of the real game in a long session: max speed, learning on, autosave every 5 s.

Starts its own Xvfb (unless DISPLAY is set), runs ``python main.py --pilot autopilot``
with ``GRAVITY_FLYER_AUTOSAVE_S=5``, presses 4 (max speed) with a real key event
(XTEST, ``tests/xinput.py``) and reports the game's resident memory (``VmRSS`` in
``/proc/<pid>/status``) every 30 s, with the env steps and saves from the game's state
file. RSS is read every second: a save holds a copy of the replay memory for a moment,
so each 30 s report gives the window's lowest (the baseline: no save in flight) and
highest reading besides the one on the mark. It reports the growth after the first
two minutes (issue 14's goal: under 5 MB) three ways: of the peak (the highest reading
after 2 min against the highest before), of the baseline (the last window's lowest
against the first window after 2 min) and of the highest readings likewise; and the
slope of a line fitted to the second half of the baselines. The baseline moves by up
to one snapshot of the replay memory (~9 MB on arcade) as the C allocator keeps or
returns a save's freed buffers, so the peak is the steadier measure of growth.

    python bench/soak.py [--minutes 30] [--level arcade] [--autosave-s 5] [--sample-s 30]

Linux only (``/proc``). Results go to ``bench/results/soak.json`` (one entry per level).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "soak.json"
WARMUP_S = 120.0
"""Growth is measured from this point: the first minutes fill the replay memory, the
allocator's pools and torch's caches."""

sys.path.insert(0, str(Path(__file__).resolve().parent))
from xserver import read_state, start_xvfb, stop_xvfb, wait  # noqa: E402

sys.path.insert(0, str(ROOT / "tests"))
import xinput  # noqa: E402  (the tests' XTEST helper: real key events, no xdotool)


def rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` in MB (``VmRSS``)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0, help="length of the session")
    parser.add_argument("--level", choices=("classic", "arcade"), default="arcade")
    parser.add_argument("--autosave-s", type=float, default=5.0)
    parser.add_argument("--sample-s", type=float, default=30.0, help="seconds between reports")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    if not os.environ.get("DISPLAY") and not shutil.which("Xvfb"):
        raise SystemExit("soak: Xvfb is needed (apt-get install xvfb), or set DISPLAY")

    xvfb, display = start_xvfb()
    tmp = Path(tempfile.mkdtemp(prefix="gf-soak-"))
    state_file = tmp / "state.json"
    env = {**os.environ, "DISPLAY": display, "GRAVITY_FLYER_STATE_FILE": str(state_file),
           "GRAVITY_FLYER_AUTOSAVE_S": str(args.autosave_s)}

    def state() -> dict | None:
        return read_state(state_file)

    game = subprocess.Popen([sys.executable, "main.py", "--level", args.level, "--seed",
                             str(args.seed), "--pilot", "autopilot", "--data-dir",
                             str(tmp / "data")], cwd=ROOT, env=env, stderr=subprocess.PIPE,
                            text=True)
    samples: list[dict] = []
    try:
        wait("the window", lambda: (s := state()) is not None and s["frames"] > 10, 120)
        wid = wait("the window id", lambda: xinput.find_window(display, "Gravity Flyer"), 30)
        xinput.focus(display, wid)
        xinput.key(display, "4")
        wait("max speed", lambda: (s := state()) is not None and s["speed"] == "max", 10)
        t0 = time.monotonic()
        end = t0 + args.minutes * 60
        window: list[float] = []
        next_report = t0
        while True:
            now = time.monotonic()
            if game.poll() is not None:
                raise SystemExit(f"soak: the game exited with {game.returncode}: "
                                 f"{game.stderr.read()[-2000:]}")
            rss = rss_mb(game.pid)
            window.append(rss)
            if now >= next_report or now >= end:
                s = state() or {}
                p = s.get("persistence") or {}
                sample = {"t_s": round(now - t0, 1), "rss_mb": round(rss, 2),
                          "rss_min_mb": round(min(window), 2),
                          "rss_max_mb": round(max(window), 2),
                          "env_steps": s.get("env_steps"), "episodes": s.get("episodes"),
                          "saves_ok": p.get("saves_ok"), "saves_failed": p.get("saves_failed")}
                samples.append(sample)
                window = [rss]
                next_report += args.sample_s
                print(f"{sample['t_s']:7.0f} s  RSS {rss:7.1f} MB (lowest "
                      f"{sample['rss_min_mb']:.1f}, highest {sample['rss_max_mb']:.1f} since "
                      f"the last report)  env steps {sample['env_steps']}  saves "
                      f"{sample['saves_ok']}", flush=True)
                if now >= end:
                    break
            time.sleep(1.0)  # the pace of the readings, not a synchronisation
        xinput.key(display, "Escape")
        code = game.wait(timeout=120)
        err = game.stderr.read()
        if code != 0 or "Traceback" in err:
            raise SystemExit(f"soak: the game exited with {code}: {err[-2000:]}")
    finally:
        if game.poll() is None:
            game.kill()
            game.wait()
        stop_xvfb(xvfb)
        shutil.rmtree(tmp, ignore_errors=True)

    t = np.array([s["t_s"] for s in samples])
    base = np.array([s["rss_min_mb"] for s in samples])
    high = np.array([s["rss_max_mb"] for s in samples])
    # The first report whose whole window lies after the warm-up.
    after = t >= WARMUP_S + args.sample_s
    growth = float(base[-1] - base[after][0]) if after.any() else None
    high_growth = float(high[after][-1] - high[after][0]) if after.any() else None
    early = t <= WARMUP_S + args.sample_s
    peak_before = float(high[early].max())
    peak_after = float(high[~early].max()) if (~early).any() else None
    half = t >= t[-1] / 2
    slope = float(np.polyfit(t[half] / 60, base[half], 1)[0]) if half.sum() >= 3 else None
    rss = base
    result = {
        "level": args.level, "minutes": args.minutes, "autosave_s": args.autosave_s,
        "sample_s": args.sample_s, "rss_start_mb": float(samples[0]["rss_mb"]),
        "rss_at_2_min_mb": float(base[after][0]) if after.any() else None,
        "rss_end_mb": float(base[-1]),
        "peak_first_2_min_mb": peak_before, "peak_after_2_min_mb": peak_after,
        "peak_growth_after_2_min_mb": None if peak_after is None else peak_after - peak_before,
        "growth_after_2_min_mb": growth,
        "highest_growth_after_2_min_mb": high_growth,
        "slope_second_half_mb_per_min": slope, "goal_growth_mb": 5.0,
        "env_steps": samples[-1]["env_steps"], "saves_ok": samples[-1]["saves_ok"],
        "saves_failed": samples[-1]["saves_failed"], "samples": samples,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores (shared with other work)",
        "command": " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
    }
    print(f"soak {args.level} (baseline RSS, lowest of each 30 s): {rss[0]:.1f} MB at start, "
          + (f"{rss[after][0]:.1f} MB after 2 min, " if after.any() else "")
          + f"{rss[-1]:.1f} MB at {t[-1] / 60:.1f} min; growth after 2 min "
          + (f"{growth:+.1f} MB (highest readings {high_growth:+.1f} MB); peak {peak_before:.1f}"
             f" MB in the first 2 min, {peak_after:.1f} MB after: {peak_after - peak_before:+.1f}"
             " MB (goal < 5 MB)" if growth is not None and peak_after is not None
             else "n/a (shorter than 2 min)")
          + (f"; second-half slope {slope:+.2f} MB/min" if slope is not None else ""))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    old = json.loads(args.out.read_text()) if args.out.exists() else {}
    old[args.level] = result
    args.out.write_text(json.dumps(old, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
