"""Command line: ``play`` (the default), ``train``, ``evaluate``, ``record``, ``export-pilot``.

Parsing lives here; the work is done by ``game.ui.app`` (the window, imported only
when playing) and by the headless commands beside this module (``train``, ``evaluate``,
``record``, ``saved``), so ``--help`` and bad flags answer without loading pyglet or torch. This
module only parses, calls and prints.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from game.commands.checks import check_args
from game.errors import CliError
from game.play.flock import DEFAULT_FLOCK
from game.play.lab import TEAM_KEYS
from game.sim.evaluation import EVAL_SEED
from game.sim.levels import LEVELS
from game.wiring.play_config import PlayConfig

COMMANDS = ("play", "train", "evaluate", "record", "export-pilot", "lab")
LEARNER = "learner"
"""``evaluate learner``: the learner saved in the data folder instead of a pilot file."""

__all__ = ["COMMANDS", "CliError", "build_parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line instead of usage + message
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text!r}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be between 0 and 2**63-1, got {text!r}")
    return value


def _folder(text: str) -> Path:
    # Path("") is ".": an empty --data-dir (an unset shell variable) would save into cwd.
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a folder, got an empty string")
    return Path(text)


def version() -> str:
    """The installed package's version (``importlib.metadata``)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("gravity-flyer")
    except PackageNotFoundError:  # a checkout that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command (``play`` is also the default, with no command)."""
    parser = _Parser(
        prog="gravity-flyer",
        description="Gravity Flyer: fly with SPACE, or hand the controls to a learning autopilot.",
        epilog="Commands: play (default), train, evaluate, record, export-pilot, lab. "
               "'python main.py train --help' shows a command's options.",
    )
    parser.add_argument("--version", action="version", version=f"gravity-flyer {version()}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    play = sub.add_parser("play", help="open the game window (the default)")
    _add_play_options(play)
    _add_play_options(parser)
    _add_train(sub.add_parser("train", help="train an autopilot headless and write a pilot file"))
    _add_evaluate(sub.add_parser("evaluate",
                                 help="fly a pilot greedily and report how well it does"))
    _add_record(sub.add_parser("record", help="film an autopilot's flight, or a flock learning "
                                              "(--learn), into an MP4 or GIF, headless"))
    _add_export(sub.add_parser("export-pilot",
                               help="write the learner the game saved as a pilot file"))
    _add_lab(sub.add_parser("lab", help="the lesson lab headless: teams with and without replay "
                                        "and a target network race; each team's skill curve"))
    return parser


def _add_train(train: argparse.ArgumentParser) -> None:
    train.add_argument("--level", choices=tuple(LEVELS), default="classic")
    train.add_argument("--steps", type=_positive_int, default=20_000,
                       help="environment steps to train for (default: 20000)")
    train.add_argument("--seed", type=_seed, default=0)
    train.add_argument("--envs", type=_positive_int, default=1,
                       help="flyers stepped together in the vectorised world (default: 1)")
    train.add_argument("--out", type=Path, required=True,
                       help="pilot file to write (.safetensors, or .onnx for an ONNX graph)")
    train.add_argument("--tensorboard", type=_folder, default=None, metavar="DIR",
                       help="log the learning curve, the loss and the skill for TensorBoard")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.add_argument("--team", choices=TEAM_KEYS, default=None,
                       help="train a lesson-lab team's learner (default: the game's, 'ours')")


def _add_evaluate(ev: argparse.ArgumentParser) -> None:
    ev.add_argument("path", help="pilot file (.safetensors or .onnx), 'pretrained', or "
                                 "'learner': the learner the game saved in --data-dir (needs "
                                 "--level; ./learner for a file)")
    ev.add_argument("--level", choices=tuple(LEVELS), default=None,
                    help="level to fly (default: the pilot's own)")
    ev.add_argument("--data-dir", type=_folder, default=None, metavar="DIR",
                    help="with 'learner': the game's data folder (default: the game's own)")
    ev.add_argument("--episodes", type=_positive_int, default=1000)
    ev.add_argument("--seed", type=_seed, default=EVAL_SEED)
    ev.add_argument("--json", action="store_true", help="print one JSON line")


def _add_record(rec: argparse.ArgumentParser) -> None:
    rec.add_argument("--level", choices=tuple(LEVELS), default="arcade")
    rec.add_argument("--autopilot", default=None, metavar="PILOT",
                     help="'pretrained', a pilot file (.safetensors or .onnx), or 'learner' (the "
                          "one saved in the data folder); default: pretrained")
    rec.add_argument("--out", type=Path, required=True, help="flight.mp4 or flight.gif")
    rec.add_argument("--seconds", type=_positive_float, default=10.0,
                     help="length of the flight; with --learn, seconds of play at 1x "
                          "(default: 10)")
    rec.add_argument("--learn", action="store_true",
                     help="film a fresh learner's flock learning from scratch at 1x")
    rec.add_argument("--lab", action="store_true",
                     help="film the lesson lab: teams with and without replay and a target "
                          "network learning at 1x (like --learn: --seconds, --speedup, --fps)")
    rec.add_argument("--teams", type=_lineup, default=None, metavar="A,B,...",
                     help="with --lab: 2 to 4 of tutorial, replay, target, ours")
    rec.add_argument("--flock", type=_positive_int, default=None, metavar="N",
                     help="with --learn: flyers in the flock (default: the game's, "
                          f"{DEFAULT_FLOCK})")
    rec.add_argument("--speedup", type=_positive_float, default=None, metavar="X",
                     help="with --learn: seconds of play per second of film; frames are "
                          "skipped, never learning (default: 1)")
    rec.add_argument("--fps", type=_positive_float, default=None,
                     help="with --learn: frames per second of film (default: one per decision "
                          "at 1x, arcade 15)")
    rec.add_argument("--seed", type=_seed, default=0)
    rec.add_argument("--size", type=_positive_int, default=400, metavar="PX",
                     help="frame width and height in pixels; with --learn the field's, the "
                          "caption goes below it (default: 400)")
    rec.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                     help="where the saved learner is (for --autopilot learner)")


