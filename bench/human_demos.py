"""Does watching a player help? Steps to >= 99% greedy success with and without 3 demo flights.

A scripted "human" (a simple rule: JUMP when ``y + v_y < 0``) flies the first 3
classic flights with learning on; its transitions go in tagged human. Then the
autopilot takes over and learns on its own. The same seeds and the same flights
are flown without the demos. Greedy success over 1,000 fresh flights is
measured every ``--every`` env steps; "steps to goal" is the first measurement
at >= 99% (the demo steps are included in the count, and also shown apart).

    python bench/human_demos.py
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.sim.actions import FALL, JUMP  # noqa: E402
from game.sim.evaluation import Evaluation  # noqa: E402
from game.sim.levels import CLASSIC  # noqa: E402
from game.sim.rollout import Rollout  # noqa: E402
from game.wiring.learning import new_learner  # noqa: E402

GOAL = 0.99
DEMO_FLIGHTS = 3
RESULTS = Path(__file__).resolve().parent / "results" / "human_demos.json"


def rule_pilot(obs: np.ndarray) -> int:
    """The scripted player: jump when the next height would be below the middle."""
    return JUMP if obs[0] + obs[1] < 0.0 else FALL


def steps_to_goal(seed: int, demos: bool, every: int, limit: int, episodes: int) -> dict:
    """Flies one run; returns the env steps at which greedy success first reached the goal."""
    learner = new_learner(CLASSIC, seed=seed)
    rollout = Rollout(CLASSIC, CLASSIC.world(10_000 + seed), learner)
    demo_steps, k = 0, 0
    while rollout.steps < limit:
        human = demos and rollout.episodes < DEMO_FLIGHTS
        rollout.step(rule_pilot(rollout.obs) if human else None, human=human)
        steps = rollout.steps
        demo_steps += human
        if steps % every == 0:
            k += 1
            rate = Evaluation.prepare(CLASSIC, episodes, seed=2_000_000 + 1_000 * seed + k).run(
                learner.greedy_batch)["success_rate"]
            if rate >= GOAL:
                return {"steps": steps, "demo_steps": demo_steps, "success": float(rate)}
    return {"steps": None, "demo_steps": demo_steps, "success": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--every", type=int, default=20)
    parser.add_argument("--limit", type=int, default=3_000)
    parser.add_argument("--episodes", type=int, default=1000)
    args = parser.parse_args()
    rows = {"with_demos": [], "without": []}
    for seed in range(args.seeds):
        a = steps_to_goal(seed, True, args.every, args.limit, args.episodes)
        b = steps_to_goal(seed, False, args.every, args.limit, args.episodes)
        rows["with_demos"].append(a)
        rows["without"].append(b)
        print(f"seed {seed:2d}: with demos {a['steps']} steps ({a['demo_steps']} by the human), "
              f"without {b['steps']}", flush=True)
    summary = {}
    for name, rs in rows.items():
        s = np.array([r["steps"] if r["steps"] is not None else np.inf for r in rs], float)
        reached = np.isfinite(s)
        summary[name] = {"reached": int(reached.sum()), "seeds": len(s),
                         "median_steps": float(np.median(s)), "mean_steps":
                         float(s[reached].mean()) if reached.any() else None,
                         "max_steps": float(s.max())}
    demo = np.array([r["demo_steps"] for r in rows["with_demos"]])
    summary["with_demos"]["median_demo_steps"] = float(np.median(demo))
    for name, s in summary.items():
        print(f"{name:10s}: reached >= {GOAL:.0%} in {s['reached']}/{s['seeds']} seeds within "
              f"{args.limit} steps; median {s['median_steps']:.0f}, max {s['max_steps']:.0f} "
              f"env steps (measured every {args.every})")
    print(f"the human flew a median {summary['with_demos']['median_demo_steps']:.0f} steps "
          f"of the with-demos count")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({"goal": GOAL, "demo_flights": DEMO_FLIGHTS,
                                   "every": args.every, "summary": summary, "runs": rows},
                                  indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
