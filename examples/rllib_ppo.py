"""RLlib PPO on ``flyer/Arcade-v0``: the same script runs on a laptop and on a Ray cluster.

Needs the ``rllib`` and ``onnx`` extras (``pip install -e '.[rllib,onnx]'``)::

    python examples/rllib_ppo.py --iterations 50                # local: Ray starts in-process
    RAY_ADDRESS=auto python examples/rllib_ppo.py --runners 32  # on a node of a running cluster
    ray job submit --address http://HEAD:8265 --working-dir . \\
        -- python examples/rllib_ppo.py --runners 32            # from outside the cluster

``ray.init()`` connects to the cluster named by ``RAY_ADDRESS`` (``auto``: the one this
machine belongs to) and starts a local Ray otherwise, so nothing in the script changes.
Every node needs this package (``pip install gravity-flyer`` on the nodes, or ship it
with ``--working-dir .`` / ``runtime_env={"working_dir": ...}``): the env runners build
the env through ``ray.tune.registry.register_env`` and import ``game`` themselves.
``ray job submit`` needs ``ray[default]``, which the ``rllib`` extra installs.

What it writes, on the driver: an RLlib checkpoint (``--checkpoint``; Ray's own format,
which pickles: restore it with ``Algorithm.from_checkpoint`` only from a source you trust),
TensorBoard scalars (``--tensorboard``) and the policy as ONNX (``--out``): the module's
action logits with the level's metadata. The game reads only the ONNX file, and its figures
(gates, score/oracle on held-out courses) are printed at the end, as ``main.py evaluate``
gives them.

Output: one line per iteration on stdout. An episode's return is the gates it passed, less
1 if it crashed; an iteration in which no episode ended says so (RLlib reports nan).
Ray's known notices are silenced unless ``--ray-logs``: its INFO and WARNING lines (the
new-API-stack notice, token authentication, GPU monitoring, setup time), the env runners'
echoed output (RLlib's deprecation of its own ``RLModule(config=...)``; an error in a
runner still ends the run with its traceback), and the C++ core worker's log below fatal
(it logged "has constructor arguments in the object store and max_restarts > 0", which is
harmless: env runners restart after a failure and keep their arguments for that). The one
line left on stderr is Ray saying that it set that level.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shlex
import sys
import time
import warnings
from pathlib import Path

import gymnasium as gym

ENV_NAME = "flyer-arcade"
"""The name the env is registered under with Ray Tune."""
QUIET_LOGGERS = ("ray", "ray.rllib", "ray.tune", "ray.train")
"""Ray's Python loggers: only their errors reach the terminal."""


def make_env(env_config: dict) -> gym.Env:
    """Builds ``flyer/Arcade-v0`` on whichever worker asks (``import game`` registers it)."""
    import game  # noqa: F401

    return gym.make("flyer/Arcade-v0", **env_config)


def build_config(args: argparse.Namespace):
    """PPO settings: small batches for a smoke run, RLlib's defaults otherwise."""
    from ray.rllib.algorithms.ppo import PPOConfig

    return (PPOConfig()
            .environment(ENV_NAME, env_config={"n_gates": args.gates})
            .env_runners(num_env_runners=args.runners,
                         num_envs_per_env_runner=args.envs_per_runner)
            .training(train_batch_size_per_learner=args.batch,
                      minibatch_size=min(128, args.batch), num_epochs=args.epochs, lr=3e-4,
                      gamma=0.99)
            .rl_module(model_config={"fcnet_hiddens": [64, 64]})
            .debugging(seed=args.seed, log_level="ERROR"))


def quiet_ray() -> None:
    """Ray's known notices off: only errors from its Python loggers, no deprecations.

    Called after ``import ray`` and ``ray.init``, which set their loggers' levels.
    """
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", category=DeprecationWarning)


def export_onnx(algo, path: Path, card: dict) -> None:
    """The algorithm's policy (its action logits for a batch of observations) as ONNX."""
    import torch

    from game.wiring.onnx_pilots import save_torch_onnx

    class Logits(torch.nn.Module):
        def __init__(self, module) -> None:
            super().__init__()
            self.module = module

        def forward(self, obs: torch.Tensor) -> torch.Tensor:
            return self.module.forward_inference({"obs": obs})["action_dist_inputs"]

    save_torch_onnx(Logits(algo.get_module()).eval(), "arcade", path, card)


