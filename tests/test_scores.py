"""Best scores: kept per level and kind, saved atomically, corrupt files moved aside."""

from __future__ import annotations

import json

import pytest

from ai.atomic import TEMP_SUFFIX
from game.wiring.best_scores import FILE_NAME, ScoreBook


def test_best_is_kept_per_level_and_kind_and_survives_a_restart(tmp_path):
    book = ScoreBook(tmp_path)
    assert book.get("arcade") == 0
    assert book.record("arcade", "human", 7) is True
    assert book.record("arcade", "human", 5) is False
    assert book.record("arcade", "autopilot", 40) is True
    assert book.record("classic", "human", 3) is True
    assert book.save() is True
    assert book.save() is False  # nothing changed since
    again = ScoreBook(tmp_path)
    assert again.get("arcade", "human") == 7
    assert again.get("arcade", "autopilot") == 40
    assert again.get("classic", "human") == 3 and again.get("classic", "autopilot") == 0
    assert again.message is None
    assert not list(tmp_path.glob(f"*{TEMP_SUFFIX}"))


def test_unknown_kind_is_refused(tmp_path):
    with pytest.raises(ValueError):
        ScoreBook(tmp_path).record("arcade", "robot", 1)


@pytest.mark.parametrize("content", [
    b"{not json",
    b"\xff\xfe\x00garbage",
    json.dumps({"format": 99, "best": {}}).encode(),
    json.dumps({"format": 1, "best": {"arcade": {"human": "ten"}}}).encode(),
    json.dumps({"format": 1, "best": {"arcade": {"human": -3}}}).encode(),
    json.dumps({"format": 1, "best": {"arcade": {"human": True}}}).encode(),
    json.dumps({"format": 1, "best": ["arcade"]}).encode(),
    json.dumps([1, 2, 3]).encode(),
])
def test_corrupt_file_is_moved_aside_with_one_line(tmp_path, content):
    (tmp_path / FILE_NAME).write_bytes(content)
    book = ScoreBook(tmp_path)
    assert book.get("arcade") == 0
    assert book.message is not None and "\n" not in book.message
    assert not (tmp_path / FILE_NAME).exists()
    aside = list(tmp_path.glob(f"{FILE_NAME}.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_bytes() == content  # kept, never deleted
    assert aside[0].name in book.message
    book.record("arcade", "human", 2)
    book.save()
    assert ScoreBook(tmp_path).get("arcade") == 2


def test_no_data_dir_keeps_scores_in_memory_only(tmp_path):
    book = ScoreBook(None)
    book.record("classic", "human", 4)
    assert book.get("classic") == 4
    assert book.save() is False


def test_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    book = ScoreBook(tmp_path)
    book.record("arcade", "human", 1)
    book.save()
    before = (tmp_path / FILE_NAME).read_bytes()
    book.record("arcade", "human", 9)

    def boom(*_a, **_k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("ai.atomic.os.fsync", boom)
    with pytest.raises(OSError):
        book.save()
    assert (tmp_path / FILE_NAME).read_bytes() == before
    assert not list(tmp_path.glob(f"*{TEMP_SUFFIX}"))
