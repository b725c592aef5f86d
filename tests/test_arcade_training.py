"""Headless arcade training: the vectorised world feeding one learner, seeded, with its curve."""

from __future__ import annotations

import csv

import numpy as np
import pytest

import game.commands.train
from game.commands.cli import main
from game.commands.train import train_learner
from game.sim.evaluation import Evaluation
from game.sim.levels import ARCADE
from game.sim.oracle import oracle_scores
from game.wiring.learning import load_pilot


@pytest.mark.slow
def test_small_vectorised_run_clearly_beats_a_random_pilot():
    learner = train_learner(ARCADE, 6_000, seed=3, envs=4)
    assert learner.env_steps == 6_000
    evaluation = Evaluation.prepare(ARCADE, 100, seed=777)
    trained = evaluation.run(learner.greedy_batch)
    rng = np.random.default_rng(0)
    random = evaluation.run(lambda obs: rng.integers(0, 2, size=len(obs)))
    assert random["mean_score"] < 0.5
    assert trained["mean_score"] >= 5.0
    assert trained["mean_score"] >= 10 * max(random["mean_score"], 0.1)


def test_training_is_seeded_and_reproducible():
    a = train_learner(ARCADE, 600, seed=5, envs=3)
    b = train_learner(ARCADE, 600, seed=5, envs=3)
    c = train_learner(ARCADE, 600, seed=6, envs=3)
    for wa, wb in zip(a.autopilot().layers, b.autopilot().layers, strict=True):
        np.testing.assert_array_equal(wa, wb)
    assert not np.array_equal(a.autopilot().layers[0], c.autopilot().layers[0])


def test_evaluation_scores_the_runs_its_oracle_searched():
    # The oracle needs each run's course and initial speed: evaluation flies exactly those.
    evaluation = Evaluation.prepare(ARCADE, 20, 9)
    batch = ARCADE.eval_batch(20, 9)
    assert np.abs(batch.v_y).max() > 0  # drawn, not all zero
    np.testing.assert_array_equal(
        evaluation.best, oracle_scores(batch.course_seed, ARCADE.eval_gates, batch.v_y.copy()))
    scores = evaluation.scores(lambda obs: np.zeros(len(obs), dtype=np.int64))
    assert scores.shape == (20,) and (evaluation.best >= scores).all()


def test_train_cli_writes_pilot_card_and_curve(tmp_path, capsys, monkeypatch):
    # Smaller held-out sets than a real run (1,000 for the card) keep this test fast.
    monkeypatch.setattr(game.commands.train, "CARD_EVAL_EPISODES", 30)
    monkeypatch.setattr(game.commands.train, "LIVE_EVAL_EPISODES", 10)
    out = tmp_path / "arcade.safetensors"
    code = main(["train", "--level", "arcade", "--envs", "4", "--steps", "1000", "--seed", "1",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    pilot, _ = load_pilot(out, ARCADE)
    card = pilot.card
    assert card["level"] == "arcade" and card["training_steps"] == 1000 and card["seed"] == 1
    assert card["envs"] == 4 and "--envs 4 --steps 1000 --seed 1" in card["command"]
    assert card["observation"].startswith("y, v_y, dx_next_wall")
    assert card["evaluation"]["episodes"] == 30
    assert 0.0 <= card["evaluation"]["mean_score_over_oracle"] <= 1.0
    assert card["date"].endswith("Z")
    with open(out.with_suffix(".csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) >= 10
    assert int(rows[-1]["env_steps"]) == 1000
    steps = [int(r["env_steps"]) for r in rows]
    assert steps == sorted(steps)
    assert all(0.0 <= float(r["eval_score"]) <= 1.0 for r in rows)
    assert "score/oracle" in capsys.readouterr().out
