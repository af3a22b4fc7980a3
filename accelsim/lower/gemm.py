"""Every array layer becomes a GEMM ``A[m, k] @ B[k, n] = C[m, n]``, run ``repeats`` times.

* conv (im2col view): ``m = batch*out_h*out_w``, ``k = in_channels/groups*kernel_h*kernel_w``,
  ``n = out_channels/groups``, once per group. The reduction index is ``(kh, kw, c)`` with the
  channel fastest (SCALE-Sim's order).
* conv_transpose2d (col2im view, the scatter form): ``m = batch*in_h*in_w`` input pixels,
  ``k = in_channels/groups``, ``n = out_channels/groups*kernel_h*kernel_w`` (one column per
  output channel and kernel tap), once per group: every input value times every weight of its
  group, so the GEMM's MACs are the layer's ``macs``. The ``m x n`` products are the column
  buffer; the col2im step adds each into the output pixel it lands on (dropping those in the
  cropped border): ``m*n`` additions per group, fewer than the MACs by the factor ``k``, which
  are **not counted** (neither as cycles nor as energy). The GEMM's output traffic is its
  ``m*n`` column-buffer words, which equals the real output tensor only when the kernel
  windows do not overlap (``stride == kernel``, no padding) and exceeds it otherwise.
* gemm: ``m = batch*m``; matmul: one GEMM per ``batch*heads``.
* pool, eltwise and nonlinear ops are vector work: :func:`lower_layer` returns ``None``.

In ``scalesim`` timing the conv is lowered as SCALE-Sim 3.0.0 does (``shared/peers/SCALESIM.md``
6.1): no padding (the padded input is the ifmap SCALE-Sim sees), **ceil** output dims, the batch
as repeated layers, and a GEMM as a ``1 x k`` convolution over an ``m x k`` ifmap. SCALE-Sim
has no transposed convolution: one runs as its col2im GEMM, in SCALE-Sim's GEMM form.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace

from accelsim.errors import UnsupportedError
from accelsim.hw.sparse.nm import nm_reduction_length
from accelsim.spec.arch import ArchSpec, Reduction, TimingModel
from accelsim.spec.fields import cached_hash
from accelsim.spec.workload import Conv2d, ConvTranspose2d, Gemm, Layer, MatMul


@cached_hash
@dataclass(frozen=True)
class ArrayRate:
    """How fast the array consumes a GEMM's reduction (``docs/timing_models.md``).

    ``products_per_cycle`` (p) shrinks the mapped reduction ``k`` to ``ceil(k/p)``;
    ``cycles_per_product`` (q) stretches every stream step to q cycles; ``nm`` = (N, M)
    structured weight sparsity run natively stores :func:`accelsim.hw.sparse.nm.nm_reduction_length`
    slots of the reduction. The defaults are the dense 1-product-per-cycle array. The MAC unit's
    own view of p and q (datapath widths, passes) is :class:`accelsim.hw.mac.MacRate`.
    ``tap_rows`` = (kernel taps, array rows): the rows reduce over input channels only
    (``array.reduction: channels``), so each tap's ``ceil(k/taps/p)`` mapped slots are padded to
    whole row folds (:func:`reduction_rate`); ``None``: the im2col reduction, packed.
    """

    products_per_cycle: int = 1
    cycles_per_product: int = 1
    nm: tuple[int, int] | None = None
    tap_rows: tuple[int, int] | None = None

    def __post_init__(self):
        if self.products_per_cycle < 1 or self.cycles_per_product < 1:
            raise ValueError(f"MAC rates must be >= 1, got p={self.products_per_cycle}, q={self.cycles_per_product}")
        if self.nm is not None and not 0 < self.nm[0] <= self.nm[1]:
            raise ValueError(f"N:M needs 0 < N <= M, got {self.nm}")
        if self.tap_rows is not None and min(self.tap_rows) < 1:
            raise ValueError(f"tap_rows needs taps >= 1 and rows >= 1, got {self.tap_rows}")

    def stored_reduction(self, k: int) -> int:
        """Weight slots along a reduction of ``k`` dense products (``k`` unless N:M)."""
        return k if self.nm is None else nm_reduction_length(k, *self.nm)

    def reduction(self, k: int) -> int:
        """Mapped length of a reduction of ``k`` dense products: ``ceil(slots / p)``, or with
        ``tap_rows = (taps, rows)`` each tap's ``ceil(ceil(slots / taps) / p)`` rounded up to a
        multiple of ``rows`` (e.g. 25 taps of 96 channels at p = 4 on 16 rows: 25 x 32 = 800
        rows, 50 row folds, against 600 rows and 38 folds packed)."""
        slots = self.stored_reduction(k)
        if self.tap_rows is None:
            return -(-slots // self.products_per_cycle)
        taps, rows = self.tap_rows
        per_tap = -(-(-(-slots // taps)) // self.products_per_cycle)
        return taps * -(-per_tap // rows) * rows


DENSE_RATE = ArrayRate()


def reduction_rate(rate: ArrayRate, layer: Layer, arch: ArchSpec, host_im2col: bool) -> ArrayRate:
    """``rate`` with the array's reduction rule (``array.reduction``, docs/timing_models.md,
    "Reduction lanes"). Under ``channels`` a conv with several kernel taps runs its taps in time,
    each filling whole row folds with its input channels (``ArrayRate.tap_rows``), unless
    ``host_im2col``: the layer that reads the network's input, which the host lowers by im2col
    (Bit Fusion's simulator does so for the layer whose input is the graph's input,
    github.com/hsharma35/bitfusion src/simulator/simulator.py, ``get_cycles``). Every other layer
    (1x1 convs, GEMMs, transposed convs: their reduction is input channels only) keeps ``rate``."""
    if arch.array.reduction is Reduction.IM2COL or host_im2col or not isinstance(layer, Conv2d):
        return rate
    taps = layer.kernel[0] * layer.kernel[1]
    return rate if taps == 1 else replace(rate, tap_rows=(taps, arch.array.rows))


@dataclass(frozen=True)
class ConvGeometry:
    """The ifmap a conv reads, as SCALE-Sim addresses it (padded, channels-last, ceil outputs).

    ``ifmap[y, x, c]`` has address ``(y*in_w + x)*channels + c``; output pixel ``p = oh*out_w + ow``
    and reduction index ``k = (r*kernel_w + s)*channels + c`` read ``(oh*stride_h + r,
    ow*stride_w + s, c)``, which is outside the ifmap for the extra ceil row/column.
    """

    in_h: int
    in_w: int
    channels: int
    kernel_h: int
    kernel_w: int
    stride_h: int
    stride_w: int
    out_h: int
    out_w: int


@dataclass(frozen=True)
class GemmProblem:
    """One GEMM ``A[m, k] @ B[k, n]``, run ``repeats`` times one after another.

    ``ifmap_words``: elements of the real input tensor behind ``A`` (per repeat; smaller than
    ``m*k`` for a conv, whose windows overlap and whose padding is not stored).
    ``geometry``: SCALE-Sim's address view (``scalesim`` timing only, else ``None``).
    """

    m: int
    n: int
    k: int
    repeats: int
    ifmap_words: int
    geometry: ConvGeometry | None = None

    @property
    def macs(self) -> int:
        return self.m * self.n * self.k * self.repeats


@functools.lru_cache(maxsize=4096)
def lower_layer(layer: Layer, timing: TimingModel = TimingModel.NATIVE) -> GemmProblem | None:
    """The GEMM a layer runs on the array, or ``None`` for vector work (pool, eltwise, nonlinear).
    Memoized (a pure function of frozen specs, asked for the same layer by each step of a run)."""
    if timing is TimingModel.SCALESIM:
        return _lower_scalesim(layer)
    if isinstance(layer, Conv2d):
        cin = layer.in_channels // layer.groups
        return GemmProblem(m=layer.batch * layer.out_h * layer.out_w, n=layer.out_channels // layer.groups,
                           k=cin * layer.kernel[0] * layer.kernel[1], repeats=layer.groups,
                           ifmap_words=layer.batch * cin * layer.in_h * layer.in_w)
    if isinstance(layer, ConvTranspose2d):
        return _col2im(layer)
    if isinstance(layer, Gemm):
        return GemmProblem(m=layer.batch * layer.m, n=layer.n, k=layer.k, repeats=1,
                           ifmap_words=layer.batch * layer.m * layer.k)
    if isinstance(layer, MatMul):
        return GemmProblem(m=layer.m, n=layer.n, k=layer.k, repeats=layer.batch * layer.heads,
                           ifmap_words=layer.m * layer.k)
    return None


def _col2im(layer: ConvTranspose2d) -> GemmProblem:
    """The col2im GEMM of a transposed convolution, one per group (see the module docstring)."""
    cin = layer.in_channels // layer.groups
    m = layer.batch * layer.in_h * layer.in_w
    return GemmProblem(m=m, n=layer.out_channels // layer.groups * layer.kernel[0] * layer.kernel[1], k=cin,
                       repeats=layer.groups, ifmap_words=m * cin)


def _lower_scalesim(layer: Layer) -> GemmProblem | None:
    if isinstance(layer, ConvTranspose2d):
        gemm = _col2im(layer)
        geom = _conv_geometry(gemm.m, gemm.k, 1, 1, gemm.k, 1, 1)
        return GemmProblem(m=gemm.m, n=gemm.n, k=gemm.k, repeats=gemm.repeats, ifmap_words=gemm.ifmap_words,
                           geometry=geom)
    if isinstance(layer, Conv2d):
        if layer.dilation != (1, 1):
            raise UnsupportedError(f"layer {layer.name}: SCALE-Sim has no dilated convolution "
                                   f"(dilation {layer.dilation}); use timing_model: native")
        top, left, bottom, right = layer.padding
        cin = layer.in_channels // layer.groups
        geom = _conv_geometry(layer.in_h + top + bottom, layer.in_w + left + right, cin,
                              layer.kernel[0], layer.kernel[1], layer.stride[0], layer.stride[1])
        repeats = layer.groups * layer.batch
        n = layer.out_channels // layer.groups
    elif isinstance(layer, (Gemm, MatMul)):
        geom = _conv_geometry(layer.m, layer.k, 1, 1, layer.k, 1, 1)
        repeats = layer.batch * (layer.heads if isinstance(layer, MatMul) else 1)
        n = layer.n
    else:
        return None
    return GemmProblem(m=geom.out_h * geom.out_w, n=n, k=geom.kernel_h * geom.kernel_w * geom.channels,
                       repeats=repeats, ifmap_words=geom.in_h * geom.in_w * geom.channels, geometry=geom)


def _conv_geometry(in_h: int, in_w: int, channels: int, kernel_h: int, kernel_w: int,
                   stride_h: int, stride_w: int) -> ConvGeometry:
    """SCALE-Sim's ceil output dims: ``ceil((H - Fh + S) / S)``."""
    out_h = -(-(in_h - kernel_h + stride_h) // stride_h)
    out_w = -(-(in_w - kernel_w + stride_w) // stride_w)
    return ConvGeometry(in_h, in_w, channels, kernel_h, kernel_w, stride_h, stride_w, out_h, out_w)
