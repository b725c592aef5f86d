"""Our learner against what most people reach for: Stable-Baselines3 DQN and PPO, in one run.

Everyone learns the arcade level (physics v2, ``flyer/Arcade-v0``) from scratch on the same
env-step budget and the same seeds, in this one process, and every ``--every`` env steps the
greedy pilot flies the skill meter's 100 held-out courses (``game.play.skill.SkillMeter``,
score/oracle against the exact oracle). The clock stops while it reads: wall-clock is the
learning alone. Reported per learner and seed: env steps and wall seconds to the first reading
at or above ``--goal`` (0.9), the final reading, and the best one.

Ours reads as the game does: each reading crowns the better of the learner's contenders on
validation courses if it does at least as well there as the champion, and the champion flies
the held-out courses (``game.play.skill.read_and_crown``). The rivals have no champion: their
reading is their greedy policy of the moment, and their best reading (chosen on the held-out
courses themselves, so an upper bound on what keeping a champion would give them) is reported
beside it.

* **SB3 DQN**: ``stable_baselines3.DQN`` on one ``flyer/Arcade-v0`` env, the RL Baselines3 Zoo
  CartPole-v1 settings with our 64-64 network.
* **SB3 PPO**: ``stable_baselines3.PPO`` on the native numpy vector env
  (``gym.make_vec("flyer/Arcade-v0", num_envs=64)``, through a thin SB3 ``VecEnv`` adapter),
  with the usual settings for many small envs (128 steps x 64 envs a rollout, 4 epochs).
* **ours, one flyer**: the game's learner preset on one flyer (``game.sim.rollout.Rollout``),
  its own replay schedule.
* **ours, flock**: the game's flock of 64 and its 64 scouts (``game.play.flock.Flock``) at
  the window's 1x pacing (``ai.pacing``: the flock ratio) and at its top-speed pacing.

Courses are ``ARCADE.train_gates`` long for everyone; the evaluation is the same 100-gate
held-out set for everyone.

    python bench/vs_rivals.py                           # 2 seeds x 200,000 env steps
    python bench/vs_rivals.py --seeds 1 --steps 50000   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

import game  # noqa: E402,F401  (registers flyer/Arcade-v0)
from game.play.flock import DEFAULT_FLOCK, SCOUTS, Flock  # noqa: E402
from game.play.skill import SkillMeter, read_and_crown  # noqa: E402
from game.sim.levels import ARCADE  # noqa: E402
from game.sim.rollout import Rollout  # noqa: E402
from game.wiring.learning import new_learner  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "vs_rivals.json"
DQN_PARAMS = dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000, learning_starts=1000,
                  gamma=0.99, target_update_interval=10, train_freq=256, gradient_steps=128,
                  exploration_fraction=0.16, exploration_final_eps=0.04,
                  policy_kwargs={"net_arch": [64, 64]})
"""rl-baselines3-zoo's tuned DQN for CartPole-v1, with our network width."""
PPO_ENVS = 64
PPO_PARAMS = dict(n_steps=128, batch_size=1024, n_epochs=4, learning_rate=2.5e-4, gamma=0.99,
                  gae_lambda=0.95, ent_coef=0.01, clip_range=0.2,
                  policy_kwargs={"net_arch": [64, 64]})
"""PPO's common settings for many small vector envs (CleanRL's ppo.py / procgen style)."""


class Tracker:
    """The learning clock (stopped while the meter reads) and the readings."""

    def __init__(self, meter: SkillMeter, goal: float, every: int,
                 judge: SkillMeter | None = None) -> None:
        self.meter, self.goal, self.every = meter, goal, every
        self.judge = judge
        """A crowning meter: ours reads through it (``read_and_crown``)."""
        self.next = every
        self.spent = 0.0
        self.t0 = time.perf_counter()
        self.readings: list[dict] = []

    def due(self, env_steps: int) -> bool:
        return env_steps >= self.next

    def read(self, env_steps: int, policy: Any) -> float:
        """Stops the clock, reads the skill (of ``policy``, a callable, or, ours, of what a
        crowning reading of the learner ``policy`` leaves flying), restarts the clock."""
        self.spent += time.perf_counter() - self.t0
        figure = (self.meter.measure(policy) if self.judge is None
                  else read_and_crown(self.judge, policy))
        self.readings.append({"env_steps": int(env_steps), "wall_s": round(self.spent, 2),
                              "score_over_oracle": round(figure, 4)})
        while self.next <= env_steps:
            self.next += self.every
        self.t0 = time.perf_counter()
        return figure

    def result(self) -> dict:
        hit = next((r for r in self.readings if r["score_over_oracle"] >= self.goal), None)
        return {"env_steps_to_goal": hit and hit["env_steps"],
                "wall_s_to_goal": hit and hit["wall_s"],
                "final": self.readings[-1]["score_over_oracle"] if self.readings else None,
                "best": max((r["score_over_oracle"] for r in self.readings), default=None),
                "wall_s": round(self.spent, 2), "readings": self.readings}


