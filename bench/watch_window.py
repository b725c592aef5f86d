"""Watch it learn in the real window: a fresh learner's flock, as a new user would see it.

Starts its own Xvfb (unless DISPLAY is set) and ``python main.py --level arcade --pilot
autopilot`` with a fresh data folder and the default flock, shows the watch-it-learn panel
(H), and for ``--speed max`` presses 4. It reads the game's state file twice a second: the
skill meter's readings (score/oracle of the flying pilot on the held-out courses, taken in
the game's own skill process every 3 s, which crown the best pilot on validation courses:
``game.play.skill``), env steps, generations, FPS. Screenshots are taken at the ``--shots``
marks. At the end it presses Esc (the game saves its learner) and scores the saved learner
exactly with ``python main.py evaluate learner`` on the skill meter's held-out set (100 runs
of the evaluation seed): it flies the champion, so it should read what the chart read last.

    python bench/watch_window.py --speed 1x --seconds 180 --shots 0,30,60
    python bench/watch_window.py --speed max --seconds 60

Figures go into ``bench/results/watch_window.json``, one entry per speed and seed.
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
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xserver import read_state, start_xvfb, stop_xvfb, wait  # noqa: E402

from game.play.skill import SKILL_EPISODES  # noqa: E402
from game.sim.evaluation import EVAL_SEED  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "watch_window.json"
MARKS = (15, 30, 60, 120, 180)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--speed", choices=("1x", "max"), default="1x")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--shots", default="", help="seconds at which to take screenshots")
    ap.add_argument("--shots-dir", type=Path, default=Path(tempfile.gettempdir()) / "gf-shots")
    ap.add_argument("--load", default="", help="what else ran on the machine (for the record)")
    args = ap.parse_args()
    for tool in ("xdotool", "import") + (() if os.environ.get("DISPLAY") else ("Xvfb",)):
        if not shutil.which(tool):
            raise SystemExit(f"watch_window: {tool} is needed "
                             "(apt install xvfb xdotool imagemagick)")
    xvfb, display = start_xvfb()
    tmp = Path(tempfile.mkdtemp(prefix="gf-watch-"))
    state_file, data = tmp / "state.json", tmp / "data"
    env = {**os.environ, "DISPLAY": display, "GRAVITY_FLYER_STATE_FILE": str(state_file)}
    shots = sorted(float(s) for s in args.shots.split(",") if s.strip())
    args.shots_dir.mkdir(parents=True, exist_ok=True)

    def xdo(*a: str) -> str:
        return subprocess.run(["xdotool", *a], env=env, capture_output=True, text=True,
                              timeout=20).stdout.strip()

    def state() -> dict | None:
        return read_state(state_file)

    load0 = os.getloadavg()
    game = subprocess.Popen([sys.executable, "main.py", "--level", "arcade", "--pilot",
                             "autopilot", "--seed", str(args.seed), "--data-dir", str(data)],
                            cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    timeline: list[dict] = []
    shot_files: list[str] = []
    try:
        wait("the window", lambda: (s := state()) is not None and s.get("frames", 0) > 5, 120)
        wid = wait("the window id", lambda: xdo("search", "--name", "^Gravity Flyer$"), 30)
        xdo("windowfocus", "--sync", wid.split()[0])
        xdo("key", "h")  # the watch-it-learn panel: the skill, the learning curve
        if args.speed == "max":
            xdo("key", "4")
        t0 = time.monotonic()
        while (now := time.monotonic() - t0) < args.seconds:
            if shots and now >= shots[0]:
                mark = shots.pop(0)
                path = args.shots_dir / f"window-{args.speed}-{mark:03.0f}s.png"
                subprocess.run(["import", "-window", "root", "-crop", "1080x620+0+0",
                                str(path)], env=env, check=True, timeout=30)
                shot_files.append(str(path))
            s = state()
            if s is not None and s.get("view") == "game":
                g = s
                timeline.append({"t": round(now, 2), "env_steps": g.get("env_steps"),
                                 "flown": g.get("env_steps_flown"), "skill": g.get("skill"),
                                 "skill_steps": g.get("skill_steps"),
                                 "generation": (g.get("flock") or {}).get("generation"),
                                 "fps": (s.get("stats") or {}).get("fps"),
                                 "int_p99": (s.get("stats") or {}).get("int_p99"),
                                 "updates_per_s": (s.get("stats") or {}).get("updates_per_s"),
                                 "learner_steps_in_flight": g.get("learner_steps_in_flight")})
            time.sleep(0.5)
        xdo("key", "Escape")
        code = game.wait(timeout=120)
        err = game.stderr.read()
        if code != 0:
            raise SystemExit(f"watch_window: the game exited with {code}: {err}")
    finally:
        if game.poll() is None:
            game.kill()
        stop_xvfb(xvfb)
    ev = subprocess.run([sys.executable, "main.py", "evaluate", "learner", "--level", "arcade",
                         "--data-dir", str(data), "--episodes", str(SKILL_EPISODES), "--seed",
                         str(EVAL_SEED), "--json"], cwd=ROOT, capture_output=True, text=True,
                        timeout=600)
    if ev.returncode != 0:
        raise SystemExit(f"watch_window: evaluate learner failed: {ev.stderr.strip()}")
    final = json.loads(ev.stdout)
    # Each skill reading is of the weights at some env step, finished a few seconds later in
    # the game's skill process: a mark's figure is the latest reading of weights taken by then.
    readings: dict[int, float] = {}
    for r in timeline:
        if r["skill_steps"] is not None:
            readings[r["skill_steps"]] = r["skill"]

    def weights_at(steps: int) -> float:
        return next((r["t"] for r in timeline if (r["env_steps"] or 0) >= steps), 0.0)

    marks = {}
    for m in MARKS:
        taken = [(weights_at(k), k, v) for k, v in readings.items() if weights_at(k) <= m]
        if m <= args.seconds and taken:
            at, steps, figure = max(taken)
            marks[f"{m}s"] = {"skill": round(figure, 4), "weights_at_s": at,
                              "weights_at_env_steps": steps}
    fps = [r["fps"] for r in timeline if r["fps"]]
    p99 = [r["int_p99"] for r in timeline if r["int_p99"]]
    span = [r for r in timeline if r["flown"] is not None]
    rate = ((span[-1]["flown"] - span[0]["flown"]) / (span[-1]["t"] - span[0]["t"])
            if len(span) > 1 else None)
    result = {"speed": args.speed, "seconds": args.seconds, "seed": args.seed,
              "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, "
                         f"{platform.python_version()}",
              "load_average_1min_start_end": [round(load0[0], 2), round(os.getloadavg()[0], 2)],
              "load_note": args.load, "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
              "skill_readings_at": marks,
              "final_evaluation": {"mean_score_over_oracle": final.get("mean_score_over_oracle"),
                                   "episodes": final.get("episodes"),
                                   "env_steps_at_exit": timeline[-1]["env_steps"]
                                   if timeline else None},
              "flyer_decisions_per_s": None if rate is None else round(rate),
              "fps_mean": round(sum(fps) / len(fps), 1) if fps else None,
              "frame_interval_p99_ms_worst_window": round(max(p99), 2) if p99 else None,
              "screenshots": shot_files, "timeline": timeline}
    print(json.dumps({k: v for k, v in result.items() if k != "timeline"}, indent=1))
    data_all = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    data_all[f"{args.speed} seed {args.seed}"] = result
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data_all, indent=1) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
