"""The architecture a user describes: PE array, MAC unit, buffers, DRAM, vector unit.

Every quantity is stored in base units with the unit in its name (``size_bytes``,
``clock_hz``); users write ``size: 64KiB`` and ``clock: 1GHz`` (see :mod:`accelsim.units`).
The YAML key of each field is given by ``key=`` where it differs from the field name.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from accelsim import units
from accelsim.errors import Problem, did_you_mean
from accelsim.spec.fields import FrozenMap, cached_hash, spec_field
from accelsim.spec.hierarchy import HierarchySpec
from accelsim.spec.limits import ARRAY_LIMIT, LATENCY_LIMIT, MAX_BANDWIDTH, MIN_BANDWIDTH
from accelsim.spec.number_format import number_format
from accelsim.spec.workload import NONLINEAR_OPS, EltwiseKind
from accelsim.spec.options import MappingMode, Objective


class Dataflow(enum.Enum):
    """What stays put in the PEs: outputs, weights or inputs."""

    OS = "os"
    WS = "ws"
    IS = "is"


class TimingModel(enum.Enum):
    """``native``: what the hardware does; ``scalesim``: SCALE-Sim 3.0.0's numbers."""

    NATIVE = "native"
    SCALESIM = "scalesim"


class ArrayKind(enum.Enum):
    SYSTOLIC = "systolic"


class OperandDelivery(enum.Enum):
    """How operands reach the PEs: shifted PE to PE (``systolic``, one cycle per PE, so a fold
    fills and drains along a skew) or ``broadcast`` on a row/column bus to every PE at once
    (Stripes and DaDianNao tiles, NVDLA-style MAC arrays: no skew). docs/timing_models.md."""

    SYSTOLIC = "systolic"
    BROADCAST = "broadcast"


class Reduction(enum.Enum):
    """What a conv's reduction lanes along the array rows take (docs/timing_models.md, "Reduction
    lanes"): the whole im2col reduction, input channels and kernel taps packed together
    (``im2col``), or input channels only (``channels``: each kernel tap's channels fill whole row
    folds and the taps run in time, as in Bit Fusion, whose input SRAM has one bank per row)."""

    IM2COL = "im2col"
    CHANNELS = "channels"


class MacKind(enum.Enum):
    """Fixed-width units, Bit Fusion-style composable bricks, or bit-serial units."""

    FIXED = "fixed"
    BITFUSION = "bitfusion"
    BIT_SERIAL = "bit_serial"


class SerialOperands(enum.Enum):
    """Which operands a bit-serial MAC streams bit by bit (Stripes: activations; Loom: both)."""

    ACTIVATIONS = "activations"
    BOTH = "both"


class Overflow(enum.Enum):
    """What the accumulator does when a sum leaves its range."""

    WRAP = "wrap"
    SATURATE = "saturate"


class SparsityMode(enum.Enum):
    """``gate``: zero operands idle the MAC (energy only); ``skip``: they cost no cycle."""

    NONE = "none"
    GATE = "gate"
    SKIP = "skip"


class SyncGroup(enum.Enum):
    """PEs that advance through a fold's stream steps in lockstep when skipping zeros.

    ``auto``: ``pe`` for os, ``column`` for ws and is (see ``docs/sparsity.md``).
    """

    AUTO = "auto"
    PE = "pe"
    ROW = "row"
    COLUMN = "column"
    FOLD = "fold"


class SparseFormat(enum.Enum):
    """How a sparse tensor is stored (Sparseloop's taxonomy, per tensor)."""

    DENSE = "dense"
    BITMASK = "bitmask"
    CSR = "csr"
    CSC = "csc"
    RLE = "rle"
    COO = "coo"
    NM_INDEX = "nm_index"


class DramKind(enum.Enum):
    DDR3 = "ddr3"
    DDR4 = "ddr4"
    LPDDR4 = "lpddr4"
    HBM2 = "hbm2"


