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
import logging
from pathlib import Path

from accelsim.errors import ConfigError, Problem, WorkloadError, did_you_mean
from accelsim.spec.arch import ArchSpec
from accelsim.spec.load import arch_from_dict, network_from_dict, read_text
from accelsim.spec.workload import Network

logger = logging.getLogger(__name__)

_REQUIRED = {
    "general": ("run_name",),
    "architecture_presets": (
        "ArrayHeight", "ArrayWidth", "IfmapSramSzkB", "FilterSramSzkB", "OfmapSramSzkB", "Dataflow",
    ),
    "run_presets": ("InterfaceBandwidth",),
}
_USER_REQUIRED = {"architecture_presets": ("Bandwidth",),
                  "layout": ("IfmapSRAMBankBandwidth", "FilterSRAMBankBandwidth")}
# Every key SCALE-Sim 3.0.0 reads (scale_config.read_conf_file), for did-you-mean on a misspelt one.
_KNOWN = {
    "general": ("run_name",),
    "architecture_presets": _REQUIRED["architecture_presets"] + (
        "IfmapOffset", "FilterOffset", "OfmapOffset", "Bandwidth", "ReadRequestBuffer",
        "WriteRequestBuffer", "MemoryBanks"),
    "layout": ("IfmapCustomLayout", "IfmapSRAMBankBandwidth", "IfmapSRAMBankNum", "IfmapSRAMBankPort",
               "FilterCustomLayout", "FilterSRAMBankBandwidth", "FilterSRAMBankNum", "FilterSRAMBankPort"),
    "sparsity": ("SparsitySupport", "SparseRep", "OptimizedMapping", "BlockSize", "RandomNumberGeneratorSeed"),
    "run_presets": ("InterfaceBandwidth", "UseRamulatorTrace"),
}
# Switches that change SCALE-Sim's numbers in ways accelsim does not reproduce: (section, key, off value).
_UNSUPPORTED = (("sparsity", "SparsitySupport", "false"), ("layout", "IfmapCustomLayout", "false"),
                ("layout", "FilterCustomLayout", "false"), ("run_presets", "UseRamulatorTrace", "false"))


def load_scalesim_config(path: str | Path) -> ArchSpec:
    """An :class:`ArchSpec` in ``scalesim`` timing for a SCALE-Sim ``.cfg`` file.

    Keys are case-insensitive and sections case-sensitive, as in SCALE-Sim (Python's
    configparser). Keys accelsim does not need (offsets, request buffers, bank counts) may be
    missing; a missing key accelsim needs, or one spelt close to a known key, is an error.
    """
    text = read_text(path)
    parser = configparser.ConfigParser(interpolation=None)  # SCALE-Sim's format has no %(name)s interpolation
    try:
        parser.read_string(text, source=str(path))
    except configparser.Error as exc:
        raise ConfigError(str(path), [Problem("", f"malformed .cfg file: {str(exc).splitlines()[0]}")]) from None
    mode = (parser.get("run_presets", "InterfaceBandwidth", fallback="") or "").strip().lower()
    required = dict(_REQUIRED)
    if mode == "user":
        required = {**required, **{s: required.get(s, ()) + keys for s, keys in _USER_REQUIRED.items()}}
    problems = _missing_keys(parser, required)
    if problems:
        raise ConfigError(str(path), problems)
    if mode not in ("calc", "user"):
        raise ConfigError(str(path), [Problem("run_presets.InterfaceBandwidth", f"expected CALC or USER, got {mode!r}")])
    for section, key, off in _UNSUPPORTED:
        value = parser.get(section, key, fallback=off).strip()
        if value.lower() != off:
            raise ConfigError(str(path), [Problem(f"{section}.{key}", f"{value} is not supported by accelsim's "
                                                  f"scalesim timing (it reproduces SCALE-Sim with {key}: {off})")])
    presets = parser["architecture_presets"]
    ints = {key: _int(parser, "architecture_presets", key, path) for key in _REQUIRED["architecture_presets"][:5]}
    dataflow = presets["Dataflow"].strip().lower()
    if dataflow not in ("os", "ws", "is"):
        raise ConfigError(str(path), [Problem("architecture_presets.Dataflow", f"expected os, ws or is, got {dataflow!r}")])
    arch = {
        "name": parser["general"]["run_name"].strip(),
        "timing_model": "scalesim",
        "array": {"rows": ints["ArrayHeight"], "cols": ints["ArrayWidth"], "dataflow": dataflow},
        "buffers": {op: {"size": f"{ints[key]}KiB"} for op, key in
                    (("ifmap", "IfmapSramSzkB"), ("filter", "FilterSramSzkB"), ("ofmap", "OfmapSramSzkB"))},
        "scalesim": {"bandwidth_mode": mode, "run_name": parser["general"]["run_name"].strip()},
        "source": f"SCALE-Sim config {Path(path).name}",
    }
    if mode == "user":
        arch["dram"] = {"per_operand": {
            "ifmap": _int(parser, "layout", "IfmapSRAMBankBandwidth", path),
            "filter": _int(parser, "layout", "FilterSRAMBankBandwidth", path),
            # SCALE-Sim parses a comma list and uses its first entry.
            "ofmap": _int(parser, "architecture_presets", "Bandwidth", path, first_of_list=True),
        }}
    return arch_from_dict(arch, str(path))


def _missing_keys(parser: configparser.ConfigParser, required: dict[str, tuple[str, ...]]) -> list[Problem]:
    """A problem per missing required key, naming a present key that looks like a misspelling of it."""
    problems = []
    for section, keys in required.items():
        present = list(parser[section]) if parser.has_section(section) else []
        strays = [k for k in present if k not in (x.lower() for x in _KNOWN.get(section, ()))]
        for key in keys:
            if not parser.has_option(section, key):
                hint = did_you_mean(key.lower(), strays).replace("did you mean", "misspelt as")
                where = "" if parser.has_section(section) else f" (no [{section}] section)"
                problems.append(Problem(f"{section}.{key}", f"missing required key{where}{hint}"))
    return problems


def _int(parser: configparser.ConfigParser, section: str, key: str, path, first_of_list: bool = False) -> int:
    """A positive integer value, as SCALE-Sim's ``int()`` reads it."""
    raw = parser[section][key].strip()
    try:
        value = int(raw.split(",")[0] if first_of_list else raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigError(str(path), [Problem(f"{section}.{key}", f"expected a positive integer, got {raw!r}")])
    return value


def load_scalesim_topology(path: str | Path) -> Network:
    """A Network from a SCALE-Sim topology CSV; conv or GEMM format is told by the header."""
    lines = [line.strip() for line in read_text(path, WorkloadError).splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        raise WorkloadError(str(path), [Problem("", "is empty, expected a header and layer rows")])
    header = [h.strip().lower() for h in lines[0].split(",")]
    if len(header) > 1 and all(h.isdigit() for h in header[1:4]):
        logger.warning("%s: line 1 looks like a layer, but SCALE-Sim reads line 1 as the header and skips it", path)
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
            numbers = [int(c) for c in cells[1:want]]  # SCALE-Sim's int(): no '3.0', no '3.5'
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
