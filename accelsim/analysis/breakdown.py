"""Where a network's time and energy go: GEMM, nonlinear (vector) work, data movement.

Works on a :class:`~accelsim.result.Result` from :func:`accelsim.simulate`; vector layers'
op counts come from :func:`accelsim.engine.vector.vector_layer_counts`, energies from
:mod:`accelsim.cost.vector` (per-action tables of :mod:`accelsim.cost`).

* time: an array layer's ``compute_cycles`` are GEMM and its ``stall_cycles`` data movement; a
  vector layer's exposed ``cycles`` are split between nonlinear and data movement in the ratio
  of its issue cycles to its memory-bound excess;
* energy (dynamic only; leakage is not included): GEMM is MACs x MAC-unit energy; nonlinear is
  vector ops x op energy; data movement is SRAM and scratchpad accesses x word energy plus DRAM
  bytes x DRAM energy.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from accelsim.cost import scaling
from accelsim.cost.mac_unit import mac_actions, mac_energy_entries
from accelsim.cost.vector import dram_energy_pj_per_byte, scratchpad_energy_pj, sram_word_energy_pj, vector_op_energy_pj
from accelsim.engine.vector import INTEGER_BITS, OP_COLUMNS, vector_layer_counts
from accelsim.result import Result
from accelsim.spec.arch import precision_bits
from accelsim.spec.workload import ImplKind
from accelsim.vector.program import op_slots

CATEGORIES = ("gemm", "nonlinear", "data_movement")


def layer_breakdown(result: Result) -> pd.DataFrame:
    """Per layer: ``layer``, ``op``, ``cycles`` and ``energy_pj`` split into the three categories.

    Columns ``<category>_cycles`` (float: a vector layer's exposed cycles are split
    proportionally) and ``<category>_energy_pj``.
    """
    arch, layers = result.arch, result.layers
    mac = mac_energy_entries(arch.mac)
    node = scaling.energy_factor(45.0, arch.technology_nm)
    dram_pj = dram_energy_pj_per_byte(arch)
    ifmap_r, _ = sram_word_energy_pj(arch, "ifmap")
    filter_r, _ = sram_word_energy_pj(arch, "filter")
    ofmap_r, ofmap_w = sram_word_energy_pj(arch, "ofmap")
    op_pj = vector_op_energy_pj(arch, op_slots(arch)) if arch.vector_unit else {}
    rows = []
    for layer, row in zip(result.network.layers, layers.itertuples(index=False)):
        out = {"layer": layer.name, "op": layer.op.value, "cycles": float(row.cycles) if row.costed else np.nan}
        out |= {f"{c}_{unit}": 0.0 for c in CATEGORIES for unit in ("cycles", "energy_pj")}
        dram = (int(row.dram_read_bytes) + int(row.dram_write_bytes)) * dram_pj if row.costed else 0.0
        if layer.macs and row.costed:
            bits = layer.compression
            per_product = sum(n * mac[a] for a, n in mac_actions(arch.mac, bits.weight_bits, bits.act_bits).items())
            out["gemm_energy_pj"] = layer.macs * per_product * node
            out["gemm_cycles"] = float(row.compute_cycles)
            out["data_movement_cycles"] = float(row.cycles - row.compute_cycles)
            out["data_movement_energy_pj"] = dram + (
                int(row.ifmap_sram_reads) * ifmap_r + int(row.filter_sram_reads) * filter_r
                + int(row.ofmap_sram_writes) * ofmap_w + int(row.ofmap_sram_reads) * ofmap_r)
        elif row.costed:
            counts = vector_layer_counts(arch, layer)
            impl = layer.compression.nonlinear_impl
            share = counts["vector_compute_cycles"] / counts["cycles"] if counts["cycles"] else 0.0
            out["nonlinear_cycles"] = float(row.cycles) * share
            out["data_movement_cycles"] = float(row.cycles) * (1 - share)
            out["nonlinear_energy_pj"] = sum(counts[OP_COLUMNS[op]] * e for op, e in op_pj.items())
            word = arch.buffers.for_operand("ifmap").word_bits
            element = layer.compression.act_precision.bits / word
            scratch_bits = INTEGER_BITS if impl.kind is ImplKind.IBERT else precision_bits(arch.vector_unit.float_precision)
            local_r, local_w = scratchpad_energy_pj(arch, scratch_bits)
            out["data_movement_energy_pj"] = dram + element * (
                counts["vector_sram_reads"] * ifmap_r + counts["vector_sram_writes"] * ofmap_w) + (
                counts["vector_local_reads"] * local_r + counts["vector_local_writes"] * local_w)
        out["energy_pj"] = sum(out[f"{c}_energy_pj"] for c in CATEGORIES)
        rows.append(out)
    return pd.DataFrame(rows)


def breakdown(result: Result) -> pd.DataFrame:
    """One row per category (gemm, nonlinear, data_movement): ``cycles``, ``energy_pj`` and their shares."""
    per_layer = layer_breakdown(result)
    cycles = np.array([per_layer[f"{c}_cycles"].sum() for c in CATEGORIES])
    energy = np.array([per_layer[f"{c}_energy_pj"].sum() for c in CATEGORIES])
    return pd.DataFrame({"category": CATEGORIES, "cycles": cycles, "energy_pj": energy,
                         "cycles_share": cycles / cycles.sum(), "energy_share": energy / energy.sum()})