class ArraySplit(enum.Enum):
    """How a layer's GEMM ``A[M, K] @ B[K, N]`` is divided among several arrays (``docs/multi_array.md``):
    by output columns (N), by rows/batch (M), by the reduction (K, partial sums added over the link),
    or by the layer's independent GEMMs (conv groups, matmul batch x heads)."""

    COLUMNS = "columns"
    ROWS = "rows"
    REDUCTION = "reduction"
    GROUPS = "groups"


class LinkKind(enum.Enum):
    """Where the arrays' link runs: wires on one die, or a package link between chiplets (Simba)."""

    ON_CHIP = "on_chip"
    PACKAGE = "package"


class BandwidthMode(enum.Enum):
    """SCALE-Sim's InterfaceBandwidth: ``calc`` estimates it (no read stalls); ``user`` sets it."""

    CALC = "calc"
    USER = "user"


def parse_precision(text) -> str:
    """The canonical name of a number format (:func:`accelsim.spec.number_format.number_format`)."""
    return number_format(text).name


_TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_DURATION = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(cycles?|s|ms|us|ns)?\s*$")


@dataclass(frozen=True)
class Duration:
    """A fixed time, in clock cycles (``800cycles``) or in seconds (``1.1us``)."""

    value: float
    in_cycles: bool

    def cycles(self, clock_hz: float) -> int:
        """Whole cycles at ``clock_hz``: a time is rounded up (within 1e-9 of a whole cycle: that cycle)."""
        if self.in_cycles:
            return int(self.value)
        cycles = self.value * clock_hz
        return max(0, math.ceil(cycles - 1e-9 * max(1.0, cycles)))

    def to_plain(self) -> str:
        """The text form :func:`parse_duration` reads back."""
        return f"{int(self.value)}cycles" if self.in_cycles else f"{self.value!r}s"


def parse_duration(text: str | int | float) -> Duration:
    """``"800cycles"`` or ``800`` -> 800 cycles; ``"1.1us"`` -> 1.1e-6 s (units s, ms, us, ns)."""
    match = _DURATION.match(str(text))
    if isinstance(text, bool) or match is None:
        raise ValueError(f"expected a duration such as 800cycles or 1.1us (units: cycles, s, ms, us, ns), "
                         f"got '{text}'")
    value, unit = float(match.group(1)), match.group(2) or "cycles"
    if unit.startswith("cycle"):
        if value != int(value):
            raise ValueError(f"expected a whole number of cycles, got '{text}'")
        return Duration(value, True)
    return Duration(value * _TIME_UNITS[unit], False)


def precision_bits(name: str) -> int:
    """Bit width of a number format name (``"int8"`` -> 8, ``"bf16"`` -> 16)."""
    return number_format(name).bits


def _precisions(value) -> tuple[str, ...]:
    values = value if isinstance(value, (list, tuple)) else [value]
    return tuple(parse_precision(v) for v in values)


def _format_rates(value) -> Mapping[str, int]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping of number formats to products per cycle, e.g. {{fp8_e4m3: 2}}, got {value!r}")
    out = {}
    for name, rate in value.items():
        if isinstance(rate, bool) or not isinstance(rate, int) or rate < 1:
            raise ValueError(f"expected a whole number of products per cycle >= 1 for {name}, got {rate!r}")
        out[parse_precision(name)] = rate
    return FrozenMap(out)


