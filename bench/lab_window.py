"""The lesson lab in the real window: frame times at 1x, skill readings, screenshots at marks.

For each level it starts ``python main.py --lab --level L --seed 0`` under its own Xvfb (or
``DISPLAY``), with the frame log and the state file on, lets the lab run at 1x, takes a
screenshot of the window at each ``--shots`` mark (seconds of play, read from the state file)
into ``--out``, then quits with Esc and reads the frame log: frames per second and the frame
interval's p50/p99 over the run after the first ``--skip`` seconds (start-up), and how many
ticks were dropped, and the worst of its one-second p99s. Writes
``bench/results/lab_window.json`` (one entry per ``--learner-process``). Say whether the
machine was shared: frame times depend on it.

The teams learn in the learner's child process (``ai.process.remote``); ``--learner-process
off`` (``GRAVITY_FLYER_LEARNER_PROCESS=0``) runs them as before it, on a worker thread beside
the frames (arcade) or in the frames' spare time (classic), for the comparison.

    python bench/lab_window.py --levels arcade,classic --shots 0,30,60   # PNGs in /tmp/lab-screens
    python bench/lab_window.py --levels arcade --shots 60 --learner-process off
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from xserver import read_state, start_xvfb, stop_xvfb, wait  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "lab_window.json"


def screenshot(display: str, path: Path) -> None:
    """The window's screen as a PNG (imagemagick's ``import``)."""
    subprocess.run(["import", "-window", "root", "-crop", "1080x620+0+0", str(path)],
                   env={**os.environ, "DISPLAY": display}, check=True, timeout=60)


def run_level(level: str, display: str, shots: list[float], out: Path, skip: float,
              process: bool = True) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="lab-window-"))
    state_path, log_path = tmp / "state.json", tmp / "frames.json"
    env = {**os.environ, "DISPLAY": display, "GRAVITY_FLYER_STATE_FILE": str(state_path),
           "GRAVITY_FLYER_FRAME_LOG": str(log_path)}
    if not process:
        env["GRAVITY_FLYER_LEARNER_PROCESS"] = "0"
    proc = subprocess.Popen([sys.executable, "main.py", "--lab", "--level", level, "--seed", "0",
                             "--data-dir", str(tmp / "data")], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    taken = {}
    try:
        wait("the lab's first frames", lambda: (lambda st: st and st.get("view") == "lab"
                                                and st["frames"] > 5)(read_state(state_path)),
             timeout=300)
        # Xvfb has no window manager: give the window the focus (the lab pauses without it)
        subprocess.run(["xdotool", "search", "--name", "Gravity Flyer", "windowfocus"],
                       env={**os.environ, "DISPLAY": display}, check=False, timeout=30)
        for mark in shots:
            s = wait(f"{mark:g} s of play", lambda m=mark: (lambda st: st if st and st.get(
                "lab") and st["lab"]["seconds"] >= m else None)(read_state(state_path)),
                timeout=600)
            path = out / f"lab-{level}-{int(mark)}s.png"
            screenshot(display, path)
            taken[str(mark)] = {"file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT)
                                else str(path), "seconds": s["lab"]["seconds"],
                                "skills": {t["key"]: t["skill"] for t in s["lab"]["teams"]}}
            print(f"  {level} {s['lab']['seconds']:.1f} s of play: {path.name}  " + "  ".join(
                f"{t['key']} {t['skill'] if t['skill'] is None else round(t['skill'], 2)}"
                for t in s["lab"]["teams"]), flush=True)
        final = read_state(state_path)
        proc.terminate()  # SIGTERM: the window ends as after Esc, writing its frame log
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.terminate()
            proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    log = json.loads(log_path.read_text()) if log_path.exists() else None
    out_d: dict = {"level": level, "shots": taken,
                   "dropped_ticks": final["lab"]["dropped_ticks"] if final else None,
                   "learner_process": final["lab"].get("learner_process") if final else None}
    if log:
        start = np.asarray(log["start"])
        interval = np.asarray(log["interval"]) * 1000
        keep = start >= start[0] + skip
        iv = interval[keep]
        wall = start[keep][-1] - start[keep][0] if keep.sum() > 1 else 0.0
        second = np.floor(start[keep] - start[keep][0]).astype(int)
        per_second = [np.percentile(iv[second == k], 99) for k in np.unique(second)
                      if (second == k).sum() >= 20]
        out_d.update(frames=int(keep.sum()), fps=round(keep.sum() / wall, 1) if wall else None,
                     interval_p50_ms=round(float(np.percentile(iv, 50)), 1),
                     interval_p99_ms=round(float(np.percentile(iv, 99)), 1),
                     worst_second_p99_ms=round(float(max(per_second)), 1),
                     work_p99_ms=round(float(np.percentile(np.asarray(log["work"])[keep] * 1000,
                                                           99)), 1))
        print(f"  {level} 1x: {out_d['fps']} FPS, frame interval p50 {out_d['interval_p50_ms']} "
              f"ms, p99 {out_d['interval_p99_ms']} ms, worst one-second p99 "
              f"{out_d['worst_second_p99_ms']} ms, work p99 {out_d['work_p99_ms']} ms "
              f"(learner process: {out_d['learner_process']})", flush=True)
    return out_d


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="arcade,classic")
    ap.add_argument("--shots", default="0,30,60", help="seconds of play to screenshot at")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "lab-screens")
    ap.add_argument("--skip", type=float, default=5.0, help="seconds of start-up left out")
    ap.add_argument("--note", default="", help="the machine's state, e.g. 'shared, load 5'")
    ap.add_argument("--learner-process", choices=("on", "off"), default="on",
                    help="off: the teams learn in the window's process (as before the child)")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    server, display = start_xvfb()
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        runs = [run_level(level, display, [float(x) for x in args.shots.split(",")], args.out,
                          args.skip, args.learner_process == "on")
                for level in args.levels.split(",")]
    finally:
        stop_xvfb(server)
    machine = (f"{os.cpu_count()} cores, load {load0:.1f} -> {os.getloadavg()[0]:.1f} "
               f"(1-min average){'; ' + args.note if args.note else ''}")
    RESULTS.parent.mkdir(exist_ok=True)
    try:
        results = json.loads(RESULTS.read_text()).get("by_learner_process", {})
    except (OSError, ValueError, AttributeError):
        results = {}
    results[args.learner_process] = {"runs": runs, "machine": machine,
                                     "seconds": round(time.perf_counter() - t0)}
    RESULTS.write_text(json.dumps({"by_learner_process": results}, indent=1) + "\n")
    print(f"machine: {machine}. Wrote {RESULTS}")


if __name__ == "__main__":
    main()
