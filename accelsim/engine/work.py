"""What a layer asks of an engine, estimated in closed form before it runs (``docs/limits.md``).

* :func:`check_layer_range`: every count stays exact in int64. An upper bound of the layer's
  cycles (compute, every DRAM transfer and latency back to back) and of its DRAM bytes must
  stay below :data:`accelsim.spec.limits.COUNT_LIMIT`; the ``fold`` fidelity's tables (one
  block of folds, or all of them where a schedule is built whole) and SCALE-Sim's address
  tables must fit :data:`FOLD_MEMORY_LIMIT`.
* :func:`step_estimate` / :func:`check_steps`: the ``cycle`` fidelity steps every cycle and
  the ``pe`` fidelity every PE register every cycle (estimated from the ``fold`` fidelity's
  cycles); past ``max_steps`` a layer is refused with the estimate, the expected time and the
  advice to use ``fold``.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.engine import blocks
from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import ArrayRate, GemmProblem
from accelsim.lower.tiling import fixed_mapping, spatial_mapping
from accelsim.spec.arch import ArchSpec, TimingModel
from accelsim.spec.limits import COUNT_LIMIT, MIN_BANDWIDTH, power_of_two

# Bytes the fold fidelity may allocate for one layer's tables (fold arrays, SCALE-Sim's
# per-pixel and per-address tables): about 48 int64 values per native fold.
FOLD_MEMORY_LIMIT = 2**31
_BYTES_PER_FOLD = 48 * 8

# Steps per second on the development machine (2 shared cores), measured by
# ``python benchmarks/bench_step_rates.py`` (gemm on edge_32x32, best of 3; load 0.9, 2026-12-03):
# ``cycle`` 2.0-2.1e7 cycles/s, ``pe`` 4.7-4.8e8 PE-cycles/s (one PE run per layer). Rounded down;
# used only to tell the user roughly how long a run would take.
STEPS_PER_SECOND = {"cycle": 2e7, "pe": 4e8}
STEP_UNITS = {"cycle": "cycles", "pe": "PE-cycles"}
# Default limits: about a minute of stepping for one layer at the rates above.
DEFAULT_MAX_STEPS = {"cycle": 10**9, "pe": 2 * 10**10}
# Memory for the pe fidelity's operands and outputs (int64 and float64 copies).
PE_MEMORY_LIMIT = 2**31


class WorkLimitError(UnsupportedError):
    """A layer whose simulation would pass a limit (int64 range, memory, ``max_steps``)."""


@dataclass(frozen=True)
class Work:
    """Closed-form sizes of one layer on an array, all repeats included (upper bounds)."""

    folds: int
    cycles: int
    dram_bytes: int
    pe_cycles: int


def estimate(problem: GemmProblem, arch: ArchSpec, rate: ArrayRate) -> Work:
    """Upper bounds of the folds, cycles, DRAM bytes and PE-cycles of ``problem`` (fixed mapping).

    Per fold of ``r x c`` PEs streaming ``t``: compute at most ``t*q + 2R + C``; traffic at most
    its three tiles at 8 bytes a word (partial sums of up to 64 bits) and the output read back;
    each fold's transfers at the slowest bandwidth and three DRAM latencies, all back to back.
    """
    rows, cols = arch.array.rows, arch.array.cols
    sr, sc, t = spatial_mapping(arch.array.dataflow, problem.m, problem.n, rate.reduction(problem.k))
    row_folds, col_folds = -(-sr // rows), -(-sc // cols)
    r, c = min(rows, sr), min(cols, sc)
    folds = row_folds * col_folds
    q = rate.cycles_per_product
    compute = folds * (t * q + 2 * rows + cols)
    words = folds * (r * c + 2 * (r + 2 * c) * t)
    dram_bytes = 8 * words
    bandwidths = [arch.dram_bytes_per_cycle(op) for op in ("ifmap", "filter", "ofmap")]
    slowest = min([b for b in bandwidths if b is not None], default=None)
    transfer = 0 if slowest is None else int(dram_bytes / max(slowest, MIN_BANDWIDTH)) + 4 * folds
    cycles = compute + transfer + 3 * folds * arch.dram.latency_cycles
    repeats = problem.repeats
    return Work(folds * repeats, cycles * repeats, dram_bytes * repeats, compute * rows * cols * repeats)


def check_layer_range(problem: GemmProblem, arch: ArchSpec, rate: ArrayRate, name: str,
                      whole_schedule: bool = False) -> Work:
    """:func:`estimate`, or :class:`WorkLimitError` if a count could leave the int64 range or
    the fold fidelity's tables would pass :data:`FOLD_MEMORY_LIMIT`.

    ``whole_schedule``: the engine builds every fold's table at once (a mapping search, the
    ``cycle`` and ``pe`` fidelities) instead of a block at a time (:mod:`accelsim.engine.blocks`).
    """
    work = estimate(problem, arch, rate)
    fixes = {"cycles": "split the layer, lower batch, or raise the DRAM bandwidth / lower its latency",
             "DRAM bytes": "split the layer or lower batch",
             "PE-cycles (PEs x cycles)": f"use a smaller array ({arch.pes:,} PEs) or split the layer"}
    for what, value in zip(fixes, (work.cycles, work.dram_bytes, work.pe_cycles)):
        if value > COUNT_LIMIT:
            raise WorkLimitError(
                f"layer {name}: its {what} on {arch.name} could reach {value:.3g}, past the validated range "
                f"of {power_of_two(COUNT_LIMIT)} where counts stay exact (docs/limits.md); {fixes[what]}")
    if (arch.timing_model is TimingModel.NATIVE and not whole_schedule and work.folds > blocks.BLOCK_THRESHOLD
            and not blocks.repeats(problem, arch, fixed_mapping(arch), rate)
            and work.folds // problem.repeats > blocks.MAX_UNITS * blocks.CHUNK):
        raise WorkLimitError(f"layer {name}: {blocks.too_long(problem, work.folds // problem.repeats)}")
    memory = fold_memory(problem, arch, rate, work, whole_schedule)
    if memory > FOLD_MEMORY_LIMIT:
        fix = ("use timing_model: native (SCALE-Sim's CALC model keeps a table per ifmap address)"
               if arch.timing_model is TimingModel.SCALESIM else "use a larger array or split the layer")
        what = (f"its {work.folds // problem.repeats:,} folds' tables" if arch.timing_model is TimingModel.NATIVE
                else "SCALE-Sim's address tables")
        raise WorkLimitError(f"layer {name}: the fold fidelity would need about {memory / 2**30:.3g} GiB for "
                             f"{what} on {arch.name} (limit {FOLD_MEMORY_LIMIT / 2**30:g} GiB); {fix}")
    return work


def whole_schedule_fits(folds: int) -> bool:
    """Whether a schedule of ``folds`` folds, built whole, stays within :data:`FOLD_MEMORY_LIMIT`."""
    return folds * _BYTES_PER_FOLD <= FOLD_MEMORY_LIMIT


def fold_memory(problem: GemmProblem, arch: ArchSpec, rate: ArrayRate, work: Work, whole_schedule: bool) -> int:
    """Bytes the fold fidelity allocates for one repeat of ``problem``."""
    if arch.timing_model is TimingModel.NATIVE:
        folds = work.folds // problem.repeats
        if not whole_schedule and folds > blocks.BLOCK_THRESHOLD:
            folds = min(blocks.loop_counts(problem, arch, fixed_mapping(arch), rate)[2], blocks.CHUNK) + 1
        return folds * _BYTES_PER_FOLD
    g = problem.geometry
    pixels, taps = g.out_h * g.out_w, g.kernel_h * g.kernel_w * g.channels
    ofmap_words = arch.buffers.for_operand("ofmap").size_bytes
    sr = spatial_mapping(arch.array.dataflow, problem.m, problem.n, problem.k)[0]
    return 8 * 3 * (pixels + taps) + 4 * g.in_h * g.in_w * g.channels + 8 * ofmap_words + 8 * sr


def step_estimate(fold_cycles: int, fold_compute_cycles: int, arch: ArchSpec, fidelity: str) -> int:
    """Steps of the ``cycle`` fidelity (its cycles) or the ``pe`` fidelity (PE-cycles of its one
    PE run, which gives both timing and values, with ideal memory), from the ``fold`` fidelity's
    cycles and compute cycles of the same layer (the same timing model in closed form)."""
    return fold_cycles if fidelity == "cycle" else fold_compute_cycles * arch.pes


def check_steps(steps: int, problem: GemmProblem, fidelity: str, max_steps: int | None, name: str) -> int:
    """``steps``, or :class:`WorkLimitError` past ``max_steps`` (``None``:
    :data:`DEFAULT_MAX_STEPS`) or, for ``pe``, past :data:`PE_MEMORY_LIMIT`."""
    limit = DEFAULT_MAX_STEPS[fidelity] if max_steps is None else max_steps
    unit = STEP_UNITS[fidelity]
    if steps > limit:
        raise WorkLimitError(
            f"layer {name}: the {fidelity} fidelity would step about {steps:.3g} {unit} "
            f"(roughly {describe_seconds(steps / STEPS_PER_SECOND[fidelity])}), past max_steps={limit:.3g}; "
            f"use fidelity 'fold' (the same timing model in closed form, docs/fidelities.md) "
            f"or raise the limit (max_steps=, --max-steps)")
    if fidelity == "pe":
        memory = 3 * 8 * (problem.m * problem.k + problem.k * problem.n + problem.m * problem.n)
        if memory > PE_MEMORY_LIMIT:
            raise WorkLimitError(f"layer {name}: the pe fidelity holds its operands in memory, about "
                                 f"{memory / 2**30:.3g} GiB (limit {PE_MEMORY_LIMIT / 2**30:g} GiB); use fidelity 'fold'")
    return steps


def describe_seconds(seconds: float) -> str:
    """``"3 min"``, ``"2.1 h"``: a duration for a message."""
    for unit, size in (("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.2g} {unit}"
    return f"{seconds:.2g} s"