def _nm_patterns(value) -> tuple[str, ...]:
    values = value if isinstance(value, (list, tuple)) else [value]
    out = []
    for v in values:
        match = re.match(r"^\s*(\d+)\s*:\s*(\d+)\s*$", str(v))
        if not match or not 0 < int(match.group(1)) <= int(match.group(2)):
            raise ValueError(f"expected N:M patterns such as '2:4' with 0 < N <= M, got {v!r}")
        out.append(f"{int(match.group(1))}:{int(match.group(2))}")
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class ArraySpec:
    """The PE array: ``rows`` x ``cols`` PEs and the dataflow that maps GEMMs onto them."""

    kind: ArrayKind = spec_field(ArrayKind.SYSTOLIC)
    rows: int = spec_field(minimum=1, maximum=ARRAY_LIMIT, doc="PE rows")
    cols: int = spec_field(minimum=1, maximum=ARRAY_LIMIT, doc="PE columns")
    dataflow: Dataflow = spec_field(Dataflow.WS)
    dataflows: tuple[Dataflow, ...] = spec_field(
        (), doc="dataflows a searched mapping may also use (a flexible array); empty: only dataflow"
    )
    accumulators_bytes: int = spec_field(
        0, key="accumulators", parse=units.parse_bytes, minimum=0,
        doc="output-side accumulator storage that keeps partial sums across row folds (0: none)",
    )
    preload_overlap: bool = spec_field(
        False, doc="load the next fold's stationary operand while the current fold computes"
    )
    output_overlap: bool = spec_field(
        False, doc="os: finished outputs shift out through their own registers while the next fold computes",
    )
    operand_delivery: OperandDelivery = spec_field(
        OperandDelivery.SYSTOLIC, doc="systolic (shifted PE to PE) or broadcast (a bus to every PE; os only)",
    )
    pe_scratchpad_bytes: int = spec_field(
        0, key="pe_scratchpad", parse=units.parse_bytes, minimum=0,
        doc="per-PE register file holding operands and partial sums (Eyeriss: 0.5 kB; 0: pipeline registers only)",
    )
    reduction: Reduction = spec_field(
        Reduction.IM2COL, doc="what a conv's row lanes reduce over: im2col (channels and kernel taps packed) or "
        "channels (each tap's channels fill whole row folds, taps run in time; the network's first layer reads "
        "the host's im2col)",
    )

    def check(self) -> list[Problem]:
        others = [d.value for d in (self.dataflow, *self.dataflows) if d is not Dataflow.OS]
        if self.operand_delivery is OperandDelivery.BROADCAST and others:
            return [Problem("operand_delivery", f"broadcast delivery is modelled for the os dataflow only (Stripes, "
                            f"DaDianNao tiles), not {', '.join(others)}; use dataflow: os or operand_delivery: systolic")]
        if self.reduction is Reduction.CHANNELS and Dataflow.OS in (self.dataflow, *self.dataflows):
            return [Problem("reduction", "channels: the reduction lies along the rows in the ws and is dataflows only "
                            "(os reduces in time); use reduction: im2col or dataflow: ws")]
        return []


@dataclass(frozen=True, kw_only=True)
class MacSpec:
    """The multiply-accumulate unit inside each PE."""

    kind: MacKind = spec_field(MacKind.FIXED)
    precisions: tuple[str, ...] = spec_field(("int8",), parse=_precisions, doc="number formats it runs natively")
    accumulator_bits: int = spec_field(32, minimum=1, maximum=64)
    overflow: Overflow = spec_field(Overflow.WRAP)
    decompose_wider: bool = spec_field(False, doc="run operands wider than supported in several passes")
    brick_bits: int = spec_field(2, minimum=1, doc="Bit Fusion: bits of one BitBrick operand")
    bricks: int = spec_field(16, minimum=1, doc="Bit Fusion: BitBricks per fusion unit")
    serial_operands: SerialOperands = spec_field(SerialOperands.ACTIVATIONS, doc="bit-serial: which operands")
    serial_bits_per_cycle: int = spec_field(1, minimum=1, doc="bit-serial: bits of each serial operand per cycle")
    lanes: int = spec_field(1, minimum=1, doc="products along the reduction summed per step (a dot-product unit)")
    rates: Mapping[str, int] = spec_field(
        FrozenMap({}), parse=_format_rates,
        doc="fixed units: products per cycle of a lane in a listed format (default 1), e.g. {fp8_e4m3: 2}",
    )

    def check(self) -> list[Problem]:
        if not self.precisions:
            return [Problem("precisions", "expected at least one number format")]
        floats = [p for p in self.precisions if number_format(p).is_float]
        if self.kind is not MacKind.FIXED and floats:
            return [Problem("precisions", f"a {self.kind.value} unit computes integers; "
                            f"remove {', '.join(floats)} (float formats need kind: fixed)")]
        problems = [Problem(f"rates.{name}", f"{name} is not in precisions ({', '.join(self.precisions)}); "
                            "list it there or remove its rate") for name in self.rates if name not in self.precisions]
        if self.rates and self.kind is not MacKind.FIXED:
            problems.append(Problem("rates", f"per-format rates apply to fixed units; a {self.kind.value} unit's "
                                    "rate follows from its operand widths"))
        return problems


