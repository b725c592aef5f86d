"""Learners' gradient steps in a child process: the window learns on another core.

Why: in the game's own process a gradient step is ~70 small torch calls, each holding the GIL,
and the window's thread, drawing the frame in Python and ctypes, waited for them. At 1x a
learning flock of 64 asks ~480 steps a second; in the window's process the frame interval's
p99 was 46 ms (51 FPS), against 19.5 ms with learning off and 22 ms with the same steps run in
another process (``bench/frame_time.py``; the README's frame section has the figures). The
lesson lab's four teams, learning on a thread beside the frames, cost it as much.

How: a ``Host`` starts one child (``spawn``, ``ai.process.serve``) for a window; each learner
that learns there is a ``RemoteSteps``, a slot in it. The game's process keeps the whole
learner, its memory included, and goes on acting, storing and saving with it; only its
gradient steps change hands (``Learner._run``, ``TutorialLearner.train``):

* the child, once ready, gets the learner's state (``INIT``), then every row the learner's
  memory stores (``ROWS``) and every paid gradient step (``PAY``, with what the step reads of
  the game's side: ``ai.process.kinds``), in order;
* it runs the steps and sends the trained buffers back (``WEIGHTS``): for the game's learner
  (``auto``) every ``REPORT_S`` while it works, so its flock flies weights at most ~0.1 s old,
  and when asked (``sync``, before a save); for a lab team each time its paid steps are done,
  and the lab takes them (``sync``) before the team decides, so that a team flies exactly the
  weights its steps made and the lab learns as it does headless;
* the champion (``Learner.crown``), exploration and everything else the game reads stay in
  the game's process: a report never touches them.

Until the child is ready (~2 s of torch import) the learners step in the game's process, as
without a child. A lab team keeps stepping there after its state is sent, its rows and paid
steps sent too, until the child reports every step paid done (``handing_over``): from the
same state, rows and steps the child's weights are then the team's own, and only then do its
steps run in the child alone. Before this the lab's first decisions after the hand-over waited
for the child to unpack the teams and catch up: one frame of ~0.2 s.

At max speed too the game learner's steps go to the child (the window then flew ~8,500
flyer decisions a second against ~6,000 without it), and ``MAX_IN_FLIGHT`` keeps the flock
from flying ahead of them. A learner given new weights (``load_pilot``) re-sends its state
(``reinit``); a report from before is told apart by its epoch and dropped. If the child dies,
every learner steps in the game's process again and the terminal says so, once.

Nothing is pickled but the child's start arguments (none): tensors and arrays go as raw
buffers, their dtypes and shapes and everything else as JSON (``ai.process.kinds``).
Headless runs (``train``, ``lab``, the benches) never start a child.

Rules: ``ai`` modules, numpy and the standard library only (torch in the child).
"""

from __future__ import annotations

import multiprocessing
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ai.process.child import sigint_ignored
from ai.process.kinds import Kind, kind_of
from ai.process.serve import (
    DROP,
    INIT,
    PAY,
    READY,
    REPORT_S,
    ROWS,
    SYNC,
    WEIGHTS,
    pack,
    serve,
    unpack,
)

__all__ = ["REPORT_S", "Host", "RemoteSteps", "pack", "unpack"]

MAX_IN_FLIGHT = 128
"""Gradient steps sent and not yet reported done above which ``pay`` waits for the child (the
default of ``RemoteSteps.max_in_flight``): at max speed the flock flies faster than one core
learns, and the wait keeps the replay ratio the pacing asked for. At the pace of play the game
raises it (``PACED_IN_FLIGHT``): a frame must not wait while a skill reading holds the second
core for a moment; the child catches up after it."""
PACED_IN_FLIGHT = 4096
"""``max_in_flight`` at the pace of play (1x-16x): some seconds of steps, never reached."""
SYNC_TIMEOUT_S = 30.0
"""How long ``sync`` waits for the child's steps in flight and its report."""
READY_TIMEOUT_S = 120.0
"""A child not ready after this long (its torch import hung) is given up."""


