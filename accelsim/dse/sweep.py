"""Running a sweep: plan every (design point, workload, scheme), compute what is missing, store, assemble.

The plan is deterministic, every row has a key (a hash of the validated arch, the
compressed network, the evaluator and its fidelity, and the model's code and tables:
:func:`accelsim.version.model_fingerprint`), and the :class:`ResultStore` keeps
every finished row on disk. Running the same sweep again, after a crash or a kill,
computes only the keys the store lacks; the assembled table has each planned row exactly
once, in plan order, whichever executor computed it.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import gc
import io
import itertools
import json
import logging
import math
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accelsim.dse.csv_text import csv_text
from accelsim.dse.evaluate import (Evaluator, LayerTable, apply_scheme, default_evaluator, derived_metrics,
                                   evaluator_id, prepare_network, roofline_metrics, warm_worker)
from accelsim.dse.executors import LocalExecutor, make_executor, no_warm_up
from accelsim.dse.metrics import design_metrics
from accelsim.dse.pareto import pareto_front
from accelsim.dse.space import DesignPoint, axis_unit, axis_value, design_points
from accelsim.dse.spec import NO_SCHEME, SweepSpec, load_sweep_spec
from accelsim.dse.store import KEY, ResultStore, atomic_write, content_hash
from accelsim.errors import AccelsimError, NotAvailableError
from accelsim.frontend.load import load_workload
from accelsim.result import layer_frame
from accelsim.spec.arch import ArchSpec
from accelsim.spec.fields import to_dict
from accelsim.spec.workload import Network
from accelsim.version import __version__, model_fingerprint

log = logging.getLogger(__name__)

ID_COLUMNS = (KEY, "design", "workload", "scheme")


@dataclass(frozen=True)
class Task:
    """One row of the plan: a design point on one (compressed) network."""

    key: str
    point: DesignPoint
    workload: str
    scheme: str
    net_id: int


@dataclass(frozen=True)
class SweepOutcome:
    """What a sweep run produced and how much work it took."""

    spec: SweepSpec
    points: pd.DataFrame
    layers: pd.DataFrame | None
    planned: int
    computed: int
    reused: int
    rejected: int
    seconds: float
    directory: Path
    phases: dict[str, float] = field(default_factory=dict)
    """Wall seconds of each step: ``plan`` (design points, networks, keys), ``compute`` (evaluating
    and committing, :attr:`seconds`), ``assemble`` (the tables from the store), ``write`` (the
    output files)."""

    @property
    def points_per_second(self) -> float:
        return self.computed / self.seconds if self.seconds > 0 else math.nan


_WORKER_NETWORKS: dict[tuple[str, int], Network] = {}


def _worker_network(token: tuple[str, int], net: Network) -> Network:
    """This process's one copy of a sweep's network ``token`` (the run and the network's index):
    every chunk that ships it gets the first copy unpickled here, so the simulator's memos keyed
    on the network find it by identity instead of comparing two equal networks layer by layer."""
    if token not in _WORKER_NETWORKS and len(_WORKER_NETWORKS) >= 64:
        _WORKER_NETWORKS.clear()
    return _WORKER_NETWORKS.setdefault(token, net)


def evaluate_chunk(chunk: tuple[Evaluator, tuple[tuple[tuple[str, int], Network], ...],
                                list[tuple[str, ArchSpec, int]], bool]
                   ) -> tuple[list[dict[str, Any]], pd.DataFrame | None]:
    """Evaluate points ``(key, arch, index into the networks)``: their result rows and, when
    kept, one table of their per-layer rows (``key``, ``layer_index``, ...) (runs in workers).
    The networks come with a token (:func:`_worker_network`).

    A point the models reject (an :class:`AccelsimError`, e.g. an unsupported precision)
    becomes a row with its ``error`` message, so it is stored and not retried. A design's
    metrics are computed once per chunk (its points share one arch object).
    """
    evaluator, shipped, items, keep_layers = chunk
    nets = [_worker_network(token, net) for token, net in shipped]
    rows, tables, keys = [], [], []
    designs: dict[int, dict[str, float]] = {}
    for key, arch, net_id in items:
        try:
            summary, layers = evaluator(arch, nets[net_id])
            error = ""
        except NotAvailableError:
            raise
        except AccelsimError as exc:
            summary, layers, error = {}, None, str(exc)
        if id(arch) not in designs:
            designs[id(arch)] = {**design_metrics(arch), **roofline_metrics(arch)}
        rows.append({KEY: key, **designs[id(arch)], **summary, **derived_metrics(summary, arch), "error": error})
        if keep_layers and layers is not None:
            tables.append(layers)
            keys.append(key)
    return rows, _layer_table(tables, keys) if tables else None


def _layer_table(tables: list[LayerTable], keys: list[str]) -> pd.DataFrame:
    """The points' layer tables stacked, each row with its point's ``key`` and its ``layer_index``.
    Column arrays (:data:`accelsim.dse.evaluate.LayerTable`) of one layout (names and dtypes) are
    concatenated into one frame (:func:`accelsim.result.layer_frame`: the frame ``pd.concat`` of
    their frames gives, built once); anything else is made a frame and concatenated."""
    sizes = [len(table) if isinstance(table, pd.DataFrame) else len(table["costed"]) for table in tables]
    layouts = {None if isinstance(table, pd.DataFrame) else tuple((name, v.dtype) for name, v in table.items())
               for table in tables}
    if len(layouts) == 1 and None not in layouts:
        stacked = layer_frame({name: np.concatenate([table[name] for table in tables]) for name in tables[0]})
    else:
        stacked = pd.concat([table if isinstance(table, pd.DataFrame) else layer_frame(table) for table in tables],
                            ignore_index=True)
    stacked.insert(0, "layer_index", np.concatenate([np.arange(size, dtype=np.int64) for size in sizes]))
    stacked.insert(0, KEY, np.repeat(np.array(keys, dtype=object), sizes))
    return stacked


def plan(spec: SweepSpec, evaluator: Evaluator, mask_root: str | Path | None = None
         ) -> tuple[list[DesignPoint], list[Network], list[Task], int]:
    """Design points, prepared networks and the ordered task list (and points rejected).

    With ``mask_root``, schemes that ask for masks get real ones written under it
    (:func:`accelsim.dse.evaluate.apply_scheme`).
    """
    points, rejected = design_points(spec)
    nets, labels = [], []
    for workload in spec.workloads:
        loaded = load_workload(spec.path(workload), batch=spec.batch)  # once, whatever the schemes
        for scheme in spec.schemes:
            scheme_path = None if scheme == NO_SCHEME else spec.path(scheme)
            nets.append(apply_scheme(loaded, scheme_path, mask_root))
            labels.append((Path(workload).stem, NO_SCHEME if scheme_path is None else Path(scheme).stem))
    salt = [evaluator_id(evaluator), __version__, model_fingerprint()]  # results of other code or tables: not reused
    net_hashes = [content_hash(to_dict(net)) for net in nets]
    tasks = [Task(content_hash([arch_hash, h, salt]), p, w, s, i)
             for p, arch_hash in ((p, p.arch_hash) for p in points)
             for i, (h, (w, s)) in enumerate(zip(net_hashes, labels))]
    return points, nets, tasks, rejected


def _chunks(tasks: Sequence[Task], nets: Sequence[Network], evaluator: Evaluator, keep_layers: bool,
            size: int) -> Iterator[tuple]:
    """``evaluate_chunk``'s inputs: tasks in plan order, whole designs at a time (a design's networks
    in one chunk share its memos: cost tables, design metrics), as many as ``size`` tasks hold (one
    design if it has more), each chunk with the networks its tasks use and their tokens (this run, index)."""
    run = uuid.uuid4().hex

    def chunk(mine: list[Task]) -> tuple:
        used = sorted({t.net_id for t in mine})
        local = {net_id: i for i, net_id in enumerate(used)}
        return (evaluator, tuple(((run, i), nets[i]) for i in used),
                [(t.key, t.point.arch, local[t.net_id]) for t in mine], keep_layers)

    mine: list[Task] = []
    for _, group in itertools.groupby(tasks, key=lambda t: t.point.index):
        design = list(group)
        if mine and len(mine) + len(design) > size:
            yield chunk(mine)
            mine = []
        mine.extend(design)
    if mine:
        yield chunk(mine)


def _plan_frame(spec: SweepSpec, tasks: Sequence[Task]) -> pd.DataFrame:
    """Identity and axis columns of every planned row (design metrics come with the results)."""
    values = {}
    for task in tasks:
        if task.point.index not in values:
            values[task.point.index] = {p: axis_value(task.point.arch, p) for p in spec.axes}
    return pd.DataFrame([{KEY: t.key, "design": t.point.index, "workload": t.workload, "scheme": t.scheme,
                          **values[t.point.index]} for t in tasks])


def assemble(spec: SweepSpec, tasks: Sequence[Task], store: ResultStore, per_layer: bool
             ) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The sweep's tables from the store: planned rows that have results, in plan order."""
    frame = _plan_frame(spec, tasks)
    stored = store.points()
    points = frame.merge(stored, on=KEY, how="inner") if len(frame) else frame
    if "error" in points and not points["error"].fillna("").astype(bool).any():
        points = points.drop(columns="error")
    objectives = list(spec.objectives)
    if objectives and all(o in points for o in objectives) and len(points):
        ok = points["error"].fillna("").eq("") if "error" in points else pd.Series(True, index=points.index)
        points["pareto"] = False
        points.loc[ok, "pareto"] = pareto_front(points[ok], objectives, by=["workload"])
    elif objectives:
        log.warning("no Pareto column: objective(s) %s not produced by the models",
                    ", ".join(o for o in objectives if o not in points))
    layers = None
    if per_layer and store.layers() is not None:
        ids = frame[[c for c in frame.columns if c in ID_COLUMNS or c in spec.axes]]
        layers = ids.merge(store.layers(), on=KEY, how="inner")
    return points, layers


