"""What a layer's zeros do inside ``simulate`` (``docs/sparsity.md``, "In simulate").

:func:`layer_sparsity` picks the sparsity model of one layer on one arch and counts its MACs
(performed, gated, skipped) and the storage of its weights; :func:`repeat_schedules` turns
that plan into the schedules the memory timeline runs (each fold's stream shortened to the
busiest lockstep group's busy steps when skipping, weight traffic scaled by the stored
format); :func:`sparsity_columns` names the per-layer columns.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from accelsim.compress.masks import weight_matrix
from accelsim.engine.sparse import sparse_gemm_counts
from accelsim.errors import AccelsimError, Problem, UnsupportedError, WorkloadError
from accelsim.lower.gemm import ArrayRate, GemmProblem, lower_layer
from accelsim.lower.schedule import FILTER, TileSchedule, dataflow_code
from accelsim.lower.tiling import spatial_mapping
from accelsim.spec.arch import ArchSpec, SparsityMode, TimingModel
from accelsim.spec.workload import Layer, Network

# Most informative first: a layer whose groups ran different models reports the first found.
MODELS = ("nm", "mask", "statistical", "dense")
INT_COLUMNS = ("mac_ops", "gated_macs", "skipped_macs", "weight_metadata_bytes")
TEXT_COLUMNS = ("sparsity_model", "weight_format")


@dataclass(frozen=True, eq=False)
class LayerSparsity:
    """A layer's zeros on the array, summed over every repeat (group, head) of its GEMM.

    Attributes
    ----------
    sparsity_model : str
        ``dense`` | ``nm`` | ``mask`` | ``statistical`` (``docs/sparsity.md``).
    mac_ops, gated_macs, skipped_macs : int
        Products performed, gated (cycle spent, multiplier idle) and skipped; they sum to the
        layer's dense MACs.
    weight_format : str
        Storage format of the weights (``dense``, ``nm_index``, ``bitmask``, ...).
    weight_metadata_bytes : int
        Index/pointer bytes of that format.
    weight_traffic : Fraction
        Stored bytes (data + metadata) over the weight bytes the schedule moves (``K_eff*N``
        values): the factor on every fold's weight SRAM and DRAM traffic. 1 when dense.
    fold_streams : tuple of int64 arrays
        When skipping: each fold's stream length ``T_eff`` (column-fold-major), one array per
        distinct repeat (one per conv group with a mask, else one for all). Empty: the
        schedule's dense stream.
    mapped : tuple of int
        ``(dataflow code, Sr, Sc, T)`` the streams were measured on (the arch's fixed mapping).
    """

    sparsity_model: str
    mac_ops: int
    gated_macs: int
    skipped_macs: int
    weight_format: str = "dense"
    weight_metadata_bytes: int = 0
    weight_traffic: Fraction = Fraction(1)
    fold_streams: tuple[np.ndarray, ...] = ()
    mapped: tuple[int, int, int, int] = (0, 0, 0, 0)


@functools.lru_cache(maxsize=4096)
def dense_sparsity(macs: int) -> LayerSparsity:
    """Every product performed, weights stored dense (memoized: one frozen instance per count)."""
    return LayerSparsity("dense", macs, 0, 0)


def _exploited(arch: ArchSpec, layer: Layer) -> bool:
    spec, bits = arch.sparsity, layer.compression
    return spec.mode is not SparsityMode.NONE and (
        (spec.weights and (bits.weight_density < 1.0 or bits.sparsity.mask is not None))
        or (spec.activations and bits.act_density < 1.0))


def gemm_weight_masks(layer: Layer, problem: GemmProblem) -> list[np.ndarray]:
    """The layer's weight mask as one ``[k, n]`` GEMM-view mask per repeat (conv group).

    Raises WorkloadError if the mask was never read (a network built in code from paths).
    """
    mask = layer.compression.sparsity.mask
    if not mask.is_read:
        raise WorkloadError(layer.name, [Problem("compression.sparsity.mask", (
            f"{mask.path} was not read: load the workload with accelsim.load_workload, or read the "
            "masks of a network built in code with accelsim.compress.masks.read_masks(net, folder)"))])
    matrix = weight_matrix(mask.values, layer)   # [outputs, reduction]
    n = problem.n
    return [matrix[g * n:(g + 1) * n].T for g in range(matrix.shape[0] // n)]


def layer_sparsity(arch: ArchSpec, layer: Layer, rate: ArrayRate) -> LayerSparsity | None:
    """The sparsity model of ``layer`` on ``arch`` at array rate ``rate`` (None for vector work).

    * ``rate.nm`` set (a native N:M pattern): model ``nm``, weights in ``nm_index``.
    * else with ``sparsity.mode`` gate or skip and exploited zeros: ``mask`` when the layer's
      weight sparsity has a mask (read with the workload), else
      ``statistical``; with ``p > 1`` products per cycle (Bit Fusion), zeros are gated, not
      skipped (a step carries several products).
    * else ``dense``: exactly the dense numbers.
    """
    problem = lower_layer(layer, arch.timing_model)
    if problem is None:
        return None
    if rate.nm is None and not _exploited(arch, layer):
        return dense_sparsity(layer.macs)
    if arch.timing_model is TimingModel.SCALESIM:
        raise UnsupportedError(f"layer {layer.name}: SCALE-Sim timing models dense arrays only; "
                               "use timing_model: native for sparsity")
    bits = layer.compression
    spec = arch.sparsity
    can_skip = rate.products_per_cycle == 1
    run_arch = arch if can_skip or spec.mode is not SparsityMode.SKIP else \
        replace(arch, sparsity=replace(spec, mode=SparsityMode.GATE))
    masks = gemm_weight_masks(layer, problem) if bits.sparsity.mask is not None and layer.weight_shape \
        else [None]
    kwargs = dict(weight_density=bits.weight_density, act_density=bits.act_density,
                  weight_pattern=bits.sparsity.pattern if rate.nm is not None else "unstructured",
                  weight_bits=bits.weight_precision.bits, act_bits=bits.act_precision.bits)
    try:
        parts = [sparse_gemm_counts(run_arch, problem.m, problem.n, problem.k, weight_mask=mask, **kwargs)
                 for mask in masks]
    except AccelsimError as exc:
        raise WorkloadError(f"layer {layer.name}", [Problem("compression.sparsity", str(exc))]) from None
    each = problem.repeats // len(parts)

    def total(key: str) -> int:
        return each * sum(int(part[key]) for part in parts)

    found = {part["sparsity_model"] for part in parts}
    model = next(name for name in MODELS if name in found)
    skipping = run_arch.sparsity.mode is SparsityMode.SKIP and model in ("mask", "statistical")
    fmt = parts[0]["weight_format"]
    stored = total("weight_data_bytes") + total("weight_metadata_bytes")
    moved = problem.repeats * rate.stored_reduction(problem.k) * problem.n * bits.weight_precision.bits
    return LayerSparsity(
        sparsity_model=model, mac_ops=total("mac_ops"), gated_macs=total("gated_macs"), skipped_macs=total("skipped_macs"),
        weight_format=fmt, weight_metadata_bytes=total("weight_metadata_bytes"),
        weight_traffic=Fraction(1) if fmt == "dense" else Fraction(8 * stored, moved),
        fold_streams=tuple(part["fold_stream_cycles"] for part in parts) if skipping else (),
        mapped=(dataflow_code(arch.array.dataflow), *spatial_mapping(arch.array.dataflow, problem.m, problem.n,
                                                                      problem.k)),
    )


def _scaled(words: np.ndarray, factor: Fraction) -> np.ndarray:
    """``words`` per fold times ``factor``, rounded up cumulatively (the folds add up to the
    rounded-up total; exact integer arithmetic)."""
    edges = [-(-int(c) * factor.numerator // factor.denominator) for c in np.cumsum(words)]
    return np.diff(np.array([0, *edges], dtype=np.int64))


def _column_fold_major(rows: int, cols: int, sr: int, sc: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows and columns used by each fold of the fixed mapping (column-fold-major)."""
    r = np.minimum(rows, sr - rows * np.arange(-(-sr // rows)))
    c = np.minimum(cols, sc - cols * np.arange(-(-sc // cols)))
    return np.tile(r, c.shape[0]), np.repeat(c, r.shape[0])


def repeat_schedules(schedule: TileSchedule, plan: LayerSparsity | None, cycles_per_product: int = 1,
                     layer_name: str = "") -> list[TileSchedule]:
    """The schedules the memory timeline runs for ``plan``: one per distinct repeat (each run
    ``repeats // len`` times), with weight traffic scaled by ``plan.weight_traffic`` and, when
    skipping, every fold's stream set to ``T_eff * cycles_per_product``."""
    if plan is None:
        return [schedule]
    if plan.weight_traffic != 1:
        tables = {}
        for name in ("sram_words", "dram_words", "dram_bytes"):
            table = getattr(schedule, name).copy()
            table[:, FILTER] = _scaled(table[:, FILTER], plan.weight_traffic)
            tables[name] = table
        schedule = replace(schedule, **tables)
    if not plan.fold_streams:
        return [schedule]
    fixed_order = _column_fold_major(schedule.array_rows, schedule.array_cols, schedule.sr, schedule.sc)
    if ((schedule.dataflow, schedule.sr, schedule.sc, schedule.t) != plan.mapped or schedule.t_tiles != 1
            or not all(np.array_equal(a, b) for a, b in zip((schedule.rows_used, schedule.cols_used), fixed_order))):
        raise UnsupportedError(f"layer {layer_name}: zero skipping is measured on the arch's fixed mapping; "
                               "use mapping 'fixed' or sparsity.mode gate")
    return [replace(schedule, stream_cycles=stream * cycles_per_product) for stream in plan.fold_streams]


def sparsity_columns(network: Network, plans: list[LayerSparsity | None]) -> dict[str, np.ndarray]:
    """Per-layer columns ``sparsity_model``, ``weight_format`` (text) and ``mac_ops``,
    ``gated_macs``, ``skipped_macs``, ``weight_metadata_bytes`` (int64). Layers without a plan
    (vector work) are dense with their own MACs (0)."""
    plans = [plan if plan is not None else dense_sparsity(layer.macs) for layer, plan in zip(network.layers, plans)]
    columns = {name: np.array([getattr(p, name) for p in plans], dtype=object) for name in TEXT_COLUMNS}
    columns.update({name: np.array([getattr(p, name) for p in plans], dtype=np.int64) for name in INT_COLUMNS})
    return columns
