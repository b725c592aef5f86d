"""Learning speed and stability on classic: our learner and the seed's algorithm, side by side.

Both learners fly the same flights (same world seed per run) on the same seeds.
Greedy success is measured over 1,000 fresh flights (vectorised) after 300,
1,024 and 4,096 env steps, then at ten checkpoints over 50,000 further steps of
continued online learning. The learner runs with its in-game defaults.

    python bench/learning_speed.py            # the full run: 30 seeds (about 10-20 min)
    python bench/learning_speed.py --seeds 3 --further 5000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from seed_port import SeedPort  # noqa: E402

from ai.config import config_to_dict  # noqa: E402
from game.sim.evaluation import Evaluation  # noqa: E402
from game.sim.levels import CLASSIC  # noqa: E402
from game.sim.rollout import Rollout  # noqa: E402
from game.wiring.learning import learner_config, new_learner  # noqa: E402

EARLY_STEPS = (300, 1024, 4096)
GOAL = 0.99
RESULTS = Path(__file__).resolve().parent / "results" / "learning_speed.json"


def checkpoints(further: int, n: int = 10) -> list[int]:
    """The early checkpoints, then ``n`` evenly spaced over ``further`` more steps."""
    last = EARLY_STEPS[-1]
    return [*EARLY_STEPS, *(last + further * (k + 1) // n for k in range(n))]


def fly(agent, seed: int, marks: list[int], episodes: int) -> dict:
    """Online learning on one classic world; greedy success measured at each mark."""
    rollout = Rollout(CLASSIC, CLASSIC.world(10_000 + seed), agent)
    success: dict[int, float] = {}
    wall0, cpu0 = time.perf_counter(), time.process_time()
    t300 = None
    for k, mark in enumerate(marks):
        while rollout.steps < mark:
            rollout.step()
            if rollout.steps == 300:
                t300 = (time.perf_counter() - wall0, time.process_time() - cpu0)
        # Fresh flights for every measurement, never the ones learned on.
        evaluation = Evaluation.prepare(CLASSIC, episodes, seed=1_000_000 + 1_000 * seed + k)
        success[mark] = evaluation.run(agent.greedy_batch)["success_rate"]
    return {"success": success, "t300_wall_s": t300[0], "t300_cpu_s": t300[1],
            "total_wall_s": time.perf_counter() - wall0}


MAKERS = {"ours": lambda s: new_learner(CLASSIC, seed=s),
          "seed": lambda s: SeedPort(seed=s)}


def fly_seed(job: tuple) -> dict[str, dict]:
    """Both learners (or the chosen ones) on one seed, one after the other."""
    seed, names, marks, episodes = job
    return {name: fly(MAKERS[name](seed), seed, marks, episodes) for name in names}


def _record(seed: int, per_learner: dict[str, dict], runs: dict, marks: list[int]) -> None:
    line = [f"seed {seed:2d}"]
    for name, r in per_learner.items():
        runs[name].append(r)
        s = r["success"]
        line.append(f"{name}: " + " ".join(f"{s[m]:.3f}" for m in marks)
                    + f" (300 steps {r['t300_wall_s']:.2f} s)")
    print(" | ".join(line), flush=True)


def summarise(runs: list[dict], marks: list[int]) -> dict:
    """Per checkpoint: seeds at the goal, min and mean success."""
    out = {}
    for m in marks:
        v = np.array([r["success"][m] for r in runs])
        out[str(m)] = {"seeds_at_goal": int((v >= GOAL).sum()), "seeds": len(v),
                       "min": float(v.min()), "mean": float(v.mean())}
    first = [next((m for m in marks if r["success"][m] >= GOAL), None) for r in runs]
    stays = [all(r["success"][m] >= GOAL for m in marks if m >= 300) for r in runs]
    t300 = np.array([r["t300_wall_s"] for r in runs])
    c300 = np.array([r["t300_cpu_s"] for r in runs])
    return {"checkpoints": out,
            "first_checkpoint_at_goal": first,
            "seeds_at_goal_at_every_checkpoint": int(sum(stays)),
            "t300_wall_s": {"median": float(np.median(t300)), "max": float(t300.max())},
            "t300_cpu_s": {"median": float(np.median(c300)), "max": float(c300.max())},
            "total_wall_s": float(sum(r["total_wall_s"] for r in runs))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--further", type=int, default=50_000)
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--only", choices=("ours", "seed"), default=None)
    parser.add_argument("--workers", type=int, default=1,
                        help="processes, each flying whole seeds (both learners side by side)")
    args = parser.parse_args()
    marks = checkpoints(args.further)
    makers = {args.only: MAKERS[args.only]} if args.only else MAKERS
    runs: dict[str, list[dict]] = {name: [] for name in makers}
    jobs = [(seed, tuple(makers), marks, args.episodes) for seed in range(args.seeds)]
    if args.workers > 1:
        with multiprocessing.get_context("spawn").Pool(args.workers) as pool:
            results = pool.imap(fly_seed, jobs)
            for seed, per_learner in zip(range(args.seeds), results, strict=True):
                _record(seed, per_learner, runs, marks)
    else:
        for job in jobs:
            _record(job[0], fly_seed(job), runs, marks)
    summary = {name: summarise(rs, marks) for name, rs in runs.items()}
    print(f"\ngreedy success over {args.episodes} fresh flights; goal >= {GOAL:.0%}")
    print(f"{'env steps':>10} " + " ".join(f"{n + ' seeds at goal (min, mean)':>38}"
                                           for n in summary))
    for m in marks:
        cells = []
        for s in summary.values():
            c = s["checkpoints"][str(m)]
            cells.append(f"{c['seeds_at_goal']:>3}/{c['seeds']} ({c['min']:.3f}, "
                         f"{c['mean']:.4f})".rjust(38))
        print(f"{m:>10} " + " ".join(cells))
    for name, s in summary.items():
        print(f"{name}: seeds at goal at every checkpoint from 300 to {marks[-1]}: "
              f"{s['seeds_at_goal_at_every_checkpoint']}/{args.seeds}; 300 steps of learning: "
              f"median {s['t300_wall_s']['median']:.2f} s wall "
              f"({s['t300_cpu_s']['median']:.2f} s CPU), max {s['t300_wall_s']['max']:.2f} s")
    ratios = {}
    if len(summary) == 2:
        for m in marks:
            a = summary["ours"]["checkpoints"][str(m)]["seeds_at_goal"]
            b = summary["seed"]["checkpoints"][str(m)]["seeds_at_goal"]
            ratios[str(m)] = a / b if b else None
        print("ratio of seeds at goal, ours / seed port: "
              + ", ".join(f"{m}: {'inf' if r is None else f'{r:.2f}'}"
                          for m, r in ratios.items()))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({
        "episodes_per_measure": args.episodes, "goal": GOAL, "checkpoints": marks,
        "config": config_to_dict(learner_config(CLASSIC)),
        "summary": summary, "ratio_seeds_at_goal_ours_over_seed": ratios,
        "runs": {n: [{**r, "success": {str(k): v for k, v in r["success"].items()}}
                     for r in rs] for n, rs in runs.items()},
    }, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
