"""The examples' figures: each trains once, and our learner trains on the same budget.

For each example (``examples/sb3_dqn.py``, ``examples/sb3_ppo.py``, ``examples/rllib_ppo.py``)
this runs the script's ``main`` with its default settings and a step budget, and takes what
it prints: env steps, training seconds, and its ONNX file's evaluation on the held-out
courses (``main.py evaluate``'s seed 12345), scored against the exact oracle. Then our
learner trains on the same env-step budget with the same number of flyers
(``train_learner``: the in-game settings, as ``bench/vs_rivals.py``; without ``main.py
train``'s live validation curve, whose 50 evaluations cost the same at any budget), and its
greedy pilot flies the same courses. Seconds are training only, on both sides.

One run per row, seed 0: a measurement, not a distribution. Say the machine's load with the
figures (the script prints ``os.getloadavg`` before and after each run).

    python bench/examples.py                            # all three (an hour on a loaded machine)
    python bench/examples.py --only sb3_dqn --steps 20000   # a quick look
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from game.commands.train import train_learner  # noqa: E402
from game.sim.evaluation import EVAL_SEED, Evaluation  # noqa: E402
from game.sim.levels import ARCADE  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "examples.json"
BUDGETS = {"sb3_dqn": (200_000, 1), "sb3_ppo": (200_000, 16), "rllib_ppo": (100_000, 2)}
"""Env steps and flyers stepped together (DQN: one env; PPO: 16 envs; RLlib: 2 runners)."""


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_example(name: str, steps: int, episodes: int, folder: Path) -> dict:
    out, board = folder / f"{name}.onnx", folder / "runs"
    common = ["--episodes", str(episodes), "--out", str(out), "--tensorboard", str(board)]
    if name == "rllib_ppo":
        iterations = max(1, steps // 4000)  # the script's default batch of 4,000 env steps
        argv = ["--iterations", str(iterations), "--checkpoint", str(folder / "ckpt"), *common]
    else:
        argv = ["--steps", str(steps), *common]
    figures = load(name).main(argv)
    return {"steps": figures["steps"], "seconds": round(figures["seconds"], 1),
            "mean_score": figures["mean_score"],
            "score_over_oracle": figures["mean_score_over_oracle"]}


def run_ours(steps: int, envs: int, episodes: int) -> dict:
    start = time.perf_counter()
    learner = train_learner(ARCADE, steps, seed=0, envs=envs)
    seconds = time.perf_counter() - start
    result = Evaluation.prepare(ARCADE, episodes, EVAL_SEED).run(learner.greedy_batch)
    return {"steps": int(learner.env_steps), "seconds": round(seconds, 1),
            "mean_score": result["mean_score"],
            "score_over_oracle": result["mean_score_over_oracle"]}


def write(args: argparse.Namespace, rows: list[dict]) -> None:
    summary = {"bench": "examples", "eval_episodes": args.episodes, "eval_seed": EVAL_SEED,
               "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}; "
                          "shared with other workers while measured (see loadavg)",
               "rows": rows}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=tuple(BUDGETS), action="append", default=None)
    ap.add_argument("--steps", type=int, default=None, help="override every budget")
    ap.add_argument("--episodes", type=int, default=1000, help="held-out courses")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    rows = []
    for name in args.only or BUDGETS:
        steps, envs = BUDGETS[name]
        steps = args.steps or steps
        with tempfile.TemporaryDirectory() as tmp:
            load_before = os.getloadavg()
            theirs = run_example(name, steps, args.episodes, Path(tmp))
            ours = run_ours(theirs["steps"], envs, args.episodes)
            load_after = os.getloadavg()
        row = {"example": name, "envs": envs, "example_figures": theirs, "ours": ours,
               "loadavg_before": load_before, "loadavg_after": load_after}
        rows.append(row)
        write(args, rows)  # after each row: a long run keeps what it measured
        print(f"{name}: {theirs['steps']:,} steps in {theirs['seconds']} s, score/oracle "
              f"{theirs['score_over_oracle']:.4f} | ours ({envs} envs): {ours['steps']:,} steps "
              f"in {ours['seconds']} s, score/oracle {ours['score_over_oracle']:.4f} "
              f"(load {load_before[0]:.1f} -> {load_after[0]:.1f})", flush=True)
    print(f"wrote {args.out} (the machine was shared with other work: see the load figures)")


if __name__ == "__main__":
    main()
