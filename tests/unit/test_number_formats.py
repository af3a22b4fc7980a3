"""Number formats: the registry against the standards, format names in workloads and schemes,
float rounding against ml_dtypes (the oracle), per-format MAC rates against published peaks."""

from __future__ import annotations

from pathlib import Path

import ml_dtypes
import numpy as np
import pytest

from accelsim.compress.float_quant import round_to_format
from accelsim.compress.scheme import apply_scheme, scheme_from_dict
from accelsim.errors import ConfigError, UnsupportedError
from accelsim.hw.mac import check_network_precision, mac_rate
from accelsim.spec.arch import MacSpec
from accelsim.spec.fields import FrozenMap, to_dict
from accelsim.spec.load import arch_from_dict, network_from_dict
from accelsim.spec.number_format import number_format, operand_value
from accelsim.spec.workload import Compression

ROOT = Path(__file__).resolve().parents[2]
ORACLE = {"fp32": np.float32, "fp16": np.float16, "bf16": ml_dtypes.bfloat16,
          "fp8_e4m3": ml_dtypes.float8_e4m3fn, "fp8_e5m2": ml_dtypes.float8_e5m2}


# ---------------------------------------------------------------- the registry

@pytest.mark.parametrize("name", list(ORACLE))
def test_float_layouts_match_ml_dtypes(name):
    fmt, info = number_format(name), ml_dtypes.finfo(ORACLE[name])
    assert fmt.bits == info.bits
    assert fmt.mantissa_bits == info.nmant
    assert fmt.exponent_bits == info.iexp
    assert fmt.max_finite == float(info.max)
    assert 2.0 ** fmt.min_normal_exponent == float(info.smallest_normal)


def test_published_extremes():
    # IEEE 754 binary16 max 65504; OCP FP8 rev 1.0 Table 1: E4M3 max 448 (S.1111.110), E5M2 57344
    assert number_format("fp16").max_finite == 65504
    assert number_format("fp8_e4m3").max_finite == 448
    assert number_format("fp8_e5m2").max_finite == 57344


@pytest.mark.parametrize("value, name, bits, is_float, signed", [
    (8, "int8", 8, False, True), ("int4", "int4", 4, False, True), ("uint8", "uint8", 8, False, False),
    ("bfloat16", "bf16", 16, True, True), ("float16", "fp16", 16, True, True), ("FP32", "fp32", 32, True, True),
    ("fp8_e4m3", "fp8_e4m3", 8, True, True),
])
def test_names_and_aliases(value, name, bits, is_float, signed):
    fmt = number_format(value)
    assert (fmt.name, fmt.bits, fmt.is_float, fmt.signed) == (name, bits, is_float, signed)


def test_integers_stay_integers_and_bare_fp8_needs_a_layout():
    assert operand_value(8) == 8 and operand_value("int8") == 8 and operand_value("bfloat16") == "bf16"
    assert operand_value("uint4") == "uint4"
    with pytest.raises(ValueError, match="fp8_e4m3 or fp8_e5m2"):
        number_format("fp8")
    with pytest.raises(ValueError, match="did you mean 'bf16'"):
        number_format("bf61")


@pytest.mark.parametrize("wide, narrow, holds", [
    ("fp16", "fp8_e4m3", True), ("fp16", "fp8_e5m2", True), ("bf16", "fp8_e4m3", True),
    ("bf16", "fp8_e5m2", True), ("fp32", "bf16", True), ("fp32", "fp16", True),
    ("fp16", "bf16", False),       # bf16's exponent range
    ("bf16", "fp16", False),       # fp16's 10 mantissa bits
    ("fp8_e4m3", "fp8_e5m2", False), ("fp8_e5m2", "fp8_e4m3", False),
])
def test_holds_by_enumerating_every_value(wide, narrow, holds):
    """A format holds another when every finite value of it survives a round trip (checked on
    every bit pattern of the narrow format with ml_dtypes)."""
    patterns = np.arange(2 ** number_format(narrow).bits, dtype=np.uint8 if "fp8" in narrow else np.uint16)
    with np.errstate(all="ignore"):
        values = patterns.view(ORACLE[narrow]).astype(np.float64)
        values = values[np.isfinite(values)]
        exact = bool(np.all(values.astype(ORACLE[wide]).astype(np.float64) == values))
    assert exact == holds
    assert number_format(wide).holds(number_format(narrow)) == holds


