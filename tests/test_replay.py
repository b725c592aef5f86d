"""Replay memory: ring wraparound, the terminal ring, sampling, human tags, state round trip."""

from __future__ import annotations

import numpy as np
import pytest

from ai.replay import ReplayMemory


def _add(mem: ReplayMemory, k: int, terminated: bool = False, human: bool = False) -> None:
    """Transition number ``k``: its observation is ``[k, -k]`` so slots can be told apart."""
    mem.add(np.array([k, -k], dtype=np.float32), k % 2, float(k), np.array([k + 1, 0], np.float32),
            terminated, human)


def test_ring_wraps_and_overwrites_the_oldest() -> None:
    mem = ReplayMemory(2, ring=4, terminal=2, seed=0)
    for k in range(6):
        _add(mem, k)
    assert mem.count == 4 and mem.size == 4 and mem.pos == 2
    # Slots 0 and 1 now hold transitions 4 and 5; 2 and 3 still hold 2 and 3.
    assert mem.obs[:4, 0].tolist() == [4, 5, 2, 3]
    assert mem.rewards[:4].tolist() == [4, 5, 2, 3]
    assert mem.next_obs[:4, 0].tolist() == [5, 6, 3, 4]


def test_terminal_transitions_live_in_their_own_ring() -> None:
    mem = ReplayMemory(2, ring=3, terminal=2, seed=0)
    _add(mem, 100, terminated=True)
    for k in range(50):  # a long stretch of safe flying
        _add(mem, k)
    assert mem.tcount == 1 and mem.terminated[3] == 1.0 and mem.obs[3, 0] == 100
    for k in (200, 201, 202):
        _add(mem, k, terminated=True)
    assert mem.tcount == 2 and sorted(mem.obs[3:5, 0].tolist()) == [201, 202]
    assert mem.size == 5 and mem.capacity == 5


def test_sampling_draws_only_filled_slots_and_covers_both_rings() -> None:
    mem = ReplayMemory(2, ring=10, terminal=10, seed=1)
    for k in range(3):
        _add(mem, k)
    _add(mem, 7, terminated=True)
    batch = mem.sample(2000)
    seen = set(batch.obs[:, 0].tolist())
    assert seen == {0.0, 1.0, 2.0, 7.0}  # never an empty slot (zeros would show up as obs 0 twice)
    counts = np.bincount(batch.obs[:, 0].astype(int), minlength=8)[[0, 1, 2, 7]]
    assert counts.min() > 400  # uniform: each of 4 filled slots ~500 of 2000
    term = batch.terminated[batch.obs[:, 0] == 7]
    assert (term == 1.0).all() and (batch.terminated[batch.obs[:, 0] != 7] == 0.0).all()
    assert batch.actions.dtype == np.int64 and batch.obs.dtype == np.float32


def test_empty_slot_is_never_sampled_when_ring_0_is_empty() -> None:
    mem = ReplayMemory(2, ring=10, terminal=10, seed=1)
    _add(mem, 9, terminated=True)
    assert set(mem.sample(50).obs[:, 0].tolist()) == {9.0}


def test_sampling_is_reproducible_from_the_seed() -> None:
    a, b = ReplayMemory(2, 50, 5, seed=3), ReplayMemory(2, 50, 5, seed=3)
    for k in range(30):
        _add(a, k)
        _add(b, k)
    np.testing.assert_array_equal(a.sample(16).obs, b.sample(16).obs)


def test_human_count_follows_overwrites() -> None:
    mem = ReplayMemory(2, ring=3, terminal=1, seed=0)
    for k in range(3):
        _add(mem, k, human=True)
    assert mem.human_count == 3
    _add(mem, 3, human=False)  # overwrites a human transition
    assert mem.human_count == 2
    _add(mem, 4, terminated=True, human=True)
    assert mem.human_count == 3


def test_state_round_trip_continues_identically() -> None:
    mem = ReplayMemory(2, ring=8, terminal=3, seed=5)
    for k in range(11):
        _add(mem, k, terminated=k % 4 == 0, human=k < 3)
    arrays, meta = mem.state()
    copy = ReplayMemory.from_state(arrays, meta)
    assert (copy.size, copy.human_count, copy.pos, copy.tpos) == (
        mem.size, mem.human_count, mem.pos, mem.tpos)
    np.testing.assert_array_equal(copy.sample(32).obs, mem.sample(32).obs)


def test_a_state_of_the_stored_rows_only_rebuilds_the_same_memory() -> None:
    """``state(filled=True)`` (a learner handed to a child process): only the rows stored, in
    both rings, and ``from_state`` puts each back in its slot, zeros elsewhere as in a memory
    that never stored them; what it samples next is the same. A short array is refused."""
    mem = ReplayMemory(2, ring=8, terminal=4, seed=5)
    for k in range(6):
        _add(mem, k + 1, terminated=k % 3 == 0, human=k < 2)
    assert 0 < mem.count < mem.ring and 0 < mem.tcount < mem.terminal
    arrays, meta = mem.state(filled=True)
    assert arrays["obs"].shape == (mem.count + mem.tcount, 2) and meta["filled"]
    copy = ReplayMemory.from_state(arrays, meta)
    for name in ReplayMemory.ARRAYS:
        np.testing.assert_array_equal(getattr(copy, name), getattr(mem, name))
    assert (copy.pos, copy.count, copy.tpos, copy.tcount, copy.human_count) == (
        mem.pos, mem.count, mem.tpos, mem.tcount, mem.human_count)
    np.testing.assert_array_equal(copy.sample(32).obs, mem.sample(32).obs)
    full = ReplayMemory(2, ring=8, terminal=4, seed=5)  # a full ring: every row goes
    for k in range(12):
        _add(full, k + 1)
    arrays, meta = full.state(filled=True)
    copy = ReplayMemory.from_state(arrays, meta)
    np.testing.assert_array_equal(copy.obs, full.obs)
    arrays["obs"] = arrays["obs"][1:]
    with pytest.raises(ValueError, match="obs"):
        ReplayMemory.from_state(arrays, meta)


def test_state_with_wrong_shape_is_refused() -> None:
    mem = ReplayMemory(2, ring=8, terminal=3, seed=5)
    arrays, meta = mem.state()
    arrays["obs"] = np.zeros((5, 2), dtype=np.float32)
    with pytest.raises(ValueError, match="obs"):
        ReplayMemory.from_state(arrays, meta)


def test_terminal_share_keeps_rare_crashes_in_every_batch() -> None:
    mem = ReplayMemory(2, ring=1000, terminal=10, seed=2)
    _add(mem, 500, terminated=True)
    for k in range(1000):
        _add(mem, k)
    uniform = mem.sample(64)
    assert uniform.terminated.sum() == 0  # 1 in 1001: a plain uniform draw misses it
    batch = mem.sample(64, terminal_share=0.25)
    assert batch.terminated.sum() == 16 and (batch.obs[batch.terminated == 1, 0] == 500).all()
    assert set(batch.obs[batch.terminated == 0, 0].tolist()) <= set(range(1000))
