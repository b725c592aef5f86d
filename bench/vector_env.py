"""The native vector envs against Gymnasium's SyncVectorEnv on the same N: env steps per second.

Run::

    python bench/vector_env.py            # N = 1024, both levels
    taskset -c 0 python bench/vector_env.py --n 1024

``gym.make_vec(id, num_envs=N)`` (the native numpy env over the batched world) and
``gym.make_vec(id, num_envs=N, vectorization_mode="sync")`` (N Python envs) step the
same pre-drawn random actions, with Gymnasium's default autoreset (NEXT_STEP). A
figure is env steps per second (vector steps x N). Timed runs of the two alternate
(``--repeats`` pairs); the speed-up is the median over the pairs, each side's best
and median are saved too. Goal: the native env >= 50x the sync one at N = 1,024.
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


def runner(env: gym.vector.VectorEnv, steps: int):
    """A callable that times ``steps`` vector steps of ``env``; returns env steps per second."""
    n = env.num_envs
    actions = np.random.default_rng(0).integers(0, 2, (64, n))
    env.reset(seed=0)
    for i in range(min(steps, 20)):  # warm-up
        env.step(actions[i & 63])

    def run() -> float:
        t0 = time.perf_counter()
        for i in range(steps):
            env.step(actions[i & 63])
        return steps * n / (time.perf_counter() - t0)

    return run


def main() -> None:
    """Measures, prints and writes the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024, help="envs per vector env")
    parser.add_argument("--repeats", type=int, default=5, help="timed pairs of runs")
    parser.add_argument("--native-steps", type=int, default=400)
    parser.add_argument("--sync-steps", type=int, default=30)
    parser.add_argument("--note", default="", help="e.g. 'machine shared with 4 other jobs'")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "vector_env.json")
    args = parser.parse_args()

    results = {}
    for env_id in ("flyer/Classic-v0", "flyer/Arcade-v0"):
        native = gym.make_vec(env_id, num_envs=args.n)
        sync = gym.make_vec(env_id, num_envs=args.n, vectorization_mode="sync")
        # Native and sync runs alternate, so a change in the machine's load hits both; the
        # speed-up of each pair is kept as well as each side's best and median.
        run_native, run_sync = runner(native, args.native_steps), runner(sync, args.sync_steps)
        pairs = [(run_native(), run_sync()) for _ in range(args.repeats)]
        native.close()
        sync.close()
        natives, syncs = [p[0] for p in pairs], [p[1] for p in pairs]
        ratios = [a / b for a, b in pairs]
        nb, nm, sb, sm = max(natives), statistics.median(natives), max(syncs), \
            statistics.median(syncs)
        speedup = statistics.median(ratios)
        results[env_id] = {"native_steps_per_s": {"best": nb, "median": nm},
                           "sync_steps_per_s": {"best": sb, "median": sm},
                           "speedup_per_pair": ratios, "speedup_median": speedup,
                           "speedup_of_bests": nb / sb,
                           "goal": GOAL_SPEEDUP, "met": speedup >= GOAL_SPEEDUP}
        print(f"{env_id:18s} N={args.n}: native {nb / 1e6:6.2f}M steps/s, "
              f"sync {sb / 1e3:7.1f}k steps/s (bests); speed-up {speedup:5.1f}x "
              f"(median of {len(ratios)} pairs, {min(ratios):.0f}-{max(ratios):.0f}x; "
              f"goal {GOAL_SPEEDUP:g}x: {'met' if speedup >= GOAL_SPEEDUP else 'MISSED'})")

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