# ---------------------------------------------------------------- workloads and schemes

LAYER = {"name": "fc", "op": "gemm", "m": 4, "k": 64, "n": 16}


def test_workload_accepts_format_names_in_the_bits_keys():
    net = network_from_dict({"name": "w", "layers": [
        {**LAYER, "compression": {"weight_bits": "bf16", "act_bits": "fp8_e4m3"}},
        {**LAYER, "name": "fc2", "compression": {"weight_bits": 4, "act_bits": "int8"}}]})
    first, second = (layer.compression for layer in net.layers)
    assert (first.weight_bits, first.act_bits) == ("bf16", "fp8_e4m3")
    assert (first.weight_precision.bits, first.act_precision.bits) == (16, 8)
    assert (second.weight_bits, second.act_bits) == (4, 8)   # integers stay integers
    assert to_dict(first)["weight_bits"] == "bf16"


def test_a_bad_format_name_is_reported_with_its_path():
    with pytest.raises(ConfigError, match=r"layers\[0\].compression.weight_bits.*bf16"):
        network_from_dict({"name": "w", "layers": [{**LAYER, "compression": {"weight_bits": "bf61"}}]})


def test_scheme_sets_formats():
    net = network_from_dict({"name": "w", "layers": [LAYER]})
    out = apply_scheme(net, scheme_from_dict({"rules": [{"weight_bits": "fp16", "act_bits": "float16"}]}))
    assert out.layers[0].compression == Compression(weight_bits="fp16", act_bits="fp16")


# ---------------------------------------------------------------- rounding (ml_dtypes is the oracle)

def _every_value_and_midpoint(name):
    fmt = number_format(name)
    if fmt.bits > 16:
        return np.array([])
    patterns = np.arange(2**fmt.bits, dtype=np.uint8 if fmt.bits == 8 else np.uint16)
    with np.errstate(all="ignore"):
        values = np.sort(np.unique(patterns.view(ORACLE[name]).astype(np.float64)))
    values = values[np.isfinite(values)]
    return np.concatenate([values, (values[1:] + values[:-1]) / 2])   # midpoints: the ties


@pytest.mark.parametrize("name", list(ORACLE))
def test_round_to_format_matches_ml_dtypes(name):
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(5000) * 10.0 ** rng.integers(-45, 40, 5000),
                        _every_value_and_midpoint(name), [0.0, -0.0, np.inf, -np.inf, np.nan]])
    with np.errstate(over="ignore"):
        want = x.astype(ORACLE[name]).astype(np.float64)
    got = round_to_format(x, name, saturate=False)
    np.testing.assert_array_equal(got, want)   # NaN == NaN for assert_array_equal


def test_e4m3_saturates_by_default_and_e5m2_overflows_to_infinity():
    # OCP FP8: E4M3 has no infinity; 464 is the tie between 448 and 480 (not a value): to even, 448
    np.testing.assert_array_equal(round_to_format([464, 465, 1e6, -np.inf, np.nan], "fp8_e4m3"),
                                  [448, 448, 448, -448, np.nan])
    assert round_to_format([61440.0], "fp8_e5m2")[0] == np.inf   # tie above 57344 rounds to 2^16
    assert round_to_format([1e6], "fp8_e5m2", saturate=True)[0] == 57344


# ---------------------------------------------------------------- MAC units and their rates

def test_fp8_at_twice_the_fp16_rate_as_published():
    """NVIDIA H100 SXM5 (H100 datasheet / Hopper whitepaper): 989.4 dense fp16/bf16 tensor
    TFLOP/s and 1978.9 dense fp8 TFLOP/s; TPU v5e (Cloud TPU docs): 197 bf16 TFLOP/s, 394 int8
    TOPS. Both ratios are 2."""
    h100 = MacSpec(precisions=("fp16", "bf16", "fp8_e4m3", "fp8_e5m2"),
                   rates=FrozenMap({"fp8_e4m3": 2, "fp8_e5m2": 2}))
    fp16, fp8 = mac_rate(h100, "fp16", "fp16"), mac_rate(h100, "fp8_e4m3", "fp8_e4m3")
    assert fp8.macs_per_cycle / fp16.macs_per_cycle == pytest.approx(1978.9 / 989.4, rel=1e-3)
    v5e = MacSpec(precisions=("bf16", "int8"), rates=FrozenMap({"int8": 2}))
    assert mac_rate(v5e, 8, 8).macs_per_cycle / mac_rate(v5e, "bf16", "bf16").macs_per_cycle == 394 / 197
    assert mac_rate(v5e, 4, 4).macs_per_cycle == 2   # runs in int8


