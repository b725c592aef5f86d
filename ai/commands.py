"""Headless commands: ``main.py train`` and ``main.py evaluate``, and greedy evaluation helpers.

Called from ``game.cli`` with its parsed ``argparse.Namespace``; user mistakes
raise ``game.cli.CliError`` (one line, exit status 2).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import assets
from ai.atomic import atomic_write_bytes
from ai.autopilot import Autopilot
from ai.config import LearnerConfig, default_config
from ai.errors import PilotError
from ai.learner import Learner
from game.arcade import ArcadeBatch
from game.classic import ClassicBatch
from game.cli import CliError
from game.physics import PHYSICS_VERSION

PILOTS_DIR = assets.path("pilots")
"""Where the shipped pretrained pilots live (``<level>.safetensors``), as package data."""
ARCADE_EVAL_GATES = 100
"""Course length (gates) for arcade evaluation; the score is capped at this."""
ARCADE_TRAIN_GATES = 1_000
"""Course length while training arcade: long, as the game's course is endless."""
EVAL_SEED = 12345
"""Default seed of ``main.py evaluate``: its courses/flights are the held-out test set."""
LIVE_EVAL_SEED = 54321
"""Seed of the small held-out set scored while training (the live curve); not EVAL_SEED."""
LIVE_EVAL_EPISODES = 300
"""Runs in each live evaluation during ``train`` (the validation set)."""
LIVE_EVAL_POINTS = 50
"""Live evaluations per training run (the rows of the learning-curve CSV)."""
ARCADE_LR_FINAL = 1e-5
"""``train`` on arcade anneals the learning rate down to this by its last step."""
ARCADE_TRAIN_BATCH = 128
"""``train`` on arcade draws twice the game's batch per gradient step. Smoother gradients
settle the pilot closer to the oracle (held-out score/oracle at 1.5M steps, measured before
the averaged pilot: 0.987 against 0.974 for 64); the game keeps 64, which costs less per
tick while it learns live."""
CARD_EVAL_EPISODES = 1_000
"""Held-out runs (seed ``EVAL_SEED``) flown after training for the model card's score."""

OBS_LAYOUT = {
    "classic": "y, v_y",
    "arcade": "y, v_y, dx_next_wall, next_gap_y - y, next_half_gap, dx_wall_after, "
              "gap_after_y - y, half_gap_after",
}
"""The observation vector of each level, in order (written into every model card)."""

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
    """Flies ``episodes`` arcade runs over the first ``n_gates`` gates of fresh courses.

    A run ends when it crashes or has passed ``n_gates`` gates. The course goes on
    past them, as the game's endless course does, so on the way to the last counted
    gate the pilot sees the next gate ahead (gates are identical to those of the
    ``n_gates``-gate course: course prefixes are stable). The ``n_gates``-gate oracle is
    then a ceiling for the score. A world that ends at ``n_gates`` would instead show
    the pilot an open field after the last gate, which it never meets in the game.

    Returns:
        ``(scores, course_seeds, v_y0)``: gates passed (at most ``n_gates``), and each run's
        course seed and initial vertical speed (both needed for the run's exact oracle).
    """
    batch = ArcadeBatch(episodes, seed=seed, n_gates=n_gates + 1, autoreset=False)
    v_y0 = batch.v_y.copy()
    obs = batch.observation()
    done = np.zeros(episodes, dtype=bool)
    scores = np.zeros(episodes, dtype=np.int64)
    while not done.all():
        obs, _, terminated = batch.step(policy(obs))
        ended = (terminated | (batch.score >= n_gates)) & ~done
        scores[ended] = np.minimum(batch.score[ended], n_gates)
        done |= ended
    return scores, batch.course_seed.copy(), v_y0


def arcade_oracle(episodes: int, seed: int, n_gates: int = ARCADE_EVAL_GATES) -> np.ndarray:
    """The exact oracle's best score on each run ``arcade_scores(., episodes, seed)`` flies."""
    from game.oracle import oracle_scores  # numpy search; imported only when needed

    batch = ArcadeBatch(episodes, seed=seed, n_gates=n_gates, autoreset=False)
    return oracle_scores(batch.course_seed, n_gates, batch.v_y.copy())