def _write_outputs(directory: Path, spec: SweepSpec, points: pd.DataFrame, layers: pd.DataFrame | None) -> None:
    """``points``/``layers`` ``.parquet`` (``DataFrame.to_parquet(index=False)``) and ``.csv`` and
    ``sweep.json`` in ``directory``, each written atomically. Every file's bytes are made on this
    thread and written, with their fsync, on background threads while it makes the next (the disk
    releases the GIL; pyarrow's Parquet encoding holds it for much of its time: on a thread of its
    own beside the CSV formatting, the two took longer than one after the other)."""
    meta = {"name": spec.name, "axes": {p: axis_unit(p) for p in spec.axes}, "objectives": list(spec.objectives),
            "fidelity": spec.fidelity, "mapping": spec.mapping and spec.mapping.value,
            "objective": spec.objective and spec.objective.value, "masks": spec.masks}
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as background:
        writes = []
        for name, table in (("points", points), ("layers", layers)):
            if table is None:
                continue
            parquet = io.BytesIO()
            table.to_parquet(parquet, index=False)
            writes.append(background.submit(atomic_write, directory / f"{name}.parquet", parquet.getvalue()))
            writes.append(background.submit(atomic_write, directory / f"{name}.csv", csv_text(table).encode()))
        writes.append(background.submit(atomic_write, directory / "sweep.json", json.dumps(meta, indent=2).encode()))
        for write in writes:
            write.result()  # a failed write raises here


