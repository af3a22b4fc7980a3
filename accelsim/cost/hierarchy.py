"""Energy of a layer mapped onto a hierarchy: counts per level and fabric action times a price.

Prices, pJ, at the arch's node (each an existing accelsim model; nothing fitted to a chip):

* MAC: the MAC unit's actions per product (:mod:`accelsim.cost.mac_unit`, Horowitz ISSCC 2014).
* DRAM: bits x the DRAM kind's energy per bit (``tables/dram.yaml``).
* global buffer: the buffer's SRAM read or write per word (:func:`accelsim.cost.sram.sram_cost`,
  CACTI 7 power laws), an element of ``b`` bits costing ``b / word_bits`` words.
* register files and scratchpads (:func:`register_file_pj`): the same CACTI 7 power law at the
  partition's capacity, extrapolated below the table's smallest point (8 KB), and never less
  than reading the word from flip-flops (``tables/arithmetic_45nm.yaml``: register).
* fabric: a send drives a bus from the array edge across half the array's perimeter, in PE
  pitches (wire energy per bit-mm, the PE pitch from the area model); a delivery or a PE-to-PE
  partial-sum hop is one pitch of wire plus a register write (the native model's ``pe_transfer_bit``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.cost import scaling
from accelsim.cost.arith import register_energy_pj_per_bit, wire_energy_pj_per_bit_mm
from accelsim.cost.area import pe_area_um2
from accelsim.cost.energy import per_action_energy
from accelsim.cost.mac_unit import mac_actions
from accelsim.cost.sram import sram_cost
from accelsim.engine.hierarchy import HierarchyCounts
from accelsim.lower.loopnest import TENSORS
from accelsim.spec.arch import ArchSpec
from accelsim.spec.memo import spec_memo

def register_file_pj(size_bytes: int, word_bits: int, node_nm: float) -> tuple[float, float]:
    """(read, write) pJ per ``word_bits`` word of a ``size_bytes`` register file or scratchpad at
    ``node_nm``: the CACTI 7 SRAM power law in capacity (an extrapolation below 8 KB), floored at
    ``word_bits`` flip-flop accesses."""
    cost = sram_cost(size_bytes, word_bits)
    scale = scaling.energy_factor(45, node_nm)
    floor = word_bits * register_energy_pj_per_bit(node_nm)
    return max(cost.read_pj * scale, floor), max(cost.write_pj * scale, floor)


def _level_prices(arch: ArchSpec, table: dict[str, float],
                  bits: dict[str, int]) -> list[dict[str, tuple[float, float]]]:
    """(read, write) pJ per element of each tensor at each level, outermost first."""
    assert arch.hierarchy is not None
    dram = {t: (b * table["dram_read_bit"], b * table["dram_write_bit"]) for t, b in bits.items()}
    glb = {}
    for tensor in TENSORS:
        name = tensor if getattr(arch.buffers, tensor) is not None else "unified"
        words = bits[tensor] / arch.buffers.for_operand(tensor).word_bits
        glb[tensor] = (table[f"{name}_sram_read"] * words, table[f"{name}_sram_write"] * words)
    prices = [dram, glb]
    for level in arch.hierarchy.levels:
        inner = {}
        for tensor, size in level.sizes.items():
            read, write = register_file_pj(size, level.word_bits, arch.technology_nm)
            words = bits[tensor] / level.word_bits
            inner[tensor] = (read * words, write * words)
        prices.append(inner)
    return prices


def fabric_prices_pj_per_bit(arch: ArchSpec) -> tuple[float, float]:
    """(send, delivery or hop) pJ per bit on the PE array's fabric."""
    pitch_mm = math.sqrt(pe_area_um2(arch)) / 1000
    wire = wire_energy_pj_per_bit_mm(arch.technology_nm)
    hop = wire * pitch_mm + register_energy_pj_per_bit(arch.technology_nm)
    return wire * pitch_mm * (arch.array.rows + arch.array.cols) / 2, hop


@dataclass(frozen=True)
class Prices:
    """pJ of every priced action of a design at given operand widths (see the module docstring)."""

    mac_per_product: float
    levels: tuple[dict[str, tuple[float, float]], ...]  # per level: tensor -> (read, write) per element
    send_per_bit: float
    hop_per_bit: float


def prices(arch: ArchSpec, bits: dict[str, int]) -> Prices:
    """The prices of ``arch`` at ``bits`` per tensor (memoised per design and widths)."""
    return _cached_prices(arch, tuple(bits[t] for t in TENSORS))


@spec_memo(256)
def _cached_prices(arch: ArchSpec, key: tuple[int, ...]) -> Prices:
    bits = dict(zip(TENSORS, key))
    table = per_action_energy(arch)
    per_product = sum(n * table[name] for name, n in mac_actions(arch.mac, bits["filter"], bits["ifmap"]).items())
    send, hop = fabric_prices_pj_per_bit(arch)
    return Prices(per_product, tuple(_level_prices(arch, table, bits)), send, hop)


def hierarchy_energy(arch: ArchSpec, counts: HierarchyCounts, bits: dict[str, int]) -> dict[str, float]:
    """pJ by component: ``mac``, one entry per level (``dram``, ``global_buffer``, the hierarchy's
    level names) and ``noc``; their sum is the layer's dynamic energy."""
    price = prices(arch, bits)
    out = {"mac": counts.macs * price.mac_per_product}
    for level, level_prices in zip(counts.levels, price.levels):
        out[level.name] = sum(level.reads[t] * level_prices[t][0] + level.writes[t] * level_prices[t][1]
                              for t in TENSORS if t in level_prices)
    word = bits["ifmap"]  # fabric words are counted at the activation width (an approximation for filters)
    out["noc"] = (counts.noc_sends * price.send_per_bit + (counts.noc_deliveries + counts.noc_hops)
                  * price.hop_per_bit) * word
    return out
