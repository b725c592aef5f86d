"""Replay memory: preallocated numpy rings with an owned random generator."""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np


class Batch(NamedTuple):
    """A sampled mini-batch (numpy; the learner converts it to torch in one place)."""

    obs: np.ndarray
    """float32 (B, obs_size)."""
    actions: np.ndarray
    """int64 (B,)."""
    rewards: np.ndarray
    """float32 (B,)."""
    next_obs: np.ndarray
    """float32 (B, obs_size)."""
    terminated: np.ndarray
    """float32 (B,): 1.0 where the episode really ended (no bootstrap), else 0.0."""


class ReplayMemory:
    """Two rings in one set of arrays: ordinary transitions, and terminal ones kept apart.

    Slots ``[0, ring)`` hold ordinary transitions and slots ``[ring, ring + terminal)``
    hold terminal ones, each ring overwriting its own oldest entry. Sampling is
    uniform over all filled slots. Keeping terminal transitions in their own ring
    means a long run of safe flying never flushes out the crashes the autopilot
    learned from (the usual cause of DQN forgetting on this game).

    A truncated transition (time limit, not a real ending) is ordinary: it is
    bootstrapped, so it goes into the first ring with ``terminated = 0``.
    """

    ARRAYS = ("obs", "actions", "rewards", "next_obs", "terminated", "human")
    """Names of the stored arrays (also the keys in ``state()``)."""

    def __init__(self, obs_size: int, ring: int, terminal: int, seed: int | None = None) -> None:
        if ring < 1 or terminal < 1:
            raise ValueError("replay rings need at least one slot each")
        self.obs_size = obs_size
        self.ring = ring
        self.terminal = terminal
        n = ring + terminal
        self.obs = np.zeros((n, obs_size), dtype=np.float32)
        self.actions = np.zeros(n, dtype=np.int64)
        self.rewards = np.zeros(n, dtype=np.float32)
        self.next_obs = np.zeros((n, obs_size), dtype=np.float32)
        self.terminated = np.zeros(n, dtype=np.float32)
        self.human = np.zeros(n, dtype=bool)
        # np.zeros maps zero pages lazily, so the process would grow by 8 * obs + 17 bytes
        # per transition while the ring fills (9 MB on arcade over the first minutes of play
        # at max speed: it looked like a leak in long sessions). Writing the zeros once
        # commits the memory up front; the footprint is then flat from the start.
        for name in self.ARRAYS:
            getattr(self, name).fill(0)
        self.pos = 0
        """Next slot of the ordinary ring."""
        self.count = 0
        """Filled slots of the ordinary ring."""
        self.tpos = 0
        """Next slot of the terminal ring (relative to its start)."""
        self.tcount = 0
        """Filled slots of the terminal ring."""
        self.human_count = 0
        """Stored transitions that came from the player."""
        self.rng = np.random.default_rng(seed)

    @property
    def capacity(self) -> int:
        """Total slots, both rings."""
        return self.ring + self.terminal

    @property
    def size(self) -> int:
        """Filled slots, both rings."""
        return self.count + self.tcount

    def add(self, obs: np.ndarray, action: int, reward: float, next_obs: np.ndarray,
            terminated: bool, human: bool = False) -> None:
        """Stores one transition, overwriting the oldest of its ring when full."""
        if terminated:
            i = self.ring + self.tpos
            self.tpos = (self.tpos + 1) % self.terminal
            self.tcount = min(self.tcount + 1, self.terminal)
        else:
            i = self.pos
            self.pos = (self.pos + 1) % self.ring
            self.count = min(self.count + 1, self.ring)
        self.human_count += int(human) - int(self.human[i])
        self.obs[i] = obs
        self.actions[i] = action
        self.rewards[i] = reward
        self.next_obs[i] = next_obs
        self.terminated[i] = 1.0 if terminated else 0.0
        self.human[i] = human

    def add_batch(self, obs: np.ndarray, actions: np.ndarray, rewards: np.ndarray,
                   next_obs: np.ndarray, terminated: np.ndarray, human: np.ndarray) -> None:
        """``add`` for every row in order, written as one array assignment per ring."""
        m = self
        for rows, base, size, pos_name, count_name in (
                (np.flatnonzero(~terminated), 0, m.ring, "pos", "count"),
                (np.flatnonzero(terminated), m.ring, m.terminal, "tpos", "tcount")):
            k = rows.size
            if k == 0:
                continue
            if k > size:  # the ring wraps over itself within the batch: add one by one
                for i in rows:
                    m.add(obs[i], int(actions[i]), float(rewards[i]), next_obs[i],
                          bool(terminated[i]), bool(human[i]))
                continue
            pos = getattr(m, pos_name)
            slots = base + (pos + np.arange(k)) % size
            m.human_count += int(human[rows].sum()) - int(m.human[slots].sum())
            m.obs[slots] = obs[rows]
            m.actions[slots] = actions[rows]
            m.rewards[slots] = rewards[rows]
            m.next_obs[slots] = next_obs[rows]
            m.terminated[slots] = 1.0 if base else 0.0
            m.human[slots] = human[rows]
            setattr(m, pos_name, (pos + k) % size)
            setattr(m, count_name, min(getattr(m, count_name) + k, size))

    def sample(self, batch_size: int, terminal_share: float = 0.0) -> Batch:
        """Draws ``batch_size`` transitions (with replacement) from the filled slots.

        Each ring contributes in proportion to its fill, except that the terminal
        ring gives at least ``terminal_share`` of the batch while it holds anything:
        once the pilot flies well, crashes become rare in a uniform draw and the
        network drifts away from what they taught it.
        """
        if self.size == 0:
            raise ValueError("cannot sample from an empty replay memory")
        rng = self.rng
        if terminal_share <= 0.0 or self.tcount == 0 or self.count == 0:
            k = rng.integers(0, self.size, size=batch_size)
            # Map [0, count) to the ordinary ring and [count, size) to the terminal ring.
            idx = np.where(k < self.count, k, k - self.count + self.ring)
        else:
            natural = round(batch_size * self.tcount / self.size)
            n_term = min(batch_size, max(natural, math.ceil(batch_size * terminal_share)))
            idx = np.concatenate((rng.integers(0, self.count, size=batch_size - n_term),
                                  self.ring + rng.integers(0, self.tcount, size=n_term)))
        return Batch(self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx],
                     self.terminated[idx])

    def state(self, filled: bool = False) -> tuple[dict[str, np.ndarray], dict]:
        """``(arrays, meta)`` for saving: the filled contents and the positions and RNG state.

        ``filled``: only the stored rows (the ordinary ring's first ``count``, then the terminal
        ring's first ``tcount``), which ``from_state`` widens back with zeros where no row was
        ever stored, as a memory is made. A learner handed to a child process
        (``ai.process.kinds``) is copied this way: a fresh learner's memory is a tenth full
        when the child takes over, and the whole 9 MB copy took ~22 ms of a frame."""
        if filled:
            r = self.ring
            arrays = {name: np.concatenate((getattr(self, name)[:self.count],
                                            getattr(self, name)[r:r + self.tcount]))
                      for name in self.ARRAYS}
        else:
            arrays = {name: getattr(self, name).copy() for name in self.ARRAYS}
        meta = {"obs_size": self.obs_size, "ring": self.ring, "terminal": self.terminal,
                "pos": self.pos, "count": self.count, "tpos": self.tpos, "tcount": self.tcount,
                "human_count": self.human_count, "rng": self.rng.bit_generator.state}
        if filled:
            meta["filled"] = True
        return arrays, meta

    @classmethod
    def from_state(cls, arrays: dict[str, np.ndarray], meta: dict) -> ReplayMemory:
        """Rebuilds a memory saved by ``state``; raises ``ValueError`` if anything is off."""
        mem = cls(int(meta["obs_size"]), int(meta["ring"]), int(meta["terminal"]))
        mem.pos, mem.count = int(meta["pos"]), int(meta["count"])
        mem.tpos, mem.tcount = int(meta["tpos"]), int(meta["tcount"])
        if not (0 <= mem.pos < mem.ring and 0 <= mem.count <= mem.ring
                and 0 <= mem.tpos < mem.terminal and 0 <= mem.tcount <= mem.terminal):
            raise ValueError("replay positions are out of range")
        filled = bool(meta.get("filled", False))  # ``state(filled=True)``: the stored rows
        for name in cls.ARRAYS:
            src = np.asarray(arrays[name])
            dst = getattr(mem, name)
            shape = (mem.count + mem.tcount, *dst.shape[1:]) if filled else dst.shape
            if src.shape != shape or src.dtype != dst.dtype:
                raise ValueError(f"replay array {name!r} is {src.dtype}{list(src.shape)}, "
                                 f"expected {dst.dtype}{list(shape)}")
            if filled:
                dst[:mem.count] = src[:mem.count]
                dst[mem.ring:mem.ring + mem.tcount] = src[mem.count:]
            else:
                dst[...] = src
        mem.human_count = int(mem.human.sum())
        if mem.human_count != int(meta["human_count"]):
            raise ValueError("replay human count does not match its tags")
        mem.rng.bit_generator.state = meta["rng"]
        return mem
