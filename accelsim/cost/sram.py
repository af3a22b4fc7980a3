"""SRAM energy, leakage and area as functions of capacity, word width, banks and ports.

Fitted to the CACTI 7 points at 45 nm in ``tables/sram_cacti7_45nm.yaml`` (a power law in
capacity per quantity, see :mod:`accelsim.cost.tables`), with these stated approximations:

* energy per access is proportional to the bits accessed (a ``w``-bit access costs ``w/64`` of
  the fitted 64-bit figure);
* a buffer of ``B`` banks is ``B`` SRAMs of ``capacity/B``: an access touches one bank, so
  banking lowers energy per access, and ``B`` peripheries cost area;
* ports: a cell side grows by one wire track per port (``tracks = base + ports``), area with
  its square and energy with its length, relative to the 2-port CACTI reference;
* leakage is proportional to the bits stored (CACTI itrs-hp cells).

All results are at 45 nm; scale them with :mod:`accelsim.cost.scaling`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from accelsim.cost.tables import PowerLaw, fit_power_law, load_table


@dataclass(frozen=True)
class SramCost:
    """One SRAM at 45 nm.

    Attributes
    ----------
    read_pj, write_pj : float
        Energy of reading / writing one word (``word_bits``) from one bank.
    leakage_uw : float
        Leakage power of the whole SRAM, microwatts.
    area_um2 : float
        Area of all banks, um^2.
    """

    read_pj: float
    write_pj: float
    leakage_uw: float
    area_um2: float


@functools.cache
def fits() -> dict[str, PowerLaw]:
    """Power laws in capacity (KiB) for ``read_energy_pj``, ``write_energy_pj`` (64-bit) and ``area_mm2``."""
    points = load_table("sram_cacti7_45nm")["points"]
    xs = [p["capacity_kib"] for p in points]
    return {key: fit_power_law(xs, [p[key] for p in points])
            for key in ("read_energy_pj", "write_energy_pj", "area_mm2")}


def _port_factor(ports: int) -> float:
    """Cell side at ``ports`` ports relative to the 2-port reference."""
    table = load_table("sram_cacti7_45nm")
    base = table["ports"]["base_tracks"]
    return (base + ports) / (base + table["reference_ports"])


def sram_cost(size_bytes: int, word_bits: int, banks: int = 1, ports: int = 2) -> SramCost:
    """Energy per word access, leakage and area of an SRAM at 45 nm.

    Parameters
    ----------
    size_bytes : int
        Total capacity, bytes.
    word_bits : int
        Bits per read or write access of one bank.
    banks : int
        Independent banks the capacity is split over.
    ports : int
        Read plus write ports of each bank.
    """
    table = load_table("sram_cacti7_45nm")
    law = fits()
    bank_kib = size_bytes / banks / 1024
    side = _port_factor(ports)
    per_access = word_bits / table["port_width_bits"] * side
    return SramCost(
        read_pj=law["read_energy_pj"](bank_kib) * per_access,
        write_pj=law["write_energy_pj"](bank_kib) * per_access,
        leakage_uw=table["leakage"]["power_uw_per_bit"] * size_bytes * 8,
        area_um2=banks * law["area_mm2"](bank_kib) * 1e6 * side * side,
    )
