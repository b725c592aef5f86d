"""``main.py train``: a fresh learner trained headless on a batch of flyers, and its pilot file.

The batch feeds the one learner through ``game.sim.rollout.BatchRollout``, the game's own
act/observe path. Alongside the pilot the run writes its learning curve: a greedy
evaluation on a small validation set every ``steps / LIVE_EVAL_POINTS`` env steps.
The pilot's model card holds the final evaluation on the held-out test set.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shlex
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from ai.atomic import atomic_write_bytes
from ai.autopilot import Autopilot
from ai.config import LearnerConfig
from ai.errors import PilotError
from ai.learner import Learner
from game.commands.checks import writable, write_or_fallback
from game.errors import CliError
from game.sim.evaluation import EVAL_SEED, VALIDATION_SEED, Evaluation
from game.sim.levels import Level
from game.sim.plot import curve_png
from game.sim.rollout import BatchRollout
from game.wiring.learning import learner_config, new_learner
from game.wiring.onnx_pilots import is_onnx, save_pilot_onnx

LIVE_EVAL_SEED = VALIDATION_SEED
"""Seed of the small held-out set scored while training (the live curve); not EVAL_SEED."""
LIVE_EVAL_EPISODES = 300
"""Runs in each live evaluation during ``train`` (the validation set)."""
LIVE_EVAL_POINTS = 50
"""Live evaluations per training run (the rows of the learning-curve CSV)."""
CARD_EVAL_EPISODES = 1_000
"""Held-out runs (seed ``EVAL_SEED``) flown after training for the model card's score."""
CURVE_FIELDS = ("env_steps", "seconds", "episodes", "updates", "epsilon", "recent_mean_score",
                "eval_mean_score", "eval_score")
"""Columns of the learning-curve CSV. ``eval_score`` is the level's figure (score/oracle or
success rate) over the live evaluation set."""

Progress = Callable[[int, Learner], None]
"""Called after every batch step with the env steps done so far and the learner."""


@dataclass(frozen=True)
class TrainConfig:
    """``main.py train``: what to train and where the pilot goes."""

    level: Level
    """The level to train on (its learner preset and training settings apply)."""
    out: Path
    """Pilot file to write (``.safetensors``, or ``.onnx``: an ONNX graph with the card in its
    metadata); the curve goes next to it as ``.csv``."""
    steps: int = 20_000
    """Env steps (transitions) to train for, summed over the flyers."""
    seed: int = 0
    """Seeds the learner and the flyers' worlds; nothing else is random."""
    envs: int = 1
    """Flyers stepped together in the batched world, all feeding the one learner."""
    progress: bool = True
    """Show a progress bar (with the live score) on stderr."""
    team: str | None = None
    """A lesson-lab team's learner instead of the game's (``game.wiring.lab_teams.TEAMS``:
    'tutorial', 'replay', 'target', 'double'; 'ours' or None is the game's learner)."""
    tensorboard: Path | None = None
    """Folder to log TensorBoard scalars into (the curve, the loss, the skill); None: none."""

    def command(self) -> str:
        """The command line that reproduces this run (written into the model card)."""
        team = ["--team", self.team] if self.team not in (None, "ours") else []
        return shlex.join(["python", "main.py", "train", "--level", self.level.name, *team,
                           "--envs", str(self.envs), "--steps", str(self.steps), "--seed",
                           str(self.seed), "--out", str(self.out)])


def train_learner(level: Level, steps: int, seed: int, envs: int = 1,
                  progress: Progress | None = None, config: LearnerConfig | None = None,
                  lr_final: float | None = None) -> Learner:
    """Trains a fresh learner for ``steps`` env steps (the level's preset unless ``config``).

    ``envs`` flyers are stepped together and all feed the one replay memory. Seeded: the
    learner and the world both take ``seed``, and nothing else is random.

    ``lr_final``: anneal the learning rate geometrically from ``config.lr`` (after the
    early phase) to this value at the last step. A run with an end can settle its
    weights this way; the game, which learns forever, keeps ``config.lr``.
    """
    learner = new_learner(level, seed, config or learner_config(level, play=False))
    c = learner.config
    fly(learner, level, steps, seed, envs, progress, lr_final, c.early_steps, c.lr)
    return learner