class Host:
    """The child process serving a window's learners (``RemoteSteps``, a slot each).

    ``poll`` (each frame, or while a slot waits) takes the child's messages: its "ready", upon
    which every slot sends its learner's state, and the reports, each to its slot. ``close``
    ends the child.
    """

    def __init__(self) -> None:
        self.ready = False
        """The child said it is ready (its torch is imported)."""
        self.failed: str | None = None
        """Why the child is no longer used, or None."""
        self.slots: dict[int, RemoteSteps] = {}
        self._next = 0
        self._started = time.monotonic()
        self._init: threading.Thread | None = None
        """Sends learners' states while the game's thread goes on; other messages wait."""
        self._queue: list[bytes] = []
        self._init_error: str | None = None
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=serve, args=(child,), name="learner-steps",
                                 daemon=True)
        with sigint_ignored():  # inherited through the exec: Ctrl-C is the game's
            self._proc.start()
        child.close()

    def attach(self, remote: RemoteSteps) -> int:
        """A new slot for ``remote``; its state goes at once if the child is ready."""
        key, self._next = self._next, self._next + 1
        self.slots[key] = remote
        return key

    def detach(self, key: int) -> None:
        """The slot's learner is gone: the child drops its copy."""
        if self.slots.pop(key, None) is not None and self.failed is None:
            self.send(pack(DROP, {"slot": key}))

    def poll(self, timeout: float = 0.0, until: Callable[[], bool] | None = None) -> None:
        """Takes what the child sent (waiting up to ``timeout`` for the first message, or
        until ``until()`` holds); when it says it is ready, every slot sends its state."""
        if self.failed is not None:
            return
        self._finish_init(wait=False)
        try:
            while self._conn.poll(timeout):
                timeout = 0.0
                tag, header, buffers = unpack(self._conn.recv_bytes())
                if tag == READY:
                    self.ready = True
                    self.send_states(list(self.slots.values()))
                elif tag == WEIGHTS and int(header["slot"]) in self.slots:
                    self.slots[int(header["slot"])].take(header, buffers)
                if until is not None and until():
                    return
        except (EOFError, OSError, ValueError, KeyError, struct.error) as exc:
            self.fail(f"{type(exc).__name__}")
            return
        if not self.ready and time.monotonic() - self._started > READY_TIMEOUT_S:
            self.fail("not ready")

    def send_states(self, slots: list[RemoteSteps]) -> None:
        """Each slot's learner whole (a new epoch each): the child starts over from it.

        The states are copied here, a replay memory's stored rows only (~2 ms for a fresh game
        learner, ~8 ms for a full 9 MB memory), and serialised and sent on a thread: the
        messages sent meanwhile wait in a queue, in order.
        """
        self._finish_init()
        if not slots or not self.ready or self.failed is not None:
            return
        jobs = [remote.snapshot() for remote in slots]
        self._init = threading.Thread(target=self._send_init, args=(jobs,),
                                      name="learner-state", daemon=True)
        self._init.start()

    def _send_init(self, jobs: list[tuple[Kind, Any, dict[str, Any]]]) -> None:
        try:
            for kind, snapshot, head in jobs:
                header, buffers = kind.encode(snapshot)
                self._conn.send_bytes(pack(INIT, {**header, **head}, *buffers))
        except (OSError, ValueError) as exc:
            self._init_error = type(exc).__name__

    def _finish_init(self, wait: bool = True) -> bool:
        """After the states are sent: the waiting messages go. False if they are still
        being sent (and ``wait`` is False)."""
        if self._init is None:
            return True
        if not wait and self._init.is_alive():
            return False
        self._init.join()
        self._init = None
        if self._init_error is not None:
            self.fail(self._init_error)
        queue, self._queue = self._queue, []
        for msg in queue:
            self.send(msg)
        return True

    def send(self, msg: bytes) -> None:
        if not self._finish_init(wait=False):
            self._queue.append(msg)
            return
        if self.failed is not None:
            return
        try:
            self._conn.send_bytes(msg)
        except (OSError, ValueError) as exc:
            self.fail(type(exc).__name__)

    def fail(self, why: str) -> None:
        """The child is given up: every slot's learner steps in the game's process."""
        if self.failed is None:
            self.failed = why
            print(f"gravity-flyer: the learner's process stopped ({why}); the game learns in "
                  "its own process", file=sys.stderr, flush=True)

    def close(self) -> None:
        """Ends the child."""
        if self._init is not None:
            self._init.join()
        try:
            self._conn.send_bytes(b"")
        except OSError:
            pass
        self._proc.join(2.0)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)
        self._conn.close()
        self.failed = self.failed or "closed"