@dataclass(frozen=True, kw_only=True)
class SparsitySpec:
    """What the PE array does with zeros and how sparse tensors are stored."""

    mode: SparsityMode = spec_field(SparsityMode.NONE)
    structured: tuple[str, ...] = spec_field((), parse=_nm_patterns, doc="N:M patterns the array runs natively")
    weights: bool = spec_field(True, doc="exploit zeros in weights")
    activations: bool = spec_field(False, doc="exploit zeros in activations")
    formats: tuple[SparseFormat, ...] = spec_field(
        (SparseFormat.DENSE,), doc="storage formats the hardware reads; each sparse tensor uses the smallest"
    )
    sync_group: SyncGroup = spec_field(SyncGroup.AUTO, doc="PEs that skip stream steps in lockstep")
    index_bits: int = spec_field(0, minimum=0, doc="bits of a CSR/CSC/COO index (0: enough for the dimension)")
    run_bits: int = spec_field(4, minimum=1, maximum=32, doc="bits of a run-length field (EIE uses 4)")


@dataclass(frozen=True, kw_only=True)
class BufferSpec:
    """One on-chip SRAM buffer.

    ``width_bits`` is the port width (bits read or written per port per cycle); it is split
    evenly over ``banks``, and each bank must hold whole words.
    """

    size_bytes: int = spec_field(key="size", parse=units.parse_bytes, exclusive_minimum=0)
    word_bits: int = spec_field(8, minimum=1)
    width_bits: int = spec_field(0, minimum=0, doc="port width in bits (0: one word per bank)")
    banks: int = spec_field(1, minimum=1)
    ports: int = spec_field(2, minimum=1, doc="read plus write ports")
    double_buffered: bool = spec_field(True)

    @property
    def port_width_bits(self) -> int:
        """Bits per port per cycle (``width_bits``, or one word per bank when unset)."""
        return self.width_bits or self.word_bits * self.banks

    def check(self) -> list[Problem]:
        problems = []
        width = self.port_width_bits
        if width % self.banks:
            problems.append(Problem("banks", f"{self.banks} banks do not divide the port width of {width} bits"))
        elif (width // self.banks) % self.word_bits:
            problems.append(
                Problem("width_bits", f"each of {self.banks} banks gets {width // self.banks} bits, "
                        f"not a multiple of word_bits={self.word_bits}")
            )
        if self.size_bytes * 8 < width:
            problems.append(Problem("size", f"{self.size_bytes} bytes is smaller than one {width}-bit access"))
        return problems


OPERANDS = ("ifmap", "filter", "ofmap")
BUFFER_NAMES = (*OPERANDS, "unified")


@dataclass(frozen=True, kw_only=True)
class BuffersSpec:
    """Per-operand buffers (``ifmap``, ``filter``, ``ofmap``), a ``unified`` one, or a mix.

    An operand without its own buffer lives in the unified buffer.
    """

    ifmap: BufferSpec | None = spec_field(None)
    filter: BufferSpec | None = spec_field(None)
    ofmap: BufferSpec | None = spec_field(None)
    unified: BufferSpec | None = spec_field(None)

    def for_operand(self, operand: str) -> BufferSpec:
        """The buffer that holds ``operand`` (``ifmap``, ``filter`` or ``ofmap``)."""
        own = getattr(self, operand)
        if own is not None:
            return own
        assert self.unified is not None, "validated: every operand has a buffer"
        return self.unified

    @property
    def total_bytes(self) -> int:
        return sum(b.size_bytes for b in (self.ifmap, self.filter, self.ofmap, self.unified) if b is not None)

    def check(self) -> list[Problem]:
        missing = [op for op in OPERANDS if getattr(self, op) is None]
        if missing and self.unified is None:
            return [Problem("", f"no buffer for {', '.join(missing)}: give each operand a buffer or add 'unified'")]
        if not missing and self.unified is not None:
            return [Problem("unified", "every operand has its own buffer, so the unified buffer would hold nothing")]
        return []


@dataclass(frozen=True, kw_only=True)
class DramSpec:
    """Off-chip memory. ``bandwidth`` is shared by all operands unless ``per_operand`` is set.

    No ``bandwidth`` means "as much as needed" (SCALE-Sim's CALC mode: no read stalls).
    """

    kind: DramKind = spec_field(DramKind.DDR4)
    bandwidth: units.Bandwidth | None = spec_field(None, parse=units.parse_bandwidth)
    latency_cycles: int = spec_field(0, key="latency", parse=units.parse_cycles, minimum=0, maximum=LATENCY_LIMIT)
    per_operand: Mapping[str, units.Bandwidth] = spec_field(
        FrozenMap({}),
        parse=lambda v: _per_operand_bandwidth(v),
        doc="separate channels per operand (SCALE-Sim USER mode), e.g. {ifmap: 10B/cycle, ...}",
    )


def _per_operand_bandwidth(value) -> Mapping[str, units.Bandwidth]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping of {', '.join(OPERANDS)} to bandwidths, got {value!r}")
    unknown = [k for k in value if k not in OPERANDS]
    if unknown:
        raise ValueError(f"unknown operand {unknown[0]!r}; valid operands: {', '.join(OPERANDS)}")
    return FrozenMap({k: units.parse_bandwidth(v) for k, v in value.items()})


FUSABLE_OPS = (*(op.value for op in NONLINEAR_OPS), *(kind.value for kind in EltwiseKind), "pool")
"""Names ``vector_unit.fused_ops`` accepts: nonlinear ops, eltwise kinds and ``pool``."""


def _fused_ops(value) -> tuple[str, ...]:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    names = tuple(str(v).strip().lower() for v in values)
    for name in names:
        if name not in FUSABLE_OPS:
            raise ValueError(f"expected op names from {', '.join(FUSABLE_OPS)}, got {name!r}"
                             f"{did_you_mean(name, FUSABLE_OPS)}")
    return names


@dataclass(frozen=True, kw_only=True)
class VectorUnitSpec:
    """SIMD unit for elementwise and reduction work (softmax, GELU, LayerNorm, pooling).

    Each cycle every lane issues ``ops_per_lane_per_cycle`` simple operations (add, multiply,
    compare, shift, table read). An exact exp, divide or square root occupies a lane for
    ``exp_cycles``/``div_cycles``/``sqrt_cycles`` issue slots: a special-function unit at a
    quarter of the lane rate by default, the ratio of NVIDIA's SFUs to FP32 cores (16 vs 64
    per SM, CUDA C Programming Guide, arithmetic instruction throughput, compute capability
    7.x-8.x). ``buffer`` is the unit's own scratchpad: a row that fits stays there between
    the passes of a reduction (max, sum, normalise); otherwise every pass streams the row
    from the shared SRAM again.
    """

    lanes: int = spec_field(minimum=1)
    ops_per_lane_per_cycle: int = spec_field(1, minimum=1)
    pipelined_with_array: bool = spec_field(False, doc="runs concurrently with the PE array")
    exp_cycles: int = spec_field(4, minimum=1, doc="issue slots of one exact exp per lane")
    div_cycles: int = spec_field(4, minimum=1, doc="issue slots of one exact divide per lane")
    sqrt_cycles: int = spec_field(4, minimum=1, doc="issue slots of one exact square root per lane")
    float_precision: str = spec_field("fp32", parse=parse_precision,
                                      doc="number format of the unit's floating-point arithmetic")
    buffer_bytes: int = spec_field(0, key="buffer", parse=units.parse_bytes, minimum=0,
                                   doc="the unit's own scratchpad that keeps rows between passes (0: none)")
    fused_ops: tuple[str, ...] = spec_field((), parse=_fused_ops, doc="ops applied on the array's output path "
                                            "(no buffer or DRAM round trip; docs/memory_plan.md)")

    def check(self) -> list[Problem]:
        problems = []
        if not number_format(self.float_precision).is_float:
            problems.append(Problem("float_precision", f"expected a float format (fp32, fp16, bf16, ...), "
                                    f"got {self.float_precision}"))
        if self.fused_ops and not self.pipelined_with_array:
            problems.append(Problem("fused_ops", "ops on the array's output path run alongside it: "
                                    "set pipelined_with_array: true, or leave fused_ops out"))
        return problems


@dataclass(frozen=True, kw_only=True)
class LinkSpec:
    """The link between arrays (only the reduction split moves data over it: partial sums)."""

    kind: LinkKind = spec_field(LinkKind.ON_CHIP)
    latency_cycles: int = spec_field(0, key="latency", parse=units.parse_cycles, minimum=0, maximum=LATENCY_LIMIT,
                                     doc="cycles before a transfer's first byte arrives")
    bandwidth: units.Bandwidth | None = spec_field(None, parse=units.parse_bandwidth,
                                                   doc="bytes each array sends per second or cycle")
    energy_pj_per_byte: float | None = spec_field(None, key="energy_per_byte", parse=units.parse_energy_pj,
                                                  doc="energy of one byte over the link, e.g. 8pJ")


@dataclass(frozen=True, kw_only=True)
class ArraysSpec:
    """Several identical arrays (cores) on the chip (``docs/multi_array.md``).

    Each array has the ``array``/``mac`` of the arch and its own copy of every buffer except
    the ``shared`` ones (one buffer for all, its capacity divided equally among the arrays); one
    DRAM channel serves them all. ``split``: the ways a layer may be divided among them (the
    split with the lowest objective is chosen per layer).
    """

    count: int = spec_field(1, minimum=1, maximum=4096, doc="identical arrays on the chip")
    split: tuple[ArraySplit, ...] = spec_field(tuple(ArraySplit), doc="ways a layer may be divided: columns, rows, reduction, groups")
    shared_buffers: tuple[str, ...] = spec_field((), key="shared", doc="buffers all arrays share (ifmap, filter, ofmap, unified)")
    link: LinkSpec = spec_field(LinkSpec())

    def check(self) -> list[Problem]:
        problems = []
        if not self.split:
            problems.append(Problem("split", "expected at least one of columns, rows, reduction, groups"))
        for index, name in enumerate(self.shared_buffers):
            if name not in BUFFER_NAMES:
                problems.append(Problem(f"shared[{index}]", f"expected one of {', '.join(BUFFER_NAMES)}, got {name!r}"
                                        + did_you_mean(name, BUFFER_NAMES)))
        if self.count > 1 and ArraySplit.REDUCTION in self.split:
            missing = [key for key, value in (("bandwidth", self.link.bandwidth),
                                               ("energy_per_byte", self.link.energy_pj_per_byte)) if value is None]
            if missing:
                problems.append(Problem(f"link.{missing[0]}", f"the reduction split adds partial sums over the link: "
                                        f"give link.{' and link.'.join(missing)}, or leave reduction out of split"))
        return problems

    def is_shared(self, buffer: str) -> bool:
        """Whether ``buffer`` (``ifmap``, ``filter``, ``ofmap``, ``unified``) is one buffer for all arrays."""
        return buffer in self.shared_buffers


@dataclass(frozen=True, kw_only=True)
class ScalesimSpec:
    """Settings only SCALE-Sim compatibility uses (from a .cfg file)."""

    bandwidth_mode: BandwidthMode = spec_field(BandwidthMode.CALC)
    run_name: str = spec_field("")


@cached_hash
@dataclass(frozen=True, kw_only=True)
class ArchSpec:
    """A whole accelerator."""

    name: str = spec_field()
    clock_hz: float = spec_field(1e9, key="clock", parse=units.parse_frequency, exclusive_minimum=0)
    technology_nm: float = spec_field(45.0, key="technology", parse=units.parse_length_nm, exclusive_minimum=0)
    timing_model: TimingModel = spec_field(TimingModel.NATIVE)
    mapping: MappingMode | None = spec_field(
        None, doc="how array layers are mapped: search (the mapper's best per layer; the default under native "
                  "timing) or fixed (SCALE-Sim's; always under scalesim timing); a run's --mapping overrides it",
    )
    objective: Objective | None = spec_field(None, doc="what mapping search minimises: cycles (default), energy or edp")
    array: ArraySpec = spec_field()
    mac: MacSpec = spec_field(MacSpec())
    sparsity: SparsitySpec = spec_field(SparsitySpec())
    buffers: BuffersSpec = spec_field()
    dram: DramSpec = spec_field(DramSpec())
    vector_unit: VectorUnitSpec | None = spec_field(None)
    arrays: ArraysSpec = spec_field(ArraysSpec(), doc="several arrays per chip (default: one)")
    hierarchy: HierarchySpec | None = spec_field(None, doc="levels below the buffers, PE storage (docs/hierarchy.md)")
    scalesim: ScalesimSpec = spec_field(ScalesimSpec())
    energy: Mapping[str, float] = spec_field(
        FrozenMap({}), parse=lambda v: _overrides(v, units.parse_energy_pj),
        doc="overrides of energy table entries, pJ per action",
    )
    area: Mapping[str, float] = spec_field(
        FrozenMap({}), parse=lambda v: _overrides(v, units.parse_area_um2),
        doc="overrides of area table entries, um^2",
    )
    sram_leakage: bool = spec_field(
        False, doc="add SRAM leakage x time (CACTI 7 itrs-hp cells: an upper bound for low-power processes)",
    )
    dispatch_overhead: Duration = spec_field(
        Duration(0, True), parse=parse_duration,
        doc="fixed cost of launching each layer, added to its cycles (800cycles or 1.1us; default 0)",
    )
    memory_plan: bool | None = spec_field(
        None, doc="keep activations on chip between layers and fuse output-path ops (docs/memory_plan.md); "
        "default: on in native timing, off in scalesim timing",
    )
    source: str = spec_field("", doc="where the numbers come from")

    @property
    def pes(self) -> int:
        """PEs of the chip: ``rows x cols`` of every array."""
        return self.array.rows * self.array.cols * self.arrays.count

    def check(self) -> list[Problem]:
        """Every DRAM bandwidth within the validated range (``docs/limits.md``) at this clock;
        broadcast delivery, a searched mapping and a hierarchy only in native timing; several
        arrays only with native timing, one shared DRAM channel and buffers that exist."""
        channels = [("dram.bandwidth", self.dram.bandwidth)]
        channels += [(f"dram.per_operand.{op}", bw) for op, bw in self.dram.per_operand.items()]
        problems = self._check_arrays()
        if self.timing_model is TimingModel.SCALESIM and self.array.operand_delivery is OperandDelivery.BROADCAST:
            problems.append(Problem("array.operand_delivery", "SCALE-Sim timing models a systolic array; use "
                                    "operand_delivery: systolic or timing_model: native"))
        if self.memory_plan and self.timing_model is TimingModel.SCALESIM:
            problems.append(Problem("memory_plan", "SCALE-Sim timing has no inter-layer memory plan; "
                                    "set timing_model: native or leave memory_plan out"))
        if self.hierarchy is not None and self.timing_model is not TimingModel.NATIVE:
            problems.append(Problem("hierarchy", "a hierarchy runs native timing; remove timing_model: scalesim"))
        if self.hierarchy is not None and self.arrays.count > 1:
            problems.append(Problem("hierarchy", "a hierarchy describes one array of PEs; set arrays.count: 1 "
                                    "(several arrays run without PE storage, docs/multi_array.md)"))
        if self.array.reduction is Reduction.CHANNELS and self.timing_model is TimingModel.SCALESIM:
            problems.append(Problem("array.reduction", "SCALE-Sim timing lowers convs by im2col; use reduction: im2col "
                                    "or timing_model: native"))
        if self.array.reduction is Reduction.CHANNELS and self.arrays.count > 1:
            problems.append(Problem("array.reduction", "channels is modelled for one array (a reduction split would "
                                    "cut kernel taps); set arrays.count: 1 or reduction: im2col"))
        if self.mapping is MappingMode.SEARCH and self.timing_model is TimingModel.SCALESIM:
            problems.append(Problem("mapping", "search needs timing_model: native (scalesim timing reproduces "
                                    "SCALE-Sim's own fixed mapping); write mapping: fixed or leave it out"))
        for path, bandwidth in channels:
            if bandwidth is None:
                continue
            per_cycle = bandwidth.bytes_per_cycle(self.clock_hz)
            if not MIN_BANDWIDTH <= per_cycle <= MAX_BANDWIDTH:
                problems.append(Problem(path, f"expected {MIN_BANDWIDTH:g} to 2^40 bytes per cycle (the validated "
                                        f"range, docs/limits.md), got {per_cycle:g} B/cycle at {self.clock_hz:g} Hz"
                                        + ("; leave bandwidth out for unlimited" if per_cycle <= 0 else "")))
        return problems

    def _check_arrays(self) -> list[Problem]:
        if self.arrays.count == 1:
            return []
        problems = []
        if self.timing_model is TimingModel.SCALESIM:
            problems.append(Problem("arrays.count", "SCALE-Sim timing models one array; use timing_model: native"))
        if self.dram.per_operand:
            problems.append(Problem("dram.per_operand", "several arrays share one DRAM channel (dram.bandwidth); "
                                    "per-operand channels are SCALE-Sim's USER mode"))
        bandwidth = self.dram_bytes_per_cycle()
        if bandwidth is not None and bandwidth / self.arrays.count < MIN_BANDWIDTH:
            problems.append(Problem("arrays.count", f"{self.arrays.count} arrays would each get {bandwidth / self.arrays.count:g} "
                                    f"B/cycle of DRAM, below the validated {MIN_BANDWIDTH:g} (docs/limits.md)"))
        present = [name for name in BUFFER_NAMES if getattr(self.buffers, name) is not None]
        for index, name in enumerate(self.arrays.shared_buffers):
            if name in BUFFER_NAMES and name not in present:
                problems.append(Problem(f"arrays.shared[{index}]", f"the arch has no {name} buffer; "
                                        f"its buffers: {', '.join(present)}"))
        return problems

    @property
    def plans_memory(self) -> bool:
        """Whether activations stay on chip between layers (``memory_plan``, default: native timing)."""
        return self.timing_model is TimingModel.NATIVE if self.memory_plan is None else self.memory_plan

    @property
    def dispatch_cycles(self) -> int:
        """Cycles of ``dispatch_overhead`` at the arch's clock."""
        return self.dispatch_overhead.cycles(self.clock_hz)

    def dram_bytes_per_cycle(self, operand: str | None = None) -> float | None:
        """DRAM bandwidth in bytes/cycle for ``operand`` (its own channel if any), None if unlimited."""
        bandwidth = self.dram.per_operand.get(operand) if operand else None
        bandwidth = bandwidth or self.dram.bandwidth
        return None if bandwidth is None else bandwidth.bytes_per_cycle(self.clock_hz)


def _overrides(value, parse) -> Mapping[str, float]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected a mapping of table entries to values, got {value!r}")
    return FrozenMap({str(k): parse(v) for k, v in value.items()})
