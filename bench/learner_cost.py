"""What the learner costs the game per env step: act + observe (+ its gradient steps).

The window calls ``act`` and ``observe`` once per tick. At the fastest speed the
game must reach 5,000 env steps/s with learning on, spending at most ~10 ms of a
16.7 ms frame, so act + observe must average about 100 us or less per step once
the early phase (high replay ratio) is over. Simulated frames of 84 steps
(5,000 steps/s at 60 FPS) show the worst frames too.

    python bench/learner_cost.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.sim.levels import CLASSIC, LEVELS, Level  # noqa: E402
from game.sim.rollout import Rollout  # noqa: E402
from game.wiring.learning import new_learner  # noqa: E402

STEPS_PER_FRAME = 84
"""5,000 env steps/s at 60 frames/s."""
RESULTS = Path(__file__).resolve().parent / "results" / "learner_cost.json"


def measure(level: Level, steps: int, seed: int = 0) -> dict:
    """Times every act+observe over ``steps`` env steps of online learning.

    The loop is written out here, not ``game.sim.rollout``'s, because it times the learner's
    two calls apart from the world's step.
    """
    learner = new_learner(level, seed=seed)
    world = level.world(seed)
    obs = world.observation()
    cost = np.zeros(steps)
    clock = time.perf_counter
    early = learner.config.early_steps
    cpu = [0.0, 0.0]  # process CPU seconds in the early phase and after (contention-proof)
    c0 = time.process_time()
    for i in range(steps):
        t0 = clock()
        action = learner.act(obs)
        t1 = clock()
        reward, terminated = world.step(action)
        next_obs = world.observation()
        t2 = clock()
        learner.observe(obs, action, reward, next_obs, terminated, False)
        cost[i] = (t1 - t0) + (clock() - t2)
        if terminated:
            learner.end_episode(level.episode_score(world, reward))
            obs = world.reset()
        else:
            obs = next_obs
        if i + 1 == early:
            cpu[0] = time.process_time() - c0
            c0 = time.process_time()
    cpu[1] = time.process_time() - c0
    late = cost[early:]
    frames = late[: late.size // STEPS_PER_FRAME * STEPS_PER_FRAME].reshape(-1, STEPS_PER_FRAME)
    frame_ms = frames.sum(1) * 1e3
    return {
        "level": level.name, "steps": steps, "early_steps": early, "updates": learner.updates,
        "early_mean_us": float(cost[:early].mean() * 1e6),
        "late_mean_us": float(late.mean() * 1e6),
        "late_p50_us": float(np.percentile(late, 50) * 1e6),
        "late_p99_us": float(np.percentile(late, 99) * 1e6),
        "late_steps_per_s_if_only_learner": float(1.0 / late.mean()),
        "early_cpu_us_per_step_incl_sim": cpu[0] / early * 1e6,
        "late_cpu_us_per_step_incl_sim": cpu[1] / (steps - early) * 1e6,
        "frame_of_84_steps_ms": {"p50": float(np.percentile(frame_ms, 50)),
                                 "p99": float(np.percentile(frame_ms, 99)),
                                 "max": float(frame_ms.max())},
    }


def first_300(seeds: int = 5) -> dict:
    """Wall and CPU time of the first 300 env steps of learning on classic (world included)."""
    wall, cpu = [], []
    for seed in range(seeds):
        learner = new_learner(CLASSIC, seed=seed)
        rollout = Rollout(CLASSIC, CLASSIC.world(seed), learner)
        w0, c0 = time.perf_counter(), time.process_time()
        rollout.run(300)
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return {"seeds": seeds, "wall_s": wall, "cpu_s": cpu, "updates": learner.updates,
            "median_wall_s": float(np.median(wall)), "median_cpu_s": float(np.median(cpu))}


def main() -> None:
    results = {name: measure(level, 20_000) for name, level in LEVELS.items()}
    t = first_300()
    print(f"first 300 env steps of learning on classic ({t['updates']} updates): median "
          f"{t['median_wall_s']:.2f} s wall, {t['median_cpu_s']:.2f} s CPU "
          f"(max {max(t['wall_s']):.2f} s wall) over {t['seeds']} seeds")
    for r in results.values():
        f = r["frame_of_84_steps_ms"]
        print(f"{r['level']:8s} act+observe per env step: early phase (first {r['early_steps']}) "
              f"{r['early_mean_us']:.0f} us; after it mean {r['late_mean_us']:.0f} us "
              f"(p50 {r['late_p50_us']:.0f}, p99 {r['late_p99_us']:.0f}); CPU incl. sim: early "
              f"{r['early_cpu_us_per_step_incl_sim']:.0f} us, after "
              f"{r['late_cpu_us_per_step_incl_sim']:.0f} us; "
              f"84-step frame p50 {f['p50']:.1f} ms, p99 {f['p99']:.1f} ms, max {f['max']:.1f} ms")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps({**results, "first_300_steps": t}, indent=1))
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