def run_ours_one(seed: int, steps: int, tr: Tracker) -> dict:
    learner = new_learner(ARCADE, seed)
    rollout = Rollout(ARCADE, ARCADE.world(seed), learner)
    while learner.env_steps < steps:
        rollout.run(min(tr.next, steps) - learner.env_steps)
        tr.read(learner.env_steps, learner)
    return tr.result()


def run_ours_flock(seed: int, steps: int, tr: Tracker, top: bool) -> dict:
    learner = new_learner(ARCADE, seed)
    flock = Flock(ARCADE, learner, n=DEFAULT_FLOCK, seed=seed, scouts=SCOUTS)
    flock.top = top
    while learner.env_steps < steps:
        flock.step()
        if tr.due(learner.env_steps) or learner.env_steps >= steps:
            tr.read(learner.env_steps, learner)
    return tr.result()


def _callback(tr: Tracker, steps: int):
    from stable_baselines3.common.callbacks import BaseCallback

    class Read(BaseCallback):
        def _on_step(self) -> bool:
            n = self.model.num_timesteps
            if tr.due(n) or n >= steps:
                model = self.model
                tr.read(n, lambda obs: model.predict(obs, deterministic=True)[0])
            return True

    return Read()


def run_dqn(seed: int, steps: int, tr: Tracker) -> dict:
    import gymnasium as gym
    from stable_baselines3 import DQN

    env = gym.make("flyer/Arcade-v0", n_gates=ARCADE.train_gates)
    model = DQN("MlpPolicy", env, seed=seed, verbose=0, device="cpu", **DQN_PARAMS)
    model.learn(total_timesteps=steps, callback=_callback(tr, steps))
    return tr.result()


