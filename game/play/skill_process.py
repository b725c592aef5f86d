"""The skill meter in a child process, so the window's thread never waits for a reading.

``game.play.skill.SkillMeter.refresh`` flies the held-out courses on a thread of the game's own
process. That flight is thousands of short numpy calls, each holding the GIL, and Python hands
the GIL back only every switch interval (``sys.getswitchinterval``): while a reading ran, the
window's frames waited for it (what that cost is in the README's flock section, measured by
``bench/frame_time.py --flock 64``). ``SkillProcess`` does the same reading in a child
process started with ``spawn``, which can run on another core and shares no GIL.

The pilot goes to the child as safetensors bytes (the learner's flying weights, a few kB)
and the figure comes back as a line of JSON: nothing is pickled but the child's start
arguments (a level name and two ints). The child loads the held-out set's oracle scores
(shipped with the game, ``game.sim.oracle.SHIPPED_FILE``; computed once for any other set) as
its first job, so the window never pays for them. ``SkillProcess`` has ``SkillMeter``'s
interface (``refresh``, ``busy``, ``latest``, ``readings``, ``wait``, ``take_crown``); the
readings equal ``SkillMeter.measure`` of the same pilot (``tests/test_flock.py``), and with
``crown`` its judgement (``SkillMeter.judge``: the contenders go together, the champion's
validation figure with them as a one-element tensor, and the child answers with the pick and
both its figures).

Imports no torch: the child flies the pilot with ``ai.mlp.numpy_forward``.

The child ignores SIGINT (it is started with SIGINT ignored, so not even its start-up can
print a ``KeyboardInterrupt`` traceback when Ctrl-C reaches the terminal's whole process
group): the game decides when it ends. It ends with the game: on an empty message, when the
pipe closes, and on Linux when the parent dies (``PR_SET_PDEATHSIG``), even mid-reading.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import sys
import time
from typing import Any

import numpy as np
from safetensors.numpy import load as st_load
from safetensors.numpy import save as st_save

from ai.process.child import die_with_parent, sigint_ignored
from game.play.skill import SKILL_EPISODES, SKILL_SEED, champion_of, settle, unbeatable

CHAMPION_KEY = "champion_validation"
"""The request's tensor holding the champion's validation figure (a judged reading)."""


def _serve(conn: Any, level_name: str, episodes: int, seed: int, crown: bool = False) -> None:
    """The child: readings of the pilots sent until the pipe closes (or an empty message)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the game's to handle
    die_with_parent()
    from ai.mlp import numpy_forward
    from game.play.skill import SkillMeter, held_out
    from game.sim.evaluation import VALIDATION_SEED
    from game.sim.levels import LEVELS

    # Below the game's own threads and the X server's: the readings take the CPU they leave.
    # Once the pilot flies every course to its end a reading is seconds of CPU, and at normal
    # priority it cut the window's learning at max speed from ~20,000 env steps/s to 13,000.
    try:
        os.nice(10)
    except (AttributeError, OSError):
        pass

    meter = SkillMeter(LEVELS[level_name], episodes, seed)
    _ = meter.evaluation  # the oracle of the held-out set, before the first job
    if crown:
        _ = held_out(meter.level, episodes, VALIDATION_SEED)  # and of the validation set
    while True:
        try:
            msg = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not msg:
            return
        tensors = st_load(msg)
        bar = tensors.pop(CHAMPION_KEY, None)
        policies = [lambda obs, w=layers: numpy_forward(w, obs).argmax(1)
                    for layers in pilots_of(tensors)]
        if bar is None:
            answer: dict[str, Any] = {"figure": meter.measure(policies[0])}
        else:  # a judged reading: -inf means no champion yet
            champion = {"validation": float(bar[0])} if np.isfinite(bar[0]) else {}
            pick, validation, figure = meter.judge(policies, champion)
            answer = {"pick": pick, "validation": validation, "figure": figure}
        conn.send_bytes(json.dumps(answer).encode())


def pilot_bytes(pilots: list[list[np.ndarray]],
                champion: dict[str, float] | None = None) -> bytes:
    """Pilots' layers as safetensors bytes (``j.iii``: pilot ``j``'s layer ``i``); with
    ``champion`` (a judged reading) its validation figure too (-inf: none yet)."""
    tensors = {f"{j}.{i:03d}": np.ascontiguousarray(w)
               for j, layers in enumerate(pilots) for i, w in enumerate(layers)}
    if champion is not None:
        tensors[CHAMPION_KEY] = np.array([champion.get("validation", -np.inf)], np.float64)
    return st_save(tensors)