def score_over_oracle(scores: np.ndarray, best: np.ndarray) -> np.ndarray:
    """Each run's score divided by its oracle score (1.0 where even the oracle scores 0)."""
    best = np.asarray(best, dtype=np.float64)
    return np.where(best > 0, scores / np.maximum(best, 1.0), 1.0)


@dataclass
class Evaluation:
    """Greedy flights on a fixed set: the courses (arcade) or flights (classic) of one seed."""

    level: str
    episodes: int
    seed: int
    best: np.ndarray | None = None
    """Arcade only: the oracle's score per run, computed once."""

    @classmethod
    def prepare(cls, level: str, episodes: int, seed: int) -> Evaluation:
        """Sets up the evaluation, running the exact oracle on arcade courses once."""
        best = arcade_oracle(episodes, seed) if level == "arcade" else None
        return cls(level, episodes, seed, best)

    def run(self, policy: Policy) -> dict:
        """Flies every flight greedily with ``policy``; returns the JSON-able figures.

        Classic: ``success_rate``. Arcade: ``mean_score``, ``mean_score_over_oracle``,
        and ``success_rate``, the share of runs that scored the oracle's best.
        """
        out: dict = {"level": self.level, "episodes": self.episodes, "seed": self.seed}
        if self.level == "classic":
            success = classic_success(policy, self.episodes, self.seed)
            rate = float(success.mean())
            out.update(success_rate=rate, mean_score=rate, successes=int(success.sum()))
            return out
        scores, _, _ = arcade_scores(policy, self.episodes, self.seed)
        ratio = score_over_oracle(scores, self.best)
        out.update(success_rate=float((scores >= self.best).mean()),
                   mean_score=float(scores.mean()), mean_score_over_oracle=float(ratio.mean()),
                   min_score_over_oracle=float(ratio.min()), mean_oracle=float(np.mean(self.best)),
                   n_gates=ARCADE_EVAL_GATES)
        return out


def headline(level: str, result: dict) -> str:
    """The one figure that says how good a pilot is: success rate or mean score/oracle."""
    if level == "classic":
        return f"success {100 * result['success_rate']:.1f}%"
    return f"score/oracle {result['mean_score_over_oracle']:.3f}"


def train_learner(level: str, steps: int, seed: int, envs: int = 1,
                  progress: Callable[[int, Learner], None] | None = None,
                  config: LearnerConfig | None = None, lr_final: float | None = None
                  ) -> Learner:
    """Trains a fresh learner for ``steps`` env steps (the level's defaults unless ``config``).

    ``envs`` flyers are stepped together in the batched world and all feed the one
    replay memory; each transition goes through the same ``act``/``observe`` path the
    game uses, so this is the game's learner, not a second implementation. Seeded: the
    learner and the world both take ``seed``, and nothing else is random.

    ``lr_final``: anneal the learning rate geometrically from ``config.lr`` (after the
    early phase) to this value at the last step. A run with an end can settle its
    weights this way; the game, which learns forever, keeps ``config.lr``.
    """
    learner = Learner(level, config or default_config(level), seed=seed)
    c = learner.config
    anneal_from = c.early_steps
    world = (ClassicBatch(envs, seed=seed) if level == "classic"
             else ArcadeBatch(envs, seed=seed, n_gates=ARCADE_TRAIN_GATES))
    obs = world.observation()
    done = 0
    while done < steps:
        actions = np.array([learner.act(o) for o in obs])
        next_obs, rewards, terminated = world.step(actions)
        # Autoreset: a finished run's real last observation is kept aside in final_obs.
        final = world.final_obs
        for i in range(envs):
            if done >= steps:
                break
            end = bool(terminated[i])
            # An arcade run that passed its course's last gate was cut off by this finite
            # world, not ended: a truncation, stored bootstrapped. (Skipping it instead
            # leaves only crashes at the last gate in memory, and the pilot learns to fail it.)
            truncated = end and level == "arcade" and rewards[i] >= 0
            learner.observe(obs[i], int(actions[i]), float(rewards[i]),
                            final[i] if end else next_obs[i], end and not truncated, truncated)
            done += 1
            if end:
                score = float(rewards[i] > 0) if level == "classic" else float(world.final_score[i])
                learner.end_episode(score)
        obs = next_obs
        if lr_final is not None and done > anneal_from:
            frac = min(1.0, (done - anneal_from) / max(steps - anneal_from, 1))
            learner.set_lr(c.lr * (lr_final / c.lr) ** frac)
        if progress is not None:
            progress(done, learner)
    return learner


