"""accelsim's ``scalesim`` timing against real SCALE-Sim 3.0.0 runs (tests/data/scalesim).

Each case's .cfg and topology .csv are loaded exactly as a user would, simulated, and every
reported number compared with SCALE-Sim's reports (``reference.csv``, written by
``tests/data/scalesim/generate.py`` from real runs; never from accelsim). A depthwise ("DP")
layer is one accelsim layer; SCALE-Sim reports it as one row per channel, so the test compares
sums. Rows of both bandwidth modes (CALC and USER, whose stalls and DRAM traffic come from
accelsim/kernels/scalesim_user.py) must match exactly.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import accelsim as ax
from conftest import ROOT

DATA = ROOT / "tests" / "data" / "scalesim"
REFERENCE = pd.read_csv(DATA / "reference.csv")
CALC_CASES = sorted(REFERENCE[REFERENCE.interface_bw == "CALC"].case.unique())
USER_CASES = sorted(REFERENCE[REFERENCE.interface_bw == "USER"].case.unique())

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


def reference_by_layer(case: str) -> pd.DataFrame:
    """SCALE-Sim rows of ``case``, per-channel rows of a DP layer summed into one."""
    rows = REFERENCE[REFERENCE.case == case].copy()
    rows["layer"] = [re.sub(r"Channel_\d+$", "", name) for name in rows.layer_name]
    return rows.groupby("layer", sort=False)


def simulate_case(case: str) -> pd.DataFrame:
    arch = ax.load_arch(DATA / "cases" / f"{case}.cfg")
    net = ax.load_workload(DATA / "cases" / f"{case}.csv")
    return ax.simulate(arch, net).layers.set_index("layer")


@pytest.mark.parametrize("case", CALC_CASES + USER_CASES)
def test_matches_scalesim_exactly(case):
    got = simulate_case(case)
    groups = reference_by_layer(case)
    assert list(groups.groups) == list(got.index)
    for layer, rows in groups:
        for ours, theirs in EXACT.items():
            assert int(got.at[layer, ours]) == int(rows[theirs].sum()), f"{case}/{layer}: {ours}"
        for ours, theirs in PERCENT.items():
            # SCALE-Sim reports per-layer percentages; a DP layer's channels are identical
            assert got.at[layer, ours] == pytest.approx(rows[theirs].mean() / 100, rel=1e-9), f"{case}/{layer}: {ours}"
        assert int(got.at[layer, "dram_read_bytes"]) == int((rows.ifmap_dram_reads + rows.filter_dram_reads).sum())
        assert int(got.at[layer, "compute_cycles"]) == int((rows.total_cycles - rows.stall_cycles).sum())


def test_user_rows_stall():
    """The USER reference rows exercise the stall paths (so the exact test above can fail)."""
    user = REFERENCE[REFERENCE.interface_bw == "USER"]
    assert (user.stall_cycles > 0).sum() >= 10
