"""`accelsim run`: in-process, return codes, table and output files."""

from __future__ import annotations

import pandas as pd

from accelsim import cli
from conftest import ROOT

ARCH = str(ROOT / "arch_configs" / "edge_32x32.yaml")
TINY = str(ROOT / "workloads" / "tiny_cnn.yaml")
CASES = ROOT / "tests" / "data" / "scalesim" / "cases"


def test_run_writes_csv_and_parquet(tmp_path, capsys):
    for suffix in ("csv", "parquet"):
        out = tmp_path / f"r.{suffix}"
        assert cli.main(["run", ARCH, TINY, "-o", str(out)]) == 0
        table = pd.read_csv(out) if suffix == "csv" else pd.read_parquet(out)
        assert list(table.layer) == ["conv1", "relu1", "pool1", "conv2", "conv3_dw", "conv3_pw", "fc", "softmax"]
    text = capsys.readouterr().out
    assert "conv3_pw" in text and "total:" in text


def test_run_accepts_scalesim_cfg_and_topology(capsys):
    assert cli.main(["run", str(CASES / "os_4x4_conv.cfg"), str(CASES / "os_4x4_conv.csv")]) == 0
    text = capsys.readouterr().out
    assert "scalesim timing" in text
    assert "95" in text                          # SCALE-Sim's Total Cycles of the first layer


def test_run_bad_input_exits_2(tmp_path, capsys):
    assert cli.main(["run", ARCH, str(tmp_path / "missing.yaml")]) == 2
    assert cli.main(["run", ARCH, TINY, "-o", str(tmp_path / "r.txt")]) == 2
    assert "csv or .parquet" in capsys.readouterr().err
