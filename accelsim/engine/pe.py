"""The ``pe`` fidelity: one GEMM through the register-level array, with real values.

:func:`run_pe_gemm` turns an :class:`~accelsim.spec.ArchSpec` and operands into the
arguments of :mod:`accelsim.kernels.pe`, and the kernel's counters into named statistics.
"""

from __future__ import annotations

import numpy as np

from accelsim.engine import fold
from accelsim.engine.mapping import fold_blocks
from accelsim.errors import UnsupportedError
from accelsim.kernels import codes
from accelsim.kernels.pe import run_pe_os, run_pe_stationary
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, lower_layer
from accelsim.lower.tiling import spatial_mapping
from accelsim.spec.arch import ArchSpec, Dataflow, Overflow, TimingModel
from accelsim.spec.workload import Layer

def accumulator_range(bits: int) -> tuple[int, int]:
    """Smallest and largest value of a ``bits``-bit two's complement accumulator."""
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def wrap_to_bits(values: np.ndarray, bits: int) -> np.ndarray:
    """Two's complement wrap of int64 ``values`` to ``bits`` bits (identity for 64)."""
    if bits >= 64:
        return values
    low = (values.view(np.uint64) & np.uint64((1 << bits) - 1)).astype(np.int64)
    return np.where(low >= 1 << (bits - 1), low + np.int64(-(1 << bits)), low)


def run_pe_gemm(arch: ArchSpec, a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """``A @ B`` computed by stepping every PE register of ``arch``'s array every cycle.

    Parameters
    ----------
    arch : ArchSpec
        Array size, dataflow, timing model, ``preload_overlap`` and the accumulator
        (``mac.accumulator_bits``, ``mac.overflow``).
    a : (M, K) int64 or float64 array
    b : (K, N) array of the same dtype
        Operands, already checked (see :func:`accelsim.engine.functional.run_gemm`).

    Returns
    -------
    out : (M, N) array
        int64 (wrapped or saturated to the accumulator width) or float64.
    stats : dict
        ``cycles`` (measured: the cycle after the last result left the array, in the timing
        model's convention), ``drain_cycles`` (os output shifting), ``ifmap_words``,
        ``filter_words``, ``output_words`` (words crossing the array edges), ``pe_updates``,
        ``saturations``.
    """
    m, k = a.shape
    n = b.shape[1]
    rows, cols = arch.array.rows, arch.array.cols
    dataflow = arch.array.dataflow
    scalesim = arch.timing_model is TimingModel.SCALESIM
    rows_dim, cols_dim, _ = spatial_mapping(dataflow, m, n, k)
    folds = fold_blocks(rows_dim, cols_dim, rows, cols)
    integer = a.dtype.kind == "i"
    bits = arch.mac.accumulator_bits
    saturate = integer and arch.mac.overflow is Overflow.SATURATE
    if integer:
        lo, hi = (np.int64(v) for v in accumulator_range(bits))
    else:
        lo, hi = np.float64(-np.inf), np.float64(np.inf)
    stats = np.zeros(codes.PE_STAT_COUNT, np.int64)
    time_rows = np.full_like(folds.rows, rows) if scalesim else folds.rows
    time_cols = np.full_like(folds.cols, cols) if scalesim else folds.cols
    if dataflow is Dataflow.OS:
        y = np.zeros((m, n), a.dtype)
        run_pe_os(np.ascontiguousarray(a), np.ascontiguousarray(b), *folds, time_rows, time_cols,
                  rows, cols, saturate, lo, hi, y, stats)
        out = y
        left, top = "ifmap_words", "filter_words"
    else:
        # ws: x = A streams, w = B stays; is: x = B^T streams, w = A^T stays, y = C^T
        x, w = (a, b) if dataflow is Dataflow.WS else (b.T, a.T)
        y = np.zeros((x.shape[0], w.shape[1]), a.dtype)
        overlap = arch.array.preload_overlap and not scalesim
        run_pe_stationary(np.ascontiguousarray(x), np.ascontiguousarray(w), *folds, time_rows, time_cols,
                          rows, cols, overlap, saturate, lo, hi, y, stats)
        out = y if dataflow is Dataflow.WS else y.T
        left, top = ("ifmap_words", "filter_words") if dataflow is Dataflow.WS else ("filter_words", "ifmap_words")
    if integer and not saturate:
        out = wrap_to_bits(out, bits)
    cycles = int(stats[codes.PE_STAT_CYCLES])
    if scalesim:  # SCALE-Sim omits the os output drain and reports the last cycle's index
        cycles -= int(stats[codes.PE_STAT_DRAIN_CYCLES]) + 1
    named = {
        "cycles": cycles,
        "drain_cycles": int(stats[codes.PE_STAT_DRAIN_CYCLES]),
        left: int(stats[codes.PE_STAT_LEFT_WORDS]),
        top: int(stats[codes.PE_STAT_TOP_WORDS]),
        "output_words": int(stats[codes.PE_STAT_BOTTOM_WORDS]),
        "pe_updates": int(stats[codes.PE_STAT_PE_UPDATES]),
        "saturations": int(stats[codes.PE_STAT_SATURATIONS]),
    }
    return np.ascontiguousarray(out), named


def with_measured_cycles(counters: np.ndarray, cycles: int, arch: ArchSpec) -> np.ndarray:
    """The ``fold`` path's counters of a problem with the cycles the ``pe`` array measured.

    The ``pe`` fidelity has an ideal memory (operands are always there): no stalls; its
    traffic is the schedule's. ``counters`` is one repeat's ``codes.STAT_*`` array.
    """
    out = counters.copy()
    out[codes.STAT_CYCLES] = cycles
    out[codes.STAT_COMPUTE_CYCLES] = cycles
    out[codes.STAT_STALL_CYCLES] = 0
    if arch.timing_model is TimingModel.NATIVE:
        out[codes.STAT_CYCLES_INCL_PREFETCH] = cycles
        out[codes.STAT_UTIL_PE_CYCLES] = cycles * arch.pes
    return out


def synthetic_operands(m: int, n: int, k: int, act_bits: int, weight_bits: int,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random signed integers of ``act_bits`` (A) and ``weight_bits`` (B), seeded."""
    rng = np.random.default_rng(seed)
    a = rng.integers(-(2 ** (act_bits - 1)), 2 ** (act_bits - 1), (m, k), dtype=np.int64)
    b = rng.integers(-(2 ** (weight_bits - 1)), 2 ** (weight_bits - 1), (k, n), dtype=np.int64)
    return a, b


def run_layer(layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE) -> np.ndarray | None:
    """int64 ``codes.STAT_*`` counters of ``layer`` with its GEMM computed by the PE registers.

    Operands are synthetic (:func:`synthetic_operands` with the layer's bit widths); one repeat
    (group, head) is stepped and its counters multiplied. Cycles are measured; traffic is the
    schedule's, as in the ``fold`` fidelity, and nothing stalls (ideal memory).
    """
    if rate != DENSE_RATE:
        raise UnsupportedError(f"layer {layer.name}: the pe fidelity steps 1-product-per-cycle dense MACs; "
                               "use fidelity 'fold' or 'cycle' for Bit Fusion, bit-serial or N:M rates")
    problem = lower_layer(layer, arch.timing_model)
    if problem is None:
        return None
    bits = layer.compression
    a, b = synthetic_operands(problem.m, problem.n, problem.k, bits.act_bits, bits.weight_bits)
    _, measured = run_pe_gemm(arch, a, b)
    per_repeat = fold.run_layer(layer, arch, rate) // problem.repeats
    return with_measured_cycles(per_repeat, measured["cycles"], arch) * problem.repeats