def _add_export(ex: argparse.ArgumentParser) -> None:
    ex.add_argument("--level", choices=tuple(LEVELS), required=True)
    ex.add_argument("--data-dir", type=_folder, default=None, metavar="DIR",
                    help="the game's data folder (default: the game's own)")
    ex.add_argument("--out", type=Path, required=True,
                    help="pilot file to write (.safetensors or .onnx)")
    ex.add_argument("--format", choices=("safetensors", "onnx"), default=None,
                    help="the file's format (default: from --out's suffix)")
    ex.add_argument("--force", action="store_true", help="replace --out if it exists")
    ex.add_argument("--episodes", type=_positive_int, default=1000,
                    help="held-out runs of the evaluation in the model card (default: 1000)")


def _add_lab(lab: argparse.ArgumentParser) -> None:
    lab.add_argument("--level", choices=tuple(LEVELS), default="arcade")
    lab.add_argument("--seconds", type=_positive_float, default=60.0,
                     help="seconds of play at 1x (default: 60)")
    lab.add_argument("--seed", type=_seed, default=0)
    lab.add_argument("--teams", type=_lineup, default=None, metavar="A,B,...",
                     help="2 to 4 of tutorial, replay, target, ours (default: all four)")
    lab.add_argument("--flock", type=_positive_int, default=DEFAULT_FLOCK, metavar="N",
                     help=f"flyers in all, shared by the teams (default: {DEFAULT_FLOCK})")
    lab.add_argument("--json", action="store_true", help="print one JSON object")
    lab.add_argument("--png", type=Path, default=None, metavar="PATH",
                     help="also draw the curves into a PNG chart")


def _lineup(text: str) -> tuple[str, ...]:
    from game.wiring.lab_teams import parse_lineup  # imports torch

    try:
        return parse_lineup(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_play_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--level", choices=tuple(LEVELS), default=None,
                   help="level to play (default: choose on the title screen; arcade when an "
                        "autopilot flies first)")
    p.add_argument("--tick-rate", type=_positive_float, default=None, metavar="HZ",
                   help="ticks per second of play at 1x (default: the level's own; classic "
                        "2-60, 10 by default)")
    p.add_argument("--seed", type=_seed, default=None, help="seed for a repeatable game")
    p.add_argument("--data-dir", type=_folder, default=None, metavar="DIR",
                   help="where best scores and the learner's memory are kept")
    p.add_argument("--autopilot", default=None, metavar="PATH",
                   help="fly this pilot file (.safetensors or .onnx), or 'pretrained' (frozen "
                        "unless --learn, which learns in memory; your saved learner is not "
                        "loaded or changed; with --fresh it becomes your new saved learner; an "
                        ".onnx policy always flies as it is)")
    p.add_argument("--pilot", choices=("human", "autopilot"), default="human",
                   help="who flies first (default: human)")
    p.add_argument("--learn", action=argparse.BooleanOptionalAction, default=None,
                   help="let the autopilot learn while you play (default: on; a pilot named "
                        "with --autopilot flies frozen unless --learn)")
    p.add_argument("--fresh", action="store_true",
                   help="start a new learner; the old memory is moved aside, never deleted")
    p.add_argument("--flock", type=_positive_int, default=DEFAULT_FLOCK, metavar="N",
                   help="flyers on the course at once while the autopilot learns (default: "
                        f"{DEFAULT_FLOCK}; 1 is a single flyer)")
    p.add_argument("--lab", action="store_true",
                   help="open the lesson lab: teams with and without experience replay and a "
                        "target network race on one course (--level, default arcade)")


