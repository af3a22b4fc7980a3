"""Area of a design per component, at its technology node, in um^2 and mm^2.

Components (table entries, each overridable from the arch YAML ``area:`` mapping, in um^2 per
unit at the design's node):

* ``mac_unit``, ``pe_registers``, ``pe_scratchpad``: one PE's MAC unit
  (:mod:`accelsim.cost.mac_unit`), its flip-flops (two operand registers of the widest listed
  width, a shadow stationary register when ``array.preload_overlap`` (ws/is), the accumulator,
  and an output register when ``array.output_overlap`` (os)), and its
  register file if ``array.pe_scratchpad`` is set; times ``rows * cols`` of every array.
* With several arrays (``arrays.count``), every array has its own buffers and accumulators
  except those ``arrays.shared`` lists (:func:`sram_copies`); the link is not priced (no
  sourced figure).
* ``<buffer>_sram`` for each of ``ifmap``, ``filter``, ``ofmap``, ``unified`` the design has,
  ``accumulators`` (``array.accumulators``), ``vector_buffer``: SRAMs (:mod:`accelsim.cost.sram`),
  built of 64-bit-port macros: a buffer bank's port is ``width_bits / banks``; the accumulators
  take one partial sum per array column per cycle (``cols * accumulator_bits`` bits).
* ``vector_unit``: ``lanes * ops_per_lane_per_cycle`` float multiply-add units of the unit's
  ``float_precision`` (``tables/design.yaml``).
* ``control_noc``: a stated fraction (``tables/design.yaml``) of everything above.

Die-level layout, what the per-cell tables leave out (``tables/design.yaml``, sourced there),
each its own row:

* ``logic_layout`` (group ``layout``): routing, clock buffers and filler around the standard
  cells (MAC units, PE registers and vector lanes fill ``standard_cell_utilization`` of their
  block, 70%): the cells' area x ``(1/0.7 - 1)``. PE-to-PE wiring is part of it.
* ``sram_halo`` (group ``layout``): the keep-out ring around every SRAM macro (one per 64 bits
  of a bank's port, per-PE register files one per PE), ``macro_halo_um`` wide, on a square macro. CACTI's
  area already includes each macro's periphery (decoders, sense amplifiers, its H-tree).
* ``dram_phy`` (group ``io``): DRAM controller, PHY and pads per channel of the arch's DRAM
  (channels = ``ceil(bandwidth / channel peak)``), for DRAM kinds with a sourced figure.

``total`` is the die; without the ``io`` group it is the core (compare with a published core
area; :func:`core_area_mm2`).

Areas are computed at 45 nm and scaled to the design's node: logic with
:func:`accelsim.cost.scaling.area_factor`, SRAM macros with :func:`accelsim.cost.sram.area_factor`
(CACTI 7's own area of a macro of that capacity at the node; SRAM cells shrink less).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from accelsim.cost import scaling
from accelsim.cost.arith import flip_flop_area_um2_per_bit, fp_adder, fp_multiplier
from accelsim.cost.mac_unit import mac_unit_area_um2, widest_operand_bits
from accelsim.cost.sram import area_factor as sram_area_factor
from accelsim.cost.sram import sram_cost
from accelsim.cost.tables import apply_overrides, load_table
from accelsim.spec.arch import ArchSpec, BufferSpec, Dataflow, precision_bits
from accelsim.spec.memo import spec_memo

BUFFER_NAMES = ("ifmap", "filter", "ofmap", "unified")


def buffers(arch: ArchSpec) -> dict[str, BufferSpec]:
    """The design's physical SRAM buffers by name (``ifmap``, ``filter``, ``ofmap``, ``unified``)."""
    return {name: buf for name in BUFFER_NAMES if (buf := getattr(arch.buffers, name)) is not None}


def scratchpad_sram(arch: ArchSpec):
    """The 45 nm cost of one PE's register file (None without ``array.pe_scratchpad``)."""
    if not arch.array.pe_scratchpad_bytes:
        return None
    return sram_cost(arch.array.pe_scratchpad_bytes, widest_operand_bits(arch.mac))


