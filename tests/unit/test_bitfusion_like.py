"""arch_configs/bitfusion_like.yaml: compute cycles of a GEMM, calculated by hand.

The chip (Sharma et al., ISCA 2018; the authors' simulator github.com/hsharma35/bitfusion,
bf_e_conf.ini and src/simulator/simulator.py): 16 x 32 Fusion Units; 16 rows share the
reduction, 32 columns the outputs; a unit fuses 16 2-bit bricks into 4 products of 4b x 4b,
1 of 8b x 8b or 16 of 2b x 2b per cycle, so a row fold covers 16 x 4 = 64, 16 or 256 reduction
terms. The weight SRAM is banked per unit (one bank per Fusion Unit), so the next fold's
weights are read from the unit's own bank while the current fold streams: the config states
``preload_overlap`` and the folds run back to back (docs/timing_models.md, "Overlap between
folds": ``s_0 = r``, ``s_{f+1} = s_f + max(T_f, r)``, end ``s_last + T + R + c_last - 2``).

For an ``m x k x n`` GEMM with ``m >= 16`` every fold streams ``T`` rows, the folds' stream
lengths add up to ``m * ceil(k / lanes) * ceil(n / 32)`` whatever the mapping tiles, and
``compute_cycles = 16 + m * ceil(k / lanes) * ceil(n / 32) + 16 + c_last - 2`` (``c_last``: the
columns of the last column fold). Without the overlap every fold would also pay its 16-cycle
weight load and its ``16 + 32 - 2`` cycles of skew and drain.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import accelsim as ax
from accelsim.spec.workload import Compression, Gemm, Network

ROOT = Path(__file__).parents[2]
ROWS, COLS = 16, 32


def _compute_cycles(m: int, k: int, n: int, bits: int, mapping: str) -> int:
    arch = ax.load_arch(ROOT / "arch_configs" / "bitfusion_like.yaml")
    layer = Gemm(name="g", m=m, k=k, n=n, compression=Compression(weight_bits=bits, act_bits=bits))
    return int(ax.simulate(arch, Network(name="g", layers=(layer,)), mapping=mapping).layers["compute_cycles"][0])


@pytest.mark.parametrize("mapping", ["fixed", "search"])
@pytest.mark.parametrize("bits, lanes", [(2, 256), (4, 64), (8, 16)])
@pytest.mark.parametrize("m, k, n, c_last", [(256, 512, 256, 32), (100, 1000, 70, 6)])
def test_folds_run_back_to_back(m, k, n, c_last, bits, lanes, mapping):
    folds = -(-k // lanes) * -(-n // COLS)
    # 256 x 512 x 256 at 4 bits: 16 + 256 * 8 * 8 + 16 + 32 - 2 = 16,446 cycles.
    expected = ROWS + m * folds + ROWS + c_last - 2
    assert _compute_cycles(m, k, n, bits, mapping) == expected


def test_hand_value_4_bit():
    assert _compute_cycles(256, 512, 256, 4, "fixed") == 16_446
