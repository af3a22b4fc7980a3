"""The workload a user describes: a Network of Layers, each with a Compression annotation.

Dimension names (one alphabet, used everywhere in accelsim):

* conv: ``batch``, ``in_channels``, ``out_channels``, ``in_h``/``in_w`` (input height/width,
  unpadded), ``kernel`` (height, width), ``stride``, ``padding`` (top, left, bottom, right,
  as ONNX orders ``pads``), ``dilation``, ``groups``; ``out_h``/``out_w`` are derived.
  Weights are ``[out_channels, in_channels / groups, kernel_h, kernel_w]`` (a transposed
  conv's are ``[in_channels, out_channels / groups, kernel_h, kernel_w]``, as in ONNX).
* GEMM: ``A[m, k] @ B[k, n] = C[m, n]``. In a ``gemm`` layer, B holds the weights; in a
  ``matmul`` layer both operands are activations (attention's QK^T and AV), repeated over
  ``batch`` x ``heads``.
* vector work (pooling, elementwise, nonlinear ops): a ``shape`` whose last axis is the one
  a reduction (softmax, LayerNorm) runs along.

Layer shapes are per sample; ``batch`` multiplies them. MAC counts exclude bias and count
every kernel tap, padded ones included (the work of the dense layer).
"""

from __future__ import annotations

import enum
import functools
import hashlib
import math
import re
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np

from accelsim.errors import Problem, WorkloadError, did_you_mean
from accelsim.spec.fields import cached_hash, shown, spec_field
from accelsim.spec.number_format import NumberFormat, number_format, operand_value
from accelsim.spec.limits import INT_LIMIT, TENSOR_LIMIT, power_of_two


class Op(enum.Enum):
    CONV2D = "conv2d"
    CONV_TRANSPOSE2D = "conv_transpose2d"
    GEMM = "gemm"
    MATMUL = "matmul"
    POOL = "pool"
    ELTWISE = "eltwise"
    SOFTMAX = "softmax"
    GELU = "gelu"
    LAYERNORM = "layernorm"
    RMSNORM = "rmsnorm"
    RELU = "relu"
    SILU = "silu"
    SIGMOID = "sigmoid"
    TANH = "tanh"


NONLINEAR_OPS = (Op.SOFTMAX, Op.GELU, Op.LAYERNORM, Op.RMSNORM, Op.RELU, Op.SILU, Op.SIGMOID, Op.TANH)


class SparsityPattern(enum.Enum):
    DENSE = "dense"
    UNSTRUCTURED = "unstructured"
    NM = "nm"
    BLOCK = "block"
    CHANNEL = "channel"


_NM = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


def _parse_pattern(value: Any) -> str:
    text = str(value).strip().lower()
    match = _NM.match(text)
    if match:
        n, m = int(match.group(1)), int(match.group(2))
        if not 0 < n <= m:
            raise ValueError(f"an N:M pattern needs 0 < N <= M, got {value!r}")
        return f"{n}:{m}"
    names = [p.value for p in SparsityPattern if p is not SparsityPattern.NM]
    if text not in names:
        raise ValueError(f"expected one of {', '.join(names)} or N:M such as '2:4', got {value!r}{did_you_mean(text, names)}")
    return text


class WeightMask:
    """A ``.npy`` weight mask (True = kept): its path as written and, once read, its values.

    A relative ``path`` starts at the workload file's folder. ``values`` (a read-only boolean
    array of the layer's weight shape) is filled where files are read: when a workload is
    loaded (``accelsim.load_workload``) or a scheme writes the mask
    (``accelsim.compress.apply_scheme``); the simulator reads no files. Specs write the path
    only. Two masks are equal when their paths and their values (or both unread) are.
    """

    __slots__ = ("path", "values", "_digest")

    def __init__(self, path: str, values: np.ndarray | None = None):
        if values is not None:
            values = np.array(values, dtype=bool)
            values.setflags(write=False)
        digest = None if values is None else hashlib.sha256(
            repr(values.shape).encode() + np.packbits(values).tobytes()).hexdigest()
        for name, value in (("path", str(path)), ("values", values), ("_digest", digest)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"WeightMask is immutable (cannot set {name})")

    def __reduce__(self):
        return WeightMask, (self.path, self.values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WeightMask) and (self.path, self._digest) == (other.path, other._digest)

    def __hash__(self) -> int:
        return hash((self.path, self._digest))

    def __repr__(self) -> str:
        state = "unread" if self.values is None else f"read, shape {self.values.shape}"
        return f"WeightMask({self.path!r}, {state})"

    @property
    def is_read(self) -> bool:
        return self.values is not None

    def to_plain(self) -> str:
        return self.path


