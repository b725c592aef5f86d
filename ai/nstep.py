"""n-step returns over each flyer's own trajectory, before the transitions reach the replay memory.

A one-step Q target moves a crash's lesson back one decision per target sync, so a fresh
learner needs many syncs before the decisions that lead to a crash a second later learn of it.
An n-step transition ``(s_t, a_t, r_t + g r_{t+1} + ... + g^{n-1} r_{t+n-1}, s_{t+n})`` carries
it n decisions at once; the learner then bootstraps with ``g^n``. The returns are uncorrected
for exploration (Fedus et al. 2020 found uncorrected n-step returns "uniquely beneficial";
Data-efficient Rainbow and BBF use them), so n stays small.

Each flyer is a *stream* (a flock's flyer index; a single flyer is stream 0). ``NStepWindows``
keeps each stream's last ``n - 1`` transitions and emits, per step:

* a full window of ``n``: its oldest transition as an n-step one, bootstrapped;
* a termination: every pending window, each with its return up to the crash (or finish),
  not bootstrapped (so the bootstrap length does not matter);
* a truncation (a time limit; bootstrapped like any other): the full window if there is one;
  the shorter ones are dropped, since a bootstrap of ``g^k`` with ``k < n`` is not stored.

A stream whose new transition does not start where its last one ended (a respawn, a new
course, a restart) has its pending windows dropped: windows never span two trajectories.
The pending windows are part of the learner's state (``state`` / ``load``), so saving and
loading in mid-flight continues exactly.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Emitted(NamedTuple):
    """Transitions ready for the replay memory, in stream order."""

    obs: np.ndarray
    actions: np.ndarray
    rewards: np.ndarray
    next_obs: np.ndarray
    terminated: np.ndarray
    human: np.ndarray


class NStepWindows:
    """Pending n-step windows per stream (see the module docstring).

    Args:
        n: steps per return (2 or more; 1 needs no windows).
        gamma: discount per step.
        obs_size: length of the observation vector.
    """

    def __init__(self, n: int, gamma: float, obs_size: int) -> None:
        if n < 2:
            raise ValueError(f"n-step windows need n >= 2, got {n}")
        self.n = int(n)
        self.gamma = float(gamma)
        self.obs_size = int(obs_size)
        i = np.arange(self.n)
        self._discounts = np.where(i[:, None] >= i[None, :],
                                   self.gamma ** (i[:, None] - i[None, :]).clip(0), 0.0)
        """``[i, j]``: the discount of slot ``i``'s reward in the return from slot ``j``."""
        self._alloc(0)

    def _alloc(self, streams: int) -> None:
        n, k = self.n, self.obs_size
        self.obs = np.zeros((streams, n, k), np.float32)
        self.actions = np.zeros((streams, n), np.int64)
        self.rewards = np.zeros((streams, n), np.float32)
        self.human = np.zeros((streams, n), bool)
        self.length = np.zeros(streams, np.int64)
        self.last_next = np.zeros((streams, k), np.float32)

    @property
    def streams(self) -> int:
        return len(self.length)

    @property
    def pending(self) -> int:
        """Transitions held back, all streams."""
        return int(self.length.sum())

    def _grow(self, streams: int) -> None:
        old = {name: getattr(self, name) for name in self.ARRAYS}
        self._alloc(streams)
        for name, arr in old.items():
            getattr(self, name)[: len(arr)] = arr

    ARRAYS = ("obs", "actions", "rewards", "human", "length", "last_next")

    def push(self, streams: np.ndarray, obs: np.ndarray, actions: np.ndarray,
             rewards: np.ndarray, next_obs: np.ndarray, terminated: np.ndarray,
             truncated: np.ndarray, human: np.ndarray) -> Emitted:
        """One step of each stream in ``streams`` (distinct); returns what is ready to store."""
        streams = np.asarray(streams, dtype=np.int64)
        if streams.size and streams.max() >= self.streams:
            self._grow(int(streams.max()) + 1)
        n = self.n
        length = self.length[streams]
        broken = (length > 0) & (self.last_next[streams] != obs).any(axis=1)
        length[broken] = 0
        self.obs[streams, length] = obs
        self.actions[streams, length] = actions
        self.rewards[streams, length] = rewards
        self.human[streams, length] = human
        length += 1
        self.last_next[streams] = next_obs
        term = np.asarray(terminated, bool)
        trunc = np.asarray(truncated, bool)
        full = (length == n) & ~term
        # What each row emits, in row order: a termination every pending window (returns up
        # to the end, not bootstrapped); a full window its oldest transition (bootstrapped).
        counts = np.where(term, length, full.astype(np.int64))
        rows = np.repeat(np.arange(streams.size), counts)
        first = np.cumsum(counts) - counts
        j = np.arange(rows.size) - first[rows]  # the window's slot of each emitted transition
        s = streams[rows]
        live = np.arange(n)[None, :] < length[:, None]  # slots holding this step's window
        returns = (np.where(live, self.rewards[streams], 0.0).astype(np.float64)
                   @ self._discounts)[rows, j]
        out = Emitted(self.obs[s, j], self.actions[s, j], returns.astype(np.float32),
                      np.asarray(next_obs, np.float32)[rows], term[rows], self.human[s, j])
        # Then the windows move on: a full one that goes on drops its oldest transition.
        shift = streams[full & ~trunc]
        for arr in (self.obs, self.actions, self.rewards, self.human):
            arr[shift, :-1] = arr[shift, 1:]
        length[full & ~trunc] = n - 1
        length[term | trunc] = 0
        self.length[streams] = length
        return out

    def clear(self) -> None:
        """Drops every pending window (learning switched off, a new pilot loaded)."""
        self.length[:] = 0

    def state(self) -> dict:
        """The pending windows as JSON-able lists (float32 values round-trip exactly)."""
        return {name: getattr(self, name).tolist() for name in self.ARRAYS}

    def load(self, state: dict) -> None:
        """Restores ``state()``; ``ValueError`` if it does not fit ``n`` and the obs size."""
        arrays = {name: np.asarray(state[name], dtype=getattr(self, name).dtype)
                  for name in self.ARRAYS}
        streams = len(arrays["length"])
        self._alloc(streams)
        for name, arr in arrays.items():
            dst = getattr(self, name)
            if arr.size == 0 and dst.size == 0:
                continue
            if arr.shape != dst.shape:
                raise ValueError(f"n-step window {name!r} has shape {list(arr.shape)}, "
                                 f"expected {list(dst.shape)}")
            dst[...] = arr
        if ((self.length < 0) | (self.length >= self.n)).any():
            raise ValueError("n-step window lengths are out of range")
