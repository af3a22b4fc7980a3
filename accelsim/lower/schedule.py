"""TileSchedule: what the array does fold by fold, as plain int64 arrays for the kernels.

Folds are listed in execution order (the mapping's loop order, :mod:`accelsim.lower.tiling`).
Per fold ``f``: the PE rows and columns it uses, its
stream length in cycles, and the words each operand moves. The word tables have one column
per traffic class (``IFMAP``, ``FILTER``, ``OFMAP_WRITE``, ``OFMAP_READ``; the last is the
partial-sum read-back of an output tile that an earlier row fold wrote out):

* ``sram_words[f, x]``: words the array reads from (writes to) SRAM during fold ``f``;
* ``dram_words[f, x]``: words brought from (sent to) DRAM for fold ``f``: reads are needed
  before the fold starts, writes leave after it ends;
* ``dram_bytes[f, x]``: the same in bytes (operand bit widths applied, rounded up per fold).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from accelsim.spec.arch import ArchSpec, Dataflow
from accelsim.spec.memo import spec_memo

# Columns of the word tables (mirrored by accelsim.kernels.codes.TRAFFIC_*).
IFMAP, FILTER, OFMAP_WRITE, OFMAP_READ = 0, 1, 2, 3
TRAFFIC = ("ifmap", "filter", "ofmap_write", "ofmap_read")

_DATAFLOW_CODES = {dataflow: position for position, dataflow in enumerate(Dataflow)}


def dataflow_code(dataflow: Dataflow) -> int:
    """The kernels' integer for ``dataflow``: its position in :class:`Dataflow`, mirrored by
    ``accelsim.kernels.codes.DATAFLOW_*`` (``tests/test_layering.py`` checks they agree)."""
    return _DATAFLOW_CODES[dataflow]


@dataclass(frozen=True, eq=False)
class TileSchedule:
    """Folds of one GEMM on an ``array_rows x array_cols`` array, run ``repeats`` times.

    ``sr, sc, t``: the GEMM dimensions on the array rows, the array columns and in time
    (``docs/timing_models.md``); ``row_folds x col_folds x t_tiles`` folds (``t_tiles`` tiles
    of the stream), in the mapping's loop order. ``preload_overlap``: a fold overlaps the
    previous one where the array allows it (ws/is: ``array.preload_overlap``, the next stationary
    operand loads into shadow registers; os: ``array.output_overlap``, outputs shift out on their
    own path while the next fold computes); ``broadcast``: operands reach the PEs on a bus, without
    skew (``array.operand_delivery``; os only). ``prefetch_overlap``: the next fold's reads
    overlap the current fold (double-buffered ifmap and filter buffers); ``drain_overlap``: a
    fold's writes overlap the next fold (double-buffered output buffer). ``fits_buffers``: every
    fold's tiles fit their buffers (a searched mapping always does; the fixed one may not).
    ``spread_drain``: every ``OFMAP_WRITE`` word is a final output, a finished tile leaving over
    the next tile's folds (``lower.tiling.BufferRooms.drain``).
    """

    dataflow: int
    array_rows: int
    array_cols: int
    preload_overlap: bool
    broadcast: bool
    repeats: int
    sr: int
    sc: int
    t: int
    row_folds: int
    col_folds: int
    rows_used: np.ndarray      # int64 [F]
    cols_used: np.ndarray      # int64 [F]
    stream_cycles: np.ndarray  # int64 [F]: T times cycles per product
    sram_words: np.ndarray     # int64 [F, 4]
    dram_words: np.ndarray     # int64 [F, 4]
    dram_bytes: np.ndarray     # int64 [F, 4]
    prefetch_overlap: bool
    drain_overlap: bool
    t_tiles: int
    fits_buffers: bool
    spread_drain: bool = False

    @property
    def folds(self) -> int:
        return int(self.rows_used.shape[0])


def transfer_cycles(nbytes: np.ndarray, bytes_per_cycle: float) -> np.ndarray:
    """Cycles the channel is busy moving ``nbytes`` at ``bytes_per_cycle`` (exact rational ceil).

    The bandwidth is taken as the nearest fraction with a denominator up to 1000 (the error is
    below 1e-6 relative for realistic values) so the ceil is exact integer arithmetic.
    """
    ratio = _rational(bytes_per_cycle)
    return -(-nbytes * ratio.denominator // ratio.numerator)


@functools.lru_cache(maxsize=64)
def _rational(bytes_per_cycle: float) -> Fraction:
    return Fraction(bytes_per_cycle).limit_denominator(1000)


@spec_memo(256)
def dram_rates(arch: ArchSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(numerator, denominator, channel)``, int64[4] each, per traffic class (``TRAFFIC``): its DRAM
    channel's bytes per cycle as :func:`transfer_cycles`' fraction (numerator 0: unlimited) and
    the channel it uses (all 0 unless ``dram.per_operand``). Memoized per arch: callers must not
    change the arrays."""
    numerator, denominator, channel = (np.zeros(4, dtype=np.int64) for _ in range(3))
    for column, traffic in enumerate(TRAFFIC):
        operand = traffic.split("_")[0]
        if arch.dram.per_operand:
            channel[column] = ("ifmap", "filter", "ofmap").index(operand)
        bandwidth = arch.dram_bytes_per_cycle(operand)
        if bandwidth is not None:
            ratio = _rational(bandwidth)
            numerator[column], denominator[column] = ratio.numerator, ratio.denominator
    return numerator, denominator, channel
