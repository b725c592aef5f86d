"""Hostile files and situations: nothing crashes, nothing hangs, nothing is lost (issue 14).

Every case that could hang or fill the memory on a bad implementation (a FIFO, a
symlink to ``/dev/zero``, a huge sparse file) is loaded in a child process with a
timeout and a memory limit, so a regression fails the test instead of stalling CI or
the machine.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from test_store import make_state
from test_store_faults import contents, gen_file, resign

import ai.atomic
from ai import Autopilot, PilotError
from ai.store.store import Store

ROOT = Path(__file__).resolve().parent.parent
DEEP = b"[" * 200_000
"""JSON nested far deeper than the interpreter's recursion limit."""
CHILD_TIMEOUT_S = 60.0
"""A load that takes longer than this hangs (a good one takes well under a second)."""

_CHILD = r"""
import json, resource, sys
kind, target = sys.argv[1], sys.argv[2]
if kind == "store":
    from ai.store.store import Store
else:
    from game.wiring.best_scores import ScoreBook
# 1 GiB of address space more than the imports took: reading /dev/zero fails fast
# with MemoryError instead of taking the machine's memory.
with open("/proc/self/status") as f:
    vm = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (vm + 2**30, resource.RLIM_INFINITY))
if kind == "store":
    r = Store(target, "classic").load()
    out = {"generation": r.generation, "messages": r.messages}
else:
    book = ScoreBook(target)
    out = {"message": book.message, "best": book.best}
print(json.dumps(out))
"""


