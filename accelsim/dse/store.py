"""A crash-safe result store: Parquet parts that are whole or absent, verified on read.

Layout of a store directory::

    parts/points-<sha256>.parquet   rows of results, one per evaluated (design, workload, scheme)
    parts/layers-<sha256>.parquet   their per-layer rows (optional), referenced by the points part
    corrupt/                        parts that failed verification, moved aside (never read)

Each part is serialised in memory, written to a temporary name, flushed to disk and
renamed into place (``os.replace`` is atomic), so a kill at any moment leaves either the
whole part or none. A temporary name carries its writer's process id: leftovers of a dead
writer are removed, a live writer's never. One sweep at a time writes a store:
:meth:`ResultStore.writing` holds an exclusive lock on ``.lock`` (released by the kernel
when the process ends, even by ``kill -9``) and a second writer stops with a clear message. Its name carries the SHA-256 of its bytes, checked on every read, so
a truncated or corrupted part is detected, moved to ``corrupt/`` and its rows recomputed.
A points part is the commit record: it names its layers part, and a points part whose
layers part is missing or bad is rejected with it. Rows are keyed by ``key`` (a hash of
the design point, network, fidelity and evaluator); a key seen twice is kept once.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import logging
import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from accelsim.errors import AccelsimError

log = logging.getLogger(__name__)

KEY = "key"
_LAYERS_META = b"accelsim.layers_part"


def content_hash(data: Any) -> str:
    """A short stable hash of plain data (dicts, lists, numbers, strings): the store's row keys."""
    text = json.dumps(data, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class StoreError(AccelsimError):
    """The result store cannot be used (pyarrow missing, not a directory)."""


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise StoreError("the result store writes Parquet and needs pyarrow: pip install pyarrow") from None
    return pa, pq


def _serialise(table: pd.DataFrame, layers_part: str = ""):
    """``(Parquet bytes, Arrow table)`` of a part: ``table`` with the name of its layers part."""
    pa, pq = _pyarrow()
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), _LAYERS_META: layers_part.encode()})
    sink = io.BytesIO()
    pq.write_table(arrow, sink)
    return sink.getvalue(), arrow


_TMP_WRITER = re.compile(r"^\.tmp-pid(\d+)-")


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that ``path`` holds either all of it or did not change."""
    tmp = path.with_name(f".tmp-pid{os.getpid()}-{uuid.uuid4().hex}-{path.name}")
    with open(tmp, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class ResultStore:
    """Incremental, verified storage of sweep results under ``directory``."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        if self.directory.exists() and not self.directory.is_dir():
            raise StoreError(f"{self.directory}: expected a results directory, found a file")
        self.parts = self.directory / "parts"
        self.parts.mkdir(parents=True, exist_ok=True)
        for leftover in self.parts.glob(".tmp-*"):  # from a writer that was killed mid-write
            if not _writer_alive(leftover.name):
                leftover.unlink(missing_ok=True)
        self._points: pd.DataFrame | None = None
        self._layers: pd.DataFrame | None = None
        self._written: dict[str, Any] = {}  # part name -> the Arrow table this object encoded into it

    @contextlib.contextmanager
    def writing(self) -> Iterator[ResultStore]:
        """Hold the store's write lock for the block; StoreError if another process holds it."""
        lock_path = self.directory / ".lock"
        handle = open(lock_path, "a+")
        try:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.seek(0)
                holder = handle.read().strip() or "another process"
                raise StoreError(f"{self.directory}: another sweep is writing these results ({holder}); "
                                 "wait for it to finish, or give a different output directory") from None
            handle.seek(0)
            handle.truncate()
            handle.write(f"pid {os.getpid()}")
            handle.flush()
            yield self
        finally:
            handle.close()  # closing releases the lock

    def write(self, points: pd.DataFrame, layers: pd.DataFrame | None = None) -> Path:
        """Commit a batch of result rows (and their per-layer rows) as new parts."""
        if KEY not in points or points[KEY].duplicated().any():
            raise ValueError("every result row needs a unique 'key'")
        layers_name = ""
        if layers is not None:
            data, arrow = _serialise(layers)
            layers_name = f"layers-{hashlib.sha256(data).hexdigest()}.parquet"
            atomic_write(self.parts / layers_name, data)
            self._written[layers_name] = arrow
        data, arrow = _serialise(points, layers_name)
        path = self.parts / f"points-{hashlib.sha256(data).hexdigest()}.parquet"
        atomic_write(path, data)
        self._written[path.name] = arrow
        self._points = self._layers = None
        return path

    def _read_part(self, path: Path):
        """The verified Arrow table in ``path``, or None (after moving a bad part aside). A part
        whose bytes match its checksum and that this object wrote is not decoded: its bytes are
        the ones it encoded, so it hands back that table (a sweep assembles what it just
        committed without decoding it)."""
        _, pq = _pyarrow()
        try:
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != path.stem.split("-", 1)[1]:
                raise ValueError("content does not match the checksum in its name")
            written = self._written.get(path.name)
            return written if written is not None else pq.read_table(io.BytesIO(data))
        except Exception as exc:  # any unreadable part is quarantined, never trusted
            self._quarantine(path, exc)
            return None

    def _quarantine(self, path: Path, reason: Exception | str) -> None:
        corrupt = self.directory / "corrupt"
        corrupt.mkdir(exist_ok=True)
        log.warning("%s is corrupt or partial (%s): moved to %s/, its points will be recomputed", path.name,
                    reason, corrupt.name)
        if path.exists():
            os.replace(path, corrupt / path.name)

    def _load(self) -> None:
        points, layers = [], []
        for path in sorted(self.parts.glob("points-*.parquet")):
            table = self._read_part(path)
            if table is None:
                continue
            layers_name = (table.schema.metadata or {}).get(_LAYERS_META, b"").decode()
            if layers_name:
                layer_path = self.parts / layers_name
                layer_table = self._read_part(layer_path) if layer_path.exists() else None
                if layer_table is None:
                    self._quarantine(path, f"its layers part {layers_name} is missing or bad")
                    continue
                layers.append(layer_table.to_pandas())
            points.append(table.to_pandas())
        self._points = _dedupe(points, [KEY])
        self._layers = _dedupe(layers, [KEY, "layer_index"]) if layers else None

    def points(self) -> pd.DataFrame:
        """Every stored result row, each key once."""
        if self._points is None:
            self._load()
        return self._points

    def layers(self) -> pd.DataFrame | None:
        """Every stored per-layer row (``key``, ``layer_index``, ...), or None if none were kept."""
        if self._points is None:
            self._load()
        return self._layers

    def done_keys(self, with_layers: bool = False) -> set[str]:
        """Keys with a stored result (and, if ``with_layers``, per-layer rows or an error)."""
        points = self.points()
        if not with_layers:
            return set(points[KEY])
        failed = points[KEY][points["error"].fillna("").astype(bool)] if "error" in points else []
        layers = self.layers()
        return (set(points[KEY]) & set(layers[KEY] if layers is not None else ())) | set(failed)


def _writer_alive(name: str) -> bool:
    """Whether the process that named temporary file ``name`` is still running (on this host)."""
    match = _TMP_WRITER.match(name)
    if match is None:
        return False
    try:
        os.kill(int(match.group(1)), 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


def _dedupe(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({KEY: pd.Series([], dtype=str)})
    table = pd.concat(frames, ignore_index=True)
    return table.drop_duplicates(subset=keys, keep="first").reset_index(drop=True)
