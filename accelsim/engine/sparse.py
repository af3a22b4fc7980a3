"""Per-layer counters of a sparse GEMM: N:M in the array, zero skipping/gating, storage formats.

Entry point: :func:`sparse_gemm_counts`. It picks one of four models, reported in
``sparsity_model``:

* ``nm``: the weights are N:M and the arch runs a compatible pattern natively
  (:func:`accelsim.hw.sparse.nm.native_pattern`); the array computes the dense GEMM with the
  reduction shortened to :func:`~accelsim.hw.sparse.nm.nm_reduction_length`. With ``mode`` gate
  or skip, zero weights left in slots and (with ``activations``) zero activations met by a
  kept weight are gated; they cannot be skipped because the slot schedule is fixed.
* ``mask``: unstructured skipping or gating measured exactly from the masks by the kernel.
* ``statistical``: the same with densities only (binomial model, approximate; see
  :mod:`accelsim.hw.sparse.statistical`).
* ``dense``: nothing exploited (mode none, or both operands dense).

Cycles are the native fold model without overlap between folds; ``fold_stream_cycles`` from
:func:`run_sparse_array` gives each fold's stream length for schedules with overlap.
"""

from __future__ import annotations

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.hw.sparse import statistical
from accelsim.hw.sparse.formats import smallest_format, storage_bytes
from accelsim.hw.sparse.nm import check_nm_mask, native_pattern, nm_reduction_length, parse_nm
from accelsim.kernels import codes, sparse as _kernel
from accelsim.kernels.codes import SPARSITY_GATE, SPARSITY_NONE, SPARSITY_SKIP, SYNC_COLUMN, SYNC_FOLD, SYNC_PE, SYNC_ROW
from accelsim.lower.schedule import dataflow_code
from accelsim.lower.tiling import spatial_mapping
from accelsim.spec.arch import ArchSpec, Dataflow, SparseFormat, SparsityMode, SyncGroup

_MODE = {SparsityMode.NONE: SPARSITY_NONE, SparsityMode.GATE: SPARSITY_GATE, SparsityMode.SKIP: SPARSITY_SKIP}
_SYNC = {SyncGroup.PE: SYNC_PE, SyncGroup.ROW: SYNC_ROW, SyncGroup.COLUMN: SYNC_COLUMN, SyncGroup.FOLD: SYNC_FOLD}
_STATS = {
    "cycles": codes.SPARSE_STAT_CYCLES,
    "stream_cycles": codes.SPARSE_STAT_STREAM_CYCLES,
    "dense_stream_cycles": codes.SPARSE_STAT_DENSE_STREAM_CYCLES,
    "mac_ops": codes.SPARSE_STAT_PERFORMED_MACS,
    "gated_macs": codes.SPARSE_STAT_GATED_MACS,
    "skipped_macs": codes.SPARSE_STAT_SKIPPED_MACS,
    "idle_pe_cycles": codes.SPARSE_STAT_IDLE_PE_CYCLES,
    "folds": codes.SPARSE_STAT_FOLDS,
}
_NO_MASK = np.ones((1, 1), dtype=np.uint8)


def resolve_sync_group(sync: SyncGroup, dataflow: Dataflow) -> SyncGroup:
    """``auto`` -> ``pe`` for os (each PE owns its accumulator and skips on its own),
    ``column`` for ws/is (partial sums flow down a column, so a column moves in lockstep)."""
    if sync is not SyncGroup.AUTO:
        return sync
    return SyncGroup.PE if dataflow is Dataflow.OS else SyncGroup.COLUMN


def _mask(mask: np.ndarray | None, shape: tuple[int, int], what: str) -> np.ndarray | None:
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise AccelsimError(f"{what} has shape {mask.shape}, expected {shape}")
    return np.ascontiguousarray(mask != 0, dtype=np.uint8)


def run_sparse_array(rows: int, cols: int, dataflow: Dataflow, mode: SparsityMode, sync: SyncGroup,
                     m: int, n: int, k: int, weight_mask: np.ndarray | None = None,
                     act_mask: np.ndarray | None = None) -> tuple[dict[str, int], np.ndarray]:
    """Exact counters of a GEMM on a ``rows x cols`` array skipping/gating the zeros of the
    given masks (weights ``K x N``, activations ``M x K``; None: that operand is not exploited).

    Returns the counters of :data:`_STATS` and each fold's stream length (column-fold-major).
    """
    wmask = _mask(weight_mask, (k, n), "weight mask")
    amask = _mask(act_mask, (m, k), "activation mask")
    w_t = None if wmask is None else np.ascontiguousarray(wmask.T)
    a_t = None if amask is None else np.ascontiguousarray(amask.T)
    # the kernel's two factor masks, stream step last (kernels/sparse.py)
    first, second = {Dataflow.OS: (amask, w_t), Dataflow.WS: (wmask, a_t), Dataflow.IS: (a_t, wmask)}[dataflow]
    stats, fold_stream = _kernel._run_sparse_array(
        _NO_MASK if first is None else first, _NO_MASK if second is None else second,
        m, n, k, rows, cols, dataflow_code(dataflow), _MODE[mode],
        _SYNC[resolve_sync_group(sync, dataflow)], int(first is not None), int(second is not None),
    )
    return {name: int(stats[index]) for name, index in _STATS.items()}, fold_stream


