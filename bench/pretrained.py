"""The shipped pretrained pilots against their goals, and (``--retrain``) the runs that make them.

Evaluation (always):
- classic: greedy success over 10,000 fresh flights (goal: 100.0%);
- arcade: mean score/oracle over 1,000 held-out 100-gate courses, seed 12345 (goal: >= 0.99),
  each run scored against the exact oracle. The bench also checks that these courses share
  no seed with the validation courses ``train`` picks its checkpoint on (seed 54321).

``--retrain``: runs the exact command in each pilot's model card (with ``--out`` in a
temporary folder), times it (goal for arcade: <= 10 minutes wall) and checks the new file's
weights are bit-for-bit the shipped ones, so the shipped pilots are reproducible.

    python bench/pretrained.py              # evaluations only (about 30 s)
    python bench/pretrained.py --retrain    # also re-makes both pilots (about 8 minutes)
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from game.commands.train import LIVE_EVAL_EPISODES, LIVE_EVAL_SEED  # noqa: E402
from game.sim.evaluation import EVAL_SEED, Evaluation  # noqa: E402
from game.sim.levels import ARCADE, LEVELS  # noqa: E402
from game.wiring.learning import load_pilot, pretrained_path  # noqa: E402

EPISODES = {"classic": 10_000, "arcade": 1_000}
GOALS = {"classic": 1.0, "arcade": 0.99}
TRAIN_GOAL_S = {"arcade": 600.0}
"""Wall-clock goal for re-making a pilot, where there is one."""
RESULTS = ROOT / "bench" / "results" / "pretrained.json"


def evaluate(level: str) -> dict:
    """Flies the shipped pilot of ``level`` over its goal's held-out set."""
    spec = LEVELS[level]
    pilot, _ = load_pilot(pretrained_path(level), spec)
    t0 = time.perf_counter()
    result = Evaluation.prepare(spec, EPISODES[level], EVAL_SEED).run(pilot.act_batch)
    figure = spec.figure(result)
    return {**result, "figure": figure, "goal": GOALS[level], "met": figure >= GOALS[level],
            "seconds": round(time.perf_counter() - t0, 2),
            "card_training_seconds": pilot.card.get("training_seconds"),
            "card_command": pilot.card.get("command")}


def course_overlap() -> int:
    """Course seeds shared by the held-out (evaluate) and validation (train) arcade sets."""
    test = ARCADE.eval_batch(EPISODES["arcade"], EVAL_SEED).course_seed
    val = ARCADE.eval_batch(LIVE_EVAL_EPISODES, LIVE_EVAL_SEED).course_seed
    return len(set(test.tolist()) & set(val.tolist()))


def retrain(level: str, folder: Path) -> dict:
    """Re-runs the card's command into ``folder``; returns its wall time and bit-equality."""
    shipped = pretrained_path(level)
    argv = shlex.split(load_pilot(shipped, LEVELS[level])[0].card["command"])
    out = folder / f"{level}.safetensors"
    argv[argv.index("--out") + 1] = str(out)
    argv[0] = sys.executable
    print("  " + shlex.join(argv), flush=True)
    t0 = time.perf_counter()
    subprocess.run([*argv, "--no-progress"], cwd=ROOT, check=True)
    wall = time.perf_counter() - t0
    new, old = load_file(out), load_file(shipped)
    identical = new.keys() == old.keys() and all(np.array_equal(new[k], old[k]) for k in old)
    return {"command": shlex.join(argv[1:]), "wall_seconds": round(wall, 1),
            "identical_weights": identical,
            **({"goal_seconds": TRAIN_GOAL_S[level], "met": wall <= TRAIN_GOAL_S[level]}
               if level in TRAIN_GOAL_S else {})}


def main() -> None:
    """Evaluates (and with ``--retrain`` re-makes) both pilots; writes the JSON results."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--retrain", action="store_true", help="re-run each card's train command")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()

    report: dict = {"evaluation": {}, "course_seeds_shared_with_validation": course_overlap()}
    print(f"held-out arcade courses sharing a seed with the validation courses: "
          f"{report['course_seeds_shared_with_validation']}")
    for level in LEVELS:
        r = report["evaluation"][level] = evaluate(level)
        what = LEVELS[level].figure_name
        print(f"{level}: {what} {r['figure']:.4f} over {r['episodes']:,} held-out runs "
              f"(seed {r['seed']}), goal {r['goal']}: {'met' if r['met'] else 'NOT met'}; "
              f"the card says training took {r['card_training_seconds']} s")
    if args.retrain:
        report["retrain"] = {}
        with tempfile.TemporaryDirectory() as tmp:
            for level in LEVELS:
                print(f"re-making the {level} pilot:")
                r = report["retrain"][level] = retrain(level, Path(tmp))
                print(f"  {r['wall_seconds']} s wall; weights identical to the shipped file: "
                      f"{r['identical_weights']}"
                      + (f"; goal <= {r['goal_seconds']:.0f} s: {'met' if r['met'] else 'NOT met'}"
                         if "met" in r else ""), flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