def fly(learner: Any, level: Level, steps: int, seed: int, envs: int,
        progress: Progress | None = None, lr_final: float | None = None,
        early_steps: int = 0, lr: float = 0.0) -> None:
    """``envs`` flyers of ``level`` feed ``learner`` for ``steps`` env steps (annealing its
    learning rate from ``lr`` after ``early_steps`` to ``lr_final``, if given)."""
    rollout = BatchRollout(level, level.train_batch(envs, seed), learner)
    done = 0
    while done < steps:
        done += rollout.step(limit=steps - done)
        if lr_final is not None and done > early_steps:
            frac = min(1.0, (done - early_steps) / max(steps - early_steps, 1))
            learner.set_lr(lr * (lr_final / lr) ** frac)
        if progress is not None:
            progress(done, learner)


class LiveCurve:
    """The live side of a run: the validation curve, the best checkpoint and the progress bar.

    Called as the ``progress`` of ``train_learner``.
    """

    def __init__(self, level: Level, steps: int, show: bool, board: Any = None) -> None:
        self.level = level
        self.board = board
        """A ``torch.utils.tensorboard.SummaryWriter``, or None."""
        self.live = Evaluation.prepare(level, LIVE_EVAL_EPISODES, LIVE_EVAL_SEED)
        self.every = max(1, steps // LIVE_EVAL_POINTS)
        self.next = self.every
        self.rows: list[dict[str, Any]] = []
        self.text = ""
        self.best = -1.0
        """The best live figure so far (``level.train.keep_best``), and its pilot and step."""
        self.pilot: Autopilot | None = None
        self.at = 0
        self.bar = tqdm(total=steps, unit="steps", disable=not show, file=sys.stderr,
                        mininterval=0.1, dynamic_ncols=True)
        self._shown = 0.0
        self.start = time.perf_counter()

    def __call__(self, done: int, learner: Learner) -> None:
        if done >= self.next:
            self.next += self.every
            self.record(done, learner)
        now = time.perf_counter()
        if now - self._shown >= 0.1:  # formatting the postfix every step would cost more
            self._shown = now
            recent = learner.recent_scores
            mean = f"recent {sum(recent) / len(recent):.2f} " if recent else ""
            self.bar.set_postfix_str(f"eps {learner.epsilon:.2f} {mean}{self.text}",
                                     refresh=False)
            if self.board is not None:
                self.log_training(done, learner)
        self.bar.update(done - self.bar.n)

    def log_training(self, done: int, learner: Learner) -> None:
        """TensorBoard: the loss, epsilon, learning rate and recent training scores."""
        loss, recent = learner.last_loss, learner.recent_scores
        if loss is not None:
            self.board.add_scalar("train/loss", loss, done)
        self.board.add_scalar("train/epsilon", learner.epsilon, done)
        self.board.add_scalar("train/lr", learner.lr, done)
        if recent:
            self.board.add_scalar("train/recent_mean_score", sum(recent) / len(recent), done)

    def record(self, done: int, learner: Learner) -> None:
        """One live evaluation: a curve row, and the checkpoint if it is the best so far."""
        result = self.live.run(learner.greedy_batch)
        recent = learner.recent_scores
        figure = self.level.figure(result)
        self.rows.append({
            "env_steps": done, "seconds": round(time.perf_counter() - self.start, 2),
            "episodes": learner.episodes, "updates": learner.updates,
            "epsilon": round(learner.epsilon, 4),
            "recent_mean_score": round(sum(recent) / len(recent), 3) if recent else "",
            "eval_mean_score": round(result["mean_score"], 3), "eval_score": round(figure, 4)})
        self.text = f"live {self.level.headline(result)}"
        if self.board is not None:  # the skill: the level's figure on the validation courses
            tag = self.level.figure_name.replace(' ', '_').replace('/', '_over_')
            self.board.add_scalar(f"eval/{tag}", figure, done)
            self.board.add_scalar("eval/mean_score", result["mean_score"], done)
        if self.level.train.keep_best and figure >= self.best:  # ties: the later one
            self.best, self.pilot, self.at = figure, learner.autopilot(), done

    def finish(self, learner: Learner) -> None:
        """The last row (at the run's end) and the bar's final state."""
        if not self.rows or self.rows[-1]["env_steps"] != learner.env_steps:
            self.record(learner.env_steps, learner)
        self.bar.set_postfix_str(self.text, refresh=False)
        self.bar.update(self.bar.total - self.bar.n)
        self.bar.close()

    def csv(self) -> bytes:
        """The learning curve as CSV."""
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=CURVE_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return text.getvalue().encode()


@dataclass
class TrainReport:
    """What a ``train`` run did and wrote."""

    cfg: TrainConfig
    learner: Learner
    seconds: float
    evaluation: dict[str, Any]
    """The final evaluation on ``CARD_EVAL_EPISODES`` held-out runs."""
    curve_path: Path
    written: Path | None = None
    """Where the pilot went: ``--out``, or a fallback file if ``--out`` failed at the end."""
    note: str = ""
    """Why the pilot is not at ``--out`` (empty when it is)."""

    def lines(self) -> list[str]:
        """The summary for a person."""
        c, lr, level = self.cfg, self.learner, self.cfg.level
        return [f"trained {level.name} for {lr.env_steps} steps ({lr.episodes} episodes, "
                f"{lr.updates} updates, {c.envs} envs) in {self.seconds:.1f} s; "
                f"{level.headline(self.evaluation)} on {CARD_EVAL_EPISODES} held-out runs "
                f"(seed {EVAL_SEED})",
                f"wrote {self.written or c.out} and its learning curve {self.curve_path} "
                f"(plotted: {self.curve_path.with_suffix('.png')})",
                *([f"gravity-flyer: {self.note}"] if self.note else [])]


PILOT_SUFFIXES = (".safetensors", ".onnx")
"""What ``--out`` may end with: a pilot file, or an ONNX policy with the same card."""


def check_pilot_out(out: Path) -> None:
    """Raises ``CliError`` unless ``out`` can name a pilot file to write (``--out``)."""
    if out.suffix not in PILOT_SUFFIXES:
        raise CliError(f"--out must end with .safetensors or .onnx, got {out}")
    writable(out)  # a probe file: an unwritable folder fails now, not after the training


def save_pilot(pilot: Autopilot, level: Level, out: Path, card: dict[str, Any]) -> None:
    """Writes ``pilot`` with ``card`` as ``out`` says: safetensors, or ONNX for ``.onnx``."""
    if is_onnx(out):
        try:
            save_pilot_onnx(pilot, level, out, card)
        except PilotError as exc:  # the onnx package is missing
            raise CliError(str(exc)) from None
    else:
        pilot.save(out, card)


def tensorboard_writer(folder: Path) -> Any:
    """A TensorBoard ``SummaryWriter`` logging into ``folder``; ``CliError`` if unavailable."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise CliError("--tensorboard needs the tensorboard package "
                       "(pip install 'gravity-flyer[tensorboard]')") from None
    if folder.exists() and not folder.is_dir():
        raise CliError(f"--tensorboard {folder} is not a folder")
    try:
        return SummaryWriter(log_dir=str(folder))
    except OSError as exc:
        raise CliError(f"cannot log into {folder}: {exc.strerror or exc}") from None


def train(cfg: TrainConfig) -> TrainReport:
    """Trains with the level's settings, then writes the pilot (with its card) and the curve."""
    check_pilot_out(cfg.out)
    if is_onnx(cfg.out):
        require_onnx_cli()  # a missing onnx package fails before the run, not after it
    board = None if cfg.tensorboard is None else tensorboard_writer(cfg.tensorboard)
    try:
        curve = LiveCurve(cfg.level, cfg.steps, cfg.progress, board)
        if cfg.team not in (None, "ours"):
            return _train_team(cfg, curve)
        return _train(cfg, curve)
    finally:
        if board is not None:
            board.close()


def require_onnx_cli() -> None:
    """``CliError`` (one line) unless the onnx package is installed: checked before work."""
    from ai.onnx_io import require_onnx

    try:
        require_onnx()
    except PilotError as exc:
        raise CliError(str(exc)) from None


def _train(cfg: TrainConfig, curve: LiveCurve) -> TrainReport:
    level, settings = cfg.level, cfg.level.train
    # An arcade run, whose Q-values must be precise near the gaps' edges, draws larger
    # batches and settles its weights by annealing the learning rate over its finite length.
    changes = {} if settings.batch_size is None else {"batch_size": settings.batch_size}
    # The shipped pilots' cards were made with the fixed average (their commands re-make them
    # bit for bit); a run keeps the best checkpoint, so a young pilot's average is not flown.
    changes["pilot_average_warmup"] = 0.0
    config = learner_config(level, play=False, **changes)
    learner = train_learner(level, cfg.steps, cfg.seed, cfg.envs, curve, config=config,
                            lr_final=settings.lr_final)
    curve.finish(learner)
    seconds = time.perf_counter() - curve.start
    pilot = curve.pilot if settings.keep_best else learner.autopilot()
    final = Evaluation.prepare(level, CARD_EVAL_EPISODES, EVAL_SEED).run(pilot.act_batch)
    card = _card(cfg, learner, curve, seconds, final, "learner_config(level)")
    return _write(cfg, learner, pilot, card, curve, seconds, final)


def _train_team(cfg: TrainConfig, curve: LiveCurve) -> TrainReport:
    """A lesson-lab team's learner (the tutorial's, with or without replay and a target
    network), trained as the lab's learners learn: one gradient step per transition, no
    annealing; the pilot is its last weights."""
    from game.wiring.lab_teams import TEAMS, new_team_learner

    level = cfg.level
    learner = new_team_learner(cfg.team, level, cfg.seed)
    fly(learner, level, cfg.steps, cfg.seed, cfg.envs, curve)
    curve.finish(learner)
    seconds = time.perf_counter() - curve.start
    pilot = learner.autopilot()
    final = Evaluation.prepare(level, CARD_EVAL_EPISODES, EVAL_SEED).run(pilot.act_batch)
    spec = TEAMS[cfg.team].spec
    card = _card(cfg, learner, curve, seconds, final, f"lab team {cfg.team!r} ({spec.name}: "
                 f"{spec.adds})", keep_best=False)
    return _write(cfg, learner, pilot, card, curve, seconds, final)


def _write(cfg: TrainConfig, learner: Any, pilot: Autopilot, card: dict[str, Any],
           curve: LiveCurve, seconds: float, final: dict[str, Any]) -> TrainReport:
    """Writes the pilot with its card, the curve's CSV and its plot; a finished run is never
    thrown away: if ``--out`` fails now, it goes to a named fallback file."""

    def write(out: Path) -> None:
        save_pilot(pilot, cfg.level, out, card)
        atomic_write_bytes(out.with_suffix(".csv"), curve.csv())
        atomic_write_bytes(out.with_suffix(".png"), curve_png(out.with_suffix(".csv")))

    written, note = write_or_fallback(cfg.out, write, "pilot")
    return TrainReport(cfg, learner, seconds, final, written.with_suffix(".csv"), written, note)


def _card(cfg: TrainConfig, learner: Any, curve: LiveCurve, seconds: float,
          final: dict[str, Any], config: str, keep_best: bool = True) -> dict[str, Any]:
    level, settings = cfg.level, cfg.level.train
    tuned = ""
    if settings.lr_final is not None and keep_best:
        tuned = (f", batch_size {learner.config.batch_size}, lr annealed to "
                 f"{settings.lr_final:g} over the run")
    selected = {}
    if settings.keep_best and keep_best:
        selected["selected"] = (f"best of {len(curve.rows)} checkpoints on {LIVE_EVAL_EPISODES} "
                                f"validation courses (seed {LIVE_EVAL_SEED}): step {curve.at}, "
                                f"{level.figure_name} {curve.best:.4f}")
    return {"level": level.name, "physics_version": level.physics_version,
            "observation": level.obs_layout, "training_steps": learner.env_steps,
            "training_episodes": learner.episodes, "training_updates": learner.updates,
            "training_seconds": round(seconds, 1), "envs": cfg.envs, "seed": cfg.seed,
            "command": cfg.command(), "config": config + tuned, **selected,
            "evaluation": final, "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "nan_rollbacks": getattr(learner, "nan_rollbacks", 0)}
