"""Reading specs from files: YAML here; SCALE-Sim .cfg/.csv and ONNX through the front ends.

Every failure (missing file, a directory, binary junk, malformed YAML, an empty file, a
wrong key) becomes one :class:`ConfigError` naming the file and each offending key path.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from accelsim.errors import ConfigError, Problem, WorkloadError
from accelsim.spec.arch import ArchSpec
from accelsim.spec.fields import to_dict, validated
from accelsim.spec.workload import Network

YAML_SUFFIXES = (".yaml", ".yml")


def read_text(path: str | Path, error: type[ConfigError] = ConfigError) -> str:
    """The text of ``path``, or a ConfigError saying why it cannot be read as text."""
    path = Path(path)
    if not path.exists():
        raise error(str(path), [Problem("", "no such file")])
    if path.is_dir():
        raise error(str(path), [Problem("", "is a directory, expected a file")])
    data = path.read_bytes()
    if b"\x00" in data:
        raise error(str(path), [Problem("", "is a binary file, expected text")])
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(str(path), [Problem("", f"is not UTF-8 text ({exc.reason} at byte {exc.start})")]) from None


def read_yaml(path: str | Path, error: type[ConfigError] = ConfigError) -> Mapping:
    """Parse a YAML file whose top level must be a mapping."""
    text = read_text(path, error)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(str(path), [Problem("", f"malformed YAML{where}: {reason}")]) from None
    if data is None:
        raise error(str(path), [Problem("", "is empty, expected a mapping of keys")])
    if not isinstance(data, Mapping):
        raise error(str(path), [Problem("", f"expected a mapping of keys at the top level, got {type(data).__name__}")])
    return data


def arch_from_dict(data: Mapping, source: str = "<dict>") -> ArchSpec:
    """Validate ``data`` (a parsed arch YAML) into an :class:`ArchSpec`."""
    return validated(ArchSpec, data, source)


def network_from_dict(data: Mapping, source: str = "<dict>") -> Network:
    """Validate ``data`` (a parsed workload YAML) into a :class:`Network`.

    The network's ``batch`` is the default batch of every layer that does not set one.
    """
    data = dict(data)
    batch = data.get("batch", 1)
    if isinstance(data.get("layers"), list):
        data["layers"] = [
            {"batch": batch, **layer} if isinstance(layer, Mapping) and "batch" not in layer else layer
            for layer in data["layers"]
        ]
    return validated(Network, data, source, error=WorkloadError)


def load_arch(path: str | Path) -> ArchSpec:
    """Load an architecture from YAML or from a SCALE-Sim ``.cfg`` file."""
    path = Path(path)
    if path.suffix == ".cfg":
        from accelsim.frontend.scalesim import load_scalesim_config

        return load_scalesim_config(path)
    if path.suffix not in YAML_SUFFIXES and path.exists() and not path.is_dir():
        raise ConfigError(str(path), [Problem("", "expected an architecture file ending in .yaml, .yml or .cfg")])
    return arch_from_dict(read_yaml(path), str(path))


def load_workload(path: str | Path, batch: int | None = None) -> Network:
    """Load a network from YAML, a SCALE-Sim topology ``.csv`` or an ``.onnx`` model.

    ``batch`` overrides the file's batch size.
    """
    path = Path(path)
    if path.suffix == ".csv":
        from accelsim.frontend.scalesim import load_scalesim_topology

        net = load_scalesim_topology(path)
    elif path.suffix == ".onnx":
        from accelsim.frontend.onnx_io import load_onnx

        net = load_onnx(path, batch=batch)
    elif path.suffix in YAML_SUFFIXES or not path.exists() or path.is_dir():
        net = network_from_dict(read_yaml(path, WorkloadError), str(path))
    else:
        raise WorkloadError(str(path), [Problem("", "expected a workload ending in .yaml, .yml, .csv or .onnx")])
    return net if batch is None else net.with_batch(batch)


def dump_yaml(spec: Any) -> str:
    """YAML text of a spec that :func:`load_arch` / :func:`load_workload` read back equal."""
    return yaml.safe_dump(to_dict(spec), sort_keys=False, default_flow_style=None, width=100)


def save_workload(net: Network, path: str | Path) -> None:
    """Write ``net`` as a YAML workload."""
    lost = f"; {net.lost_macs:,} MACs of the source model left out" if net.lost_macs else ""
    Path(path).write_text(f"# accelsim workload: {net.name} ({net.macs:,} MACs{lost})\n" + dump_yaml(net))