def _parse_mask(value: Any) -> WeightMask:
    if isinstance(value, WeightMask):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected the path of a .npy mask file, got {value!r}")
    return WeightMask(value)


@dataclass(frozen=True, kw_only=True)
class Sparsity:
    """Where the zeros of one tensor are and how many.

    ``pattern``: ``dense``, ``unstructured``, ``N:M`` (at most N non-zeros in every M
    consecutive values along the reduction axis), ``block`` (zero blocks of ``block``
    shape) or ``channel`` (whole output channels removed). ``density`` is the fraction of
    non-zeros (derived for dense and N:M). ``mask``: the real mask (:class:`WeightMask`; a
    path given as a string is taken as an unread mask).
    """

    pattern: str = spec_field("dense", parse=_parse_pattern)
    density: float | None = spec_field(None, minimum=0.0, maximum=1.0)
    block: tuple[int, int] = spec_field((1, 1))
    mask: WeightMask | None = spec_field(None, parse=_parse_mask, doc="path to a .npy boolean mask (True = kept)")

    def __post_init__(self) -> None:
        if isinstance(self.mask, str):
            object.__setattr__(self, "mask", _parse_mask(self.mask))

    @property
    def kind(self) -> SparsityPattern:
        return SparsityPattern.NM if _NM.match(self.pattern) else SparsityPattern(self.pattern)

    @property
    def n_m(self) -> tuple[int, int] | None:
        match = _NM.match(self.pattern)
        return (int(match.group(1)), int(match.group(2))) if match else None

    @property
    def effective_density(self) -> float:
        """Fraction of non-zero values (1 for dense, N/M for N:M unless a lower one is given)."""
        if self.density is not None:
            return self.density
        if self.n_m is not None:
            return self.n_m[0] / self.n_m[1]
        return 1.0

    def check(self) -> list[Problem]:
        problems = []
        if self.kind is SparsityPattern.DENSE and self.density not in (None, 1.0):
            problems.append(Problem("density", f"a dense tensor has density 1, got {self.density}; "
                                    "set pattern: unstructured for a sparse one"))
        if self.kind in (SparsityPattern.UNSTRUCTURED, SparsityPattern.BLOCK, SparsityPattern.CHANNEL):
            if self.density is None and self.mask is None:
                problems.append(Problem("density", f"pattern {self.pattern} needs a density or a mask"))
        if min(self.block) < 1:
            problems.append(Problem("block", f"expected positive block sizes, got {self.block}"))
        return problems


DENSE = Sparsity()


class ImplKind(enum.Enum):
    """How a vector unit computes a nonlinear function (see ``docs/transformers.md``)."""

    EXACT = "exact"
    LUT = "lut"
    PWL = "pwl"
    POLY = "poly"
    IBERT = "ibert"


@dataclass(frozen=True, kw_only=True)
class NonlinearImpl:
    """Implementation of a layer's nonlinear function (exp, GELU, 1/sqrt...) on the vector unit.

    ``exact``: floating point; ``lut``: a table of ``entries`` values (nearest, or linearly
    ``interpolate``\\ d); ``pwl``: ``segments`` least-squares lines; ``poly``: a polynomial of
    ``degree``; ``ibert``: I-BERT's integer-only i-exp/i-GELU/i-sqrt on ``bits``-bit integers.
    """

    kind: ImplKind = spec_field(ImplKind.EXACT)
    entries: int = spec_field(256, minimum=2, doc="lut: table entries")
    interpolate: bool = spec_field(False, doc="lut: interpolate linearly between entries")
    segments: int = spec_field(16, minimum=1, doc="pwl: linear segments")
    degree: int = spec_field(3, minimum=1, maximum=8, doc="poly: polynomial degree")
    bits: int = spec_field(16, minimum=4, maximum=32, doc="ibert: bits of the integer input")