def native_vec_env(n: int, seed: int):
    """``gym.make_vec``'s native vector env as an SB3 ``VecEnv`` (same-step autoreset)."""
    import gymnasium as gym
    from stable_baselines3.common.vec_env.base_vec_env import VecEnv

    class NativeVec(VecEnv):
        def __init__(self) -> None:
            self.venv = gym.make_vec("flyer/Arcade-v0", num_envs=n, n_gates=ARCADE.train_gates,
                                     autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
            self._actions = None
            super().__init__(n, self.venv.single_observation_space,
                             self.venv.single_action_space)

        def reset(self):
            obs, _ = self.venv.reset(seed=seed)
            return obs

        def step_async(self, actions) -> None:
            self._actions = np.asarray(actions)

        def step_wait(self):
            obs, rewards, term, trunc, info = self.venv.step(self._actions)
            dones = term | trunc
            infos: list[dict] = [{} for _ in range(n)]
            for i in np.flatnonzero(dones):
                infos[i]["terminal_observation"] = info["final_obs"][i]
                infos[i]["TimeLimit.truncated"] = bool(trunc[i] and not term[i])
            return obs, rewards.astype(np.float32), dones, infos

        def close(self) -> None:
            self.venv.close()

        def get_attr(self, attr_name, indices=None):
            return [getattr(self.venv, attr_name, None)] * n

        def set_attr(self, attr_name, value, indices=None) -> None:
            return None

        def env_method(self, method_name, *args, indices=None, **kwargs):
            return [None] * n

        def env_is_wrapped(self, wrapper_class, indices=None):
            return [False] * n

    return NativeVec()


def run_ppo(seed: int, steps: int, tr: Tracker) -> dict:
    from stable_baselines3 import PPO

    model = PPO("MlpPolicy", native_vec_env(PPO_ENVS, seed), seed=seed, verbose=0,
                device="cpu", **PPO_PARAMS)
    model.learn(total_timesteps=steps, callback=_callback(tr, steps))
    return tr.result()


RIVALS = {"ours_flock_top": lambda s, n, tr: run_ours_flock(s, n, tr, top=True),
          "ours_flock_1x": lambda s, n, tr: run_ours_flock(s, n, tr, top=False),
          "ours_one": run_ours_one, "sb3_ppo_64": run_ppo, "sb3_dqn": run_dqn}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=2)
    ap.add_argument("--seed0", type=int, default=0, help="first seed")
    ap.add_argument("--steps", type=int, default=200_000)
    ap.add_argument("--every", type=int, default=10_000, help="env steps between readings")
    ap.add_argument("--goal", type=float, default=0.9)
    ap.add_argument("--only", default=",".join(RIVALS), help="comma-separated learners")
    ap.add_argument("--load", default="", help="what else ran on the machine (for the record)")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    try:
        import stable_baselines3
        import torch
    except ImportError:
        sys.exit('vs_rivals: needs stable-baselines3: pip install -e ".[bench]"')
    torch.set_num_threads(1)  # every learner on one thread, as ours
    meter = SkillMeter(ARCADE)
    judge = SkillMeter(ARCADE, crown=True)  # ours: the game's crowning readings
    meter.evaluation  # noqa: B018  (the oracle once, before any clock runs; judge shares it)
    load0 = os.getloadavg()
    names = [n for n in args.only.split(",") if n]
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for seed in range(args.seed0, args.seed0 + args.seeds):
        for name in names:
            tracker = Tracker(meter, args.goal, args.every,
                              judge if name.startswith("ours") else None)
            res = RIVALS[name](seed, args.steps, tracker)
            runs[name].append({"seed": seed, **res})
            print(f"seed {seed} {name:>15}: to {args.goal}: {res['env_steps_to_goal'] or '-'} "
                  f"env steps, {res['wall_s_to_goal'] or '-'} s; final {res['final']:.3f} "
                  f"(best {res['best']:.3f}) after {res['wall_s']:.0f} s", flush=True)
    summary = {}
    for name, rs in runs.items():
        steps_to = [r["env_steps_to_goal"] for r in rs]
        walls = [r["wall_s_to_goal"] for r in rs]
        summary[name] = {
            "reached": sum(s is not None for s in steps_to), "seeds": len(rs),
            "env_steps_to_goal_worst": None if None in steps_to else max(steps_to),
            "wall_s_to_goal_worst": None if None in walls else max(walls),
            "final_worst": min(r["final"] for r in rs),
            "final_median": float(np.median([r["final"] for r in rs])),
            "best_worst": min(r["best"] for r in rs)}
    print(f"\n| learner | reached {args.goal} | env steps to {args.goal} (worst) | wall s to "
          f"{args.goal} (worst) | final score/oracle (worst) |")
    print("|---|---|---|---|---|")
    for name, s in summary.items():
        print(f"| {name} | {s['reached']}/{s['seeds']} | "
              f"{s['env_steps_to_goal_worst'] or '-'} | {s['wall_s_to_goal_worst'] or '-'} | "
              f"{s['final_worst']:.3f} |")
    out = {"bench": "vs_rivals", "level": "arcade", "physics_version": ARCADE.physics_version,
           "steps": args.steps, "seeds": list(range(args.seed0, args.seed0 + args.seeds)),
           "every": args.every, "goal": args.goal, "ours_crown": True,
           "sb3_version": stable_baselines3.__version__, "dqn_params": DQN_PARAMS,
           "ppo_params": {**PPO_PARAMS, "envs": PPO_ENVS},
           "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                       "loadavg_at_start": [round(x, 2) for x in load0],
                       "loadavg_at_end": [round(x, 2) for x in os.getloadavg()],
                       "load_note": args.load or "shared machine: other helpers' jobs ran"},
           "date": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
           "command": " ".join(["python", *sys.argv]), "summary": summary, "runs": runs}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
