"""RLlib PPO on ``flyer/Arcade-v0``: the same script runs on a laptop and on a Ray cluster.

Needs the ``rllib`` extra (``pip install -e '.[rllib]'``)::

    python examples/rllib_ppo.py --iterations 50                # local: Ray starts in-process
    RAY_ADDRESS=auto python examples/rllib_ppo.py --runners 32  # on a node of a running cluster
    ray job submit --address http://HEAD:8265 --working-dir . \\
        -- python examples/rllib_ppo.py --runners 32            # from outside the cluster

``ray.init()`` connects to the cluster named by ``RAY_ADDRESS`` (``auto``: the one this
machine belongs to) and starts a local Ray otherwise, so nothing in the script changes.
Every node needs this package (``pip install gravity-flyer`` on the nodes, or ship it
with ``--working-dir .`` / ``runtime_env={"working_dir": ...}``): the env runners build
the env through ``ray.tune.registry.register_env`` and import ``game`` themselves.
"""

from __future__ import annotations

import argparse
import math
import time

import gymnasium as gym
import ray
from ray.rllib.algorithms.ppo import PPOConfig
from ray.tune.registry import register_env

ENV_NAME = "flyer-arcade"
"""The name the env is registered under with Ray Tune."""


def make_env(env_config: dict) -> gym.Env:
    """Builds ``flyer/Arcade-v0`` on whichever worker asks (``import game`` registers it)."""
    import game  # noqa: F401

    return gym.make("flyer/Arcade-v0", **env_config)


def build_config(args: argparse.Namespace) -> PPOConfig:
    """PPO settings: small batches for a smoke run, RLlib's defaults otherwise."""
    return (PPOConfig()
            .environment(ENV_NAME, env_config={"n_gates": args.gates})
            .env_runners(num_env_runners=args.runners,
                         num_envs_per_env_runner=args.envs_per_runner)
            .training(train_batch_size_per_learner=args.batch,
                      minibatch_size=min(128, args.batch), num_epochs=args.epochs, lr=3e-4,
                      gamma=0.99)
            .rl_module(model_config={"fcnet_hiddens": [64, 64]})
            .debugging(seed=args.seed))


def main(argv: list[str] | None = None) -> list[dict]:
    """Trains for ``--iterations``, printing one line per iteration; returns those figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--runners", type=int, default=2,
                    help="env runner actors (0: sample in the driver)")
    ap.add_argument("--envs-per-runner", type=int, default=1)
    ap.add_argument("--batch", type=int, default=4000, help="env steps per training iteration")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--gates", type=int, default=100, help="gates per course")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    ray.init()  # RAY_ADDRESS set: that cluster; unset: a local Ray
    register_env(ENV_NAME, make_env)
    algo = build_config(args).build_algo()
    rows = []
    try:
        for i in range(args.iterations):
            start = time.perf_counter()
            result = algo.train()
            ret = result.get("env_runners", {}).get("episode_return_mean", math.nan)
            steps = result.get("num_env_steps_sampled_lifetime", 0)
            rows.append({"iteration": i + 1, "episode_return_mean": ret, "env_steps": steps})
            print(f"iteration {i + 1}: {steps} env steps, mean episode return {ret:.2f} "
                  f"({time.perf_counter() - start:.1f} s)", flush=True)
    finally:
        algo.stop()
        ray.shutdown()
    return rows


if __name__ == "__main__":
    main()
