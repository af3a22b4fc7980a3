"""Naive vector-unit model: places every element on a (group, wave, lane) and steps the lanes.

Written independently of ``accelsim.kernels.vector``: it builds the explicit assignment of
elements to lanes (``"lanes"``: a row side by side over the lanes, rows packed while they fit;
``"time"``: one lane per row, the row's elements one per wave), charges each lane its issue
slots wave by wave, runs the reduction tree by pairing the partial results of a row's lanes
until one is left, and tracks where each row lives between passes.
"""

from __future__ import annotations


def _groups(rows, row_len, lanes, mapping):
    """List of groups; each group is a list of rows; each row a list of (wave, lane) per element."""
    groups, current, next_lane = [], [], 0
    for _ in range(rows):
        if mapping == "time":  # the row in one lane, an element per wave
            if next_lane == lanes:
                groups.append(current)
                current, next_lane = [], 0
            current.append([(e, next_lane) for e in range(row_len)])
            next_lane += 1
            continue
        if row_len > lanes:  # a long row alone, wave by wave
            if current:
                groups.append(current)
                current, next_lane = [], 0
            groups.append([[(e // lanes, e % lanes) for e in range(row_len)]])
            continue
        if next_lane + row_len > lanes:
            groups.append(current)
            current, next_lane = [], 0
        current.append([(0, next_lane + e) for e in range(row_len)])
        next_lane += row_len
    if current:
        groups.append(current)
    return groups


def _cycles_for_slots(slots, opl):
    cycles = 0
    while slots > 0:
        slots -= opl
        cycles += 1
    return cycles


def ref_vector(elem_ops, row_ops, reduce_op, writes_row, op_slots, rows, row_len, inputs, lanes,
               ops_per_lane_per_cycle, local_capacity_elements, element_bits, read_port_bits, write_port_bits,
               mapping="lanes"):
    """Same outputs as the kernel under ``mapping`` ("lanes" or "time"): (stats dict, list of op counts per kind)."""
    kinds = len(op_slots)
    counts = [0] * kinds
    stats = dict(cycles=0, compute_cycles=0, sram_reads=0, sram_writes=0, local_reads=0, local_writes=0,
                 lane_slots=0)
    n_passes = len(elem_ops)
    for group in _groups(rows, row_len, lanes, mapping):
        elements_of_wave = {}  # wave -> {lane: elements placed there}
        for row in group:
            for wave, lane in row:
                lanes_of_wave = elements_of_wave.setdefault(wave, {})
                lanes_of_wave[lane] = lanes_of_wave.get(lane, 0) + 1
        assert all(n == 1 for placed in elements_of_wave.values() for n in placed.values())  # one element a slot
        elements = sum(len(row) for row in group)
        home = "registers" if len(elements_of_wave) == 1 else (
            "scratchpad" if elements <= local_capacity_elements else "sram")
        for q in range(n_passes):
            slots_per_element = sum(elem_ops[q][k] * op_slots[k] for k in range(kinds))
            compute = 0
            for wave in sorted(elements_of_wave):
                busy = {lane: n * slots_per_element for lane, n in elements_of_wave[wave].items()}
                for k in range(kinds):
                    counts[k] += elem_ops[q][k] * sum(elements_of_wave[wave].values())
                compute += _cycles_for_slots(max(busy.values()), ops_per_lane_per_cycle)
                stats["lane_slots"] += sum(busy.values())
            if reduce_op[q] >= 0:
                kind = reduce_op[q]
                partials = [len({lane for _, lane in row}) for row in group]  # lanes holding a partial
                steps = 0
                while max(partials) > 1:
                    for i, n in enumerate(partials):
                        pairs = n // 2
                        counts[kind] += pairs
                        stats["lane_slots"] += pairs * op_slots[kind]
                        partials[i] = n - pairs
                    steps += 1
                compute += steps * _cycles_for_slots(op_slots[kind], ops_per_lane_per_cycle)
            scalar = sum(row_ops[q][k] * op_slots[k] for k in range(kinds))
            for row in group:
                for k in range(kinds):
                    counts[k] += row_ops[q][k]
                stats["lane_slots"] += scalar
            compute += _cycles_for_slots(scalar, ops_per_lane_per_cycle)
            # memory
            reads = writes = 0
            if q == 0:
                reads = elements * inputs
            elif home == "sram":
                reads = elements
            elif home == "scratchpad":
                stats["local_reads"] += elements
            if writes_row[q]:
                if q == n_passes - 1 or home == "sram":
                    writes = elements
                elif home == "scratchpad":
                    stats["local_writes"] += elements
            elif q == n_passes - 1:
                writes = len(group)
            stats["sram_reads"] += reads
            stats["sram_writes"] += writes
            read_cycles = _cycles_for_slots(reads * element_bits, read_port_bits)
            write_cycles = _cycles_for_slots(writes * element_bits, write_port_bits)
            stats["compute_cycles"] += compute
            stats["cycles"] += max(compute, read_cycles, write_cycles)
    return stats, counts
