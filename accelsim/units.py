"""Quantities with units, converted to base units in one place.

Users write ``64KiB``, ``1GHz``, ``34GB/s``, ``0.5pJ``; the rest of accelsim sees bytes,
hertz, bytes per second (or per cycle), picojoules, square micrometres, nanometres and
cycles. Decimal prefixes (k, M, G) are powers of 1000, binary ones (Ki, Mi, Gi) of 1024;
``kB`` is 1000 bytes, as in SI (SCALE-Sim's ``kB`` is 1024 bytes: its front end converts).

Each parser raises :class:`ValueError` with a message meant for a user; the spec loader
attaches the key path and file.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

_NUMBER = r"([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
_QUANTITY = re.compile(rf"^\s*{_NUMBER}\s*([A-Za-z/%][A-Za-z0-9/%]*)?\s*$")

_DECIMAL = {"": 1.0, "k": 1e3, "K": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
_BINARY = {"Ki": 2.0**10, "Mi": 2.0**20, "Gi": 2.0**30, "Ti": 2.0**40}
_SMALL = {"": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9, "p": 1e-12, "f": 1e-15}


def _split(text: str | int | float, what: str) -> tuple[float, str]:
    if isinstance(text, bool):
        raise ValueError(f"expected {what}, got a boolean")
    if isinstance(text, (int, float)):
        value, unit = _finite(text, what, text), ""
    elif not isinstance(text, str):
        raise ValueError(f"expected {what}, got {type(text).__name__}")
    else:
        match = _QUANTITY.match(text)
        if not match:
            raise ValueError(f"expected {what}, got '{text}'")
        value, unit = _finite(match.group(1), what, text), match.group(2) or ""
    return value, unit


def _finite(number, what: str, text) -> float:
    """``number`` as a finite float (an int too large for a float, ``1e400``, inf and NaN are refused)."""
    try:
        value = float(number)
    except OverflowError:
        value = math.inf
    if not math.isfinite(value):
        big = isinstance(text, int) and text.bit_length() > 128
        shown = f"an integer of about {int(text.bit_length() * 0.30103) + 1} digits" if big else text
        raise ValueError(f"expected {what}, got '{shown}' (not a finite number)")
    return value


def _scaled(value: float, unit: str, base: str, prefixes: dict[str, float], what: str, text) -> float:
    if not unit.endswith(base):
        raise ValueError(f"expected {what}, got '{text}'")
    prefix = unit[: len(unit) - len(base)]
    if prefix not in prefixes:
        raise ValueError(f"expected {what}, got '{text}' (unknown prefix '{prefix}')")
    return value * prefixes[prefix]


def parse_bytes(text: str | int | float) -> int:
    """``"64KiB"`` -> 65536. A bare number is bytes. Accepts B, kB, MB, GB, KiB, MiB, GiB."""
    what = "a size such as 64KiB, 2MiB or 4096 (bytes)"
    value, unit = _split(text, what)
    if unit == "":
        size = value
    else:
        size = _scaled(value, unit, "B", {**_DECIMAL, **_BINARY}, what, text)
    size = _finite(size, what, text)
    if size != int(size):
        raise ValueError(f"expected a whole number of bytes, got '{text}'")
    return int(size)


def parse_frequency(text: str | int | float) -> float:
    """``"700MHz"`` -> 7e8 Hz. A bare number is hertz."""
    what = "a frequency such as 700MHz or 1GHz"
    value, unit = _split(text, what)
    return _finite(value if unit == "" else _scaled(value, unit, "Hz", _DECIMAL, what, text), what, text)


def parse_cycles(text: str | int | float) -> int:
    """``"100cycles"`` or ``100`` -> 100."""
    what = "a whole number of cycles such as 100 or 100cycles"
    value, unit = _split(text, what)
    if unit not in ("", "cycle", "cycles") or value != int(value):
        raise ValueError(f"expected {what}, got '{text}'")
    return int(value)


def parse_energy_pj(text: str | int | float) -> float:
    """``"0.5pJ"`` -> 0.5, ``"1.3nJ"`` -> 1300. A bare number is picojoules."""
    what = "an energy such as 0.5pJ or 1.3nJ (a bare number is pJ)"
    value, unit = _split(text, what)
    return _finite(value if unit == "" else _scaled(value, unit, "J", _SMALL, what, text) * 1e12, what, text)


def parse_area_um2(text: str | int | float) -> float:
    """``"282um2"`` -> 282, ``"0.06mm2"`` -> 60000. A bare number is um^2."""
    what = "an area such as 282um2 or 0.06mm2 (a bare number is um^2)"
    value, unit = _split(text, what)
    factors = {"": 1.0, "um2": 1.0, "mm2": 1e6, "nm2": 1e-6}
    if unit not in factors:
        raise ValueError(f"expected {what}, got '{text}'")
    return value * factors[unit]


def parse_length_nm(text: str | int | float) -> float:
    """``"28nm"`` -> 28. A bare number is nanometres."""
    what = "a technology node such as 28nm"
    value, unit = _split(text, what)
    if unit not in ("", "nm"):
        raise ValueError(f"expected {what}, got '{text}'")
    return value


@dataclass(frozen=True)
class Bandwidth:
    """A data rate, either per second (``34GB/s``) or per cycle (``16B/cycle``)."""

    bytes_per_unit: float
    per_cycle: bool

    def bytes_per_cycle(self, clock_hz: float) -> float:
        """Bytes per clock cycle at ``clock_hz``."""
        return self.bytes_per_unit if self.per_cycle else self.bytes_per_unit / clock_hz

    def to_plain(self) -> str:
        """The text form :func:`parse_bandwidth` reads back."""
        return f"{self.bytes_per_unit!r}B/{'cycle' if self.per_cycle else 's'}"


def parse_bandwidth(text: str | int | float) -> Bandwidth:
    """``"34GB/s"``, ``"16B/cycle"`` or a bare number (bytes per cycle)."""
    what = "a bandwidth such as 34GB/s, 25.6GiB/s or 16B/cycle (a bare number is bytes/cycle)"
    if isinstance(text, str) and "/" in text:
        amount, _, per = text.replace(" ", "").partition("/")
        if per not in ("s", "cycle"):
            raise ValueError(f"expected {what}, got '{text}'")
        try:
            value, unit = _split(amount, what)
            size = _scaled(value, unit, "B", {**_DECIMAL, **_BINARY}, what, text)
        except ValueError:
            raise ValueError(f"expected {what}, got '{text}'") from None
        return Bandwidth(_finite(size, what, text), per_cycle=per == "cycle")
    value, unit = _split(text, what)
    if unit != "":
        raise ValueError(f"expected {what}, got '{text}'")
    return Bandwidth(value, per_cycle=True)


def format_bytes(size: float) -> str:
    """65536 -> ``"64KiB"`` (for messages and tables)."""
    for unit, factor in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= factor:
            return f"{size / factor:g}{unit}"
    return f"{size:g}B"