def pilots_of(tensors: dict[str, np.ndarray]) -> list[list[np.ndarray]]:
    """``pilot_bytes``'s pilots back, in order."""
    count = 1 + max(int(key.split(".")[0]) for key in tensors)
    return [[tensors[k] for k in sorted(k for k in tensors if k.split(".")[0] == str(j))]
            for j in range(count)]


class SkillProcess:
    """``SkillMeter``'s readings, done in a child process.

    Args:
        level: the level (its held-out set and figure).
        episodes: held-out runs per reading.
        seed: the held-out set's seed.
        crown: judge the learner's contenders (``SkillMeter``'s crowning).
    """

    def __init__(self, level: Any, episodes: int = SKILL_EPISODES,
                 seed: int = SKILL_SEED, crown: bool = False) -> None:
        self.level = level
        self.crowning = crown
        self._crown: tuple[Any, dict[str, float]] | None = None
        self._judged: tuple[dict[str, float], Any] | None = None
        """The champion's figures and the contenders of the judged reading in flight."""
        self.latest: float | None = None
        self.readings: list[tuple[int, float]] = []
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, level.name, int(episodes),
                                                      int(seed), bool(crown)),
                                 name="skill-meter", daemon=True)
        with sigint_ignored():  # inherited through the exec: the child starts ignoring it
            self._proc.start()
        child.close()
        self._pending: int | None = None
        """env_steps of the reading in flight, or None."""

    def refresh(self, learner: Any) -> bool:
        """Sends ``learner``'s flying weights for a reading; False if one is in flight."""
        if self.busy or not self._proc.is_alive():
            return False
        if self.crowning and unbeatable(champion_of(learner)):
            self.latest = champion_of(learner)["skill"]
            self.readings.append((int(learner.env_steps), self.latest))
            return True
        if self.crowning:
            champion, pilots = champion_of(learner), learner.contenders()
            self._judged = (champion, pilots)
            msg = pilot_bytes([p.layers for p in pilots], champion)
        else:
            msg = pilot_bytes([learner.autopilot().layers])
        try:
            self._conn.send_bytes(msg)
        except (BrokenPipeError, OSError):
            return False
        self._pending = int(learner.env_steps)
        return True

    def _collect(self, timeout: float) -> None:
        if self._pending is None or not self._conn.poll(timeout):
            return
        try:
            answer = json.loads(self._conn.recv_bytes())
            figure = answer["figure"]
            if self._judged is not None:
                champion, pilots = self._judged
                figure, self._crown = settle(champion, pilots[int(answer["pick"])],
                                             float(answer["validation"]), figure)
            figure = float(figure)
        except (EOFError, OSError, ValueError, KeyError, TypeError):
            print("gravity-flyer: the skill meter stopped; the skill is no longer refreshed",
                  file=sys.stderr, flush=True)
            self._pending = None
            return
        self.latest = figure
        self.readings.append((self._pending, figure))
        self._pending = None

    def take_crown(self) -> tuple[Any, dict[str, float]] | None:
        """The last reading's winner ``(pilot, figures)`` for ``learner.crown``, once; or None."""
        crown, self._crown = self._crown, None
        return crown

    @property
    def busy(self) -> bool:
        """A reading is in flight (a finished one is collected here)."""
        self._collect(0.0)
        return self._pending is not None

    def wait(self, timeout: float | None = None) -> float | None:
        """Waits for the reading in flight (if any) and returns ``latest``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._pending is not None and self._proc.is_alive():
            left = 0.5 if deadline is None else deadline - time.monotonic()
            if left <= 0:
                break
            self._collect(min(left, 0.5))
        return self.latest

    def close(self) -> None:
        """Stops the child (it also ends with the game: it is a daemon)."""
        try:
            self._conn.send_bytes(b"")
        except OSError:
            pass
        self._proc.join(0.5)  # a reading (or the first oracle) may take seconds: no wait
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)  # SIGTERM ends it at once; reap it so no zombie is left
        self._conn.close()