def run_sweep(spec: SweepSpec | str | Path, output: str | Path | None = None, *, executor: str | Any = "local",
              workers: int | None = None, scheduler: str | None = None, per_layer: bool | None = None,
              evaluator: Evaluator | None = None, progress: bool = False, flush_seconds: float = 2.0
              ) -> SweepOutcome:
    """Run (or resume) a sweep and report what it computed. See :func:`sweep`."""
    spec = spec if isinstance(spec, SweepSpec) else load_sweep_spec(spec)
    per_layer = spec.per_layer if per_layer is None else per_layer
    warm = warm_worker if evaluator is None else no_warm_up  # only the simulator has numba kernels to load
    directory = Path(output) if output is not None else Path(tempfile.mkdtemp(prefix="accelsim-sweep-"))
    evaluator = evaluator or default_evaluator(spec.fidelity, spec.mapping, spec.objective)
    start = time.perf_counter()
    points, nets, tasks, rejected = plan(spec, evaluator, directory if spec.masks else None)
    phases = {"plan": time.perf_counter() - start}
    store = ResultStore(directory)
    # one sweep at a time per results directory; an executor made here is closed before the lock is released
    with store.writing(), _frozen_heap(), contextlib.ExitStack() as owned_pool:
        done = store.done_keys(with_layers=per_layer)
        todo = [t for t in tasks if t.key not in done]
        log.info("%s: %d rows planned, %d stored, %d to compute", spec.name, len(tasks), len(tasks) - len(todo),
                 len(todo))
        start = time.perf_counter()
        computed = 0
        if todo:
            owned = isinstance(executor, str)  # a caller's executor object stays open for the caller
            pool = make_executor(executor, workers, scheduler, warm=warm) if owned else executor
            closing = _Closing(pool if owned else None)
            owned_pool.callback(closing.wait)
            computed = _compute(todo, nets, evaluator, per_layer, store, pool, progress, flush_seconds, spec.name,
                                closing.start)
        seconds = phases["compute"] = time.perf_counter() - start
        table, layers = assemble(spec, tasks, store, per_layer)
        phases["assemble"] = time.perf_counter() - start - seconds
        _write_outputs(directory, spec, table, layers)
        phases["write"] = time.perf_counter() - start - seconds - phases["assemble"]
    return SweepOutcome(spec, table, layers, len(tasks), computed, len(tasks) - len(todo), rejected, seconds, directory,
                        phases)


