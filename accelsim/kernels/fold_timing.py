"""Native timing of one fold (docs/timing_models.md, "native"): when its first stream row enters,
when its last result leaves, and how closely the next fold may follow. Shared by the ``fold``
kernel (:mod:`.systolic`), its resumable timeline (:mod:`.memory`) and the ``cycle`` kernel.
"""

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import DATAFLOW_OS


@kernel
def fold_first(dataflow, rows_used):
    """Cycles from a fold's start to its first stream row entering row 0: the stationary load
    (ws, is: ``r``) or none (os)."""
    return 0 if dataflow == DATAFLOW_OS else rows_used


@kernel
def fold_finish(dataflow, array_rows, broadcast, rows_used, cols_used, stream_cycles):
    """Cycles from a fold's first stream row entering row 0 to the end of its last result.

    ws, is: ``T + R + c - 2`` (the last partial sum leaves the bottom of column ``c - 1``).
    os: the last MAC at ``T - 1 + (r - 1) + (c - 1)`` (systolic skew; ``T - 1`` broadcast), then
    ``R`` cycles of output drain.
    """
    if dataflow != DATAFLOW_OS:
        return stream_cycles + array_rows + cols_used - 2
    skew = 0 if broadcast else rows_used + cols_used - 2
    return stream_cycles + skew + array_rows


@kernel
def fold_spacing(dataflow, overlap, finish, stream_cycles, next_rows, next_stream):
    """Cycles between the first stream rows of a fold and the next (``finish``: :func:`fold_finish`).

    Without overlap the next fold starts after this one ends: ``finish + first(next)``. With it
    (docs/timing_models.md, "Overlap between folds"): ws/is ``max(T, r')`` (the next stationary
    operand loads into shadow registers during this stream); os ``max(T, finish + 1 - T')`` (the
    next fold's first output may move into the output registers only after this fold's outputs
    have shifted out).
    """
    if not overlap:
        return finish + fold_first(dataflow, next_rows)
    if dataflow == DATAFLOW_OS:
        return max(stream_cycles, finish + 1 - next_stream)
    return max(stream_cycles, next_rows)