def main(argv: list[str] | None = None) -> int:
    """Entry point for ``python main.py`` and the ``gravity-flyer`` script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if not argv or argv[0] not in COMMANDS + ("-h", "--help", "--version"):
        argv = ["play", *argv]
    args = parser.parse_args(argv)
    try:
        check_args(args)  # bounds and paths, before any slow work
        if args.command == "train":
            return _train(args)
        if args.command == "evaluate":
            return _evaluate_learner(args) if args.path == LEARNER else _evaluate(args)
        if args.command == "record":
            return _record(args)
        if args.command == "export-pilot":
            return _export(args)
        if args.command == "lab":
            return _lab(args)
        from game.ui.app import run
        return run(play_config(args))
    except CliError as exc:
        print(f"gravity-flyer: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _lab(args: argparse.Namespace) -> int:
    from game.commands.lab import LabConfig, report, run_lab  # imports torch
    from game.wiring.lab_teams import DEFAULT_LINEUP

    cfg = LabConfig(LEVELS[args.level], seconds=args.seconds, seed=args.seed,
                    teams=args.teams or DEFAULT_LINEUP, flock=args.flock)
    if args.png is not None and not args.png.parent.is_dir():
        raise CliError(f"--png folder {args.png.parent} does not exist")
    lab = run_lab(cfg)
    print(report(lab, args.json))
    if args.png is not None:
        from ai.atomic import atomic_write_bytes
        from game.commands.lab import chart_png, curves

        try:
            atomic_write_bytes(args.png, chart_png(curves(lab)))
        except OSError as exc:
            raise CliError(f"cannot write {args.png}: {exc.strerror or exc}") from None
    return 0


def _train(args: argparse.Namespace) -> int:
    from game.commands.train import TrainConfig, train  # imports torch

    report = train(TrainConfig(level=LEVELS[args.level], out=args.out, steps=args.steps,
                               seed=args.seed, envs=args.envs, progress=not args.no_progress,
                               team=args.team, tensorboard=args.tensorboard))
    print("\n".join(report.lines()))
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from ai.errors import PilotError
    from game.commands.evaluate import EvalConfig, evaluate
    from game.wiring.pilot_names import resolve

    if args.data_dir is not None:
        raise CliError(f"--data-dir is for 'evaluate {LEARNER}', not for a pilot file")
    path = resolve(args.path, args.level or "classic").path
    assert path is not None
    level = LEVELS[args.level] if args.level else None
    try:
        report = evaluate(EvalConfig(path, level, episodes=args.episodes, seed=args.seed))
    except PilotError as exc:
        raise CliError(str(exc)) from None
    for note in report.notes:
        print(f"gravity-flyer: {note}", file=sys.stderr)
    print(report.json() if args.json else report.text())
    return 0


def _data_dir(args: argparse.Namespace) -> Path:
    """``--data-dir``, else the folder the game saves into by default."""
    from game.wiring.best_scores import default_data_dir

    return args.data_dir if args.data_dir is not None else default_data_dir()


def _evaluate_learner(args: argparse.Namespace) -> int:
    from game.commands.saved import LearnerEvalConfig, evaluate_learner  # imports torch

    if args.level is None:
        raise CliError(f"'evaluate {LEARNER}' needs --level ({' or '.join(LEVELS)})")
    report = evaluate_learner(LearnerEvalConfig(LEVELS[args.level], _data_dir(args),
                                                episodes=args.episodes, seed=args.seed))
    for note in report.notes:
        print(f"gravity-flyer: {note}", file=sys.stderr)
    print(report.json() if args.json else report.text())
    return 0


def _export(args: argparse.Namespace) -> int:
    from game.commands.saved import ExportConfig, export_pilot  # imports torch

    if args.format is not None and args.out.suffix != f".{args.format}":
        raise CliError(f"--format {args.format} writes a .{args.format} file; --out is {args.out}")
    report = export_pilot(ExportConfig(LEVELS[args.level], _data_dir(args), args.out,
                                       force=args.force, episodes=args.episodes))
    for note in report.saved.notes:
        print(f"gravity-flyer: {note}", file=sys.stderr)
    print("\n".join(report.lines()))
    return 0


def play_config(args: argparse.Namespace) -> PlayConfig:
    """``play``'s flags as a typed config (nothing past the CLI reads the Namespace)."""
    return PlayConfig(level=args.level, tick_rate=args.tick_rate, seed=args.seed,
                      data_dir=args.data_dir, autopilot=args.autopilot, pilot=args.pilot,
                      learn=args.learn, fresh=args.fresh, flock=args.flock,
                      lab=bool(args.lab))


def _record(args: argparse.Namespace) -> int:
    from game.commands.record import RecordConfig, record

    return record(RecordConfig(
        out=args.out, level=args.level, seconds=args.seconds, seed=args.seed, size=args.size,
        autopilot=args.autopilot, data_dir=args.data_dir, learn=args.learn, flock=args.flock,
        speedup=args.speedup, fps=args.fps, lab=args.lab, teams=args.teams))
