"""Die-level area rows (accelsim/cost/area.py): layout around standard cells, SRAM macro halos,
DRAM PHYs, computed by hand from the stated factors in tables/design.yaml."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

import accelsim as ax
from accelsim.cost import area
from accelsim.cost.area import core_area_mm2
from accelsim.cost.scaling import area_factor

ROOT = Path(__file__).parents[2]


def rows(arch) -> dict[str, float]:
    table = area(arch)
    return dict(zip(table["component"], table["area_um2"]))


def test_logic_layout_is_the_routing_around_cells_at_70_percent_utilization():
    got = rows(ax.load_arch(ROOT / "arch_configs" / "tpu_v1_like.yaml"))
    cells = got["mac_unit"] + got["pe_registers"] + got["vector_unit"]
    assert got["logic_layout"] == pytest.approx(cells * (1 / 0.7 - 1))


def test_sram_halo_is_a_ring_around_each_bank_macro():
    """edge_32x32: three 64 KiB buffers of 4 banks and a 1-bank accumulator SRAM; a ring of
    10 um x sqrt(area factor 45 -> node) around each square macro."""
    arch = ax.load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    got = rows(arch)
    halo = 10.0 * math.sqrt(area_factor(45, arch.technology_nm))
    ring = 0.0
    for name, banks in (("ifmap_sram", 4), ("filter_sram", 4), ("ofmap_sram", 4), ("accumulators", 1)):
        side = math.sqrt(got[name] / banks)
        ring += banks * ((side + 2 * halo) ** 2 - side**2)
    assert got["sram_halo"] == pytest.approx(ring)


def test_ddr3_phy_per_channel_and_the_die_total():
    """TPU v1-like: 34 GB/s of DDR3 needs two 17.066 GB/s DDR3-2133 channels, 11.4 mm2 each."""
    tpu = ax.load_arch(ROOT / "arch_configs" / "tpu_v1_like.yaml")
    table = area(tpu).set_index("component")
    assert table.loc["dram_phy", "count"] == 2
    assert table.loc["dram_phy", "area_mm2"] == pytest.approx(22.8)
    parts = table[table["group"] != "total"]
    assert table.loc["total", "area_um2"] == pytest.approx(parts["area_um2"].sum())
    assert core_area_mm2(area(tpu)) == pytest.approx(parts["area_mm2"].sum() - 22.8)
    override = dataclasses.replace(tpu, area={"dram_phy": 5e6})
    assert area(override).set_index("component").loc["dram_phy", "area_mm2"] == pytest.approx(5.0)


def test_summary_reports_area_by_group():
    arch = ax.load_arch(ROOT / "arch_configs" / "tpu_v1_like.yaml")
    summary = ax.simulate(arch, ax.load_workload(ROOT / "workloads" / "tiny_cnn.yaml")).summary.iloc[0]
    groups = ("pe_array", "sram", "vector", "overhead", "layout", "io")
    assert summary["area_mm2"] == pytest.approx(sum(summary[f"area_{g}_mm2"] for g in groups))
    assert summary["area_core_mm2"] == pytest.approx(summary["area_mm2"] - summary["area_io_mm2"])