def judge(path: Path, episodes: int) -> dict:
    """The project's evaluation of the ONNX file: gates and score/oracle, held-out courses."""
    from game.sim.evaluation import EVAL_SEED, Evaluation
    from game.wiring.onnx_pilots import load_onnx

    policy, level = load_onnx(path)
    result = Evaluation.prepare(level, episodes, EVAL_SEED).run(policy.act_batch)
    print(f"{path}: {level.report(result)}", flush=True)
    return result


def main(argv: list[str] | None = None) -> dict:
    """Trains for ``--iterations``, one line each; writes checkpoint, TensorBoard and ONNX,
    then prints the ONNX policy's evaluation. Returns the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=50)
    ap.add_argument("--runners", type=int, default=2,
                    help="env runner actors (0: sample in the driver)")
    ap.add_argument("--envs-per-runner", type=int, default=1)
    ap.add_argument("--batch", type=int, default=4000, help="env steps per training iteration")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--gates", type=int, default=100, help="gates per training course")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--episodes", type=int, default=100,
                    help="held-out courses the ONNX policy flies at the end")
    ap.add_argument("--out", type=Path, default=Path("rllib_ppo.onnx"), help="ONNX file to write")
    ap.add_argument("--checkpoint", type=Path, default=Path("rllib_checkpoint"),
                    help="folder for the RLlib checkpoint")
    ap.add_argument("--tensorboard", type=Path, default=Path("runs"),
                    help="TensorBoard folder (logs into DIR/rllib_ppo)")
    ap.add_argument("--ray-logs", action="store_true",
                    help="show all of Ray's log lines and the env runners' output")
    args = ap.parse_args(argv)
    if not args.ray_logs:
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")  # read by ray.init
    import ray
    from ray.tune.registry import register_env
    from torch.utils.tensorboard import SummaryWriter

    board = SummaryWriter(log_dir=str(args.tensorboard / "rllib_ppo"))
    # RAY_ADDRESS set: that cluster; unset: a local Ray.
    if args.ray_logs:
        ray.init()
    else:
        ray.init(logging_level=logging.ERROR, log_to_driver=False)
        quiet_ray()
    register_env(ENV_NAME, make_env)
    start = time.perf_counter()
    algo = build_config(args).build_algo()
    rows = []
    try:
        for i in range(args.iterations):
            t = time.perf_counter()
            result = algo.train()
            ret = result.get("env_runners", {}).get("episode_return_mean", math.nan)
            steps = int(result.get("num_env_steps_sampled_lifetime", 0))
            rows.append({"iteration": i + 1, "episode_return_mean": ret, "env_steps": steps})
            said = (f"mean episode return {ret:.2f}" if math.isfinite(ret)
                    else "no episode ended yet")
            print(f"iteration {i + 1}: {steps} env steps, {said} "
                  f"({time.perf_counter() - t:.1f} s)", flush=True)
            if math.isfinite(ret):
                board.add_scalar("rllib/episode_return_mean", ret, steps)
            board.add_scalar("rllib/iteration_seconds", time.perf_counter() - t, steps)
        seconds = time.perf_counter() - start
        checkpoint = algo.save(str(args.checkpoint.resolve())).checkpoint.path
        steps = rows[-1]["env_steps"] if rows else 0
        export_onnx(algo, args.out, {
            "source": "RLlib PPO (examples/rllib_ppo.py)", "training_steps": steps,
            "training_seconds": round(seconds, 1), "seed": args.seed,
            "command": shlex.join(["python", "examples/rllib_ppo.py",
                                   *(sys.argv[1:] if argv is None else argv)])})
    finally:
        board.close()
        algo.stop()
        ray.shutdown()
    print(f"RLlib PPO: {steps} env steps in {seconds:.1f} s; wrote {args.out}, the checkpoint "
          f"{checkpoint} and TensorBoard {args.tensorboard / 'rllib_ppo'}", flush=True)
    figures = judge(args.out, args.episodes)
    return {"rows": rows, "steps": steps, "seconds": seconds, "out": str(args.out), **figures}


if __name__ == "__main__":
    main()
