"""Smoke tests of the external-engine examples: a few steps each, never skipped.

Each example trains briefly, writes its policy as ONNX and TensorBoard logs, and prints the
project's evaluation of that ONNX file; the test then evaluates the file through the real
``main.py evaluate`` and gets the same figures. CI installs the extras (``.[bench]`` for
Stable-Baselines3, ``.[rllib]`` for Ray RLlib, ``.[onnx]``).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EPISODES = 5
"""Held-out courses flown at the end of a smoke run (the figure is compared, not judged)."""


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def evaluated_by_main(path: Path) -> dict:
    """``python main.py evaluate PATH --json`` on the same held-out courses."""
    r = subprocess.run([sys.executable, "main.py", "evaluate", str(path), "--episodes",
                        str(EPISODES), "--json"], cwd=ROOT, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert "runs on onnxruntime" in r.stderr
    return json.loads(r.stdout)


def scalar_tags(folder: Path) -> set[str]:
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    runs = EventMultiplexer().AddRunsFromDirectory(str(folder))
    runs.Reload()
    return {tag for run in runs.Runs().values() for tag in run["scalars"]}


def check_run(figures: dict, out: Path, board: Path, printed: str) -> None:
    """The example wrote its ONNX file, which evaluates through main.py to its own figures."""
    assert out.is_file()
    again = evaluated_by_main(out)
    keys = ("mean_score", "mean_score_over_oracle", "episodes", "seed")
    assert {k: again[k] for k in keys} == {k: figures[k] for k in keys}
    assert figures["episodes"] == EPISODES and 0 <= figures["mean_score_over_oracle"] <= 1
    assert f"{out}: arcade mean score {figures['mean_score']:.2f} gates" in printed
    assert again["card"]["training_steps"] == figures["steps"]
    assert board.is_dir()


def test_sb3_dqn_example_trains_exports_onnx_and_is_judged(tmp_path, capsys) -> None:
    out, board = tmp_path / "dqn.onnx", tmp_path / "runs"
    figures = _load("sb3_dqn").main(["--steps", "1500", "--episodes", str(EPISODES), "--seed",
                                     "1", "--out", str(out), "--tensorboard", str(board)])
    assert figures["steps"] == 1500
    check_run(figures, out, board, capsys.readouterr().out)
    assert "train/loss" in scalar_tags(board)  # SB3's own DQN curves


def test_sb3_ppo_example_on_the_native_vector_env(tmp_path, capsys) -> None:
    out, board = tmp_path / "ppo.onnx", tmp_path / "runs"
    figures = _load("sb3_ppo").main(["--steps", "1024", "--envs", "8", "--n-steps", "64",
                                     "--episodes", str(EPISODES), "--out", str(out),
                                     "--tensorboard", str(board)])
    assert figures["steps"] == 1024  # two rollouts of 8 envs x 64 steps
    check_run(figures, out, board, capsys.readouterr().out)
    assert "train/value_loss" in scalar_tags(board)


def test_native_vec_env_adapter_gives_sb3_its_terminal_observations() -> None:
    """SB3's contract: a done env is reset in the same step; its last obs is in the info."""
    import numpy as np

    env = _load("sb3_ppo").NativeVecEnv(4, n_gates=100)
    env.seed(5)
    obs = env.reset()
    ended = 0
    for _ in range(200):
        env.step_async(np.ones(4, dtype=np.int64))  # always JUMP: every run hits the top
        next_obs, rewards, dones, infos = env.step_wait()
        for i in np.flatnonzero(dones):
            ended += 1
            assert infos[i]["terminal_observation"].shape == (8,)
            assert not np.array_equal(infos[i]["terminal_observation"], next_obs[i])
            assert rewards[i] == -1.0
        obs = next_obs
    assert ended >= 4 and obs.shape == (4, 8)


@pytest.mark.slow
def test_rllib_ppo_example_runs_with_a_remote_env_runner(tmp_path: Path) -> None:
    """Two PPO iterations on a local Ray, sampling in one env-runner actor: the env is built
    in another process through ``register_env``, as on a cluster."""
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}  # a local Ray
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    out, board, ckpt = tmp_path / "rl.onnx", tmp_path / "runs", tmp_path / "ckpt"
    r = subprocess.run([sys.executable, str(ROOT / "examples" / "rllib_ppo.py"),
                        "--iterations", "2", "--runners", "1", "--batch", "256",
                        "--epochs", "1", "--episodes", str(EPISODES), "--out", str(out),
                        "--checkpoint", str(ckpt), "--tensorboard", str(board)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    lines = re.findall(r"iteration (\d+): (\d+) env steps, (?:mean episode return (\S+)|no "
                       r"episode ended yet)", r.stdout)
    assert [(i, s) for i, s, _ in lines] == [("1", "256"), ("2", "512")], r.stdout
    # Early flights crash: returns are finite and within [-1, gates passed].
    assert all(math.isfinite(float(x)) and float(x) >= -1 for _, _, x in lines if x), lines
    assert "nan" not in r.stdout
    # Ray's known notices are silenced: no WARNING lines, no echoed runner output.
    assert "WARNING" not in r.stderr and "DeprecationWarning" not in r.stderr, r.stderr
    assert (ckpt / "rllib_checkpoint.json").is_file()
    m = re.search(r"rl\.onnx: arcade mean score (\S+) gates, mean score/oracle (\S+)", r.stdout)
    assert m, r.stdout
    again = evaluated_by_main(out)
    assert (f"{again['mean_score']:.2f}", f"{again['mean_score_over_oracle']:.4f}") == m.groups()
    assert again["card"]["training_steps"] == 512
    assert "rllib/episode_return_mean" in scalar_tags(board)
