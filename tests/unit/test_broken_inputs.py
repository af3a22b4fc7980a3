"""Broken configs and workloads: each gives exit code 2 and a message naming the key, no traceback.

Each file in tests/data/broken/ states on its first line (``# expect: a | b``) the substrings
its message must contain; the CSV and CFG files are listed here.
"""

from pathlib import Path

import pytest

from accelsim.cli import main

BROKEN = Path(__file__).resolve().parents[1] / "data" / "broken"
EXPECT_OTHER = {
    "topology_bad_row.csv": ["line 3", "expected integers", "line 4", "expected 8 columns"],
    "config_missing.cfg": ["architecture_presets.ArrayWidth", "missing required key"],
}


def expectations(path: Path) -> list[str]:
    if path.name in EXPECT_OTHER:
        return EXPECT_OTHER[path.name]
    first = path.read_text().splitlines()[0]
    assert first.startswith("# expect:"), f"{path.name} must start with '# expect:'"
    return [part.strip() for part in first.removeprefix("# expect:").split("|")]


@pytest.mark.parametrize("path", sorted(p for p in BROKEN.iterdir() if p.is_file()), ids=lambda p: p.name)
def test_broken_file_exits_2_with_message(path, capsys):
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert str(path) in err
    assert "Traceback" not in err
    for text in expectations(path):
        assert text in err, f"{text!r} missing from:\n{err}"


@pytest.mark.parametrize("name, content, text", [
    ("missing.yaml", None, "no such file"),
    ("", None, "is a directory"),
    ("junk.yaml", b"\x00\x01\xff\xfe", "binary"),
    ("latin1.yaml", b"name: caf\xe9\n", "not UTF-8"),
    ("empty.yaml", b"", "is empty"),
    ("what.yaml", b"foo: 1\n", "cannot tell what this file is"),
    ("model.onnx", b"this is not an ONNX model", "is not an ONNX model"),
])
def test_unreadable_inputs_exit_2(tmp_path, name, content, text, capsys):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert text in err and "Traceback" not in err


def test_good_and_bad_files_together(root, capsys):
    good = root / "arch_configs" / "edge_32x32.yaml"
    assert main(["validate", str(good), str(BROKEN / "arch_zero_rows.yaml")]) == 2
    out, err = capsys.readouterr()
    assert "ok" in out and "array.rows" in err


def test_validate_all_shipped_files(root, capsys):
    files = [str(p) for p in sorted((root / "arch_configs").glob("*.yaml")) + sorted((root / "workloads").rglob("*.yaml"))
             + sorted((root / "workloads").rglob("*.csv"))]
    assert main(["validate", *files]) == 0, capsys.readouterr().err
