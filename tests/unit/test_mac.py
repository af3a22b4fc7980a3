"""MAC unit throughput (accelsim.hw.mac) against published figures and hand arithmetic.

Sources of the expected numbers:

* Bit Fusion (Sharma et al., ISCA 2018; the authors' page act-lab.org/artifacts/bitfusion):
  16 2-bit BitBricks per Fusion Unit fuse "in powers of 2" into 1, 2, 4, 8 or 16 F-PEs;
  16 F-PEs for binary/ternary (2-bit) operands, four for 8-bit x 2-bit (either way round),
  one for 8-bit x 8-bit; REFERENCES.md adds 4 of 4b x 4b and 2 of 8b x 4b. The authors' public
  simulator (github.com/hsharma35/bitfusion, accelerator.py ``get_perf_factor``) scales
  throughput by ``int(8 / a) * int(8 / w)`` with operands below 2 bits raised to 2, which
  gives the expected values for widths that are not powers of two (3 -> a 4-bit F-PE,
  5..8 -> an 8-bit F-PE).
* Stripes (Judd et al., MICRO 2016): execution time proportional to activation precision;
  Loom (Sharify et al., DAC 2018): to the product of weight and activation precisions.
"""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim.errors import ConfigError, UnsupportedError
from accelsim.hw.mac import check_layer_precision, check_network_precision, mac_rate
from accelsim.spec.arch import MacKind, MacSpec, SerialOperands
from accelsim.spec.load import arch_from_dict, network_from_dict
from accelsim.frontend.load import load_arch

BITFUSION = MacSpec(kind=MacKind.BITFUSION, precisions=("int2", "int4", "int8", "int16"))
INT8 = MacSpec(kind=MacKind.FIXED, precisions=("int8",))
STRIPES = MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",))
LOOM = MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",), serial_operands=SerialOperands.BOTH)


