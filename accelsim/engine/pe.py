"""The ``pe`` fidelity: one GEMM through the register-level array, with real values.

:func:`run_pe_gemm` turns an :class:`~accelsim.spec.ArchSpec` and operands into the
arguments of :mod:`accelsim.kernels.pe`, and the kernel's counters into named statistics.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from accelsim.compress.float_quant import accumulator_dtype, float_gemm
from accelsim.compress.quantize import NumericError, QuantSpec, quantized_gemm
from accelsim.engine import fold
from accelsim.engine.compression import LayerSparsity
from accelsim.hw.folds import fold_blocks
from accelsim.errors import ConfigError, Problem, UnsupportedError
from accelsim.kernels import codes
from accelsim.kernels.pe import PeArray, PeFolds, run_pe_os, run_pe_stationary
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, lower_layer
from accelsim.lower.memory_plan import NO_SCALE, TrafficScale
from accelsim.lower.tiling import spatial_mapping
from accelsim.hw.sparse.nm import check_nm_mask
from accelsim.spec.arch import ArchSpec, Dataflow, OperandDelivery, Overflow, TimingModel
from accelsim.spec.workload import Compression, Layer

def accumulator_range(bits: int) -> tuple[int, int]:
    """Smallest and largest value of a ``bits``-bit two's complement accumulator."""
    return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1


def wrap_to_bits(values: np.ndarray, bits: int) -> np.ndarray:
    """Two's complement wrap of int64 ``values`` to ``bits`` bits (identity for 64)."""
    if bits >= 64:
        return values
    low = (values.view(np.uint64) & np.uint64((1 << bits) - 1)).astype(np.int64)
    return np.where(low >= 1 << (bits - 1), low + np.int64(-(1 << bits)), low)