EXACT = NonlinearImpl()


@dataclass(frozen=True, kw_only=True)
class Compression:
    """Quantization and pruning of one layer: operand number formats and sparsity.

    ``weight_bits``/``act_bits`` are integer widths (``8``: int8) or format names (``"bf16"``,
    ``"fp8_e4m3"``, ``"uint8"``; :mod:`accelsim.spec.number_format`); ``weight_precision`` and
    ``act_precision`` are the formats they name.
    """

    weight_bits: int | str = spec_field(8, parse=operand_value, minimum=1, maximum=32,
                                        doc="integer width or number format name (bf16, fp8_e4m3, ...)")
    act_bits: int | str = spec_field(8, parse=operand_value, minimum=1, maximum=32,
                                     doc="integer width or number format name (bf16, fp8_e4m3, ...)")
    sparsity: Sparsity = spec_field(DENSE, doc="weight sparsity")
    act_sparsity: Sparsity = spec_field(DENSE, doc="input activation sparsity")
    nonlinear_impl: NonlinearImpl = spec_field(EXACT, doc="how the vector unit computes nonlinear ops")
    weight_scale_bytes: int = spec_field(0, minimum=0, doc="bytes of the weights' quantization scales and zero "
                                         "points (per channel or per block): weight metadata")

    def __post_init__(self):
        # canonical values however the object is built (``"int8"`` -> 8, ``"bfloat16"`` -> ``"bf16"``)
        for name in ("weight_bits", "act_bits"):
            object.__setattr__(self, name, operand_value(getattr(self, name)))

    @property
    def weight_precision(self) -> NumberFormat:
        return number_format(self.weight_bits)

    @property
    def act_precision(self) -> NumberFormat:
        return number_format(self.act_bits)

    @property
    def weight_density(self) -> float:
        return self.sparsity.effective_density

    @property
    def act_density(self) -> float:
        return self.act_sparsity.effective_density


def _in_range(values: list) -> list:
    """``values`` if none is past :data:`INT_LIMIT` (``docs/limits.md``), else a ValueError naming it."""
    for v in values:
        if isinstance(v, int) and abs(v) > INT_LIMIT:
            raise ValueError(f"expected values up to {power_of_two(INT_LIMIT)} (the validated range, "
                             f"docs/limits.md), got {shown(v)}")
    return values


def _pair(value: Any) -> tuple[int, int]:
    values = list(value) if isinstance(value, (list, tuple)) else [value, value]
    if len(values) != 2 or not all(isinstance(v, int) and not isinstance(v, bool) for v in values):
        raise ValueError(f"expected an integer or a list of 2 integers, got {shown(value)}")
    _in_range(values)
    return int(values[0]), int(values[1])


def _padding(value: Any) -> tuple[int, int, int, int]:
    """``1`` -> all sides; ``[h, w]``; ``[top, left, bottom, right]`` (ONNX order)."""
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in values) or len(values) not in (1, 2, 4):
        raise ValueError(f"expected padding as p, [ph, pw] or [top, left, bottom, right] (>= 0), got {shown(value)}")
    _in_range(values)
    if len(values) == 1:
        values = values * 4
    elif len(values) == 2:
        values = values * 2
    return tuple(values)  # type: ignore[return-value]


def _shape(value: Any) -> tuple[int, ...]:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not values or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in values):
        raise ValueError(f"expected a list of positive integers (every dimension >= 1), got {shown(value)}")
    return tuple(_in_range(values))


DRAM_INPUT = "dram"
"""The ``producers`` entry of an operand that comes from DRAM (a network input, a KV cache)."""


_PART = re.compile(r"^(?P<name>.+?)\[(?P<num>\d+)/(?P<den>\d+)\]$")


