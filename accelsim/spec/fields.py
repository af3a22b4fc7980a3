"""Declaring spec fields and turning plain dicts into validated frozen dataclasses.

A spec is a frozen dataclass whose fields carry their YAML key, unit parser and bounds in
``field(metadata=...)``, declared with :func:`spec_field`. :func:`from_dict` walks the
type hints, converts units once, coerces enums, rejects unknown keys with the valid keys
and a did-you-mean, and collects every problem (with its dotted path) instead of stopping
at the first. After the fields of a dataclass convert cleanly, its optional
``check(self) -> list[Problem]`` method reports cross-field problems (paths relative to
that dataclass).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from accelsim.errors import ConfigError, Problem, did_you_mean
from accelsim.spec.limits import INT_LIMIT, RANGE_LIMITS, power_of_two

T = TypeVar("T")


class FrozenMap(Mapping):
    """An immutable, hashable mapping (for mapping-valued spec fields)."""

    def __init__(self, items: Mapping | None = None):
        self._items = dict(items or {})

    def __getitem__(self, key):
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._items.items())))

    def __repr__(self) -> str:
        return f"FrozenMap({self._items!r})"


class _Missing:
    """Marks a value that failed to convert (its problem is already recorded)."""


MISSING = _Missing()


def spec_field(
    default: Any = dataclasses.MISSING,
    *,
    key: str | None = None,
    parse: Callable[[Any], Any] | None = None,
    minimum: float | None = None,
    exclusive_minimum: float | None = None,
    maximum: float | None = None,
    doc: str = "",
    always_written: bool = False,
) -> Any:
    """A dataclass field with its YAML ``key``, unit ``parse``r and numeric bounds."""
    metadata = {
        "key": key,
        "parse": parse,
        "minimum": minimum,
        "exclusive_minimum": exclusive_minimum,
        "maximum": maximum,
        "doc": doc,
        "always_written": always_written,
    }
    if isinstance(default, (list, dict, set)):
        raise TypeError("use an immutable default (tuple, frozen dataclass)")
    return dataclasses.field(default=default, metadata=metadata)


def cached_hash(cls: type[T]) -> type[T]:
    """Class decorator for a frozen dataclass: its generated (structural) ``__hash__`` is computed
    once per instance and kept in the instance's ``__dict__`` (``_hash``). Specs are hashed on every
    memo lookup (``functools.lru_cache`` keys) and hashing a whole arch or network walks every
    nested field. Equality stays structural. The kept value is not pickled or copied (hashes of
    strings differ between processes; the state is taken in one step, so a process pool's feeder
    thread may pickle an instance while another thread hashes it first); ``dataclasses.replace``
    builds a new instance."""
    structural = cls.__hash__
    if structural is None or not dataclasses.is_dataclass(cls) or not cls.__dataclass_params__.frozen:
        raise TypeError(f"{cls.__name__}: cached_hash needs a hashable frozen dataclass")

    def __hash__(self) -> int:
        try:
            return self.__dict__["_hash"]
        except KeyError:
            value = self.__dict__["_hash"] = structural(self)
            return value

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_hash", None)
        return state

    cls.__hash__ = __hash__
    cls.__getstate__ = __getstate__
    return cls


def yaml_key(f: dataclasses.Field) -> str:
    """The key a user writes for field ``f``."""
    return f.metadata.get("key") or f.name


def _join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def _type_name(tp: Any) -> str:
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return "one of " + ", ".join(str(m.value) for m in tp)
    if dataclasses.is_dataclass(tp):
        return "a mapping"
    origin = typing.get_origin(tp)
    if origin is tuple:
        return "a list"
    if origin in (dict, Mapping):
        return "a mapping"
    return {int: "an integer", float: "a number", bool: "true or false", str: "a string"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _convert_scalar(tp: type, value: Any, path: str, problems: list[Problem]) -> Any:
    if tp is bool:
        if isinstance(value, bool):
            return value
    elif tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
    elif tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value) if abs(value) < 1e300 else math.inf
            if math.isfinite(number):
                return number
            problems.append(Problem(path, f"expected a finite number, got {shown(value)}"))
            return MISSING
    elif tp is str:
        if isinstance(value, str):
            return value
    else:
        raise TypeError(f"unsupported spec type {tp!r}")
    problems.append(Problem(path, f"expected {_type_name(tp)}, got {shown(value)}"))
    return MISSING


def shown(value: Any) -> str:
    """``repr(value)`` cut to a readable length (a 5,000-digit integer, a long string)."""
    if isinstance(value, int) and value.bit_length() > 200:
        return f"an integer of about {int(value.bit_length() * 0.30103) + 1:,} digits"
    text = repr(value)
    return text if len(text) <= 80 else f"{text[:60]}... ({len(text):,} characters)"


def _number(value: int | float) -> str:
    """A bound or value for a message (exact for integers)."""
    if isinstance(value, int):
        return f"{value:,}" if value.bit_length() < 200 else shown(value)
    return f"{value:g}"


def convert(tp: Any, value: Any, path: str, problems: list[Problem]) -> Any:
    """Convert ``value`` (from YAML) to type ``tp``; on failure record a problem."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in typing.get_args(tp) if a is not type(None)]
        if value is None:
            return None
        if len(options) == 1:
            return convert(options[0], value, path, problems)
        for option in options:  # first option that converts without problems
            trial: list[Problem] = []
            result = convert(option, value, path, trial)
            if not trial:
                return result
        problems.append(Problem(path, f"expected {' or '.join(_type_name(o) for o in options)}, got {value!r}"))
        return MISSING
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(str(value).lower() if isinstance(value, str) else value)
        except ValueError:
            choices = [str(m.value) for m in tp]
            problems.append(
                Problem(path, f"expected one of {', '.join(choices)}, got {value!r}{did_you_mean(value, choices)}")
            )
            return MISSING
    if dataclasses.is_dataclass(tp):
        return from_dict(tp, value, path, problems)
    if origin is tuple:
        args = typing.get_args(tp)
        if not isinstance(value, (list, tuple)):
            value = [value] if args[-1] is Ellipsis else value
        if not isinstance(value, (list, tuple)):
            problems.append(Problem(path, f"expected a list of {len(args)}, got {value!r}"))
            return MISSING
        if args[-1] is Ellipsis:
            items = [convert(args[0], v, _join(path, i), problems) for i, v in enumerate(value)]
        else:
            if len(value) != len(args):
                problems.append(Problem(path, f"expected a list of {len(args)}, got {list(value)!r}"))
                return MISSING
            items = [convert(a, v, _join(path, i), problems) for i, (a, v) in enumerate(zip(args, value))]
        return MISSING if any(i is MISSING for i in items) else tuple(items)
    if origin in (dict, Mapping):
        key_type, value_type = typing.get_args(tp)
        if not isinstance(value, Mapping):
            problems.append(Problem(path, f"expected a mapping, got {value!r}"))
            return MISSING
        items = {str(k): convert(value_type, v, _join(path, str(k)), problems) for k, v in value.items()}
        return MISSING if any(v is MISSING for v in items.values()) else FrozenMap(items)
    if tp is Any:
        return value
    return _convert_scalar(tp, value, path, problems)


