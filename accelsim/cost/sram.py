"""SRAM energy, leakage and area as functions of capacity, word width, banks and ports.

Fitted to the CACTI 7 points at 45 nm in ``tables/sram_cacti7_45nm.yaml`` (a power law in
capacity per quantity, see :mod:`accelsim.cost.tables`), with these stated approximations:

* energy per access is proportional to the bits accessed (a ``w``-bit access costs ``w/64`` of
  the fitted 64-bit figure);
* a buffer of ``B`` banks is ``B`` SRAMs of ``capacity/B``: an access touches one bank, so
  banking lowers energy per access, and ``B`` peripheries cost area;
* area: one macro's area by capacity is interpolated (log-log, piecewise) between CACTI 7
  points from 512 B to 16 MiB at a 64-bit port (``area_points``); a bank that moves more than
  64 bits per access is ``ceil(bits / 64)`` such macros side by side, each with its share;
  :func:`area_factor` scales a macro to another node by CACTI's own runs there;
* ports: a cell side grows by one wire track per port (``tracks = base + ports``), area with
  its square and energy with its length, relative to the 2-port CACTI reference;
* leakage is proportional to the bits stored (CACTI itrs-hp cells).

All results are at 45 nm; scale energy with :mod:`accelsim.cost.scaling`, area with :func:`area_factor`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

from accelsim.cost import scaling
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
    macros : int
        SRAM macros the banks are built of (one per bank up to a 64-bit port).
    macro_kib : float
        Capacity of one macro, KiB (what :func:`area_factor` takes).
    """

    read_pj: float
    write_pj: float
    leakage_uw: float
    area_um2: float
    macros: int
    macro_kib: float


@functools.cache
def fits() -> dict[str, PowerLaw]:
    """Power laws in capacity (KiB) for ``read_energy_pj`` and ``write_energy_pj`` (64-bit access)."""
    points = load_table("sram_cacti7_45nm")["points"]
    xs = [p["capacity_kib"] for p in points]
    return {key: fit_power_law(xs, [p[key] for p in points]) for key in ("read_energy_pj", "write_energy_pj")}


@functools.cache
def _area_points(node_nm: float = 45.0) -> tuple[tuple[float, float], ...]:
    """(log capacity KiB, log area mm^2) of the CACTI 7 macro points at ``node_nm`` (45 nm:
    ``area_points``; the other nodes CACTI models: ``area_points_by_node``), by capacity."""
    table = load_table("sram_cacti7_45nm")
    capacities = [p["capacity_kib"] for p in table["area_points"]]
    if node_nm == 45.0:
        areas = [p["area_mm2"] for p in table["area_points"]]
    else:
        areas = next(row["area_mm2"] for row in table["area_points_by_node"] if row["node_nm"] == node_nm)
    return tuple(sorted((math.log(kib), math.log(mm2)) for kib, mm2 in zip(capacities, areas)))


def macro_area_mm2(capacity_kib: float, node_nm: float = 45.0) -> float:
    """Area of one 64-bit-port SRAM macro at 45 nm or another node CACTI 7 was run at: CACTI 7
    points interpolated linearly in log-log (beyond the first and last point, their segment
    extended)."""
    points = _area_points(float(node_nm))
    x = math.log(capacity_kib)
    segments = list(zip(points, points[1:]))
    (x0, y0), (x1, y1) = next((seg for seg in segments if x <= seg[1][0]), segments[-1])
    return math.exp(y0 + (x - x0) * (y1 - y0) / (x1 - x0))


@functools.cache
def area_factor(node_nm: float, macro_kib: float) -> float:
    """Area of a ``macro_kib`` macro at ``node_nm`` over its area at 45 nm.

    The node's factor for the 1 MiB macro (:func:`accelsim.cost.scaling.sram_area_factor`) times
    CACTI's own size dependence at the node, ``(A_n(kib) / A_n(1 MiB)) / (A_45(kib) / A_45(1 MiB))``
    from its runs there (nodes outside CACTI's range: that of ``size_from_nm``; between nodes,
    log-log like every factor). At a node CACTI models this is ``A_n(kib) / A_45(kib)``.
    """
    def size_dependence(cacti_nm: float) -> float:
        def relative(nm: float) -> float:
            return macro_area_mm2(macro_kib, nm) / macro_area_mm2(1024, nm)
        return relative(cacti_nm) / relative(45.0)

    sources = scaling.sram_size_sources()
    points = [(nm, size_dependence(sources[nm])) for nm in sorted(sources, reverse=True)]
    return scaling.sram_area_factor(45, node_nm) * scaling.at_node(node_nm, points)


def _port_factor(ports: int) -> float:
    """Cell side at ``ports`` ports relative to the 2-port reference."""
    table = load_table("sram_cacti7_45nm")
    base = table["ports"]["base_tracks"]
    return (base + ports) / (base + table["reference_ports"])


def sram_cost(size_bytes: int, word_bits: int, banks: int = 1, ports: int = 2, bank_port_bits: int = 0) -> SramCost:
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
    bank_port_bits : int
        Bits one bank moves per access (sets the macros per bank; 0: one word, ``word_bits``).
    """
    table = load_table("sram_cacti7_45nm")
    law = fits()
    bank_kib = size_bytes / banks / 1024
    side = _port_factor(ports)
    per_access = word_bits / table["port_width_bits"] * side
    macros = banks * math.ceil((bank_port_bits or word_bits) / table["port_width_bits"])
    return SramCost(
        read_pj=law["read_energy_pj"](bank_kib) * per_access,
        write_pj=law["write_energy_pj"](bank_kib) * per_access,
        leakage_uw=table["leakage"]["power_uw_per_bit"] * size_bytes * 8,
        area_um2=macros * macro_area_mm2(size_bytes / macros / 1024) * 1e6 * side * side,
        macros=macros,
        macro_kib=size_bytes / macros / 1024,
    )