def in_child(kind: str, target: Path) -> dict:
    """Loads ``target`` (a store folder or a data folder) in a child with a deadline."""
    try:
        out = subprocess.run([sys.executable, "-c", _CHILD, kind, str(target)], cwd=ROOT,
                             capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the load hung for {CHILD_TIMEOUT_S:.0f} s")
    assert out.returncode == 0, out.stderr[-1500:]
    assert out.stderr == "", out.stderr[-1500:]
    return json.loads(out.stdout)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _dev_zero(path: Path) -> None:
    path.symlink_to("/dev/zero")


def _folder(path: Path) -> None:
    path.mkdir()


def _huge(path: Path) -> None:
    with open(path, "wb") as f:  # sparse: 8 GB on paper, nothing on disk
        f.truncate(8 * 10**9)


def _deep(path: Path) -> None:
    path.write_bytes(DEEP)


MAKE = {"fifo": _fifo, "dev-zero": _dev_zero, "folder": _folder, "huge": _huge, "deep": _deep}

# (the file replaced in the newest save, what replaces it)
STORE_CASES = [
    ("manifest", "deep"), ("manifest", "fifo"), ("manifest", "dev-zero"),
    ("manifest", "folder"), ("manifest", "huge"),
    ("state", "deep"), ("state", "fifo"), ("weights", "fifo"), ("memory", "dev-zero"),
    ("memory", "huge"),
]


@pytest.mark.parametrize("role, kind", STORE_CASES, ids=[f"{r}-{k}" for r, k in STORE_CASES])
def test_a_hostile_file_in_the_newest_save_falls_back_in_one_line(tmp_path, role, kind):
    folder = tmp_path / "learner" / "classic"
    store = Store(folder, "classic")
    assert store.save(make_state(1)).ok and store.save(make_state(2)).ok
    older = {n: b for n, b in contents(folder).items() if n.startswith("gen-000001")}
    target = gen_file(folder, 2, role)
    target.unlink()
    MAKE[kind](target)
    if role != "manifest" and kind == "deep":
        resign(folder, 2)  # checksums that match: the parser itself meets the nesting
    elif role != "manifest" and kind == "huge":  # a forged manifest that claims the size
        body = json.loads(gen_file(folder, 2, "manifest").read_text())
        body.pop("manifest_sha256")
        body["files"][role]["size"] = 8 * 10**9
        resign_body(folder, 2, body)

    got = in_child("store", folder)

    assert got["generation"] == 1
    assert len(got["messages"]) == 1, got["messages"]
    line = got["messages"][0]
    assert "save 2 is damaged" in line and "resumed from the older save 1" in line, line
    # Nothing deleted: the hostile file itself was moved aside (a link as a link).
    aside = [p for p in folder.iterdir() if p.name.startswith(target.name + ".corrupt-")]
    assert len(aside) == 1 and os.path.lexists(aside[0])
    assert {n: b for n, b in contents_safe(folder).items() if n.startswith("gen-000001")} \
        == older


def contents_safe(folder: Path) -> dict[str, bytes]:
    """The regular files' bytes (never opens a FIFO or a device)."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())
            if p.is_file() and not p.is_symlink() and p.stat().st_size < 10**8}


@pytest.mark.parametrize("kind", ["deep", "fifo", "dev-zero", "folder", "huge"])
def test_a_hostile_best_scores_file_is_moved_aside_in_one_line(tmp_path, kind):
    target = tmp_path / "best_scores.json"
    MAKE[kind](target)
    got = in_child("scores", tmp_path)
    assert got["best"] == {}
    assert "moved aside" in got["message"] and "\n" not in got["message"]
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("best_scores.json.corrupt-")]
    assert len(aside) == 1 and not os.path.lexists(target)


# ---- pilot files -----------------------------------------------------------------------

def _with_metadata(pilot: Path, out: Path, metadata: object) -> Path:
    """A copy of ``pilot`` whose safetensors ``__metadata__`` is ``metadata``.

    ``metadata`` is raw JSON bytes, a JSON value, or a function of the real metadata.
    """
    data = pilot.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    real = header.pop("__metadata__")
    if callable(metadata):
        metadata = metadata(real)
    raw = metadata if isinstance(metadata, bytes) else json.dumps(metadata).encode()
    text = b'{"__metadata__":' + raw + b"," + json.dumps(header).encode()[1:]
    text += b" " * (-len(text) % 8)
    out.write_bytes(struct.pack("<Q", len(text)) + text + data[8 + n:])
    return out


BAD_METADATA = {
    "string": "format format_version level",  # `"format" in meta` holds for a string
    "number": 7,
    "list": ["format", "gravity-flyer-pilot"],
    "nested": lambda real: {**real, "card.trained": {"steps": 5000}},
    "non-string-values": lambda real: {**real, "card.score": 0.99},
    "deeply-nested": DEEP[:100_000] + b"]" * 100_000,
}


@pytest.mark.parametrize("case", list(BAD_METADATA))
def test_a_pilot_with_malformed_metadata_is_refused_in_one_line(tmp_path, case):
    path = _with_metadata(ROOT / "assets" / "pilots" / "classic.safetensors",
                          tmp_path / "bad.safetensors", BAD_METADATA[case])
    with pytest.raises(PilotError) as exc:
        Autopilot.load(path)
    assert "\n" not in str(exc.value) and str(path) in str(exc.value)


def test_evaluate_refuses_a_malformed_pilot_with_exit_2(tmp_path):
    path = _with_metadata(ROOT / "assets" / "pilots" / "classic.safetensors",
                          tmp_path / "bad.safetensors", BAD_METADATA["list"])
    out = subprocess.run([sys.executable, "main.py", "evaluate", str(path), "--episodes", "1"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2, out.stderr
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith("gravity-flyer: error:")


@pytest.mark.parametrize("kind", ["folder", "fifo", "dev-zero"])
def test_autopilot_and_evaluate_say_is_not_a_file_alike(tmp_path, kind):
    path = tmp_path / "pilot.safetensors"
    MAKE[kind](path)
    for args in (["--autopilot", str(path), "--data-dir", str(tmp_path / "data")],
                 ["evaluate", str(path)]):
        env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
        try:
            out = subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            pytest.fail(f"{args[0]} hung on a {kind}")
        assert out.returncode == 2, (args, out.stderr)
        assert out.stderr == f"gravity-flyer: error: {path} is not a file\n", args


# ---- the command line -------------------------------------------------------------------

def test_an_empty_data_dir_is_refused(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "main.py"), "--data-dir", ""], cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(ROOT)},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert len(out.stderr.splitlines()) == 1 and "--data-dir" in out.stderr
    assert list(tmp_path.iterdir()) == []  # nothing saved into the current folder


# ---- physics versions ---------------------------------------------------------------------

def test_a_learner_of_another_physics_version_is_moved_aside_in_one_line(tmp_path):
    folder = tmp_path / "learner" / "arcade"
    assert Store(folder, "arcade", expect={"physics_version": "1"}).save(
        make_state(1, level="arcade")).ok
    before = contents(folder)
    result = Store(folder, "arcade", expect={"physics_version": "2"}).load()
    assert result.state is None
    assert len(result.messages) == 1
    line = result.messages[0]
    assert "from physics version 1 (this game has version 2)" in line
    assert line.endswith("; starting fresh")
    # Every byte kept, under new names; never loaded again.
    stamp = line.split("physics-v1-")[1].split(";")[0]
    assert contents(folder) == {f"{n}.physics-v1-{stamp}": b for n, b in before.items()}
    assert Store(folder, "arcade", expect={"physics_version": "2"}).load().messages == []


def test_a_save_from_before_manifests_had_meta_counts_as_physics_1(tmp_path):
    folder = tmp_path / "learner" / "classic"
    assert Store(folder, "classic").save(make_state(1)).ok
    body = json.loads(gen_file(folder, 1, "manifest").read_text())
    del body["meta"]
    body.pop("manifest_sha256")
    resign_body(folder, 1, body)
    assert Store(folder, "classic", expect={"physics_version": "1"}).load().generation == 1
    assert Store(folder, "classic", expect={"physics_version": "2"}).load().state is None


def resign_body(folder: Path, generation: int, body: dict) -> None:
    """Writes ``body`` as the manifest with a matching checksum."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    gen_file(folder, generation, "manifest").write_text(
        json.dumps(dict(body, manifest_sha256=hashlib.sha256(canonical).hexdigest())))


