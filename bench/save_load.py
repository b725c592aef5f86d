"""Save and load of a full replay memory: time, size on disk, and the frame cost of an autosave.

Run::

    python bench/save_load.py                # default capacity and 1M slots, both levels
    python bench/save_load.py --repeats 3 --no-large

For each level and capacity a real ``ai.Learner`` is built, its replay memory filled
to the brim with random transitions (both rings), and its state is saved with
``ai.store.store.Store`` into a temp folder on the same disk as ``--dir`` (default: the
system temp folder), then loaded back. Timed parts:

* ``state_ms``: ``Learner.state()`` (the learner copies its arrays)
* ``prepare_ms``: ``Store.prepare(state, copy=False)`` (serialises the weights in
  memory; with ``state_ms``, the part of an autosave on the game's thread)
* ``write_ms``: ``Store.write`` (npz, checksums, fsyncs; runs on the background thread)
* ``load_ms``: ``Store.load`` (read, verify every checksum, parse, NaN check)
* ``from_state_ms``: ``Learner.from_state`` on the loaded state

``memory_over_autosaves``: resident memory after 10 and 100 background autosaves of
a full arcade learner (it should stay flat), and how many generations stay on disk.

``frame``: a stand-in for the game's frame (a fixed chunk of learner steps, about
the per-frame work of the window) is timed back to back for ``--frame-seconds``,
once idle and once while a ``BackgroundSaver`` writes autosaves back to back. The
99th percentile and worst chunk show how much a save on the other thread costs the
frame (the GIL and the disk). The real window's longest frame during an autosave is
measured by the window's own benchmark.

Figures are medians (and maxima) over ``--repeats``. Writes ``bench/results/save_load.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ai import Learner  # noqa: E402
from ai.store.store import BackgroundSaver, Store  # noqa: E402
from game import make_world  # noqa: E402
from game.sim.levels import LEVELS  # noqa: E402
from game.wiring.learning import learner_config, new_learner  # noqa: E402


def full_learner(level: str, ring: int, terminal: int, seed: int = 0) -> Learner:
    """A learner whose replay memory is completely full of random transitions."""
    cfg = learner_config(LEVELS[level], capacity=ring, terminal_capacity=terminal)
    learner = new_learner(LEVELS[level], seed=seed, config=cfg)
    mem = learner.memory
    rng = np.random.default_rng(seed)
    n = mem.capacity
    mem.obs[:] = rng.uniform(-1, 1, (n, mem.obs_size)).astype(np.float32)
    mem.next_obs[:] = rng.uniform(-1, 1, (n, mem.obs_size)).astype(np.float32)
    mem.actions[:] = rng.integers(0, 2, n)
    mem.rewards[:] = rng.choice(np.array([-1.0, 0.0, 1.0], dtype=np.float32), n)
    mem.terminated[:ring] = 0.0
    mem.terminated[ring:] = 1.0
    mem.human[:] = rng.random(n) < 0.3
    mem.count, mem.pos, mem.tcount, mem.tpos = ring, 0, terminal, 0
    mem.human_count = int(mem.human.sum())
    # A few real steps so the optimizer moments exist, as in a learner that has trained.
    world = make_world(level, seed=seed)
    obs = world.observation()
    for _ in range(learner.config.learning_starts + 8):
        a = learner.act(obs)
        reward, done = world.step(a)
        nxt = world.observation()
        learner.observe(obs, a, reward, nxt, done)
        obs = world.reset() if done else nxt
    return learner


def ms(seconds: list[float]) -> dict[str, float]:
    """Median and max in milliseconds."""
    return {"median": round(1e3 * statistics.median(seconds), 2),
            "max": round(1e3 * max(seconds), 2)}


def bench_case(level: str, ring: int, terminal: int, root: Path, repeats: int) -> dict:
    """Times save and load of one full learner; returns the figures."""
    learner = full_learner(level, ring, terminal)
    store = Store(Path(tempfile.mkdtemp(dir=root)) / "learner" / level, level)
    t_state, t_prep, t_write, t_load, t_build = [], [], [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        state = learner.state()
        t1 = time.perf_counter()
        snap = store.prepare(state, copy=False)  # state() is already a private copy
        t2 = time.perf_counter()
        info = store.write(snap)
        t3 = time.perf_counter()
        assert info.ok, info.message
        t_state.append(t1 - t0)
        t_prep.append(t2 - t1)
        t_write.append(t3 - t2)
    for _ in range(repeats):
        fresh = Store(store.folder, level)
        t0 = time.perf_counter()
        result = fresh.load()
        t1 = time.perf_counter()
        rebuilt = Learner.from_state(result.state)
        t2 = time.perf_counter()
        assert result.state is not None and result.messages == [], result.messages
        t_load.append(t1 - t0)
        t_build.append(t2 - t1)
    assert torch.equal(rebuilt.net.flat, learner.net.flat)
    assert rebuilt.memory.size == learner.memory.capacity
    files = {p.name.split(".", 1)[1]: p.stat() for p in store.folder.iterdir()
             if p.name.startswith(f"gen-{info.generation:06d}.")}
    size = sum(s.st_size for s in files.values())
    on_disk = sum(s.st_blocks * 512 for s in files.values())
    return {
        "level": level, "slots": ring + terminal, "ring": ring, "terminal_ring": terminal,
        "obs_size": learner.obs_size,
        "bytes": size, "bytes_on_disk": on_disk,
        "files": {k: s.st_size for k, s in sorted(files.items())},
        "state_ms": ms(t_state), "prepare_ms": ms(t_prep), "write_ms": ms(t_write),
        "save_ms": ms([a + b + c for a, b, c in zip(t_state, t_prep, t_write, strict=True)]),
        "load_ms": ms(t_load), "from_state_ms": ms(t_build),
    }


def frame_chunks(learner: Learner, seconds: float, saver: BackgroundSaver | None,
                 store: Store) -> dict:
    """Times fixed chunks of learner work back to back, with autosaves running or not."""
    world = make_world(learner.meta["level"], seed=1)
    obs = world.observation()
    times, saves = [], 0
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        if saver is not None and not saver.busy:
            t = time.perf_counter()
            # What the window does on its own thread, every 60 s.
            saver.submit(store.prepare(learner.state(), copy=False))
            times.append(("prepare", time.perf_counter() - t))
            saves += 1
        t = time.perf_counter()
        for _ in range(4):  # about one frame of play at 10 ticks/s, plus learning
            a = learner.act(obs)
            reward, done = world.step(a)
            nxt = world.observation()
            learner.observe(obs, a, reward, nxt, done)
            obs = world.reset() if done else nxt
        times.append(("chunk", time.perf_counter() - t))
    chunks = [x for k, x in times if k == "chunk"]
    prep = [x for k, x in times if k == "prepare"]
    return {"chunks": len(chunks), "saves_started": saves,
            "chunk_p50_ms": round(1e3 * float(np.percentile(chunks, 50)), 3),
            "chunk_p99_ms": round(1e3 * float(np.percentile(chunks, 99)), 3),
            "chunk_max_ms": round(1e3 * max(chunks), 3),
            "snapshot_p50_ms": round(1e3 * float(np.percentile(prep, 50)), 3) if prep else None,
            "snapshot_max_ms": round(1e3 * max(prep), 3) if prep else None}


def rss_mb() -> float:
    """Resident memory of this process in MB (Linux), or NaN elsewhere."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return float("nan")
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def memory_flat(level: str, root: Path, saves: int) -> dict:
    """Resident memory after 10 and after ``saves`` background autosaves of a full learner."""
    cfg = learner_config(LEVELS[level])
    learner = full_learner(level, cfg.capacity, cfg.terminal_capacity)
    store = Store(Path(tempfile.mkdtemp(dir=root)) / "learner" / level, level)
    saver = BackgroundSaver(store)
    marks = {}
    for i in range(1, saves + 1):
        saver.submit(store.prepare(learner.state(), copy=False))
        saver.wait()
        if i in (10, saves):
            marks[i] = rss_mb()
    infos = saver.close()
    assert all(info.ok for info in infos)
    return {"saves": saves, "rss_mb_after_10": round(marks[10], 1),
            f"rss_mb_after_{saves}": round(marks[saves], 1),
            "growth_mb": round(marks[saves] - marks[10], 1),
            "generations_on_disk": len(store.generations())}


