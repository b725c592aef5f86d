"""Stable-Baselines3 DQN on ``flyer/Arcade-v0``: train, then fly greedily on held-out courses.

Needs the ``bench`` extra (``pip install -e '.[bench]'``)::

    python examples/sb3_dqn.py --steps 200000
    python examples/sb3_dqn.py --steps 2000 --episodes 5   # a smoke run

The env is the plain Gymnasium one (``import game`` registers it); nothing here is
specific to this project beyond its id. The settings are rl-baselines3-zoo's tuned
DQN for CartPole with a 64x64 network, as ``bench/vs_sb3.py`` uses.
"""

from __future__ import annotations

import argparse
import time

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import DQN

import game  # noqa: F401  (registers flyer/Classic-v0 and flyer/Arcade-v0)

PARAMS = dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000,
              gamma=0.99, target_update_interval=10, train_freq=256, gradient_steps=128,
              exploration_fraction=0.16, exploration_final_eps=0.04,
              policy_kwargs={"net_arch": [64, 64]})


def evaluate(model: DQN, episodes: int, seed: int) -> float:
    """Mean gates passed by the greedy policy over ``episodes`` runs (100-gate courses)."""
    env = gym.make("flyer/Arcade-v0")
    scores = []
    obs, info = env.reset(seed=seed)
    while len(scores) < episodes:
        action, _ = model.predict(obs, deterministic=True)
        obs, _, terminated, truncated, info = env.step(int(action))
        if terminated or truncated:
            scores.append(info["score"])
            obs, info = env.reset()
    env.close()
    return float(np.mean(scores))


def main(argv: list[str] | None = None) -> dict:
    """Trains, evaluates and prints one line; returns the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200_000, help="env steps to train for")
    ap.add_argument("--episodes", type=int, default=100, help="greedy evaluation runs")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # a 64x64 network: more threads only add overhead
    env = gym.make("flyer/Arcade-v0", n_gates=1_000)
    start = time.perf_counter()
    model = DQN("MlpPolicy", env, seed=args.seed, verbose=0, device="cpu", **PARAMS)
    model.learn(total_timesteps=args.steps)
    seconds = time.perf_counter() - start
    score = evaluate(model, args.episodes, seed=12345)
    print(f"SB3 DQN: {args.steps} steps in {seconds:.1f} s; greedy mean score "
          f"{score:.2f} gates over {args.episodes} runs")
    return {"steps": args.steps, "seconds": seconds, "mean_score": score}


if __name__ == "__main__":
    main()
