"""Numba's kernel cache is dropped when any kernel source changes (numba checks only each
kernel's own file, so a kernel calling another file's kernels could run their old code)."""

from __future__ import annotations

from pathlib import Path

import accelsim.kernels
from accelsim.kernels._cache import STAMP, cache_folder, drop_stale, sources_digest


def make_cache(folder: Path, *names: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = [folder / name for name in names]
    for path in files:
        path.write_bytes(b"compiled")
    return files


def test_cache_is_dropped_exactly_when_a_source_changes(tmp_path):
    sources, cache = tmp_path / "kernels", tmp_path / "cache"
    sources.mkdir()
    (sources / "a.py").write_text("x = 1\n")
    (sources / "b.py").write_text("y = 2\n")
    old = make_cache(cache, "a.f-1.py311.nbi", "a.f-1.py311.1.nbc")
    assert drop_stale(sources, cache)                    # no stamp yet: built from unknown sources
    assert not any(path.exists() for path in old)
    assert (cache / STAMP).read_text() == sources_digest(sources)

    kept = make_cache(cache, "a.f-1.py311.nbi", "b.g-3.py311.1.nbc")
    assert not drop_stale(sources, cache)                # same sources: the cache stays
    assert all(path.exists() for path in kept)

    (sources / "b.py").write_text("y = 3\n")             # only the callee's file changes
    assert drop_stale(sources, cache)
    assert not any(path.exists() for path in kept)


def test_digest_sees_names_and_contents(tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n")
    before = sources_digest(tmp_path)
    (tmp_path / "a.py").rename(tmp_path / "c.py")
    assert sources_digest(tmp_path) != before


def test_the_package_cache_folder_is_where_numba_writes():
    from accelsim.kernels.systolic import fold_durations  # a kernel run at least once by now
    import numpy as np

    durations = np.zeros(1, dtype=np.int64)
    one = np.ones(1, dtype=np.int64)
    fold_durations(0, 2, False, one, one, one, durations)
    cache = cache_folder(Path(accelsim.kernels.__file__).parent)
    assert cache is not None and any(cache.glob("systolic.fold_durations-*.nbi"))
    assert (cache / STAMP).is_file()
