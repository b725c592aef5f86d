"""The lesson lab's figures: the default line-up on both levels over several seeds.

For each level and seed a fresh lab (``game.commands.lab.make_lab``: the four teams of
``game.wiring.lab_teams.DEFAULT_LINEUP``, 16 flyers each) flies

* at **1x** on a simulated clock, tick by tick as the window does, and each team's greedy
  pilot is scored on the skill meter's held-out set (score/oracle; classic: success rate)
  at ``--marks`` seconds of play (default 30, 60, 120; on classic also at 2 s, about the 300
  steps of ``bench/learning_speed.py``);
* at **max**: a second fresh lab at top speed (every team one decision after another, nothing
  drawn) for ``--max-seconds`` of compute, then one reading.

It prints a table (mean and range over the seeds per team) and merges everything into
``bench/results/lab.json``. Say in the results whether the machine was shared: the 1x figures
do not depend on the machine's speed (a simulated clock), the max figures do.

    python bench/lab.py                                # both levels, 5 seeds
    python bench/lab.py --levels classic --seeds 2 --marks 10,30 --max-seconds 10
    python bench/lab.py --frames 30     # only: CPU time per 60 Hz frame at 1x

``--frames S`` flies S seconds of 1x play as the window does (the lab staggered, each 60 Hz
frame's ticks, then owed gradient steps until ``PAY_S`` of the frame's time) and reports the
CPU time of each frame (``time.process_time``: on a loaded machine this is close to what the
frame would take alone; wall time is not). Drawing is not included (``bench/lab_window.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # tiny matrices: threads only thrash
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from game.commands.lab import LabConfig, make_lab  # noqa: E402
from game.sim.levels import LEVELS  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "lab.json"
CLASSIC_EARLY_S = 2.0
"""Seconds of play on classic near 300 env steps per team (16 flyers at 10 decisions/s)."""


def run_1x(level, seed: int, marks: list[float]) -> dict:
    """One seed at 1x: each team's skill at each mark, and the compute it took."""
    lab = make_lab(LabConfig(level, seed=seed))
    out: dict = {"seed": seed, "teams": {t.spec.key: [] for t in lab.teams}}
    t0 = time.perf_counter()
    for mark in marks:
        lab.run_seconds(mark - lab.seconds, read=False)
        lab.read_all()
        for t in lab.teams:
            r = t.readings[-1]
            out["teams"][t.spec.key].append({"seconds": mark, "skill": round(r.skill, 4),
                                             "env_steps": r.env_steps,
                                             "updates": int(t.learner.updates)})
        print(f"  {level.name} seed {seed} 1x {mark:>5g} s: " + "  ".join(
            f"{t.spec.key} {t.latest:.2f}" for t in lab.teams), flush=True)
    out["compute_s"] = round(time.perf_counter() - t0, 1)
    return out


def run_max(level, seed: int, seconds: float) -> dict:
    """One seed at max for ``seconds`` of compute: each team's skill, and how far it flew."""
    lab = make_lab(LabConfig(level, seed=seed))
    lab.set_top_speed(True)
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        lab.decide()
    spent = time.perf_counter() - t0
    lab.read_all()
    teams = {t.spec.key: {"skill": round(t.latest, 4), "env_steps": int(t.learner.env_steps),
                          "updates": int(t.learner.updates)} for t in lab.teams}
    print(f"  {level.name} seed {seed} max {spent:.0f} s ({lab.seconds:.0f} s of play): "
          + "  ".join(f"{k} {v['skill']:.2f}" for k, v in teams.items()), flush=True)
    return {"seed": seed, "compute_s": round(spent, 1), "play_seconds": round(lab.seconds, 1),
            "teams": teams}


PAY_S = 0.006
"""The 1x frame's simulation budget the window gives (``game.ui.pacing.SIM_BUDGET_S``'s top)."""


