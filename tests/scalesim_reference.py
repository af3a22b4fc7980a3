"""SCALE-Sim 3.0.0 reference rows (tests/data/scalesim) and how accelsim's results compare to them.

The rows come from real SCALE-Sim runs (``generate.py``, ``generate_random.py``), never from
accelsim. A depthwise ("DP") layer is one accelsim layer; SCALE-Sim reports it as one row per
channel, so counts are compared with the sums of those rows.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

import accelsim as ax

# accelsim column -> SCALE-Sim report column (counts, compared exactly)
EXACT = {
    "cycles": "total_cycles",
    "cycles_incl_prefetch": "total_cycles_incl_prefetch",
    "stall_cycles": "stall_cycles",
    "ifmap_sram_reads": "ifmap_sram_reads",
    "filter_sram_reads": "filter_sram_reads",
    "ofmap_sram_writes": "ofmap_sram_writes",
    "ifmap_dram_reads": "ifmap_dram_reads",
    "filter_dram_reads": "filter_dram_reads",
    "ofmap_dram_writes": "ofmap_dram_writes",
}
# accelsim fraction -> SCALE-Sim percent column
PERCENT = {"utilization": "overall_util_pct", "mapping_efficiency": "mapping_efficiency_pct",
           "compute_utilization": "compute_util_pct"}


def cases(reference: pd.DataFrame, mode: str) -> list[str]:
    """Names of the cases run in bandwidth ``mode`` (``"CALC"`` or ``"USER"``)."""
    return sorted(reference[reference.interface_bw == mode].case.unique())


def reference_by_layer(reference: pd.DataFrame, case: str):
    """SCALE-Sim rows of ``case`` grouped per accelsim layer (a DP layer's channel rows together)."""
    rows = reference[reference.case == case].copy()
    rows["layer"] = [re.sub(r"Channel_\d+$", "", name) for name in rows.layer_name]
    return rows.groupby("layer", sort=False)


def simulate_case(folder: Path, case: str) -> pd.DataFrame:
    """accelsim's layers for ``folder/<case>.cfg`` and ``.csv``, loaded exactly as a user would."""
    arch = ax.load_arch(folder / f"{case}.cfg")
    net = ax.load_workload(folder / f"{case}.csv")
    return ax.simulate(arch, net).layers.set_index("layer")


def mismatches(got: pd.DataFrame, groups) -> list[str]:
    """Every (layer, column) where accelsim differs from SCALE-Sim, as ``layer.column: ...`` lines:
    the exact counts, the percentages (to 1e-9), DRAM read bytes and cycles without stalls."""
    out = []
    for layer, rows in groups:
        derived = {"dram_read_bytes": int((rows.ifmap_dram_reads + rows.filter_dram_reads).sum()),
                   "compute_cycles": int((rows.total_cycles - rows.stall_cycles).sum())}
        wanted = {ours: int(rows[theirs].sum()) for ours, theirs in EXACT.items()} | derived
        for ours, want in wanted.items():
            if int(got.at[layer, ours]) != want:
                out.append(f"{layer}.{ours}: SCALE-Sim {want}, accelsim {int(got.at[layer, ours])}")
        for ours, theirs in PERCENT.items():
            want = rows[theirs].mean() / 100   # per-layer percentages; a DP layer's channels are identical
            if got.at[layer, ours] != pytest.approx(want, rel=1e-9):
                out.append(f"{layer}.{ours}: SCALE-Sim {want!r}, accelsim {got.at[layer, ours]!r}")
    return out


def check_case(reference: pd.DataFrame, folder: Path, case: str) -> None:
    """Assert that accelsim reproduces every SCALE-Sim number of ``case``."""
    got, groups = simulate_case(folder, case), reference_by_layer(reference, case)
    assert list(groups.groups) == list(got.index)
    problems = mismatches(got, groups)
    assert not problems, f"{case}:\n" + "\n".join(problems)
