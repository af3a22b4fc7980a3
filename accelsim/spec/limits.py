"""The validated range: inside it every count accelsim reports (cycles, accesses, bytes, MACs)
is exact in int64; outside it a spec is refused when it is validated, naming the key and the limit.

The argument (``docs/limits.md``): a layer's MACs and the elements of each of its tensors are at
most :data:`TENSOR_LIMIT` = 2^60, so its bytes (at most 32 bits per element) are at most 2^62;
every single integer a user writes is at most :data:`INT_LIMIT` = 2^48 (the array's rows and
columns :data:`ARRAY_LIMIT` = 2^20, DRAM latency :data:`LATENCY_LIMIT` = 2^32 cycles), so the
products the models form of two of them never leave int64. Cycles depend on the architecture
and the layer together: :func:`accelsim.engine.work.check_layer_range` bounds them before a layer
runs and refuses one whose bound passes :data:`COUNT_LIMIT` = 2^62.
"""

from __future__ import annotations

COUNT_LIMIT = 2**62
TENSOR_LIMIT = 2**60
INT_LIMIT = 2**48
ARRAY_LIMIT = 2**20
LATENCY_LIMIT = 2**32
RANGE_LIMITS = (INT_LIMIT, ARRAY_LIMIT, LATENCY_LIMIT)  # maxima that are the validated range
# DRAM bandwidth in bytes per cycle: the fold model's exact ceil takes the nearest fraction with a
# denominator of at most 1000 (accelsim.engine.fold.transfer_cycles), so 1/1000 is the slowest.
MIN_BANDWIDTH = 1e-3
MAX_BANDWIDTH = float(2**40)


def power_of_two(limit: int | float) -> str:
    """``2^48 (281,474,976,710,656)`` for messages."""
    exponent = int(limit).bit_length() - 1
    return f"2^{exponent} ({int(limit):,})" if limit == 2**exponent else f"{limit:g}"
