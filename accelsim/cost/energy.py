"""Energy: the simulator's action counts times per-action energies, plus leakage x time.

:func:`per_action_energy` builds the table for one design (its node, SRAM sizes, MAC kind,
DRAM kind, the user's overrides); :func:`layer_energy` multiplies a per-layer count DataFrame
by it. Each component is an exact sum of ``count x entry``. Counts the simulator reports are
used as they are; three are *derived* here from them, and are stated as such:

* MAC unit actions per product (``mult_<fmt>``, ``accumulate``, ``accumulate_fp``,
  ``bitfusion_brick``, ``bit_serial_step``) from the operand formats (``weight_precision``,
  ``act_precision``; integer widths when those columns are absent), by :func:`accelsim.cost.mac_unit.mac_actions`;
  products are ``macs - gated_macs - skipped_macs`` (gated and skipped products cost nothing
  in the MAC unit).
* PE register traffic: every product that is not skipped reads its weight, its activation and
  the partial sum, and writes the partial sum back (``weight_bits + act_bits +
  accumulator_bits`` bits read, ``accumulator_bits`` written).
* PE-to-PE hops: every product that is not skipped passes two values to a neighbour PE: the
  moving input and the partial sum (ws: activation + partial sum; is: weight + partial sum;
  os: activation + weight). A hop costs a wire across one PE pitch plus a register write.

SRAM counts are elements; an element of ``b`` bits costs ``b / word_bits`` word accesses of its
buffer (ifmap and ofmap elements at ``act_bits``, filter elements at ``weight_bits``). DRAM
costs ``bytes x 8 x`` energy per bit of the DRAM kind. With ``sram_leakage: true`` in the
arch, leakage is ``cycles x`` the design's SRAM leakage per cycle (CACTI 7 itrs-hp cells, an
upper bound: off by default, since it would dominate low-power designs; logic leakage is not
modelled). With several arrays (``docs/multi_array.md``), private SRAMs leak once per array; the
reduction split's ``link_bytes`` cost the arch's ``arrays.link.energy_per_byte`` (entry
``link_byte``) and its ``reduction_adds`` one accumulator-width adder each (``reduction_add``:
a float adder when the MAC unit lists float formats, else an integer one), in ``energy_link_pj``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from accelsim.cost import scaling
from accelsim.cost.arith import fp_adder, fp_multiplier, int_adder, register_energy_pj_per_bit, wire_energy_pj_per_bit_mm
from accelsim.cost.area import area_metrics_mm2, buffers, other_srams, pe_area_um2, scratchpad_sram, sram_copies
from accelsim.cost.mac_unit import mac_actions, mac_energy_entries, widest_operand_bits
from accelsim.cost.sram import sram_cost
from accelsim.cost.tables import apply_overrides, load_table
from accelsim.cost.vector import vector_op_energy_pj
from accelsim.spec.arch import ArchSpec, Dataflow, precision_bits
from accelsim.spec.memo import spec_memo
from accelsim.spec.number_format import number_format
from accelsim.vector.program import op_slots

# (component, element count column, kind of access, operand bits column)
SRAM_COUNTS = (
    ("ifmap", "ifmap_sram_reads", "read", "act_bits"),
    ("filter", "filter_sram_reads", "read", "weight_bits"),
    ("ofmap", "ofmap_sram_writes", "write", "act_bits"),
    ("ofmap", "ofmap_sram_reads", "read", "act_bits"),
)


def per_action_energy(arch: ArchSpec) -> dict[str, float]:
    """Energy of every action of ``arch`` (a fresh copy of the design's cached table); see
    :func:`_action_table`."""
    return dict(_action_table(arch))


@spec_memo(256)
def _action_table(arch: ArchSpec) -> dict[str, float]:
    """Energy of every action of ``arch``, pJ, at its technology node, the user's overrides applied.

    Entries: the MAC unit's (:mod:`accelsim.cost.mac_unit`); ``register_read_bit``,
    ``register_write_bit`` (the PE register file if ``array.pe_scratchpad``, else flip-flops);
    ``pe_transfer_bit`` (one bit, one PE hop); ``<buffer>_sram_read``/``_write`` per word for
    each buffer; ``dram_read_bit``/``dram_write_bit``; with a vector unit, ``vector_op`` (a
    generic fmul + fadd) and ``vector_<kind>_op`` per primitive op kind
    (:func:`accelsim.cost.vector.vector_op_energy_pj`);
    ``leakage_<sram>`` per cycle for every SRAM (``pe_scratchpad`` for all PEs together) when
    ``arch.sram_leakage`` is set.

    Raises
    ------
    ConfigError
        If ``arch.energy`` names an entry this design does not have.
    """
    node = arch.technology_nm
    scale = scaling.energy_factor(45, node)
    entries = {name: pj * scale for name, pj in mac_energy_entries(arch.mac).items()}

    spad = scratchpad_sram(arch)
    if spad is None:
        entries["register_read_bit"] = entries["register_write_bit"] = register_energy_pj_per_bit(node)
    else:
        word = widest_operand_bits(arch.mac)
        entries["register_read_bit"] = spad.read_pj / word * scale
        entries["register_write_bit"] = spad.write_pj / word * scale
    pitch_mm = math.sqrt(pe_area_um2(arch)) / 1000
    entries["pe_transfer_bit"] = wire_energy_pj_per_bit_mm(node) * pitch_mm + register_energy_pj_per_bit(node)

    cycle_s = 1.0 / arch.clock_hz
    srams = {f"{name}_sram": sram_cost(buf.size_bytes, buf.word_bits, buf.banks, buf.ports)
             for name, buf in buffers(arch).items()}
    for name, cost in srams.items():
        entries[f"{name}_read"] = cost.read_pj * scale
        entries[f"{name}_write"] = cost.write_pj * scale
    if arch.sram_leakage:
        leaking = srams | other_srams(arch)
        for name, cost in leaking.items():
            copies = sram_copies(arch, name.removesuffix("_sram"))
            entries[f"leakage_{name}"] = _leakage_pj_per_cycle(cost.leakage_uw * copies, scale, cycle_s)
        if spad is not None:
            entries["leakage_pe_scratchpad"] = _leakage_pj_per_cycle(spad.leakage_uw * arch.pes, scale, cycle_s)

    if arch.arrays.count > 1:  # several arrays: the reduction split's link bytes and partial-sum additions
        if arch.arrays.link.energy_pj_per_byte is not None:
            entries["link_byte"] = arch.arrays.link.energy_pj_per_byte
        floats = any(number_format(p).is_float for p in arch.mac.precisions)
        adder = fp_adder(arch.mac.accumulator_bits) if floats else int_adder(arch.mac.accumulator_bits)
        entries["reduction_add"] = adder.energy_pj * scale
    dram = load_table("dram")[arch.dram.kind.value]["energy_pj_per_bit"]
    entries["dram_read_bit"] = entries["dram_write_bit"] = float(dram)
    if arch.vector_unit is not None:
        fmt = arch.vector_unit.float_precision
        entries["vector_op"] = (fp_multiplier(fmt).energy_pj + fp_adder(precision_bits(fmt)).energy_pj) * scale
        # one entry per primitive op kind (the vector engineer's figures, docs/transformers.md)
        for op, pj in vector_op_energy_pj(arch, op_slots(arch)).items():
            entries[f"vector_{op.value}_op"] = pj
    return apply_overrides(entries, arch.energy, "energy", arch.name)


def _leakage_pj_per_cycle(power_uw: float, scale: float, cycle_s: float) -> float:
    """Leakage energy per cycle; leakage power is scaled between nodes like dynamic energy."""
    return power_uw * 1e-6 * scale * cycle_s * 1e12


def _hop_bits(arch: ArchSpec, weight_bits: np.ndarray, act_bits: np.ndarray) -> np.ndarray:
    psum = arch.mac.accumulator_bits
    if arch.array.dataflow is Dataflow.WS:
        return act_bits + psum
    if arch.array.dataflow is Dataflow.IS:
        return weight_bits + psum
    return act_bits + weight_bits


def _mac_energy_per_product(arch: ArchSpec, table: Mapping[str, float], weight: np.ndarray,
                            act: np.ndarray) -> np.ndarray:
    """pJ per product of each row, from its operand formats (names, or integer widths)."""
    pairs = list(zip(weight.tolist(), act.tolist()))
    per_pair = {pair: sum(count * table[name] for name, count in mac_actions(arch.mac, *pair).items())
                for pair in set(pairs)}
    return np.array([per_pair[pair] for pair in pairs], dtype=float)


def layer_energy(layers: pd.DataFrame, arch: ArchSpec) -> pd.DataFrame:
    """Per-layer energy by component, pJ, from the simulator's per-layer counts.

    Parameters
    ----------
    layers : DataFrame
        One row per layer with count columns (``macs``, ``ifmap_sram_reads``, ...,
        ``dram_read_bytes``, ``cycles``; optionally ``gated_macs``, ``skipped_macs``,
        ``vector_ops`` priced at the generic ``vector_op``, ``vector_<kind>_ops`` priced per kind
        at ``vector_<kind>_op``), ``weight_bits``, ``act_bits`` and optionally ``costed``.
    arch : ArchSpec

    Returns
    -------
    DataFrame
        Same index; ``energy_<component>_pj`` for every component whose counts are present
        (``mac``, ``register``, ``pe_transfer``, ``ifmap_sram``, ``filter_sram``,
        ``ofmap_sram``, ``dram``, ``vector``, ``leakage``) and their sum ``energy_pj``. Rows
        with ``costed == False`` are NaN.
    """
    costed = layers["costed"].to_numpy(dtype=bool) if "costed" in layers else np.ones(len(layers), dtype=bool)
    return pd.DataFrame(energy_columns(_FrameColumns(layers), costed, arch), index=layers.index)


class _FrameColumns(Mapping):
    """A DataFrame's columns as numpy arrays, converted on access: numbers as floats (missing
    values 0), anything else as objects."""

    def __init__(self, frame: pd.DataFrame):
        self._frame = frame

    def __getitem__(self, name: str) -> np.ndarray:
        series = self._frame[name]
        if pd.api.types.is_numeric_dtype(series.dtype):
            return series.to_numpy(dtype=float, na_value=0.0)
        return series.to_numpy(dtype=object)

    def __iter__(self):
        return iter(self._frame.columns)

    def __len__(self) -> int:
        return len(self._frame.columns)


def energy_columns(columns: Mapping[str, np.ndarray], costed: np.ndarray, arch: ArchSpec) -> dict[str, np.ndarray]:
    """:func:`layer_energy` on plain arrays: ``columns`` maps the count column names to one value
    per layer (numbers; ``weight_precision``/``act_precision`` as format names), ``costed`` (bool)
    says which layers are costed. Returns ``energy_<component>_pj`` and ``energy_pj``, float
    arrays with NaN where not costed (the simulator's lean path: no DataFrame on the way)."""
    table = per_action_energy(arch)
    present = set(columns)

    def column(name: str) -> np.ndarray:
        """The costed rows of ``name`` as floats (zeros if the column is absent)."""
        if name not in present:
            return np.zeros(int(costed.sum()))
        return np.asarray(columns[name], dtype=float)[costed]

    parts: dict[str, np.ndarray] = {}
    if "macs" in present:
        weight_bits, act_bits = _operand_bits(present, column, "macs")
        skipped = column("skipped_macs")
        products = column("macs") - column("gated_macs") - skipped
        active = products > 0
        per_product = np.zeros_like(products)
        if active.any():
            weight, act = _operand_formats(columns, costed, weight_bits, act_bits)
            per_product[active] = _mac_energy_per_product(arch, table, weight[active], act[active])
        parts["mac"] = products * per_product
        moved = column("macs") - skipped
        acc = arch.mac.accumulator_bits
        parts["register"] = moved * ((weight_bits + act_bits + acc) * table["register_read_bit"]
                                     + acc * table["register_write_bit"])
        parts["pe_transfer"] = moved * _hop_bits(arch, weight_bits, act_bits) * table["pe_transfer_bit"]

    for operand, count, kind, bits_column in SRAM_COUNTS:
        if count not in present:
            continue
        buf_name = operand if getattr(arch.buffers, operand) is not None else "unified"
        word_bits = arch.buffers.for_operand(operand).word_bits
        bits = _operand_bits(present, column, count)[0 if bits_column == "weight_bits" else 1]
        energy = column(count) * bits / word_bits * table[f"{buf_name}_sram_{kind}"]
        key = f"{operand}_sram"
        parts[key] = parts[key] + energy if key in parts else energy

    if "link_bytes" in present:
        parts["link"] = (column("link_bytes") * table.get("link_byte", 0.0)
                         + column("reduction_adds") * table["reduction_add"])
    if "dram_read_bytes" in present or "dram_write_bytes" in present:
        parts["dram"] = 8 * (column("dram_read_bytes") * table["dram_read_bit"]
                             + column("dram_write_bytes") * table["dram_write_bit"])
    vector = [column(name) * table[name[:-1]] for name in ("vector_ops", *columns)
              if name.startswith("vector_") and name.endswith("_ops") and name in present and name[:-1] in table]
    if vector:
        parts["vector"] = sum(vector[1:], vector[0])
    if "cycles" in present and arch.sram_leakage:
        leakage = sum(pj for name, pj in table.items() if name.startswith("leakage_"))
        parts["leakage"] = column("cycles") * leakage

    parts["energy_pj"] = sum(parts.values(), np.zeros(int(costed.sum())))  # in component order
    out = {}
    for name, values in parts.items():
        full = np.full(len(costed), np.nan)
        full[costed] = values
        out[name if name == "energy_pj" else f"energy_{name}_pj"] = full
    return out


def _operand_bits(present: set[str], column, needed_by: str) -> tuple[np.ndarray, np.ndarray]:
    missing = [c for c in ("weight_bits", "act_bits") if c not in present]
    if missing:
        raise ValueError(f"layer_energy: column '{needed_by}' needs the operand widths, but {missing} are absent")
    return column("weight_bits"), column("act_bits")


def _operand_formats(columns: Mapping[str, np.ndarray], costed: np.ndarray, weight_bits: np.ndarray,
                     act_bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The costed rows' operand formats: the ``weight_precision``/``act_precision`` columns, or
    without them integer operands of the widths ``weight_bits``/``act_bits``."""
    if "weight_precision" in columns and "act_precision" in columns:
        return (np.asarray(columns["weight_precision"], dtype=object)[costed],
                np.asarray(columns["act_precision"], dtype=object)[costed])
    return weight_bits.astype(int), act_bits.astype(int)


def summary_metrics(layers: pd.DataFrame | Mapping[str, np.ndarray], arch: ArchSpec) -> dict[str, float]:
    """Whole-network energy metrics and the design's area.

    Parameters
    ----------
    layers : DataFrame, or a mapping of column name to one numpy value per layer
        Per-layer counts joined with :func:`layer_energy`'s columns; rows with ``costed ==
        False`` are left out.

    Returns
    -------
    dict
        ``energy_pj`` and every ``energy_<component>_pj`` summed; ``energy_per_mac_pj``
        (energy over dense MACs); ``tops_per_w`` (2 operations per dense MAC, over energy:
        ``2 * macs / energy_pj``); ``power_w`` when ``cycles`` is present (energy over
        ``cycles / clock``); ``area_mm2`` of the design.
    """
    frame = isinstance(layers, pd.DataFrame)
    keep = np.asarray(layers["costed"], dtype=bool) if "costed" in layers else slice(None)

    def total(name: str) -> float:
        """Sum of column ``name`` over the costed rows."""
        values = layers[name].to_numpy() if frame else np.asarray(layers[name])
        return float(values[keep].sum())

    out = {name: total(name) for name in layers if name.startswith("energy_") and name.endswith("_pj")}
    energy = out.get("energy_pj", math.nan)
    macs = total("macs") if "macs" in layers else math.nan
    out["energy_per_mac_pj"] = energy / macs if macs else math.nan
    out["tops_per_w"] = 2 * macs / energy if energy else math.nan
    if "cycles" in layers:
        seconds = total("cycles") / arch.clock_hz
        out["power_w"] = energy * 1e-12 / seconds if seconds else math.nan
    out.update(area_metrics_mm2(arch))
    return out


__all__ = ["energy_columns", "layer_energy", "per_action_energy", "summary_metrics"]
