"""Float layers end to end: numeric error in the ``pe`` fidelity (ml_dtypes as the oracle), MAC
energy per format (Horowitz's published points and the stated multiplier model, by hand)."""

from __future__ import annotations

import dataclasses

import ml_dtypes
import numpy as np
import pytest

import accelsim as ax
from accelsim.compress.float_quant import float_gemm, numpy_float_gemm
from accelsim.compress.quantize import output_error
from accelsim.compress.scheme import apply_scheme, scheme_from_dict
from accelsim.cost.arith import fp_multiplier
from accelsim.cost.energy import per_action_energy
from accelsim.cost.mac_unit import mac_actions
from accelsim.engine.pe import layer_error, run_pe_gemm
from accelsim.errors import UnsupportedError
from accelsim.spec.load import arch_from_dict, network_from_dict

ARCH = arch_from_dict({"name": "float", "technology": "45nm", "array": {"rows": 4, "cols": 4, "dataflow": "ws"},
                       "buffers": {"unified": {"size": "1MiB"}},
                       "mac": {"precisions": ["int8", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2"]}})
LAYER = {"name": "fc", "op": "gemm", "m": 6, "k": 40, "n": 5}
ORACLE = {"fp16": np.float16, "bf16": ml_dtypes.bfloat16, "fp8_e4m3": ml_dtypes.float8_e4m3fn,
          "fp8_e5m2": ml_dtypes.float8_e5m2}


def network(fmt):
    net = network_from_dict({"name": "w", "layers": [LAYER]})
    return apply_scheme(net, scheme_from_dict({"rules": [{"weight_bits": fmt, "act_bits": fmt}]}))


@pytest.mark.parametrize("fmt", list(ORACLE))
def test_pe_error_matches_an_ml_dtypes_computation(fmt):
    """layer_error's synthetic operands are standard normal from default_rng(0), A then B. Cast
    with ml_dtypes and multiplied in float64, the SQNR must agree within 0.05 dB: fp32
    accumulation adds about 2^-24 relative error, far below any of these formats'."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 40)), rng.standard_normal((40, 5))
    cast = a.astype(ORACLE[fmt]).astype(np.float64) @ b.astype(ORACLE[fmt]).astype(np.float64)
    want = output_error(a @ b, cast).sqnr_db
    got = layer_error(network(fmt).layers[0], ARCH).sqnr_db
    assert got == pytest.approx(want, abs=0.05)


def test_more_mantissa_bits_less_error():
    """fp16 (10 mantissa bits) > bf16 (7) > fp8_e4m3 (3) > fp8_e5m2 (2); int8 codes sit between
    bf16 and fp8 on normal data."""
    sqnr = {fmt: ax.simulate(ARCH, network(fmt), fidelity="pe").summary["sqnr_db"].iloc[0]
            for fmt in ("fp16", "bf16", 8, "fp8_e4m3", "fp8_e5m2")}
    assert sqnr["fp16"] > sqnr["bf16"] > sqnr[8] > sqnr["fp8_e4m3"] > sqnr["fp8_e5m2"]


def test_pe_equals_the_numpy_float_model():
    """ws on 4 rows: each output sums its reduction in chunks of 4 (row folds), chunk sums added in
    order; the numpy model with chunk=4 does the same additions."""
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((6, 40)) * 1e3, rng.standard_normal((40, 5))
    on_pe = float_gemm(a, b, "bf16", "bf16", lambda x, y: run_pe_gemm(ARCH, x.astype(np.float32),
                                                                       y.astype(np.float32))[0])
    on_numpy = float_gemm(a, b, "bf16", "bf16", numpy_float_gemm(32, chunk=4))
    np.testing.assert_array_equal(on_pe.out, on_numpy.out)


def test_float_accumulators_other_than_fp32_and_fp64_are_refused_in_pe():
    arch = dataclasses.replace(ARCH, mac=dataclasses.replace(ARCH.mac, accumulator_bits=16))
    with pytest.raises(UnsupportedError, match="accumulator of 16 bits"):
        ax.simulate(arch, network("bf16"), fidelity="pe")


# ---------------------------------------------------------------- energy per format

def test_multiplier_model_by_hand():
    """a (m+1)^2 + b w through Horowitz fp16 (1.1 pJ, 1640 um^2) and fp32 (3.7 pJ, 7700 um^2):
    121a + 16b = 1.1 and 576a + 32b = 3.7 give a = (3.7 - 2*1.1) / (576 - 2*121)."""
    a = (3.7 - 2 * 1.1) / (576 - 2 * 121)
    b = (1.1 - 121 * a) / 16
    assert fp_multiplier("bf16").energy_pj == pytest.approx(64 * a + 16 * b)          # about 0.84 pJ
    assert fp_multiplier("fp8_e4m3").energy_pj == pytest.approx(16 * a + 8 * b)       # about 0.35 pJ
    assert fp_multiplier("fp8_e5m2").energy_pj == pytest.approx(9 * a + 8 * b)
    area_a = (7700 - 2 * 1640) / (576 - 2 * 121)
    area_b = (1640 - 121 * area_a) / 16
    assert fp_multiplier("bf16").area_um2 == pytest.approx(64 * area_a + 16 * area_b)
    assert fp_multiplier("fp16").energy_pj == pytest.approx(1.1) and fp_multiplier("fp32").area_um2 == pytest.approx(7700)


def test_float_products_cost_a_multiply_of_their_format_and_an_fp32_accumulate():
    assert mac_actions(ARCH.mac, "fp16", "fp16") == {"mult_fp16": 1.0, "accumulate_fp": 1.0}
    assert mac_actions(ARCH.mac, "fp8_e4m3", "fp8_e4m3") == {"mult_fp8_e4m3": 1.0, "accumulate_fp": 1.0}
    table = per_action_energy(ARCH)
    assert table["mult_fp16"] == pytest.approx(1.1) and table["accumulate_fp"] == pytest.approx(0.9)  # Horowitz
    row = ax.simulate(ARCH, network("fp16")).layers.iloc[0]
    assert row["energy_mac_pj"] == pytest.approx(6 * 40 * 5 * (1.1 + 0.9))


def test_mapping_search_prices_float_layers_on_a_float_only_unit():
    """The mapper's energy model sees the layer's formats: a bf16-only unit runs a bf16 layer,
    each MAC costing one bf16 multiply and one fp32 accumulate."""
    arch = arch_from_dict({"name": "bf", "technology": "45nm", "array": {"rows": 4, "cols": 4},
                           "buffers": {"unified": {"size": "64KiB"}}, "mac": {"precisions": ["bf16"]}})
    row = ax.simulate(arch, network("bf16"), mapping="search", objective="energy").layers.iloc[0]
    assert row["mapping"]
    assert row["energy_mac_pj"] == pytest.approx(6 * 40 * 5 * (fp_multiplier("bf16").energy_pj + 0.9))


def test_unsigned_layers_quantize_asymmetrically_in_pe():
    """uint8 activations and weights: unsigned codes in [0, 255] with a zero point (asymmetric),
    the same error as quantized_gemm on the independent numpy accumulator model."""
    from accelsim.compress.quantize import QuantSpec, numpy_gemm, quantized_gemm

    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 40)), rng.standard_normal((40, 5))
    want = quantized_gemm(a, b, QuantSpec(8, symmetric=False), QuantSpec(8, symmetric=False), numpy_gemm(ARCH.mac))
    got = layer_error(network("uint8").layers[0], ARCH)
    assert got == want.error
    row = ax.simulate(ARCH, network("uint8"), fidelity="pe").layers.iloc[0]
    assert (row["weight_precision"], row["weight_bits"], row["sqnr_db"]) == ("uint8", 8, want.error.sqnr_db)
