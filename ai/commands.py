"""Headless commands: ``main.py train`` and ``main.py evaluate``, and greedy evaluation helpers.

Called from ``game.cli`` with its parsed ``argparse.Namespace``; user mistakes
raise ``game.cli.CliError`` (one line, exit status 2).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ai.autopilot import Autopilot
from ai.config import default_config
from ai.errors import PilotError
from ai.learner import Learner
from game.arcade import ArcadeBatch
from game.atomic import atomic_write_bytes
from game.classic import ClassicBatch
from game.cli import CliError
from game.physics import PHYSICS_VERSION

PILOTS_DIR = Path(__file__).resolve().parent.parent / "assets" / "pilots"
"""Where the shipped pretrained pilots live (``<level>.safetensors``)."""
ARCADE_EVAL_GATES = 100
"""Course length (gates) for arcade evaluation; the score is capped at this."""

ARCADE_TRAIN_GATES = 1_000
"""Course length while training arcade: long, as the game's course is endless."""

CARD_EVAL_EPISODES = {"classic": 1000, "arcade": 100}
"""Fresh flights flown greedily after training for the model card."""
CARD_EVAL_SEED = 2027
"""Seed of those flights (differs from training's and from evaluate's default)."""
OBSERVATION_NAMES = {
    "classic": "y, v_y",
    "arcade": "y, v_y, dx_next_wall, next_gap_dy, next_half_gap, dx_wall_after, "
              "after_gap_dy, after_half_gap",
}
"""The observation vector, for the model card."""

Policy = Callable[[np.ndarray], np.ndarray]
"""Greedy actions for a batch of observations ``(B, obs)``."""


def pretrained_path(level: str) -> Path:
    """The shipped pilot for ``level``."""
    return PILOTS_DIR / f"{level}.safetensors"


def classic_success(policy: Policy, episodes: int, seed: int) -> np.ndarray:
    """Flies ``episodes`` fresh classic flights at once; returns a bool success per flight."""
    batch = ClassicBatch(episodes, seed=seed, autoreset=False)
    obs = batch.observation()
    done = np.zeros(episodes, dtype=bool)
    success = np.zeros(episodes, dtype=bool)
    while not done.all():  # every flight ends by tick 40, at the right edge at the latest
        obs, reward, terminated = batch.step(policy(obs))
        ended = terminated & ~done
        success |= ended & (reward > 0)
        done |= terminated
    return success


