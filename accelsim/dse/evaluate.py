"""One design point, one network: the pluggable evaluator and what surrounds it.

An *evaluator* is any picklable callable ``evaluate(arch, net) -> (summary, layers)``:
``summary`` a dict of totals (``cycles``, ``energy_pj``, ...), ``layers`` a per-layer
DataFrame, or its columns as numpy arrays (as ``Result.layer_arrays``: the sweep builds one frame
per chunk with :func:`accelsim.result.layer_frame`), or None. The default runs
:func:`accelsim.simulate.simulate`. This module also prepares networks (workload + compression
scheme) and derives the columns every table shares (latency, EDP, design metrics). A metric the
models do not produce yet is absent, never invented.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accelsim.compress.scheme import apply_scheme as apply, load_scheme
from accelsim.dse.store import content_hash
from accelsim.errors import AccelsimError, NotAvailableError
from accelsim.frontend.load import load_workload
from accelsim.simulate import simulate
from accelsim.spec.arch import ArchSpec
from accelsim.spec.fields import to_dict
from accelsim.spec.load import arch_from_dict, network_from_dict
from accelsim.spec.options import Fidelity, MappingMode, Objective, run_option
from accelsim.spec.workload import Network, WeightMask

log = logging.getLogger(__name__)

LayerTable = pd.DataFrame | Mapping[str, np.ndarray]
Evaluator = Callable[[ArchSpec, Network], tuple[dict[str, Any], LayerTable | None]]


def simulate_point(arch: ArchSpec, net: Network, fidelity: str = "fold", mapping: str | None = None,
                   objective: str | None = None) -> tuple[dict[str, Any], Mapping[str, np.ndarray]]:
    """The default evaluator: :func:`accelsim.simulate.simulate`'s summary row (the values of its
    ``summary`` frame's row, numpy scalars as Python numbers) and its layers' column arrays
    (``Result.layer_arrays``): no frame is built per point.

    ``mapping``/``objective`` as in ``simulate`` (``None``: the arch's or the default, docs/mapper.md).
    """
    result = simulate(arch, net, fidelity=fidelity, mapping=mapping, objective=objective,
                      progress=False)  # a sweep shows its own progress over points
    summary = {name: value.item() if isinstance(value, np.generic) else value
               for name, value in result.summary_row.items()}
    return summary, result.layer_arrays


def default_evaluator(fidelity: Fidelity | str = Fidelity.FOLD, mapping: MappingMode | str | None = None,
                      objective: Objective | str | None = None) -> Evaluator:
    """The simulator at ``fidelity`` with ``mapping``/``objective`` as an evaluator (picklable).

    The options are kept as their string values: they are part of the evaluator's id
    (:func:`evaluator_id`), hence of every stored result's key.
    """
    return functools.partial(simulate_point, fidelity=run_option(Fidelity, fidelity).value,
                             mapping=None if mapping is None else run_option(MappingMode, mapping).value,
                             objective=None if objective is None else run_option(Objective, objective).value)


def evaluator_id(evaluator: Evaluator) -> str:
    """A stable name for an evaluator and its settings; part of every result key."""
    if isinstance(evaluator, functools.partial):
        args = ",".join(f"{k}={v}" for k, v in sorted(evaluator.keywords.items()))
        return f"{evaluator_id(evaluator.func)}({args})"
    named = evaluator if hasattr(evaluator, "__qualname__") else type(evaluator)  # a callable object: its class
    return f"{named.__module__}.{named.__qualname__}"


def warm_worker() -> None:
    """Load the simulator's numba kernels from the on-disk cache (once per worker process)."""
    arch = arch_from_dict({"name": "warm", "array": {"rows": 2, "cols": 2},
                           "buffers": {"unified": {"size": "4KiB"}}})
    net = network_from_dict({"name": "warm", "layers": [{"op": "gemm", "name": "g", "m": 2, "n": 2, "k": 2}]})
    try:
        simulate(arch, net)
    except AccelsimError as exc:  # warming is an optimisation; the real run reports real problems
        log.debug("warm-up run failed: %s", exc)


def apply_scheme(net: Network, scheme_path: str | Path | None, mask_root: str | Path | None = None) -> Network:
    """``net`` compressed by the scheme file (identity for None).

    With ``mask_root``, rules that ask for ``masks`` get real masks, written to
    ``<mask_root>/masks/<hash>/`` (the hash of the network and the scheme, so other inputs never
    share a folder), read, and referenced relative to ``mask_root`` (results keyed by the
    network's dict stay valid when the folder moves).
    Without it those layers keep their pattern and density only.
    """
    if scheme_path is None:
        return net
    scheme = load_scheme(scheme_path)
    if mask_root is None:
        return apply(net, scheme)
    root = Path(mask_root)
    folder = root / "masks" / content_hash([to_dict(net), to_dict(scheme)])
    return _relative_masks(apply(net, scheme, mask_dir=folder), folder, root)


def _relative_masks(net: Network, folder: Path, root: Path) -> Network:
    """``net`` with the mask paths under ``folder`` written relative to ``root``."""
    layers = []
    for layer in net.layers:
        sparsity = layer.compression.sparsity
        if sparsity.mask is not None and Path(sparsity.mask.path).parent == folder:
            relative = Path(sparsity.mask.path).relative_to(root).as_posix()
            sparsity = dataclasses.replace(sparsity, mask=WeightMask(relative, sparsity.mask.values))
            layer = dataclasses.replace(layer, compression=dataclasses.replace(layer.compression, sparsity=sparsity))
        layers.append(layer)
    return dataclasses.replace(net, layers=tuple(layers))


def prepare_network(workload: str | Path, scheme: str | Path | None = None, batch: int | None = None,
                    mask_root: str | Path | None = None) -> Network:
    """Load a workload (YAML, CSV or ONNX), set its batch, apply a compression scheme
    (with real masks under ``mask_root`` if given, see :func:`apply_scheme`)."""
    return apply_scheme(load_workload(workload, batch=batch), scheme, mask_root)


def derived_metrics(summary: dict[str, Any], arch: ArchSpec) -> dict[str, float]:
    """Latency in seconds and energy-delay product, from the summary's cycles and energy."""
    out: dict[str, float] = {}
    if summary.get("cycles") is not None:
        out["latency_s"] = float(summary["cycles"]) / arch.clock_hz
        if summary.get("energy_pj") is not None:
            out["edp_pj_s"] = float(summary["energy_pj"]) * out["latency_s"]
    return out


def roofline_metrics(arch: ArchSpec) -> dict[str, float]:
    """Peak MACs per cycle and DRAM bytes per cycle (absent when unlimited): the roofline's ceilings."""
    out = {"peak_macs_per_cycle": float(arch.pes)}
    bandwidth = arch.dram_bytes_per_cycle()
    if bandwidth is not None:
        out["dram_bytes_per_cycle"] = float(bandwidth)
    return out
