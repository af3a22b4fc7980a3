"""Several arrays on one chip: a layer's GEMM divided among them, each part timed by the ``fold`` model.

The model (``docs/multi_array.md``):

* **Split.** ``columns`` gives each array a slice of the output columns N (all of A, its columns
  of B); ``rows`` a slice of the rows M (its rows of A, all of B); ``reduction`` a slice of the
  reduction K (its columns of A, its rows of B), every array then holding partial sums of the
  whole output; ``groups`` a share of the layer's independent GEMMs (conv groups, matmul batch x
  heads: ``GemmProblem.repeats``), each whole. Slices are ``ceil(D / arrays)`` long and the last one takes the rest, so a split
  has at most two distinct parts (a reduction slice is a whole number of N:M groups times the MAC
  unit's products per cycle). A conv's input words are shared out in proportion to the slice (an
  approximation under ``rows``: the halo rows two slices both read are counted once; exact for
  gemm and matmul).
* **Reduction.** The partial sums are added in a binary tree over the link: ``ceil(log2 arrays)``
  steps, each the link latency plus one output tile of partial sums (accumulator width) over the
  link bandwidth, after the arrays finish (not overlapped with them: an upper bound). The tree
  moves ``arrays - 1`` tiles and makes ``(arrays - 1) x M x N`` additions; the final sums are
  written to DRAM once.
* **Buffers.** Buffers are private (one copy per array, of the size the arch gives) unless
  ``arrays.shared`` lists them: a shared buffer's capacity is divided equally among the arrays.
  An operand every array reads whole (A under ``columns``, B under ``rows``) in a shared buffer
  comes from DRAM once and is multicast to the arrays: the chip's traffic counts it once, at the
  most any array fetches. In a private buffer every array fetches its own copy.
* **DRAM.** One channel serves the chip. Each array is timed with a share of its bandwidth in
  proportion to the array's own traffic, ``bandwidth x max(1/arrays, its bytes / the chip's
  bytes)`` (at most all of it): arrays streaming concurrently finish their transfers when the
  chip's traffic would at the full bandwidth.
* **Counts.** The layer takes the slowest array's time plus the reduction (``stall_cycles``
  holds the reduction's link time); SRAM accesses, folds and busy PE-cycles of every array add up.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from accelsim import units
from accelsim.engine import fold
from accelsim.engine.compression import LayerSparsity
from accelsim.errors import UnsupportedError
from accelsim.kernels import codes
from accelsim.lower.gemm import ArrayRate, GemmProblem
from accelsim.lower.memory_plan import NO_SCALE, TrafficScale
from accelsim.lower.schedule import transfer_cycles
from accelsim.lower.tiling import Mapping
from accelsim.spec.arch import ArchSpec, ArraySplit, ArraysSpec
from accelsim.spec.memo import spec_memo
from accelsim.spec.options import Fidelity
from accelsim.spec.workload import Layer

_SPLIT_DIM = {ArraySplit.COLUMNS: "n", ArraySplit.ROWS: "m", ArraySplit.REDUCTION: "k", ArraySplit.GROUPS: "repeats"}
# The operand every array reads whole under a split: (its counter, the layer's bits attribute).
_REPLICATED = {ArraySplit.COLUMNS: ("ifmap", codes.FOLD_STAT_IFMAP_DRAM_READS, "act_precision"),
               ArraySplit.ROWS: ("filter", codes.FOLD_STAT_FILTER_DRAM_READS, "weight_precision")}


@dataclass(frozen=True)
class Part:
    """One array's GEMM, run by ``arrays`` arrays (each on its own slice)."""

    problem: GemmProblem
    arrays: int


@dataclass(frozen=True)
class SplitPlan:
    """A layer's GEMM ``problem`` divided by ``split`` into at most two distinct ``parts``."""

    split: ArraySplit
    problem: GemmProblem
    parts: tuple[Part, ...]

    @property
    def arrays_used(self) -> int:
        return sum(part.arrays for part in self.parts)


@dataclass(frozen=True)
class ChipRun:
    """The chip's counters of one layer (``codes.FOLD_STAT_*``, every array's) and its reduction:
    ``link_bytes`` moved between arrays, ``link_cycles`` (inside ``stall_cycles``), ``reduction_adds``."""

    counters: np.ndarray
    link_bytes: int
    link_cycles: int
    reduction_adds: int