# ---- disk full with two generations kept ------------------------------------------------

class QuotaOs:
    """``os`` on a disk of ``quota`` bytes: a write that would exceed it fails (ENOSPC)."""

    def __init__(self, folder: Path, quota: int) -> None:
        self.folder, self.quota, self.refused = folder, quota, 0

    def __getattr__(self, attr):
        return getattr(os, attr)

    def write(self, fd, data):
        used = sum(p.stat().st_size for p in self.folder.iterdir() if p.is_file())
        if used + memoryview(data).nbytes > self.quota:
            self.refused += 1
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(fd, data)


def test_a_full_disk_keeps_one_good_save_and_saves_again(tmp_path, monkeypatch):
    folder = tmp_path / "learner" / "classic"
    store = Store(folder, "classic")
    assert store.save(make_state(1, n=20_000)).ok
    one = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
    assert store.save(make_state(2, n=20_000)).ok
    # Room for two generations and a half: the third fits only if the first goes.
    disk = QuotaOs(folder, int(2.5 * one))
    monkeypatch.setattr(ai.atomic, "os", disk)
    info = store.save(make_state(3, n=20_000))
    assert disk.refused >= 1  # the disk really was full at the first try
    assert info.ok and info.generation == 3, info.message
    assert "disk was full" in info.message
    assert store.generations() == [3, 2]
    assert Store(folder, "classic").load().state.meta["k"] == 3


def test_a_save_that_still_cannot_fit_says_how_old_the_newest_save_is(tmp_path, monkeypatch):
    folder = tmp_path / "learner" / "classic"
    store = Store(folder, "classic")
    assert store.save(make_state(1)).ok and store.save(make_state(2)).ok
    before = contents(folder)
    monkeypatch.setattr(ai.atomic, "os", QuotaOs(folder, 0))
    info = store.save(make_state(3))
    assert not info.ok
    assert re.search(r"the previous save is kept: save 2 from \d\d:\d\d, 0 min ago\)$",
                     info.message), info.message
    monkeypatch.undo()
    got = contents(folder)
    assert set(got) <= set(before) and gen_file(folder, 2, "manifest").name in got
    assert Store(folder, "classic").load().state.meta["k"] == 2


# ---- one writer per learner folder, two real processes ----------------------------------

_HOLDER = r"""
import sys
from ai.store.store import Store
s = Store(sys.argv[1], "classic")
print("claimed" if s.claim() else "busy", flush=True)
sys.stdin.readline()  # hold the lock until told (or killed)
"""


def test_a_second_process_never_writes_into_the_first_ones_learner(tmp_path):
    folder = tmp_path / "learner" / "classic"
    assert Store(folder, "classic").save(make_state(1)).ok
    (folder / "gen-000005.memory.npz").write_bytes(b"an orphan the writer would move")
    holder = subprocess.Popen([sys.executable, "-c", _HOLDER, str(folder)], cwd=ROOT,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "claimed"
        before = contents(folder)
        second = Store(folder, "classic")
        assert not second.claim()
        assert "another Gravity Flyer is using the classic learner" in second.busy_message
        result = second.load()  # reads, changes nothing (not even the orphan)
        assert result.state.meta["k"] == 1 and result.messages == []
        info = second.save(make_state(2))
        assert not info.ok and "another Gravity Flyer" in info.message
        with pytest.raises(OSError, match="another Gravity Flyer"):
            second.move_aside_all()  # --fresh in the second window
        assert contents(folder) == before
        holder.kill()  # SIGKILL: the lock is never released by the holder itself
        holder.wait(timeout=30)
        assert second.claim()  # a dead holder's lock never blocks
        assert second.save(make_state(2)).ok
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait(timeout=30)
