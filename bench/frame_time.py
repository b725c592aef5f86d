"""Frame pacing of the real window with the autopilot flying and learning.

Starts its own Xvfb (unless DISPLAY is set), runs ``python main.py --pilot
autopilot --learn`` and presses real keys with xdotool: 20 s at 1x, then 20 s
at max (after a short settling time for each), then 20 s more at max once the
learner's early phase (a high replay ratio for its first env steps) is over.
The game logs every frame's start, interval, work time (simulation + learning
+ drawing up to the flip, plus an autosave's snapshot after it) and ticks
through ``GRAVITY_FLYER_FRAME_LOG``; this script cuts the log into the phases
and reports frame interval and work p50/p99 and env steps/s.

Goals (issue 3): frame interval p99 <= 20 ms and work p99 <= 12 ms in both
modes; at max, >= 5000 env steps/s with learning on.

    python bench/frame_time.py [--level classic] [--flock 1] [--seconds 20]

The defaults are the game's own: the arcade level and the flock of 64
(``game.play.flock.DEFAULT_FLOCK``); ``--flock 1`` measures the single flyer.

With ``--autosave-s S`` the game autosaves its learner every S seconds of play
(``GRAVITY_FLYER_AUTOSAVE_S``; the game's default is 60) and each phase also
reports the frames that ran while a save was in progress: the frame that took
the snapshot (``learner.state`` + ``Store.prepare``, on the frame thread) and the
frames during which the background thread wrote it to disk, with the longest
frame interval and work among them (issue 4: an autosave must not stutter the
game). Those results go to ``bench/results/frame_time_autosave.json``, one entry
per level.

    python bench/frame_time.py --autosave-s 1 [--level arcade]

Key-to-motion latency (issue 11: at most one frame plus one tick at 60 FPS): a
second game, flown by a "player", gets SPACE from xdotool every 0.4-0.7 s. The
frame log records when each jump input reached the game and, for every frame,
the flyer's drawn height and when the frame was flipped; the latency of a press
is from its arrival to the flip of the first frame whose drawn flyer is higher
than in the frame before. Only presses made while the flyer was flying and
falling count (a press that starts a run or lands in a crash pause shows no
hop). Reported as p50/p95/max, with the press-to-arrival time (xdotool and the
X server) apart.

    python bench/frame_time.py --latency-only [--latency-level arcade] [--presses 40]

With a flock (``--flock N`` above 1, the default 64; issue 12) only the 1x and max phases
run (no after-early phase, no latency run) and the figures go into
``bench/results/frame_time_flock.json``, one entry per N and level. Each phase also gives the
worst of its one-second frame-interval p99s (issue 19). ``--learner-process off`` runs the
gradient steps in the window's own process, as before ``ai.process.remote`` (its own entry):

    python bench/frame_time.py --seconds 30
    python bench/frame_time.py --seconds 30 --learner-process off
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from xserver import read_state, start_xvfb, stop_xvfb, wait  # noqa: E402

from game.play.flock import DEFAULT_FLOCK  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "frame_time.json"
RESULTS_AUTOSAVE = ROOT / "bench" / "results" / "frame_time_autosave.json"
RESULTS_FLOCK = ROOT / "bench" / "results" / "frame_time_flock.json"


def _phase(log: dict, t0: float, t1: float) -> dict:
    start = np.asarray(log["start"])
    sel = (start >= t0) & (start < t1)
    iv = np.asarray(log["interval"])[sel] * 1e3
    wk = np.asarray(log["work"])[sel] * 1e3
    ticks = np.asarray(log["ticks"])[sel]
    sim = np.asarray(log["sim"])[sel] * 1e3
    draw = wk - sim
    span = t1 - t0
    out = {
        "seconds": round(span, 2),
        "frames": int(sel.sum()),
        "fps": round(sel.sum() / span, 1),
        "frame_interval_ms_p50": round(float(np.percentile(iv, 50)), 2),
        "frame_interval_ms_p99": round(float(np.percentile(iv, 99)), 2),
        "frame_interval_ms_max": round(float(iv.max()), 2),
        "frame_interval_ms_p99_worst_second": _worst_second_p99(start[sel], iv),
        "work_ms_p50": round(float(np.percentile(wk, 50)), 2),
        "work_ms_p99": round(float(np.percentile(wk, 99)), 2),
        "work_ms_max": round(float(wk.max()), 2),
        "sim_ms_p50": round(float(np.percentile(sim, 50)), 2),
        "sim_ms_p99": round(float(np.percentile(sim, 99)), 2),
        "draw_ms_p50": round(float(np.percentile(draw, 50)), 2),
        "draw_ms_p99": round(float(np.percentile(draw, 99)), 2),
        "ticks_per_s": round(float(ticks.sum()) / span, 1),
        "env_steps_per_s": _steps_per_s(log, sel),
        "speeds_seen": sorted(set(np.asarray(log["speed"])[sel].tolist())),
    }
    if "saving" in log:
        saving = np.asarray(log["saving"])[sel]
        out["autosave"] = _saving(iv, wk, saving)
    return out


def _worst_second_p99(start: np.ndarray, iv: np.ndarray) -> float:
    """The worst of the frame interval's p99 over each whole second of the phase (issue 19)."""
    second = np.floor(start - start[0]).astype(int)
    p99 = [float(np.percentile(iv[second == k], 99)) for k in np.unique(second)
           if (second == k).sum() >= 30]
    return round(max(p99), 2) if p99 else float("nan")


