"""The vector-unit kernel against the naive lane-by-lane reference, on random small programs."""

import numpy as np
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accelsim.kernels.codes import (
    VECTOR_STAT_COMPUTE_CYCLES, VECTOR_STAT_CYCLES, VECTOR_STAT_LANE_SLOTS, VECTOR_STAT_LOCAL_READS,
    VECTOR_STAT_LOCAL_WRITES, VECTOR_STAT_SRAM_READS, VECTOR_STAT_SRAM_WRITES,
)
from accelsim.kernels.vector import VectorProblem, run_vector
from tests.reference.vector_ref import ref_vector

KINDS = 3


@st.composite
def problems(draw):
    passes = draw(st.integers(1, 3))
    counts = st.integers(0, 3)
    elem = [[draw(counts) for _ in range(KINDS)] for _ in range(passes)]
    row = [[draw(st.integers(0, 2)) for _ in range(KINDS)] for _ in range(passes)]
    reduce_op = [draw(st.integers(-1, KINDS - 1)) for _ in range(passes)]
    writes = [draw(st.integers(0, 1)) for _ in range(passes)]
    slots = [draw(st.integers(1, 5)) for _ in range(KINDS)]
    scalars = dict(rows=draw(st.integers(1, 12)), row_len=draw(st.integers(1, 40)), inputs=draw(st.integers(1, 3)),
                   lanes=draw(st.integers(1, 16)), ops_per_lane_per_cycle=draw(st.integers(1, 3)),
                   local_capacity_elements=draw(st.sampled_from([0, 8, 40, 1000])),
                   element_bits=draw(st.sampled_from([8, 16, 32])), read_port_bits=draw(st.sampled_from([8, 64, 256])),
                   write_port_bits=draw(st.sampled_from([8, 64, 256])))
    return elem, row, reduce_op, writes, slots, scalars


def run_both(elem, row, reduce_op, writes, slots, scalars):
    array = lambda v: np.array(v, dtype=np.int64)  # noqa: E731
    problem = VectorProblem(array(elem), array(row), array(reduce_op), array(writes), array(slots), **scalars)
    stats, counts = run_vector(problem)
    want, want_counts = ref_vector(elem, row, reduce_op, writes, slots, **scalars)
    got = dict(cycles=stats[VECTOR_STAT_CYCLES], compute_cycles=stats[VECTOR_STAT_COMPUTE_CYCLES],
               sram_reads=stats[VECTOR_STAT_SRAM_READS], sram_writes=stats[VECTOR_STAT_SRAM_WRITES],
               local_reads=stats[VECTOR_STAT_LOCAL_READS], local_writes=stats[VECTOR_STAT_LOCAL_WRITES],
               lane_slots=stats[VECTOR_STAT_LANE_SLOTS])
    return got, list(counts), want, want_counts


@settings(deadline=None, max_examples=60)
@given(problems())
# one element, one lane: nothing to reduce
@example(([[1, 0, 0]], [[0, 0, 0]], [0], [1], [1, 1, 1],
          dict(rows=1, row_len=1, inputs=1, lanes=1, ops_per_lane_per_cycle=1, local_capacity_elements=0,
               element_bits=8, read_port_bits=8, write_port_bits=8)))
# long rows that spill to SRAM between passes, and a row exactly as long as the lanes
@example(([[1, 1, 0], [0, 1, 1]], [[0, 0, 1], [0, 0, 0]], [0, -1], [1, 1], [1, 4, 2],
          dict(rows=3, row_len=16, inputs=2, lanes=16, ops_per_lane_per_cycle=2, local_capacity_elements=0,
               element_bits=16, read_port_bits=64, write_port_bits=64)))
@example(([[1, 0, 0], [0, 2, 0]], [[0, 0, 0], [0, 0, 0]], [1, -1], [1, 1], [1, 1, 1],
          dict(rows=5, row_len=33, inputs=1, lanes=8, ops_per_lane_per_cycle=1, local_capacity_elements=40,
               element_bits=8, read_port_bits=8, write_port_bits=8)))
def test_vector_kernel_matches_reference(case):
    got, counts, want, want_counts = run_both(*case)
    assert got == want
    assert counts == want_counts
