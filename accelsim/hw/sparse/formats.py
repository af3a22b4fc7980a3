"""Bytes of data and metadata a 2-D tensor needs in each storage format.

Shapes are the GEMM view (weights ``K x N``, activations ``M x K``). Given a boolean mask
the counts are exact; given only a density they use ``nnz = round(density * size)`` and, for
run-length, the expected number of padding entries of an i.i.d. Bernoulli mask (approximate,
flagged by ``estimated``). Bits are summed over the tensor and rounded up to whole bytes,
separately for data and metadata.

Formats (Sparseloop's taxonomy; ``b(x) = max(1, ceil(log2 x))`` bits index ``x`` positions):

* ``dense``: every value; no metadata.
* ``bitmask``: non-zero values; one bit per position.
* ``csr`` / ``csc``: non-zero values; a column (row) index per value (``index_bits``, or
  ``b(cols)`` / ``b(rows)``) plus ``rows + 1`` (``cols + 1``) pointers of ``b(size + 1)`` bits.
* ``rle``: row-major run-length as in EIE (Han et al., ISCA 2016): each stored value carries
  the count of zeros before it in ``run_bits``; a gap longer than ``2**run_bits - 1`` zeros
  needs a padding entry (an explicit zero with a full run), which costs value and run bits.
  Trailing zeros are not stored.
* ``coo``: non-zero values; a row and a column index per value.
* ``nm_index``: ``n:m`` along ``nm_axis``: every slot (:func:`~accelsim.hw.sparse.nm.nm_reduction_length`)
  is stored, kept or not, with a ``b(m)``-bit position (2 bits for 2:4, as NVIDIA's sparse
  tensor cores store it; Mishra et al., arXiv 2104.08378).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.hw.sparse.nm import nm_reduction_length
from accelsim.spec.arch import SparseFormat


@dataclass(frozen=True)
class StoredBytes:
    """How one tensor is stored: its format and the bytes of values and of metadata."""

    format: SparseFormat
    data_bytes: int
    metadata_bytes: int
    estimated: bool = False

    @property
    def total_bytes(self) -> int:
        return self.data_bytes + self.metadata_bytes


def index_bits_for(positions: int) -> int:
    """Bits that index ``positions`` distinct positions (at least 1)."""
    return max(1, math.ceil(math.log2(positions))) if positions > 1 else 1


def _bytes(bits: int) -> int:
    return -(-int(bits) // 8)


def _rle_padding(mask: np.ndarray | None, density: float, nnz: int, run_bits: int) -> tuple[int, bool]:
    """Padding entries of row-major run-length coding: exact from a mask, else expected."""
    span = 2 ** run_bits  # a padding entry covers span - 1 zeros plus its own explicit zero
    if mask is not None:
        positions = np.flatnonzero(np.asarray(mask, dtype=bool).ravel())
        gaps = np.diff(positions, prepend=-1) - 1
        return int((gaps // span).sum()), False
    if nnz == 0 or density >= 1.0:
        return 0, True
    # zeros before a non-zero ~ Geometric: E[gap // span] = sum_j P(gap >= j*span) = x / (1 - x)
    x = (1.0 - density) ** span
    return round(nnz * x / (1.0 - x)), True


def storage_bytes(
    fmt: SparseFormat,
    shape: tuple[int, int],
    value_bits: int,
    *,
    mask: np.ndarray | None = None,
    density: float = 1.0,
    index_bits: int = 0,
    run_bits: int = 4,
    nm: tuple[int, int] | None = None,
    nm_axis: int = 0,
) -> StoredBytes:
    """Bytes of values and metadata of a ``shape`` tensor stored as ``fmt``.

    Parameters
    ----------
    fmt : the storage format.
    shape : (rows, cols) of the tensor's GEMM view.
    value_bits : bits per stored value.
    mask : boolean array of ``shape`` (True = non-zero); overrides ``density``.
    density : fraction of non-zeros when no mask is given.
    index_bits : bits of a CSR/CSC/COO index; 0 means just enough for the dimension.
    run_bits : bits of a run-length field.
    nm : ``(n, m)`` for ``nm_index``; ``nm_axis`` is the reduction axis (0 for weights ``K x N``).
    """
    rows, cols = shape
    size = rows * cols
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != (rows, cols):
            raise AccelsimError(f"mask has shape {mask.shape}, expected {(rows, cols)}")
        nnz, estimated = int(mask.sum()), False
        density = nnz / size if size else 0.0
    else:
        if not 0.0 <= density <= 1.0:
            raise AccelsimError(f"density must lie in [0, 1], got {density}")
        nnz, estimated = round(density * size), fmt is not SparseFormat.DENSE
    if fmt is SparseFormat.DENSE:
        return StoredBytes(fmt, _bytes(size * value_bits), 0, False)
    if fmt is SparseFormat.BITMASK:
        return StoredBytes(fmt, _bytes(nnz * value_bits), _bytes(size), estimated)
    if fmt in (SparseFormat.CSR, SparseFormat.CSC):
        lines, length = (rows, cols) if fmt is SparseFormat.CSR else (cols, rows)
        meta = nnz * (index_bits or index_bits_for(length)) + (lines + 1) * index_bits_for(size + 1)
        return StoredBytes(fmt, _bytes(nnz * value_bits), _bytes(meta), estimated)
    if fmt is SparseFormat.COO:
        meta = nnz * ((index_bits or index_bits_for(rows)) + (index_bits or index_bits_for(cols)))
        return StoredBytes(fmt, _bytes(nnz * value_bits), _bytes(meta), estimated)
    if fmt is SparseFormat.RLE:
        padding, estimated = _rle_padding(mask, density, nnz, run_bits)
        entries = nnz + padding
        return StoredBytes(fmt, _bytes(entries * value_bits), _bytes(entries * run_bits), estimated)
    if fmt is SparseFormat.NM_INDEX:
        if nm is None:
            raise AccelsimError("format nm_index needs an N:M pattern (nm=(n, m))")
        n, m = nm
        length, other = (rows, cols) if nm_axis == 0 else (cols, rows)
        slots = nm_reduction_length(length, n, m) * other
        return StoredBytes(fmt, _bytes(slots * value_bits), _bytes(slots * index_bits_for(m)), False)
    raise AccelsimError(f"unknown sparse format {fmt!r}")


def smallest_format(formats: Iterable[SparseFormat], shape: tuple[int, int], value_bits: int, **kwargs) -> StoredBytes:
    """The cheapest (data + metadata bytes) of ``formats`` and ``dense`` for this tensor.

    ``nm_index`` is only a candidate when ``nm`` is given. Ties go to the earlier format in
    ``formats`` order, with ``dense`` first.
    """
    nm = kwargs.get("nm")
    candidates = [SparseFormat.DENSE, *(f for f in formats if f is not SparseFormat.DENSE)]
    options = [storage_bytes(f, shape, value_bits, **kwargs) for f in candidates
               if f is not SparseFormat.NM_INDEX or nm is not None]
    return min(options, key=lambda s: s.total_bytes)