def reduction_words(a: np.ndarray, b: np.ndarray, rate: ArrayRate) -> tuple[np.ndarray, np.ndarray]:
    """The operand words of ``A @ B`` on an array with ``rate`` (kernels/pe.py, "Words").

    The weights ``B`` are stored as slots along the reduction: every ``k`` (dense), or with
    N:M the non-zeros of each group of ``M`` in order, ``N`` slots per group (fewer non-zeros
    leave zero slots; :func:`accelsim.hw.sparse.nm.nm_reduction_length` slots in all). Array row
    ``r`` holds slots ``r*p .. r*p + p - 1`` and reads the window of activations ``[lo_r, hi_r)``
    that their groups span; its activation word is that window (zero-padded to the widest,
    ``W``), its weight word holds each slot's value at its activation's place.

    Parameters
    ----------
    a : (M, K) array
    b : (K, N) array of the same dtype; with N:M, at most N non-zeros per group of M along K
    rate : ArrayRate
        ``products_per_cycle`` p and ``nm``.

    Returns
    -------
    act : (M, R, W) array
        Activation words, ``R = rate.reduction(K)``.
    wgt : (R, W, N) array
        Weight words; ``sum over r, v of act[m, r, v] * wgt[r, v, n] = (A @ B)[m, n]``.
    """
    if rate.tap_rows is not None:
        return reduction_words(*_tap_padded(a, b, rate), replace(rate, tap_rows=None))
    k, n = b.shape
    p = rate.products_per_cycle
    if rate.nm is None:  # dense: row r holds k = r*W .. r*W + W - 1 (zeros past K), W = min(p, K)
        width = max(1, min(p, k))
        n_rows = -(-k // width)
        pad = n_rows * width - k
        act = np.pad(a, ((0, 0), (0, pad))).reshape(a.shape[0], n_rows, width)
        return act, np.pad(b, ((0, pad), (0, 0))).reshape(n_rows, width, n)
    gn, gm = rate.nm
    kept = b != 0 if rate.nm is not None else np.ones(b.shape, bool)
    if rate.nm is not None:
        check_nm_mask(kept, gn, gm, axis=0, what="B (weights)")
    slots = rate.stored_reduction(k)
    n_rows = -(-slots // p)
    # slot of each kept weight: N per group, in order of k within the group
    groups = -(-k // gm)
    padded = np.zeros((groups * gm, n), bool)
    padded[:k] = kept
    rank = np.cumsum(padded.reshape(groups, gm, n), axis=1).reshape(-1, n)[:k] - 1
    kk, nn = np.nonzero(kept)
    slot = (kk // gm) * gn + rank[kk, nn]
    row = slot // p
    # the activation window of each array row: the groups of its first and last slot
    first = np.arange(n_rows) * p
    last = np.minimum(first + p, slots) - 1
    lo = (first // gn) * gm
    hi = np.minimum(k, (last // gn + 1) * gm)
    width = int((hi - lo).max())
    index = lo[:, None] + np.arange(width)
    act = np.where(index < hi[:, None], a[:, np.minimum(index, k - 1)], a.dtype.type(0))
    wgt = np.zeros((n_rows, width, n), b.dtype)
    wgt[row, kk - lo[row], nn] = b[kk, nn]
    return act, wgt


def _tap_padded(a: np.ndarray, b: np.ndarray, rate: ArrayRate) -> tuple[np.ndarray, np.ndarray]:
    """``A`` and ``B`` with each kernel tap's channels zero-padded to whole row folds
    (``ArrayRate.tap_rows``: the rows reduce over input channels only), so the dense packing gives
    ``rate.reduction(K)`` rows. Dense weights only."""
    if rate.nm is not None:
        raise UnsupportedError("the pe fidelity does not model N:M weights on an array that reduces over channels "
                               "only (array.reduction: channels); use the fold or cycle fidelity")
    taps, rows = rate.tap_rows
    k, n = b.shape
    cin = k // taps
    pad = -(-(-(-cin // rate.products_per_cycle)) // rows) * rows * rate.products_per_cycle - cin
    a_taps = np.pad(a.reshape(a.shape[0], taps, cin), ((0, 0), (0, 0), (0, pad)))
    b_taps = np.pad(b.reshape(taps, cin, n), ((0, 0), (0, pad), (0, 0)))
    return a_taps.reshape(a.shape[0], -1), b_taps.reshape(-1, n)


def run_pe_gemm(arch: ArchSpec, a: np.ndarray, b: np.ndarray,
                rate: ArrayRate = DENSE_RATE) -> tuple[np.ndarray, dict[str, int]]:
    """``A @ B`` computed by stepping every PE register of ``arch``'s array every cycle.

    Parameters
    ----------
    arch : ArchSpec
        Array size, dataflow, timing model, ``preload_overlap`` and the accumulator
        (``mac.accumulator_bits``, ``mac.overflow``).
    a : (M, K) int64, float32 or float64 array
    b : (K, N) array of the same dtype (float32: every product and addition rounded to fp32)
        Operands, already checked (see :func:`accelsim.engine.functional.run_gemm`).
    rate : ArrayRate
        ``p`` products per cycle along the reduction (a PE adds ``p`` products per cycle),
        ``q`` cycles per product (each stream step lasts ``q`` cycles), N:M weights (``B`` must
        conform; the PEs hold the kept weights and select their activations). Native timing only.

    Returns
    -------
    out : (M, N) array
        int64 (wrapped or saturated to the accumulator width) or the operands' float dtype.
    stats : dict
        ``cycles`` (measured: the cycle after the last result left the array, in the timing
        model's convention), ``drain_cycles`` (os output shifting), ``ifmap_words``,
        ``filter_words``, ``output_words`` (words crossing the array edges; a word holds a
        PE's ``p`` operands), ``pe_updates``, ``saturations``.
    """
    m = a.shape[0]
    n = b.shape[1]
    rows, cols = arch.array.rows, arch.array.cols
    dataflow = arch.array.dataflow
    scalesim = arch.timing_model is TimingModel.SCALESIM
    if arch.array.operand_delivery is OperandDelivery.BROADCAST and (dataflow is not Dataflow.OS or scalesim):
        raise UnsupportedError("broadcast operand delivery is modelled for the os dataflow in native timing only; "
                               "use operand_delivery: systolic")
    if scalesim and rate != DENSE_RATE:
        raise UnsupportedError("SCALE-Sim timing models dense 1-product MACs only; use timing_model: native")
    act, wgt = reduction_words(a, b, rate)
    integer = a.dtype.kind == "i"
    if integer and act.size and wgt.size and \
            int(np.abs(act).max()) * int(np.abs(wgt).max()) * act.shape[2] >= 2**63:
        raise ConfigError("run_gemm", [Problem("A, B", f"sums of {act.shape[2]} products per PE word do not "
                                                       "fit in int64; use narrower integers")])
    rows_dim, cols_dim, _ = spatial_mapping(dataflow, m, n, act.shape[1])
    folds = fold_blocks(rows_dim, cols_dim, rows, cols)
    bits = arch.mac.accumulator_bits
    saturate = integer and arch.mac.overflow is Overflow.SATURATE
    if integer:
        lo, hi = (np.int64(v) for v in accumulator_range(bits))
    else:
        lo, hi = a.dtype.type(-np.inf), a.dtype.type(np.inf)
    stats = np.zeros(codes.PE_STAT_COUNT, np.int64)
    time_rows = np.full_like(folds.rows, rows) if scalesim else folds.rows
    time_cols = np.full_like(folds.cols, cols) if scalesim else folds.cols
    q = rate.cycles_per_product
    if dataflow is Dataflow.OS:
        y = np.zeros((m, n), a.dtype)
        overlap = arch.array.output_overlap and not scalesim
        broadcast = arch.array.operand_delivery is OperandDelivery.BROADCAST
        run_pe_os(np.ascontiguousarray(act), np.ascontiguousarray(wgt), PeFolds(*folds, time_rows, time_cols),
                  PeArray(rows, cols, q, overlap, saturate, lo, hi, broadcast), y, stats)
        out = y
        left, top = "ifmap_words", "filter_words"
    else:
        # ws: activation words stream, weight words stay; is: weight words stream, y = C^T
        x, w = (act, wgt) if dataflow is Dataflow.WS else (wgt.transpose(2, 0, 1), act.transpose(1, 2, 0))
        y = np.zeros((x.shape[0], w.shape[2]), a.dtype)
        overlap = arch.array.preload_overlap and not scalesim
        run_pe_stationary(np.ascontiguousarray(x), np.ascontiguousarray(w), PeFolds(*folds, time_rows, time_cols),
                          PeArray(rows, cols, q, overlap, saturate, lo, hi), y, stats)
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
    traffic is the schedule's. ``counters`` is one repeat's ``codes.FOLD_STAT_*`` array.
    """
    out = counters.copy()
    out[codes.FOLD_STAT_CYCLES] = cycles
    out[codes.FOLD_STAT_COMPUTE_CYCLES] = cycles
    out[codes.FOLD_STAT_STALL_CYCLES] = 0
    if arch.timing_model is TimingModel.NATIVE:
        out[codes.FOLD_STAT_CYCLES_INCL_PREFETCH] = cycles
        out[codes.FOLD_STAT_UTIL_PE_CYCLES] = cycles * arch.pes
    return out


def synthetic_operands(m: int, n: int, k: int, act_bits: int, weight_bits: int, seed: int = 0,
                       nm: tuple[int, int] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Uniform random signed integers of ``act_bits`` (A) and ``weight_bits`` (B), seeded.

    With ``nm = (N, M)`` only the first ``N`` weights of every group of ``M`` along ``K`` are
    kept (the others are zero), so ``B`` is N:M sparse.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(-(2 ** (act_bits - 1)), 2 ** (act_bits - 1), (m, k), dtype=np.int64)
    b = rng.integers(-(2 ** (weight_bits - 1)), 2 ** (weight_bits - 1), (k, n), dtype=np.int64)
    if nm is not None:
        b[np.arange(k) % nm[1] >= nm[0]] = 0
    return a, b


def run_layer(layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE,
              sparsity: LayerSparsity | None = None, traffic: TrafficScale = NO_SCALE) -> np.ndarray | None:
    """int64 ``codes.FOLD_STAT_*`` counters of ``layer`` with its GEMM computed by the PE registers
    (:func:`run_layer_measured`'s counters)."""
    return run_layer_measured(layer, arch, rate, sparsity, traffic=traffic)[0]


def run_layer_measured(layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE,
                       sparsity: LayerSparsity | None = None, seed: int = 0,
                       traffic: TrafficScale = NO_SCALE
                       ) -> tuple[np.ndarray | None, NumericError | None]:
    """``(counters, error)`` of ``layer`` from one PE run of its GEMM (``(None, None)`` for vector work).

    The run computes :func:`layer_error`'s quantized (or format-rounded) operands: its values
    give the error, its measured cycles the int64 ``codes.FOLD_STAT_*`` counters (cycles do not
    depend on the values). One repeat (group, head) is stepped with ``rate`` and its counters
    multiplied. Traffic is the schedule's (``traffic``: what the memory plan leaves), as in the
    ``fold`` fidelity, and nothing stalls (ideal memory).
    """
    problem = lower_layer(layer, arch.timing_model)
    if problem is None:
        return None, None
    if sparsity is not None and sparsity.fold_streams:
        raise UnsupportedError(f"layer {layer.name}: zero skipping is modelled in the fold fidelity only")
    measured = {}

    def on_pe(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        out, measured["stats"] = run_pe_gemm(arch, a, b, rate)
        return out

    error = _gemm_error(problem, layer.compression, arch, rate, seed, on_pe)
    per_repeat = fold.run_layer(layer, arch, rate, sparsity=sparsity, traffic=traffic) // problem.repeats
    return with_measured_cycles(per_repeat, measured["stats"]["cycles"], arch) * problem.repeats, error


def _is_float(compression: Compression) -> bool:
    """Whether a layer computes in floats; mixed integer and float operands are refused."""
    weight, act = compression.weight_precision, compression.act_precision
    if weight.is_float != act.is_float:
        raise UnsupportedError(f"{weight.name} weights x {act.name} activations: mixed integer and float "
                               "operands are not modelled")
    return weight.is_float


ERROR_COLUMNS = ("sqnr_db", "max_rel_error")
"""Per-layer numeric-error columns the ``pe`` fidelity adds to ``Result.layers``."""


def layer_error(layer: Layer, arch: ArchSpec, rate: ArrayRate = DENSE_RATE, seed: int = 0) -> NumericError | None:
    """Output error of ``layer``'s quantized GEMM computed by the PE registers, or None (vector work).

    Synthetic operands: ``A`` and ``B`` standard normal (``numpy.random.default_rng(seed)``;
    with N:M only the first ``N`` weights of every ``M`` along ``K`` kept), quantized symmetric
    per tensor (min/max calibration) to the layer's ``act_bits`` and ``weight_bits`` (asymmetric
    for 1 bit), multiplied as integer codes by :func:`run_pe_gemm` (the arch's accumulator
    width and overflow, the layer's ``rate``), dequantized and compared with float64 ``A @ B``
    (:func:`accelsim.compress.quantize.quantized_gemm`). One repeat (group, head) is measured.

    Float layers (``weight_bits: bf16``, ...): ``A`` and ``B`` rounded to their formats (round to
    nearest even; E4M3 saturating) and multiplied by the PE registers in the accumulator's float
    dtype (``mac.accumulator_bits`` 32: fp32, every product and addition rounded to fp32; 64:
    fp64), compared with float64 ``A @ B`` (:func:`accelsim.compress.float_quant.float_gemm`).
    """
    problem = lower_layer(layer, arch.timing_model)
    if problem is None:
        return None
    return _gemm_error(problem, layer.compression, arch, rate, seed, lambda x, y: run_pe_gemm(arch, x, y, rate)[0])


def _gemm_error(problem, bits: Compression, arch: ArchSpec, rate: ArrayRate, seed: int, on_pe) -> NumericError:
    """:func:`layer_error` of one repeat of ``problem``, its GEMM computed by ``on_pe(A, B)``."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((problem.m, problem.k))
    b = rng.standard_normal((problem.k, problem.n))
    if rate.nm is not None:
        b[np.arange(problem.k) % rate.nm[1] >= rate.nm[0]] = 0.0
    if _is_float(bits):
        dtype = accumulator_dtype(arch.mac.accumulator_bits)
        return float_gemm(a, b, bits.act_precision, bits.weight_precision,
                          lambda x, y: on_pe(x.astype(dtype), y.astype(dtype))).error
    act, weight = (QuantSpec(fmt.bits, symmetric=fmt.signed and fmt.bits >= 2)
                   for fmt in (bits.act_precision, bits.weight_precision))
    return quantized_gemm(a, b, act, weight, on_pe).error


def error_columns(errors: list[NumericError | None]) -> dict[str, np.ndarray]:
    """:data:`ERROR_COLUMNS` of every layer from its error (float64; NaN where the array does no work)."""
    return {"sqnr_db": np.array([np.nan if e is None else e.sqnr_db for e in errors]),
            "max_rel_error": np.array([np.nan if e is None else e.max_rel_error for e in errors])}


def error_summary(columns: dict[str, np.ndarray]) -> dict[str, float]:
    """Network-level error: the worst layer's (lowest ``sqnr_db``, highest ``max_rel_error``)."""
    finite = ~np.isnan(columns["sqnr_db"])
    if not finite.any():
        return {"sqnr_db": float("nan"), "max_rel_error": float("nan")}
    return {"sqnr_db": float(columns["sqnr_db"][finite].min()),
            "max_rel_error": float(columns["max_rel_error"][finite].max())}
