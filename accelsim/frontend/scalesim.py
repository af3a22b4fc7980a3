"""SCALE-Sim 3.0.0 inputs: ``.cfg`` architecture files and topology CSVs.

Facts about the formats (``shared/peers/SCALESIM.md``): a cfg's SRAM sizes are in kB of
1024 one-byte words; in USER bandwidth mode the ifmap and filter DRAM bandwidths are the
``[layout]`` ``*SRAMBankBandwidth`` values and ``Bandwidth`` is the ofmap drain (words, so
bytes, per cycle); a topology's first line is a header; every data row ends with a comma;
conv rows are ``name, ifmap H, ifmap W, filter H, filter W, channels, filters, stride[,
N:M]`` with no padding; a layer whose name contains ``DP`` is depthwise (one filter per
channel); GEMM rows are ``name, M, N, K[, N:M]`` meaning ``A[M,K] @ B[K,N]``.
"""

from __future__ import annotations

import configparser
from pathlib import Path

from accelsim.errors import ConfigError, Problem, WorkloadError
from accelsim.spec.arch import ArchSpec
from accelsim.spec.load import arch_from_dict, network_from_dict, read_text
from accelsim.spec.workload import Network

_REQUIRED = {
    "general": ("run_name",),
    "architecture_presets": (
        "ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB", "Dataflow",
    ),
    "run_presets": ("InterfaceBandwidth",),
}


def load_scalesim_config(path: str | Path) -> ArchSpec:
    """An :class:`ArchSpec` in ``scalesim`` timing for a SCALE-Sim ``.cfg`` file."""
    text = read_text(path)
    parser = configparser.ConfigParser()
    parser.optionxform = str  # keep key case as SCALE-Sim writes it
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ConfigError(str(path), [Problem("", f"malformed .cfg file: {str(exc).splitlines()[0]}")]) from None
    problems = [
        Problem(f"{section}.{key}", "missing required key")
        for section, keys in _REQUIRED.items()
        for key in keys
        if not parser.has_option(section, key)
    ]
    if problems:
        raise ConfigError(str(path), problems)
    presets = parser["architecture_presets"]
    mode = parser["run_presets"]["InterfaceBandwidth"].strip().lower()
    if mode not in ("calc", "user"):
        raise ConfigError(str(path), [Problem("run_presets.InterfaceBandwidth", f"expected CALC or USER, got {mode!r}")])

    def kib(key: str) -> str:
        return f"{presets[key].strip()}KiB"

    arch = {
        "name": parser["general"]["run_name"].strip(),
        "timing_model": "scalesim",
        "array": {"rows": _int(presets, "ArrayHeight", path), "cols": _int(presets, "ArrayWidth", path),
                  "dataflow": presets["Dataflow"].strip().lower()},
        "buffers": {op: {"size": kib(key)} for op, key in
                    (("ifmap", "IfmapSramSzkB"), ("filter", "FilterSramSzkB"), ("ofmap", "OfmapSramSzkB"))},
        "scalesim": {"bandwidth_mode": mode, "run_name": parser["general"]["run_name"].strip()},
        "source": f"SCALE-Sim config {Path(path).name}",
    }
    if mode == "user":
        layout = parser["layout"] if parser.has_section("layout") else {}
        missing = [k for k in ("IfmapSRAMBankBandwidth", "FilterSRAMBankBandwidth") if k not in layout]
        if missing or "Bandwidth" not in presets:
            keys = [f"layout.{k}" for k in missing] + ([] if "Bandwidth" in presets else ["architecture_presets.Bandwidth"])
            raise ConfigError(str(path), [Problem(k, "missing required key (USER bandwidth mode)") for k in keys])
        arch["dram"] = {"per_operand": {
            "ifmap": float(layout["IfmapSRAMBankBandwidth"]),
            "filter": float(layout["FilterSRAMBankBandwidth"]),
            # SCALE-Sim parses a comma list and uses its first entry.
            "ofmap": float(presets["Bandwidth"].split(",")[0]),
        }}
    return arch_from_dict(arch, str(path))


def _int(section, key: str, path) -> int:
    try:
        return int(section[key].strip())
    except ValueError:
        raise ConfigError(str(path), [Problem(key, f"expected an integer, got {section[key]!r}")]) from None


def load_scalesim_topology(path: str | Path) -> Network:
    """A Network from a SCALE-Sim topology CSV; conv or GEMM format is told by the header."""
    lines = [line.strip() for line in read_text(path, WorkloadError).splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise WorkloadError(str(path), [Problem("", "is empty, expected a header and layer rows")])
    header = [h.strip().lower() for h in lines[0].split(",")]
    is_gemm = header[1:4] == ["m", "n", "k"]
    layers, problems = [], []
    names: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        cells = [c.strip() for c in line.split(",")]
        if not any(cells):
            continue  # a row of bare commas (Resnet50.csv has one)
        if cells[-1] == "":
            cells = cells[:-1]
        want = 4 if is_gemm else 8
        if len(cells) < want:
            problems.append(Problem(f"line {number}", f"expected {want} columns, got {len(cells)}: {line!r}"))
            continue
        try:
            numbers = [int(float(c)) for c in cells[1:want]]
        except ValueError:
            problems.append(Problem(f"line {number}", f"expected integers after the layer name: {line!r}"))
            continue
        name = cells[0] or f"layer{number - 1}"
        names[name] = names.get(name, 0) + 1
        if names[name] > 1:
            name = f"{name}#{names[name]}"
        layer = _gemm_row(name, numbers) if is_gemm else _conv_row(name, numbers)
        extra = [c for c in cells[want:] if c]
        if extra and ":" in extra[0] and extra[0] not in ("1:1",):
            layer["compression"] = {"sparsity": {"pattern": extra[0]}}
        layers.append(layer)
    if problems:
        raise WorkloadError(str(path), problems)
    return network_from_dict(
        {"name": Path(path).stem, "layers": layers, "source": f"SCALE-Sim topology {Path(path).name}"}, str(path)
    )


def _gemm_row(name: str, numbers: list[int]) -> dict:
    m, n, k = numbers
    return {"op": "gemm", "name": name, "m": m, "n": n, "k": k}


def _conv_row(name: str, numbers: list[int]) -> dict:
    height, width, kernel_h, kernel_w, channels, filters, stride = numbers
    depthwise = "DP" in name
    return {
        "op": "conv2d", "name": name, "in_h": height, "in_w": width, "kernel": [kernel_h, kernel_w],
        "in_channels": channels, "out_channels": channels * filters if depthwise else filters,
        "groups": channels if depthwise else 1, "stride": stride,
    }
