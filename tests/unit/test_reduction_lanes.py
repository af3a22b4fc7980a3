"""``array.reduction``: what a conv's row lanes reduce over (docs/timing_models.md, "Reduction lanes").

Hand-calculated mapped reductions, the rule that picks them per layer, the spec's validation and
the pe fidelity's operand words under ``channels`` (their products add up to ``A @ B`` and there
are ``rate.reduction(K)`` rows of them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import accelsim as ax
from accelsim.engine.pe import reduction_words
from accelsim.errors import ConfigError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, reduction_rate
from accelsim.spec.arch import Reduction
from accelsim.spec.load import arch_from_dict
from accelsim.spec.workload import Conv2d, ConvTranspose2d, Gemm

ROOT = Path(__file__).parents[2]
BITFUSION = ax.load_arch(ROOT / "arch_configs" / "bitfusion_like.yaml")


@pytest.mark.parametrize("k, p, tap_rows, expected", [
    (25 * 96, 4, (25, 16), 25 * 32),   # AlexNet conv2 per tower, 4 bits: 24 slots per tap -> 32 rows (2 folds)
    (25 * 96, 4, None, 600),           # packed: ceil(2400 / 4)
    (9 * 3, 1, (9, 16), 9 * 16),       # 3 channels per tap fill one 16-row fold each
    (9 * 384, 16, (9, 16), 9 * 32),    # 2 bits: 384 / 16 = 24 slots per tap -> 32 rows
    (9 * 512, 4, (9, 16), 9 * 128),    # channels that fill the lanes exactly: no padding (= 4608 / 4)
])
def test_mapped_reduction_by_hand(k, p, tap_rows, expected):
    assert ArrayRate(products_per_cycle=p, tap_rows=tap_rows).reduction(k) == expected


def _conv(kernel: int, cin: int = 96) -> Conv2d:
    return Conv2d(name="c", in_channels=cin, out_channels=64, in_h=13, in_w=13, kernel=(kernel, kernel),
                  padding=(kernel // 2,) * 4)


def test_rule_per_layer():
    assert reduction_rate(DENSE_RATE, _conv(5), BITFUSION, host_im2col=False).tap_rows == (25, 16)
    assert reduction_rate(DENSE_RATE, _conv(5), BITFUSION, host_im2col=True) == DENSE_RATE  # the host's im2col
    assert reduction_rate(DENSE_RATE, _conv(1), BITFUSION, host_im2col=False) == DENSE_RATE  # channels only anyway
    gemm = Gemm(name="g", m=4, k=64, n=64)
    assert reduction_rate(DENSE_RATE, gemm, BITFUSION, host_im2col=False) == DENSE_RATE
    transposed = ConvTranspose2d(name="t", in_channels=8, out_channels=8, in_h=4, in_w=4, kernel=(3, 3))
    assert reduction_rate(DENSE_RATE, transposed, BITFUSION, host_im2col=False) == DENSE_RATE
    edge = ax.load_arch(ROOT / "arch_configs" / "edge_32x32.yaml")
    assert edge.array.reduction is Reduction.IM2COL
    assert reduction_rate(DENSE_RATE, _conv(5), edge, host_im2col=False) == DENSE_RATE


def _arch(array: dict, **top) -> dict:
    return {"name": "x", "array": {"rows": 4, "cols": 4, **array}, "buffers": {"unified": {"size": "64KiB"}}, **top}


def test_bad_value_names_the_key_and_suggests():
    with pytest.raises(ConfigError) as info:
        arch_from_dict(_arch({"reduction": "chanels"}), "mine.yaml")
    assert "array.reduction" in str(info.value) and "did you mean 'channels'" in str(info.value)


@pytest.mark.parametrize("array, top, words", [
    ({"dataflow": "os", "reduction": "channels"}, {}, "os reduces in time"),
    ({"dataflow": "ws", "dataflows": ["os"], "reduction": "channels"}, {}, "os reduces in time"),
    ({"reduction": "channels"}, {"timing_model": "scalesim"}, "SCALE-Sim timing lowers convs by im2col"),
    ({"reduction": "channels"}, {"arrays": {"count": 2, "split": ["columns"]}}, "one array"),
])
def test_unsupported_combinations_are_refused(array, top, words):
    with pytest.raises(ConfigError) as info:
        arch_from_dict(_arch(array, **top), "mine.yaml")
    assert "array.reduction" in str(info.value) and words in str(info.value)


def test_default_is_im2col():
    assert arch_from_dict(_arch({})).array.reduction is Reduction.IM2COL
    assert BITFUSION.array.reduction is Reduction.CHANNELS


@pytest.mark.parametrize("seed", range(12))
def test_pe_words_pad_each_tap(seed):
    rng = np.random.default_rng(seed)
    taps, cin, m, n = (int(v) for v in rng.integers(1, [10, 40, 6, 5], endpoint=True))
    rows, p = int(rng.integers(1, 8)), int(rng.choice([1, 2, 4, 16]))
    rate = ArrayRate(products_per_cycle=p, tap_rows=(taps, rows))
    a = rng.integers(-8, 8, (m, taps * cin))
    b = rng.integers(-8, 8, (taps * cin, n))
    act, wgt = reduction_words(a, b, rate)
    per_tap_rows = -(-(-(-cin // p)) // rows) * rows  # each tap's channels on whole row folds
    assert act.shape[1] == wgt.shape[0] == taps * per_tap_rows == rate.reduction(taps * cin)
    np.testing.assert_array_equal(np.einsum("mrv,rvn->mn", act, wgt), a @ b)
    # no array row mixes two taps: row r's weights come from tap r // per_tap_rows only
    tap_of_row = np.arange(act.shape[1]) // per_tap_rows
    for r in range(act.shape[1]):
        lo = tap_of_row[r] * cin
        original = b[lo:lo + cin]
        assert np.isin(wgt[r][wgt[r] != 0], original).all()


def test_three_fidelities_agree_on_taps_in_time():
    """fold and cycle (fold tables) and pe (every register stepped, each tap's channels padded by
    :func:`reduction_words`) report the same compute cycles for a conv whose taps run in time:
    24 channels per tap at 4 bits take 6 of 16 rows, so 9 row folds instead of ceil(54 / 16) = 4."""
    bits = ax.spec.workload.Compression(weight_bits=4, act_bits=4)
    first = Conv2d(name="c0", in_channels=3, out_channels=8, in_h=8, in_w=8, kernel=(3, 3), padding=(1,) * 4,
                   compression=bits)
    conv = Conv2d(name="c1", in_channels=24, out_channels=40, in_h=6, in_w=6, kernel=(3, 3), compression=bits)
    net = ax.spec.workload.Network(name="n", layers=(first, conv))
    compute = {fid: ax.simulate(BITFUSION, net, fidelity=fid, mapping="fixed").layers["compute_cycles"].tolist()
               for fid in ("fold", "cycle", "pe")}
    assert compute["fold"] == compute["cycle"] == compute["pe"]
    # c1 by hand: 16 output pixels, 2 column folds (40 filters on 32 columns), 9 row folds, each
    # tap's 6 rows padded to 16 (the idle lanes carry zeros): 16 + 16 x 9 x 2 + 16 + 8 - 2 = 326
    # (weights preloaded from the units' banks; the last fold uses 8 columns).
    assert compute["fold"][1] == 16 + 16 * 9 * 2 + 16 + 8 - 2