def check_fidelity(arch: ArchSpec, fidelity: Fidelity) -> None:
    """Refuse several arrays outside the ``fold`` fidelity (``docs/multi_array.md``, "Fidelities")."""
    if arch.arrays.count > 1 and fidelity is not Fidelity.FOLD:
        raise UnsupportedError(
            f"{arch.name}: {arch.arrays.count} arrays run in the fold fidelity only; the {fidelity.value} fidelity "
            "steps one array and one DRAM channel, with no arbiter between arrays (docs/multi_array.md)")


def split_problem(problem: GemmProblem, split: ArraySplit, count: int, rate: ArrayRate) -> SplitPlan:
    """``problem`` divided among ``count`` arrays by ``split`` (see the module docstring)."""
    dim = _SPLIT_DIM[split]
    extent = getattr(problem, dim)
    granule = (rate.nm[1] if rate.nm else 1) * rate.products_per_cycle if split is ArraySplit.REDUCTION else 1
    per = -(-(-(-extent // granule)) // count) * granule
    used = -(-extent // per)
    last = extent - (used - 1) * per
    sizes = [(per, used - 1), (last, 1)] if last != per else [(per, used)]
    parts = tuple(Part(_slice(problem, dim, size), arrays) for size, arrays in sizes if arrays)
    return SplitPlan(split, problem, parts)


def _slice(problem: GemmProblem, dim: str, size: int) -> GemmProblem:
    """``problem`` with dimension ``dim`` cut to ``size``; the input words (per repeat) in proportion
    (all of them for ``n`` and ``repeats``)."""
    extent = getattr(problem, dim)
    words = problem.ifmap_words if dim in ("n", "repeats") else -(-problem.ifmap_words * size // extent)
    return dataclasses.replace(problem, **{dim: size}, ifmap_words=words)


@spec_memo(1024)
def array_arch(arch: ArchSpec, bytes_per_cycle: float | None = None) -> ArchSpec:
    """One array's view of ``arch``: shared buffers at ``1/count`` of their capacity and, given
    ``bytes_per_cycle``, that DRAM bandwidth (else the arch's). Memoised: the same view object
    for the same arguments, so the memos it is looked up in hash it once."""
    count = arch.arrays.count
    shares = {name: dataclasses.replace(buf, size_bytes=max(1, buf.size_bytes // count))
              for name in arch.arrays.shared_buffers if (buf := getattr(arch.buffers, name)) is not None}
    dram = arch.dram
    if bytes_per_cycle is not None:
        dram = dataclasses.replace(dram, bandwidth=units.Bandwidth(bytes_per_cycle, per_cycle=True))
    return dataclasses.replace(arch, buffers=dataclasses.replace(arch.buffers, **shares), dram=dram,
                               arrays=ArraysSpec())


def _bytes(words: int, bits: int) -> int:
    return -(-words * bits // 8)


def run_split(plan: SplitPlan, layer: Layer, arch: ArchSpec, rate: ArrayRate, mapping: Mapping | None = None,
              sparsity: LayerSparsity | None = None, traffic: TrafficScale = NO_SCALE) -> ChipRun:
    """The chip's counters of ``layer`` (lowered to ``plan.problem``) run as ``plan`` says.

    ``mapping``: every part's mapping (``None``: the fixed one). ``sparsity``: the layer's plan;
    zero skipping (per-fold streams measured on the whole layer) cannot be divided and is refused.
    ``traffic``: the share of the layer's DRAM traffic the network's memory plan leaves it, applied to
    every part alike (an approximation: each part keeps the same fraction of its input and output).
    """
    if sparsity is not None and sparsity.fold_streams:
        raise UnsupportedError(f"layer {layer.name}: zero skipping is measured on one array's folds; with "
                               f"{arch.arrays.count} arrays use sparsity.mode gate (docs/multi_array.md)")
    bandwidth = arch.dram_bytes_per_cycle()

    def sharing(share: float) -> ArchSpec:  # one array's view with ``share`` of the channel
        return array_arch(arch) if bandwidth is None or share == 1.0 else array_arch(arch, bandwidth * share)

    likely = 1.0 if bandwidth is None else _likely_share(plan, arch)
    runs = [fold.run_problem(part.problem, layer, sharing(likely), rate, mapping, sparsity, traffic)
            for part in plan.parts]
    weights = np.array([part.arrays for part in plan.parts], dtype=np.int64)
    chip = (weights[:, None] * np.array(runs)).sum(axis=0)
    _multicast(chip, runs, weights, plan.split, arch, layer)
    link_bytes, link_cycles, adds = _reduce(chip, plan, arch, layer)
    chip_bytes = int(chip[codes.FOLD_STAT_DRAM_READ_BYTES] + chip[codes.FOLD_STAT_DRAM_WRITE_BYTES])
    # time each part with its share of the channel (all of it for a chip without DRAM traffic): a run
    # at the likely share already is, as every counter but the cycles is the same at any share
    shares = [_share(run, chip_bytes, arch) if bandwidth is not None and chip_bytes > 0 else 1.0 for run in runs]
    runs = [run if share == likely else fold.run_problem(part.problem, layer, sharing(share), rate, mapping,
                                                         sparsity, traffic)
            for part, run, share in zip(plan.parts, runs, shares)]
    slowest = max(runs, key=lambda run: int(run[codes.FOLD_STAT_CYCLES]))
    chip[codes.FOLD_STAT_COMPUTE_CYCLES] = slowest[codes.FOLD_STAT_COMPUTE_CYCLES]
    chip[codes.FOLD_STAT_STALL_CYCLES] = slowest[codes.FOLD_STAT_STALL_CYCLES] + link_cycles
    chip[codes.FOLD_STAT_CYCLES] = chip[codes.FOLD_STAT_CYCLES_INCL_PREFETCH] = \
        slowest[codes.FOLD_STAT_CYCLES] + link_cycles
    return ChipRun(chip, link_bytes, link_cycles, adds)


def _multicast(chip: np.ndarray, runs: list[np.ndarray], weights: np.ndarray, split: ArraySplit, arch: ArchSpec,
               layer: Layer) -> None:
    """Count once (the most any array fetches) the operand every array reads whole, when it lives
    in a shared buffer: it crosses the channel once and is multicast. Edits ``chip`` in place."""
    if split not in _REPLICATED:
        return
    operand, index, precision = _REPLICATED[split]
    buffer = operand if getattr(arch.buffers, operand) is not None else "unified"
    if not arch.arrays.is_shared(buffer):
        return
    words = [int(run[index]) for run in runs]
    bits = getattr(layer.compression, precision).bits
    chip[index] -= int(weights @ words) - max(words)
    chip[codes.FOLD_STAT_DRAM_READ_BYTES] -= (sum(int(a) * _bytes(w, bits) for a, w in zip(weights, words))
                                              - _bytes(max(words), bits))


def _reduce(chip: np.ndarray, plan: SplitPlan, arch: ArchSpec, layer: Layer) -> tuple[int, int, int]:
    """``(link bytes, link cycles, additions)`` of the reduction split's tree (zeros otherwise); the
    final sums are written once, so ``chip`` loses the other arrays' output writes (in place)."""
    used = plan.arrays_used
    if plan.split is not ArraySplit.REDUCTION or used == 1:
        return 0, 0, 0
    problem = plan.problem
    outputs = problem.m * problem.n
    chip[codes.FOLD_STAT_OFMAP_DRAM_WRITES] -= (used - 1) * outputs * problem.repeats
    chip[codes.FOLD_STAT_DRAM_WRITE_BYTES] -= ((used - 1) * _bytes(outputs, layer.compression.act_precision.bits)
                                               * problem.repeats)
    tile = _bytes(outputs, arch.mac.accumulator_bits)
    link = arch.arrays.link
    step = link.latency_cycles + int(transfer_cycles(np.int64(tile), link.bandwidth.bytes_per_cycle(arch.clock_hz)))
    return (used - 1) * tile * problem.repeats, (used - 1).bit_length() * step * problem.repeats, \
        (used - 1) * outputs * problem.repeats


def _likely_share(plan: SplitPlan, arch: ArchSpec) -> float:
    """A guess of the share of the channel :func:`_share` gives each part of ``plan`` (the exact one
    needs the parts' bytes, hence a run; a wrong guess costs a second run): all of it to an array
    alone, and under ``rows``, where every array reads all of the weights and the chip fetches them
    once (the whole channel once they are most of the traffic: the memory plan keeps activations on
    chip where they fit); else ``1/count``, the least, which parts with disjoint traffic get."""
    return 1.0 if plan.arrays_used == 1 or plan.split is ArraySplit.ROWS else 1.0 / arch.arrays.count


def _share(run: np.ndarray, chip_bytes: int, arch: ArchSpec) -> float:
    """An array's share of the DRAM channel: its bytes over the chip's, at least ``1/count``, at most 1."""
    own = int(run[codes.FOLD_STAT_DRAM_READ_BYTES] + run[codes.FOLD_STAT_DRAM_WRITE_BYTES])
    return min(1.0, max(1.0 / arch.arrays.count, own / chip_bytes))
