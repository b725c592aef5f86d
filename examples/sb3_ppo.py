"""Stable-Baselines3 PPO on the native vector env: train, save as ONNX, let the game judge it.

Needs the ``bench`` and ``onnx`` extras (``pip install -e '.[bench,onnx]'``)::

    python examples/sb3_ppo.py --steps 1000000 --envs 16 --out sb3_ppo.onnx --tensorboard runs
    python main.py evaluate sb3_ppo.onnx                          # the same figures again
    python main.py --autopilot sb3_ppo.onnx --pilot autopilot     # watch it fly

``gym.make_vec("flyer/Arcade-v0", num_envs=N)`` steps all N flyers in one numpy batch (no
Python loop over envs). SB3 wants its own ``VecEnv`` interface, so ``NativeVecEnv`` below
adapts the Gymnasium vector env to it (about 40 lines: SB3's autoreset is Gymnasium's
``SAME_STEP``, and the ended runs' last observations go into ``terminal_observation``),
and ``VecMonitor`` records the episode returns SB3 logs. At the end the policy's action
logits (``action_net`` on the actor's features) are exported to ONNX with the level's
metadata, and the ONNX file flies the held-out courses, scored against the exact oracle.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecEnv, VecMonitor

import game  # noqa: F401  (registers flyer/Classic-v0 and flyer/Arcade-v0)
from game.sim.evaluation import EVAL_SEED, Evaluation
from game.wiring.onnx_pilots import load_onnx, save_torch_onnx

PARAMS = dict(n_steps=256, batch_size=512, n_epochs=10, learning_rate=3e-4, gamma=0.99,
              gae_lambda=0.95, clip_range=0.2, ent_coef=0.0,
              policy_kwargs={"net_arch": [64, 64]})
"""SB3's PPO defaults, with a 64x64 network like ours and 256 steps per env per rollout."""


class NativeVecEnv(VecEnv):
    """The game's numpy vector env (``gym.make_vec``) behind SB3's ``VecEnv`` interface."""

    def __init__(self, num_envs: int, n_gates: int = 1_000) -> None:
        self.envs = gym.make_vec("flyer/Arcade-v0", num_envs=num_envs, n_gates=n_gates,
                                 autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
        super().__init__(num_envs, self.envs.single_observation_space,
                         self.envs.single_action_space)
        self._actions = np.zeros(num_envs, dtype=np.int64)

    def reset(self) -> np.ndarray:
        obs, _ = self.envs.reset(seed=self._seeds[0])  # env i gets seed + i, as SB3 seeds
        self._reset_seeds()
        return obs

    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions, dtype=np.int64).reshape(self.num_envs)

    def step_wait(self):
        obs, rewards, terminated, truncated, info = self.envs.step(self._actions)
        dones = terminated | truncated
        infos: list[dict[str, Any]] = [{} for _ in range(self.num_envs)]
        for i in np.flatnonzero(dones).tolist():
            infos[i]["terminal_observation"] = info["final_obs"][i]
            infos[i]["TimeLimit.truncated"] = bool(truncated[i] and not terminated[i])
        return obs, rewards.astype(np.float32), dones, infos

    def close(self) -> None:
        self.envs.close()

    def get_attr(self, attr_name: str, indices=None) -> list[Any]:
        return [getattr(self.envs, attr_name)] * len(list(self._get_indices(indices)))

    def set_attr(self, attr_name: str, value: Any, indices=None) -> None:
        setattr(self.envs, attr_name, value)

    def env_method(self, method_name: str, *args, indices=None, **kwargs) -> list[Any]:
        raise NotImplementedError("the native vector env has no per-env methods")

    def env_is_wrapped(self, wrapper_class: type, indices=None) -> list[bool]:
        return [False] * len(list(self._get_indices(indices)))


class Logits(torch.nn.Module):
    """The PPO policy's action logits for a batch of observations (what ONNX gets)."""

    def __init__(self, policy: Any) -> None:
        super().__init__()
        self.policy = policy

    def forward(self, obs: torch.Tensor) -> torch.Tensor:
        p = self.policy
        features = p.extract_features(obs, p.pi_features_extractor)
        return p.action_net(p.mlp_extractor.forward_actor(features))


def judge(path: Path, episodes: int) -> dict:
    """The project's evaluation of the ONNX file: gates and score/oracle, held-out courses."""
    policy, level = load_onnx(path)
    result = Evaluation.prepare(level, episodes, EVAL_SEED).run(policy.act_batch)
    print(f"{path}: {level.report(result)}")
    return result


def main(argv: list[str] | None = None) -> dict:
    """Trains, writes the ONNX policy, evaluates it and prints the figures; returns them."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=1_000_000, help="env steps over all envs")
    ap.add_argument("--envs", type=int, default=16, help="flyers in the vector env")
    ap.add_argument("--n-steps", type=int, default=PARAMS["n_steps"],
                    help="steps per env in each rollout")
    ap.add_argument("--episodes", type=int, default=100,
                    help="held-out courses the ONNX policy flies at the end")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=Path("sb3_ppo.onnx"), help="ONNX file to write")
    ap.add_argument("--tensorboard", type=Path, default=Path("runs"),
                    help="TensorBoard folder (SB3 logs into DIR/PPO_N)")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)  # a 64x64 network: more threads only add overhead
    env = VecMonitor(NativeVecEnv(args.envs))
    params = {**PARAMS, "n_steps": args.n_steps,
              "batch_size": min(PARAMS["batch_size"], args.n_steps * args.envs)}
    start = time.perf_counter()
    model = PPO("MlpPolicy", env, seed=args.seed, verbose=0, device="cpu",
                tensorboard_log=str(args.tensorboard), **params)
    model.learn(total_timesteps=args.steps, tb_log_name="PPO")
    seconds = time.perf_counter() - start
    env.close()
    save_torch_onnx(Logits(model.policy).eval(), "arcade", args.out, card={
        "source": "Stable-Baselines3 PPO (examples/sb3_ppo.py)",
        "training_steps": int(model.num_timesteps), "training_seconds": round(seconds, 1),
        "envs": args.envs, "seed": args.seed,
        "command": shlex.join(["python", "examples/sb3_ppo.py", *(sys.argv[1:] if argv is None
                                                                  else argv)])})
    print(f"SB3 PPO: {model.num_timesteps} steps ({args.envs} envs) in {seconds:.1f} s; "
          f"wrote {args.out}")
    result = judge(args.out, args.episodes)
    return {"steps": int(model.num_timesteps), "seconds": seconds, "out": str(args.out),
            **result}


if __name__ == "__main__":
    main()
