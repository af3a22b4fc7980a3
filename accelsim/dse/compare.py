"""Side by side: compression schemes, networks (a student against its teacher) and architectures."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from accelsim.dse.evaluate import Evaluator, apply_scheme, default_evaluator, derived_metrics
from accelsim.dse.metrics import design_area_um2
from accelsim.dse.spec import NO_SCHEME
from accelsim.frontend.load import load_arch, load_workload
from accelsim.spec.arch import ArchSpec
from accelsim.spec.workload import Network

# Columns a comparison shows when the models produce them, in this order.
METRICS = ("cycles", "latency_s", "energy_pj", "edp_pj_s", "area_mm2", "macs", "utilization", "stall_cycles",
           "dram_read_bytes", "dram_write_bytes", "dram_bytes")
_TRAFFIC = re.compile(r"_(sram|dram)_(reads|writes)$")
_ACCURACY = re.compile(r"error|sqnr")  # numeric error the pe fidelity reports
# Relative columns: (name, metric, higher is better)
RATIOS = (("speedup", "latency_s", True), ("energy_ratio", "energy_pj", False), ("edp_ratio", "edp_pj_s", False))


def _labels(items: Sequence, loaded: Sequence) -> list[str]:
    """Each spec's ``name``; file stems instead when names repeat (two variants of one design)."""
    names = [spec.name for spec in loaded]
    if len(set(names)) == len(names):
        return names
    return [Path(item).stem if isinstance(item, (str, Path)) else f"{spec.name}#{i}"
            for i, (item, spec) in enumerate(zip(items, loaded))]


def compare(archs: Sequence[ArchSpec | str | Path], workloads: Sequence[Network | str | Path],
            schemes: Sequence[str | Path | None] = (None,), *, fidelity: str = "fold",
            mapping: str | None = None, objective: str | None = None, mask_dir: str | Path | None = None, evaluator: Evaluator | None = None,
            batch: int | None = None, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """One row per (arch, workload, scheme), in that order, with ratios to a baseline row.

    ``fidelity``, ``mapping`` and ``objective`` are passed to :func:`accelsim.simulate.simulate`
    (``mapping="search"``: each layer's best mapping for ``objective``; ``None``: each arch's own
    or the default, docs/mapper.md). With
    ``mask_dir``, schemes that ask for ``masks`` get real ones, written under it
    (:func:`accelsim.dse.evaluate.apply_scheme`); without it they count by pattern and density.

    Metrics are those in :data:`METRICS` that the models produce, every SRAM/DRAM access
    count, and any numeric-error column (``*error*``, from the ``pe`` fidelity or the
    quantizers). Ratios compare rows that differ in one thing only, the last of arch, workload
    and scheme that takes several values (:func:`ratio_dimension`): with several schemes, each
    row against the first scheme on the same arch and workload; else each workload against the
    first on the same arch; else each arch against the first. ``speedup`` is the baseline's
    latency over the row's; ``energy_ratio`` and ``edp_ratio`` are the row's over the baseline's.
    ``progress(done, total)`` is called after each row.
    """
    evaluator = evaluator or default_evaluator(fidelity, mapping, objective)
    arch_specs = [(a if isinstance(a, ArchSpec) else load_arch(a)) for a in archs]
    nets = [(w if isinstance(w, Network) else load_workload(w, batch=batch)) for w in workloads]
    schemes = [None if s in (None, NO_SCHEME) else s for s in schemes or (None,)]
    compressed = [(net_label, NO_SCHEME if scheme is None else Path(scheme).stem, apply_scheme(net, scheme, mask_dir))
                  for net_label, net in zip(_labels(workloads, nets), nets) for scheme in schemes]
    rows = []
    for arch_label, arch in zip(_labels(archs, arch_specs), arch_specs):
        area = design_area_um2(arch)
        for net_label, scheme_label, net in compressed:
            summary, _ = evaluator(arch, net)
            if progress is not None:
                progress(len(rows) + 1, len(arch_specs) * len(compressed))
            row = {**summary, **derived_metrics(summary, arch), "arch": arch_label, "workload": net_label,
                   "scheme": scheme_label}
            if area is not None:
                row["area_mm2"] = area / 1e6
            if "dram_read_bytes" in row and "dram_write_bytes" in row:
                row["dram_bytes"] = row["dram_read_bytes"] + row["dram_write_bytes"]
            rows.append(row)
    table = pd.DataFrame(rows)
    keep = [c for c in METRICS if c in table]
    keep += [c for c in table.columns if (_TRAFFIC.search(c) or _ACCURACY.search(c)) and c not in keep]
    table = table[["arch", "workload", "scheme", *keep]]
    if not len(table):
        return table
    order = ["arch", "workload", "scheme"]
    fixed = order[:order.index(ratio_dimension(table))]  # rows sharing these share a baseline
    for name, metric, higher_better in RATIOS:
        if metric in table:
            values = table[metric].astype(float)
            first = values.groupby([table[c] for c in fixed], sort=False).transform("first") if fixed else values.iloc[0]
            with np.errstate(divide="ignore", invalid="ignore"):
                table[name] = first / values if higher_better else values / first
    return table


def ratio_dimension(table: pd.DataFrame) -> str:
    """What a comparison's ratios vary: the last of ``scheme``, ``workload``, ``arch`` with several values."""
    for column in ("scheme", "workload"):
        if table[column].nunique() > 1:
            return column
    return "arch"
