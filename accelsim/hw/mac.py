"""Throughput of a PE's MAC unit as a function of operand bit widths.

One pure function, :func:`mac_rate`, turns (MAC unit, weight format, activation format) into
a :class:`MacRate`: ``p`` products per cycle along the reduction and ``q`` cycles per product.
The lowering applies them to every GEMM before mapping (``docs/timing_models.md``, "Operand
bits, MAC rate and sparsity"): ``K -> ceil(K / p)`` and every stream step takes ``q`` cycles.

The three unit kinds (``docs/precision.md`` derives each rule with the papers' examples):

* ``fixed``: one product per cycle. An operand narrower than the unit runs in the narrowest
  listed format that holds it, the unused multiplier bits gated (energy drops, speed does not).
  Floats run only in a listed float format that represents them exactly. ``mac.rates`` gives a
  listed format more products per cycle (fp8 at twice the fp16 rate on NVIDIA H100; int8 at
  twice bf16 on TPU v5e), multiplying ``p``.
* ``bitfusion`` (Sharma et al., ISCA 2018): ``bricks`` BitBricks of ``brick_bits`` x
  ``brick_bits``. Each operand runs in the narrowest listed width that holds it (the paper
  fuses bricks in powers of two: int2/int4/int8/int16); a product of ``a``-bit x ``w``-bit
  configured operands needs ``ceil(a/brick) * ceil(w/brick)`` bricks, so ``p = bricks // need``,
  or when ``need > bricks`` one product takes ``q = ceil(need / bricks)`` cycles.
* ``bit_serial``: Stripes (Judd et al., MICRO 2016) streams activation bits, Loom (Sharify et
  al., DAC 2018) both operands' bits; ``serial_bits_per_cycle`` bits of each serial operand per
  cycle, so ``q = ceil(a/s)`` or ``ceil(a/s) * ceil(w/s)``. The parallel operand is gated like
  a fixed unit's.
* every kind: ``lanes`` such units sum their products per step (a dot-product unit, as in
  Stripes' serial inner-product units), multiplying ``p``.

An operand wider than every listed integer format is rejected, or with ``decompose_wider``
split into ``ceil(bits / widest)`` balanced digits, every pair of digits one more pass.
Signedness is not modelled for throughput (``uint8`` and ``int8`` take the same datapath).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

from accelsim.errors import UnsupportedError
from accelsim.spec.arch import ArchSpec, MacKind, MacSpec, SerialOperands
from accelsim.spec.number_format import NumberFormat, number_format
from accelsim.spec.workload import Layer, Network

def operand_format(value: int | str | NumberFormat) -> NumberFormat:
    """``8`` -> int8; ``"fp16"`` -> fp16 (:func:`accelsim.spec.number_format.number_format`)."""
    try:
        return number_format(value)
    except ValueError as exc:
        raise UnsupportedError(str(exc)) from None


@dataclass(frozen=True)
class MacRate:
    """How fast one PE's MAC unit runs one layer's operands, and how much of it they use.

    Attributes
    ----------
    products_per_cycle : int
        ``p``: products along the reduction per cycle, ``lanes`` included (the lowering uses
        ``ceil(K / p)``).
    cycles_per_product : int
        ``q``: cycles each stream step takes (decomposition passes included).
    passes : int
        Passes of a decomposed product (1 unless an operand is wider than the unit).
    weight_bits, act_bits : int
        Operand widths the layer asks for.
    weight_datapath_bits, act_datapath_bits : int
        Width of the datapath each operand occupies in one pass (listed format, brick
        multiple, or serial digits); the rest of it is gated.
    unit_format : str
        The listed format the unit runs in (``"int8"``, ``"fp16"``; for bit-serial units the
        parallel operand's).
    """

    products_per_cycle: int
    cycles_per_product: int
    passes: int
    weight_bits: int
    act_bits: int
    weight_datapath_bits: int
    act_datapath_bits: int
    unit_format: str

    @property
    def macs_per_cycle(self) -> float:
        """Products per PE per cycle at steady state, ``p / q``."""
        return self.products_per_cycle / self.cycles_per_product

    @property
    def active_fraction(self) -> float:
        """Fraction of the datapath's bit products that do useful work (``a*w / (da*dw)``)."""
        return (self.weight_bits * self.act_bits) / (self.weight_datapath_bits * self.act_datapath_bits)


def supported_text(mac: MacSpec) -> str:
    """The unit's supported set, as error messages name it."""
    listed = [f"{p} ({mac.rates[p]} products/cycle)" if mac.rates.get(p, 1) > 1 else p for p in mac.precisions]
    text = f"{mac.kind.value} MAC unit, which runs {', '.join(listed)}"
    if mac.decompose_wider:
        text += " (wider integers in several passes)"
    return text


def _where(layer_name: str) -> str:
    return f"layer '{layer_name}': " if layer_name else ""


def _split(operand: NumberFormat, widest: int, mac: MacSpec, what: str) -> tuple[int, int]:
    """(digits, bits per digit) of an integer operand on a unit whose widest format is ``widest``."""
    if operand.bits <= widest:
        return 1, operand.bits
    if not mac.decompose_wider:
        raise UnsupportedError(
            f"{operand.bits}-bit {what} do not fit the {supported_text(mac)}; "
            "set mac.decompose_wider: true to run them in several passes, or quantize the layer narrower"
        )
    digits = math.ceil(operand.bits / widest)
    return digits, math.ceil(operand.bits / digits)


def _listed_rate(mac: MacSpec, width: int) -> int:
    """Products per cycle of a fixed lane in its listed integer format of ``width`` bits
    (``mac.rates``: the signed or unsigned name, default 1)."""
    return mac.rates.get(f"int{width}", mac.rates.get(f"uint{width}", 1))


def _listed_width(bits: int, widths: list[int]) -> int:
    """The narrowest listed integer width holding ``bits`` (callers ensure one exists)."""
    return min(w for w in widths if w >= bits)


def mac_rate(mac: MacSpec, weight: int | str, act: int | str, layer_name: str = "") -> MacRate:
    """Products per cycle and cycles per product of ``mac`` on ``weight`` x ``act`` operands.

    Parameters
    ----------
    mac : MacSpec
        The PE's MAC unit.
    weight, act : int or str
        Operand formats: an integer is a bit width of an integer operand, a string a format
        name (``"int4"``, ``"fp16"``, ``"bf16"``).
    layer_name : str
        Named in errors.

    Raises
    ------
    UnsupportedError
        If the unit cannot run these operands; the message names the layer and what it runs.
    """
    try:
        return _mac_rate(mac, weight, act)
    except UnsupportedError as error:
        raise UnsupportedError(f"{_where(layer_name)}{error}") from None


@functools.lru_cache(maxsize=256)
def _mac_rate(mac: MacSpec, weight: int | str, act: int | str) -> MacRate:
    """:func:`mac_rate` without the layer's name (errors name only the operands and the unit)."""
    w, a = operand_format(weight), operand_format(act)
    lane = _float_rate(mac, w, a) if w.is_float or a.is_float else _integer_rate(mac, w, a)
    return replace(lane, products_per_cycle=lane.products_per_cycle * mac.lanes)


def _integer_rate(mac: MacSpec, w: NumberFormat, a: NumberFormat) -> MacRate:
    """The rate of one lane on integer operands."""
    widths = sorted(u.bits for u in map(operand_format, mac.precisions) if not u.is_float)
    if not widths:
        raise UnsupportedError(f"integer operands ({w.name} weights, {a.name} activations) "
                               f"on the {supported_text(mac)}: it lists no integer format; set the layer's "
                               "weight_bits/act_bits to a listed float format (e.g. a scheme such as "
                               "workloads/schemes/bf16.yaml) or list an integer format in mac.precisions")
    widest = widths[-1]
    w_digits, w_bits = _split(w, widest, mac, "weights")
    a_digits, a_bits = _split(a, widest, mac, "activations")
    passes = w_digits * a_digits
    common = dict(passes=passes, weight_bits=w.bits, act_bits=a.bits)
    if mac.kind is MacKind.FIXED:
        unit = _listed_width(max(w_bits, a_bits), widths)
        return MacRate(_listed_rate(mac, unit), passes, weight_datapath_bits=unit, act_datapath_bits=unit,
                       unit_format=f"int{unit}", **common)
    if mac.kind is MacKind.BITFUSION:
        wc, ac = _listed_width(w_bits, widths), _listed_width(a_bits, widths)
        w_bricks, a_bricks = math.ceil(wc / mac.brick_bits), math.ceil(ac / mac.brick_bits)
        need = w_bricks * a_bricks
        products, cycles = (mac.bricks // need, 1) if need <= mac.bricks else (1, math.ceil(need / mac.bricks))
        return MacRate(products, cycles * passes, weight_datapath_bits=w_bricks * mac.brick_bits,
                       act_datapath_bits=a_bricks * mac.brick_bits, unit_format=f"int{max(wc, ac)}", **common)
    step = mac.serial_bits_per_cycle
    a_steps = math.ceil(a_bits / step)
    if mac.serial_operands is SerialOperands.BOTH:
        w_steps = math.ceil(w_bits / step)
        w_path, unit = w_steps * step, _listed_width(max(w_bits, a_bits), widths)
    else:
        w_steps = 1
        w_path = unit = _listed_width(w_bits, widths)
    return MacRate(1, a_steps * w_steps * passes, weight_datapath_bits=w_path,
                   act_datapath_bits=a_steps * step, unit_format=f"int{unit}", **common)


def _float_rate(mac: MacSpec, w: NumberFormat, a: NumberFormat) -> MacRate:
    """The rate of one lane when either operand is a float."""
    floats = [u for u in map(operand_format, mac.precisions) if u.is_float]
    asked = f"{w.name} weights x {a.name} activations"
    if mac.kind is not MacKind.FIXED:
        raise UnsupportedError(f"{asked}: the {supported_text(mac)}, computes integers only")
    if w.is_float != a.is_float:
        raise UnsupportedError(f"{asked}: mixed integer and float operands are not modelled "
                               f"(the {supported_text(mac)})")
    fitting = sorted((u for u in floats if u.holds(w) and u.holds(a)), key=lambda u: u.bits)
    if not fitting:
        raise UnsupportedError(f"{asked}: the {supported_text(mac)}; floats run only in a listed "
                               "float format that holds them exactly (floats are never decomposed); "
                               "quantize the layer to a listed format (weight_bits/act_bits in a scheme)")
    unit = fitting[0]
    return MacRate(mac.rates.get(unit.name, 1), 1, passes=1, weight_bits=w.bits, act_bits=a.bits,
                   weight_datapath_bits=unit.bits, act_datapath_bits=unit.bits, unit_format=unit.name)


def check_layer_precision(arch: ArchSpec, layer: Layer) -> MacRate | None:
    """The MAC rate of ``layer`` on ``arch`` (None for vector work, which uses no MACs).

    Raises UnsupportedError naming the layer and the unit's supported set.
    """
    if layer.macs == 0:
        return None
    return mac_rate(arch.mac, layer.compression.weight_bits, layer.compression.act_bits, layer.name)


def check_network_precision(arch: ArchSpec, network: Network) -> dict[str, MacRate]:
    """MAC rates of every MAC layer of ``network``, keyed by layer name.

    Raises one UnsupportedError listing every layer the unit cannot run.
    """
    rates: dict[str, MacRate] = {}
    problems: list[str] = []
    for layer in network.layers:
        try:
            rate = check_layer_precision(arch, layer)
        except UnsupportedError as exc:
            problems.append(str(exc))
            continue
        if rate is not None:
            rates[layer.name] = rate
    if problems:
        head = f"{arch.name}: {len(problems)} layer{'s' if len(problems) != 1 else ''} of {network.name} cannot run"
        raise UnsupportedError("\n".join([head, *(f"  {p}" for p in problems)]))
    return rates
