"""Where evaluations run: in this process, in local worker processes, or on a Dask cluster.

Every executor maps a picklable function over tasks and yields results as they finish
(in any order; the sweep reorders). A bounded window of tasks is in flight at a time so
memory stays flat on long sweeps. Each worker process runs ``warm`` once when it starts (the
sweep passes :func:`accelsim.dse.evaluate.warm_worker`, which loads the simulator's numba
cache). The local executor's own process computes too (:class:`LocalExecutor`).
"""

from __future__ import annotations

import concurrent.futures
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from accelsim.errors import AccelsimError

log = logging.getLogger(__name__)

EXECUTORS = ("local", "serial", "dask")


def default_workers() -> int:
    """All cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _windowed(submit: Callable[[Any], Any], wait_first: Callable[[set], tuple[set, set]], tasks: Iterable[Any],
              window: int) -> Iterator[Any]:
    """Submit at most ``window`` tasks at a time; yield each result as its future finishes."""
    todo = iter(tasks)
    pending = {submit(t) for _, t in zip(range(window), todo)}
    while pending:
        done, pending = wait_first(pending)
        for future in done:
            yield future.result()
            nxt = next(todo, None)
            if nxt is not None:
                pending.add(submit(nxt))


_DONE = object()
"""The end of a task iterator (:meth:`LocalExecutor.map_unordered`)."""


def no_warm_up() -> None:
    """A worker start-up that does nothing (evaluators without kernels to load)."""


class SerialExecutor:
    """Runs every task in this process, in order (debugging, tests, tiny sweeps)."""

    workers = 1

    def __init__(self, warm: Callable[[], None] = no_warm_up):
        warm()

    def map_unordered(self, fn: Callable, tasks: Iterable[Any]) -> Iterator[Any]:
        return (fn(task) for task in tasks)

    def close(self) -> None:
        pass


class LocalExecutor:
    """``workers`` processes on this machine compute (all cores by default): this one and
    ``workers - 1`` forked worker processes. This process would otherwise only wait: it runs a
    task itself whenever the workers have :data:`QUEUED_PER_WORKER` tasks each in hand (the
    first ones go to them), and yields every result as it finishes. A process fewer to start,
    feed and stop, and this process's memos serve the tasks it runs."""

    QUEUED_PER_WORKER = 2
    """Tasks handed to each worker ahead (one running, one waiting), so a worker never waits for
    this process to finish a task of its own before it gets its next."""

    HANDOFF_SECONDS = 5e-4
    """The interpreter's thread switch interval while tasks run here (5 ms by default): the pool's
    threads that send tasks and take results back move them through 64 KiB pipe writes and reads,
    each needing the GIL that a task run here holds, so a worker handing back a result of a few
    hundred KiB would wait ~5 ms per piece (restored when the map ends)."""

    def __init__(self, workers: int | None = None, warm: Callable[[], None] = no_warm_up):
        self.workers = workers or default_workers()
        self._pool = concurrent.futures.ProcessPoolExecutor(self.workers - 1, initializer=warm) \
            if self.workers > 1 else None

    def map_unordered(self, fn: Callable, tasks: Iterable[Any]) -> Iterator[Any]:
        todo = iter(tasks)
        if self._pool is None:
            yield from map(fn, todo)
            return
        pending: set = set()
        ahead = self.QUEUED_PER_WORKER * (self.workers - 1)
        previous = sys.getswitchinterval()
        sys.setswitchinterval(self.HANDOFF_SECONDS)
        try:
            task = next(todo, _DONE)
            while task is not _DONE:
                finished = {future for future in pending if future.done()}
                pending -= finished
                yield from (future.result() for future in finished)
                if len(pending) < ahead:
                    pending.add(self._pool.submit(fn, task))
                else:
                    yield fn(task)
                task = next(todo, _DONE)
            while pending:
                finished, pending = concurrent.futures.wait(pending, return_when=concurrent.futures.FIRST_COMPLETED)
                yield from (future.result() for future in finished)
        finally:
            sys.setswitchinterval(previous)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Tasks on a Dask distributed cluster: ``scheduler`` address, or a new LocalCluster."""

    def __init__(self, scheduler: str | None = None, workers: int | None = None, processes: bool = True,
                 warm: Callable[[], None] = no_warm_up):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise AccelsimError("the dask executor needs dask.distributed: pip install 'accelsim[distributed]'") \
                from None
        self._cluster = None
        if scheduler:
            self._client = Client(scheduler)
        else:
            self._cluster = LocalCluster(n_workers=workers or default_workers(), threads_per_worker=1,
                                         processes=processes, dashboard_address=None)
            self._client = Client(self._cluster)
        self.workers = max(1, len(self._client.scheduler_info().get("workers", {})))
        self._client.run(warm)

    def map_unordered(self, fn: Callable, tasks: Iterable[Any]) -> Iterator[Any]:
        from distributed import wait

        def wait_first(pending):
            done, not_done = wait(list(pending), return_when="FIRST_COMPLETED")
            return set(done), set(not_done)

        # pure=False: a task is run even if an identical one ran before (results are stored by the sweep).
        return _windowed(lambda t: self._client.submit(fn, t, pure=False), wait_first, tasks, 4 * self.workers)

    def close(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def make_executor(kind: str = "local", workers: int | None = None, scheduler: str | None = None,
                  warm: Callable[[], None] = no_warm_up):
    """An executor by name (``local``, ``serial``, ``dask``); a scheduler address implies dask."""
    if scheduler or kind == "dask":
        return DaskExecutor(scheduler, workers, warm=warm)
    if kind == "serial" or workers == 1:
        return SerialExecutor(warm)
    if kind == "local":
        return LocalExecutor(workers, warm)
    raise AccelsimError(f"unknown executor {kind!r}; expected one of {', '.join(EXECUTORS)}")
