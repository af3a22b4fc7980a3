"""Plain-Python reference of the mapper's kernels (``accelsim.kernels.mapping``; never imports the kernels).

A candidate mapping's exact native counters, from the numpy lowering
(``accelsim.lower.tiling.mapped_schedule``) and the naive timelines of :mod:`reference.systolic_ref`:
fold durations from the start-to-start rule of ``docs/timing_models.md``, the memory timeline
stepped cycle by cycle.
"""

from __future__ import annotations

from accelsim.lower.schedule import transfer_cycles
from accelsim.lower.tiling import mapped_schedule
from accelsim.spec.arch import Dataflow
from reference.systolic_ref import ref_double_buffer, ref_fold_cycles, ref_os_overlapped_starts


def ref_durations(overlap: bool, big_r: int, folds: list[tuple[int, int, int]]) -> list[int]:
    """Cycles each fold adds, ``folds`` = [(r, c, T), ...]: ``r + T + R + c - 2`` each; with
    preload overlap the spacing of consecutive stream starts (``s_0 = r_0``, ``s_{f+1} = s_f +
    max(T_f, r_{f+1})``), the last running to the end of every fold."""
    if not overlap:
        return [r + t + big_r + c - 2 for r, c, t in folds]
    starts = [folds[0][0]]
    for before, after in zip(folds, folds[1:]):
        starts.append(starts[-1] + max(before[2], after[0]))
    finish = max(s + t + big_r + c - 2 for s, (_, c, t) in zip(starts, folds))
    ends = starts[1:] + [finish]
    return [end - previous for end, previous in zip(ends, [0] + ends[:-1])]


def ref_os_durations(overlap: bool, broadcast: bool, big_r: int, folds: list[tuple[int, int, int]]) -> list[int]:
    """Cycles each os fold adds: one fold after another (:func:`ref_fold_cycles`), or with output
    registers the spacing of the stream starts (:func:`ref_os_overlapped_starts`), the last running
    to the end of every fold."""
    if not overlap:
        return [ref_fold_cycles("os", big_r, r, c, t, broadcast) for r, c, t in folds]
    starts, finish = ref_os_overlapped_starts(big_r, folds, broadcast)
    ends = starts[1:] + [finish]
    return [end - previous for end, previous in zip(ends, [0] + ends[:-1])]


def ref_candidate_counts(problem, arch, mapping, rate, weight_bits: int, act_bits: int) -> dict[str, int] | None:
    """Counters of one repeat of ``problem`` under ``mapping`` by name, ``None`` if it does not fit."""
    s = mapped_schedule(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
    if not s.fits_buffers:
        return None
    folds = list(zip(s.rows_used.tolist(), s.cols_used.tolist(), s.stream_cycles.tolist()))
    if mapping.dataflow is Dataflow.OS:
        durations = ref_os_durations(s.preload_overlap, s.broadcast, s.array_rows, folds)
    else:
        durations = ref_durations(s.preload_overlap, s.array_rows, folds)
    operands = ("ifmap", "filter", "ofmap", "ofmap")
    channel = [("ifmap", "filter", "ofmap").index(op) if arch.dram.per_operand else 0 for op in operands]
    xfer = [[0] * 4 for _ in folds]
    for x, operand in enumerate(operands):
        bandwidth = arch.dram_bytes_per_cycle(operand)
        if bandwidth is not None:
            for f, cycles in enumerate(transfer_cycles(s.dram_bytes[:, x], bandwidth).tolist()):
                xfer[f][x] = cycles
    sram, nbytes = s.sram_words.sum(axis=0).tolist(), s.dram_bytes.sum(axis=0).tolist()
    return {"cycles": ref_double_buffer(durations, xfer, channel, arch.dram.latency_cycles,
                                        s.prefetch_overlap, s.drain_overlap),
            "compute_cycles": sum(durations), "ifmap_sram_reads": sram[0], "filter_sram_reads": sram[1],
            "ofmap_sram_writes": sram[2], "ofmap_sram_reads": sram[3],
            "dram_read_bytes": nbytes[0] + nbytes[1] + nbytes[3], "dram_write_bytes": nbytes[2]}
