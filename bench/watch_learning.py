"""Watch it learn, headless: the game's own session with a fresh learner, scored by the skill meter.

For each seed a fresh learner (the level's preset) flies in ``game.play.session.Session`` with the
default flock (``--flock``'s default, ``game.play.flock.DEFAULT_FLOCK``), as ``python main.py
--pilot autopilot`` runs it, without the window:

* **1x**: the window's 60 Hz frames on a simulated clock (``Session.advance``), so the flock
  ticks and learns exactly as in the window (``game.play.flock_play.FlockPlay``: decisions played
  back tick by tick, gradient steps spread over the ticks). score/oracle of the greedy pilot
  on the skill meter's held-out set every 10 s of play (``--x1``); the real compute of each
  simulated second (flying + learning, not the skill readings) must fit in one second for
  the window to keep up (it also draws).
* **max**: the session at max speed (the pacing's top ratio, ``ai.pacing``), each frame given
  the window's work target at max (``game.ui.pacing.WORK_TARGET_MAX_S``) and nothing drawn;
  score/oracle at 5, 10, 20 and 30 s of compute (``--max``), and the learning throughput. The
  window spends part of each frame drawing: its figures are ``bench/frame_time.py``'s and
  ``bench/watch_window.py``'s.

The main part prints issue 19's goals table: every seed's 1x curve, its largest fall from its
best reading after 30 s, its env steps to 0.9, and the worst and median of each column; then
the max-speed curves. ``--set KEY=JSON`` (repeatable) and ``--ladder`` try an idea on top of
the preset without changing it; ``--tag`` keeps each such run apart in the results file.

* ``--part efficiency``: env steps to reach 0.9 of the oracle for one flyer (the game's single
  flyer: the preset's own replay schedule) and for the flock (``--efficiency-seeds``; ``--flock
  1``: one flyer only), a reading every ``--every`` env steps (each crowns as the game's do).
* ``--part compare``: both restart schemes at the 1x pace (``game.play.flock.Flock`` directly).
* ``--part ratios``: replay ratios at max against env steps, gradient steps and compute.
* ``--part pretrained``: the shipped pilot with learning on (``Learner.load_pilot``): a flock
  at max (``FROM_PILOT_LADDER``) and the window's single flyer (``game.sim.rollout.Rollout``, the
  preset's schedule), score/oracle of the greedy (flying) weights as they learn.

Each part merges its figures into ``bench/results/watch_learning.json``.

    python bench/watch_learning.py                        # 10 seeds, 1x and max: the goals
    python bench/watch_learning.py --seeds 3 --x1 10,20,30,40,50,60 --max '' \
        --set n_step=1 --tag one-step                     # an idea against the preset
    python bench/watch_learning.py --part compare --seeds 2 --x1 30,60,120
    python bench/watch_learning.py --part efficiency --efficiency-seeds 2
    python bench/watch_learning.py --part ratios --seeds 2
    python bench/watch_learning.py --part pretrained --max 60,120,300,600
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # tiny matrices: threads only thrash
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from game.play.flock import (  # noqa: E402
    DEFAULT_FLOCK,
    FROM_PILOT_LADDER,
    RESTARTS,
    Flock,
)
from game.play.session import Session  # noqa: E402
from game.play.skill import SkillMeter, read_and_crown  # noqa: E402
from game.play.speed import SPEEDS  # noqa: E402
from game.sim.levels import LEVELS  # noqa: E402
from game.sim.rollout import Rollout  # noqa: E402
from game.ui.pacing import WORK_TARGET_MAX_S  # noqa: E402
from game.wiring.learning import (  # noqa: E402
    learner_config,
    load_pilot,
    new_learner,
    pretrained_path,
)

FRAME_HZ = 60
"""Frames per simulated second (the window's 60 Hz timeline)."""

RESULTS = Path(__file__).resolve().parent / "results" / "watch_learning.json"
GOALS = {"x1_30s_worst": 0.9, "x1_60s_worst": 0.95, "fall_after_30s_worst": 0.05,
         "max_5s_worst": 0.95}
"""Issue 19's goals (arcade, physics v2, a fresh learner, the default flock, every seed)."""


def _marks(text: str) -> list[float]:
    return [float(x) for x in text.split(",") if x.strip()]


class SimClock:
    """Simulated monotonic seconds for the session (1x): time moves only when told to."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


LADDER = [0.0]
"""``--ladder``: the flock's per-flyer exploration for a fresh learner (trying an idea)."""
CROWN = [True]
"""The skill readings crown the flying pilot, as in the window (``--no-crown``: not read)."""
CHANGES: dict[str, object] = {}
"""``--set`` overrides of the level's learner preset (trying an idea before it is the preset)."""


def fresh_learner(level, seed: int):
    """A fresh learner of the level's preset, with any ``--set`` changes on top."""
    if not CHANGES:
        return new_learner(level, seed)
    return new_learner(level, seed, learner_config(level, **CHANGES))


def game_session(level, seed: int, n: int, clock) -> tuple[Session, object]:
    """The game's own session, as ``python main.py --pilot autopilot --flock n`` makes it."""
    learner = fresh_learner(level, seed)
    session = Session(level.name, seed=seed, learner=learner, pilot="autopilot", clock=clock,
                      flock=n, flock_ladder=LADDER[0])
    return session, learner


def watch_skill(session: Session) -> None:
    """The window's skill readings after a frame (``GameView`` calls ``maybe_measure`` each
    frame; its readings crown the flying pilot, ``game.play.skill``), waited for here so that
    each run is the same for a seed; their time is not the frame's (the window reads in a
    child process)."""
    if CROWN[0] and session.skill is not None:
        session.skill.maybe_measure(session.learner)
        session.skill.meter.wait()


def run_1x(level, seed: int, n: int, marks: list[float], meter: SkillMeter) -> dict:
    """A fresh learner's flock in the real session, at 1x on a simulated 60 Hz frame clock;
    the skill at each mark, and the real compute of each simulated second."""
    clock = SimClock()
    session, learner = game_session(level, seed, n, clock)
    compute: list[float] = []
    curve = []
    for second in range(1, int(max(marks)) + 1):
        spent = 0.0
        for _ in range(FRAME_HZ):
            clock.t += 1.0 / FRAME_HZ
            t0 = time.perf_counter()
            session.advance(1.0 / FRAME_HZ)
            spent += time.perf_counter() - t0
            watch_skill(session)
        compute.append(spent)
        if second in marks:
            figure = meter.measure(learner.greedy_batch)
            curve.append({"seconds": second, "score_over_oracle": round(figure, 4),
                          "env_steps": learner.env_steps, "updates": learner.updates,
                          "generation": session.flock.flock.generation})
            print(f"  seed {seed} 1x {second:>4} s: {level.figure_name} {figure:.3f} "
                  f"({learner.env_steps:,} env steps, {learner.updates:,} updates, "
                  f"gen {session.flock.flock.generation}, compute/s "
                  f"{sum(compute[-10:]) / len(compute[-10:]):.2f})", flush=True)
    arr = np.asarray(compute)
    return {"seed": seed, "curve": curve, "compute_per_sim_s_mean": round(float(arr.mean()), 3),
            "compute_per_sim_s_p95": round(float(np.percentile(arr, 95)), 3),
            "compute_per_sim_s_max": round(float(arr.max()), 3),
            "history_tail": [list(h) for h in list(session.flock.flock.history)[-5:]]}


def at_max(session: Session) -> Session:
    """``session`` at max speed, each frame given the window's work target at max."""
    session.pace.set_index(SPEEDS.index(None))
    session.clock.work_budget_s = WORK_TARGET_MAX_S
    return session


def fly_at_max(session: Session, learner, marks: list[float], meter: SkillMeter,
               label: str) -> list[dict]:
    """Frames of ``session`` at max until the last mark of compute time; the skill at each."""
    spent, curve, pending = 0.0, [], sorted(marks)
    while pending:
        t0 = time.perf_counter()
        session.advance(1.0 / FRAME_HZ)
        spent += time.perf_counter() - t0
        watch_skill(session)
        if spent >= pending[0]:
            mark = pending.pop(0)
            figure = meter.measure(learner.greedy_batch)
            curve.append({"seconds": mark, "flown_seconds": round(spent, 2),
                          "score_over_oracle": round(figure, 4), "env_steps": learner.env_steps,
                          "updates": learner.updates,
                          "env_steps_per_s": round(learner.env_steps / spent)})
            print(f"  {label} max {mark:>4.0f} s: {figure:.3f} ({learner.env_steps:,} env "
                  f"steps, {learner.env_steps / spent:,.0f}/s, {learner.updates:,} updates)",
                  flush=True)
    return curve


def run_max(level, seed: int, n: int, marks: list[float], meter: SkillMeter) -> dict:
    """A fresh learner's flock in the real session at max speed, every frame's budget spent
    (no drawing: the window's figure is ``bench/frame_time.py``'s); the skill at each mark of
    compute time."""
    session, learner = game_session(level, seed, n, time.perf_counter)
    return {"seed": seed,
            "curve": fly_at_max(at_max(session), learner, marks, meter, f"seed {seed}")}


def run_flock_1x(level, seed: int, n: int, marks: list[float], restart: str,
                 meter: SkillMeter) -> dict:
    """A fresh ``Flock`` with the given restart scheme at the 1x pace (15 decisions per
    simulated second on arcade), outside the session: the restart schemes' comparison."""
    learner = fresh_learner(level, seed)
    flock = Flock(level, learner, n=n, seed=seed, restart=restart)
    per_second = round(level.ticks_per_second / level.decision_ticks)
    curve = []
    for second in range(1, int(max(marks)) + 1):
        for _ in range(per_second):
            flock.step()
        if second in marks:
            figure = meter.measure(learner.greedy_batch)
            curve.append({"seconds": second, "score_over_oracle": round(figure, 4),
                          "env_steps": learner.env_steps, "generation": flock.generation})
            print(f"  seed {seed} {restart} {second:>4} s: {figure:.3f}", flush=True)
    return {"seed": seed, "restart": restart, "curve": curve}


def run_ratios(level, seed: int, n: int, ratio: float, marks: list[int],
               meter: SkillMeter) -> dict:
    """A fresh flock at one replay ratio: the skill at env-step marks, with the gradient steps
    and compute it took (does learning follow transitions or gradient steps?)."""
    learner = fresh_learner(level, seed)
    flock = Flock(level, learner, n=n, seed=seed, replay_ratio=ratio)
    spent, curve = 0.0, []
    for mark in marks:
        t0 = time.perf_counter()
        while learner.env_steps < mark:
            flock.step()
        spent += time.perf_counter() - t0
        figure = meter.measure(learner.greedy_batch)
        curve.append({"env_steps": learner.env_steps, "updates": learner.updates,
                      "compute_s": round(spent, 1), "score_over_oracle": round(figure, 4)})
        print(f"  seed {seed} ratio 1/{1 / ratio:g} {learner.env_steps:>9,} steps "
              f"{learner.updates:>7,} updates {spent:6.1f} s: {figure:.3f}", flush=True)
    return {"seed": seed, "replay_ratio": ratio, "curve": curve}


def steps_to(level, seed: int, n: int, goal: float, every: int, budget: int,
             meter: SkillMeter, replay_ratio: float | None) -> dict:
    """Env steps until the skill first reaches ``goal`` (checked every ``every`` steps)."""
    learner = fresh_learner(level, seed)
    flock = Flock(level, learner, n=n, seed=seed, replay_ratio=replay_ratio)
    judge = SkillMeter(level, meter.episodes, meter.seed, crown=True)
    nxt = every
    t0 = time.perf_counter()
    figure = 0.0
    while learner.env_steps < budget:
        flock.step()
        if learner.env_steps >= nxt:
            nxt += every
            if CROWN[0]:  # the better contender on validation flies if it is no worse
                read_and_crown(judge, learner)
            figure = meter.measure(learner.greedy_batch)
            if figure >= goal:
                break
    reached = learner.env_steps if figure >= goal else None
    print(f"  seed {seed} flock {n}: {reached} env steps to {goal} (last {figure:.3f}, "
          f"{time.perf_counter() - t0:.0f} s)", flush=True)
    return {"seed": seed, "flock": n, "env_steps_to_goal": reached, "last": round(figure, 4),
            "updates": learner.updates}


def run_pretrained(level, n: int, marks: list[float], single_steps: int,
                   meter: SkillMeter) -> dict:
    """The shipped pilot learning on: the game's flock at max, then one flyer on the preset."""
    pilot, _ = load_pilot(pretrained_path(level.name), level)
    start = meter.measure(pilot.act_batch)
    learner = new_learner(level, 0)
    learner.load_pilot(pilot)
    # the game's session as ``main.py --autopilot pretrained --pilot autopilot --learn``
    # makes it
    session = Session(level.name, seed=0, learner=learner, pilot="autopilot",
                      clock=time.perf_counter, flock=n, flock_ladder=FROM_PILOT_LADDER)
    curve = fly_at_max(at_max(session), learner, marks, meter, "pretrained flock")
    one = new_learner(level, 0)
    one.load_pilot(pilot)
    rollout = Rollout(level, level.world(0), one)
    single = []
    every = max(1, single_steps // 5)
    while one.env_steps < single_steps:
        rollout.run(every)
        figure = meter.measure(one.greedy_batch)
        single.append({"env_steps": one.env_steps, "updates": one.updates,
                       "score_over_oracle": round(figure, 4)})
        print(f"  pretrained one flyer {one.env_steps:>7,} steps: {figure:.3f}", flush=True)
    return {"pilot_score_over_oracle": round(start, 4), "flock_max": curve,
            "one_flyer": single, "min_flock": min(c["score_over_oracle"] for c in curve),
            "min_one_flyer": min(c["score_over_oracle"] for c in single)}


def main() -> None:
    """Runs the chosen part and merges its figures into the results file."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--level", default="arcade", choices=sorted(LEVELS))
    ap.add_argument("--part", default="main",
                    choices=("main", "compare", "efficiency", "pretrained", "ratios"))
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--seed0", type=int, default=0, help="first seed")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=JSON",
                    help="a learner setting on top of the level's preset (trying an idea)")
    ap.add_argument("--ladder", type=float, default=0.0, help="fresh flock's explore ladder")
    ap.add_argument("--tag", default="", help="main: store the run under main:TAG")
    ap.add_argument("--flock", type=int, default=DEFAULT_FLOCK)
    ap.add_argument("--no-crown", action="store_true",
                    help="the readings do not crown the flying pilot (the averaged one flies)")
    ap.add_argument("--x1", default="10,20,30,40,50,60,70,80,90",
                    help="marks of simulated 1x play, s")
    ap.add_argument("--max", default="5,10,20,30", help="marks of flying time at max, s ('' skips)")
    ap.add_argument("--efficiency-seeds", type=int, default=2)
    ap.add_argument("--ratios", default="0.125,0.0625,0.03125",
                    help="ratios: replay ratios to compare at max")
    ap.add_argument("--ratio-marks", default="200000,400000,800000,1600000",
                    help="ratios: env-step marks")
    ap.add_argument("--budget", type=int, default=150_000, help="efficiency: env steps at most")
    ap.add_argument("--every", type=int, default=10_000,
                    help="efficiency: env steps between readings (each crowns, as the game's)")
    ap.add_argument("--load", default="", help="what else ran on the machine (for the record)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    level = LEVELS[args.level]
    meter = SkillMeter(level)
    t0 = time.perf_counter()
    best = meter.evaluation.best
    print(f"skill meter: {meter.episodes} held-out runs (seed {meter.seed})"
          + (f", oracle mean {best.mean():.2f} gates" if best is not None else "")
          + f" ({time.perf_counter() - t0:.1f} s)")
    results = json.loads(args.out.read_text()) if args.out.is_file() else {}
    machine = {"cpus": os.cpu_count(), "platform": platform.platform(),
               "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
               "load_note": args.load or "shared machine: other helpers' jobs were running"}
    common = {"level": level.name, "flock": args.flock, "machine": machine,
              "crown": not args.no_crown,
              "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime())}
    LADDER[0] = args.ladder
    CROWN[0] = not args.no_crown
    for item in args.set:
        key, _, value = item.partition("=")
        CHANGES[key.strip()] = json.loads(value)
    seeds = range(args.seed0, args.seed0 + args.seeds)
    if args.part == "main":
        x1 = [run_1x(level, s, args.flock, _marks(args.x1), meter) for s in seeds
              ] if args.x1 else []
        mx = [run_max(level, s, args.flock, _marks(args.max), meter) for s in seeds
              ] if args.max else []
        summary = _summary(x1, mx)
        table = goals_table(x1, mx)
        print(table)
        key = "main" if not args.tag else f"main:{args.tag}"
        results[key] = {**common, "restart": RESTARTS[0], "changes": CHANGES,
                        "pacing": config_pacing(level), "goals": GOALS,
                        "summary": summary, "table": table.splitlines(), "x1": x1, "max": mx}
        print(json.dumps(summary, indent=1))
    elif args.part == "compare":
        runs = {r: [run_flock_1x(level, s, args.flock, _marks(args.x1), r, meter)
                    for s in range(args.seeds)] for r in RESTARTS}
        results["compare"] = {**common, "runs": runs, "mean": {
            r: _mean_curve(v) for r, v in runs.items()}}
        print(json.dumps(results["compare"]["mean"], indent=1))
    elif args.part == "ratios":
        marks = [int(m) for m in _marks(args.ratio_marks)]
        runs = {f"1/{1 / r:g}": [run_ratios(level, s, args.flock, r, marks, meter)
                                 for s in range(args.seeds)] for r in _marks(args.ratios)}
        results["ratios"] = {**common, "runs": runs}
    elif args.part == "pretrained":
        results["pretrained"] = {**common, "lr": "load_pilot: lr x 0.01, no early phase",
                                 **run_pretrained(level, args.flock, _marks(args.max),
                                                  args.budget // 5, meter)}
    else:
        one = [steps_to(level, s, 1, 0.9, args.every, args.budget, meter, None)
               for s in range(args.efficiency_seeds)]
        many = [steps_to(level, s, args.flock, 0.9, args.every, args.budget, meter,
                         None) for s in range(args.efficiency_seeds)] if args.flock > 1 else []
        key = "efficiency" if not args.tag else f"efficiency:{args.tag}"
        results[key] = {**common, "goal": 0.9, "checked_every_env_steps": args.every,
                        "budget_env_steps": args.budget, "one_flyer": one, "flock": many}
    results.setdefault("command", {})[args.part] = " ".join(["python", *sys.argv])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")


def _mean_curve(runs: list[dict]) -> dict[str, float]:
    marks: dict[str, list[float]] = {}
    for r in runs:
        for c in r["curve"]:
            marks.setdefault(f"{c['seconds']:g}s", []).append(c["score_over_oracle"])
    return {k: round(sum(v) / len(v), 4) for k, v in marks.items()}


def config_pacing(level) -> dict:
    """The replay pacing the runs used (the preset's, with ``--set`` changes)."""
    cfg = learner_config(level, **CHANGES)
    return {k: getattr(cfg, k) for k in ("updates_per_step_early", "updates_per_step",
                                         "updates_per_step_flock", "updates_per_step_top")
            if hasattr(cfg, k)}


def largest_fall(curve: list[dict], after: float = 30.0) -> float:
    """The largest drop of a reading at or after ``after`` seconds below the best before it."""
    best, fall = 0.0, 0.0
    for c in curve:
        best = max(best, c["score_over_oracle"])
        if c["seconds"] >= after:
            fall = max(fall, best - c["score_over_oracle"])
    return round(fall, 4)


def first_at(curve: list[dict], goal: float, key: str) -> float | None:
    """``key`` of the first reading at or above ``goal`` (None: never)."""
    return next((c[key] for c in curve if c["score_over_oracle"] >= goal), None)


def goals_table(x1: list[dict], mx: list[dict]) -> str:
    """Every seed's 1x curve, its largest fall after 30 s, env steps to 0.9; the worst and the
    median of each column; then the max-speed curves."""
    lines = []
    if x1:
        marks = [c["seconds"] for c in x1[0]["curve"]]
        head = ["seed", *[f"{m:g} s" for m in marks], "fall>30s", "steps to 0.9"]
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        cols: list[list[float]] = [[] for _ in marks]
        falls, steps = [], []
        for r in x1:
            vals = [c["score_over_oracle"] for c in r["curve"]]
            for col, v in zip(cols, vals, strict=True):
                col.append(v)
            fall = largest_fall(r["curve"])
            falls.append(fall)
            st = first_at(r["curve"], 0.9, "env_steps")
            steps.append(st)
            lines.append("| " + " | ".join([str(r["seed"]), *[f"{v:.2f}" for v in vals],
                                            f"{fall:.2f}", f"{st:,}" if st else "-"]) + " |")
        reached = [s for s in steps if s is not None]
        worst_steps = "-" if len(reached) < len(steps) else f"{max(reached):,}"
        lines.append("| worst | " + " | ".join(f"{min(c):.2f}" for c in cols)
                     + f" | {max(falls):.2f} | {worst_steps} |")
        lines.append("| median | " + " | ".join(f"{np.median(c):.2f}" for c in cols)
                     + f" | {np.median(falls):.2f} | "
                     + (f"{int(np.median(reached)):,}" if reached else "-") + " |")
    if mx:
        marks = [c["seconds"] for c in mx[0]["curve"]]
        lines.append("")
        lines.append("| seed (max) | " + " | ".join(f"{m:g} s" for m in marks)
                     + " | env steps/s |")
        lines.append("|" + "---|" * (len(marks) + 2))
        for r in mx:
            vals = [c["score_over_oracle"] for c in r["curve"]]
            lines.append(f"| {r['seed']} | " + " | ".join(f"{v:.2f}" for v in vals)
                         + f" | {r['curve'][-1]['env_steps_per_s']:,} |")
        lines.append("| worst | " + " | ".join(
            f"{min(r['curve'][i]['score_over_oracle'] for r in mx):.2f}"
            for i in range(len(marks))) + " | |")
    return "\n".join(lines)


def _summary(x1: list[dict], mx: list[dict]) -> dict:
    rates = [c["env_steps_per_s"] for r in mx for c in r["curve"]] or [0]
    if not x1:  # --x1 '': max speed only
        return {"max_mean": _mean_curve(mx) if mx else {},
                "max_min": {f"{c['seconds']:g}s": min(r["curve"][i]["score_over_oracle"]
                                                      for r in mx)
                            for i, c in enumerate(mx[0]["curve"])} if mx else {},
                "max_env_steps_per_s_mean": round(sum(rates) / len(rates))}
    worst = max(r["compute_per_sim_s_max"] for r in x1)
    return {"x1_mean": _mean_curve(x1), "x1_min": {
                k: min(c["score_over_oracle"] for r in x1 for c in r["curve"]
                       if f"{c['seconds']:g}s" == k) for k in _mean_curve(x1)},
            "max_mean": _mean_curve(mx) if mx else {},
            "fall_after_30s_worst": max(largest_fall(r["curve"]) for r in x1),
            "compute_per_sim_s_mean": round(sum(r["compute_per_sim_s_mean"] for r in x1)
                                            / len(x1), 3),
            "compute_per_sim_s_worst": worst, "x1_fits_real_time": worst < 1.0,
            "max_env_steps_per_s_mean": round(sum(rates) / len(rates))}


if __name__ == "__main__":
    main()
