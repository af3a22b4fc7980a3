"""Number formats: the integer and floating-point types operands are stored and multiplied in.

One registry, used by the specs (``mac.precisions``, a layer's ``weight_bits``/``act_bits``),
the MAC rules, the cost model and the quantizers. Names are exact and lower case:

* integers ``int1`` .. ``int32`` (two's complement) and ``uint1`` .. ``uint32``;
* floats ``fp64``, ``fp32``, ``fp16`` (IEEE 754 binary64/32/16), ``bf16`` (bfloat16: fp32's
  exponent, 7 mantissa bits), ``fp8_e4m3`` and ``fp8_e5m2`` (OCP 8-bit Floating Point
  Specification (OFP8) rev. 1.0, 2023: E5M2 keeps IEEE infinities and NaNs, max 57344; E4M3 has
  no infinity, only S.1111.111 is NaN, so its largest finite value is 1.75 x 2^8 = 448).
  ``float64``/``float32``/``float16``/``bfloat16`` are accepted as aliases.

A workload's integer widths stay integers (``weight_bits: 8`` is ``int8``); a format name is
accepted in the same keys (``weight_bits: bf16``).
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass

from accelsim.errors import did_you_mean


class FormatKind(enum.Enum):
    """Integer or floating point."""

    INT = "int"
    FLOAT = "float"


@dataclass(frozen=True)
class NumberFormat:
    """One number format.

    Attributes
    ----------
    name : str
        Canonical name (``"int8"``, ``"uint4"``, ``"bf16"``, ``"fp8_e4m3"``).
    kind : FormatKind
    bits : int
        Total width in bits (storage: ``bits / 8`` bytes per element).
    exponent_bits, mantissa_bits : int
        Floats: exponent field and stored significand bits (without the hidden one); 0 for
        integers.
    signed : bool
    ieee_specials : bool
        Floats: the all-ones exponent holds infinities and NaNs (IEEE 754, OCP E5M2). False
        for OCP E4M3, which uses it for finite values except the all-ones mantissa (NaN).
    """

    name: str
    kind: FormatKind
    bits: int
    exponent_bits: int = 0
    mantissa_bits: int = 0
    signed: bool = True
    ieee_specials: bool = True

    @property
    def is_float(self) -> bool:
        return self.kind is FormatKind.FLOAT

    @property
    def bias(self) -> int:
        """Exponent bias of a float (``2^(e-1) - 1``)."""
        return 2 ** (self.exponent_bits - 1) - 1

    @property
    def min_normal_exponent(self) -> int:
        """Exponent of the smallest normal float, ``1 - bias`` (subnormals share it)."""
        return 1 - self.bias

    @property
    def max_exponent(self) -> int:
        """Exponent of the largest finite float."""
        top = 2**self.exponent_bits - 1 - self.bias
        return top - 1 if self.ieee_specials else top

    @property
    def max_finite(self) -> float:
        """Largest finite value (floats: ``(2 - 2^-m) 2^emax``, E4M3: 448; integers: ``2^(b-1) - 1``)."""
        if not self.is_float:
            return float(2 ** (self.bits - 1) - 1 if self.signed else 2**self.bits - 1)
        ulps = 2 ** (self.mantissa_bits + 1) - (1 if self.ieee_specials else 2)
        return float(ulps * 2.0 ** (self.max_exponent - self.mantissa_bits))

    def holds(self, other: NumberFormat) -> bool:
        """True if every value of ``other`` is exact in this format (same kind only)."""
        if self.kind is not other.kind:
            return False
        if not self.is_float:
            return other.bits <= self.bits
        return (other.mantissa_bits <= self.mantissa_bits and other.max_exponent <= self.max_exponent
                and other.min_normal_exponent - other.mantissa_bits >= self.min_normal_exponent - self.mantissa_bits)

    def __str__(self) -> str:
        return self.name


_FLOATS = {
    f.name: f for f in (
        NumberFormat("fp64", FormatKind.FLOAT, 64, 11, 52),
        NumberFormat("fp32", FormatKind.FLOAT, 32, 8, 23),
        NumberFormat("fp16", FormatKind.FLOAT, 16, 5, 10),
        NumberFormat("bf16", FormatKind.FLOAT, 16, 8, 7),
        NumberFormat("fp8_e4m3", FormatKind.FLOAT, 8, 4, 3, ieee_specials=False),
        NumberFormat("fp8_e5m2", FormatKind.FLOAT, 8, 5, 2),
    )
}
ALIASES = {"float64": "fp64", "float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}
MAX_INT_BITS = 32
_INT = re.compile(r"^(u?)int(\d+)$")
FLOAT_NAMES = tuple(_FLOATS)


def integer_format(bits: int, signed: bool = True) -> NumberFormat:
    """``int<bits>`` (or ``uint<bits>``)."""
    return NumberFormat(f"{'' if signed else 'u'}int{bits}", FormatKind.INT, bits, signed=signed)


def number_format(value: int | str | NumberFormat) -> NumberFormat:
    """The format a spec value names: ``8`` -> int8, ``"uint4"``, ``"bf16"``, ``"bfloat16"`` -> bf16.

    Raises
    ------
    ValueError
        For anything else, listing the valid names (with a did-you-mean).
    """
    try:
        return _known_format(value)  # formats are immutable, and a run asks for them per layer
    except TypeError:  # an unhashable value (a list in a YAML file): not a format either
        return _parse_format(value)


@functools.lru_cache(maxsize=1024, typed=True)  # typed: True and 8.0 are not the formats 1 and 8
def _known_format(value) -> NumberFormat:
    return _parse_format(value)


def _parse_format(value) -> NumberFormat:
    """:func:`number_format`, uncached."""
    if isinstance(value, NumberFormat):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if not 1 <= value <= MAX_INT_BITS:
            raise ValueError(f"expected an integer width >= 1 and <= {MAX_INT_BITS} bits, got {value}")
        return integer_format(value)
    if isinstance(value, str):
        name = ALIASES.get(value.strip().lower(), value.strip().lower())
        if name in _FLOATS:
            return _FLOATS[name]
        match = _INT.match(name)
        if match and 1 <= int(match.group(2)) <= MAX_INT_BITS:
            return integer_format(int(match.group(2)), signed=not match.group(1))
    valid = [*FLOAT_NAMES, "int8", "int4", "uint8"]
    hint = " (name the layout: fp8_e4m3 or fp8_e5m2)" if str(value).lower() == "fp8" else did_you_mean(str(value), valid)
    raise ValueError(f"expected a number format: an integer width or int1..int{MAX_INT_BITS}, "
                     f"uint1..uint{MAX_INT_BITS}, {', '.join(FLOAT_NAMES)}; got {value!r}{hint}")


def operand_value(value) -> int | str:
    """A workload's ``weight_bits``/``act_bits`` value: an integer width stays an ``int`` (``int8``
    becomes 8), any other format its canonical name (``"bf16"``, ``"uint8"``)."""
    fmt = number_format(value)
    return fmt.bits if fmt.kind is FormatKind.INT and fmt.signed else fmt.name
