"""Loading specs from files of any supported kind, chosen by the file's suffix.

Architectures: YAML, or a SCALE-Sim ``.cfg``. Workloads: YAML, a SCALE-Sim topology ``.csv``,
or an ``.onnx`` model. YAML is validated by :mod:`accelsim.spec.load`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from accelsim.compress.masks import read_masks
from accelsim.errors import ConfigError, Problem, WorkloadError
from accelsim.frontend.onnx import load_onnx
from accelsim.frontend.scalesim import load_scalesim_config, load_scalesim_topology
from accelsim.spec.arch import ArchSpec
from accelsim.spec.load import YAML_SUFFIXES, arch_from_dict, check_regular_file, network_from_dict, read_yaml
from accelsim.spec.workload import Network


def load_arch(path: str | Path) -> ArchSpec:
    """Load an architecture from YAML or from a SCALE-Sim ``.cfg`` file."""
    path = Path(path)
    if path.suffix == ".cfg":
        return load_scalesim_config(path)
    if path.suffix not in YAML_SUFFIXES and path.exists() and not path.is_dir():
        raise ConfigError(str(path), [Problem("", "expected an architecture file ending in .yaml, .yml or .cfg")])
    return arch_from_dict(read_yaml(path), str(path))


def load_workload(path: str | Path, batch: int | None = None, *, dims: Mapping[str, int] | None = None,
                  seq_len: int | None = None, allow_partial: bool = False) -> Network:
    """Load a network from YAML, a SCALE-Sim topology ``.csv`` or an ``.onnx`` model.

    ``dims``, ``seq_len`` and ``allow_partial`` apply to ``.onnx`` models only
    (:func:`accelsim.frontend.onnx.load_onnx`: symbolic dimensions bound by name, and whether
    a graph with nodes that cannot be imported is loaded without them).

    ``batch`` overrides the file's batch size. Weight masks the file references are read here
    (relative paths from the file's folder).
    """
    path = Path(path)
    if path.suffix == ".csv":
        net = load_scalesim_topology(path)
    elif path.suffix == ".onnx":
        check_regular_file(path, WorkloadError)  # a FIFO would block the ONNX reader
        net = load_onnx(path, batch=batch, dims=dims, seq_len=seq_len, allow_partial=allow_partial)
    elif path.suffix in YAML_SUFFIXES or not path.exists() or path.is_dir():
        net = network_from_dict(read_yaml(path, WorkloadError), str(path))
    else:
        raise WorkloadError(str(path), [Problem("", "expected a workload ending in .yaml, .yml, .csv or .onnx")])
    net = read_masks(net, path.parent)
    return net if batch is None else net.with_batch(batch)
