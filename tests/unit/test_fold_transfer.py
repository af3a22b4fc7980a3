"""``fold.transfer_table``: each fold's DRAM cycles per traffic class, against a per-element
rational ceiling (bytes over the channel's bytes per cycle, the fraction with a denominator up to
1000 that ``transfer_cycles`` documents; 0 on an unlimited channel)."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest

from accelsim.engine import fold
from accelsim.lower.schedule import TRAFFIC
from accelsim.lower.tiling import fixed_mapping, mapped_schedule
from accelsim.lower.gemm import GemmProblem
from accelsim.spec.load import arch_from_dict


def _arch(dram: dict):
    return arch_from_dict({"name": "t", "clock": "1GHz", "array": {"rows": 4, "cols": 4},
                           "buffers": {"unified": {"size": "4KiB"}}, "dram": dram})


@pytest.mark.parametrize("dram", [
    {"bandwidth": "16B/cycle"},                                    # integer bytes per cycle
    {"bandwidth": "12.8GB/s"},                                     # 64/5 bytes per cycle
    {},                                                            # unlimited: no transfer time
    {"bandwidth": "3B/cycle", "per_operand": {"ifmap": "7B/cycle", "filter": "2.5B/cycle"}},
])
def test_transfer_table_is_the_rational_ceiling(dram):
    arch = _arch(dram)
    problem = GemmProblem(m=37, n=11, k=23, repeats=1, ifmap_words=37 * 23)
    schedule = mapped_schedule(problem, arch, fixed_mapping(arch), weight_bits=8, act_bits=8)
    xfer, channels = fold.transfer_table(schedule, arch)
    for column, traffic in enumerate(TRAFFIC):
        bandwidth = arch.dram_bytes_per_cycle(traffic.split("_")[0])
        rate = None if bandwidth is None else Fraction(bandwidth).limit_denominator(1000)
        expected = [0 if rate is None else math.ceil(Fraction(int(b)) / rate) for b in schedule.dram_bytes[:, column]]
        assert xfer[:, column].tolist() == expected
    assert schedule.dram_bytes.sum() > 0 and xfer.dtype == np.int64
    assert channels.tolist() == ([0, 1, 2, 2][:len(TRAFFIC)] if dram.get("per_operand") else [0] * len(TRAFFIC))
