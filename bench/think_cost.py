"""Cost of the V overlay's thinking ("watch it think") per refresh, headless.

    python bench/think_cost.py                    # 30 s of 1x play per scenario
    python bench/think_cost.py --seconds 60 --note "quiet machine"

The real session flies the shipped pilot (learning off, so the figures are the overlay's,
not the learner's) at 1x, one simulated 60 Hz frame at a time, and ``game.play.thinking.Thinker``
refreshes as it does in the window (its clock is the simulated one). Reported per refresh:
the planned path (greedy policy rolled forward on a copy of the world), the oracle's path
(arcade: ``oracle.plan_from``; classic: all 2^10 sequences on a batch) and the policy map
(classic, 48x48 cells in one batched call), p50/p99/max in ms; and the thinking time per
frame averaged over the run. For comparison, the vectorised oracle (``oracle.search`` with
plans, from the same states) on a sample of them. Writes ``bench/results/think_cost.json``.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from game.play import thinking  # noqa: E402
from game.play.session import Session  # noqa: E402
from game.sim.levels import LEVELS  # noqa: E402
from game.sim.oracle import search  # noqa: E402
from game.wiring.learning import load_pilot, new_learner, pretrained_path  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "think_cost.json"
FRAME_S = 1 / 60


class SimClock:
    """The session's and the thinker's clock: simulated seconds."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def stats(seconds: list[float]) -> dict[str, float]:
    ms = np.asarray(seconds) * 1e3
    if not ms.size:
        return {"n": 0}
    return {"n": int(ms.size), "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p99_ms": round(float(np.percentile(ms, 99)), 3),
            "max_ms": round(float(ms.max()), 3)}


def scenario(level: str, flock: int, seconds: float, seed: int) -> dict:
    """One run of ``seconds`` of 1x play with the overlay on."""
    spec = LEVELS[level]
    learner = new_learner(spec, seed=seed)
    learner.load_pilot(load_pilot(pretrained_path(level), spec)[0])
    learner.learn_enabled = False
    clock = SimClock()
    session = Session(level, seed=seed, learner=learner, pilot="autopilot", flock=flock,
                      clock=clock)
    # The thinker's refresh timers run on simulated time; its costs on the real clock.
    thinker = thinking.Thinker(courses=spec.name == "arcade", clock=clock)
    thinker.keep_costs = 10**9  # every refresh of the run, not the window's latest few
    # As the window does before play (game.ui.app._play): without it a full collection of the
    # setup's objects (torch's among them) lands in some frame, ~100 ms, whoever allocates.
    gc.collect()
    gc.freeze()

    frames = int(seconds / FRAME_S)
    per_frame: list[float] = []
    states: list = []
    for _ in range(frames):
        clock.t += FRAME_S
        session.advance(FRAME_S)
        t0 = time.perf_counter()
        thinker.update(session, learner.greedy_batch)
        per_frame.append(time.perf_counter() - t0)  # on the frames it refreshes nothing too
        sub = thinking.subject(session)
        if sub is not None and spec.name == "arcade" and len(states) < 400:
            states.append(sub)
    gc.unfreeze()
    out = {name: stats(v) for name, v in thinker.thought.cost_s.items()}
    costs = thinker.thought.cost_s
    out.update(level=level, flock=flock, seconds=seconds, frames=frames,
               refreshes=len(costs.get("planned", costs.get("oracle", []))),
               per_frame_mean_ms=round(float(np.mean(per_frame)) * 1e3, 3),
               per_frame_p99_ms=round(float(np.percentile(per_frame, 99)) * 1e3, 3),
               per_frame_max_ms=round(float(np.max(per_frame)) * 1e3, 3))
    if states:
        out["vectorised_oracle_same_states"] = vectorised(states[::8])
    return out


def vectorised(subjects: list) -> dict[str, float]:
    """``oracle.search`` with plans from the same states (one course per call)."""
    times = []
    for sub in subjects:
        w = thinking.clone(sub.world)
        for _ in range(sub.forced):
            w.tick(0)
        if w.done:
            continue
        start, gy, half = thinking.oracle_gates(w, thinking.ARCADE_DECISIONS * 4)
        t0 = time.perf_counter()
        search(start[None], gy[None], half[None], np.array([w.v_y]), plans=True,
               y_0=np.array([w.y]))
        times.append(time.perf_counter() - t0)
    return stats(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=30.0, help="play per scenario (1x)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--note", default="", help="e.g. 'shared machine'")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    runs = {}
    for name, level, flock in (("arcade", "arcade", 1), ("arcade_flock16", "arcade", 16),
                               ("classic", "classic", 1)):
        r = runs[name] = scenario(level, flock, args.seconds, args.seed)
        parts = ", ".join(f"{k} p50 {r[k]['p50_ms']:.2f} / p99 {r[k]['p99_ms']:.2f} ms"
                          for k in ("planned", "oracle", "map") if k in r and r[k]["n"])
        print(f"{name}: {r['refreshes']} refreshes in {r['frames']} frames; {parts}; "
              f"per frame mean {r['per_frame_mean_ms']:.3f} ms, p99 {r['per_frame_p99_ms']:.2f}"
              f", max {r['per_frame_max_ms']:.2f} ms")
        v = r.get("vectorised_oracle_same_states")
        if v and v["n"]:
            print(f"  the vectorised oracle.search from {v['n']} of the same states: "
                  f"p50 {v['p50_ms']:.2f} / p99 {v['p99_ms']:.2f} ms")
    report = {"bench": "think_cost", "seconds_per_scenario": args.seconds, "seed": args.seed,
              **runs, "machine_note": args.note, "python": platform.python_version(),
              "numpy": np.__version__}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
