"""A modelled person plays the arcade level: physics v2 (the game's) against v1 (the old one).

The person follows a plain rule a player would use: tap when the flyer looks below the next
gap's centre and not rising. What they see is the screen ``--lag-ms`` late (200 ms: a
typical visual reaction time); each tap lands 0 to ``--jitter-ms`` (50 ms) later again; and
they tap at most ``--max-rate`` (7) times a second. A tap is applied on the first physics
tick after it, as the window applies SPACE (``tick(JUMP)`` on the next tick).

The screen shows each tick's state from the moment the tick is computed until the next
one (no interpolation), so at 10 ticks/s the person also waits for the coarse ticks.

v2 is played at its own ``TICKS_PER_SECOND`` (60), v1 at 10 ticks/s, on the same course
seeds (100 gates each). The same model with instant reactions (no lag; jitter and the tap
rate limit kept) is the rule's ceiling. v1's rules live only here, as ``V1World`` (a copy
of the seed-derived arcade level the game shipped before physics v2).

    python bench/human_play.py                     # 300 courses per model
    python bench/human_play.py --courses 50        # a quick look

Goal (issue 11): median >= 20 gates on v2 with the 200 ms model. Writes
``bench/results/human_play.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from game.sim.actions import FALL, JUMP  # noqa: E402
from game.sim.arcade import (  # noqa: E402
    PHYSICS,
    TICKS_PER_SECOND,
    ArcadeWorld,
    course_draws,
    course_key,
)

GOAL_GATES = 20
RESULTS = Path(__file__).resolve().parent / "results" / "human_play.json"


class V1World:
    """The arcade level under physics v1, tick for tick (for comparison only).

    v1: each tick ``t += 1``, ``y += v_y``, then the checks (edges, the next wall's gap,
    a pass on the wall's last tick), then the action: JUMP sets ``v_y = 0.2``, FALL
    subtracts 0.2. Walls 3 ticks thick, 20-22 ticks apart falling to 13-15 over 60 gates,
    gaps 0.72 tall falling to 0.44, centres within 0.6 of each other and 0.12 inside.
    """

    def __init__(self, course_seed: int, n_gates: int, v_y: float) -> None:
        u = course_draws(course_key(course_seed)[0], np.arange(n_gates))
        self.start, self.gap_y, self.half = [], [], []
        start, prev = 0, 0.0
        for i in range(n_gates):
            ramp = min(i / 60, 1.0)
            half = 0.36 - (0.36 - 0.22) * ramp
            base = int(np.rint(20 - (20 - 13) * ramp))
            start += 24 if i == 0 else base + math.floor(float(u[i, 1]) * 3)
            limit = 1.0 - half - 0.12
            lo, hi = max(prev - 0.6, -limit), min(prev + 0.6, limit)
            prev = lo + (hi - lo) * float(u[i, 0])
            self.start.append(start)
            self.gap_y.append(prev)
            self.half.append(half)
        self.n_gates = n_gates
        self.t, self.y, self.v_y = 0, 0.0, v_y
        self.gate = self.score = 0
        self.done = False

    def tick(self, action: int) -> tuple[float, bool]:
        """One v1 tick."""
        self.t += 1
        self.y += self.v_y
        g = self.gate
        reward = 0.0
        if abs(self.y) > 1.0 or (self.t >= self.start[g]
                                 and abs(self.y - self.gap_y[g]) > self.half[g]):
            reward, self.done = -1.0, True
        elif self.t == self.start[g] + 2:
            reward, self.score, self.gate = 1.0, self.score + 1, g + 1
            self.done = self.gate == self.n_gates
        self.v_y = 0.2 if action == JUMP else self.v_y - 0.2
        return reward, self.done

    def next_gap_y(self) -> float:
        """Centre of the next gap (what the person aims at)."""
        return self.gap_y[min(self.gate, self.n_gates - 1)]


class V2World:
    """The game's arcade world with the accessor the person uses."""

    def __init__(self, course_seed: int, n_gates: int, v_y: float) -> None:
        self.world = ArcadeWorld(n_gates=n_gates)
        self.world.reset(course_seed=course_seed, v_y=v_y)

    def tick(self, action: int) -> tuple[float, bool]:
        """One v2 tick."""
        return self.world.tick(action)

    def next_gap_y(self) -> float:
        """Centre of the next gap."""
        return self.world.gate_ahead(0)[1]

    def __getattr__(self, name: str):
        return getattr(self.world, name)


@dataclass(frozen=True)
class Person:
    """The modelled player."""

    lag_s: float = 0.2
    """How late the person sees the screen."""
    jitter_s: float = 0.05
    """Each tap lands uniformly 0..jitter_s after the person decides."""
    max_rate: float = 7.0
    """Most taps per second."""


def play(world: V1World | V2World, ticks_per_s: float, person: Person,
         rng: np.random.Generator, max_ticks: int) -> int:
    """The person flies one run; returns gates passed.

    The screen shows tick m's state during ``[m, m + 1) * dt``; the person sees it during
    ``[m * dt + lag, (m + 1) * dt + lag)``. If the rule holds on it and no tap is pending,
    they decide as soon as both that window and the rate limit allow, and the tap lands
    ``jitter`` later, on the next tick after that time.
    """
    dt = 1.0 / ticks_per_s
    gap_s = 1.0 / person.max_rate
    last_tap = -1e9
    pending = -1  # tick on which the pending tap is applied
    for m in range(1, max_ticks + 1):
        action = JUMP if m == pending else FALL
        _, done = world.tick(action)
        if done:
            break
        if pending >= m or not (world.y < world.next_gap_y() and world.v_y <= 0.0):
            continue
        decide = max(m * dt + person.lag_s, last_tap + gap_s)
        if decide >= (m + 1) * dt + person.lag_s:
            continue  # the rate limit outlasts what this screen shows
        tap = decide + rng.uniform(0.0, person.jitter_s)
        last_tap = tap
        pending = math.floor(tap / dt) + 1
    return int(world.score)


def run_model(version: int, person: Person, seeds: np.ndarray, n_gates: int,
              seed: int) -> list[int]:
    """Gates passed by ``person`` on every course seed under physics ``version``."""
    rng = np.random.default_rng(seed)
    scores = []
    for s in seeds.tolist():
        if version == 2:
            v0 = PHYSICS.start_speeds[int(rng.integers(len(PHYSICS.start_speeds)))] * PHYSICS.unit
            world, hz = V2World(s, n_gates, v0), TICKS_PER_SECOND
            ticks = 200 * n_gates
        else:
            world, hz = V1World(s, n_gates, float(0.1 * rng.standard_normal())), 10.0
            ticks = 30 * n_gates
        scores.append(play(world, hz, person, rng, ticks))
    return scores


def summary(scores: list[int]) -> dict:
    """Median, quartiles, mean and the share reaching the goal."""
    a = np.asarray(scores)
    return {"median": float(np.median(a)), "p25": float(np.percentile(a, 25)),
            "p75": float(np.percentile(a, 75)), "mean": float(a.mean()),
            "share_reaching_goal": float((a >= GOAL_GATES).mean()),
            "max": int(a.max())}


def main() -> None:
    """Plays every model on the same courses, prints and writes the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--courses", type=int, default=300)
    ap.add_argument("--gates", type=int, default=100, help="gates per course (the score cap)")
    ap.add_argument("--lag-ms", type=float, default=200.0)
    ap.add_argument("--jitter-ms", type=float, default=50.0)
    ap.add_argument("--max-rate", type=float, default=7.0, help="most taps per second")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    seeds = np.random.default_rng(args.seed).integers(2**63 - 1, size=args.courses)
    human = Person(args.lag_ms / 1000, args.jitter_ms / 1000, args.max_rate)
    instant = Person(0.0, args.jitter_ms / 1000, args.max_rate)
    models = {"v2_human": (2, human), "v2_instant": (2, instant),
              "v1_human": (1, human), "v1_instant": (1, instant)}
    results = {}
    t0 = time.perf_counter()
    for name, (version, person) in models.items():
        results[name] = summary(run_model(version, person, seeds, args.gates, args.seed))
        print(f"{name:11s} median {results[name]['median']:5.1f} gates  "
              f"(p25 {results[name]['p25']:g}, p75 {results[name]['p75']:g}, "
              f"mean {results[name]['mean']:.1f}; {100 * results[name]['share_reaching_goal']:.0f}%"
              f" reach {GOAL_GATES})")
    v1 = results["v1_human"]["median"]
    ratio = results["v2_human"]["median"] / v1 if v1 > 0 else None
    met = results["v2_human"]["median"] >= GOAL_GATES
    print(f"v2/v1 median ratio {'inf (v1 median is 0)' if ratio is None else f'{ratio:.1f}'}; "
          f"goal median >= {GOAL_GATES} on v2 with the {args.lag_ms:g} ms model: "
          f"{'met' if met else 'MISSED'} ({time.perf_counter() - t0:.0f} s)")
    report = {"bench": "human_play", "courses": args.courses, "gates_per_course": args.gates,
              "course_seed": args.seed, "person": asdict(human),
              "instant_person": asdict(instant),
              "rule": "tap when the flyer looks below the next gap's centre and not rising",
              "v2_ticks_per_s": TICKS_PER_SECOND, "v1_ticks_per_s": 10,
              "results": results, "v2_over_v1_median": ratio,
              "goal": f"median >= {GOAL_GATES} gates on v2 with the lagged model", "goal_met": met,
              "python": platform.python_version(), "command": " ".join(["python", *sys.argv])}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