def _fold_shapes(rows: int, cols: int, sr: int, sc: int):
    """``(r, c, count)`` of each distinct fold shape."""
    out = []
    for r, nr in ((rows, sr // rows), (sr % rows, 1)):
        for c, nc in ((cols, sc // cols), (sc % cols, 1)):
            if r and c and nr and nc:
                out.append((r, c, nr * nc))
    return out


def statistical_counts(rows: int, cols: int, dataflow: Dataflow, mode: SparsityMode, sync: SyncGroup,
                       m: int, n: int, k: int, p_w: float = 1.0, p_a: float = 1.0) -> dict[str, int]:
    """Expected counters (rounded) under independent zeros of probabilities ``1-p_w``, ``1-p_a``.

    MAC counts are exact expectations; the busiest group is approximate (groups treated as
    independent). ``p = 1`` for an operand that is not exploited. ``fold_stream_cycles``: each
    fold's expected ``T_eff`` (rounded), column-fold-major.
    """
    sr, sc, t_len = spatial_mapping(dataflow, m, n, k)
    group = resolve_sync_group(sync, dataflow)
    dense = m * n * k
    performed = dense * p_w * p_a if mode is not SparsityMode.NONE else dense
    totals = dict.fromkeys(("cycles", "stream_cycles", "dense_stream_cycles", "skipped", "pe_stream", "folds"), 0.0)
    shape_stream = {}
    for r, c, count in _fold_shapes(rows, cols, sr, sc):
        t_eff, runs, group_steps = float(t_len), 1.0, float(t_len)
        if mode is SparsityMode.SKIP:
            gh = 1 if group in (SyncGroup.PE, SyncGroup.ROW) else r
            gw = 1 if group in (SyncGroup.PE, SyncGroup.COLUMN) else c
            t_eff, runs, group_steps = statistical.expected_fold(
                dataflow, t_len, gh, gw, statistical.distinct_groups(dataflow, r, c, gh, gw, p_w, p_a), p_w, p_a)
        shape_stream[r, c] = round(t_eff)
        totals["cycles"] += count * (runs * (r + c + rows - 2) + t_eff)
        totals["stream_cycles"] += count * t_eff
        totals["dense_stream_cycles"] += count * t_len
        totals["skipped"] += count * r * c * (t_len - group_steps)
        totals["pe_stream"] += count * r * c * t_eff
        totals["folds"] += count * runs
    mac_ops = round(performed)
    skipped = min(round(totals["skipped"]), dense - mac_ops)   # rounding must not break conservation
    gated = dense - mac_ops - skipped
    return {
        "cycles": round(totals["cycles"]), "stream_cycles": round(totals["stream_cycles"]),
        "dense_stream_cycles": round(totals["dense_stream_cycles"]), "mac_ops": mac_ops,
        "gated_macs": gated, "skipped_macs": skipped,
        "idle_pe_cycles": max(0, round(totals["pe_stream"]) - mac_ops - gated), "folds": round(totals["folds"]),
        "fold_stream_cycles": _per_fold(rows, cols, sr, sc, shape_stream),
    }


def _per_fold(rows: int, cols: int, sr: int, sc: int, by_shape: dict) -> np.ndarray:
    """``by_shape[(r, c)]`` for every fold, column-fold-major."""
    r = np.minimum(rows, sr - rows * np.arange(-(-sr // rows)))
    c = np.minimum(cols, sc - cols * np.arange(-(-sc // cols)))
    return np.array([by_shape[ri, ci] for ci in c for ri in r], dtype=np.int64)


def _exploited(arch: ArchSpec, mask: np.ndarray | None, density: float, flag: bool) -> bool:
    if arch.sparsity.mode is SparsityMode.NONE or not flag:
        return False
    return (mask is not None and not np.all(mask)) or (mask is None and density < 1.0)


def sparse_gemm_counts(arch: ArchSpec, m: int, n: int, k: int, *, weight_mask: np.ndarray | None = None,
                       act_mask: np.ndarray | None = None, weight_density: float = 1.0, act_density: float = 1.0,
                       weight_pattern: str = "dense", weight_bits: int = 8, act_bits: int = 8) -> dict:
    """Counters of one GEMM ``A[m, k] @ B[k, n]`` on ``arch`` given its operands' zeros.

    Parameters
    ----------
    arch : the accelerator (``array`` and ``sparsity`` are used).
    m, n, k : GEMM dimensions.
    weight_mask : bool[k, n] or None; act_mask : bool[m, k] or None (True = non-zero).
    weight_density, act_density : fractions of non-zeros, used where no mask is given.
    weight_pattern : the layer's weight pattern (``"2:4"``, ``"unstructured"``, ...).
    weight_bits, act_bits : bits per stored value.

    Returns
    -------
    dict with ``cycles`` (native, no fold overlap), ``stream_cycles``, ``dense_stream_cycles``,
    ``fold_stream_cycles`` (int64 array: each fold's ``T_eff``, column-fold-major, as the array
    maps the GEMM with ``effective_k``),
    ``macs`` (dense ``m*n*k``), ``mac_ops`` (performed), ``gated_macs``, ``skipped_macs``
    (the three sum to ``macs``), ``idle_pe_cycles``, ``folds`` (run), ``effective_k``,
    ``sparsity_model`` (``nm`` | ``mask`` | ``statistical`` | ``dense``), ``sparsity_pattern``
    (the pattern the array ran), and per operand ``{weight,act}_format``,
    ``{weight,act}_data_bytes``, ``{weight,act}_metadata_bytes``, ``{weight,act}_storage_estimated``.
    """
    spec = arch.sparsity
    array = arch.array
    wmask = _mask(weight_mask, (k, n), "weight mask")
    amask = _mask(act_mask, (m, k), "activation mask")
    w_density = float(wmask.mean()) if wmask is not None else weight_density
    a_density = float(amask.mean()) if amask is not None else act_density
    layer_nm = parse_nm(weight_pattern)
    if layer_nm is not None and wmask is None:   # an n:m tensor keeps at most n/m of its values
        w_density = min(w_density, layer_nm[0] / layer_nm[1])
    hw_nm = native_pattern(spec.structured, *layer_nm) if layer_nm else None
    args = (array.rows, array.cols, array.dataflow)
    out: dict = {}
    if hw_nm is not None:
        n_hw, m_hw = hw_nm
        if wmask is not None:
            check_nm_mask(wmask, n_hw, m_hw, what=f"weight mask ({weight_pattern} run as {n_hw}:{m_hw})")
        k_eff = nm_reduction_length(k, n_hw, m_hw)
        counts, stream = run_sparse_array(*args, SparsityMode.NONE, spec.sync_group, m, n, k_eff)
        counts["fold_stream_cycles"] = stream
        slots = k_eff * n
        gated = 0
        if spec.mode is not SparsityMode.NONE:
            kept_per_k = wmask.sum(axis=1) if wmask is not None else np.full(k, w_density * n)
            zero_acts_per_k = (m - amask.sum(axis=0)) if amask is not None else np.full(k, (1 - a_density) * m)
            if spec.weights:
                gated += m * (slots - float(kept_per_k.sum()))
            if spec.activations:
                gated += float(np.dot(kept_per_k, zero_acts_per_k))
        gated = round(gated)
        counts.update(mac_ops=m * slots - gated, gated_macs=gated, skipped_macs=m * n * (k - k_eff))
        out.update(counts, effective_k=k_eff, sparsity_model="nm", sparsity_pattern=f"{n_hw}:{m_hw}")
    else:
        use_w = _exploited(arch, wmask, w_density, spec.weights)
        use_a = _exploited(arch, amask, a_density, spec.activations)
        if not (use_w or use_a):
            counts, stream = run_sparse_array(*args, SparsityMode.NONE, spec.sync_group, m, n, k)
            counts["fold_stream_cycles"] = stream
            model = "dense"
        elif (wmask is not None or not use_w) and (amask is not None or not use_a):
            counts, stream = run_sparse_array(*args, spec.mode, spec.sync_group, m, n, k,
                                              wmask if use_w else None, amask if use_a else None)
            counts["fold_stream_cycles"] = stream
            model = "mask"
        else:
            counts = statistical_counts(*args, spec.mode, spec.sync_group, m, n, k,
                                        w_density if use_w else 1.0, a_density if use_a else 1.0)
            model = "statistical"
        out.update(counts, effective_k=k, sparsity_model=model,
                   sparsity_pattern="unstructured" if model != "dense" else "dense")
    out["macs"] = m * n * k
    kwargs = dict(index_bits=spec.index_bits, run_bits=spec.run_bits)
    if hw_nm is not None:   # the array reads N:M weights as values plus indices, whatever else it supports
        weight = storage_bytes(SparseFormat.NM_INDEX, (k, n), weight_bits, nm=hw_nm, **kwargs)
    else:
        weight = smallest_format(spec.formats, (k, n), weight_bits, mask=wmask, density=w_density, nm=layer_nm, **kwargs)
    act_formats = tuple(f for f in spec.formats if f is not SparseFormat.NM_INDEX)
    act = smallest_format(act_formats, (m, k), act_bits, mask=amask, density=a_density, **kwargs)
    for prefix, stored in (("weight", weight), ("act", act)):
        out.update({f"{prefix}_format": stored.format.value, f"{prefix}_data_bytes": stored.data_bytes,
                    f"{prefix}_metadata_bytes": stored.metadata_bytes,
                    f"{prefix}_storage_estimated": stored.estimated})
    return out
