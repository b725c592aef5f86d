"""The native vector envs against Gymnasium's SyncVectorEnv on the same N: env steps per second.

Run::

    python bench/vector_env.py            # N = 1024, both levels
    taskset -c 0 python bench/vector_env.py --n 1024

``gym.make_vec(id, num_envs=N)`` (the native numpy env over the batched world) and
``gym.make_vec(id, num_envs=N, vectorization_mode="sync")`` (N Python envs) step the
same pre-drawn random actions, with Gymnasium's default autoreset (NEXT_STEP). A
figure is env steps per second (vector steps x N), the best of ``--repeats`` timed
runs; the median is saved too. Goal: the native env >= 50x the sync one at N = 1,024.
Writes ``bench/results/vector_env.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import game  # noqa: E402,F401  (registers the environments)

GOAL_SPEEDUP = 50.0
"""The issue's goal at N = 1,024."""


def rate(env: gym.vector.VectorEnv, steps: int, repeats: int) -> tuple[float, float]:
    """Best and median env steps per second over ``repeats`` runs of ``steps`` vector steps."""
    n = env.num_envs
    actions = np.random.default_rng(0).integers(0, 2, (64, n))
    env.reset(seed=0)
    for i in range(min(steps, 20)):  # warm-up
        env.step(actions[i & 63])
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for i in range(steps):
            env.step(actions[i & 63])
        rates.append(steps * n / (time.perf_counter() - t0))
    return max(rates), statistics.median(rates)


def main() -> None:
    """Measures, prints and writes the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024, help="envs per vector env")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per figure")
    parser.add_argument("--native-steps", type=int, default=500)
    parser.add_argument("--sync-steps", type=int, default=20)
    parser.add_argument("--note", default="", help="e.g. 'machine shared with 4 other jobs'")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "vector_env.json")
    args = parser.parse_args()

    results = {}
    for env_id in ("flyer/Classic-v0", "flyer/Arcade-v0"):
        native = gym.make_vec(env_id, num_envs=args.n)
        sync = gym.make_vec(env_id, num_envs=args.n, vectorization_mode="sync")
        nb, nm = rate(native, args.native_steps, args.repeats)
        sb, sm = rate(sync, args.sync_steps, args.repeats)
        native.close()
        sync.close()
        speedup = nb / sb
        results[env_id] = {"native_steps_per_s": {"best": nb, "median": nm},
                           "sync_steps_per_s": {"best": sb, "median": sm},
                           "speedup_best": speedup, "speedup_median": nm / sm,
                           "goal": GOAL_SPEEDUP, "met": speedup >= GOAL_SPEEDUP}
        print(f"{env_id:18s} N={args.n}: native {nb / 1e6:6.2f}M steps/s, "
              f"sync {sb / 1e3:7.1f}k steps/s, {speedup:6.1f}x "
              f"(median {nm / sm:.1f}x; goal {GOAL_SPEEDUP:g}x: "
              f"{'met' if speedup >= GOAL_SPEEDUP else 'MISSED'})")

    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    report = {
        "num_envs": args.n,
        "repeats": args.repeats,
        "native_steps": args.native_steps,
        "sync_steps": args.sync_steps,
        "actions": "uniform random, pre-drawn; autoreset NEXT_STEP (Gymnasium's default)",
        "note": args.note,
        "cpu_affinity": affinity,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "gymnasium": gym.__version__,
        "machine": platform.machine(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"cpu affinity {affinity}; wrote {args.out}")


if __name__ == "__main__":
    main()
