"""A layer's whole fold schedule run in one kernel call (``kernels.systolic.run_native_problem``:
tables built, the memory plan's traffic scaled, transfer cycles, timeline, a chunk of folds at a
time) gives exactly the counters of the step-by-step chain: the numpy lowering
(``lower.tiling.mapped_schedule``), the numpy scaling (``lower.memory_plan.scaled_schedule``) and
``run_fold_native`` over every fold.

Hypothesis draws GEMMs (inputs that are and are not a whole multiple of ``m``), arrays,
dataflows, loop orders and stream tiles, double buffering, overlap, broadcast, accumulators,
separate or unified (jointly allocated) buffers, DRAM bandwidth (shared or per operand),
latency, MAC rates, operand widths, the plan's fractions (0: kept on chip, 1: through DRAM,
and partial spills) and chunk sizes (a fold, a few, more than the schedule); every
``codes.FOLD_STAT_*`` counter must be equal.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.engine import fold
from accelsim.lower.gemm import ArrayRate, GemmProblem
from accelsim.lower.memory_plan import TrafficScale, scaled_schedule
from accelsim.lower.tiling import LoopOrder, Mapping, mapped_schedule
from accelsim.spec.arch import Dataflow
from accelsim.spec.load import network_from_dict
from fold_archs import small_arch

FRACTIONS = st.one_of(st.sampled_from([Fraction(0), Fraction(1)]),
                      st.builds(lambda den, num: Fraction(num % (den + 1), den), st.integers(1, 30),
                                st.integers(0, 30)))
BITS = (4, 8, 16)


@settings(max_examples=300, deadline=None)
@given(m=st.integers(1, 80), n=st.integers(1, 40), k=st.integers(1, 40), words=st.integers(1, 28),
       rows=st.integers(1, 8), cols=st.integers(1, 8), dataflow=st.sampled_from(["os", "ws", "is"]),
       overlap=st.booleans(), broadcast=st.booleans(), accumulators=st.sampled_from([0, 64, 4096]),
       bandwidth=st.sampled_from([0, 0.5, 3, 64]), latency=st.sampled_from([0, 7, 300]), per_operand=st.booleans(),
       buffer=st.sampled_from(["64B", "256B", "16KiB"]), unified=st.booleans(), joint=st.booleans(),
       order=st.sampled_from(list(LoopOrder)), t_tile=st.sampled_from([None, 1, 3, 8]),
       double=st.tuples(st.booleans(), st.booleans(), st.booleans()),
       rate=st.sampled_from([ArrayRate(), ArrayRate(2, 1), ArrayRate(1, 2), ArrayRate(1, 1, (2, 4))]),
       weights=st.sampled_from(BITS), acts=st.sampled_from(BITS),
       fractions=st.tuples(FRACTIONS, FRACTIONS, FRACTIONS), chunk=st.sampled_from([1, 2, 3, 7, 2048]))
def test_one_call_equals_the_chain(m, n, k, words, rows, cols, dataflow, overlap, broadcast, accumulators,
                                   bandwidth, latency, per_operand, buffer, unified, joint, order, t_tile, double,
                                   rate, weights, acts, fractions, chunk):
    problem = GemmProblem(m=m, n=n, k=k, repeats=1, ifmap_words=max(1, m * k * words // 16))
    arch = small_arch(rows, cols, dataflow, overlap, accumulators, bandwidth, latency, per_operand, buffer, unified,
                 broadcast)
    layer = network_from_dict({"name": "n", "layers": [{"op": "gemm", "name": "g", "m": m, "n": n, "k": k,
                                                        "compression": {"weight_bits": weights, "act_bits": acts}}]}
                             ).layers[0]
    mapping = Mapping(Dataflow(dataflow), order, t_tile, double, joint and unified)
    scale = TrafficScale(*fractions)
    got = fold._run_built(problem, layer, arch, rate, mapping, scale, chunk)
    chain = scaled_schedule(mapped_schedule(problem, arch, mapping, rate=rate, weight_bits=weights, act_bits=acts),
                            scale, mapping)
    want = fold.run_schedule(chain, arch)
    assert got is not None and np.array_equal(got, want), (mapping, got - want)
