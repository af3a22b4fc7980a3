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

A conv runs its kernel taps in time, each tap's input channels on whole row folds (per-row input
banks, ``array.reduction: channels``): ``taps x ceil(C_in / lanes)`` row folds, except the
network's first layer, which reads the host's im2col (``ceil(taps x C_in / lanes)``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import accelsim as ax
from accelsim.spec.workload import Compression, Conv2d, Gemm, Network

ROOT = Path(__file__).parents[2]
ROWS, COLS = 16, 32


def _run(m: int, k: int, n: int, bits: int, mapping: str) -> tuple[int, str]:
    """``(compute cycles, mapping)`` of an ``m x k x n`` GEMM on bitfusion_like."""
    arch = ax.load_arch(ROOT / "arch_configs" / "bitfusion_like.yaml")
    layer = Gemm(name="g", m=m, k=k, n=n, compression=Compression(weight_bits=bits, act_bits=bits))
    row = ax.simulate(arch, Network(name="g", layers=(layer,)), mapping=mapping).layers.iloc[0]
    return int(row["compute_cycles"]), str(row.get("mapping", ""))


def _back_to_back(m: int, k: int, n: int, lanes: int) -> int:
    """Compute cycles of folds run back to back: ``16 + m x folds + 16 + c_last - 2``."""
    folds = -(-k // lanes) * -(-n // COLS)
    return ROWS + m * folds + ROWS + (n - 1) % COLS + 1 - 2


@pytest.mark.parametrize("mapping", ["fixed", "search"])
@pytest.mark.parametrize("bits, lanes", [(2, 256), (4, 64), (8, 16)])
@pytest.mark.parametrize("m, k, n, c_last", [(256, 512, 256, 32), (100, 1000, 70, 6)])
def test_folds_run_back_to_back(m, k, n, c_last, bits, lanes, mapping):
    """Within a block the folds run back to back; a mapping with blocks along ``n`` (``nb=``) runs
    its blocks one after the other, each paying its own fill and drain (docs/mapper.md, "Blocks
    along n": an approximation at block boundaries)."""
    cycles, chosen = _run(m, k, n, bits, mapping)
    assert (n - 1) % COLS + 1 == c_last
    width = int(chosen.split("nb=")[1]) if "nb=" in chosen else n
    blocks = [width] * (n // width) + ([n % width] if n % width else [])
    # 256 x 512 x 256 at 4 bits, one block: 16 + 256 * 8 * 8 + 16 + 32 - 2 = 16,446 cycles.
    assert cycles == sum(_back_to_back(m, k, b, lanes) for b in blocks)


def test_hand_value_4_bit():
    assert _run(256, 512, 256, 4, "fixed")[0] == 16_446


def _conv_run(first: bool, bits: int, mapping: str) -> int:
    """A 5x5 conv of 96 channels (AlexNet conv2-like: 20x20 outputs, 64 filters) on bitfusion_like,
    as the network's first layer (the host's im2col) or after another layer (channels only)."""
    arch = ax.load_arch(ROOT / "arch_configs" / "bitfusion_like.yaml")
    bits_of = Compression(weight_bits=bits, act_bits=bits)
    conv = Conv2d(name="c", in_channels=96, out_channels=64, in_h=20, in_w=20, kernel=(5, 5), padding=(2,) * 4,
                  compression=bits_of)
    layers = (conv,) if first else (Gemm(name="g", m=16, k=16, n=16, compression=bits_of), conv)
    frame = ax.simulate(arch, Network(name="n", layers=layers), mapping=mapping).layers.set_index("layer")
    return int(frame.loc["c", "compute_cycles"])


@pytest.mark.parametrize("mapping", ["fixed", "search"])
@pytest.mark.parametrize("bits, lanes", [(2, 256), (4, 64), (8, 16)])
def test_conv_taps_run_in_time(bits, lanes, mapping):
    # array.reduction: channels (per-row input banks): each of the 25 taps takes ceil(96 / lanes)
    # row folds (4 bits: 25 x 2 = 50 against ceil(2400 / 64) = 38 packed); 400 output pixels,
    # 2 column folds of 32. 4 bits: 16 + 400 * 50 * 2 + 16 + 30 = 40,062 cycles.
    taps, m, col_folds = 25, 400, 2
    expected = ROWS + m * taps * -(-96 // lanes) * col_folds + ROWS + COLS - 2
    assert _conv_run(False, bits, mapping) == expected


@pytest.mark.parametrize("bits, lanes", [(2, 256), (4, 64), (8, 16)])
def test_first_conv_reads_the_hosts_im2col(bits, lanes):
    # the network's first layer is lowered by the host's im2col (the authors' simulator,
    # src/simulator/simulator.py get_cycles): ceil(2400 / lanes) row folds, packed.
    expected = ROWS + 400 * -(-2400 // lanes) * 2 + ROWS + COLS - 2
    assert _conv_run(True, bits, "fixed") == expected


def test_hand_value_conv_4_bit():
    assert _conv_run(False, 4, "fixed") == 40_062
    assert _conv_run(True, 4, "fixed") == 30_462