class RemoteSteps:
    """Runs ``learner``'s gradient steps in a child process (see the module's docstring).

    Set as ``learner.remote``; the learner then calls ``add_rows``, ``pay`` and ``sync``.

    Args:
        learner: an ``ai.learner.Learner`` or an ``ai.tutorial.TutorialLearner``.
        host: the child to learn in (a lab's teams share one); None starts one of its own,
            which ``close`` ends.
        auto: the child reports every ``REPORT_S`` while it works and on ``sync`` (the game's
            learner); else each time it has run every step paid (a lab team, which syncs
            before each decision and then finds the report waiting).
        send: sends the learner's state now if the child is ready (False: the caller sends
            several slots' at once, ``Host.send_states``, on one thread).
    """

    def __init__(self, learner: Any, host: Host | None = None, auto: bool = True,
                 send: bool = True) -> None:
        self.learner = learner
        self.kind = kind_of(learner)
        self.own = host is None
        self.host = Host() if host is None else host
        self.auto = auto
        self.epoch = 0
        self.active = False
        """The child has the learner's state: steps and rows go there."""
        self.handing_over = False
        """A slot that is not ``auto``, its state sent this epoch: its steps still run in the
        game's process, and go to the child too, until the child reports them all done."""
        self.sent = 0
        """Steps sent this epoch."""
        self.done = 0
        """Steps the child reported done this epoch."""
        self.max_in_flight = MAX_IN_FLIGHT
        """Steps in flight above which ``pay`` waits (``MAX_IN_FLIGHT``, ``PACED_IN_FLIGHT``;
        ``auto`` slots only: the others sync)."""
        self._closed = False
        self.slot = self.host.attach(self)
        if send and self.host.ready:
            self.reinit()

    @property
    def failed(self) -> str | None:
        """Why the child is not used, or None."""
        return "closed" if self._closed else self.host.failed

    @property
    def attached(self) -> bool:
        """The steps run in the child (not here); rows go there too."""
        return self.sending and not self.handing_over

    @property
    def sending(self) -> bool:
        """Rows and paid steps go to the child (``attached``, or ``handing_over``)."""
        return self.active and self.failed is None

    @property
    def in_flight(self) -> int:
        """Steps sent and not yet reported done."""
        return self.sent - self.done

    def poll(self, timeout: float = 0.0) -> None:
        """Collects what the child sent (``Host.poll``)."""
        self.host.poll(timeout)

    def snapshot(self) -> tuple[Kind, Any, dict[str, Any]]:
        """The learner's state, copied now, for ``INIT`` (a new epoch)."""
        self.epoch += 1
        self.sent = self.done = 0
        self.active = False  # the snapshot must not ask the child for a sync
        state = self.kind.snapshot(self.learner)
        self.active = True
        self.handing_over = not self.auto
        return self.kind, state, {"slot": self.slot, "kind": self.kind.name,
                                  "epoch": self.epoch, "auto": self.auto}

    def reinit(self) -> None:
        """Sends the learner's whole state (``Host.send_states``)."""
        self.host.send_states([self])

    def take(self, header: dict[str, Any], buffers: list[memoryview]) -> None:
        """A report from the child (``Host.poll``): this epoch's only."""
        if header["epoch"] != self.epoch or not self.active:
            return
        self.done = int(header["done"])
        if self.handing_over:
            # the learner here is ahead of a report of fewer steps than it took; one of all
            # of them holds its own weights (the same state, rows and steps): from now on the
            # steps run in the child only
            if self.done < self.sent:
                return
            self.handing_over = False
        self.kind.apply(self.learner, header, buffers)

    def add_rows(self, *rows: np.ndarray) -> None:
        """The rows the learner's memory stored (``ReplayMemory.add_batch``'s arguments)."""
        if not self.sending or len(rows[0]) == 0:
            return
        arrays = [np.ascontiguousarray(r) for r in rows]
        header = {"slot": self.slot, "dtypes": [a.dtype.str for a in arrays],
                  "shapes": [a.shape for a in arrays]}
        self.host.send(pack(ROWS, header, *(a.tobytes() for a in arrays)))

    def pay(self, steps: int) -> None:
        """``steps`` gradient steps for the child (called before the learner takes them here,
        ``handing_over``); an ``auto`` slot waits while too many are in flight."""
        self.host.send(pack(PAY, {"slot": self.slot, "steps": int(steps),
                                  **self.kind.pay_header(self.learner)}))
        self.sent += int(steps)
        if self.handing_over:
            self.host.poll()  # the child's reports read as they come (its pipe never fills)
        elif self.auto:
            self.host.poll()
            while self.attached and self.in_flight > self.max_in_flight:
                self.host.poll(0.005)

    def sync(self) -> None:
        """Waits for every step sent and takes the child's weights (a slot not ``auto`` has
        them sent as soon as its steps are done: usually they are waiting already). While
        ``handing_over`` the weights here are the learner's own: it only reads what the child
        sent, never waiting, and the hand-over may end there."""
        if self.handing_over:
            self.host.poll()
            return
        if not self.attached or self.in_flight == 0:
            return
        self.host._finish_init()
        if self.auto:
            self.host.send(pack(SYNC, {"slot": self.slot}))
        deadline = time.monotonic() + SYNC_TIMEOUT_S
        while self.attached and self.in_flight > 0 and time.monotonic() < deadline:
            self.host.poll(0.1, until=lambda: self.in_flight == 0)
        if self.attached and self.in_flight > 0:
            self.host.fail("no answer")

    def close(self) -> None:
        """Ends the slot (and the child, if it is this slot's own)."""
        if self._closed:
            return
        if self.own:
            self.host.close()
        else:
            self.host.detach(self.slot)
        self._closed = True

    @property
    def _proc(self) -> Any:
        return self.host._proc