def sram_copies(arch: ArchSpec, name: str) -> int:
    """Physical copies of SRAM ``name`` (a buffer, ``accumulators`` or ``vector_buffer``): one per
    array unless ``arrays.shared`` lists it; the vector unit and its buffer are one per chip."""
    if name == "vector_buffer" or arch.arrays.is_shared(name):
        return 1
    return arch.arrays.count


def other_srams(arch: ArchSpec) -> dict[str, object]:
    """45 nm costs of the SRAMs that are not operand buffers: accumulators (one partial sum per
    array column per cycle through its port) and the vector buffer."""
    out = {}
    if arch.array.accumulators_bytes:
        psum = arch.mac.accumulator_bits
        out["accumulators"] = sram_cost(arch.array.accumulators_bytes, psum, bank_port_bits=arch.array.cols * psum)
    if arch.vector_unit is not None and arch.vector_unit.buffer_bytes:
        out["vector_buffer"] = sram_cost(arch.vector_unit.buffer_bytes, precision_bits(arch.vector_unit.float_precision))
    return out


def _pe_register_bits(arch: ArchSpec) -> int:
    """Two operand registers, the accumulator, a shadow stationary register (ws/is with
    ``preload_overlap``) and an output register (os with ``output_overlap``)."""
    widest = widest_operand_bits(arch.mac)
    os_array = arch.array.dataflow is Dataflow.OS
    shadow = widest if arch.array.preload_overlap and not os_array else 0
    output = arch.mac.accumulator_bits if arch.array.output_overlap and os_array else 0
    return 2 * widest + arch.mac.accumulator_bits + shadow + output


@dataclass(frozen=True)
class _Entry:
    """One area entry before overrides: um^2 per unit at the design's node, units, SRAM
    macros per unit (0 for logic) and the source."""

    unit_um2: float
    count: int
    macros: int
    source: str


