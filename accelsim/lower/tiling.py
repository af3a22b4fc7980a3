"""The fixed mapping: a GEMM on the array, fold by fold, with the traffic each fold causes.

:func:`fixed_schedule` is SCALE-Sim's mapping (``docs/timing_models.md``) with accelsim's native
memory rules (``docs/timing_models.md``, "Native memory model"); a searched mapping (the mapper)
returns a :class:`TileSchedule` the same way.

Tile ownership per dataflow (fold ``(i, j)``: row fold ``i``, column fold ``j``; ``r x c`` PEs):

| df | stationary tile | streamed tiles | outputs |
|---|---|---|---|
| os | outputs ``C[Mi, Nj]`` | ``A[Mi, :]`` (r*T), ``B[:, Nj]`` (T*c) | ``r*c`` per fold |
| ws | weights ``B[Ki, Nj]`` (r*c) | ``A[:, Ki]`` (T*r) | ``T*c`` partial sums per fold |
| is | inputs ``A[Mj, Ki]`` (r*c) | ``B[Ki, :]`` (r*T) | ``T*c`` partial sums per fold |

DRAM: each tile brings its share of the real tensor (for a conv input, the input feature map,
not its im2col copies; shares are exact integers that add up to the tensor). A tile that is
used again by a later column fold is fetched once if the whole tensor fits in its buffer
(half of it when double-buffered), otherwise again on every use.
"""

from __future__ import annotations

import numpy as np

from accelsim.lower.gemm import DENSE_RATE, ArrayRate, GemmProblem
from accelsim.lower.schedule import FILTER, IFMAP, OFMAP_READ, OFMAP_WRITE, TileSchedule
from accelsim.spec.arch import OPERANDS, ArchSpec, Dataflow

_CODE = {Dataflow.OS: 0, Dataflow.WS: 1, Dataflow.IS: 2}


def spatial_mapping(dataflow: Dataflow, m: int, n: int, k: int) -> tuple[int, int, int]:
    """``(Sr, Sc, T)``: the GEMM dimensions along the array rows, the columns and time."""
    return {Dataflow.OS: (m, n, k), Dataflow.WS: (k, n, m), Dataflow.IS: (k, m, n)}[dataflow]


def buffer_words(arch: ArchSpec, operand: str, bits: int) -> int:
    """Words of ``bits`` that ``operand``'s buffer holds.

    A unified buffer is split equally among the operands that have no buffer of their own.
    """
    buffers = arch.buffers
    size = buffers.for_operand(operand).size_bytes
    if getattr(buffers, operand) is None:
        size //= sum(getattr(buffers, op) is None for op in OPERANDS)
    return size * 8 // bits


def _reuse_words(arch: ArchSpec, operand: str, bits: int) -> int:
    """Words that can stay resident while the next tile streams in (half if double-buffered)."""
    words = buffer_words(arch, operand, bits)
    return words // 2 if arch.buffers.for_operand(operand).double_buffered else words


def _split(total, lo, hi, extent):
    """Exact integer share of ``total`` for the block ``[lo, hi)`` of ``extent`` (telescopes)."""
    return total * hi // extent - total * lo // extent


