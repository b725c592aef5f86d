"""Arcade learning from scratch with the in-game defaults: one flyer, as in the window.

For each seed a fresh learner (``learner_config(ARCADE)``) flies one flyer on the
batched world (``envs=1``, exactly ``main.py train --level arcade --envs 1``). At
each checkpoint the greedy pilot flies the 1,000 held-out 100-gate courses of
``main.py evaluate`` (seed 12345; training courses come from the training seed's own
generator) and is scored against the exact oracle with each run's initial speed.

Goal (issue 5): mean score/oracle >= 0.9 within 200,000 env steps on 5 seeds.

    python bench/arcade_learning.py                 # 5 seeds x 200,000 steps
    python bench/arcade_learning.py --seeds 2 --steps 50000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ai.config import config_to_dict  # noqa: E402
from game.commands.train import train_learner  # noqa: E402
from game.sim.evaluation import EVAL_SEED, Evaluation  # noqa: E402
from game.sim.levels import ARCADE  # noqa: E402
from game.wiring.learning import learner_config  # noqa: E402

GOAL = 0.9
RESULTS = Path(__file__).resolve().parent / "results" / "arcade_learning.json"


def main() -> None:
    """Runs the seeds one after another and writes ``bench/results/arcade_learning.json``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=200_000)
    ap.add_argument("--checkpoints", type=int, default=8, help="evaluations per run")
    ap.add_argument("--episodes", type=int, default=1000, help="held-out courses per evaluation")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    t0 = time.perf_counter()
    evaluation = Evaluation.prepare(ARCADE, args.episodes, EVAL_SEED)
    print(f"oracle on {args.episodes} held-out courses: mean {evaluation.best.mean():.2f} gates "
          f"({time.perf_counter() - t0:.1f} s)")
    marks = [args.steps * (k + 1) // args.checkpoints for k in range(args.checkpoints)]
    runs = []
    for seed in range(args.seeds):
        curve: list[dict] = []
        pending = list(marks)
        eval_seconds = 0.0

        def progress(done: int, learner, curve=curve, pending=pending, seed=seed) -> None:
            nonlocal eval_seconds
            if pending and done >= pending[0]:
                pending.pop(0)
                e0 = time.perf_counter()
                r = evaluation.run(learner.greedy_batch)
                eval_seconds += time.perf_counter() - e0
                curve.append({"env_steps": done, "score_over_oracle": r["mean_score_over_oracle"],
                              "mean_score": r["mean_score"]})
                print(f"  seed {seed} {done:>8,} steps: score/oracle "
                      f"{r['mean_score_over_oracle']:.4f} (mean {r['mean_score']:.2f} gates)",
                      flush=True)

        start = time.perf_counter()
        train_learner(ARCADE, args.steps, seed, envs=1, progress=progress)
        wall = time.perf_counter() - start - eval_seconds
        reached = next((c["env_steps"] for c in curve if c["score_over_oracle"] >= GOAL), None)
        runs.append({"seed": seed, "train_seconds": round(wall, 1), "curve": curve,
                     "final_score_over_oracle": curve[-1]["score_over_oracle"],
                     "best_score_over_oracle": max(c["score_over_oracle"] for c in curve),
                     "first_steps_at_goal": reached})
        print(f"seed {seed}: final {curve[-1]['score_over_oracle']:.4f}, first >= {GOAL} at "
              f"{reached} steps, {wall:.0f} s training", flush=True)

    ok = sum(r["first_steps_at_goal"] is not None for r in runs)
    final_ok = sum(r["final_score_over_oracle"] >= GOAL for r in runs)
    summary = {
        "bench": "arcade_learning", "goal": f"score/oracle >= {GOAL} within {args.steps} steps",
        "steps": args.steps, "seeds": args.seeds, "envs": 1, "eval_episodes": args.episodes,
        "eval_seed": EVAL_SEED, "n_gates": ARCADE.eval_gates,
        "seeds_reaching_goal": ok, "seeds_at_goal_at_end": final_ok,
        "goal_met": ok == args.seeds,
        "config": config_to_dict(learner_config(ARCADE)), "runs": runs,
        "total_seconds": round(time.perf_counter() - t0, 1),
    }
    print(f"{ok}/{args.seeds} seeds reach score/oracle >= {GOAL} within {args.steps:,} steps "
          f"({final_ok}/{args.seeds} at the end)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
