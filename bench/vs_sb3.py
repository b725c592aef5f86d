"""Our learner against Stable-Baselines3's DQN on the arcade level, side by side in one run.

Both learn from scratch on the same env-step budget and the same seeds:

* ours: ``game.commands.train.train_learner(ARCADE, steps, seed, envs=1)``, the in-game
  defaults with one flyer (what ``main.py train --level arcade --envs 1`` runs);
* SB3: ``stable_baselines3.DQN`` on ``flyer/Arcade-v0`` through Gymnasium, with the
  hyperparameters RL Baselines3 Zoo tunes for CartPole-v1 (the closest small
  discrete-control task it has), except a 64-64 network like ours. Its courses are
  as long as ours (1,000 gates) so neither sees a course end early.

Each trained greedy pilot then flies the same 1,000 held-out 100-gate courses
(``main.py evaluate``'s seed 12345), scored against the exact oracle. Wall time is the
training time alone (the evaluation is the same for both).

SB3 is an optional bench dependency (``pip install -e ".[bench]"``; on this machine
``pip install stable-baselines3 "torch==2.13.0"`` so pip keeps the installed torch).

    python bench/vs_sb3.py                      # 3 seeds x 200,000 steps
    python bench/vs_sb3.py --seeds 1 --steps 20000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import game  # noqa: E402,F401  (registers flyer/Arcade-v0)
from game.commands.train import train_learner  # noqa: E402
from game.sim.evaluation import EVAL_SEED, Evaluation  # noqa: E402
from game.sim.levels import ARCADE  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "vs_sb3.json"

SB3_PARAMS = dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000,
                  gamma=0.99, target_update_interval=10, train_freq=256, gradient_steps=128,
                  exploration_fraction=0.16, exploration_final_eps=0.04,
                  policy_kwargs={"net_arch": [64, 64]})
"""rl-baselines3-zoo's tuned DQN for CartPole-v1, with our network width."""


def train_sb3(steps: int, seed: int):
    """SB3 DQN on ``flyer/Arcade-v0`` (one env, as ours); returns the model and wall seconds."""
    import gymnasium as gym
    import torch
    from stable_baselines3 import DQN

    torch.set_num_threads(1)  # the same single thread our learner uses
    env = gym.make("flyer/Arcade-v0", n_gates=ARCADE.train_gates)
    start = time.perf_counter()
    model = DQN("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **SB3_PARAMS)
    model.learn(total_timesteps=steps)
    return model, time.perf_counter() - start


def sb3_policy(model):
    """Greedy batched actions from an SB3 DQN (its own ``predict``, deterministic)."""
    def act(obs: np.ndarray) -> np.ndarray:
        return model.predict(obs, deterministic=True)[0]
    return act


def main() -> None:
    """Runs both learners on each seed and writes ``bench/results/vs_sb3.json``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=200_000)
    ap.add_argument("--episodes", type=int, default=1000, help="held-out courses per evaluation")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    try:
        import stable_baselines3
    except ImportError:
        sys.exit('vs_sb3: needs stable-baselines3: pip install stable-baselines3 "torch==2.13.0"')

    evaluation = Evaluation.prepare(ARCADE, args.episodes, EVAL_SEED)
    rows = []
    for seed in range(args.seeds):
        start = time.perf_counter()
        learner = train_learner(ARCADE, args.steps, seed, envs=1)
        ours_wall = time.perf_counter() - start
        ours = evaluation.run(learner.greedy_batch)
        model, sb3_wall = train_sb3(args.steps, seed)
        sb3 = evaluation.run(sb3_policy(model))
        rows.append({"seed": seed,
                     "ours": {"score_over_oracle": ours["mean_score_over_oracle"],
                              "mean_score": ours["mean_score"], "train_seconds": ours_wall},
                     "sb3": {"score_over_oracle": sb3["mean_score_over_oracle"],
                             "mean_score": sb3["mean_score"], "train_seconds": sb3_wall}})
        print(f"seed {seed}: ours score/oracle {ours['mean_score_over_oracle']:.4f} in "
              f"{ours_wall:.0f} s | SB3 DQN {sb3['mean_score_over_oracle']:.4f} in "
              f"{sb3_wall:.0f} s", flush=True)

    def mean(who: str, key: str) -> float:
        return float(np.mean([r[who][key] for r in rows]))

    summary = {"bench": "vs_sb3", "steps": args.steps, "seeds": args.seeds,
               "eval_episodes": args.episodes, "eval_seed": EVAL_SEED, "n_gates": ARCADE.eval_gates,
               "sb3_version": stable_baselines3.__version__, "sb3_params": SB3_PARAMS,
               "ours_mean_score_over_oracle": mean("ours", "score_over_oracle"),
               "sb3_mean_score_over_oracle": mean("sb3", "score_over_oracle"),
               "ours_mean_train_seconds": mean("ours", "train_seconds"),
               "sb3_mean_train_seconds": mean("sb3", "train_seconds"), "runs": rows}
    summary["ours_higher_score"] = (summary["ours_mean_score_over_oracle"]
                                    > summary["sb3_mean_score_over_oracle"])
    summary["ours_faster"] = summary["ours_mean_train_seconds"] < summary["sb3_mean_train_seconds"]
    print(f"mean over {args.seeds} seeds, {args.steps:,} steps each: ours score/oracle "
          f"{summary['ours_mean_score_over_oracle']:.4f} in "
          f"{summary['ours_mean_train_seconds']:.0f} s; SB3 "
          f"{summary['sb3_mean_score_over_oracle']:.4f} in "
          f"{summary['sb3_mean_train_seconds']:.0f} s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(summary, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
