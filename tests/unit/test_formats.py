"""Bytes of data and metadata per storage format, against counts worked out by hand."""

import numpy as np
import pytest

from accelsim.errors import AccelsimError
from accelsim.hw.sparse.formats import index_bits_for, smallest_format, storage_bytes
from accelsim.spec.arch import SparseFormat as F

# 3 x 4, non-zeros at (0,0) (0,3) (2,1) (2,2): row-major positions 0, 3, 9, 10
MASK = np.array([[1, 0, 0, 1], [0, 0, 0, 0], [0, 1, 1, 0]], bool)


@pytest.mark.parametrize("fmt, data_bytes, metadata_bytes", [
    (F.DENSE, 12, 0),                   # 12 values x 8 bits
    (F.BITMASK, 4, 2),                  # 4 values; 12 mask bits -> 2 bytes
    (F.CSR, 4, 3),                      # 4 x 2-bit column index + 4 row pointers x 4 bits (b(13)) = 24 bits
    (F.CSC, 4, 4),                      # 4 x 2-bit row index (b(3)) + 5 column pointers x 4 bits = 28 bits
    (F.COO, 4, 2),                      # 4 x (2 + 2) bits = 16 bits
])
def test_hand_counts(fmt, data_bytes, metadata_bytes):
    got = storage_bytes(fmt, MASK.shape, 8, mask=MASK)
    assert (got.data_bytes, got.metadata_bytes) == (data_bytes, metadata_bytes)
    assert not got.estimated


@pytest.mark.parametrize("run_bits, entries", [
    (2, 5),   # gaps 0, 2, 5, 0; a run field holds up to 3, so the gap of 5 needs 1 padding entry
    (1, 7),   # runs up to 1: the gap of 2 needs 1 padding entry, the gap of 5 needs 2
    (4, 4),   # every gap fits
])
def test_run_length_padding(run_bits, entries):
    got = storage_bytes(F.RLE, MASK.shape, 8, mask=MASK, run_bits=run_bits)
    assert got.data_bytes == entries
    assert got.metadata_bytes == -(-entries * run_bits // 8)


def test_nm_index_weights():
    """K = 6, N = 2 stored 2:4 along K: groups of 4 and 2 each keep 2 slots -> 4 slots per
    column, 8 slots of 8 bits and 2-bit positions (16 bits)."""
    got = storage_bytes(F.NM_INDEX, (6, 2), 8, nm=(2, 4))
    assert (got.data_bytes, got.metadata_bytes) == (8, 2)
    # along axis 1 (activations M x K = 2 x 6), the same count
    assert storage_bytes(F.NM_INDEX, (2, 6), 8, nm=(2, 4), nm_axis=1) == got


def test_density_only_is_estimated():
    got = storage_bytes(F.BITMASK, (10, 10), 8, density=0.5)
    assert (got.data_bytes, got.metadata_bytes, got.estimated) == (50, 13, True)   # 100 mask bits


def test_rle_expected_padding_matches_sampled_masks():
    """Expected padding of i.i.d. masks (approximate): within 3% of the mean over sampled masks."""
    rng = np.random.default_rng(3)
    shape, density = (64, 64), 0.05
    sampled = np.mean([storage_bytes(F.RLE, shape, 8, mask=rng.random(shape) < density, run_bits=4).data_bytes
                       for _ in range(40)])
    expected = storage_bytes(F.RLE, shape, 8, density=density, run_bits=4).data_bytes
    assert expected == pytest.approx(sampled, rel=0.03)


def test_index_bits_override_and_widths():
    assert [index_bits_for(x) for x in (1, 2, 3, 4, 5, 256, 257)] == [1, 1, 2, 2, 3, 8, 9]
    got = storage_bytes(F.COO, MASK.shape, 8, mask=MASK, index_bits=16)
    assert got.metadata_bytes == 4 * 32 // 8


def test_smallest_format_prefers_dense_when_dense():
    assert smallest_format([F.BITMASK, F.CSR], (8, 8), 8, density=1.0).format is F.DENSE
    # density 1/64: bitmask 1 + 8 bytes, CSR 1 + (3 + 9 x 7 bits = 66 bits -> 9) bytes, COO 1 + 1 byte
    assert smallest_format([F.BITMASK, F.CSR, F.COO], (8, 8), 8, density=1 / 64).format is F.COO


def test_bad_inputs():
    with pytest.raises(AccelsimError, match="shape"):
        storage_bytes(F.BITMASK, (2, 2), 8, mask=MASK)
    with pytest.raises(AccelsimError, match="nm_index needs"):
        storage_bytes(F.NM_INDEX, (4, 4), 8)