def cpu_frames(level, seconds: float, stagger: bool) -> dict:
    """CPU time of each 60 Hz frame of 1x play, paced as the window paces the lab."""
    from game.play.lab import Lab
    from game.wiring.lab_teams import DEFAULT_LINEUP, lineup

    lab = Lab(level, lineup(DEFAULT_LINEUP, level, 0), seed=0, stagger=stagger)
    lab.start_worker(thread=False)  # all on one thread (arcade's window pays on a worker)
    per_frame = level.ticks_per_second / 60.0
    acc, cpu = 0.0, []
    for _ in range(int(seconds * 60)):
        c0 = time.process_time()
        acc += per_frame
        n = int(acc)
        acc -= n
        for _ in range(n):
            lab.tick()
        end = c0 + PAY_S
        while lab.worker.owed >= 1 and time.process_time() < end:
            lab.worker.pay(0.0005, chunk=2)
        cpu.append(time.process_time() - c0)
    ms = np.asarray(cpu[60:]) * 1000  # the first second warms up numpy and torch
    out = {"stagger": stagger, "seconds": seconds, "mean_ms": round(float(ms.mean()), 2),
           "p50_ms": round(float(np.percentile(ms, 50)), 2),
           "p99_ms": round(float(np.percentile(ms, 99)), 2), "max_ms": round(float(ms.max()), 2)}
    print(f"  {level.name} 1x, {'staggered' if stagger else 'lock step'}: CPU per frame mean "
          f"{out['mean_ms']} ms, p50 {out['p50_ms']}, p99 {out['p99_ms']}, max {out['max_ms']}",
          flush=True)
    return out


def table(level_name: str, runs: list[dict], maxes: list[dict], marks: list[float]) -> list[str]:
    """Mean (min-max) over seeds per team and mark."""
    keys = list(runs[0]["teams"])
    head = [f"{m:g} s" for m in marks] + (["max"] if maxes else [])
    lines = [f"{level_name} ({len(runs)} seeds): " + " | ".join(head)]
    for key in keys:
        cells = []
        for k in range(len(marks)):
            vals = np.array([r["teams"][key][k]["skill"] for r in runs])
            cells.append(f"{vals.mean():.2f} ({vals.min():.2f}-{vals.max():.2f})")
        if maxes:
            vals = np.array([m["teams"][key]["skill"] for m in maxes])
            cells.append(f"{vals.mean():.2f} ({vals.min():.2f}-{vals.max():.2f})")
        lines.append(f"  {key:<9} " + " | ".join(cells))
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="classic,arcade")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--marks", default="30,60,120", help="seconds of 1x play to read at")
    ap.add_argument("--max-seconds", type=float, default=30.0,
                    help="seconds of compute at max per seed (0: skip)")
    ap.add_argument("--note", default="", help="the machine's state, e.g. 'shared, load 5'")
    ap.add_argument("--frames", type=float, default=0.0,
                    help="only measure CPU time per frame over this many seconds of 1x play")
    args = ap.parse_args()
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    if args.frames > 0:
        load0 = os.getloadavg()[0]
        frames = {name: [cpu_frames(LEVELS[name], args.frames, st) for st in (False, True)]
                  for name in args.levels.split(",")}
        results["cpu_frames"] = {"levels": frames, "machine": (
            f"{os.cpu_count()} cores, load {load0:.1f} -> {os.getloadavg()[0]:.1f}"
            f"{'; ' + args.note if args.note else ''}")}
        RESULTS.write_text(json.dumps(results, indent=1) + "\n")
        print(f"machine: {results['cpu_frames']['machine']}. Wrote {RESULTS}")
        return
    load0 = os.getloadavg()[0]
    lines = []
    for name in args.levels.split(","):
        level = LEVELS[name]
        marks = sorted({float(m) for m in args.marks.split(",")}
                       | ({CLASSIC_EARLY_S} if name == "classic" else set()))
        print(f"{name}: marks {marks}, max {args.max_seconds:g} s", flush=True)
        runs = [run_1x(level, seed, marks) for seed in range(args.seeds)]
        maxes = ([run_max(level, seed, args.max_seconds) for seed in range(args.seeds)]
                 if args.max_seconds > 0 else [])
        lines += table(name, runs, maxes, marks)
        early = {}
        if name == "classic":
            for key in runs[0]["teams"]:
                early[key] = sum(r["teams"][key][0]["skill"] >= 0.99 for r in runs)
            lines.append(f"  seeds at >= 0.99 after {CLASSIC_EARLY_S:g} s: "
                         + ", ".join(f"{k} {v}/{len(runs)}" for k, v in early.items()))
        results[name] = {"marks": marks, "max_seconds": args.max_seconds, "runs": runs,
                         "max": maxes, "seeds_at_0.99_early": early, "table": lines[-6:]}
    load1 = os.getloadavg()[0]
    machine = (f"{platform.machine()} {os.cpu_count()} cores, load {load0:.1f} -> {load1:.1f} "
               f"(1-min average){'; ' + args.note if args.note else ''}")
    results["machine"] = machine
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    print("\n".join(lines))
    print(f"machine: {machine}. The 1x columns are on a simulated clock (the same on any "
          f"machine); max is seconds of compute on this machine. Wrote {RESULTS}")


if __name__ == "__main__":
    main()
