"""The vector-unit kernel against the naive lane-by-lane reference, under both row mappings, on random
programs (small ones, and rows of up to 600 elements on up to 512 lanes) and on a grid of shapes."""

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from accelsim.kernels.codes import (
    VECTOR_STAT_COMPUTE_CYCLES, VECTOR_STAT_CYCLES, VECTOR_STAT_LANE_SLOTS, VECTOR_STAT_LOCAL_READS,
    VECTOR_STAT_LOCAL_WRITES, VECTOR_STAT_SRAM_READS, VECTOR_STAT_SRAM_WRITES,
)
from accelsim.kernels.vector import VectorProblem, run_vector
from accelsim.vector.program import RowMapping
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


@st.composite
def wide_problems(draw):
    """Rows of 1..600 elements on 1..512 lanes, a few thousand elements in all (the reference steps each)."""
    elem, row, reduce_op, writes, slots, scalars = draw(problems())
    row_len = draw(st.integers(1, 600))
    scalars.update(row_len=row_len, lanes=draw(st.integers(1, 512)), rows=draw(st.integers(1, max(1, 6000 // row_len))),
                   local_capacity_elements=draw(st.sampled_from([0, 600, 4096, 1 << 20])))
    return elem, row, reduce_op, writes, slots, scalars


def run_both(elem, row, reduce_op, writes, slots, scalars, mapping=RowMapping.ACROSS_LANES):
    array = lambda v: np.array(v, dtype=np.int64)  # noqa: E731
    problem = VectorProblem(array(elem), array(row), array(reduce_op), array(writes), array(slots), **scalars)
    stats, counts = run_vector(problem, mapping.lanes_per_row(problem.row_len, problem.lanes))
    want, want_counts = ref_vector(elem, row, reduce_op, writes, slots, **scalars, mapping=mapping.value)
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
    for mapping in RowMapping:
        got, counts, want, want_counts = run_both(*case, mapping)
        assert got == want, mapping
        assert counts == want_counts, mapping


@settings(deadline=None, max_examples=40)
@given(wide_problems())
def test_vector_kernel_matches_reference_on_long_rows_and_wide_units(case):
    for mapping in RowMapping:
        got, counts, want, want_counts = run_both(*case, mapping)
        assert got == want, mapping
        assert counts == want_counts, mapping


# softmax-like (max; sub, exp, sum; scale) and a max pool window (compare per tap, compare tree)
SOFTMAX = ([[1, 0, 0], [2, 0, 1], [0, 1, 0]], [[0, 0, 0], [0, 0, 1], [0, 0, 0]], [0, 0, -1], [0, 1, 1], [1, 1, 4])
POOL = ([[1, 0, 0]], [[0, 0, 0]], [0], [0], [1, 1, 1])


@pytest.mark.parametrize("program", [SOFTMAX, POOL], ids=["softmax", "pool"])
@pytest.mark.parametrize("row_len", [1, 2, 9, 31, 32, 33, 600])
@pytest.mark.parametrize("lanes", [1, 7, 32, 256, 512])
@pytest.mark.parametrize("capacity", [0, 4096])
def test_vector_kernel_matches_reference_on_a_grid(program, row_len, lanes, capacity):
    """Both mappings, one full and one partial group (rows = lanes + 3), with and without a scratchpad."""
    scalars = dict(rows=min(lanes + 3, max(1, 20000 // row_len)), row_len=row_len, inputs=1, lanes=lanes,
                   ops_per_lane_per_cycle=1, local_capacity_elements=capacity, element_bits=8, read_port_bits=64,
                   write_port_bits=64)
    for mapping in RowMapping:
        got, counts, want, want_counts = run_both(*program, scalars, mapping)
        assert got == want, mapping
        assert counts == want_counts, mapping
