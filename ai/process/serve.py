"""The learner's child process (``ai.process.remote``): copies of the game's learners, stepping.

One child serves every learner of a window, each in a **slot** (the game's one learner; the
lesson lab's two to four teams). A slot gets its learner whole (``INIT``, which names its
kind: ``ai.process.kinds``), then every row its memory stores (``ROWS``) and every gradient
step paid for (``PAY``), and runs the steps; its trained buffers go back (``WEIGHTS``) every
``REPORT_S`` while it works and on a ``SYNC`` (``auto`` slots: the game's learner), or each
time it has run every step paid (a lab team).

Order: a slot's steps run before that slot's later messages are handled (rows stored after
them are not in the memory they sample, as in the game's process, so the steps are the same).
Slots are independent of each other: the child does the oldest work first (``next_work``), a
slot's steps counting from the PAY that asked for them, so lab teams' steps are done in the
order the teams decide; a slot with a ``SYNC`` waiting (the game's thread waits on it) goes
before all. A learner is built from its state at its first message after it. The pipe is read
empty all the same: a child behind with its steps left the pipe full, and the game's thread
waited in its send for whole frames (ticks of 50-100 ms at 1x).

Rules: ``ai`` modules, numpy and the standard library; torch comes in with the learners.
"""

from __future__ import annotations

import json
import os
import signal
import struct
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ai.process.child import die_with_parent

INIT, ROWS, PAY, SYNC, DROP, WEIGHTS, READY = b"I", b"M", b"P", b"S", b"D", b"W", b"R"
"""Message tags (each message's first byte); an empty message ends the child."""
REPORT_S = 0.1
"""Most time between two reports of an ``auto`` slot while the child works, and how long it
waits for more work before it reports (a report is ~100 kB and costs the game's thread ~0.3 ms
to take in)."""


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


def serve(conn: Any) -> None:
    """The child's life: the learners' copies, stepping until the game ends it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the game's to handle
    die_with_parent()
    try:
        os.nice(3)  # the window's drawing comes first; the skill meter's readings (10) after
    except (AttributeError, OSError):
        pass
    import ai.learner  # noqa: F401  (torch: seconds, before the child says it is ready)
    import ai.store.codec  # noqa: F401
    import ai.tutorial  # noqa: F401

    child = Child(conn)
    conn.send_bytes(pack(READY, {}))
    while child.serve():
        pass


@dataclass
class Slot:
    """One learner's copy in the child."""

    key: int
    kind: Any
    init: Any
    """Its ``INIT`` header and buffers until the learner is built (at its first message)."""
    epoch: int
    auto: bool
    """Reports every ``REPORT_S`` while it has steps done and not reported, and on a SYNC;
    else (a lab team) each time it has run every step paid, so that its report is waiting
    when the team next decides."""
    learner: Any = None
    inbox: deque = field(default_factory=deque)
    """Its messages not yet handled, in order, each with its place in the pipe's order."""
    syncs: int = 0
    """SYNC messages in its inbox (the game's thread waits on each)."""
    todo: int = 0
    since: int = 0
    """Where its oldest step still to run was paid, in the pipe's order."""
    done: int = 0
    dirty: bool = False
    last: float = field(default_factory=time.monotonic)


class Child:
    """The child's slots and its loop (``serve``)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self.slots: dict[int, Slot] = {}
        self._seq = 0
        """Messages read so far (each message's place in the pipe's order)."""

    def serve(self) -> bool:
        """Reads the pipe empty, then does the oldest thing it can (``next_work``): one step
        or one message; else waits. False when the game ends the child."""
        while self.conn.poll(0):
            try:
                msg = self.conn.recv_bytes()
            except (EOFError, OSError):
                return False
            if not msg:
                return False
            self.file(*unpack(msg))
        slot, step = self.next_work()
        if slot is None:
            return self.idle()
        if not step:
            self.handle(slot, *slot.inbox.popleft())
            return True
        slot.kind.step(slot.learner)
        slot.todo, slot.done, slot.dirty = slot.todo - 1, slot.done + 1, True
        if not slot.todo if not slot.auto else time.monotonic() - slot.last >= REPORT_S:
            self.send_report(slot)
        return True

    def file(self, tag: bytes, header: dict[str, Any], buffers: list[memoryview]) -> None:
        """A message into its slot's inbox (``INIT`` makes the slot, ``DROP`` ends it)."""
        from ai.process.kinds import KINDS

        key = int(header["slot"])
        self._seq += 1
        if tag == INIT:
            self.slots[key] = Slot(key, KINDS[header["kind"]], (header, buffers),
                                   int(header["epoch"]), bool(header["auto"]))
        elif tag == DROP:
            self.slots.pop(key, None)
        elif key in self.slots:
            slot = self.slots[key]
            slot.inbox.append((self._seq, tag, header, buffers))
            slot.syncs += tag == SYNC

    def next_work(self) -> tuple[Slot | None, bool]:
        """The slot to serve and whether with a step (else its next message): the steps of a
        slot the game waits on (a SYNC in its inbox) first, then whatever came first through
        the pipe, a slot's steps counting from the PAY that asked for them. So a lab team's
        steps, paid in the order the teams decide, are done in that order, and a learner is
        built only when it is first needed (the first team to decide does not wait for the
        others' states to be read)."""
        best, best_key = None, (2, 0)
        for slot in self.slots.values():
            if slot.todo:
                key = (0 if slot.syncs else 1, slot.since)
            elif slot.inbox:
                key = (1, slot.inbox[0][0])
            else:
                continue
            if key < best_key:
                best, best_key = slot, key
        return best, best is not None and best.todo > 0

    def handle(self, slot: Slot, seq: int, tag: bytes, header: dict[str, Any],
               buffers: list[memoryview]) -> None:
        if slot.learner is None:
            slot.learner, slot.init = slot.kind.build(*slot.init), None
        if tag == ROWS:
            slot.kind.add_rows(slot.learner, [
                np.frombuffer(b, dtype=d).reshape(shape) for b, d, shape
                in zip(buffers, header["dtypes"], header["shapes"], strict=True)])
        elif tag == PAY:
            slot.kind.on_pay(slot.learner, header)
            if not slot.todo:
                slot.since = seq
            slot.todo += int(header["steps"])
        elif tag == SYNC:  # (its steps paid before it have run: ``serve``)
            slot.syncs -= 1
            self.send_report(slot, sync=True)

    def idle(self) -> bool:
        """Nothing to run: reports the ``auto`` slots' latest steps once no more work comes
        within ``REPORT_S`` of their last report, else waits for a message."""
        dirty = [s for s in self.slots.values() if s.auto and s.dirty]
        if dirty:
            wait = max(REPORT_S - (time.monotonic() - min(s.last for s in dirty)), 0.0)
            if not self.conn.poll(wait):
                for slot in dirty:
                    self.send_report(slot)
            return True
        try:
            self.conn.poll(None)
        except (EOFError, OSError):
            return False
        return True

    def send_report(self, slot: Slot, sync: bool = False) -> None:
        header, buffers = slot.kind.report(slot.learner)
        self.conn.send_bytes(pack(WEIGHTS, {**header, "slot": slot.key, "epoch": slot.epoch,
                                            "done": slot.done, "sync": sync}, *buffers))
        slot.dirty, slot.last = False, time.monotonic()
