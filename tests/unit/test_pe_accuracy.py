"""Numeric error next to cost in ``simulate(..., fidelity="pe")``: each array layer's GEMM,
quantized to the layer's bits, runs as integer codes on the PE registers (engine/pe.py
``layer_error``)."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.compress.quantize import QuantSpec, integer_gemm, quantized_gemm
from accelsim.simulate import simulate
from accelsim.spec.arch import Overflow
from accelsim.spec.load import arch_from_dict, network_from_dict


def _arch(bits=32, overflow="wrap", dataflow="ws"):
    return arch_from_dict({"name": "t", "array": {"rows": 4, "cols": 4, "dataflow": dataflow},
                           "mac": {"accumulator_bits": bits, "overflow": overflow},
                           "buffers": {"unified": {"size": "1MiB"}}, "vector_unit": {"lanes": 4}})


def _net(weight_bits=8, act_bits=8, m=6, n=5, k=40):
    bits = {"weight_bits": weight_bits, "act_bits": act_bits}
    return network_from_dict({"name": "n", "layers": [
        {"op": "gemm", "name": "fc", "m": m, "n": n, "k": k, "compression": bits},
        {"op": "relu", "name": "act", "shape": [m, n]}]})


def _numpy_error(m, n, k, weight_bits, act_bits, bits, overflow):
    """The documented experiment with numpy's integer GEMM model instead of the PE array:
    A, B standard normal from default_rng(0), drawn in that order, symmetric per tensor."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k))
    b = rng.standard_normal((k, n))
    return quantized_gemm(a, b, QuantSpec(act_bits), QuantSpec(weight_bits),
                          lambda x, y: integer_gemm(x, y, bits, overflow)).error


@pytest.mark.parametrize("weight_bits, act_bits, bits, overflow, dataflow", [
    (8, 8, 32, Overflow.WRAP, "ws"), (4, 6, 32, Overflow.WRAP, "is"),
    (8, 8, 14, Overflow.WRAP, "ws"),   # 40 products of up to 127*127: the 14-bit accumulator wraps
    # saturation depends on the order of additions: an os PE adds its products in order of k
    # from 0, as integer_gemm does (a ws/is array adds per row fold, a different order)
    (8, 8, 14, Overflow.SATURATE, "os"),
])
def test_error_matches_an_independent_integer_model(weight_bits, act_bits, bits, overflow, dataflow):
    """The PE array and quantize.integer_gemm (numpy, one addition at a time) agree on the
    accumulators, so on the error, to float rounding; wrap and saturation included."""
    res = simulate(_arch(bits, overflow.value, dataflow), _net(weight_bits, act_bits), "pe")
    want = _numpy_error(6, 5, 40, weight_bits, act_bits, bits, overflow)
    row = res.layers.iloc[0]
    assert row["sqnr_db"] == pytest.approx(want.sqnr_db, rel=1e-9)
    assert row["max_rel_error"] == pytest.approx(want.max_rel_error, rel=1e-9)


def test_overflow_shows_in_the_error():
    wide = simulate(_arch(32), _net(), "pe").layers["sqnr_db"].iloc[0]
    narrow = simulate(_arch(14), _net(), "pe").layers["sqnr_db"].iloc[0]
    assert wide > 30 and narrow < wide - 20


def test_six_db_per_bit():
    """Uniform quantization noise falls 6.02 dB per bit (both operands quantized alike): from 4
    to 8 bits about 24 dB more SQNR. Approximate (max calibration on finite Gaussian samples):
    accepted within 20-28 dB."""
    net = {bits: _net(bits, bits, m=16, n=16, k=64) for bits in (4, 8)}
    sqnr = {bits: simulate(_arch(), n, "pe").layers["sqnr_db"].iloc[0] for bits, n in net.items()}
    assert 20 < sqnr[8] - sqnr[4] < 28


def test_columns_only_for_array_layers_and_worst_in_summary():
    net = network_from_dict({"name": "n", "layers": [
        {"op": "gemm", "name": "a", "m": 4, "n": 4, "k": 16, "compression": {"weight_bits": 8}},
        {"op": "relu", "name": "r", "shape": [4, 4]},
        {"op": "gemm", "name": "b", "m": 4, "n": 4, "k": 16, "compression": {"weight_bits": 3}}]})
    res = simulate(_arch(), net, "pe")
    layers = res.layers
    assert layers["sqnr_db"].isna().tolist() == [False, True, False]
    assert res.summary["sqnr_db"].iloc[0] == layers["sqnr_db"].min()
    assert res.summary["max_rel_error"].iloc[0] == layers["max_rel_error"].max()
    assert "sqnr_db" not in simulate(_arch(), net, "fold").layers
