"""Vector-unit work: nonlinear-op implementations, their numeric error and their programs.

Op counts independent of the data; timing a program on an architecture is
:mod:`accelsim.engine.vector`, pricing its ops :mod:`accelsim.cost.vector`.
"""

from accelsim.vector.error import ApproxError, describe, error_table, measure_error
from accelsim.vector.functions import evaluate, layer_program, reference
from accelsim.vector.program import Pass, Program, VectorOp

__all__ = [
    "ApproxError", "Pass", "Program", "VectorOp", "describe", "error_table", "evaluate",
    "layer_program", "measure_error", "reference",
]