def _steps_per_s(log: dict, sel: np.ndarray) -> float:
    """Flyer decisions per second over the selected frames (``Session.env_steps``)."""
    steps = np.asarray(log.get("env_steps", []))
    if steps.size != sel.size or sel.sum() < 2:
        return 0.0
    start = np.asarray(log["start"])[sel]
    return round(float(steps[sel][-1] - steps[sel][0]) / float(start[-1] - start[0]), 1)


def _saving(iv: np.ndarray, wk: np.ndarray, saving: np.ndarray) -> dict:
    """Frames during an autosave (snapshot frame or a write running) against the others."""

    def stats(mask: np.ndarray) -> dict:
        if not mask.any():
            return {"frames": 0}
        return {"frames": int(mask.sum()),
                "frame_interval_ms_p99": round(float(np.percentile(iv[mask], 99)), 2),
                "frame_interval_ms_max": round(float(iv[mask].max()), 2),
                "work_ms_p99": round(float(np.percentile(wk[mask], 99)), 2),
                "work_ms_max": round(float(wk[mask].max()), 2)}

    # A frame's interval ends when it starts, so the write's effect shows in the frame
    # after each busy one too: count it as a saving frame.
    busy = saving > 0
    during = busy | np.concatenate(([False], busy[:-1]))
    return {"saves_started": int((saving == 2).sum()),
            "snapshot_frames": stats(saving == 2),
            "frames_during_save": stats(during),
            "other_frames": stats(~during)}


def key_to_motion(log: dict, horizon_s: float = 0.5) -> dict:
    """Latency from each jump input's arrival to the first frame showing the flyer higher.

    Args:
        log: the game's frame log (``flipped``, ``drawn_y``, ``flying`` per frame and the
            ``jumps`` arrival times).
        horizon_s: a press not shown within this long counts as missed.
    """
    flipped = np.asarray(log["flipped"], dtype=float)
    ys = np.asarray([np.nan if y is None else y for y in log["drawn_y"]], dtype=float)
    flying = np.asarray(log["flying"], dtype=bool)
    lat, skipped, missed = [], 0, 0
    for k in log.get("jumps", []):
        before = int(np.searchsorted(flipped, k, side="right")) - 1  # last frame shown before
        if before < 1 or not (flying[before] and ys[before] < ys[before - 1]):
            skipped += 1  # not a falling flyer in flight: the press is not a plain hop
            continue
        shown = None
        for i in range(before + 1, len(flipped)):
            if flipped[i] - k > horizon_s:
                break
            if ys[i] > ys[i - 1]:
                shown = flipped[i] - k
                break
        if shown is None:
            missed += 1
        else:
            lat.append(shown * 1e3)
    out = {"presses_counted": len(lat), "presses_skipped": skipped, "presses_missed": missed}
    if lat:
        a = np.asarray(lat)
        out.update(latency_ms_p50=round(float(np.percentile(a, 50)), 2),
                   latency_ms_p95=round(float(np.percentile(a, 95)), 2),
                   latency_ms_max=round(float(a.max()), 2))
    return out


