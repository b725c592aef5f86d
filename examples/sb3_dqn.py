"""Stable-Baselines3 DQN on ``flyer/Arcade-v0``: train, save as ONNX, and let the game judge it.

Needs the ``bench`` and ``onnx`` extras (``pip install -e '.[bench,onnx]'``)::

    python examples/sb3_dqn.py --steps 200000 --out sb3_dqn.onnx --tensorboard runs
    python main.py evaluate sb3_dqn.onnx                          # the same figures again
    python main.py --autopilot sb3_dqn.onnx --pilot autopilot     # watch it fly
    tensorboard --logdir runs                                     # SB3's own curves

The env is the plain Gymnasium one (``import game`` registers it). The settings are
rl-baselines3-zoo's tuned DQN for CartPole with a 64x64 network, as ``bench/vs_rivals.py``
uses. At the end the Q-network is exported to ONNX with the level's metadata, and the
ONNX file (not the torch model) flies the held-out courses, scored against the exact
oracle: the figure ``main.py evaluate`` gives for it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import gymnasium as gym
import torch
from stable_baselines3 import DQN

import game  # noqa: F401  (registers flyer/Classic-v0 and flyer/Arcade-v0)
from game.sim.evaluation import EVAL_SEED, Evaluation
from game.wiring.onnx_pilots import load_onnx, save_torch_onnx

PARAMS = dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000,
              gamma=0.99, target_update_interval=10, train_freq=256, gradient_steps=128,
              exploration_fraction=0.16, exploration_final_eps=0.04,
              policy_kwargs={"net_arch": [64, 64]})


def judge(path: Path, episodes: int) -> dict:
    """The project's evaluation of the ONNX file: gates and score/oracle, held-out courses."""
    policy, level = load_onnx(path)
    result = Evaluation.prepare(level, episodes, EVAL_SEED).run(policy.act_batch)
    print(f"{path}: {level.report(result)}")
    return result


def main(argv: list[str] | None = None) -> dict:
    """Trains, writes the ONNX policy, evaluates it and prints the figures; returns them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200_000, help="env steps to train for")
    ap.add_argument("--episodes", type=int, default=100,
                    help="held-out courses the ONNX policy flies at the end")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("sb3_dqn.onnx"), help="ONNX file to write")
    ap.add_argument("--tensorboard", type=Path, default=Path("runs"),
                    help="TensorBoard folder (SB3 logs into DIR/DQN_N)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # a 64x64 network: more threads only add overhead
    env = gym.make("flyer/Arcade-v0", n_gates=1_000)  # long courses: no early end in training
    start = time.perf_counter()
    model = DQN("MlpPolicy", env, seed=args.seed, verbose=0, device="cpu",
                tensorboard_log=str(args.tensorboard), **PARAMS)
    model.learn(total_timesteps=args.steps, tb_log_name="DQN")
    seconds = time.perf_counter() - start
    q_net = model.q_net.eval()  # obs (B, 8) -> Q-values (B, 2): the greedy policy's argmax
    save_torch_onnx(q_net, "arcade", args.out, card={
        "source": "Stable-Baselines3 DQN (examples/sb3_dqn.py)", "training_steps": args.steps,
        "training_seconds": round(seconds, 1), "seed": args.seed,
        "command": shlex.join(["python", "examples/sb3_dqn.py", *(sys.argv[1:] if argv is None
                                                                  else argv)])})
    print(f"SB3 DQN: {args.steps} steps in {seconds:.1f} s; wrote {args.out}")
    result = judge(args.out, args.episodes)
    return {"steps": args.steps, "seconds": seconds, "out": str(args.out), **result}


if __name__ == "__main__":
    main()