def arcade_scores(policy: Policy, episodes: int, seed: int, n_gates: int = ARCADE_EVAL_GATES
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flies ``episodes`` arcade runs on fresh courses; returns ``(scores, course_seeds, v_y0)``.

    ``v_y0`` are the runs' initial vertical speeds, which the oracle needs too.
    """
    batch = ArcadeBatch(episodes, seed=seed, n_gates=n_gates, autoreset=False)
    v_y0 = batch.v_y.copy()
    obs = batch.observation()
    done = np.zeros(episodes, dtype=bool)
    scores = np.zeros(episodes, dtype=np.int64)
    while not done.all():
        obs, _, terminated = batch.step(policy(obs))
        ended = terminated & ~done
        scores[ended] = batch.score[ended]
        done |= terminated
    return scores, batch.course_seed.copy(), v_y0


@dataclass
class Evaluation:
    """A fixed set of fresh flights (and, on arcade, their best possible scores) to fly greedily."""

    level: str
    episodes: int
    seed: int
    best: np.ndarray | None = None
    """Arcade: the oracle's best score on each course; None on classic."""

    @classmethod
    def prepare(cls, level: str, episodes: int, seed: int) -> Evaluation:
        """Draws the flights for ``seed``; on arcade also asks the oracle for each course."""
        if level == "classic":
            return cls(level, episodes, seed)
        from game.oracle import oracle_scores  # another module; imported only when needed

        batch = ArcadeBatch(episodes, seed=seed, n_gates=ARCADE_EVAL_GATES, autoreset=False)
        best = oracle_scores(batch.course_seed.copy(), ARCADE_EVAL_GATES, v_y0=batch.v_y.copy())
        return cls(level, episodes, seed, np.asarray(best, dtype=np.float64))

    def run(self, policy: Policy) -> dict:
        """Flies every flight greedily with ``policy``; returns the JSON-able figures."""
        out: dict = {"level": self.level, "episodes": self.episodes, "seed": self.seed}
        if self.level == "classic":
            rate = float(classic_success(policy, self.episodes, self.seed).mean())
            out.update(success_rate=rate, mean_score=rate)
            return out
        scores, _, _ = arcade_scores(policy, self.episodes, self.seed)
        best = self.best
        ratio = np.where(best > 0, scores / np.maximum(best, 1), 1.0)
        # Success on arcade: the best possible score on that course.
        out.update(success_rate=float((scores >= best).mean()), mean_score=float(scores.mean()),
                   mean_score_over_oracle=float(ratio.mean()), n_gates=ARCADE_EVAL_GATES)
        return out


class _Progress:
    """A one-line progress bar on stderr (redrawn at most ~10 times a second)."""

    def __init__(self, total: int, enabled: bool) -> None:
        self.total = total
        self.enabled = enabled
        self.start = time.perf_counter()
        self.last = 0.0

    def update(self, done: int, text: str = "", force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (now - self.last < 0.1 and not force):
            return
        self.last = now
        frac = done / self.total
        bar = "#" * int(30 * frac)
        rate = done / max(now - self.start, 1e-9)
        sys.stderr.write(f"\r[{bar:<30}] {done}/{self.total} steps {rate:,.0f}/s {text}   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


def train_learner(level: str, steps: int, seed: int, envs: int = 1,
                  progress: Callable[[int, Learner], None] | None = None) -> Learner:
    """Trains a fresh learner with the level's defaults for ``steps`` env steps.

    ``envs`` flyers are stepped together in the batched world; each of their
    transitions goes through the same ``act``/``observe`` path the game uses.
    """
    learner = Learner(level, default_config(level), seed=seed)
    world = (ClassicBatch(envs, seed=seed) if level == "classic"
             else ArcadeBatch(envs, seed=seed, n_gates=ARCADE_TRAIN_GATES))
    obs = world.observation()
    done = 0
    while done < steps:
        actions = np.array([learner.act(o) for o in obs])
        next_obs, rewards, terminated = world.step(actions)
        # Autoreset: a finished classic flight's real last observation is kept aside.
        final = world.final_obs if level == "classic" else next_obs
        for i in range(envs):
            if done >= steps:
                break
            end = bool(terminated[i])
            crash_or_edge = end and (level == "classic" or rewards[i] < 0)
            if end and not crash_or_edge:
                # An arcade course ran out of gates: a time limit of this finite world, not an
                # ending of the endless game, and its real next observation is gone. Skip it.
                learner.end_episode(float(world.final_score[i]))
                continue
            learner.observe(obs[i], int(actions[i]), float(rewards[i]),
                            final[i] if end else next_obs[i], end, False)
            done += 1
            if end:
                score = float(rewards[i] > 0) if level == "classic" else float(world.final_score[i])
                learner.end_episode(score)
        obs = next_obs
        if progress is not None:
            progress(done, learner)
    return learner


def _write_curve(path: Path, learner: Learner) -> None:
    """The learning curve as CSV next to the pilot, ending with the last step."""
    points = list(learner.curve)
    recent = learner.recent_scores
    if recent and (not points or points[-1][0] != learner.env_steps):
        points.append((learner.env_steps, sum(recent) / len(recent)))
    lines = ["env_steps,mean_score_last_100"] + [f"{s},{v:.6g}" for s, v in points]
    atomic_write_bytes(path, ("\n".join(lines) + "\n").encode())


def train(args) -> int:
    """``main.py train``: trains headless with the in-game defaults and writes a pilot file."""
    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise CliError(f"--out must end with .safetensors, got {out}")
    if out.exists() and out.is_dir():
        raise CliError(f"--out {out} is a folder")
    bar = _Progress(args.steps, not args.no_progress)

    def progress(done: int, learner: Learner) -> None:
        recent = learner.recent_scores
        mean = f"recent {sum(recent) / len(recent):.2f}" if recent else ""
        bar.update(done, f"eps {learner.epsilon:.2f} {mean}")

    start = time.perf_counter()
    learner = train_learner(args.level, args.steps, args.seed, args.envs, progress)
    bar.update(args.steps, force=True)
    bar.close()
    seconds = time.perf_counter() - start
    level = args.level
    episodes = CARD_EVAL_EPISODES[level]
    card = {
        "level": level,
        "physics_version": PHYSICS_VERSION,
        "observation": OBSERVATION_NAMES[level],
        "training_steps": args.steps,
        "seed": args.seed,
        "envs": args.envs,
        "command": f"python main.py train --level {level} --envs {args.envs} "
                   f"--steps {args.steps} --seed {args.seed} --out {out}",
        "episodes": learner.episodes,
        "updates": learner.updates,
        "nan_rollbacks": learner.nan_rollbacks,
        "evaluation": Evaluation.prepare(level, episodes, CARD_EVAL_SEED).run(
            learner.greedy_batch),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    try:
        learner.autopilot().save(out, card)
        _write_curve(out.with_suffix(".csv"), learner)
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"trained {args.level} for {args.steps} steps ({learner.episodes} episodes, "
          f"{learner.updates} updates) in {seconds:.1f} s; wrote {out}")
    return 0


def evaluate(args) -> int:
    """``main.py evaluate``: flies a pilot greedily and prints how well it does."""
    if args.path == "pretrained":
        path = pretrained_path(args.level or "classic")
    else:
        path = Path(args.path)
    try:
        pilot = Autopilot.load(path, level=args.level)
    except PilotError as exc:
        raise CliError(str(exc)) from None
    result = Evaluation.prepare(pilot.level, args.episodes, args.seed).run(pilot.act_batch)
    if pilot.level == "classic":
        text = (f"{path}: classic success rate {100 * result['success_rate']:.1f}% "
                f"({args.episodes} fresh flights, seed {args.seed})")
    else:
        text = (f"{path}: arcade mean score {result['mean_score']:.2f} gates, mean score/oracle "
                f"{result['mean_score_over_oracle']:.3f} ({args.episodes} runs of "
                f"{ARCADE_EVAL_GATES} gates, seed {args.seed})")
    if args.json:
        print(json.dumps(result))
        return 0
    print(text)
    if pilot.card:
        print("model card:")
        for key, value in pilot.card.items():
            shown = json.dumps(value) if isinstance(value, dict | list) else value
            print(f"  {key}: {shown}")
    return 0