class _Closing:
    """Closes the executor a sweep made (``None``: the caller's, left open): :meth:`start` once every
    result is in, on a background thread when it is a :class:`LocalExecutor` (its worker processes
    exit while this one commits the last results and writes the tables; they need none of its
    time), :meth:`wait` at the end, or at once when the sweep stopped before :meth:`start`."""

    def __init__(self, pool: Any | None):
        self._pool = pool
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if isinstance(self._pool, LocalExecutor) and self._thread is None:
            self._thread = threading.Thread(target=self._pool.close, name="accelsim-sweep-close")
            self._thread.start()

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
        elif self._pool is not None:
            self._pool.close()


@contextlib.contextmanager
def _frozen_heap() -> Iterator[None]:
    """Keep the objects that exist when the sweep starts (modules, cost tables, compiled kernels,
    the plan) out of the garbage collector's walks while it runs (:func:`gc.freeze`): a full
    collection walks every one of them, and in forked workers such a walk writes to the pages
    they share with this process, so each copies them. Objects made during the sweep are collected as usual; the frozen ones return to the
    oldest generation at the end (:func:`gc.unfreeze`). A caller that froze objects itself keeps
    its own arrangement."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _compute(todo, nets, evaluator, per_layer, store, pool, progress, flush_seconds, name,
             all_in: Callable[[], None] = lambda: None) -> int:
    """Evaluate ``todo`` on ``pool``, committing results to ``store`` at least every ``flush_seconds``;
    ``all_in()`` is called once every result has arrived, before the last commit.
    A commit holds its chunks in plan order whatever order they finished in, so its tables' columns
    (points of different designs may have different ones) come in the order a serial run gives them."""
    from tqdm.auto import tqdm

    size = max(1, min(16, math.ceil(len(todo) / (4 * pool.workers))))
    position = {task.key: i for i, task in enumerate(todo)}
    finished: list[tuple[int, list[dict[str, Any]], pd.DataFrame | None]] = []  # (plan position, rows, layers)
    computed = 0
    last_flush = time.monotonic()

    def flush():
        nonlocal last_flush, computed
        if finished:
            finished.sort(key=lambda chunk: chunk[0])
            rows = [row for _, chunk_rows, _ in finished for row in chunk_rows]
            tables = [table for _, _, table in finished if table is not None]
            store.write(pd.DataFrame(rows), pd.concat(tables, ignore_index=True) if tables else None)
            computed += len(rows)
            finished.clear()
        last_flush = time.monotonic()

    bar = tqdm(total=len(todo), desc=name, unit="pt", disable=not progress, smoothing=0.1)
    try:
        for results, layers in pool.map_unordered(evaluate_chunk, _chunks(todo, nets, evaluator, per_layer, size)):
            if results:
                finished.append((position[results[0][KEY]], results, layers))
            bar.update(len(results))
            if time.monotonic() - last_flush >= flush_seconds:
                flush()
        all_in()
    finally:  # an interrupted sweep keeps everything it finished
        flush()
        bar.close()
    return computed


def sweep(spec: SweepSpec | str | Path, output: str | Path | None = None, *, executor: str | Any = "local",
          workers: int | None = None, scheduler: str | None = None, per_layer: bool | None = None,
          evaluator: Evaluator | None = None, progress: bool = False) -> pd.DataFrame:
    """Run a design-space sweep; one row per (design point, workload, scheme).

    Parameters
    ----------
    spec : SweepSpec or path of a sweep YAML
    output : directory of the result store; rerunning with the same one resumes (a
        temporary directory if None)
    executor : ``local`` (processes, all cores), ``serial``, ``dask``, or an executor object
        from :mod:`accelsim.dse.executors` (left open)
    workers : processes that compute (default: all cores); ``local``: this one and ``workers - 1`` forked workers
    scheduler : Dask scheduler address (``tcp://host:8786``); implies ``executor="dask"``
    per_layer : return one row per layer instead (with the point's columns); default from the spec
    evaluator : ``evaluate(arch, net) -> (summary dict, layers DataFrame)``; default: the simulator
        with the spec's fidelity, mapping and objective (with ``masks: true``, the networks' mask
        paths are relative to ``output``, which the default reads them from)
    progress : show a progress bar (points done, rate, ETA)

    Returns
    -------
    DataFrame with ``key, design, workload, scheme``, one column per axis (values in base
    units: bytes, Hz), design metrics (``sram_bytes``, ``pes``, ``area_um2`` when the area
    model exists), the simulator's totals, ``latency_s``, ``edp_pj_s`` (with energy), and
    ``pareto`` (on the front of the spec's objectives within its workload).
    """
    outcome = run_sweep(spec, output, executor=executor, workers=workers, scheduler=scheduler, per_layer=per_layer,
                        evaluator=evaluator, progress=progress)
    return outcome.layers if outcome.layers is not None else outcome.points


def check_sweep(path: str | Path) -> SweepSpec:
    """Load a sweep spec and check everything it names: every design point, workload and scheme."""
    spec = load_sweep_spec(path)
    design_points(spec)
    for workload in spec.workloads:
        for scheme in spec.schemes:
            prepare_network(spec.path(workload), None if scheme == NO_SCHEME else spec.path(scheme), spec.batch)
    return spec


def read_results(directory: str | Path) -> tuple[pd.DataFrame, pd.DataFrame | None, dict]:
    """The tables a sweep wrote (points, per-layer rows or None) and its ``sweep.json`` metadata."""
    directory = Path(directory)
    path = directory / "points.parquet"
    if not path.exists():
        raise AccelsimError(f"{directory}: no points.parquet; run (or finish) `accelsim sweep` into it first")
    layers_path = directory / "layers.parquet"
    meta_path = directory / "sweep.json"
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
    return pd.read_parquet(path), pd.read_parquet(layers_path) if layers_path.exists() else None, meta
