"""Structured N:M sparsity: which hardware pattern runs a layer, the shortened reduction, checks.

A tensor is ``n:m`` sparse when every group of ``m`` consecutive values along the reduction
axis (``K``; groups aligned at index 0, the last one possibly shorter) holds at most ``n``
non-zeros. An array that runs ``N:M`` natively (NVIDIA's 2:4 sparse tensor cores) stores
``N`` slots per group of ``M`` weights, each with a ``ceil(log2 M)``-bit index, and muxes the
matching activations in, so the reduction shrinks from ``K`` to :func:`nm_reduction_length`.

A layer pattern runs on a hardware pattern when every aligned window of the hardware's ``M``
values is guaranteed to hold at most its ``N`` non-zeros: 1:4 runs on 2:4 hardware *as 2:4*
(one slot per group holds an explicit zero, so it gains 2x, not 4x), and so do 2:8 and 1:2.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

import numpy as np

from accelsim.errors import AccelsimError

_NM = re.compile(r"^\s*(\d+)\s*:\s*(\d+)\s*$")


def parse_nm(pattern: str) -> tuple[int, int] | None:
    """``"2:4"`` -> ``(2, 4)``; None for a pattern that is not N:M (``dense``, ``unstructured``...)."""
    match = _NM.match(str(pattern))
    return (int(match.group(1)), int(match.group(2))) if match else None


def window_max_nonzeros(n: int, m: int, window: int) -> int:
    """Most non-zeros an ``n:m`` tensor can hold in any aligned window of ``window`` values."""
    most = 0
    for start in range(0, math.lcm(m, window), window):
        end = start + window
        count = 0
        for group in range(start // m, (end - 1) // m + 1):
            overlap = min(end, (group + 1) * m) - max(start, group * m)
            count += min(n, overlap)
        most = max(most, count)
    return most


def native_pattern(structured: Iterable[str], n: int, m: int) -> tuple[int, int] | None:
    """The hardware N:M pattern (of ``structured``) that runs an ``n:m`` layer fastest, or None.

    Fastest means the smallest ``N/M`` among the patterns the layer is guaranteed to satisfy
    (ties: the smaller ``M``, i.e. less metadata).
    """
    fits = []
    for text in structured:
        hw = parse_nm(text)
        if hw is not None and window_max_nonzeros(n, m, hw[1]) <= hw[0]:
            fits.append(hw)
    return min(fits, key=lambda p: (p[0] / p[1], p[1])) if fits else None


def nm_reduction_length(k: int, n: int, m: int) -> int:
    """Slots left of a reduction of length ``k`` stored ``n:m``: ``n`` per full group, and
    ``min(k mod m, n)`` for a last partial group (equals ``ceil(k*n/m)`` when ``m`` divides ``k``)."""
    return (k // m) * n + min(k % m, n)


def nm_group_counts(mask: np.ndarray, m: int, axis: int = 0) -> np.ndarray:
    """Non-zeros of each ``m``-group along ``axis`` (the last group zero-padded): shape
    ``(groups, other)`` for a 2-D ``mask``."""
    lines = np.moveaxis(np.asarray(mask, dtype=bool), axis, 0)
    k = lines.shape[0]
    groups = -(-k // m)
    padded = np.zeros((groups * m, *lines.shape[1:]), dtype=bool)
    padded[:k] = lines
    return padded.reshape(groups, m, *lines.shape[1:]).sum(axis=1)


def check_nm_mask(mask: np.ndarray, n: int, m: int, *, axis: int = 0, what: str = "mask") -> None:
    """Raise :class:`AccelsimError` unless ``mask`` has at most ``n`` non-zeros per ``m``-group."""
    counts = nm_group_counts(mask, m, axis)
    if counts.size and counts.max() > n:
        group = np.unravel_index(int(np.argmax(counts)), counts.shape)
        raise AccelsimError(
            f"{what}: expected at most {n} non-zeros in every {m} consecutive values along axis {axis}, "
            f"found {int(counts.max())} in group {group[0]} (values {group[0] * m}..{group[0] * m + m - 1}) "
            f"of line {group[1:] if len(group) > 1 else ()}"
        )
