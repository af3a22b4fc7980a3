"""Energy of vector-unit ops and of the memory accesses of a layer, from the cost tables.

Per-action figures come from :mod:`accelsim.cost` (Horowitz 45 nm arithmetic, CACTI-fitted
SRAM, per-interface DRAM), scaled to the arch's node. How a vector op maps onto them (stated
assumptions, not measured figures):

* fadd, fcmp: a floating-point adder of the unit's precision; fmul: a multiplier;
* iadd, icmp, shift, cvt: a 32-bit integer adder; imul: a 32 x 32-bit multiplier (I-BERT's
  int32 intermediates);
* fexp, fdiv, fsqrt, idiv: an iterative unit doing one multiply and one add per issue slot,
  for as many slots as the arch gives the op (``exp_cycles`` ...), the same slots the timing
  model charges;
* table: a read of one 32-bit entry from a register-file table.
"""

from __future__ import annotations

from collections.abc import Mapping

from accelsim.cost import arith, scaling
from accelsim.cost.sram import sram_cost
from accelsim.cost.tables import load_table
from accelsim.spec.arch import ArchSpec, precision_bits
from accelsim.vector.program import VectorOp

_BASE_NM = 45.0
_INT_BITS = 32
_TABLE_ENTRY_BITS = 32


def vector_op_energy_pj(arch: ArchSpec, slots: Mapping[VectorOp, int]) -> dict[VectorOp, float]:
    """Energy (pJ) of one op of each kind on ``arch``'s vector unit; ``slots`` as charged by the timing."""
    fbits = precision_bits(arch.vector_unit.float_precision)
    fadd, fmul = arith.fp_adder(fbits).energy_pj, arith.fp_multiplier(arch.vector_unit.float_precision).energy_pj
    iadd, imul = arith.int_adder(_INT_BITS).energy_pj, arith.int_multiplier(_INT_BITS * _INT_BITS).energy_pj
    scale = scaling.energy_factor(_BASE_NM, arch.technology_nm)
    at_45nm = {
        VectorOp.FADD: fadd, VectorOp.FCMP: fadd, VectorOp.FMUL: fmul,
        VectorOp.FEXP: slots[VectorOp.FEXP] * (fadd + fmul),
        VectorOp.FDIV: slots[VectorOp.FDIV] * (fadd + fmul),
        VectorOp.FSQRT: slots[VectorOp.FSQRT] * (fadd + fmul),
        VectorOp.IADD: iadd, VectorOp.ICMP: iadd, VectorOp.SHIFT: iadd, VectorOp.CVT: iadd,
        VectorOp.IMUL: imul, VectorOp.IDIV: slots[VectorOp.IDIV] * (iadd + imul),
    }
    energy = {op: e * scale for op, e in at_45nm.items()}
    energy[VectorOp.TABLE] = _TABLE_ENTRY_BITS * arith.register_energy_pj_per_bit(arch.technology_nm)
    return energy


def sram_word_energy_pj(arch: ArchSpec, operand: str) -> tuple[float, float]:
    """(read, write) energy in pJ of one word of the buffer holding ``operand`` on ``arch``."""
    buffer = arch.buffers.for_operand(operand)
    cost = sram_cost(buffer.size_bytes, buffer.word_bits, buffer.banks, buffer.ports)
    scale = scaling.energy_factor(_BASE_NM, arch.technology_nm)
    return cost.read_pj * scale, cost.write_pj * scale


def scratchpad_energy_pj(arch: ArchSpec, word_bits: int) -> tuple[float, float]:
    """(read, write) pJ of one ``word_bits`` access to the vector unit's scratchpad (0 if it has none)."""
    size = arch.vector_unit.buffer_bytes
    if size == 0:
        return 0.0, 0.0
    cost = sram_cost(size, word_bits)
    scale = scaling.energy_factor(_BASE_NM, arch.technology_nm)
    return cost.read_pj * scale, cost.write_pj * scale


def dram_energy_pj_per_byte(arch: ArchSpec) -> float:
    """Energy of moving one byte to or from DRAM (off chip: not scaled with the node)."""
    return 8 * float(load_table("dram")[arch.dram.kind.value]["energy_pj_per_bit"])
