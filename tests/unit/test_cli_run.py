"""`accelsim run` and the CLI conventions: return codes, the report, output files, global options."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import tomllib

import pandas as pd
import pytest

import accelsim
from accelsim import cli
from conftest import ROOT

ARCH = str(ROOT / "arch_configs" / "edge_32x32.yaml")
TINY = str(ROOT / "workloads" / "tiny_cnn.yaml")
CASES = ROOT / "tests" / "data" / "scalesim" / "cases"
TINY_LAYERS = ["conv1", "relu1", "pool1", "conv2", "conv3_dw", "conv3_pw", "fc", "softmax"]


def test_run_writes_csv_parquet_json_and_stdout(tmp_path, capsys):
    readers = {"csv": pd.read_csv, "parquet": pd.read_parquet, "json": lambda p: pd.read_json(p, orient="records")}
    for suffix, read in readers.items():
        out = tmp_path / f"r.{suffix}"
        assert cli.main(["run", ARCH, TINY, "-o", str(out), "-q"]) == 0
        table = read(out)
        assert list(table.layer) == TINY_LAYERS and set(table.workload) == {"tiny-cnn"}
    text = capsys.readouterr().out
    assert "conv3_pw" in text and "total:" in text
    assert cli.main(["run", ARCH, TINY, "-o", "-", "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0].startswith("layer,op,macs")  # stdout holds the CSV only
    assert "total:" in captured.err and len(captured.out.splitlines()) == 1 + len(TINY_LAYERS)


def test_run_reports_energy_latency_and_area_in_engineering_units(capsys):
    assert cli.main(["run", ARCH, TINY, "-q"]) == 0
    text = capsys.readouterr().out
    summary = accelsim.simulate(accelsim.load_arch(ARCH), accelsim.load_workload(TINY)).summary.iloc[0]
    # edge_32x32 runs at 1 GHz (its clock: 1GHz), so latency in us = cycles / 1000
    assert accelsim.load_arch(ARCH).clock_hz == 1e9
    latency = re.search(r"latency\s+([\d.]+) us", text)
    assert latency and float(latency.group(1)) == pytest.approx(summary["cycles"] / 1e3, rel=5e-3)
    energy = re.search(r"energy\s+([\d.]+) uJ", text)    # tiny-cnn costs microjoules: 1 uJ = 1e6 pJ
    assert energy and float(energy.group(1)) == pytest.approx(summary["energy_pj"] / 1e6, rel=5e-3)
    assert re.search(r"efficiency\s+[\d.]+ TOPS/W", text) and re.search(r"area\s+[\d.]+ mm2", text)
    assert "costed layers  8 of 8" in text and "stalled" in text
    assert max(map(len, text.splitlines())) <= cli.TABLE_WIDTH


def test_run_with_search_lists_the_mapping_per_layer_within_100_columns(capsys):
    assert cli.main(["run", ARCH, str(ROOT / "workloads" / "resnet18.yaml"), "--mapping", "search", "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "mapping" in lines[1] and re.search(r"conv1 +conv2d .* (os|ws|is) ", lines[2])
    assert max(map(len, lines)) <= cli.TABLE_WIDTH


def test_run_accepts_scalesim_cfg_and_topology(capsys):
    assert cli.main(["run", str(CASES / "os_4x4_conv.cfg"), str(CASES / "os_4x4_conv.csv")]) == 0
    text = capsys.readouterr().out
    assert "scalesim timing" in text
    assert "95" in text                          # SCALE-Sim's Total Cycles of the first layer


def test_run_bad_input_exits_2(tmp_path, capsys):
    assert cli.main(["run", ARCH, str(tmp_path / "missing.yaml")]) == 2
    assert cli.main(["run", ARCH, TINY, "-o", str(tmp_path / "r.txt")]) == 2
    err = capsys.readouterr().err
    assert ".csv, .parquet, .json, or -" in err and "Traceback" not in err


@pytest.fixture
def no_simulation(monkeypatch):
    """Any simulation fails the test: what must be refused is refused before the work."""
    def refuse(*args, **kwargs):
        raise AssertionError("simulate() ran before the output path was checked")

    monkeypatch.setattr(accelsim, "simulate", refuse)


def test_bad_output_stops_before_any_work(tmp_path, capsys, no_simulation, monkeypatch):
    assert cli.main(["run", ARCH, TINY, "-o", str(tmp_path / "r.xlsx")]) == 2
    assert cli.main(["run", ARCH, TINY, "-o", str(tmp_path / "no" / "such" / "r.csv")]) == 2
    err = capsys.readouterr().err
    assert "r.xlsx" in err and f"'{tmp_path / 'no' / 'such'}' does not exist" in err and "mkdir -p" in err
    assert cli.main(["compare", ARCH, TINY, "-o", str(tmp_path / "no" / "c.csv")]) == 2
    assert cli.main(["compare", ARCH, TINY, "--plot", str(tmp_path / "c.gif")]) == 2
    assert cli.main(["plot", str(tmp_path), "-o", str(tmp_path / "x" / "p.png")]) == 2
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a))
    assert cli.main(["run", ARCH, TINY, "-o", str(tmp_path / "r.parquet")]) == 2
    assert cli.main(["sweep", str(ROOT / "workloads" / "sweeps" / "resnet50_array_x_sram.yaml"),
                     "-o", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert err.count("pip install pyarrow") == 2 and "Traceback" not in err
    assert not (tmp_path / "s").exists()


def test_version_matches_the_package_metadata(capsys):
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0 and capsys.readouterr().out.strip() == f"accelsim {version}"


def test_global_options_anywhere_and_verbose_logs(capsys):
    assert cli.main(["-q", "run", ARCH, TINY]) == 0
    assert cli.main(["run", "-q", ARCH, TINY]) == 0
    assert cli.main(["run", ARCH, TINY, "-vv", "-q"]) == 0
    err = capsys.readouterr().err
    assert "DEBUG accelsim.cli" not in err            # the logger is "accelsim"
    assert "INFO accelsim: arch edge-32x32" in err and "DEBUG accelsim: layer 8 of 8 (softmax)" in err
    assert cli.main(["-v", "run", ARCH, TINY, "-v"]) == 0  # counted across both places: -vv
    assert "DEBUG accelsim: layer 1 of 8" in capsys.readouterr().err


def test_swapped_arch_and_workload_get_a_hint(capsys):
    assert cli.main(["run", TINY, ARCH]) == 2
    err = capsys.readouterr().err
    assert "swapped" in err and f"accelsim run {ARCH} {TINY}" in err
    assert err.count("unknown key") == 0


def test_plot_of_a_layer_table_defaults_to_its_breakdown(tmp_path, capsys):
    out = tmp_path / "r18.csv"
    assert cli.main(["run", ARCH, TINY, "-o", str(out), "-q"]) == 0
    assert cli.main(["plot", str(out)]) == 0
    assert (tmp_path / "r18-breakdown.png").stat().st_size > 10_000
    assert cli.main(["plot", str(out), "--kind", "breakdown", "--scale", "percent", "-o",
                     str(tmp_path / "pct.svg")]) == 0
    assert b"<svg" in (tmp_path / "pct.svg").read_bytes()[:500]
    # the table carries its arch's roofs: 32x32 = 1024 MACs/cycle, 12.8 GB/s at 1 GHz = 12.8 B/cycle
    table = pd.read_csv(out)
    assert set(table.peak_macs_per_cycle) == {1024.0} and set(table.dram_bytes_per_cycle) == {12.8}
    assert cli.main(["plot", str(out), "--kind", "roofline"]) == 0
    assert (tmp_path / "r18-roofline.png").stat().st_size > 10_000


def test_help_explains_fidelity_and_validate_files(capsys):
    for command in (["run", "--help"], ["validate", "--help"]):
        with pytest.raises(SystemExit):
            cli.main(command)
    text = capsys.readouterr().out
    assert "every PE register" in text and "compression scheme and sweep spec files" in text


def test_max_steps_reaches_simulate(capsys):
    """A limit below the cycles the cycle fidelity would step refuses the run (exit 2, naming the
    limit); a generous one runs."""
    assert cli.main(["run", ARCH, TINY, "--fidelity", "cycle", "--max-steps", "10", "-q"]) == 2
    assert "max_steps=10" in capsys.readouterr().err
    assert cli.main(["run", ARCH, TINY, "--fidelity", "cycle", "--max-steps", "1000000000", "-q"]) == 0


def test_a_closed_pipe_ends_quietly():
    """`accelsim run ... -o - | head -1`: the reader leaves before the table is written."""
    proc = subprocess.Popen([sys.executable, "-m", "accelsim", "run", ARCH, TINY, "-o", "-", "-q"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    proc.stdout.close()                                  # before the child can have written anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=300) == 141, err
    assert "Traceback" not in err and "BrokenPipeError" not in err


def test_json_output_is_records(tmp_path):
    out = tmp_path / "r.json"
    assert cli.main(["run", ARCH, TINY, "-o", str(out), "-q"]) == 0
    rows = json.loads(out.read_text())
    assert [row["layer"] for row in rows] == TINY_LAYERS
