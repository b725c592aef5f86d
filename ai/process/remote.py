"""A learner's gradient steps in a child process: the window learns on another core.

Why: in the game's own process a gradient step is ~70 small torch calls, each holding the GIL,
and the window's thread, drawing the frame in Python and ctypes, waited for them. At 1x a
learning flock of 64 asks ~480 steps a second; in the window's process the frame interval's
p99 was 46 ms (51 FPS), against 19.5 ms with learning off and 22 ms with the same steps run in
another process (``bench/frame_time.py``; the README's frame section has the figures).

How: ``RemoteSteps`` starts a child (``spawn``) that holds a copy of the learner. The game's
process keeps the whole learner, its memory included, and goes on acting, storing and saving
with it; only ``Learner._run`` (its gradient steps) changes hands:

* the child, once started, gets the learner's state (``INIT``), then every row the learner's
  memory stores (``ROWS``) and every paid gradient step (``PAY``, with the learner's env steps,
  which decide the early phase, and its learning rate), in order;
* it runs the steps and sends the weights back (``WEIGHTS``: the online, target, last-good and
  averaged networks, Adam's moments, the counters and the memory's sampling generator) every
  ``REPORT_S`` while it has steps done and not reported; the game's process copies them into
  its learner (``poll``), so the flock flies weights at most ~0.1 s old, and a save
  (``Learner.state``, which calls ``sync``) holds exactly what the child has;
* the champion (``Learner.crown``) and everything else the game reads stay in the game's
  process: a report never touches them.

Until the child is ready (~2 s of torch import) the learner steps in its own process, as
without a child. At max speed too the steps go to the child (the window then flew ~8,500
flyer decisions a second against ~6,000 without it, and the skill readings came no later), and
``MAX_IN_FLIGHT`` keeps the flock from flying ahead of them. A learner given new weights
(``load_pilot``) re-sends its state (``reinit``); a report from before is told apart by its
epoch and dropped. If the child dies, the learner steps in its own process again and the
terminal says so, once.

Nothing is pickled but the child's start arguments (none): tensors go as safetensors, arrays
as ``.npz``, everything else as JSON (``ai.store.codec``). Headless runs (``train``, benches,
the lab's tests) never start a child, so they stay deterministic; the window's learning is
paced by the wall clock anyway.

Rules: ``ai`` modules, torch (in the child), numpy and the standard library only.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import struct
import sys
import threading
import time
from collections import deque
from typing import Any

import numpy as np

from ai.process.child import die_with_parent, sigint_ignored

INIT, ROWS, PAY, SYNC, WEIGHTS, READY = b"I", b"M", b"P", b"S", b"W", b"R"
"""Message tags (each message's first byte); an empty message ends the child."""
WEIGHT_KEYS = ("net", "target", "good", "pilot", "adam.exp_avg", "adam.exp_avg_sq")
"""The learner's buffers a report carries (``DqnWeights.tensors`` names; ``pilot`` when the
learner keeps an average). The champion is never sent: it is the game's."""
REPORT_S = 0.1
"""Most time between two reports while the child works, and how long it waits for more work
before it reports (a report is ~100 kB and costs the game's thread ~0.3 ms to take in)."""
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


def pack(tag: bytes, header: dict[str, Any], *buffers: bytes | memoryview) -> bytes:
    """A message: the tag, the header's length and JSON, then each buffer with its length."""
    head = json.dumps(header).encode()
    parts = [tag, struct.pack("<I", len(head)), head]
    for b in buffers:
        parts += [struct.pack("<Q", memoryview(b).nbytes), bytes(b)]
    return b"".join(parts)


def unpack(msg: bytes) -> tuple[bytes, dict[str, Any], list[memoryview]]:
    """``pack``'s tag, header and buffers back."""
    view = memoryview(msg)
    (n,) = struct.unpack_from("<I", view, 1)
    header = json.loads(bytes(view[5:5 + n]))
    buffers, at = [], 5 + n
    while at < len(view):
        (size,) = struct.unpack_from("<Q", view, at)
        buffers.append(view[at + 8:at + 8 + size])
        at += 8 + size
    return bytes(view[:1]), header, buffers


def state_message(state: Any, epoch: int) -> bytes:
    """``INIT``: a learner's whole state (``Learner.state``, as the store writes it)."""
    from ai.store.codec import snapshot_blobs, snapshot_of

    blobs = snapshot_blobs(snapshot_of(state, "", copy=False))
    return pack(INIT, {"epoch": epoch}, blobs["weights"][0], b"".join(blobs["memory"]),
                blobs["state"][0])


def report(learner: Any, epoch: int, done: int, sync: bool = False) -> bytes:
    """``WEIGHTS``: the child's learner after ``done`` steps."""
    w = learner.weights
    tensors = w.tensors()
    keys = [k for k in WEIGHT_KEYS if k in tensors]
    flat = np.concatenate([tensors[k].numpy() for k in keys])
    header = {"epoch": epoch, "done": done, "sync": sync, "keys": keys,
              "updates": learner.updates, "adam_steps": w.optimizer.steps,
              "nan_rollbacks": w.nan_rollbacks, "rollback_streak": w.rollback_streak,
              "stalled": w.stalled, "losses": list(w.losses),
              "learn_enabled": learner.learn_enabled,
              "rng": learner.memory.rng.bit_generator.state}
    return pack(WEIGHTS, header, flat.astype(np.float32).tobytes())


def apply_report(learner: Any, header: dict[str, Any], flat: memoryview) -> None:
    """Copies a report into ``learner`` (the game's): every trained buffer and counter, in
    place (``DqnWeights.restore``, which checks them; the numpy views the flock acts with stay
    valid)."""
    import torch

    from ai.learner import STATE_FORMAT_VERSION

    w = learner.weights
    values = torch.frombuffer(bytearray(flat), dtype=torch.float32)
    n = w.net.flat.numel()
    tensors = {key: values[i * n:(i + 1) * n] for i, key in enumerate(header["keys"])}
    w.losses.clear()
    w.restore(tensors, STATE_FORMAT_VERSION, {**header, "lr": w.optimizer.lr})
    w.rollback_streak = int(header["rollback_streak"])
    w.stalled = header["stalled"]
    learner.updates = int(header["updates"])
    learner.memory.rng.bit_generator.state = header["rng"]
    if not header["learn_enabled"]:
        learner.learn_enabled = False  # the child's steps stalled (``DqnWeights.stalled``)


def _serve(conn: Any) -> None:
    """The child: a copy of the learner that runs the steps it is paid for."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the game's to handle
    die_with_parent()
    try:
        os.nice(3)  # the window's drawing comes first; the skill meter's readings (10) after
    except (AttributeError, OSError):
        pass
    import ai.learner  # noqa: F401  (torch: seconds, before the child says it is ready)
    import ai.store.codec  # noqa: F401

    child = _Child(conn)
    conn.send_bytes(pack(READY, {}))
    while child.serve():
        pass


class _Child:
    """The child's side: its learner, the steps still to run and when it last reported."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.inbox: deque[bytes] = deque()
        """Messages read off the pipe and not yet handled, in order."""
        self.learner: Any = None
        self.epoch = self.todo = self.done = 0
        self.dirty = False
        self.last = time.monotonic()

    def serve(self) -> bool:
        """Runs one step, else handles one message; False when the game ends the child.

        The steps paid run before any later message is handled: rows stored after them are
        not in the memory they sample, as in the game's own process (so the steps are the
        same). The pipe is read empty all the same, into ``inbox``: a child behind with its
        steps left the pipe full, and the game's thread waited in its send for whole frames
        (ticks of 50-100 ms at 1x).
        """
        while self.conn.poll(0):
            try:
                self.inbox.append(self.conn.recv_bytes())
            except (EOFError, OSError):
                return False
        if self.todo:
            self.learner._update()
            self.todo, self.done, self.dirty = self.todo - 1, self.done + 1, True
            if time.monotonic() - self.last >= REPORT_S:
                self.send_report()
            return True
        if self.inbox:
            msg = self.inbox.popleft()
        elif self.dirty and not self.conn.poll(max(REPORT_S - (time.monotonic() - self.last),
                                                   0)):
            self.send_report()  # nothing more to do for now: the game gets the latest weights
            return True
        else:
            try:
                msg = self.conn.recv_bytes()
            except (EOFError, OSError):
                return False
        if msg:
            self.handle(*unpack(msg))
        return bool(msg)

    def handle(self, tag: bytes, header: dict[str, Any], buffers: list[memoryview]) -> None:
        if tag == INIT:
            from ai.learner import Learner
            from ai.store.codec import parse_state

            blobs = dict(zip(("weights", "memory", "state"), map(bytes, buffers), strict=True))
            self.learner = Learner.from_state(parse_state(blobs))
            self.epoch, self.todo, self.done = int(header["epoch"]), 0, 0
        elif self.learner is None:
            return
        elif tag == ROWS:
            self.learner.memory.add_batch(*(
                np.frombuffer(b, dtype=d).reshape(shape) for b, d, shape
                in zip(buffers, header["dtypes"], header["shapes"], strict=True)))
        elif tag == PAY:
            self.learner.env_steps = int(header["env_steps"])  # the early phase's clock
            self.learner.optimizer.lr = float(header["lr"])
            self.todo += int(header["steps"])
        elif tag == SYNC:  # (the steps paid before it have run: ``serve``)
            self.send_report(sync=True)

    def send_report(self, sync: bool = False) -> None:
        self.conn.send_bytes(report(self.learner, self.epoch, self.done, sync))
        self.dirty, self.last = False, time.monotonic()


class RemoteSteps:
    """Runs ``learner``'s gradient steps in a child process (see the module's docstring).

    Set as ``learner.remote``; the learner then calls ``add_rows``, ``pay`` and ``sync``.
    ``poll`` (each frame) collects the child's reports and, once it is ready, sends it the
    state. ``close`` ends the child (after the last save).
    """

    def __init__(self, learner: Any) -> None:
        self.learner = learner
        self.epoch = 0
        self.ready = False
        """The child said it is ready (its torch is imported)."""
        self.active = False
        """The child has the learner's state: steps and rows go there."""
        self.failed: str | None = None
        """Why the child is no longer used, or None."""
        self.sent = 0
        """Steps sent this epoch."""
        self.done = 0
        """Steps the child reported done this epoch."""
        self.max_in_flight = MAX_IN_FLIGHT
        """Steps in flight above which ``pay`` waits (``MAX_IN_FLIGHT``, ``PACED_IN_FLIGHT``)."""
        self._started = time.monotonic()
        self._init: threading.Thread | None = None
        """Sends the state (``reinit``) while the game's thread goes on; its messages wait."""
        self._queue: list[bytes] = []
        self._init_error: str | None = None
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child,), name="learner-steps",
                                 daemon=True)
        with sigint_ignored():  # inherited through the exec: Ctrl-C is the game's
            self._proc.start()
        child.close()

    @property
    def attached(self) -> bool:
        """Steps and rows go to the child."""
        return self.active and self.failed is None

    @property
    def in_flight(self) -> int:
        """Steps sent and not yet reported done."""
        return self.sent - self.done

    def poll(self, timeout: float = 0.0) -> None:
        """Collects what the child sent (within ``timeout``); sends it the state when ready."""
        if self.failed is not None:
            return
        self._finish_init(wait=False)
        try:
            while self._conn.poll(timeout):
                timeout = 0.0
                tag, header, buffers = unpack(self._conn.recv_bytes())
                if tag == READY:
                    self.ready = True
                    self.reinit()
                elif tag == WEIGHTS and header["epoch"] == self.epoch:
                    apply_report(self.learner, header, buffers[0])
                    self.done = int(header["done"])
                    if header["sync"]:
                        return
        except (EOFError, OSError, ValueError, KeyError, struct.error) as exc:
            self._fail(f"{type(exc).__name__}")
            return
        if not self.ready and time.monotonic() - self._started > READY_TIMEOUT_S:
            self._fail("not ready")

    def reinit(self) -> None:
        """Sends the learner's whole state (a new epoch): the child starts over from it.

        The state is copied here (~8 ms) and serialised and sent on a thread (~40 ms for the
        game's 9 MB memory): the messages sent meanwhile wait in a queue, in order.
        """
        self._finish_init()
        self.epoch += 1
        self.sent = self.done = 0
        self.active = False  # ``state`` below must not ask the child for a sync
        state = self.learner.state()
        self.active = self.failed is None
        self._init = threading.Thread(target=self._send_init, args=(state, self.epoch),
                                      name="learner-state", daemon=True)
        self._init.start()

    def _send_init(self, state: Any, epoch: int) -> None:
        try:
            self._conn.send_bytes(state_message(state, epoch))
        except (OSError, ValueError) as exc:
            self._init_error = type(exc).__name__

    def _finish_init(self, wait: bool = True) -> bool:
        """After the state is sent: the waiting messages go. False if it is still being sent
        (and ``wait`` is False)."""
        if self._init is None:
            return True
        if not wait and self._init.is_alive():
            return False
        self._init.join()
        self._init = None
        if self._init_error is not None:
            self._fail(self._init_error)
        queue, self._queue = self._queue, []
        for msg in queue:
            self._send(msg)
        return True

    def add_rows(self, *rows: np.ndarray) -> None:
        """The rows the learner's memory stored (``ReplayMemory.add_batch``'s arguments)."""
        if not self.attached or len(rows[0]) == 0:
            return
        arrays = [np.ascontiguousarray(r) for r in rows]
        header = {"dtypes": [a.dtype.str for a in arrays], "shapes": [a.shape for a in arrays]}
        self._send(pack(ROWS, header, *(a.tobytes() for a in arrays)))

    def pay(self, steps: int) -> None:
        """``steps`` gradient steps for the child; waits while too many are in flight."""
        lr = self.learner
        self._send(pack(PAY, {"steps": int(steps), "env_steps": int(lr.env_steps),
                              "lr": float(lr.optimizer.lr)}))
        self.sent += int(steps)
        self.poll()
        while self.attached and self.in_flight > self.max_in_flight:
            self.poll(0.005)

    def sync(self) -> None:
        """Waits for every step sent and takes the child's weights (before a save)."""
        if not self.attached:
            return
        self._finish_init()
        self._send(pack(SYNC, {}))
        deadline = time.monotonic() + SYNC_TIMEOUT_S
        while self.attached and self.in_flight > 0 and time.monotonic() < deadline:
            self.poll(0.1)
        if self.attached and self.in_flight > 0:
            self._fail("no answer")

    def _send(self, msg: bytes) -> None:
        if not self._finish_init(wait=False):
            self._queue.append(msg)
            return
        try:
            self._conn.send_bytes(msg)
        except (OSError, ValueError) as exc:
            self._fail(type(exc).__name__)

    def _fail(self, why: str) -> None:
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
