"""The result store: atomic verified parts, corruption detected and moved aside, each key once."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from accelsim.dse.store import ResultStore


def rows(keys, value=1.0):
    return pd.DataFrame({"key": keys, "cycles": [len(k) * 10 for k in keys], "energy_pj": value})


def test_written_rows_read_back(tmp_path):
    store = ResultStore(tmp_path)
    store.write(rows(["a", "bb"]))
    store.write(rows(["ccc"]))
    again = ResultStore(tmp_path).points().sort_values("key").reset_index(drop=True)
    pd.testing.assert_frame_equal(again, rows(["a", "bb", "ccc"]))
    assert ResultStore(tmp_path).done_keys() == {"a", "bb", "ccc"}


def test_a_key_stored_twice_is_read_once(tmp_path):
    store = ResultStore(tmp_path)
    store.write(rows(["a", "b"]))
    store.write(rows(["b", "c"]))
    assert sorted(ResultStore(tmp_path).points()["key"]) == ["a", "b", "c"]


def test_duplicate_keys_in_one_write_are_refused(tmp_path):
    with pytest.raises(ValueError):
        ResultStore(tmp_path).write(rows(["a", "a"]))


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty"])
def test_damaged_part_is_detected_and_moved_aside(tmp_path, damage, caplog):
    store = ResultStore(tmp_path)
    store.write(rows(["a"]))
    bad = store.write(rows(["b", "c"]))
    data = bad.read_bytes()
    if damage == "truncate":
        bad.write_bytes(data[: len(data) // 2])
    elif damage == "flip":  # same size, one byte changed in the middle
        bad.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:])
    else:
        bad.write_bytes(b"")
    with caplog.at_level(logging.WARNING):
        assert ResultStore(tmp_path).done_keys() == {"a"}
    assert "corrupt" in caplog.text
    assert not bad.exists() and (tmp_path / "corrupt" / bad.name).exists()


def test_the_writer_reads_back_its_own_parts_as_a_fresh_store_does(tmp_path):
    """The store that wrote a part hands back the table it encoded: the same frames as a store
    that reads the files (the sweep assembles what it just committed this way)."""
    store = ResultStore(tmp_path)
    layers = pd.DataFrame({"key": ["a", "a", "bb"], "layer_index": [0, 1, 0], "mapping": ["ws", None, "os"],
                           "cycles": pd.array([1, None, 3], dtype="Int64")})
    store.write(rows(["a", "bb"]), layers)
    store.write(rows(["ccc"], value=2.5))
    fresh = ResultStore(tmp_path)
    pd.testing.assert_frame_equal(store.points(), fresh.points())
    pd.testing.assert_frame_equal(store.layers(), fresh.layers())


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_damage_after_writing_is_detected_by_the_writer_too(tmp_path, damage, caplog):
    """A part changed on disk after this store wrote it is read and verified, not trusted."""
    store = ResultStore(tmp_path)
    store.write(rows(["a"]))
    bad = store.write(rows(["b", "c"]))
    data = bad.read_bytes()
    bad.write_bytes(data[:100] + bytes([data[100] ^ 0xFF]) + data[101:] if damage == "flip" else data[:50])
    with caplog.at_level(logging.WARNING):
        assert store.done_keys() == {"a"}
    assert "corrupt" in caplog.text and (tmp_path / "corrupt" / bad.name).exists()


def test_leftover_temporary_files_are_ignored_and_removed(tmp_path):
    store = ResultStore(tmp_path)
    store.write(rows(["a"]))
    (store.parts / ".tmp-123-points-deadbeef.parquet").write_bytes(b"PAR1 half a file")
    assert ResultStore(tmp_path).done_keys() == {"a"}
    assert not list(store.parts.glob(".tmp-*"))


def test_points_whose_layers_part_is_lost_are_recomputed(tmp_path):
    store = ResultStore(tmp_path)
    store.write(rows(["a"]), pd.DataFrame({"key": ["a"], "layer_index": [0], "cycles": [5]}))
    store.write(rows(["b"]), pd.DataFrame({"key": ["b"], "layer_index": [0], "cycles": [7]}))
    next(store.parts.glob("layers-*.parquet")).unlink()
    fresh = ResultStore(tmp_path)
    assert len(fresh.done_keys(with_layers=True)) == 1
    assert fresh.done_keys() == fresh.done_keys(with_layers=True)


def test_with_layers_counts_failed_points_as_done(tmp_path):
    store = ResultStore(tmp_path)
    store.write(pd.DataFrame({"key": ["a", "b"], "error": ["", "unsupported precision"]}))
    assert store.done_keys(with_layers=True) == {"b"}


def test_a_file_is_not_a_store(tmp_path):
    (tmp_path / "f").write_text("x")
    from accelsim.errors import AccelsimError

    with pytest.raises(AccelsimError, match="expected a results directory"):
        ResultStore(tmp_path / "f")


def test_a_live_writers_temporary_files_are_kept(tmp_path):
    """Only a dead writer's leftovers go: this process is alive, so its temporary file stays."""
    store = ResultStore(tmp_path)
    live = store.parts / f".tmp-pid{os.getpid()}-abc-points-x.parquet"
    live.write_bytes(b"PAR1 being written")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = store.parts / f".tmp-pid{int(dead.stdout)}-abc-points-y.parquet"
    gone.write_bytes(b"PAR1 half")
    ResultStore(tmp_path)
    assert live.exists() and not gone.exists()


def test_second_writer_stops_with_a_clear_message(tmp_path):
    """The lock is per open file: a second process (here a child) cannot take it while held."""
    store = ResultStore(tmp_path)
    script = ("import sys; from accelsim.dse.store import ResultStore, StoreError\n"
              "try:\n    ResultStore(sys.argv[1]).writing().__enter__()\n"
              "except StoreError as e:\n    print('refused:', e)\n")
    with store.writing():
        child = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                               cwd=Path(__file__).resolve().parents[2])
        assert "refused:" in child.stdout and "another sweep is writing" in child.stdout, child.stderr
        assert f"pid {os.getpid()}" in child.stdout
    child = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                           cwd=Path(__file__).resolve().parents[2])
    assert "refused" not in child.stdout and child.returncode == 0, child.stderr