def main() -> int:
    """Runs the benchmark, prints a table and writes the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the temp store folders go (same disk as the data folder)")
    parser.add_argument("--no-large", action="store_true", help="skip the 1M-slot case")
    parser.add_argument("--frame-seconds", type=float, default=3.0)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parent / "results" / "save_load.json")
    args = parser.parse_args()
    torch.set_num_threads(1)

    cases = []
    for level in ("classic", "arcade"):
        cfg = learner_config(LEVELS[level])
        sizes = [(cfg.capacity, cfg.terminal_capacity)]
        if cfg.capacity + cfg.terminal_capacity != 100_000:
            sizes.append((90_000, 10_000))  # 100k slots in all
        if not args.no_large:
            sizes.append((1_000_000, cfg.terminal_capacity))
        for ring, terminal in sizes:
            case = bench_case(level, ring, terminal, args.dir, args.repeats)
            case["default_capacity"] = (ring, terminal) == (cfg.capacity, cfg.terminal_capacity)
            cases.append(case)
            print(f"{level:8s} {ring + terminal:>9,d} slots  {case['bytes'] / 1e6:7.2f} MB "
                  f"({case['bytes_on_disk'] / 1e6:.2f} MB on disk)  "
                  f"save {case['save_ms']['median']:7.1f} ms "
                  f"[state {case['state_ms']['median']:.1f} + prepare "
                  f"{case['prepare_ms']['median']:.1f} + write {case['write_ms']['median']:.1f}]"
                  f"  load {case['load_ms']['median']:7.1f} ms "
                  f"+ from_state {case['from_state_ms']['median']:.1f} ms", flush=True)

    frames = {}
    for level in ("classic", "arcade"):
        cfg = learner_config(LEVELS[level])
        learner = full_learner(level, cfg.capacity, cfg.terminal_capacity)
        # Past the early phase, so both runs do the same learning work per chunk.
        learner.env_steps = cfg.early_steps + 1
        store = Store(Path(tempfile.mkdtemp(dir=args.dir)) / "learner" / level, level)
        idle = frame_chunks(learner, args.frame_seconds, None, store)
        saver = BackgroundSaver(store)
        busy = frame_chunks(learner, args.frame_seconds, saver, store)
        saver.close()
        frames[level] = {"idle": idle, "autosaving": busy}
        print(f"{level:8s} frame work (4 steps + learning): idle p99 {idle['chunk_p99_ms']:.2f} "
              f"max {idle['chunk_max_ms']:.2f} ms | saving back to back ({busy['saves_started']} "
              f"saves) p99 {busy['chunk_p99_ms']:.2f} max {busy['chunk_max_ms']:.2f} ms, "
              f"state()+prepare on the frame thread max {busy['snapshot_max_ms']:.2f} ms",
              flush=True)

    flat = memory_flat("arcade", args.dir, 100)
    print(f"arcade   memory over {flat['saves']} autosaves: {flat['rss_mb_after_10']} MB after 10,"
          f" {flat['rss_mb_after_100']} MB after 100 (growth {flat['growth_mb']} MB); "
          f"{flat['generations_on_disk']} generations on disk", flush=True)

    result = {"bench": "save_load", "python": platform.python_version(),
              "torch": torch.__version__, "machine": platform.machine(),
              "repeats": args.repeats, "cases": cases, "frame_proxy": frames,
              "memory_over_autosaves": flat}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