def _default_entries(arch: ArchSpec) -> dict[str, _Entry]:
    """entry -> :class:`_Entry`, scaled to the design's node (logic and SRAM by their own factors)."""
    pes = arch.pes
    logic = scaling.area_factor(45, arch.technology_nm)
    node = arch.technology_nm
    entries = {
        "mac_unit": _Entry(mac_unit_area_um2(arch.mac) * logic, pes, 0,
                           f"{arch.mac.kind.value} MAC unit, Horowitz 45 nm fits"),
        "pe_registers": _Entry(_pe_register_bits(arch) * flip_flop_area_um2_per_bit() * logic, pes, 0,
                               f"{_pe_register_bits(arch)} flip-flops per PE (NanGate 45 nm DFF)"),
    }
    spad = scratchpad_sram(arch)
    if spad is not None:
        entries["pe_scratchpad"] = _Entry(spad.area_um2 * sram_area_factor(node, spad.macro_kib), pes, spad.macros,
                                          "per-PE register file, CACTI 7")
    for name, buf in buffers(arch).items():
        cost = sram_cost(buf.size_bytes, buf.word_bits, buf.banks, buf.ports, buf.port_width_bits // buf.banks)
        entries[f"{name}_sram"] = _Entry(cost.area_um2 * sram_area_factor(node, cost.macro_kib),
                                         sram_copies(arch, name), cost.macros,
                                         f"{buf.size_bytes} B, {buf.banks} banks, {buf.ports} ports, "
                                         f"{cost.macros} 64-bit-port macros, CACTI 7")
    for name, cost in other_srams(arch).items():
        entries[name] = _Entry(cost.area_um2 * sram_area_factor(node, cost.macro_kib), sram_copies(arch, name),
                               cost.macros,
                               f"{cost.macros} 64-bit-port macros, CACTI 7")
    if arch.vector_unit is not None:
        bits = precision_bits(arch.vector_unit.float_precision)
        lanes = arch.vector_unit.lanes * arch.vector_unit.ops_per_lane_per_cycle
        lane_um2 = fp_multiplier(arch.vector_unit.float_precision).area_um2 + fp_adder(bits).area_um2
        entries["vector_unit"] = _Entry(lane_um2 * logic, lanes, 0,
                                        f"{arch.vector_unit.float_precision} multiply-add per lane, Horowitz 45 nm")
    return entries


AREA_COLUMNS = ("component", "group", "count", "unit_area_um2", "area_um2", "source")
"""The columns of :func:`area_rows`' tuples (:func:`area` adds ``area_mm2`` before ``source``)."""


def total_area_um2(arch: ArchSpec) -> float:
    """The die's area, um^2: the ``total`` row of :func:`area`."""
    return float(area_rows(arch)[-1][4])


def area_entries(arch: ArchSpec) -> dict[str, float]:
    """um^2 per unit of every area entry at the design's node, the user's overrides applied."""
    return {row[0]: float(row[3]) for row in area_rows(arch) if row[1] != "total"}


def area(arch: ArchSpec) -> pd.DataFrame:
    """Area breakdown of ``arch``: one row per component and a ``total`` row.

    Returns
    -------
    DataFrame
        Columns ``component``, ``group`` (``pe_array``, ``sram``, ``vector``, ``overhead``,
        ``layout``, ``io``, and ``total`` for the die), ``count``, ``unit_area_um2``,
        ``area_um2``, ``area_mm2``, ``source``. A copy of the design's memoised table
        (:func:`accelsim.spec.memo.spec_memo`): the caller may edit it.
    """
    return _area_table(arch).copy()


@spec_memo(256)
def _area_table(arch: ArchSpec) -> pd.DataFrame:
    """:func:`area`'s table, built from :func:`area_rows` (callers in this package read it and do not edit it)."""
    frame = pd.DataFrame(list(area_rows(arch)), columns=list(AREA_COLUMNS))
    frame.insert(5, "area_mm2", frame["area_um2"] / 1e6)
    return frame


@spec_memo(256)
def area_rows(arch: ArchSpec) -> tuple[tuple, ...]:
    """:func:`area`'s rows as plain tuples (:data:`AREA_COLUMNS`), the ``total`` row last: what the
    simulator reads per design (no DataFrame on its path). Memoised per design; do not edit."""
    design = load_table("design")
    defaults = _default_entries(arch)
    valid = {name: entry.unit_um2 for name, entry in defaults.items()} | {"control_noc": math.nan, "dram_phy": math.nan}
    overridden = apply_overrides(valid, arch.area, "area", arch.name)
    rows = []
    for name, entry in defaults.items():
        unit = overridden[name]
        note = "user override (arch YAML area:)" if name in arch.area else entry.source
        rows.append((name, _group(name), entry.count, unit, unit * entry.count, note))
    if "control_noc" in arch.area:
        control, note = arch.area["control_noc"], "user override (arch YAML area:)"
    else:
        control = design["control_noc_fraction"] * sum(r[4] for r in rows)
        note = f"{design['control_noc_fraction']:.0%} of the rest (accelsim assumption, tables/design.yaml)"
    rows.append(("control_noc", "overhead", 1, control, control, note))
    rows += _layout_rows(arch, rows, defaults, design)
    rows += _io_rows(arch, design)
    rows.append(("total", "total", 1, math.nan, sum(r[4] for r in rows), f"die at {arch.technology_nm:g} nm"))
    return tuple(rows)


@spec_memo(256)
def area_metrics_mm2(arch: ArchSpec) -> dict[str, float]:
    """``area_mm2`` (the die), ``area_core_mm2`` (:func:`core_area_mm2`) and ``area_<group>_mm2`` for
    every group in the order :func:`area` lists them, summed as ``area(arch).groupby("group",
    sort=False)["area_mm2"].sum()`` sums them (the same pandas sum, the same last bits) but from
    :func:`area_rows`, without the table. Memoised per design; do not edit."""
    rows = area_rows(arch)
    mm2 = np.array([float(row[4]) for row in rows]) / 1e6
    groups = [row[1] for row in rows]
    by_group = pd.Series(mm2).groupby(groups, sort=False).sum()
    core = mm2[[group not in ("io", "total") for group in groups]]
    return {"area_mm2": float(by_group["total"]), "area_core_mm2": float(core.sum())} | {
        f"area_{group}_mm2": float(value) for group, value in by_group.items() if group != "total"}


LOGIC = ("mac_unit", "pe_registers", "vector_unit")
"""Components built of standard cells (the rest are SRAM macros or overheads)."""


def _halo_um(arch: ArchSpec, design) -> float:
    """Width of the keep-out ring around a macro at the design's node (scaled with its linear size)."""
    return design["macro_halo_um_45nm"] * math.sqrt(scaling.area_factor(45, arch.technology_nm))


def _ring_um2(macro_um2: float, halo_um: float) -> float:
    """Area of a ``halo_um`` ring around a square macro of ``macro_um2``."""
    side = math.sqrt(macro_um2)
    return (side + 2 * halo_um) ** 2 - side**2


def _layout_rows(arch: ArchSpec, rows: list[tuple], entries: dict[str, _Entry], design) -> list[tuple]:
    """``logic_layout`` and ``sram_halo`` rows (component, group, count, unit um^2, um^2, source)."""
    utilization = design["standard_cell_utilization"]
    cells = sum(r[4] for r in rows if r[0] in LOGIC)
    logic = cells * (1 / utilization - 1)
    halo = _halo_um(arch, design)
    macros = 0
    ring = 0.0
    for name, _, count, unit, _, _ in rows:
        per_unit = entries[name].macros if name in entries else 0
        if per_unit:
            ring += count * per_unit * _ring_um2(unit / per_unit, halo)
            macros += count * per_unit
    return [("logic_layout", "layout", 1, logic, logic,
             f"standard cells fill {utilization:.0%} of their block (tables/design.yaml)"),
            ("sram_halo", "layout", macros, ring / macros if macros else 0.0, ring,
             f"{halo:.1f} um keep-out ring around each of {macros} SRAM macros (tables/design.yaml)")]


def sram_halo_shares_um2(arch: ArchSpec) -> dict[str, float]:
    """The ``sram_halo`` row split by SRAM component (um^2 of ring around that component's macros)."""
    table = _area_table(arch).set_index("component")
    halo = _halo_um(arch, load_table("design"))
    return {name: table.loc[name, "count"] * entry.macros * _ring_um2(table.loc[name, "unit_area_um2"] / entry.macros,
                                                                        halo)
            for name, entry in _default_entries(arch).items() if entry.macros}


def _io_rows(arch: ArchSpec, design) -> list[tuple]:
    """The ``dram_phy`` row: controller + PHY + pads per DRAM channel (none if not sourced or unlimited)."""
    phy = design["dram_phy"].get(arch.dram.kind.value)
    bandwidth = arch.dram.bandwidth
    if "dram_phy" in arch.area:
        return [("dram_phy", "io", 1, arch.area["dram_phy"], arch.area["dram_phy"], "user override (arch YAML area:)")]
    if phy is None or bandwidth is None or bandwidth.per_cycle:
        why = "no DRAM bandwidth in bytes/s" if phy else f"no sourced {arch.dram.kind.value} PHY area"
        return [("dram_phy", "io", 0, 0.0, 0.0, f"not priced: {why} (set area: {{dram_phy: ...}})")]
    channels = math.ceil(bandwidth.bytes_per_unit / phy["channel_bytes_per_s"] - 1e-9)
    unit = phy["channel_mm2"] * 1e6
    return [("dram_phy", "io", channels, unit, unit * channels,
             f"{channels} {arch.dram.kind.value} channel(s), controller + PHY + pads (tables/design.yaml)")]


def _group(name: str) -> str:
    if name in ("mac_unit", "pe_registers", "pe_scratchpad"):
        return "pe_array"
    if name == "vector_unit":
        return "vector"
    return "sram"


def core_area_mm2(table: pd.DataFrame) -> float:
    """The core of an :func:`area` table: the die without its ``io`` group, mm^2."""
    return float(table.loc[~table["group"].isin(["io", "total"]), "area_mm2"].sum())


def pe_area_um2(arch: ArchSpec) -> float:
    """Area of one PE (MAC unit, registers, register file) at the design's node."""
    entries = area_entries(arch)
    return sum(entries.get(name, 0.0) for name in ("mac_unit", "pe_registers", "pe_scratchpad"))
