"""`accelsim sweep | compare | plot` in-process, on the real simulator, checking exit codes and files."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import yaml

from accelsim import cli


@pytest.fixture
def spec(tmp_path, root):
    data = {"name": "cli", "arch": str(root / "arch_configs" / "edge_32x32.yaml"),
            "workloads": [str(root / "workloads" / "tiny_cnn.yaml")],
            "axes": {"array.rows": [8, 16], "buffers.ifmap.size": ["16KiB", "32KiB"]},
            "tied": {"array.cols": "array.rows"}, "objectives": ["latency_s", "sram_bytes"]}
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_sweep_writes_tables_and_resumes(tmp_path, spec, capsys):
    out = tmp_path / "res"
    assert cli.main(["sweep", str(spec), "-o", str(out), "--executor", "serial", "-q", "--per-layer"]) == 0
    first = capsys.readouterr().out
    assert "4 rows: 0 already stored, 4 computed" in first and "Pareto front" in first
    assert re.search(r"\b16KiB\b", first) and "16384" not in first  # sizes for people
    points = pd.read_parquet(out / "points.parquet")
    assert len(points) == 4 and points["cycles"].gt(0).all()
    assert (points["array.rows"] * points["array.rows"] == points["pes"]).all()
    layers = pd.read_parquet(out / "layers.parquet")
    assert len(layers) == 4 * 8  # tiny_cnn has 8 layers
    assert cli.main(["sweep", str(spec), "-o", str(out), "--executor", "serial", "-q", "--per-layer"]) == 0
    assert "4 rows: 4 already stored, 0 computed" in capsys.readouterr().out
    pd.testing.assert_frame_equal(points, pd.read_parquet(out / "points.parquet"))

    for kind in ("pareto", "breakdown", "utilization", "roofline", "sweep"):
        metric = ["--metric", "cycles"] if kind == "utilization" else []
        assert cli.main(["plot", str(out), "--kind", kind, *metric]) == 0, kind
        assert (out / f"{kind}.png").stat().st_size > 10_000
    assert cli.main(["plot", str(out), "--kind", "pareto", "--svg", "-o", str(tmp_path / "p.png")]) == 0
    assert (tmp_path / "p.svg").exists()


def test_sweep_bad_axis_value_exits_2_naming_the_key(tmp_path, root, capsys):
    data = {"arch": str(root / "arch_configs" / "edge_32x32.yaml"), "workloads": [str(root / "workloads" / "tiny_cnn.yaml")],
            "axes": {"array.rows": [8, -1]}}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    assert cli.main(["sweep", str(path), "-o", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "array.rows" in err and "array.rows=-1" in err and "Traceback" not in err


def test_compare_architectures_writes_table_and_plot(tmp_path, root, capsys):
    csv, png = tmp_path / "cmp.csv", tmp_path / "cmp.png"
    args = ["compare", str(root / "arch_configs" / "edge_32x32.yaml"), str(root / "arch_configs" / "tpu_v1_like.yaml"),
            str(root / "workloads" / "tiny_cnn.yaml"), "-o", str(csv), "--plot", str(png)]
    assert cli.main(args) == 0
    printed = capsys.readouterr().out
    assert max(map(len, printed.splitlines())) <= cli.TABLE_WIDTH and "area mm2" in printed
    table = pd.read_csv(csv)
    assert "area_mm2" in table and "area_um2" not in table
    assert table["arch"].tolist() == ["edge-32x32", "tpu-v1-like"]  # the files' names and table["speedup"].iloc[0] == 1.0
    assert png.stat().st_size > 10_000
    assert cli.main(["plot", str(csv), "--kind", "compare"]) == 0
    assert (tmp_path / "cmp-compare.png").exists()


def test_compare_needs_an_arch_and_a_workload(root, capsys):
    assert cli.main(["compare", str(root / "workloads" / "tiny_cnn.yaml")]) == 2
    assert "at least one architecture" in capsys.readouterr().err


def test_plot_of_a_missing_sweep_exits_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert cli.main(["plot", str(tmp_path / "empty")]) == 2
    assert "points.parquet" in capsys.readouterr().err


def test_validate_checks_a_sweep_down_to_its_design_points(tmp_path, root, spec, capsys):
    assert cli.main(["validate", str(spec)]) == 0
    assert "sweep: cli, 2 axes, grid sampling" in capsys.readouterr().out
    bad = yaml.safe_load(spec.read_text())
    bad["axes"]["buffers.ifmap.size"] = ["16KiB", "16 kilobytes"]
    spec.write_text(yaml.safe_dump(bad))
    assert cli.main(["validate", str(spec)]) == 2
    assert "buffers.ifmap.size: expected a size" in capsys.readouterr().err
