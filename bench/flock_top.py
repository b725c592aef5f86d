"""How large a flock the window stays usable with: frames per second and Esc-to-exit time.

Runs the real game under its own Xvfb (``bench/xserver.py``) with ``--flock N`` for each N
given, the autopilot learning at 1x on arcade, reads the frame rate from the game's state
file over ``--seconds`` after a settle, then presses Esc and times how long the game takes
to end (its final save included). ``game/commands/checks.py`` bounds ``--flock`` with what
this shows. Prints the figures and writes ``bench/results/flock_top.json``; say whether
the machine was shared when quoting them.

    python bench/flock_top.py --flocks 64,256,1024 --seconds 10
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

from xserver import read_state, start_xvfb, stop_xvfb, wait

ROOT = Path(__file__).resolve().parent.parent


def one(display: str, n: int, seconds: float, settle: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state.json"
        env = {**os.environ, "DISPLAY": display, "GRAVITY_FLYER_STATE_FILE": str(state)}
        proc = subprocess.Popen([sys.executable, "main.py", "--level", "arcade", "--pilot",
                                 "autopilot", "--seed", "0", "--flock", str(n), "--data-dir",
                                 str(Path(tmp) / "data")], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait("the window", lambda: (s := read_state(state)) and s["frames"] > 2, 300)
            time.sleep(settle)  # a settle, not a synchronisation: frames are counted after it
            f0, t0 = read_state(state)["frames"], time.monotonic()
            time.sleep(seconds)
            s = read_state(state)
            fps = (s["frames"] - f0) / (time.monotonic() - t0)
            subprocess.run(["xdotool", "search", "--name", "^Gravity Flyer$", "windowfocus",
                            "--sync", "key", "Escape"], env=env, check=False,
                           capture_output=True)
            t_esc = time.monotonic()
            proc.wait(timeout=600)
            esc_s = time.monotonic() - t_esc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    p99 = s["stats"].get("int_p99", float("nan"))
    return {"flock": n, "fps": round(fps, 1), "frame_p99_ms": round(p99, 1),
            "env_steps": s.get("env_steps"), "esc_to_exit_s": round(esc_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flocks", default="64,256,1024")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--settle", type=float, default=3.0)
    args = parser.parse_args()
    load = os.getloadavg()[0]
    server, display = start_xvfb()
    try:
        rows = [one(display, int(n), args.seconds, args.settle) for n in args.flocks.split(",")]
    finally:
        stop_xvfb(server)
    for r in rows:
        print(f"--flock {r['flock']:>5}: {r['fps']:5.1f} FPS (frame p99 {r['frame_p99_ms']} ms), "
              f"Esc to exit {r['esc_to_exit_s']:.2f} s")
    machine = (f"2-core AMD EPYC, load {load:.1f} at the start"
               f"{' (shared with other work)' if load > 1.5 else ''}")
    print(machine)
    out = ROOT / "bench" / "results" / "flock_top.json"
    out.write_text(json.dumps({"machine": machine, "seconds": args.seconds, "rows": rows},
                              indent=1) + "\n")


if __name__ == "__main__":
    main()