def _check_bounds(f: dataclasses.Field, value: Any, path: str, problems: list[Problem]) -> None:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return
    low, low_open, high = f.metadata.get("minimum"), f.metadata.get("exclusive_minimum"), f.metadata.get("maximum")
    if high is None and isinstance(value, int):
        high = INT_LIMIT  # every integer a user writes (docs/limits.md)
    if low is not None and value < low:
        problems.append(Problem(path, f"expected a value >= {_number(low)}, got {_number(value)}"))
    if low_open is not None and value <= low_open:
        problems.append(Problem(path, f"expected a value > {_number(low_open)}, got {_number(value)}"))
    if high is not None and value > high:
        in_range = isinstance(high, int) and high in RANGE_LIMITS
        limit = f"{power_of_two(high)} (the validated range, docs/limits.md)" if in_range else _number(high)
        problems.append(Problem(path, f"expected a value <= {limit}, got {_number(value)}"))


@functools.cache
def _layout(cls: type) -> tuple[dict[str, Any], dict[str, dataclasses.Field]]:
    """Type hints and YAML-key -> field of a spec class (computed once per class)."""
    fields = [f for f in dataclasses.fields(cls) if f.init]
    return typing.get_type_hints(cls), {yaml_key(f): f for f in fields}


def from_dict(cls: type[T], data: Any, path: str, problems: list[Problem]) -> T | _Missing:
    """Build dataclass ``cls`` from mapping ``data``, appending every problem found.

    A class with a ``variant_of(data) -> type`` classmethod picks a subclass from the data
    (for example a layer's ``op``); it reports its own problems by raising ``ValueError``.
    """
    if not isinstance(data, Mapping):
        problems.append(Problem(path, f"expected a mapping of keys, got {data!r}"))
        return MISSING
    chooser = getattr(cls, "variant_of", None)
    if chooser is not None:
        try:
            cls = chooser(data)
        except ValueError as exc:
            problems.append(Problem(path, str(exc)))
            return MISSING
    hints, by_key = _layout(cls)
    extra_keys = set(getattr(cls, "accepted_keys", ()))
    before = len(problems)
    for key in data:
        if key not in by_key and key not in extra_keys:
            valid = sorted(by_key)
            problems.append(
                Problem(_join(path, str(key)), f"unknown key; valid keys: {', '.join(valid)}{did_you_mean(key, valid)}")
            )
    kwargs = {}
    for key, f in by_key.items():
        sub = _join(path, key)
        if key not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                expected = f.metadata.get("doc") or ("" if f.metadata.get("parse") else _type_name(hints[f.name]))
                problems.append(Problem(sub, "missing required key" + (f" ({expected})" if expected else "")))
            continue
        raw = data[key]
        parse = f.metadata.get("parse")
        if parse is not None and raw is not None:
            try:
                value = parse(raw)
            except ValueError as exc:
                problems.append(Problem(sub, str(exc)))
                continue
        else:
            value = convert(hints[f.name], raw, sub, problems)
        if value is MISSING:
            continue
        _check_bounds(f, value, sub, problems)
        kwargs[f.name] = value
    if len(problems) > before:
        return MISSING
    try:
        obj = cls(**kwargs)
    except (ValueError, TypeError) as exc:
        problems.append(Problem(path, str(exc)))
        return MISSING
    check = getattr(obj, "check", None)
    if check is not None:
        problems.extend(Problem(_join(path, p.path) if p.path else path, p.message) for p in check())
    return obj


def validated(cls: type[T], data: Any, source: str, *, error: type[ConfigError] = ConfigError,
              problems: Sequence[Problem] = ()) -> T:
    """Build ``cls`` from ``data`` or raise ``error`` naming ``source`` and every problem.

    ``problems`` found by the caller beforehand are reported together with the loader's.
    """
    found = list(problems)
    obj = from_dict(cls, data, "", found)
    if found or obj is MISSING:
        raise error(source, found)
    return obj


def to_dict(obj: Any) -> Any:
    """The plain-data (YAML-ready) form of a spec: the inverse of :func:`from_dict`.

    Values are written in base units (bytes, hertz, pJ), which the parsers accept back;
    fields at their default are left out unless declared ``always_written``.
    """
    if hasattr(obj, "to_plain"):
        return obj.to_plain()
    if dataclasses.is_dataclass(obj):
        out = {}
        for f in dataclasses.fields(obj):
            value = getattr(obj, f.name)
            if f.init and (f.metadata.get("always_written") or value != f.default):
                out[yaml_key(f)] = to_dict(value)
        return out
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, tuple):
        return [to_dict(v) for v in obj]
    if isinstance(obj, Mapping):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj
