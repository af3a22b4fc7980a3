"""What a simulation returns: per-layer and summary DataFrames (units in the column names)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from accelsim.spec.arch import ArchSpec
from accelsim.spec.options import Fidelity
from accelsim.spec.workload import Network

# Column order of Result.layers (DESIGN.md "Public API"); cost columns of layers no hardware
# model costs yet are missing values, never zeros.
LAYER_COLUMNS = (
    "layer", "op", "macs", "weight_bits", "act_bits", "weight_precision", "act_precision", "weight_density", "act_density", "sparsity_model",
    "cycles", "compute_cycles", "stall_cycles", "dispatch_cycles", "utilization", "mapping_efficiency", "compute_utilization",
    "mac_ops", "gated_macs", "skipped_macs",
    "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes", "ofmap_sram_reads",
    "ifmap_dram_reads", "filter_dram_reads", "ofmap_dram_writes", "ofmap_dram_reads",
    "dram_read_bytes", "dram_write_bytes", "weight_format", "weight_metadata_bytes",
    "cycles_incl_prefetch", "folds", "mapping", "costed",
)
RATIO_COLUMNS = ("utilization", "mapping_efficiency", "compute_utilization")
TEXT_COLUMNS = ("sparsity_model", "weight_format", "mapping", "ifmap_source", "ofmap_dest")


@dataclass(frozen=True, eq=False)
class Result:
    """A simulation of ``network`` on ``arch``: ``layers`` (one row per layer) and ``summary`` (one
    row of totals), pandas DataFrames built on first access from ``layer_arrays`` and
    ``summary_row`` (a caller that reads only ``cycles`` builds no frame).

    ``layer_arrays``: the per-layer columns as numpy arrays, in ``layers``' column order
    (:func:`layer_columns`, then the energy and any error columns; :func:`layer_frame` gives
    their frame dtypes); ``summary_row``: ``summary``'s values by column (:func:`network_totals`).
    Both are read-only by convention.
    """

    arch: ArchSpec
    network: Network
    fidelity: Fidelity
    layer_arrays: Mapping[str, np.ndarray]
    summary_row: Mapping[str, object]

    @functools.cached_property
    def layers(self) -> pd.DataFrame:
        """One row per layer (README, "Result columns")."""
        return layer_frame(self.layer_arrays)

    @functools.cached_property
    def summary(self) -> pd.DataFrame:
        """One row of totals (:func:`network_totals`)."""
        return pd.DataFrame([self.summary_row])

    @property
    def cycles(self) -> int:
        """Total cycles of the costed layers (layers run one after another): ``summary``'s, read from
        ``summary_row`` until that frame is built (a caller may edit the frame)."""
        if "summary" in self.__dict__:
            return int(self.summary["cycles"].iloc[0])
        return int(self.summary_row["cycles"])


def layer_descriptors(network: Network) -> dict[str, np.ndarray]:
    """The columns that describe each layer of ``network`` (name, op, MACs, operand widths and
    formats, densities), read-only arrays in ``LAYER_COLUMNS`` order, shared between runs: memoised
    per network (a sweep's designs build them once per network; :func:`clear_descriptors`)."""
    return dict(_memo_descriptors(network))


def clear_descriptors() -> None:
    """Forget :func:`layer_descriptors`' memo (benchmarks of cold runs)."""
    _memo_descriptors.cache_clear()


@functools.lru_cache(maxsize=64)
def _memo_descriptors(network: Network) -> dict[str, np.ndarray]:
    """:func:`layer_descriptors`, computed (the caller copies the dict; the arrays are read-only)."""
    layers = network.layers
    data: dict[str, np.ndarray] = {
        "layer": np.array([layer.name for layer in layers], dtype=object),
        "op": np.array([layer.op.value for layer in layers], dtype=object),
        "macs": np.array([layer.macs for layer in layers], dtype=np.int64),
        "weight_bits": np.array([layer.compression.weight_precision.bits for layer in layers], dtype=np.int64),
        "act_bits": np.array([layer.compression.act_precision.bits for layer in layers], dtype=np.int64),
        "weight_precision": np.array([layer.compression.weight_precision.name for layer in layers], dtype=object),
        "act_precision": np.array([layer.compression.act_precision.name for layer in layers], dtype=object),
        "weight_density": np.array([layer.compression.weight_density for layer in layers]),
        "act_density": np.array([layer.compression.act_density for layer in layers]),
    }
    for values in data.values():
        values.flags.writeable = False
    return data


def layer_columns(descriptors: dict[str, np.ndarray], columns: dict[str, np.ndarray], costed: np.ndarray,
                  include_prefetch: bool) -> dict[str, np.ndarray]:
    """The per-layer columns as plain numpy arrays, in ``LAYER_COLUMNS`` order: the layer
    ``descriptors`` (:func:`layer_descriptors`, shared, read-only) plus the named counter
    ``columns`` (counts int64, zero for layers not costed; ratios float, NaN when not costed; text
    as objects, None when not costed; views of ``columns`` where every layer is costed).
    ``cycles_incl_prefetch`` is kept only when ``include_prefetch`` (SCALE-Sim timing)."""
    data = dict(descriptors)
    every = costed.all()
    for name, values in columns.items():
        if name in RATIO_COLUMNS:
            data[name] = np.asarray(values, dtype=np.float64) if every else np.where(costed, values, np.nan)
        elif name in TEXT_COLUMNS:
            data[name] = np.asarray(values, dtype=object) if every else np.where(costed, values, None)
        else:
            values = np.asarray(values, dtype=np.int64)
            data[name] = values if every else np.where(costed, values, 0)
    data["costed"] = costed
    order = [c for c in LAYER_COLUMNS if c in data and (include_prefetch or c != "cycles_incl_prefetch")]
    order += [c for c in columns if c not in LAYER_COLUMNS]  # model-specific counts, e.g. vector op kinds
    return {name: data[name] for name in order}


def layer_frame(data: dict[str, np.ndarray]) -> pd.DataFrame:
    """The per-layer DataFrame of :func:`layer_columns`: counts are nullable ``Int64`` (exact;
    ``<NA>`` for layers not costed), ratios float (NaN when not costed), text columns
    (``TEXT_COLUMNS``, and ``layer``/``op``) strings."""
    missing = ~data["costed"]
    frame: dict[str, object] = {}
    for name, values in data.items():
        if name in ("layer", "op", "weight_precision", "act_precision"):
            frame[name] = list(values)
        elif name in TEXT_COLUMNS:
            frame[name] = pd.array(values, dtype="string")
        elif values.dtype == np.int64 and name not in ("macs", "weight_bits", "act_bits"):
            frame[name] = pd.arrays.IntegerArray(values, missing)
        else:
            frame[name] = values
    return pd.DataFrame(frame)


def network_totals(network: Network, arch: ArchSpec, fidelity: str, layers: Mapping[str, np.ndarray],
                   metrics: dict[str, object] | None = None) -> dict[str, object]:
    """The row of totals (by column) from :func:`layer_columns`' arrays. Counts are sums over costed layers;
    ``utilization`` and ``compute_utilization`` are cycle-weighted means, ``mapping_efficiency`` a
    fold-weighted mean (0 when no costed layer has cycles or folds).
    ``lost_macs`` are the MACs of source-model nodes an import left out (``allow_partial``).
    ``metrics`` (whole-network values such as energy totals) follow them, in their order."""
    costed = np.asarray(layers["costed"], dtype=bool)
    row: dict[str, object] = {"network": network.name, "arch": arch.name, "fidelity": fidelity,
                              "timing_model": arch.timing_model.value, "layers": len(costed),
                              "costed_layers": int(costed.sum()), "macs": int(layers["macs"].sum()),
                              "lost_macs": network.lost_macs}

    skip = {"layer", "op", "macs", "costed", "weight_bits", "act_bits", "weight_precision", "act_precision",
            "weight_density", "act_density", *TEXT_COLUMNS}
    every = costed.all()  # no row to leave out

    def costed_rows(name: str) -> np.ndarray:
        return layers[name] if every else layers[name][costed]

    for name in [name for name in layers if name not in skip]:
        values = costed_rows(name)
        if name in RATIO_COLUMNS:
            weight = costed_rows("folds" if name == "mapping_efficiency" else "cycles").astype(np.float64)
            total = weight.sum()
            used = weight > 0  # rows of weight 0 (no folds, or every cycle hidden) do not count
            row[name] = float((values[used] * weight[used]).sum() / total) if total else 0.0
        elif values.dtype.kind in "iu":
            row[name] = int(values.sum())
        else:
            row[name] = float(values.sum())
    return row | (metrics or {})