def paper_perf_factor(w_bits: int, a_bits: int) -> int:
    """The Bit Fusion authors' simulator rule (see module docstring), for operands up to 8 bits."""
    w, a = max(w_bits, 2), max(a_bits, 2)
    return (8 // w) * (8 // a)


# ---------------------------------------------------------------- Bit Fusion

@pytest.mark.parametrize(
    "weight, act, products",
    [(2, 2, 16), (4, 4, 4), (8, 8, 1), (8, 4, 2), (4, 8, 2), (2, 8, 4), (8, 2, 4), (1, 1, 16), (1, 2, 16)],
)
def test_bitfusion_published_products_per_cycle(weight, act, products):
    rate = mac_rate(BITFUSION, weight, act)
    assert (rate.products_per_cycle, rate.cycles_per_product) == (products, 1)


@pytest.mark.parametrize("weight, act", [(3, 3), (3, 5), (6, 2), (7, 1), (5, 5), (3, 8), (6, 4)])
def test_bitfusion_unlisted_widths_match_authors_simulator(weight, act):
    rate = mac_rate(BITFUSION, weight, act)
    assert rate.products_per_cycle == paper_perf_factor(weight, act)
    assert rate.cycles_per_product == 1


@pytest.mark.parametrize(
    "weight, act, cycles",
    # a 16-bit operand spans 8 bricks: 16x16 needs 64 bricks -> 4 cycles of a 16-brick unit,
    # 16x8 needs 32 -> 2, 12x12 runs as 16x16 (powers of two) -> 4, 16x4 needs 16 -> 1.
    [(16, 16, 4), (16, 8, 2), (8, 16, 2), (12, 12, 4), (16, 4, 1)],
)
def test_bitfusion_16_bit_operands_take_several_cycles(weight, act, cycles):
    rate = mac_rate(BITFUSION, weight, act)
    assert (rate.products_per_cycle, rate.cycles_per_product) == (1, cycles)


def test_bitfusion_16x2_fits_two_products():
    # 8 bricks x 1 brick = 8 bricks per product: 16 // 8 = 2 per cycle
    assert mac_rate(BITFUSION, 16, 2).products_per_cycle == 2


def test_bitfusion_listing_a_width_allows_that_fusion():
    """Listing int6 makes a 6-bit operand span 3 bricks: 6x2 then needs 3 bricks, 16 // 3 = 5."""
    mac = MacSpec(kind=MacKind.BITFUSION, precisions=("int2", "int4", "int6", "int8"))
    assert mac_rate(mac, 6, 2).products_per_cycle == 5
    assert mac_rate(mac, 6, 6).products_per_cycle == 1  # 9 bricks


def test_bitfusion_decomposition_matches_native_16_bit():
    """An 8-bit-max unit running 16-bit operands in 2x2 passes of 8x8 takes 4 cycles, like int16 fusion."""
    mac = MacSpec(kind=MacKind.BITFUSION, precisions=("int2", "int4", "int8"), decompose_wider=True)
    rate = mac_rate(mac, 16, 16)
    assert (rate.products_per_cycle, rate.cycles_per_product, rate.passes) == (1, 4, 4)


@given(w=st.integers(1, 16), a=st.integers(1, 16))
def test_bitfusion_uses_exactly_its_bricks(w, a):
    rate = mac_rate(BITFUSION, w, a)
    need = math.ceil(rate.weight_datapath_bits / 2) * math.ceil(rate.act_datapath_bits / 2)
    # bricks used per cycle (products per cycle x bricks per product / cycles per product) is at
    # most 16, and with power-of-two widths exactly 16: the fusion itself leaves no brick idle
    assert rate.products_per_cycle * need == 16 * rate.cycles_per_product


@given(w=st.integers(1, 15), a=st.integers(1, 15))
def test_bitfusion_throughput_never_rises_with_width(w, a):
    assert mac_rate(BITFUSION, w + 1, a).macs_per_cycle <= mac_rate(BITFUSION, w, a).macs_per_cycle
    assert mac_rate(BITFUSION, w, a + 1).macs_per_cycle <= mac_rate(BITFUSION, w, a).macs_per_cycle


# ---------------------------------------------------------------- fixed width

@given(w=st.integers(1, 8), a=st.integers(1, 8))
def test_fixed_narrow_operands_are_gated_not_faster(w, a):
    rate = mac_rate(INT8, w, a)
    assert (rate.products_per_cycle, rate.cycles_per_product) == (1, 1)
    assert rate.active_fraction == pytest.approx(w * a / 64)


def test_fixed_picks_narrowest_listed_mode():
    mac = MacSpec(precisions=("int8", "int16"))
    assert mac_rate(mac, 4, 4).unit_format == "int8"
    assert mac_rate(mac, 12, 4).unit_format == "int16"
    assert mac_rate(mac, 12, 4).cycles_per_product == 1


def test_fixed_rejects_wider_operands_naming_layer_and_formats():
    with pytest.raises(UnsupportedError) as err:
        mac_rate(INT8, 16, 8, layer_name="conv3")
    text = str(err.value)
    assert "conv3" in text and "int8" in text and "16-bit weights" in text and "decompose_wider" in text


@pytest.mark.parametrize("weight, act, passes", [(16, 16, 4), (16, 8, 2), (8, 12, 2), (24, 8, 3), (32, 32, 16)])
def test_fixed_decomposes_wider_operands_into_passes(weight, act, passes):
    """ceil(w/8) * ceil(a/8) passes of the 8x8 multiplier per product."""
    rate = mac_rate(MacSpec(precisions=("int8",), decompose_wider=True), weight, act)
    assert (rate.products_per_cycle, rate.cycles_per_product, rate.passes) == (1, passes, passes)


@pytest.mark.parametrize(
    "units, weight, act, runs_in",
    [
        (("fp16",), "fp16", "fp16", "fp16"),
        (("bf16",), "bf16", "bf16", "bf16"),
        (("fp32",), "fp16", "bf16", "fp32"),   # both are exact in binary32
        (("bf16", "fp32"), "fp8_e4m3", "bf16", "bf16"),
        (("fp16", "int8"), "fp8_e4m3", "fp8_e5m2", "fp16"),   # OCP FP8: both exact in binary16
    ],
)
def test_fixed_floats_run_in_a_listed_format_that_holds_them(units, weight, act, runs_in):
    rate = mac_rate(MacSpec(precisions=units), weight, act)
    assert (rate.products_per_cycle, rate.cycles_per_product, rate.unit_format) == (1, 1, runs_in)


@pytest.mark.parametrize(
    "units, weight, act",
    [
        (("fp16",), "bf16", "bf16"),   # bf16's 8-bit exponent does not fit fp16
        (("bf16",), "fp16", "fp16"),   # fp16's 10-bit mantissa does not fit bf16
        (("int8",), "fp16", "fp16"),
        (("fp16",), 8, 8),              # no integer format listed
        (("fp16", "int8"), "fp16", 8),  # mixed float x integer
    ],
)
def test_fixed_rejects_floats_it_does_not_list(units, weight, act):
    with pytest.raises(UnsupportedError, match="attn.qk"):
        mac_rate(MacSpec(precisions=units), weight, act, layer_name="attn.qk")


def test_integer_only_units_reject_floats_at_load():
    data = {"name": "x", "array": {"rows": 4, "cols": 4}, "buffers": {"unified": {"size": "64KiB"}},
            "mac": {"kind": "bitfusion", "precisions": ["int8", "fp16"]}}
    with pytest.raises(ConfigError, match="mac.precisions"):
        arch_from_dict(data)


# ---------------------------------------------------------------- bit-serial

@given(w=st.integers(1, 16), a=st.integers(1, 16))
def test_stripes_cycles_equal_activation_bits(w, a):
    rate = mac_rate(STRIPES, w, a)
    assert (rate.products_per_cycle, rate.cycles_per_product) == (1, a)


@given(w=st.integers(1, 16), a=st.integers(1, 16))
def test_loom_cycles_equal_product_of_bits(w, a):
    assert mac_rate(LOOM, w, a).cycles_per_product == w * a


@given(w=st.integers(1, 16), a=st.integers(1, 16), s=st.sampled_from([2, 4]))
def test_serial_bits_per_cycle_divide_each_serial_operand(w, a, s):
    loom = MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",), serial_operands=SerialOperands.BOTH,
                   serial_bits_per_cycle=s)
    assert mac_rate(loom, w, a).cycles_per_product == -(-w // s) * -(-a // s)


def test_stripes_lanes_give_16_over_p_speedup_over_bit_parallel():
    """Stripes' SIP sums 16 (1-bit activation x 16-bit weight) products per cycle: with 16 lanes
    it matches a 16-bit bit-parallel lane at p = 16 and is 16/p times faster below."""
    sip = MacSpec(kind=MacKind.BIT_SERIAL, precisions=("int16",), lanes=16)
    for p in (16, 8, 5, 1):
        assert mac_rate(sip, 16, p).macs_per_cycle == pytest.approx(16 / p)


def test_serial_operand_wider_than_unit_is_rejected():
    with pytest.raises(UnsupportedError, match="fc1.*20-bit activations.*int16"):
        mac_rate(STRIPES, 8, 20, layer_name="fc1")


# ---------------------------------------------------------------- per-layer checks

NET = {
    "name": "tiny",
    "layers": [
        {"op": "conv2d", "name": "conv1", "in_channels": 3, "out_channels": 8, "in_h": 8, "in_w": 8,
         "kernel": 3, "compression": {"weight_bits": 4, "act_bits": 4}},
        {"op": "relu", "name": "relu1", "shape": [8, 6, 6]},
        {"op": "gemm", "name": "fc_wide", "m": 1, "n": 10, "k": 288, "compression": {"weight_bits": 16}},
        {"op": "matmul", "name": "mm_wide", "m": 4, "n": 4, "k": 4, "compression": {"act_bits": 12}},
    ],
}


def test_check_layer_precision_per_layer(root):
    arch = load_arch(root / "arch_configs" / "bitfusion_like.yaml")
    net = network_from_dict(NET)
    conv, relu = net.layers[0], net.layers[1]
    assert check_layer_precision(arch, conv).products_per_cycle == 4
    assert check_layer_precision(arch, relu) is None


def test_check_network_precision_lists_every_failing_layer(root):
    tpu = load_arch(root / "arch_configs" / "tpu_v1_like.yaml")
    arch = dataclasses.replace(tpu, mac=dataclasses.replace(tpu.mac, decompose_wider=False))    # int8 only
    with pytest.raises(UnsupportedError) as err:
        check_network_precision(arch, network_from_dict(NET))
    text = str(err.value)
    assert "2 layers" in text and "fc_wide" in text and "mm_wide" in text and "conv1" not in text
    assert "int8" in text


@pytest.mark.parametrize("weight, act, passes", [(8, 8, 1), (16, 8, 2), (8, 16, 2), (16, 16, 4)])
def test_tpu_v1_runs_16_bit_operands_at_half_and_quarter_speed(root, weight, act, passes):
    """Jouppi et al., ISCA 2017, section 2: half speed for 8b x 16b, quarter speed for 16b x 16b."""
    rate = mac_rate(load_arch(root / "arch_configs" / "tpu_v1_like.yaml").mac, weight, act)
    assert (rate.products_per_cycle, rate.cycles_per_product) == (1, passes)


def test_check_network_precision_returns_rates_of_mac_layers(root):
    arch = load_arch(root / "arch_configs" / "bitfusion_like.yaml")
    rates = check_network_precision(arch, network_from_dict(NET))
    assert sorted(rates) == ["conv1", "fc_wide", "mm_wide"]
    assert rates["fc_wide"].cycles_per_product == 2    # 16x8: 32 bricks
    assert rates["mm_wide"].cycles_per_product == 2    # 8x12 -> 8x16