def _clock(seconds: float) -> str:
    m, s = divmod(int(seconds + 0.5), 60)
    return f"{m // 60}:{m % 60:02d}:{s:02d}" if m >= 60 else f"{m}:{s:02d}"


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
        elapsed = max(now - self.start, 1e-9)
        rate = done / elapsed
        eta = (self.total - done) / rate if rate > 0 else 0.0
        bar = "#" * int(24 * done / self.total)
        sys.stderr.write(f"\r[{bar:<24}] {done:,}/{self.total:,} {rate:,.0f} steps/s "
                         f"ETA {_clock(eta)} {text}   ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\n")
            sys.stderr.flush()


CURVE_FIELDS = ("env_steps", "seconds", "episodes", "updates", "epsilon", "recent_mean_score",
                "eval_mean_score", "eval_score")
"""Columns of the learning-curve CSV. ``eval_score`` is score/oracle (arcade) or success rate
(classic) over the live evaluation set."""


def train_command(args) -> str:
    """The command line that reproduces a training run (written into the model card)."""
    return shlex.join(["python", "main.py", "train", "--level", args.level, "--envs",
                       str(args.envs), "--steps", str(args.steps), "--seed", str(args.seed),
                       "--out", str(args.out)])


def train(args) -> int:
    """``main.py train``: trains headless with the level's defaults and writes a pilot file.

    Alongside the pilot it writes the learning curve (``<out>.csv``): a greedy
    evaluation on a small held-out set every ``steps / LIVE_EVAL_POINTS`` env steps.
    The pilot's model card holds the final evaluation on the full held-out set.
    """
    out = Path(args.out)
    if out.suffix != ".safetensors":
        raise CliError(f"--out must end with .safetensors, got {out}")
    if out.exists() and out.is_dir():
        raise CliError(f"--out {out} is a folder")
    if not out.parent.is_dir():
        raise CliError(f"--out folder {out.parent} does not exist")
    level = args.level
    live = Evaluation.prepare(level, LIVE_EVAL_EPISODES, LIVE_EVAL_SEED)
    bar = _Progress(args.steps, not args.no_progress)
    every = max(1, args.steps // LIVE_EVAL_POINTS)
    rows: list[dict] = []
    state: dict = {"next": every, "text": "", "best": -1.0, "pilot": None, "at": 0}
    start = time.perf_counter()

    def record(done: int, learner: Learner) -> None:
        result = live.run(learner.greedy_batch)
        recent = learner.recent_scores
        rows.append({"env_steps": done, "seconds": round(time.perf_counter() - start, 2),
                     "episodes": learner.episodes, "updates": learner.updates,
                     "epsilon": round(learner.epsilon, 4),
                     "recent_mean_score": round(sum(recent) / len(recent), 3) if recent else "",
                     "eval_mean_score": round(result["mean_score"], 3),
                     "eval_score": round(result.get("mean_score_over_oracle",
                                                    result["success_rate"]), 4)})
        state["text"] = f"live {headline(level, result)}"
        score = result.get("mean_score_over_oracle", result["success_rate"])
        if level == "arcade" and score >= state["best"]:  # ties: the later, longer-trained one
            state.update(best=score, pilot=learner.autopilot(), at=done)

    def progress(done: int, learner: Learner) -> None:
        if done >= state["next"]:
            state["next"] += every
            record(done, learner)
        recent = learner.recent_scores
        mean = f"recent {sum(recent) / len(recent):.2f} " if recent else ""
        bar.update(done, f"eps {learner.epsilon:.2f} {mean}{state['text']}")

    # Classic trains with the in-game settings. An arcade run, whose Q-values must be precise
    # near the gaps' edges, draws larger batches and settles its weights by annealing the
    # learning rate over its finite length.
    config, lr_final = default_config(level), None
    if level == "arcade":
        config = dataclasses.replace(config, batch_size=ARCADE_TRAIN_BATCH)
        lr_final = ARCADE_LR_FINAL
    learner = train_learner(level, args.steps, args.seed, args.envs, progress, config=config,
                            lr_final=lr_final)
    if not rows or rows[-1]["env_steps"] != learner.env_steps:
        record(learner.env_steps, learner)
    bar.update(args.steps, state["text"], force=True)
    bar.close()
    seconds = time.perf_counter() - start
    # Arcade's greedy score still swings between neighbouring checkpoints, so the pilot kept
    # is the one that flew the validation courses best (never the held-out test courses).
    pilot = state["pilot"] if level == "arcade" else learner.autopilot()
    episodes = CARD_EVAL_EPISODES
    final = Evaluation.prepare(level, episodes, EVAL_SEED).run(pilot.act_batch)
    card = {"level": level, "physics_version": PHYSICS_VERSION, "observation": OBS_LAYOUT[level],
            "training_steps": learner.env_steps, "training_episodes": learner.episodes,
            "training_updates": learner.updates, "training_seconds": round(seconds, 1),
            "envs": args.envs, "seed": args.seed, "command": train_command(args),
            "config": "default_config(level)" + (
                f", batch_size {config.batch_size}, lr annealed to {lr_final:g} over the run"
                if lr_final is not None else ""),
            **({"selected": f"best of {len(rows)} checkpoints on {LIVE_EVAL_EPISODES} "
                            f"validation courses (seed {LIVE_EVAL_SEED}): step {state['at']}, "
                            f"score/oracle {state['best']:.4f}"} if level == "arcade" else {}),
            "evaluation": final,
            "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "nan_rollbacks": learner.nan_rollbacks}
    curve_path = out.with_suffix(".csv")
    try:
        pilot.save(out, card)
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=CURVE_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_bytes(curve_path, text.getvalue().encode())
    except OSError as exc:
        raise CliError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"trained {level} for {learner.env_steps} steps ({learner.episodes} episodes, "
          f"{learner.updates} updates, {args.envs} envs) in {seconds:.1f} s; "
          f"{headline(level, final)} on {episodes} held-out runs (seed {EVAL_SEED})")
    print(f"wrote {out} and its learning curve {curve_path}")
    return 0


def format_card(pilot: Autopilot) -> str:
    """The model card as indented ``key: value`` lines (empty card: a one-line note)."""
    if not pilot.card:
        return "  (no model card)"
    lines = []
    for key, value in pilot.card.items():
        text = value if isinstance(value, str) else json.dumps(value)
        lines.append(f"  {key}: {text}")
    return "\n".join(lines)


def evaluate(args) -> int:
    """``main.py evaluate``: prints the pilot's model card, flies it greedily, prints the score."""
    if args.path == "pretrained":
        path = pretrained_path(args.level or "classic")
    else:
        path = Path(args.path)
    try:
        pilot = Autopilot.load(path, level=args.level)
    except PilotError as exc:
        raise CliError(str(exc)) from None
    level = pilot.level
    result = Evaluation.prepare(level, args.episodes, args.seed).run(pilot.act_batch)
    if args.json:
        print(json.dumps({**result, "card": pilot.card}))
        return 0
    print(f"{path}: {level} pilot, layers {list(pilot.sizes)}\nmodel card:\n{format_card(pilot)}")
    if level == "classic":
        print(f"classic success rate {100 * result['success_rate']:.1f}% "
              f"({result['successes']}/{args.episodes} flights, seed {args.seed})")
    else:
        print(f"arcade mean score {result['mean_score']:.2f} gates, mean score/oracle "
              f"{result['mean_score_over_oracle']:.4f} ({args.episodes} runs of "
              f"{ARCADE_EVAL_GATES} gates, seed {args.seed})")
    return 0
