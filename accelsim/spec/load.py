"""Specs from YAML: reading a YAML file, turning its dicts into validated specs, writing specs back.

Which reader a file needs (YAML, SCALE-Sim .cfg/.csv, ONNX) is decided in :mod:`accelsim.frontend.load`.

Every failure (missing file, a directory, binary junk, malformed YAML, an empty file, a
wrong key) becomes one :class:`ConfigError` naming the file and each offending key path.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from accelsim.errors import ConfigError, Problem, WorkloadError
from accelsim.spec.arch import ArchSpec
from accelsim.spec.fields import to_dict, validated
from accelsim.spec.workload import Network

YAML_SUFFIXES = (".yaml", ".yml")
# Limits of a YAML document: nesting depth and nodes after aliases are expanded. The shipped
# specs are at most 5 deep and 1,810 nodes; past these a document is refused before it is built.
MAX_YAML_DEPTH = 64
MAX_YAML_NODES = 1_000_000
# libyaml's parser when PyYAML was built with it (the same events and Python objects, ~10x faster:
# ResNet-50's workload parses in 10 ms instead of 140); the pure-Python one otherwise.
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def check_regular_file(path: str | Path, error: type[ConfigError] = ConfigError) -> Path:
    """``path`` if it names a readable regular file (checked without opening it, so a FIFO or
    device never blocks), else ``error`` saying what it is instead."""
    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise error(str(path), [Problem("", "no such file")]) from None
    except OSError as exc:
        raise error(str(path), [Problem("", f"cannot be read ({exc.strerror or exc})")]) from None
    if stat.S_ISDIR(mode):
        raise error(str(path), [Problem("", "is a directory, expected a file")])
    if not stat.S_ISREG(mode):
        raise error(str(path), [Problem("", "is not a regular file (a pipe, socket or device), expected a file")])
    if not os.access(path, os.R_OK):
        raise error(str(path), [Problem("", "cannot be read (permission denied)")])
    return path


def read_text(path: str | Path, error: type[ConfigError] = ConfigError) -> str:
    """The text of ``path``, or a ConfigError saying why it cannot be read as text."""
    path = check_regular_file(path, error)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise error(str(path), [Problem("", f"cannot be read ({exc.strerror or exc})")]) from None
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
        _check_yaml_size(text)
        data = yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error(str(path), [Problem("", f"malformed YAML{where}: {reason}")]) from None
    except _TooBig as exc:
        raise error(str(path), [Problem("", str(exc))]) from None
    except ValueError as exc:  # a scalar the constructor cannot convert (an integer of > 4,300 digits)
        reason = "an integer of more than 4,300 digits" if "digits" in str(exc) else str(exc).splitlines()[0]
        raise error(str(path), [Problem("", f"malformed YAML: {reason}")]) from None
    if data is None:
        raise error(str(path), [Problem("", "is empty, expected a mapping of keys")])
    if not isinstance(data, Mapping):
        raise error(str(path), [Problem("", f"expected a mapping of keys at the top level, got {type(data).__name__}")])
    return data


class _TooBig(Exception):
    """A YAML document past :data:`MAX_YAML_DEPTH` or :data:`MAX_YAML_NODES`."""


def _events(text: str):
    """The YAML events of ``text``. libyaml's scanner (PyYAML >= 6.0.2 bundles one that stops at
    1,000 levels) may refuse deep flow nesting before the event at :data:`MAX_YAML_DEPTH` is
    reached: that refusal becomes the same :class:`_TooBig` as the event check's."""
    try:
        yield from yaml.parse(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        if "nesting depth" not in str(getattr(exc, "problem", "") or exc):
            raise
        mark = getattr(exc, "problem_mark", None)
        line = f" (line {mark.line + 1})" if mark else ""
        raise _TooBig(f"nested more than {MAX_YAML_DEPTH} levels deep{line}; a spec needs fewer than 10") from None


def _check_yaml_size(text: str) -> None:
    """Refuse deep nesting and alias bombs from the event stream (no recursion, no tree built).

    Each node's size counts the nodes under it, an alias counting the whole node it repeats,
    so a "billion laughs" document is refused after reading its few lines.
    """
    sizes: dict[str, int] = {}  # anchor -> expanded nodes
    stack: list[list] = [[0, None]]  # [nodes so far, anchor] of each open collection
    for event in _events(text):
        if isinstance(event, yaml.AliasEvent):
            stack[-1][0] += sizes.get(event.anchor, 1)
        elif isinstance(event, yaml.ScalarEvent):
            stack[-1][0] += 1
            if event.anchor:
                sizes[event.anchor] = 1
        elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            stack.append([1, event.anchor])
            if len(stack) - 1 > MAX_YAML_DEPTH:
                mark = event.start_mark
                raise _TooBig(f"nested more than {MAX_YAML_DEPTH} levels deep (line {mark.line + 1}); "
                              "a spec needs fewer than 10")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            nodes, anchor = stack.pop()
            if anchor:
                sizes[anchor] = nodes
            stack[-1][0] += nodes
        else:
            continue
        if stack[-1][0] > MAX_YAML_NODES:
            raise _TooBig(f"expands to more than {MAX_YAML_NODES:,} values once its aliases (*name) are "
                          "repeated; write the values out or use fewer aliases")


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


def dump_yaml(spec: Any) -> str:
    """YAML text of a spec that ``accelsim.load_arch`` / ``accelsim.load_workload`` read back equal."""
    return yaml.safe_dump(to_dict(spec), sort_keys=False, default_flow_style=None, width=100)


def save_workload(net: Network, path: str | Path) -> None:
    """Write ``net`` as a YAML workload."""
    lost = f"; {net.lost_macs:,} MACs of the source model left out" if net.lost_macs else ""
    Path(path).write_text(f"# accelsim workload: {net.name} ({net.macs:,} MACs{lost})\n" + dump_yaml(net))
