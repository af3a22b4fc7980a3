"""Which mapping a run uses: the run's argument, else the arch file's ``mapping:`` / ``objective:``,
else search for cycles under native timing (fixed under scalesim timing and in the pe fidelity)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import accelsim as ax
from accelsim.dse.evaluate import apply_scheme
from accelsim.errors import ConfigError, UnsupportedError
from accelsim.lower.tiling import fixed_mapping
from accelsim.spec.load import arch_from_dict
from accelsim.spec.workload import Gemm, Network
from conftest import ROOT

# 4x4 ws whose 32 B ifmap buffer the fixed mapping of a 6x5x7 GEMM overflows: search differs
SMALL = {"name": "t", "array": {"rows": 4, "cols": 4, "dataflow": "ws"},
         "buffers": {"ifmap": {"size": "32B"}, "filter": {"size": "1KiB"}, "ofmap": {"size": "1KiB"}},
         "dram": {"bandwidth": "1GB/s", "latency": "7cycles"}}
NET = Network(name="n", layers=(Gemm(name="g", m=6, n=5, k=7),))


def row(arch, net=NET, **options):
    return ax.simulate(arch, net, **options).layers.iloc[0]


def test_native_timing_searches_for_cycles_by_default():
    arch = arch_from_dict(SMALL)
    default, searched = row(arch), row(arch, mapping="search", objective="cycles")
    assert default["mapping"] == searched["mapping"] and default["cycles"] == searched["cycles"]
    fixed = row(arch, mapping="fixed")
    assert "mapping" not in fixed and default["mapping"] != fixed_mapping(arch).describe()


@pytest.mark.parametrize("objective", ["energy", "edp"])
def test_arch_file_sets_the_default_and_the_run_overrides_it(objective):
    arch = arch_from_dict({**SMALL, "mapping": "fixed"})
    assert "mapping" not in row(arch)                                   # the arch's choice
    assert row(arch, mapping="search")["mapping"] == row(arch_from_dict(SMALL))["mapping"]  # the run's
    by_arch = row(arch_from_dict({**SMALL, "objective": objective}))
    by_run = row(arch_from_dict(SMALL), objective=objective)
    assert by_arch["mapping"] == by_run["mapping"] and by_arch["energy_pj"] == by_run["energy_pj"]


@pytest.mark.parametrize("key, value, message", [
    ("mapping", "best", "mapping: expected one of fixed, search, got 'best'"),
    ("objective", "power", "objective: expected one of cycles, energy, edp, got 'power'"),
])
def test_arch_file_values_are_checked(key, value, message):
    with pytest.raises(ConfigError, match=message):
        arch_from_dict({**SMALL, key: value})


def test_search_in_a_scalesim_arch_file_is_refused_at_load():
    with pytest.raises(ConfigError, match="mapping: search needs timing_model: native"):
        arch_from_dict({**SMALL, "timing_model": "scalesim", "mapping": "search"})


def test_scalesim_timing_and_pe_fidelity_keep_the_fixed_mapping_by_default():
    scalesim = ax.load_arch(ROOT / "arch_configs" / "scalesim_32x32_ws.yaml")
    tiny = ax.load_workload(ROOT / "workloads" / "tiny_cnn.yaml")
    assert "mapping" not in ax.simulate(scalesim, tiny).layers
    with pytest.raises(UnsupportedError, match="timing_model: native"):
        ax.simulate(scalesim, tiny, mapping="search")
    arch = arch_from_dict(SMALL)
    pe = ax.simulate(arch, NET, "pe")
    assert "mapping" not in pe.layers
    assert pe.layers.iloc[0]["cycles"] == row(arch, mapping="fixed")["compute_cycles"]  # pe: ideal memory
    with pytest.raises(UnsupportedError, match="pe fidelity"):
        ax.simulate(arch, NET, "pe", mapping="search")
    with pytest.raises(UnsupportedError, match="pe fidelity"):
        ax.simulate(arch_from_dict({**SMALL, "mapping": "search"}), NET, "pe")  # asked for by the arch file


def test_default_search_keeps_zero_skipping_layers_at_the_fixed_mapping():
    """Zero skipping is measured on the fixed fold order: the default search leaves such a layer
    fixed (and says so in the mapping column); an explicit search is refused."""
    skipping = arch_from_dict({**SMALL, "sparsity": {"mode": "skip", "weights": True}})
    net = apply_scheme(NET, ROOT / "workloads" / "schemes" / "unstructured50.yaml")
    default = ax.simulate(skipping, net).layers.iloc[0]
    assert default["skipped_macs"] > 0 and default["mapping"] == fixed_mapping(skipping).describe()
    assert default["cycles"] == ax.simulate(skipping, net, mapping="fixed").layers.iloc[0]["cycles"]
    with pytest.raises(UnsupportedError, match="zero skipping"):
        ax.simulate(skipping, net, mapping="search")


def test_default_search_keeps_layers_no_mapping_fits_at_the_fixed_mapping():
    """A 4x5 os array with 64 B buffers: every searched os tile of a 4x5x13 GEMM holds at least one
    13-deep column of the 5 filter columns, 13 x 5 = 65 B > 64 B, so nothing fits; the default
    search falls back to the fixed mapping (which streams through any buffer), an explicit search
    names the layer."""
    tight = arch_from_dict({"name": "p", "array": {"rows": 4, "cols": 5, "dataflow": "os", "accumulators": "0B"},
                            "buffers": {op: {"size": "64B", "double_buffered": False}
                                        for op in ("ifmap", "filter", "ofmap")},
                            "dram": {"bandwidth": "1B/cycle", "latency": "3cycles"}})
    net = Network(name="n", layers=(Gemm(name="g", m=4, n=5, k=13),))
    default = row(tight, net)
    assert default["mapping"] == fixed_mapping(tight).describe()
    assert default["cycles"] == row(tight, net, mapping="fixed")["cycles"]
    with pytest.raises(UnsupportedError, match="layer g: .*no mapping fits"):
        ax.simulate(tight, net, mapping="search")


def test_cli_reports_the_mapping_it_used(tmp_path):
    tiny = str(ROOT / "workloads" / "tiny_cnn.yaml")
    edge = str(ROOT / "arch_configs" / "edge_32x32.yaml")
    for extra, shown in (([], "mapping        search"), (["--mapping", "fixed"], "mapping        fixed")):
        done = subprocess.run([sys.executable, "-m", "accelsim", "run", edge, tiny, "-q", *extra],
                              capture_output=True, text=True, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        assert shown in done.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text((ROOT / "arch_configs" / "edge_32x32.yaml").read_text() + "mapping: serch\n")
    done = subprocess.run([sys.executable, "-m", "accelsim", "run", str(bad), tiny, "-q"], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 2 and "did you mean 'search'" in done.stderr and "Traceback" not in done.stderr