def _bytes(words, bits):
    return -(-words * bits // 8)


def fixed_schedule(problem: GemmProblem, arch: ArchSpec, *, rate: ArrayRate = DENSE_RATE,
                   weight_bits: int = 8, act_bits: int = 8) -> TileSchedule:
    """Fold-by-fold schedule of ``problem`` on ``arch``'s array (column-fold-major)."""
    dataflow = arch.array.dataflow
    rows, cols = arch.array.rows, arch.array.cols
    k_map = rate.reduction(problem.k)
    sr, sc, t = spatial_mapping(dataflow, problem.m, problem.n, k_map)
    row_folds, col_folds = -(-sr // rows), -(-sc // cols)
    i = np.tile(np.arange(row_folds, dtype=np.int64), col_folds)
    j = np.repeat(np.arange(col_folds, dtype=np.int64), row_folds)
    r = np.minimum(rows, sr - i * rows)
    c = np.minimum(cols, sc - j * cols)
    first_col, last_row = j == 0, i == row_folds - 1
    psum_bits = arch.mac.accumulator_bits

    k_weights = rate.stored_reduction(problem.k)
    ifmap_words = problem.ifmap_words
    ifmap_fits = ifmap_words <= _reuse_words(arch, "ifmap", act_bits)
    weights_fit = k_weights * problem.n <= _reuse_words(arch, "filter", weight_bits)

    sram = np.zeros((r.shape[0], 4), dtype=np.int64)
    dram = np.zeros_like(sram)
    if dataflow is Dataflow.OS:
        sram[:, IFMAP], sram[:, FILTER], sram[:, OFMAP_WRITE] = r * t, t * c, r * c
        a_share = _split(ifmap_words, i * rows, i * rows + r, problem.m)
        dram[:, IFMAP] = np.where(first_col | (not ifmap_fits), a_share, 0)
        tile_fits = k_weights * c <= _reuse_words(arch, "filter", weight_bits)
        dram[:, FILTER] = np.where((i == 0) | ~tile_fits, k_weights * c, 0)
        dram[:, OFMAP_WRITE] = r * c
        psum_bytes = np.zeros_like(r)
    else:
        k_lo, k_hi = i * rows, i * rows + r
        w_rows = _split(k_weights, k_lo, k_hi, k_map)
        if dataflow is Dataflow.WS:
            sram[:, IFMAP], sram[:, FILTER] = t * r, r * c
            dram[:, IFMAP] = np.where(first_col | (not ifmap_fits), _split(ifmap_words, k_lo, k_hi, k_map), 0)
            dram[:, FILTER] = w_rows * c
        else:
            sram[:, IFMAP], sram[:, FILTER] = r * c, r * t
            m_share = _split(ifmap_words, j * cols, j * cols + c, problem.m)
            dram[:, IFMAP] = _split(m_share, k_lo, k_hi, k_map)
            dram[:, FILTER] = np.where(first_col | (not weights_fit), w_rows * problem.n, 0)
        out = t * c
        accumulate = out <= arch.array.accumulators_bytes * 8 // psum_bits
        spill = out > _reuse_words(arch, "ofmap", psum_bits)
        sram[:, OFMAP_WRITE] = np.where(accumulate & ~last_row, 0, out)
        sram[:, OFMAP_READ] = np.where(accumulate | (i == 0), 0, out)
        spill = ~accumulate & spill
        dram[:, OFMAP_WRITE] = np.where(last_row, out, np.where(spill, out, 0))
        dram[:, OFMAP_READ] = np.where(spill & (i > 0), out, 0)
        psum_bytes = _bytes(np.where(last_row, 0, dram[:, OFMAP_WRITE]), psum_bits)
    dram_bytes = np.empty_like(dram)
    dram_bytes[:, IFMAP] = _bytes(dram[:, IFMAP], act_bits)
    dram_bytes[:, FILTER] = _bytes(dram[:, FILTER], weight_bits)
    final = dram[:, OFMAP_WRITE] if dataflow is Dataflow.OS else np.where(last_row, dram[:, OFMAP_WRITE], 0)
    dram_bytes[:, OFMAP_WRITE] = _bytes(final, act_bits) + psum_bytes
    dram_bytes[:, OFMAP_READ] = _bytes(dram[:, OFMAP_READ], psum_bits)
    return TileSchedule(
        dataflow=_CODE[dataflow], array_rows=rows, array_cols=cols,
        preload_overlap=bool(arch.array.preload_overlap) and dataflow is not Dataflow.OS,
        repeats=problem.repeats, sr=sr, sc=sc, t=t, row_folds=row_folds, col_folds=col_folds,
        rows_used=r, cols_used=c, stream_cycles=np.full_like(r, t * rate.cycles_per_product),
        sram_words=sram, dram_words=dram, dram_bytes=dram_bytes,
    )