def test_a_rate_for_an_unlisted_format_is_rejected_at_load():
    data = {"name": "x", "array": {"rows": 4, "cols": 4}, "buffers": {"unified": {"size": "64KiB"}},
            "mac": {"precisions": ["bf16"], "rates": {"fp8_e4m3": 2}}}
    with pytest.raises(ConfigError, match=r"mac.rates.fp8_e4m3.*not in precisions \(bf16\)"):
        arch_from_dict(data)


def test_bf16_unit_refuses_int8_layers_naming_them_and_runs_bf16_ones():
    arch = arch_from_dict({"name": "bf16-only", "array": {"rows": 4, "cols": 4},
                           "buffers": {"unified": {"size": "64KiB"}}, "mac": {"precisions": ["bf16"]}})
    net = network_from_dict({"name": "w", "layers": [LAYER, {**LAYER, "name": "fc2"}]})
    with pytest.raises(UnsupportedError) as info:
        check_network_precision(arch, net)
    message = str(info.value)
    assert "2 layers of w cannot run" in message and "layer 'fc2'" in message
    assert "runs bf16" in message and "int8" in message and "bf16.yaml" in message
    as_bf16 = apply_scheme(net, scheme_from_dict({"rules": [{"weight_bits": "bf16", "act_bits": "bf16"}]}))
    rates = check_network_precision(arch, as_bf16)
    assert {r.unit_format for r in rates.values()} == {"bf16"}


def test_mixed_float_and_integer_operands_are_refused():
    with pytest.raises(UnsupportedError, match="mixed integer and float"):
        mac_rate(MacSpec(precisions=("int8", "bf16")), "bf16", 8)


def test_workload_dram_bytes_follow_the_format_width():
    """One GEMM that fits the buffers: DRAM reads are every A and B element once, writes every C
    element once, at the format's bytes: 2 for fp16 and bf16, 1 for int8 and fp8."""
    import accelsim as ax

    arch = arch_from_dict({"name": "f", "array": {"rows": 8, "cols": 8},
                           "buffers": {"unified": {"size": "1MiB"}},
                           "mac": {"precisions": ["int8", "fp16", "bf16", "fp8_e4m3"]}})
    base = network_from_dict({"name": "w", "layers": [LAYER]})
    for fmt, size in (("fp16", 2), ("bf16", 2), (8, 1), ("fp8_e4m3", 1)):
        net = apply_scheme(base, scheme_from_dict({"rules": [{"weight_bits": fmt, "act_bits": fmt}]}))
        row = ax.simulate(arch, net).layers.iloc[0]
        assert row["dram_read_bytes"] == (4 * 64 + 64 * 16) * size
        assert row["dram_write_bytes"] == 4 * 16 * size
        assert row["weight_precision"] == number_format(fmt).name



def test_sweep_over_formats_and_rates(tmp_path):
    """workloads/sweeps/tiny_cnn_formats.yaml: fp8 and int8 are both 1 byte, so their traffic is
    identical; only fp8 speeds up with its rate; fp16 moves more bytes than either."""
    from accelsim.dse.sweep import run_sweep

    table = run_sweep(ROOT / "workloads" / "sweeps" / "tiny_cnn_formats.yaml", tmp_path / "out",
                      executor="serial").points.set_index(["scheme", "mac.rates.fp8_e4m3"])
    assert table.loc[("fp8_e4m3", 1), "dram_read_bytes"] == table.loc[("int8", 1), "dram_read_bytes"]
    assert table.loc[("fp16", 1), "dram_read_bytes"] > table.loc[("int8", 1), "dram_read_bytes"]
    assert table.loc[("fp8_e4m3", 2), "cycles"] < table.loc[("fp8_e4m3", 1), "cycles"]
    assert table.loc[("int8", 2), "cycles"] == table.loc[("int8", 1), "cycles"]
    assert table.loc[("fp16", 2), "cycles"] == table.loc[("fp16", 1), "cycles"]
