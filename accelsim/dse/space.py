"""The design space: axis values applied to an arch dict, sampled, validated and constrained.

A design point is the base architecture's plain dict with one value per axis set at its
dotted path (a mapping value is merged, so ``array: {rows: 16, cols: 16}`` couples two
fields), re-validated by :func:`accelsim.spec.load.arch_from_dict` so a bad value raises
the usual :class:`~accelsim.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from accelsim.dse.metrics import DESIGN_METRICS, parse_bound
from accelsim.dse.spec import SamplerKind, SweepSpec, field_class
from accelsim.dse.store import content_hash
from accelsim.errors import ConfigError, Problem
from accelsim.frontend.load import load_arch
from accelsim.spec.arch import ArchSpec
from accelsim.spec.fields import to_dict, yaml_key
from accelsim.spec.load import arch_from_dict, read_yaml

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DesignPoint:
    """One architecture of the sweep: its axis values as written and its validated spec."""

    index: int
    values: tuple[tuple[str, Any], ...]
    arch: ArchSpec

    @property
    def arch_hash(self) -> str:
        return content_hash(to_dict(self.arch))

    def label(self) -> str:
        return ", ".join(f"{path}={value}" for path, value in self.values) or "base"


def base_arch_dict(path) -> dict:
    """The plain dict of an arch file: the YAML as written, or the converted SCALE-Sim .cfg."""
    if str(path).endswith(".cfg"):
        return to_dict(load_arch(path))
    load_arch(path)  # validate the base on its own first, so its errors name its own file
    return dict(read_yaml(path))


def apply_values(base: Mapping, values: Sequence[tuple[str, Any]]) -> dict:
    """A copy of ``base`` with each ``(dotted path, value)`` set; mappings are merged in."""
    data = copy.deepcopy(dict(base))
    for path, value in values:
        parts = path.split(".")
        node = data
        for depth, part in enumerate(parts[:-1]):
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            elif not isinstance(child, dict):
                raise ConfigError("axes", [Problem(path, f"'{'.'.join(parts[:depth + 1])}' is {child!r}, "
                                                         "not a mapping, so it has no sub-keys")])
            node = child
        _merge(node, parts[-1], copy.deepcopy(value))
    return data


def _merge(node: dict, key: str, value: Any) -> None:
    if isinstance(value, Mapping) and isinstance(node.get(key), Mapping):
        target = node[key] = dict(node[key])
        for sub, sub_value in value.items():
            _merge(target, sub, sub_value)
    else:
        node[key] = value


def sample_indices(sizes: Sequence[int], kind: SamplerKind, samples: int, seed: int) -> list[tuple[int, ...]]:
    """Index tuples into each axis's values, without repeats, in a reproducible order.

    ``grid``: all combinations (last axis fastest). ``random``: ``samples`` distinct
    combinations drawn uniformly (all of them if there are fewer). ``lhs``: Latin hypercube,
    each axis cut into ``samples`` strata visited once, a stratum mapped to a value index
    by ``floor(u * size)``; with fewer values than samples some combinations repeat and
    are kept once, so it may return fewer than ``samples`` points.
    """
    if kind is SamplerKind.GRID:
        return list(itertools.product(*(range(n) for n in sizes)))
    rng = np.random.default_rng(seed)
    total = int(np.prod(sizes, dtype=object))
    found: dict[tuple[int, ...], None] = {}
    if kind is SamplerKind.RANDOM:
        want = min(samples, total)
        while len(found) < want:
            draw = rng.integers(0, sizes, size=(want - len(found), len(sizes))) if sizes else np.zeros((1, 0), int)
            for row in draw:
                found.setdefault(tuple(int(i) for i in row), None)
        return list(found)[:want]
    strata = np.stack([(rng.permutation(samples) + rng.random(samples)) / samples for _ in sizes], axis=1) \
        if sizes else np.zeros((samples, 0))
    for row in strata:
        found.setdefault(tuple(int(u * n) for u, n in zip(row, sizes)), None)
    return list(found)


def design_points(spec: SweepSpec) -> tuple[list[DesignPoint], int]:
    """The sweep's valid design points in order, and how many the constraints removed.

    Raises :class:`ConfigError` naming the design point and key when an axis value does not
    make a valid architecture.
    """
    base = base_arch_dict(spec.path(spec.arch))
    paths = list(spec.axes)
    choices = [spec.axes[p] for p in paths]
    sampler = spec.sampler
    indices = sample_indices([len(c) for c in choices], sampler.kind, sampler.samples, sampler.seed)
    bounds = {m: (parse_bound(m, b.min), parse_bound(m, b.max)) for m, b in spec.constraints.items()}
    points, rejected = [], 0
    for combo in indices:
        values = tuple((p, c[i]) for p, c, i in zip(paths, choices, combo))
        label = ", ".join(f"{p}={v}" for p, v in values)
        settings = values + tuple((path, dict(values)[axis]) for path, axis in spec.tied.items())
        arch = arch_from_dict(apply_values(base, settings), f"{spec.path(spec.arch)} with {label}")
        if _satisfies(arch, bounds):
            points.append(DesignPoint(len(points), values, arch))
        else:
            rejected += 1
    log.info("%d design points (%d removed by constraints)", len(points), rejected)
    return points, rejected


def _satisfies(arch: ArchSpec, bounds: Mapping[str, tuple[float | None, float | None]]) -> bool:
    for metric, (low, high) in bounds.items():
        value = DESIGN_METRICS[metric].of(arch)
        if value is None:
            raise ConfigError("constraints", [Problem(metric, "cannot be computed yet (its model has not landed)")])
        if (low is not None and value < low) or (high is not None and value > high):
            return False
    return True


def axis_value(arch: ArchSpec, path: str) -> Any:
    """The validated value at ``path`` in base units (``buffers.ifmap.size`` -> bytes).

    Mappings (coupled axes) come back as compact JSON text so they fit in a table column.
    """
    node: Any = arch
    for part in path.split("."):
        if dataclasses.is_dataclass(node):
            fields = {yaml_key(f): f for f in dataclasses.fields(node)}
            node = getattr(node, fields[part].name) if part in fields else None
        elif isinstance(node, Mapping):
            node = node.get(part)
        else:
            node = None
    plain = to_dict(node)
    if isinstance(plain, (dict, list)):
        return json.dumps(plain, sort_keys=True, separators=(",", ":"))
    return plain


def axis_unit(path: str) -> str:
    """The unit of the arch field at ``path``, from its name (``size_bytes`` -> ``bytes``)."""
    cls: Any = ArchSpec
    name = ""
    for part in path.split("."):
        if not dataclasses.is_dataclass(cls):
            return ""
        fields = {yaml_key(f): f for f in dataclasses.fields(cls)}
        if part not in fields:
            return ""
        name = fields[part].name
        cls = field_class(cls, fields[part])
    for suffix in ("bytes", "hz", "nm", "cycles", "pj", "um2"):
        if name.endswith("_" + suffix):
            return {"hz": "Hz", "pj": "pJ", "um2": "um^2"}.get(suffix, suffix)
    return ""
