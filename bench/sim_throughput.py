"""Simulation throughput: scalar and vectorised steps per second for each level.

Run pinned to one core, as the goals are stated for one core::

    taskset -c 0 python bench/sim_throughput.py

A classic step is one tick. An arcade step is one decision of ``decision_ticks`` (4)
physics ticks (``ArcadeBatch.step``, ``ArcadeWorld.step``); arcade figures are given per
decision and per tick (``*_ticks_per_s`` = decisions x 4, an upper bound by the few
decisions a crash cuts short). The scalar arcade world is also timed tick by tick
(``ArcadeWorld.tick``, as the window steps a person's flight).

Actions are uniform random (pre-drawn, so drawing them is not timed). That is the worst
case for the arcade batch: random flights crash within a few decisions, so about one
flyer in twenty restarts on a new course every decision. Each figure is the best of
``--repeats`` timed runs (the median is saved too). Writes
``bench/results/sim_throughput.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from game import ArcadeBatch, ArcadeWorld, ClassicBatch, ClassicWorld  # noqa: E402

GOALS = {
    "classic_batch_flyer_steps_per_s": 30e6,
    "arcade_batch_flyer_decisions_per_s": 10e6,
    "classic_scalar_steps_per_s": 500e3,
}
"""The issues' goals on one core (arcade: issue 5's 10M steps/s, now counted in decisions)."""


def timed(run: Callable[[], int], repeats: int) -> tuple[float, float]:
    """Best and median of ``units / seconds`` over ``repeats`` calls of ``run``."""
    rates = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        units = run()
        rates.append(units / (time.perf_counter() - t0))
    return max(rates), statistics.median(rates)


def scalar_run(world: ClassicWorld | ArcadeWorld, steps: int, per_tick: bool = False,
               p_jump: float = 0.5) -> Callable[[], int]:
    """Steps (or ticks) one world ``steps`` times with random actions, resetting it when a
    run ends."""
    actions = (np.random.default_rng(0).random(steps) < p_jump).astype(int).tolist()

    def run() -> int:
        step, reset = (world.tick if per_tick else world.step), world.reset
        for a in actions:
            if step(a)[1]:
                reset()
        return steps

    return run


def batch_run(batch: ClassicBatch | ArcadeBatch, steps: int) -> Callable[[], int]:
    """Steps a batch ``steps`` times with random actions (autoreset on)."""
    actions = np.random.default_rng(0).integers(0, 2, (64, batch.n))

    def run() -> int:
        step = batch.step
        for i in range(steps):
            step(actions[i & 63])
        return steps * batch.n

    return run


def main() -> None:
    """Measures, prints and writes the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=4096, help="flyers per batch")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per figure")
    parser.add_argument("--note", default="", help="e.g. 'shared machine, load 5 on 2 cores'")
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).parent / "results" / "sim_throughput.json")
    args = parser.parse_args()

    d = ArcadeWorld().decision_ticks
    cases = {
        "classic_scalar_steps_per_s": (scalar_run(ClassicWorld(seed=0), 200_000), 1),
        "arcade_scalar_decisions_per_s": (scalar_run(ArcadeWorld(seed=0, n_gates=100), 50_000),
                                          d),
        # Ticks as a person flies: mostly FALL, a tap now and then (random taps at one in
        # two would crash into the ceiling within a second).
        "arcade_scalar_tick_calls_per_s": (scalar_run(ArcadeWorld(seed=0, n_gates=100), 200_000,
                                                 per_tick=True, p_jump=0.06), 1),
        "classic_batch_flyer_steps_per_s": (batch_run(ClassicBatch(args.n, seed=0), 500), 1),
        "arcade_batch_flyer_decisions_per_s": (batch_run(ArcadeBatch(args.n, seed=0), 300), d),
    }
    results: dict[str, dict[str, float | bool | None]] = {}
    for name, (run, ticks) in cases.items():
        run()  # warm-up
        best, median = timed(run, args.repeats)
        goal = GOALS.get(name)
        results[name] = {"best": best, "median": median, "goal": goal,
                         "met": None if goal is None else best >= goal}
        verdict = ""
        if goal is not None:
            verdict = f"  goal {goal / 1e6:g}M: {'met' if best >= goal else 'MISSED'}"
        print(f"{name:34s} best {best / 1e6:7.2f}M  median {median / 1e6:7.2f}M{verdict}")
        if name.startswith("arcade") and "decisions" in name:
            tick_name = name.replace("decisions", "ticks")
            results[tick_name] = {"best": best * ticks, "median": median * ticks, "goal": None,
                                  "met": None, "note": f"decisions x {ticks}"}
            print(f"{tick_name:34s} best {best * ticks / 1e6:7.2f}M  "
                  f"median {median * ticks / 1e6:7.2f}M  (decisions x {ticks})")

    affinity = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    report = {
        "machine_note": args.note,
        "batch_n": args.n,
        "repeats": args.repeats,
        "actions": "uniform random, pre-drawn; autoreset on; scalar worlds reset on done",
        "cpu_affinity": affinity,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"cpu affinity {affinity}; wrote {args.out}")


if __name__ == "__main__":
    main()
