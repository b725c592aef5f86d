"""Cost of the exact arcade oracle on ``main.py evaluate``'s courses: scores, and plans.

    python bench/oracle_cost.py                   # 1,000 courses of 100 gates (evaluate's)
    python bench/oracle_cost.py --courses 200

The scores are what ``evaluate`` and ``train`` compute (``Evaluation.prepare``); plans
(one action per decision, replayable) are what the tests use. Peak memory is the
process's maximum resident set. Writes ``bench/results/oracle_cost.json``.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from game.sim.arcade import ArcadeBatch  # noqa: E402
from game.sim.oracle import CHUNK_COURSES, oracle_plans, oracle_scores  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "oracle_cost.json"


def main() -> None:
    """Times the score-only search and the search with plans; writes the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--courses", type=int, default=1000)
    ap.add_argument("--gates", type=int, default=100)
    ap.add_argument("--seed", type=int, default=12345, help="evaluate's default seed")
    ap.add_argument("--note", default="", help="e.g. 'shared machine'")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    batch = ArcadeBatch(args.courses, seed=args.seed, n_gates=args.gates, autoreset=False)
    seeds, v_y0 = batch.course_seed.copy(), batch.v_y.copy()
    t0 = time.perf_counter()
    scores = oracle_scores(seeds, args.gates, v_y0)
    t_scores = time.perf_counter() - t0
    t0 = time.perf_counter()
    _, plans = oracle_plans(seeds, args.gates, v_y0)
    t_plans = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    decisions = int(np.mean([len(p) for p in plans]))
    print(f"oracle on {args.courses} courses of {args.gates} gates: scores {t_scores:.1f} s, "
          f"with plans {t_plans:.1f} s; mean best {scores.mean():.2f} gates; "
          f"~{decisions} decisions per course; peak RSS {peak_mb:.0f} MB")
    report = {"bench": "oracle_cost", "courses": args.courses, "gates": args.gates,
              "seed": args.seed, "scores_seconds": round(t_scores, 2),
              "plans_seconds": round(t_plans, 2), "mean_best": float(scores.mean()),
              "all_passable": bool((scores == args.gates).all()),
              "decisions_per_course": decisions, "chunk_courses": CHUNK_COURSES,
              "peak_rss_mb": round(peak_mb), "machine_note": args.note,
              "python": platform.python_version(), "numpy": np.__version__}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
