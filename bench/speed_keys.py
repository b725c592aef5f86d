"""What each speed key really reaches in the real window, against what the HUD says.

Starts its own Xvfb (unless DISPLAY is set), runs ``python main.py --pilot autopilot`` with
the game's default flock (64, learning on a fresh learner), presses 1-4 with xdotool and,
for each speed, reads the ticks and the game's clock from the state file over the last
``--seconds`` of the phase: the factor reached is ticks per second over the 1x tick rate.
The HUD's claim (``speed_shown``: '16x' when reached, '16x (7x)' when not) is recorded beside
it. The machine and its load are printed and written to ``bench/results/speed_keys.json``.
The HUD's gauge counts flying frames only; with ``--flock 1`` a fresh learner's runs end
often, and their game-over screens lower the figure here but not the HUD's (the flock never
stops flying, so with it the two measure the same thing).

    python bench/speed_keys.py [--seconds 6] [--flock 64] [--level arcade]
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))
from xserver import read_state, start_xvfb, stop_xvfb, wait  # noqa: E402

from game.play.flock import DEFAULT_FLOCK  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "speed_keys.json"
SPEEDS = (("1", "1x", 1), ("2", "4x", 4), ("3", "16x", 16), ("4", "max", None))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--level", choices=("classic", "arcade"), default="arcade")
    parser.add_argument("--flock", type=int, default=DEFAULT_FLOCK)
    parser.add_argument("--seconds", type=float, default=6.0, help="measured per speed")
    parser.add_argument("--settle", type=float, default=2.5, help="ignored after each key")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for tool in ("xdotool",) + (() if os.environ.get("DISPLAY") else ("Xvfb",)):
        if not shutil.which(tool):
            raise SystemExit(f"speed_keys: {tool} is needed (apt install xvfb xdotool)")
    xvfb, display = start_xvfb()
    tmp = Path(tempfile.mkdtemp(prefix="gf-speed-"))
    state_file = tmp / "state.json"
    env = {**os.environ, "DISPLAY": display, "GRAVITY_FLYER_STATE_FILE": str(state_file)}

    def xdo(*a: str) -> str:
        return subprocess.run(["xdotool", *a], env=env, capture_output=True, text=True,
                              timeout=20).stdout.strip()

    load_before = os.getloadavg()[0]
    game = subprocess.Popen([sys.executable, "main.py", "--level", args.level, "--seed",
                             str(args.seed), "--pilot", "autopilot", "--learn", "--flock",
                             str(args.flock), "--data-dir", str(tmp / "data")], cwd=ROOT,
                            env=env, stderr=subprocess.PIPE, text=True)
    rows = {}
    try:
        wait("the window", lambda: (s := read_state(state_file)) is not None
             and s["frames"] > 10, 120)
        wid = wait("the window id", lambda: xdo("search", "--name", "^Gravity Flyer$"), 30)
        xdo("windowfocus", "--sync", wid.split()[0])
        for key, name, m in SPEEDS:
            xdo("key", key)
            wait(f"speed {name}", lambda n=name: (s := read_state(state_file)) is not None
                 and s["speed"] == n, 10)
            time.sleep(args.settle)
            a = read_state(state_file)
            time.sleep(args.seconds)
            b = read_state(state_file)
            factor = (b["ticks"] - a["ticks"]) / (b["clock"] - a["clock"]) / b["tick_rate"]
            rows[name] = {"asked": m, "reached": round(factor, 2), "hud": b["speed_shown"],
                          "fps": round(b["stats"].get("fps", 0.0), 1),
                          "env_steps_per_s": round(b["stats"].get("steps_per_s", 0.0)),
                          "updates_per_s": round(b["stats"].get("updates_per_s", 0.0))}
            r = rows[name]
            print(f"{name:>4}: reached {factor:6.2f}x  HUD says {b['speed_shown']!r:12}  "
                  f"fps {r['fps']:5.1f}  env steps/s {r['env_steps_per_s']:>5}  "
                  f"updates/s {r['updates_per_s']:>4}",
                  flush=True)
        xdo("key", "Escape")
        game.wait(timeout=60)
    finally:
        if game.poll() is None:
            game.kill()
        stop_xvfb(xvfb)
    load = os.getloadavg()[0]
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}"
    shared = max(load_before, load) >= 1.5  # something else ran on the 2 cores
    print(f"machine: {machine}; 1-min load average {load_before:.1f} before, {load:.1f} after"
          + (" (shared with other work: a lower bound)" if shared else ""))
    result = {"bench": "speed_keys", "level": args.level, "flock": args.flock,
              "machine": machine, "load_average_1min": [round(load_before, 2), round(load, 2)],
              "shared": shared, "speeds": rows}
    data = json.loads(RESULTS.read_text()) if RESULTS.exists() else {"runs": []}
    data["runs"] = [*data.get("runs", []), result][-10:]
    RESULTS.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