def _latency_run(args: argparse.Namespace, env: dict, tmp: Path, xdo) -> dict:
    """A player's game: SPACE every 0.4-0.7 s; returns the key-to-motion figures."""
    state_file, log_file = tmp / "lat_state.json", tmp / "lat_frames.json"
    env = {**env, "GRAVITY_FLYER_STATE_FILE": str(state_file),
           "GRAVITY_FLYER_FRAME_LOG": str(log_file)}

    def state() -> dict | None:
        return read_state(state_file)

    game = subprocess.Popen([sys.executable, "main.py", "--level", args.latency_level, "--seed",
                             str(args.seed), "--no-learn", "--flock", "1", "--data-dir",
                             str(tmp / "lat_data")],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    rng = np.random.default_rng(args.seed)
    sent = []
    try:
        wait("the window", lambda: (s := state()) is not None and s.get("frames", 0) > 10, 120)
        wid = wait("the window id", lambda: xdo("search", "--name", "^Gravity Flyer$"), 30)
        xdo("windowfocus", "--sync", wid.split()[0])
        for _ in range(args.presses):
            time.sleep(float(rng.uniform(0.4, 0.7)))
            sent.append(time.perf_counter())
            xdo("key", "space")
        time.sleep(0.5)
        xdo("key", "Escape")
        code = game.wait(timeout=60)
        if code != 0:
            raise SystemExit(f"frame_time: the game exited with {code}: {game.stderr.read()}")
        log = json.loads(log_file.read_text())
    finally:
        if game.poll() is None:
            game.kill()
    out = {"level": args.latency_level, "presses_sent": len(sent),
           "presses_received": len(log.get("jumps", [])), **key_to_motion(log)}
    if len(log.get("jumps", [])) == len(sent):
        arrive = (np.asarray(log["jumps"]) - np.asarray(sent)) * 1e3
        out["xdotool_to_game_ms_p50"] = round(float(np.percentile(arrive, 50)), 2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", choices=("classic", "arcade"), default="arcade")
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--settle", type=float, default=3.0, help="seconds ignored after a switch")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--flock", type=int, default=DEFAULT_FLOCK,
                        help=f"flyers (main.py --flock; default the game's {DEFAULT_FLOCK})")
    parser.add_argument("--autosave-s", type=float, default=None,
                        help="autosave the learner this often (seconds of play) and report "
                             "the frames during saves; skips the after-early-phase run")
    parser.add_argument("--learner-process", choices=("on", "off"), default="on",
                        help="off: the gradient steps run in the window's own process "
                             "(GRAVITY_FLYER_LEARNER_PROCESS=0), as before ai.process.remote")
    parser.add_argument("--latency-level", choices=("classic", "arcade"), default="arcade")
    parser.add_argument("--presses", type=int, default=40, help="SPACE presses for the latency")
    parser.add_argument("--latency-only", action="store_true",
                        help="measure only the key-to-motion latency")
    args = parser.parse_args()
    for tool in ("xdotool",) + (() if os.environ.get("DISPLAY") else ("Xvfb",)):
        if not shutil.which(tool):
            raise SystemExit(f"frame_time: {tool} is needed (apt install xvfb xdotool)")

    xvfb, display = start_xvfb()
    tmp = Path(tempfile.mkdtemp(prefix="gf-frame-"))
    state_file, log_file = tmp / "state.json", tmp / "frames.json"
    env = {**os.environ, "DISPLAY": display, "GRAVITY_FLYER_STATE_FILE": str(state_file),
           "GRAVITY_FLYER_FRAME_LOG": str(log_file)}
    if args.autosave_s is not None:
        env["GRAVITY_FLYER_AUTOSAVE_S"] = str(args.autosave_s)
    if args.learner_process == "off":
        env["GRAVITY_FLYER_LEARNER_PROCESS"] = "0"

    def xdo(*a: str) -> str:
        return subprocess.run(["xdotool", *a], env=env, capture_output=True, text=True,
                              timeout=20).stdout.strip()

    def state() -> dict | None:
        return read_state(state_file)

    if args.latency_only:
        try:
            latency = _latency_run(args, env, tmp, xdo)
        finally:
            stop_xvfb(xvfb)
        return _report_latency(latency)
    game = subprocess.Popen([sys.executable, "main.py", "--level", args.level, "--seed",
                             str(args.seed), "--pilot", "autopilot", "--learn", "--data-dir",
                             str(tmp / "data"), "--flock", str(args.flock)], cwd=ROOT, env=env,
                            stderr=subprocess.PIPE, text=True)
    try:
        wait("the window", lambda: (s := state()) is not None and s["frames"] > 10, 120)
        wid = wait("the window id", lambda: xdo("search", "--name", "^Gravity Flyer$"), 30)
        xdo("windowfocus", "--sync", wid.split()[0])
        xdo("key", "f")  # the FPS and watch-it-learn panels: what a player would look at
        xdo("key", "h")
        phases = {}
        learned = {}
        """Learner env steps per second of each phase (a flock's frame ticks are decisions)."""
        for name, key in (("1x", "1"), ("max", "4")):
            xdo("key", key)
            wait(f"speed {name}", lambda n=name: (s := state()) is not None and s["speed"] == n,
                  10)
            time.sleep(args.settle)  # let the new speed settle before measuring
            t0 = time.perf_counter()  # CLOCK_MONOTONIC: the same clock as the game's log
            e0 = (state() or {}).get("env_steps", 0)
            time.sleep(args.seconds)
            phases[name] = (t0, time.perf_counter())
            e1 = (state() or {}).get("env_steps", 0)
            learned[name] = round((e1 - e0) / (phases[name][1] - t0), 1)
        # The learner's first early_steps run a high replay ratio (many gradient steps per
        # env step); a third phase measures max speed in the steady state that follows.
        sys.path.insert(0, str(ROOT))
        from game.sim.levels import LEVELS
        from game.wiring.learning import learner_config

        early = learner_config(LEVELS[args.level]).early_steps
        if args.autosave_s is None and args.flock == 1:
            wait("the learner's early phase to end",
                  lambda: (s := state()) is not None and s.get("env_steps", 0) >= early + 200,
                  600)
            time.sleep(args.settle)
            t0 = time.perf_counter()
            time.sleep(args.seconds)
            phases["max_after_early_phase"] = (t0, time.perf_counter())
        final = state()
        xdo("key", "Escape")
        code = game.wait(timeout=60)
        if code != 0:
            raise SystemExit(f"frame_time: the game exited with {code}: {game.stderr.read()}")
        log = json.loads(log_file.read_text())
        latency = (_latency_run(args, env, tmp, xdo)
                   if args.autosave_s is None and args.flock == 1 else None)
    finally:
        if game.poll() is None:
            game.kill()
        stop_xvfb(xvfb)

    result = {
        "bench": "frame_time",
        "level": args.level,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}",
        "load_average_1min": round(os.getloadavg()[0], 2),
        "goals": {"frame_interval_ms_p99": 20.0, "work_ms_p99": 12.0,
                  "env_steps_per_s_at_max": 5000},
        "learner_process": args.learner_process,
        "phases": {name: _phase(log, *span) for name, span in phases.items()},
        "learner_at_end": {k: final.get(k) for k in ("env_steps", "episodes", "epsilon")}
        if final else None,
    }
    if latency is not None:
        result["key_to_motion"] = latency
        _print_latency(latency)
    if args.autosave_s is not None:
        result["autosave_s"] = args.autosave_s
        result["autosaves_at_end"] = final.get("persistence") if final else None
    for name, p in result["phases"].items():
        print(f"{name:>21}: fps {p['fps']:5.1f}  frame p50/p99 {p['frame_interval_ms_p50']:5.2f}/"
              f"{p['frame_interval_ms_p99']:5.2f} ms (worst second "
              f"{p['frame_interval_ms_p99_worst_second']:5.2f})  "
              f"work p50/p99 {p['work_ms_p50']:5.2f}/"
              f"{p['work_ms_p99']:5.2f} ms (sim {p['sim_ms_p50']:.2f}/{p['sim_ms_p99']:.2f}, "
              f"draw {p['draw_ms_p50']:.2f}/{p['draw_ms_p99']:.2f})  "
              f"env steps/s {p['env_steps_per_s']:8.1f}")
        a = p.get("autosave")
        if args.autosave_s is not None and a:
            for part in ("snapshot_frames", "frames_during_save", "other_frames"):
                q = a[part]
                if q["frames"]:
                    print(f"{'':>21}  {part:>18}: {q['frames']:5d} frames, interval p99/max "
                          f"{q['frame_interval_ms_p99']:6.2f}/{q['frame_interval_ms_max']:6.2f} "
                          f"ms, work p99/max {q['work_ms_p99']:6.2f}/{q['work_ms_max']:6.2f} ms")
    print(f"load average (1 min) at the end: {result['load_average_1min']}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    if args.flock != 1:
        result["flock"] = args.flock
        result["learner_env_steps_per_s"] = learned
        print(f"learner env steps/s: {learned}")
        result["flock_at_end"] = final.get("flock") if final else None
        result["skill_at_end"] = final.get("skill") if final else None
        out = RESULTS_FLOCK
        try:
            data = json.loads(out.read_text())
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or data.get("bench") != "frame_time_flock":
            data = {"bench": "frame_time_flock", "runs": {}}
        off = "" if args.learner_process == "on" else ", learner process off"
        data["runs"][f"{args.level} flock {args.flock}{off}"] = result
    elif args.autosave_s is None:
        out, data = RESULTS, result
    else:  # one entry per level, so a run of each level fills the file
        out = RESULTS_AUTOSAVE
        try:
            data = json.loads(out.read_text())
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict) or data.get("bench") != "frame_time_autosave":
            data = {"bench": "frame_time_autosave", "levels": {}}
        data["levels"][args.level] = result
    out.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


def _print_latency(lat: dict) -> None:
    if "latency_ms_p50" in lat:
        print(f"key-to-motion ({lat['level']}): p50 {lat['latency_ms_p50']:.1f} ms, p95 "
              f"{lat['latency_ms_p95']:.1f} ms, max {lat['latency_ms_max']:.1f} ms over "
              f"{lat['presses_counted']} presses ({lat['presses_skipped']} not in a falling "
              f"flight, {lat['presses_missed']} not shown within 0.5 s); xdotool to game p50 "
              f"{lat.get('xdotool_to_game_ms_p50', float('nan')):.1f} ms")
    else:
        print(f"key-to-motion: no press counted ({lat})")


def _report_latency(lat: dict) -> int:
    """``--latency-only``: prints the figures and writes them into frame_time.json."""
    _print_latency(lat)
    lat["machine"] = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}"
    lat["load_average_1min"] = round(os.getloadavg()[0], 2)
    try:
        data = json.loads(RESULTS.read_text())
    except (OSError, ValueError):
        data = {"bench": "frame_time"}
    data["key_to_motion"] = lat
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
