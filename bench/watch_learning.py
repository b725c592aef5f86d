"""Watch it learn, headless: a fresh flock on a simulated clock, scored by the skill meter.

For each seed a fresh learner (the level's preset) and a default flock (``game.flock``) fly:

* **1x**: the window's clock simulated, ``ticks_per_second / decision_ticks`` flock decisions
  per simulated second (arcade: 15). score/oracle of the greedy pilot on the skill meter's
  held-out set at 30, 60, 120 and 180 s of play; the real compute of each simulated second
  (flying + learning, not the skill readings) must fit in one second for the window to
  keep up (it also draws).
* **max**: as many flock decisions as the measured compute allows (``REPLAY_RATIO_MAX``);
  score/oracle at 15, 30 and 60 s of wall time spent flying and learning, and the learning
  throughput (env steps per second, learning on).
* ``--part efficiency``: env steps to reach 0.9 of the oracle for one flyer (the game's single
  flyer: the preset's own replay schedule) and for the flock (``--efficiency-seeds``).
* ``--part compare``: both restart schemes at 1x.
* ``--part pretrained``: the shipped pilot with learning on (``Learner.load_pilot``): a flock
  at max (``FROM_PILOT_LADDER``) and the window's single flyer (``game.rollout.Rollout``, the
  preset's schedule), score/oracle of the greedy (flying) weights as they learn.

Each part merges its figures into ``bench/results/watch_learning.json``.

    python bench/watch_learning.py                        # 5 seeds, 1x and max
    python bench/watch_learning.py --part compare --seeds 2 --x1 30,60,120
    python bench/watch_learning.py --part efficiency --efficiency-seeds 2
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

from game.flock import (  # noqa: E402
    DEFAULT_FLOCK,
    FROM_PILOT_LADDER,
    REPLAY_RATIO_1X,
    REPLAY_RATIO_MAX,
    RESTARTS,
    Flock,
    SkillMeter,
)
from game.learning import load_pilot, new_learner, pretrained_path  # noqa: E402
from game.levels import LEVELS  # noqa: E402
from game.rollout import Rollout  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "watch_learning.json"
GOALS = {"x1_60s": 0.5, "x1_180s": 0.9, "max_60s": 0.95, "max_env_steps_per_s": 20_000}
"""Issue 12's goals (arcade, physics v2, a quiet 2-core machine)."""