def producer_part(entry: str) -> tuple[str, int, int]:
    """``(layer name, numerator, denominator)`` of a ``producers`` entry: ``name`` reads from the
    whole output of ``name``, ``name[a/b]`` from a part of ``a/b`` of it (Q, K or V of a fused
    QKV projection: ``[1/3]``)."""
    match = _PART.match(entry)
    if match is None:
        return entry, 1, 1
    return match.group("name"), int(match.group("num")), int(match.group("den"))


def _producer_names(value: Any) -> tuple[str, ...]:
    values = list(value) if isinstance(value, (list, tuple)) else [value]
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise ValueError(f"expected a list of layer names (or '{DRAM_INPUT}'), got {shown(value)}")
    for v in values:
        _, num, den = producer_part(v.strip())
        if not 0 < num <= den:
            raise ValueError(f"expected a part a/b with 0 < a <= b in {v!r}, e.g. 'qkv[1/3]'")
    return tuple(v.strip() for v in values)


@cached_hash
@dataclass(frozen=True, kw_only=True)
class Layer:
    """One operation of a network. Subclasses give the shape; counts are in elements."""

    kinds: ClassVar[dict[str, type[Layer]]] = {}
    ops: ClassVar[tuple[Op, ...]] = ()

    op: Op = spec_field(always_written=True)
    name: str = spec_field()
    batch: int = spec_field(1, minimum=1)
    compression: Compression = spec_field(Compression())
    producers: tuple[str, ...] = spec_field((), parse=_producer_names, doc="where each input operand comes from, "
                                            "in operand order: an earlier layer's name (name[a/b]: a part of its "
                                            "output) or 'dram' (docs/memory_plan.md)")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        for op in cls.ops:
            Layer.kinds[op.value] = cls

    @classmethod
    def variant_of(cls, data: dict) -> type[Layer]:
        """The Layer subclass for ``data['op']`` (for the spec loader)."""
        if cls is not Layer:
            return cls
        op = data.get("op")
        if op is None:
            raise ValueError(f"missing key 'op'; expected one of {', '.join(sorted(Layer.kinds))}")
        if str(op).lower() not in Layer.kinds:
            raise ValueError(f"op: expected one of {', '.join(sorted(Layer.kinds))}, got {op!r}"
                             f"{did_you_mean(str(op).lower(), Layer.kinds)}")
        return Layer.kinds[str(op).lower()]

    def check(self) -> list[Problem]:
        if self.op not in self.ops:
            return [Problem("op", f"{type(self).__name__} takes op {', '.join(o.value for o in self.ops)}")]
        too_big = self.range_problems()
        if too_big:
            return too_big
        sparsity = self.compression.sparsity
        if sparsity.n_m is not None and sparsity.density is not None and self.reduction_length:
            # Groups of M along the reduction; a shorter last group keeps at most min(N, its length).
            n, m = sparsity.n_m
            full, tail = divmod(self.reduction_length, m)
            bound = (full * n + min(n, tail)) / self.reduction_length
            if sparsity.density > bound + 1e-12:
                return [Problem("compression.sparsity.density", f"pattern {sparsity.pattern} allows a density of "
                                f"at most {bound:g} over a reduction of {self.reduction_length}, got {sparsity.density}")]
        return []

    def range_problems(self) -> list[Problem]:
        """MACs and tensor sizes past :data:`TENSOR_LIMIT` (``docs/limits.md``), where counts could overflow."""
        try:
            sizes = {"MACs": self.macs, "input elements": self.input_elements,
                     "output elements": self.output_elements, "weight elements": self.weight_elements,
                     "vector operations": self.vector_elements}
        except (ValueError, ZeroDivisionError):  # shapes that do not fit are reported by the subclass check
            return []
        return [Problem("", f"{what}: {count:,} is past the validated range of {power_of_two(TENSOR_LIMIT)} "
                        "(docs/limits.md); split the layer or lower batch") for what, count in sizes.items()
                if count > TENSOR_LIMIT]

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the dense layer (0 for vector work)."""
        return 0

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """Shape of the weight tensor (``()`` for a layer without weights); masks have this shape."""
        return ()

    @property
    def weight_elements(self) -> int:
        return math.prod(self.weight_shape) if self.weight_shape else 0

    @property
    def reduction_length(self) -> int:
        """Weights summed into one output (the GEMM ``k``); N:M groups run along it (0 without weights)."""
        return 0

    @property
    def input_elements(self) -> int:
        raise NotImplementedError

    @property
    def output_elements(self) -> int:
        raise NotImplementedError

    @property
    def vector_elements(self) -> int:
        """Elements a vector unit processes (0 for array work)."""
        return 0

    @property
    def operand_elements(self) -> tuple[int, ...]:
        """Elements of each activation input operand, in ``producers`` order (weights excluded)."""
        return (self.input_elements,)


@cached_hash
@dataclass(frozen=True, kw_only=True)
class ConvBase(Layer):
    """Fields and checks shared by :class:`Conv2d` and :class:`ConvTranspose2d`."""

    in_channels: int = spec_field(minimum=1)
    out_channels: int = spec_field(minimum=1)
    in_h: int = spec_field(minimum=1)
    in_w: int = spec_field(minimum=1)
    kernel: tuple[int, int] = spec_field(parse=_pair)
    stride: tuple[int, int] = spec_field((1, 1), parse=_pair)
    padding: tuple[int, int, int, int] = spec_field((0, 0, 0, 0), parse=_padding)
    dilation: tuple[int, int] = spec_field((1, 1), parse=_pair)
    groups: int = spec_field(1, minimum=1)

    @property
    def out_h(self) -> int:
        raise NotImplementedError

    @property
    def out_w(self) -> int:
        raise NotImplementedError

    @property
    def is_depthwise(self) -> bool:
        return self.groups > 1 and self.groups == self.in_channels == self.out_channels

    @property
    def reduction_length(self) -> int:
        """Input channels of one group times kernel taps."""
        return (self.in_channels // self.groups) * self.kernel[0] * self.kernel[1]

    @property
    def input_elements(self) -> int:
        return self.batch * self.in_channels * self.in_h * self.in_w

    @property
    def output_elements(self) -> int:
        return self.batch * self.out_channels * self.out_h * self.out_w

    def check(self) -> list[Problem]:
        problems = super().check()
        for key in ("in_channels", "out_channels"):
            if getattr(self, key) % self.groups:
                problems.append(Problem(key, f"{getattr(self, key)} is not divisible by groups={self.groups}"))
        if min(self.kernel) < 1 or min(self.stride) < 1 or min(self.dilation) < 1:
            problems.append(Problem("", "kernel, stride and dilation must be positive"))
        elif self.out_h < 1 or self.out_w < 1:
            problems.append(Problem("kernel", f"a {self.kernel} kernel (dilation {self.dilation}) does not fit "
                                    f"the {self.in_h}x{self.in_w} input with padding {self.padding}"))
        return problems


@cached_hash
@dataclass(frozen=True, kw_only=True)
class Conv2d(ConvBase):
    """2-D convolution; ``groups == in_channels == out_channels`` is depthwise."""

    ops: ClassVar[tuple[Op, ...]] = (Op.CONV2D,)
    op: Op = spec_field(Op.CONV2D, always_written=True)

    @property
    def out_h(self) -> int:
        top, _, bottom, _ = self.padding
        span = self.dilation[0] * (self.kernel[0] - 1) + 1
        return (self.in_h + top + bottom - span) // self.stride[0] + 1

    @property
    def out_w(self) -> int:
        _, left, _, right = self.padding
        span = self.dilation[1] * (self.kernel[1] - 1) + 1
        return (self.in_w + left + right - span) // self.stride[1] + 1

    @property
    def macs(self) -> int:
        taps = (self.in_channels // self.groups) * self.kernel[0] * self.kernel[1]
        return self.batch * self.out_channels * self.out_h * self.out_w * taps

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.out_channels, self.in_channels // self.groups, *self.kernel)


@cached_hash
@dataclass(frozen=True, kw_only=True)
class ConvTranspose2d(ConvBase):
    """2-D transposed convolution (ONNX ``ConvTranspose``): every input value scatters a kernel.

    ``padding`` crops the full output, ``output_padding`` adds rows/columns at its bottom/right:
    ``out = (in - 1) * stride - pad_begin - pad_end + dilation * (kernel - 1) + output_padding + 1``.
    MACs count every input value times every weight of its group (products that fall in the
    cropped border included), the dense work of the scatter form.
    """

    ops: ClassVar[tuple[Op, ...]] = (Op.CONV_TRANSPOSE2D,)
    op: Op = spec_field(Op.CONV_TRANSPOSE2D, always_written=True)
    output_padding: tuple[int, int] = spec_field((0, 0), parse=_pair)

    @property
    def out_h(self) -> int:
        top, _, bottom, _ = self.padding
        return ((self.in_h - 1) * self.stride[0] - top - bottom + self.dilation[0] * (self.kernel[0] - 1)
                + self.output_padding[0] + 1)

    @property
    def out_w(self) -> int:
        _, left, _, right = self.padding
        return ((self.in_w - 1) * self.stride[1] - left - right + self.dilation[1] * (self.kernel[1] - 1)
                + self.output_padding[1] + 1)

    @property
    def macs(self) -> int:
        return self.batch * self.in_h * self.in_w * self.weight_elements

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.in_channels, self.out_channels // self.groups, *self.kernel)

    def check(self) -> list[Problem]:
        problems = super().check()
        if min(self.output_padding) < 0 or any(p >= max(s, d) for p, s, d in
                                                zip(self.output_padding, self.stride, self.dilation)):
            problems.append(Problem("output_padding", f"expected 0 <= output_padding < max(stride, dilation), "
                                    f"got {self.output_padding}"))
        return problems


@cached_hash
@dataclass(frozen=True, kw_only=True)
class Gemm(Layer):
    """``A[m, k] @ W[k, n]`` with W the weights (a linear / fully connected layer)."""

    ops: ClassVar[tuple[Op, ...]] = (Op.GEMM,)
    op: Op = spec_field(Op.GEMM, always_written=True)
    m: int = spec_field(minimum=1, doc="rows of A: tokens or pixels")
    n: int = spec_field(minimum=1, doc="output features")
    k: int = spec_field(minimum=1, doc="input features (reduction)")

    @property
    def macs(self) -> int:
        return self.batch * self.m * self.n * self.k

    @property
    def weight_shape(self) -> tuple[int, ...]:
        return (self.k, self.n)

    @property
    def reduction_length(self) -> int:
        return self.k

    @property
    def input_elements(self) -> int:
        return self.batch * self.m * self.k

    @property
    def output_elements(self) -> int:
        return self.batch * self.m * self.n


@cached_hash
@dataclass(frozen=True, kw_only=True)
class MatMul(Layer):
    """``A[m, k] @ B[k, n]`` with both operands activations, ``batch`` x ``heads`` times."""

    ops: ClassVar[tuple[Op, ...]] = (Op.MATMUL,)
    op: Op = spec_field(Op.MATMUL, always_written=True)
    heads: int = spec_field(1, minimum=1)
    m: int = spec_field(minimum=1)
    n: int = spec_field(minimum=1)
    k: int = spec_field(minimum=1)

    @property
    def macs(self) -> int:
        return self.batch * self.heads * self.m * self.n * self.k

    @property
    def input_elements(self) -> int:
        return self.batch * self.heads * (self.m * self.k + self.k * self.n)

    @property
    def operand_elements(self) -> tuple[int, ...]:
        """``A[m, k]`` and ``B[k, n]`` of every sample and head."""
        return self.batch * self.heads * self.m * self.k, self.batch * self.heads * self.k * self.n

    @property
    def output_elements(self) -> int:
        return self.batch * self.heads * self.m * self.n


class PoolKind(enum.Enum):
    MAX = "max"
    AVG = "avg"


@cached_hash
@dataclass(frozen=True, kw_only=True)
class Pool(Layer):
    """Max or average pooling over ``kernel`` windows of a ``channels`` x ``in_h`` x ``in_w`` map."""

    ops: ClassVar[tuple[Op, ...]] = (Op.POOL,)
    op: Op = spec_field(Op.POOL, always_written=True)
    kind: PoolKind = spec_field(PoolKind.MAX)
    channels: int = spec_field(minimum=1)
    in_h: int = spec_field(minimum=1)
    in_w: int = spec_field(minimum=1)
    kernel: tuple[int, int] = spec_field(parse=_pair)
    stride: tuple[int, int] = spec_field((1, 1), parse=_pair)
    padding: tuple[int, int, int, int] = spec_field((0, 0, 0, 0), parse=_padding)

    @property
    def out_h(self) -> int:
        return (self.in_h + self.padding[0] + self.padding[2] - self.kernel[0]) // self.stride[0] + 1

    @property
    def out_w(self) -> int:
        return (self.in_w + self.padding[1] + self.padding[3] - self.kernel[1]) // self.stride[1] + 1

    @property
    def input_elements(self) -> int:
        return self.batch * self.channels * self.in_h * self.in_w

    @property
    def output_elements(self) -> int:
        return self.batch * self.channels * self.out_h * self.out_w

    @property
    def vector_elements(self) -> int:
        """Window taps: one compare or add per input of every window."""
        return self.output_elements * self.kernel[0] * self.kernel[1]

    def check(self) -> list[Problem]:
        problems = super().check()
        if min(self.kernel) < 1 or min(self.stride) < 1:
            problems.append(Problem("kernel", "kernel and stride must be positive"))
        elif self.out_h < 1 or self.out_w < 1:
            problems.append(Problem("kernel", f"a {self.kernel} window does not fit the {self.in_h}x{self.in_w} input"))
        return problems


class EltwiseKind(enum.Enum):
    ADD = "add"
    SUB = "sub"
    MUL = "mul"
    DIV = "div"
    MAX = "max"
    MIN = "min"
    POW = "pow"
    MOD = "mod"
    WHERE = "where"
    COMPARE = "compare"
    SQRT = "sqrt"
    RECIPROCAL = "reciprocal"
    EXP = "exp"
    NEG = "neg"
    ABS = "abs"
    CAST = "cast"
    AFFINE = "affine"


UNARY_ELTWISE = (EltwiseKind.SQRT, EltwiseKind.RECIPROCAL, EltwiseKind.EXP, EltwiseKind.NEG, EltwiseKind.ABS,
                 EltwiseKind.CAST, EltwiseKind.AFFINE)
"""Kinds with one input (``affine``: a per-channel scale and shift, e.g. an unfolded batch norm);
``where`` (a select of ``inputs`` = 3) also computes one value per output."""


@cached_hash
@dataclass(frozen=True, kw_only=True)
class Eltwise(Layer):
    """Elementwise combination of ``inputs`` tensors of ``shape`` (residual adds, gating), or a unary
    elementwise op (``inputs: 1``: sqrt, exp, cast, ...)."""

    ops: ClassVar[tuple[Op, ...]] = (Op.ELTWISE,)
    op: Op = spec_field(Op.ELTWISE, always_written=True)
    kind: EltwiseKind = spec_field(EltwiseKind.ADD)
    shape: tuple[int, ...] = spec_field(parse=_shape)
    inputs: int = spec_field(2, minimum=1)

    def check(self) -> list[Problem]:
        problems = super().check()
        unary = self.kind in UNARY_ELTWISE
        if unary != (self.inputs == 1) or (self.kind is EltwiseKind.WHERE and self.inputs != 3):
            want = "1" if unary else ("3" if self.kind is EltwiseKind.WHERE else "at least 2")
            problems.append(Problem("inputs", f"an eltwise {self.kind.value} takes {want} inputs, got {self.inputs}"))
        return problems

    @property
    def input_elements(self) -> int:
        return self.inputs * self.output_elements

    @property
    def operand_elements(self) -> tuple[int, ...]:
        return (self.output_elements,) * self.inputs

    @property
    def output_elements(self) -> int:
        return self.batch * math.prod(self.shape)

    @property
    def vector_elements(self) -> int:
        """One op per output for a unary op or a select, ``inputs - 1`` for a combination."""
        if self.kind in UNARY_ELTWISE or self.kind is EltwiseKind.WHERE:
            return self.output_elements
        return (self.inputs - 1) * self.output_elements


@cached_hash
@dataclass(frozen=True, kw_only=True)
class Nonlinear(Layer):
    """A nonlinear op over a tensor of ``shape``; reductions run along its last axis."""

    ops: ClassVar[tuple[Op, ...]] = NONLINEAR_OPS
    op: Op = spec_field(always_written=True)
    shape: tuple[int, ...] = spec_field(parse=_shape)

    @property
    def input_elements(self) -> int:
        return self.batch * math.prod(self.shape)

    @property
    def output_elements(self) -> int:
        return self.input_elements

    @property
    def vector_elements(self) -> int:
        return self.input_elements


def _producer_problems(index: int, layer: Layer, earlier: dict[str, int]) -> list[Problem]:
    """Problems of ``layer.producers``: one entry per operand at most, each an earlier layer or 'dram'."""
    operands = len(layer.operand_elements)
    if len(layer.producers) > operands:
        return [Problem(f"layers[{index}].producers", f"{layer.name} has {operands} input operand(s), "
                        f"got {len(layer.producers)} producers")]
    names = [producer_part(entry)[0] for entry in layer.producers]
    return [Problem(f"layers[{index}].producers", f"'{name}' is not an earlier layer (or '{DRAM_INPUT}')"
                    f"{did_you_mean(name, list(earlier))}")
            for name in names if name != DRAM_INPUT and name not in earlier]


@cached_hash
@dataclass(frozen=True, kw_only=True)
class Network:
    """An ordered list of layers with a batch size."""

    name: str = spec_field()
    batch: int = spec_field(1, minimum=1)
    layers: tuple[Layer, ...] = spec_field()
    source: str = spec_field("", doc="where the network comes from")
    lost_macs: int = spec_field(0, minimum=0, doc="MACs of source-model nodes an import left out (allow_partial)")

    def check(self) -> list[Problem]:
        problems = []
        if not self.layers:
            problems.append(Problem("layers", "expected at least one layer"))
        seen: dict[str, int] = {}
        for index, layer in enumerate(self.layers):
            if layer.name in seen:
                problems.append(Problem(f"layers[{index}].name", f"'{layer.name}' is also layers[{seen[layer.name]}]"))
            problems += _producer_problems(index, layer, seen)
            seen.setdefault(layer.name, index)
        return problems

    def with_batch(self, batch: int) -> Network:
        """The same network at another batch size (every layer's batch is set to it).

        Raises WorkloadError for a batch below 1, past the validated range, or one that takes
        a layer's counts past it (``docs/limits.md``).
        """
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= INT_LIMIT:
            raise WorkloadError(self.name, [Problem("batch", f"expected a whole number from 1 to "
                                                    f"{power_of_two(INT_LIMIT)}, got {shown(batch)}")])
        layers = tuple(replace(layer, batch=batch) for layer in self.layers)
        problems = [Problem(f"layers[{i}] ({layer.name}) at batch {batch}", p.message)
                    for i, layer in enumerate(layers) for p in layer.range_problems()]
        if problems:
            raise WorkloadError(self.name, problems)
        return replace(self, batch=batch, layers=layers)

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def weight_elements(self) -> int:
        return sum(layer.weight_elements for layer in self.layers)


@functools.lru_cache(maxsize=64)
def work_ids(network: Network) -> tuple[int, ...]:
    """Per layer of ``network``, a number shared by the layers that differ only in name and
    producers (they do the same work; the simulator runs them once). Memoized per network."""
    ids: dict[Layer, int] = {}
    return tuple(ids.setdefault(replace(layer, name="", producers=()), len(ids)) for layer in network.layers)
