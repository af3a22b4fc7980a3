"""Broken SCALE-Sim inputs (.cfg, topology .csv): exit code 2, the file and key named, no traceback.

Also the inputs SCALE-Sim 3.0.0 itself reads that a strict parser might reject: cfg keys in any
case (Python's configparser lower-cases them) and ``=`` separators.
"""

from __future__ import annotations

import pytest

import accelsim as ax
from accelsim.cli import main

GOOD_CFG = """[general]
run_name = r
[architecture_presets]
ArrayHeight: 8
ArrayWidth: 16
IfmapSramSzkB: 2
FilterSramSzkB: 4
OfmapSramSzkB: 1
IfmapOffset: 0
Bandwidth: 7
Dataflow: is
[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 3
FilterSRAMBankBandwidth: 5
[sparsity]
SparsitySupport : false
[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""
CONV_HEADER = "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


@pytest.mark.parametrize("cfg, expected", [
    (_edit(GOOD_CFG, "ArrayWidth: 16\n", ""), ["architecture_presets.ArrayWidth", "missing required key"]),
    (_edit(GOOD_CFG, "IfmapSramSzkB", "IfmapSramSizekB"),
     ["architecture_presets.IfmapSramSzkB", "missing required key", "misspelt as 'ifmapsramsizekb'"]),
    (_edit(GOOD_CFG, "[run_presets]\nInterfaceBandwidth: CALC\n", ""),
     ["run_presets.InterfaceBandwidth", "no [run_presets] section"]),
    (_edit(GOOD_CFG, "ArrayHeight: 8", "ArrayHeight: 8.5"), ["architecture_presets.ArrayHeight", "positive integer", "'8.5'"]),
    (_edit(GOOD_CFG, "OfmapSramSzkB: 1", "OfmapSramSzkB: 0"), ["architecture_presets.OfmapSramSzkB", "positive integer"]),
    (_edit(GOOD_CFG, "Dataflow: is", "Dataflow: xs"), ["architecture_presets.Dataflow", "expected os, ws or is"]),
    (_edit(GOOD_CFG, "InterfaceBandwidth: CALC", "InterfaceBandwidth: FAST"), ["run_presets.InterfaceBandwidth", "CALC or USER"]),
    (_edit(_edit(GOOD_CFG, "CALC", "USER"), "FilterSRAMBankBandwidth: 5\n", ""),
     ["layout.FilterSRAMBankBandwidth", "missing required key"]),
    (_edit(_edit(GOOD_CFG, "CALC", "USER"), "Bandwidth: 7", "Bandwidth: fast"),
     ["architecture_presets.Bandwidth", "positive integer"]),
    (_edit(GOOD_CFG, "SparsitySupport : false", "SparsitySupport : true"), ["sparsity.SparsitySupport", "not supported"]),
    (_edit(GOOD_CFG, "IfmapCustomLayout: False", "IfmapCustomLayout: True"), ["layout.IfmapCustomLayout", "not supported"]),
    (_edit(GOOD_CFG, "[general]\n", ""), ["malformed .cfg"]),
], ids=["missing", "misspelt", "no_section", "float", "zero_sram", "dataflow", "interface", "user_missing_bw",
        "user_bad_bw", "sparsity", "custom_layout", "malformed"])
def test_broken_cfg_exits_2_naming_file_and_key(tmp_path, capsys, cfg, expected):
    path = tmp_path / "arch.cfg"
    path.write_text(cfg)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err
    for text in expected:
        assert text in err, f"{text!r} missing from:\n{err}"


@pytest.mark.parametrize("topology, expected", [
    (CONV_HEADER + "c1, 8, 8, 3, 3, 4, 16,\n", ["line 2", "expected 8 columns, got 7"]),
    (CONV_HEADER + "c1, 8, 8, 3, 3, 4, 16, 1,\nc2, 8, 8, 3.5, 3, 4, 16, 1,\n", ["line 3", "expected integers"]),
    (CONV_HEADER + "c1, 8, 8, 3, 3, 4, 16, 1,\nc2, 4, 4, 5, 5, 4, 16, 1,\n", ["layers[1]", "kernel"]),
    ("Layer, M, N, K,\ng1, 10, 20,\n", ["line 2", "expected 4 columns, got 3"]),
    ("\n\n", ["is empty"]),
], ids=["missing_column", "float", "kernel_too_big", "gemm_missing_k", "empty"])
def test_broken_topology_exits_2_naming_file_and_line(tmp_path, capsys, topology, expected):
    path = tmp_path / "topo.csv"
    path.write_text(topology)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "Traceback" not in err
    for text in expected:
        assert text in err, f"{text!r} missing from:\n{err}"


def test_cfg_keys_are_case_insensitive_as_in_scalesim(tmp_path):
    """SCALE-Sim reads its cfg with configparser, whose keys are case-insensitive."""
    plain, odd = tmp_path / "plain.cfg", tmp_path / "odd.cfg"
    plain.write_text(GOOD_CFG)
    odd.write_text(GOOD_CFG.replace("ArrayHeight:", "arrayheight =").replace("IfmapSramSzkB", "IFMAPSRAMSZKB"))
    a, b = ax.load_arch(plain), ax.load_arch(odd)
    assert (b.array.rows, b.buffers.ifmap.size_bytes) == (8, 2048)
    assert (a.array, a.buffers) == (b.array, b.buffers)


def test_headerless_topology_warns_that_line_1_is_skipped(tmp_path, caplog):
    path = tmp_path / "topo.csv"
    path.write_text("c1, 8, 8, 3, 3, 4, 16, 1,\nc2, 8, 8, 1, 1, 16, 8, 1,\n")
    net = ax.load_workload(path)
    assert [layer.name for layer in net.layers] == ["c2"]   # as SCALE-Sim: line 1 is the header
    assert "line 1 looks like a layer" in caplog.text
