"""The sweep spec a user writes: a base arch, workloads, schemes, axes, a sampler, constraints.

```yaml
name: resnet50-array-x-sram
arch: ../../arch_configs/edge_32x32.yaml      # paths are relative to this file
workloads: [../scalesim/Resnet50.csv]
schemes: [none, ../schemes/int4.yaml]         # none: the workload as written
axes:                                          # dotted arch paths, values as in an arch YAML
  array.rows: [16, 32, 64]
  buffers.ifmap.size: [32KiB, 64KiB]
  array: [{rows: 16, cols: 16}, {rows: 32, cols: 32}]   # a mapping is merged: coupled axes
tied: {array.cols: array.rows}                 # a field that always takes an axis's value
sampler: {kind: grid}                          # grid | random | lhs (with samples, seed)
constraints: {sram_bytes: {max: 1MiB}}         # design metrics, see accelsim.dse.metrics.DESIGN_METRICS
objectives: [latency_s, energy_pj]             # minimised; the Pareto front uses them
mapping: search                                # search | fixed (default: the arch's mapping: key, else search)
objective: edp                                 # what the search minimises: cycles | energy | edp
masks: true                                    # real masks from the schemes (under the results folder)
```

Validated by the generic loader of :mod:`accelsim.spec.fields` (unknown keys, did-you-mean,
every problem at once); axis paths are checked against :class:`~accelsim.spec.arch.ArchSpec`.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim.dse.metrics import DESIGN_METRICS, parse_bound
from accelsim.errors import Problem, did_you_mean
from accelsim.spec.arch import ArchSpec
from accelsim.spec.fields import FrozenMap, spec_field, validated, yaml_key
from accelsim.spec.load import read_yaml
from accelsim.spec.options import Fidelity, MappingMode, Objective

NO_SCHEME = "none"


class SamplerKind(enum.Enum):
    """How design points are drawn from the axes."""

    GRID = "grid"
    RANDOM = "random"
    LHS = "lhs"


@dataclass(frozen=True, kw_only=True)
class SamplerSpec:
    """``grid``: every combination; ``random``/``lhs``: ``samples`` points drawn with ``seed``."""

    kind: SamplerKind = spec_field(SamplerKind.GRID)
    samples: int = spec_field(0, minimum=0, doc="points to draw (random, lhs)")
    seed: int = spec_field(0, minimum=0)

    def check(self) -> list[Problem]:
        if self.kind is not SamplerKind.GRID and self.samples < 1:
            return [Problem("samples", f"{self.kind.value} sampling needs samples >= 1")]
        return []


@dataclass(frozen=True, kw_only=True)
class Bound:
    """Inclusive bounds of a design metric, written with units (``max: 1MiB``)."""

    min: Any = spec_field(None)
    max: Any = spec_field(None)

    def check(self) -> list[Problem]:
        if self.min is None and self.max is None:
            return [Problem("", "expected min, max or both")]
        return []


@dataclass(frozen=True, kw_only=True)
class SweepSpec:
    """A design-space sweep. Paths are resolved against ``base_dir`` (the spec's folder)."""

    name: str = spec_field("sweep")
    arch: str = spec_field(doc="path of the base architecture")
    workloads: tuple[str, ...] = spec_field(doc="workload paths")
    schemes: tuple[str, ...] = spec_field((NO_SCHEME,), doc="compression scheme paths, or none")
    axes: Mapping[str, tuple[Any, ...]] = spec_field(FrozenMap({}))
    tied: Mapping[str, str] = spec_field(FrozenMap({}), doc="arch path -> the axis whose value it always takes")
    sampler: SamplerSpec = spec_field(SamplerSpec())
    constraints: Mapping[str, Bound] = spec_field(FrozenMap({}))
    objectives: tuple[str, ...] = spec_field(("latency_s", "energy_pj"))
    fidelity: str = spec_field(Fidelity.FOLD.value)
    batch: int | None = spec_field(None, minimum=1, doc="override every workload's batch size")
    per_layer: bool = spec_field(False, doc="also keep one row per layer")
    mapping: MappingMode | None = spec_field(
        None, doc="fixed or search (the mapper's best per layer); default: each arch's mapping: key, else search "
                  "under native timing (fixed under scalesim timing and in the pe fidelity)")
    objective: Objective | None = spec_field(None, doc="what mapping search minimises (default: the arch's "
                                                       "objective: key, else cycles)")
    masks: bool = spec_field(False, doc="apply schemes with real masks, written under the results directory")
    base_dir: str = spec_field(".", doc="folder that relative paths start from (set by the loader)")

    def path(self, name: str) -> Path:
        """``name`` resolved against the spec's folder."""
        return Path(self.base_dir) / name

    def check(self) -> list[Problem]:
        problems = [Problem(f"axes.{p}", m) for p, m in ((p, check_axis_path(p)) for p in self.axes) if m]
        problems += [Problem(f"axes.{p}", "expected at least one value") for p, v in self.axes.items() if not v]
        for path, axis in self.tied.items():
            if message := check_axis_path(path):
                problems.append(Problem(f"tied.{path}", message))
            if axis not in self.axes:
                problems.append(Problem(f"tied.{path}", f"expected the path of an axis, got {axis!r}"
                                        f"{did_you_mean(axis, self.axes)}"))
        for metric, bound in self.constraints.items():
            if metric not in DESIGN_METRICS:
                problems.append(Problem(f"constraints.{metric}", f"unknown design metric; valid metrics: "
                                        f"{', '.join(DESIGN_METRICS)}{did_you_mean(metric, DESIGN_METRICS)}"))
                continue
            for side in ("min", "max"):
                try:
                    parse_bound(metric, getattr(bound, side))
                except ValueError as exc:
                    problems.append(Problem(f"constraints.{metric}.{side}", str(exc)))
        fidelities = [f.value for f in Fidelity]  # a string here, so its problem is reported with the rest
        if self.fidelity not in fidelities:
            problems.append(Problem("fidelity", f"expected one of {', '.join(fidelities)}, got {self.fidelity!r}"
                                    f"{did_you_mean(self.fidelity, fidelities)}"))
        if self.mapping is MappingMode.SEARCH and self.fidelity == Fidelity.PE.value:
            problems.append(Problem("mapping", "search runs in the fold and cycle fidelities; the pe fidelity "
                                    "steps the fixed fold order"))
        if not self.workloads:
            problems.append(Problem("workloads", "expected at least one workload"))
        if len(set(self.schemes)) != len(self.schemes):
            problems.append(Problem("schemes", "a scheme is listed twice"))
        return problems


def check_axis_path(path: str) -> str:
    """An empty string if ``path`` names an arch field, else what is wrong (with did-you-mean)."""
    cls: Any = ArchSpec
    walked = []
    for part in path.split("."):
        if cls is None:  # inside a free-form mapping (energy/area overrides, per-operand bandwidth)
            return ""
        if not dataclasses.is_dataclass(cls):
            return f"'{'.'.join(walked)}' is a value, it has no field '{part}'"
        fields = {yaml_key(f): f for f in dataclasses.fields(cls) if f.init}
        if part not in fields:
            where = ".".join(walked) or "the architecture"
            return f"unknown arch field '{part}' in {where}; valid keys: {', '.join(sorted(fields))}" + did_you_mean(
                part, fields)
        walked.append(part)
        cls = field_class(cls, fields[part])
    return ""


def field_class(cls: type, f: dataclasses.Field) -> Any:
    """The dataclass a field holds, ``None`` for a free-form mapping, or the scalar type."""
    tp = typing.get_type_hints(cls)[f.name]
    union = typing.get_origin(tp) in (typing.Union, types.UnionType)
    options = [a for a in typing.get_args(tp) if a is not type(None)] if union else [tp]
    for option in options:
        if dataclasses.is_dataclass(option):
            return option
        if typing.get_origin(option) in (dict, Mapping):
            return None
    return options[0]


def sweep_from_dict(data: Mapping, source: str = "<dict>", base_dir: str | Path = ".") -> SweepSpec:
    """Validate ``data`` (a parsed sweep YAML) into a :class:`SweepSpec`."""
    early = [Problem("base_dir", "set by the loader from the spec's location; remove it")] if "base_dir" in data else []
    return validated(SweepSpec, {**data, "base_dir": str(base_dir)}, source, problems=early)


def load_sweep_spec(path: str | Path) -> SweepSpec:
    """Load a sweep spec from YAML; its relative paths start from the file's folder."""
    path = Path(path)
    return sweep_from_dict(read_yaml(path), str(path), path.parent)
