"""The controls: one table from keys to commands.

The window's key handler, the on-screen help and the README's controls table all
come from :data:`CONTROLS`. Keys are named as in ``pyglet.window.key`` and turned
into key codes only by the window (``keymap``), so this module imports no pyglet.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Command(Enum):
    """Everything a key can ask the game to do."""

    JUMP = "jump"
    TOGGLE_PILOT = "toggle_pilot"
    TOGGLE_LEARNING = "toggle_learning"
    LEARN_PANEL = "learn_panel"
    FPS_PANEL = "fps_panel"
    THINK = "think"
    SPEED_1X = "speed_1x"
    SPEED_4X = "speed_4x"
    SPEED_16X = "speed_16x"
    SPEED_MAX = "speed_max"
    FASTER = "faster"
    SLOWER = "slower"
    PAUSE = "pause"
    RESTART = "restart"
    FULLSCREEN = "fullscreen"
    MUTE = "mute"
    QUIT = "quit"
    # the lab
    LINEUP = "lineup"
    FOCUS_TEAM = "focus_team"
    LAB = "lab"
    # the title screen
    PREV = "prev"
    NEXT = "next"
    START = "start"
    PICK_1 = "pick_1"
    PICK_2 = "pick_2"


SPEED_INDEX = {Command.SPEED_1X: 0, Command.SPEED_4X: 1, Command.SPEED_16X: 2,
               Command.SPEED_MAX: 3}
"""The session's speed index each speed command picks."""


@dataclass(frozen=True)
class Control:
    """One row of the controls table."""

    shown: str
    """The keys as a player reads them."""
    hint: str
    """A few words for the on-screen help."""
    doc: str
    """The README's description."""
    keys: tuple[tuple[str, Command], ...]
    """``(pyglet key name, command)`` for every key of the row."""
    brief: str = ""
    """The keys in the on-screen help, if shorter than ``shown``."""


def _same(command: Command, *names: str) -> tuple[tuple[str, Command], ...]:
    return tuple((name, command) for name in names)


CONTROLS: tuple[Control, ...] = (
    Control("SPACE, Up or W", "jump",
            "jump (the first jump also starts a run you fly); a left click and a game "
            "controller's A button jump too", _same(Command.JUMP, "SPACE", "UP", "W"),
            brief="SPACE / Up / W"),
    Control("A or TAB", "autopilot ⇄ you",
            "hand the controls to the autopilot and back, mid-flight",
            _same(Command.TOGGLE_PILOT, "A", "TAB")),
    Control("L", "learning on/off", "learning on / off", _same(Command.TOGGLE_LEARNING, "L")),
    Control("H", "watch-it-learn panel",
            'the "watch it learn" panel: who flies, epsilon, Q-values, loss, memory, '
            "learning curve", _same(Command.LEARN_PANEL, "H")),
    Control("F", "FPS panel",
            "the FPS panel: frame interval and work time p50/p99, env steps/s, gradient "
            "steps (updates)/s",
            _same(Command.FPS_PANEL, "F")),
    Control("V", "watch it think",
            'the "watch it think" overlay: the greedy pilot\'s planned path a second ahead, '
            "the oracle's best path (faint) and, on classic, the policy map (remembered)",
            _same(Command.THINK, "V")),
    Control("1 2 3 4", "speed 1x 4x 16x max",
            "speed 1x, 4x, 16x, max; the HUD says what the machine really reaches "
            "(`16x (7x)`, `max (37x)`)",
            (("_1", Command.SPEED_1X), ("_2", Command.SPEED_4X), ("_3", Command.SPEED_16X),
             ("_4", Command.SPEED_MAX), ("NUM_1", Command.SPEED_1X),
             ("NUM_2", Command.SPEED_4X), ("NUM_3", Command.SPEED_16X),
             ("NUM_4", Command.SPEED_MAX)), brief="1-4"),
    Control("+ / -", "faster / slower", "tick rate up / down (arcade: the game speed)",
            (*_same(Command.FASTER, "PLUS", "EQUAL", "NUM_ADD"),
             *_same(Command.SLOWER, "MINUS", "UNDERSCORE", "NUM_SUBTRACT"))),
    Control("P", "pause", "pause", _same(Command.PAUSE, "P")),
    Control("R", "restart", "restart the run", _same(Command.RESTART, "R")),
    Control("M", "sound on/off", "sound on / off (remembered)", _same(Command.MUTE, "M")),
    Control("F11", "full screen", "full screen on / off", _same(Command.FULLSCREEN, "F11")),
    Control("Esc", "quit", "quit (the learner is saved first)", _same(Command.QUIT, "ESCAPE")),
)

TITLE_CONTROLS: tuple[Control, ...] = (
    Control("← →", "choose", "choose a level",
            (*_same(Command.PREV, "LEFT", "UP"), *_same(Command.NEXT, "RIGHT", "DOWN", "TAB"))),
    Control("SPACE / Enter / click", "start", "start the chosen level (or 1, 2)",
            (*_same(Command.START, "SPACE", "RETURN", "ENTER", "NUM_ENTER"),
             ("_1", Command.PICK_1), ("_2", Command.PICK_2))),
    Control("L", "the lesson lab", "the lesson lab on the chosen level", _same(Command.LAB, "L")),
    Control("M", "sound", "sound on / off", _same(Command.MUTE, "M")),
    Control("F11", "full screen", "full screen on / off", _same(Command.FULLSCREEN, "F11")),
    Control("Esc", "quit", "quit", _same(Command.QUIT, "ESCAPE")),
)
"""The title screen's keys."""

LAB_CONTROLS: tuple[Control, ...] = (
    Control("SPACE", "race them", "race the teams: a run of your own on their course, then jump",
            _same(Command.JUMP, "SPACE", "UP", "W")),
    Control("T", "next line-up", "the next line-up of teams (a fresh lab)",
            _same(Command.LINEUP, "T")),
    Control("TAB", "follow next team", "whose course and leader the field follows",
            _same(Command.FOCUS_TEAM, "TAB")),
    Control("V", "watch it think", "the planned path of the followed team's leader",
            _same(Command.THINK, "V")),
    Control("1 2 3 4", "speed 1x 4x 16x max", "speed 1x, 4x, 16x, max",
            (("_1", Command.SPEED_1X), ("_2", Command.SPEED_4X), ("_3", Command.SPEED_16X),
             ("_4", Command.SPEED_MAX)), brief="1-4"),
    Control("P", "pause", "pause", _same(Command.PAUSE, "P")),
    Control("R", "restart", "the same line-up, fresh learners", _same(Command.RESTART, "R")),
    Control("M", "sound on/off", "sound on / off", _same(Command.MUTE, "M")),
    Control("F11", "full screen", "full screen on / off", _same(Command.FULLSCREEN, "F11")),
    Control("Esc", "quit", "quit", _same(Command.QUIT, "ESCAPE")),
)
"""The lab's keys (``game.ui.lab``)."""


def keymap(key: Any, table: tuple[Control, ...] = CONTROLS) -> dict[int, Command]:
    """Key codes to commands, given the ``pyglet.window.key`` module."""
    return {getattr(key, name): command for c in table for name, command in c.keys}


def help_text() -> str:
    """The on-screen help: one line per control."""
    return "\n".join(f"{c.brief or c.shown}  {c.hint}" for c in CONTROLS)


def readme_table() -> str:
    """The README's controls table (Markdown)."""
    lines = ["| key | what it does |", "|-----|--------------|"]
    lines += [f"| {c.shown} | {c.doc} |" for c in CONTROLS]
    return "\n".join(lines)
