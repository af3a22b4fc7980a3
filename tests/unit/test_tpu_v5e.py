"""arch_configs/tpu_v5e_like.yaml against the published figures it is built from (its comments
cite them): four 128x128 MXUs at 1.503 GHz give 197 TFLOP/s bf16 and twice that in int8
(Google Cloud TPU v5e documentation), and a roofline argument for when four MXUs run four
times as fast as one."""

from __future__ import annotations

import dataclasses

import pytest

import accelsim as ax
from accelsim.spec.load import network_from_dict
from conftest import ROOT

ARCH = ax.load_arch(ROOT / "arch_configs" / "tpu_v5e_like.yaml")
HBM = 819e9  # bytes/s, Google Cloud TPU v5e documentation


def gemm(m, n, k, fmt="bf16"):
    return network_from_dict({"name": "g", "layers": [{"op": "gemm", "name": "g", "m": m, "n": n, "k": k,
                                                       "compression": {"weight_bits": fmt, "act_bits": fmt}}]})


def test_peak_rates_are_the_published_ones():
    # 2 FLOP x 4 MXUs x 128 x 128 x clock; the docs give 197 TFLOP/s bf16 and 393-394 TOPS int8
    bf16 = 2 * ARCH.pes * ARCH.clock_hz
    assert ARCH.pes == 4 * 128 * 128
    assert bf16 == pytest.approx(197e12, rel=1e-3)
    assert 2 * ARCH.pes * ARCH.mac.rates["int8"] * ARCH.clock_hz == pytest.approx(394e12, rel=3e-3)
    assert ARCH.dram_bytes_per_cycle() * ARCH.clock_hz == pytest.approx(HBM)
    assert ARCH.dispatch_cycles == 0  # no published launch overhead; nothing fitted


@pytest.mark.parametrize("m, n, k", [(4096, 4096, 4096), (8192, 8192, 128), (16, 8192, 8192)])
def test_never_faster_than_the_roofline(m, n, k):
    """Cycles >= compute at peak and >= the compulsory bytes (A, B read once, C written once, bf16)
    over HBM bandwidth."""
    row = ax.simulate(ARCH, gemm(m, n, k)).layers.iloc[0]
    compute = m * n * k / ARCH.pes
    memory = 2 * (m * k + k * n + m * n) / HBM * ARCH.clock_hz
    assert row.cycles >= max(compute, memory)


def test_four_mxus_are_near_four_times_one_when_compute_bound():
    """4096^3 in bf16 does 2 x 4096^3 FLOP on at least 3 x 4096^2 x 2 bytes: 1365 FLOP/B, far above
    the ridge of 197e12 / 819e9 = 240 FLOP/B, so the chip is compute-bound and four MXUs should
    run close to four times as fast as one (at most four: each MXU gets a quarter of the folds)."""
    one = dataclasses.replace(ARCH, arrays=dataclasses.replace(ARCH.arrays, count=1, shared_buffers=()))
    net = gemm(4096, 4096, 4096)
    ratio = ax.simulate(one, net).layers.cycles.iloc[0] / ax.simulate(ARCH, net).layers.cycles.iloc[0]
    assert 3.9 <= ratio <= 4.0


def test_memory_bound_gemm_runs_at_hbm_bandwidth():
    """8192 x 8192 x 128 in bf16: 2 MiB of A, 2 MiB of B, 128 MiB of C to write, 2 x 8192^2 x 128 FLOP
    = 32 FLOP/B, below the ridge: the time is the bytes over 819 GB/s (169 us) plus at most a few
    percent of fill and drain."""
    row = ax.simulate(ARCH, gemm(8192, 8192, 128)).layers.iloc[0]
    bound = (2 * 8192 * 128 * 2 + 8192 * 8192 * 2) / HBM
    assert bound <= row.cycles / ARCH.clock_hz <= 1.03 * bound


def test_fp16_is_refused_not_guessed():
    from accelsim.errors import UnsupportedError

    with pytest.raises(UnsupportedError):
        ax.simulate(ARCH, gemm(128, 128, 128, "fp16"))