def _marks(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


def run_1x(level, seed: int, n: int, marks: list[float], restart: str, meter: SkillMeter
           ) -> dict:
    """A fresh flock on the simulated 1x clock; the skill at each mark, compute per second."""
    learner = new_learner(level, seed)
    flock = Flock(level, learner, n=n, seed=seed, restart=restart)
    per_second = round(level.ticks_per_second / level.decision_ticks)
    compute: list[float] = []
    curve = []
    for second in range(1, int(max(marks)) + 1):
        t0 = time.perf_counter()
        for _ in range(per_second):
            flock.step()
        compute.append(time.perf_counter() - t0)
        if second in marks:
            figure = meter.measure(learner.greedy_batch)
            curve.append({"seconds": second, "score_over_oracle": round(figure, 4),
                          "env_steps": learner.env_steps, "updates": learner.updates,
                          "generation": flock.generation})
            print(f"  seed {seed} 1x {second:>4} s: {level.figure_name} {figure:.3f} "
                  f"({learner.env_steps:,} env steps, {learner.updates:,} updates, "
                  f"generation {flock.generation}; compute {sum(compute) / len(compute):.2f} "
                  f"s per s)", flush=True)
    ordered = sorted(compute)
    return {"seed": seed, "restart": restart, "curve": curve,
            "compute_per_sim_s_mean": round(sum(compute) / len(compute), 3),
            "compute_per_sim_s_p95": round(ordered[int(0.95 * (len(ordered) - 1))], 3),
            "compute_per_sim_s_max": round(ordered[-1], 3),
            "history_tail": [list(h) for h in list(flock.history)[-5:]]}


def run_max(level, seed: int, n: int, marks: list[float], meter: SkillMeter) -> dict:
    """A fresh flock flown as fast as compute allows; skill at each mark of flying time."""
    learner = new_learner(level, seed)
    flock = Flock(level, learner, n=n, seed=seed, replay_ratio=REPLAY_RATIO_MAX)
    spent = 0.0
    curve = []
    pending = sorted(marks)
    while pending:
        t0 = time.perf_counter()
        for _ in range(20):
            flock.step()
        spent += time.perf_counter() - t0
        if spent >= pending[0]:
            mark = pending.pop(0)
            figure = meter.measure(learner.greedy_batch)
            curve.append({"seconds": mark, "flown_seconds": round(spent, 2),
                          "score_over_oracle": round(figure, 4), "env_steps": learner.env_steps,
                          "updates": learner.updates,
                          "env_steps_per_s": round(learner.env_steps / spent)})
            print(f"  seed {seed} max {mark:>4.0f} s: {level.figure_name} {figure:.3f} "
                  f"({learner.env_steps:,} env steps, {learner.env_steps / spent:,.0f}/s, "
                  f"{learner.updates:,} updates)", flush=True)
    return {"seed": seed, "curve": curve}


def steps_to(level, seed: int, n: int, goal: float, every: int, budget: int,
             meter: SkillMeter, replay_ratio: float | None) -> dict:
    """Env steps until the skill first reaches ``goal`` (checked every ``every`` steps)."""
    learner = new_learner(level, seed)
    flock = Flock(level, learner, n=n, seed=seed, replay_ratio=replay_ratio)
    nxt = every
    t0 = time.perf_counter()
    figure = 0.0
    while learner.env_steps < budget:
        flock.step()
        if learner.env_steps >= nxt:
            nxt += every
            figure = meter.measure(learner.greedy_batch)
            if figure >= goal:
                break
    reached = learner.env_steps if figure >= goal else None
    print(f"  seed {seed} flock {n}: {reached} env steps to {goal} (last {figure:.3f}, "
          f"{time.perf_counter() - t0:.0f} s)", flush=True)
    return {"seed": seed, "flock": n, "env_steps_to_goal": reached, "last": round(figure, 4),
            "updates": learner.updates}


def run_pretrained(level, n: int, marks: list[float], single_steps: int,
                   meter: SkillMeter) -> dict:
    """The shipped pilot learning on: a flock at max, then one flyer on the preset."""
    pilot, _ = load_pilot(pretrained_path(level.name), level)
    start = meter.measure(pilot.act_batch)
    learner = new_learner(level, 0)
    learner.load_pilot(pilot)
    flock = Flock(level, learner, n=n, seed=0, replay_ratio=REPLAY_RATIO_MAX,
                  explore_ladder=FROM_PILOT_LADDER)
    spent, curve, pending = 0.0, [], sorted(marks)
    while pending:
        t0 = time.perf_counter()
        for _ in range(20):
            flock.step()
        spent += time.perf_counter() - t0
        if spent >= pending[0]:
            mark = pending.pop(0)
            figure = meter.measure(learner.greedy_batch)
            curve.append({"seconds": mark, "score_over_oracle": round(figure, 4),
                          "env_steps": learner.env_steps, "updates": learner.updates})
            print(f"  pretrained flock max {mark:>4.0f} s: {figure:.3f} "
                  f"({learner.env_steps:,} env steps, {learner.updates:,} updates)", flush=True)
    one = new_learner(level, 0)
    one.load_pilot(pilot)
    rollout = Rollout(level, level.world(0), one)
    single = []
    every = max(1, single_steps // 5)
    while one.env_steps < single_steps:
        rollout.run(every)
        figure = meter.measure(one.greedy_batch)
        single.append({"env_steps": one.env_steps, "updates": one.updates,
                       "score_over_oracle": round(figure, 4)})
        print(f"  pretrained one flyer {one.env_steps:>7,} steps: {figure:.3f}", flush=True)
    return {"pilot_score_over_oracle": round(start, 4), "flock_max": curve,
            "one_flyer": single, "min_flock": min(c["score_over_oracle"] for c in curve),
            "min_one_flyer": min(c["score_over_oracle"] for c in single)}


def main() -> None:
    """Runs the chosen part and merges its figures into the results file."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--level", default="arcade", choices=sorted(LEVELS))
    ap.add_argument("--part", default="main",
                    choices=("main", "compare", "efficiency", "pretrained"))
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--flock", type=int, default=DEFAULT_FLOCK)
    ap.add_argument("--x1", default="30,60,120,180", help="marks of simulated 1x play, s")
    ap.add_argument("--max", default="15,30,60", help="marks of flying time at max, s")
    ap.add_argument("--efficiency-seeds", type=int, default=2)
    ap.add_argument("--budget", type=int, default=150_000, help="efficiency: env steps at most")
    ap.add_argument("--load", default="", help="what else ran on the machine (for the record)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    level = LEVELS[args.level]
    meter = SkillMeter(level)
    t0 = time.perf_counter()
    best = meter.evaluation.best
    print(f"skill meter: {meter.episodes} held-out runs (seed {meter.seed})"
          + (f", oracle mean {best.mean():.2f} gates" if best is not None else "")
          + f" ({time.perf_counter() - t0:.1f} s)")
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(),
               "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
               "load_note": args.load or "shared machine: other helpers' jobs were running"}
    common = {"level": level.name, "flock": args.flock, "machine": machine,
              "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    if args.part == "main":
        x1 = [run_1x(level, s, args.flock, _marks(args.x1), RESTARTS[0], meter)
              for s in range(args.seeds)]
        mx = [run_max(level, s, args.flock, _marks(args.max), meter) for s in range(args.seeds)]
        summary = _summary(x1, mx)
        results["main"] = {**common, "restart": RESTARTS[0], "replay_ratio_1x": REPLAY_RATIO_1X,
                           "replay_ratio_max": REPLAY_RATIO_MAX, "goals": GOALS,
                           "summary": summary, "x1": x1, "max": mx}
        print(json.dumps(summary, indent=1))
    elif args.part == "compare":
        runs = {r: [run_1x(level, s, args.flock, _marks(args.x1), r, meter)
                    for s in range(args.seeds)] for r in RESTARTS}
        results["compare"] = {**common, "runs": runs, "mean": {
            r: _mean_curve(v) for r, v in runs.items()}}
        print(json.dumps(results["compare"]["mean"], indent=1))
    elif args.part == "pretrained":
        results["pretrained"] = {**common, "lr": "load_pilot: lr x 0.01, no early phase",
                                 **run_pretrained(level, args.flock, _marks(args.max),
                                                  args.budget // 5, meter)}
    else:
        one = [steps_to(level, s, 1, 0.9, 10_000, args.budget, meter, None)
               for s in range(args.efficiency_seeds)]
        many = [steps_to(level, s, args.flock, 0.9, 10_000, args.budget, meter,
                         REPLAY_RATIO_1X) for s in range(args.efficiency_seeds)]
        results["efficiency"] = {**common, "goal": 0.9, "checked_every_env_steps": 10_000,
                                 "budget_env_steps": args.budget, "one_flyer": one,
                                 "flock": many}
    results.setdefault("command", {})[args.part] = " ".join(["python", *sys.argv])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")


def _mean_curve(runs: list[dict]) -> dict[str, float]:
    marks: dict[str, list[float]] = {}
    for r in runs:
        for c in r["curve"]:
            marks.setdefault(f"{c['seconds']:g}s", []).append(c["score_over_oracle"])
    return {k: round(sum(v) / len(v), 4) for k, v in marks.items()}


def _summary(x1: list[dict], mx: list[dict]) -> dict:
    worst = max(r["compute_per_sim_s_max"] for r in x1)
    rates = [c["env_steps_per_s"] for r in mx for c in r["curve"]]
    return {"x1_mean": _mean_curve(x1), "x1_min": {
                k: min(c["score_over_oracle"] for r in x1 for c in r["curve"]
                       if f"{c['seconds']:g}s" == k) for k in _mean_curve(x1)},
            "max_mean": _mean_curve(mx),
            "compute_per_sim_s_mean": round(sum(r["compute_per_sim_s_mean"] for r in x1)
                                            / len(x1), 3),
            "compute_per_sim_s_worst": worst, "x1_fits_real_time": worst < 1.0,
            "max_env_steps_per_s_mean": round(sum(rates) / len(rates))}


if __name__ == "__main__":
    main()
