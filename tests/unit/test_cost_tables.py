"""Published figures the cost tables must reproduce: Horowitz 45 nm arithmetic, CACTI 7 SRAM,
Stillmaker-Baas scaling. Every expected number is written out here from REFERENCES.md."""

import math

import pytest

from accelsim.cost import scaling, sram
from accelsim.cost.arith import fp_adder, fp_multiplier, int_adder, int_multiplier
from accelsim.cost.sram import macro_area_mm2, sram_cost
from accelsim.cost.tables import fit_power_law, load_table


@pytest.mark.parametrize("unit, pj, um2", [
    (lambda: int_multiplier(8 * 8), 0.2, 282),
    (lambda: int_multiplier(32 * 32), 3.1, 3495),
    (lambda: fp_multiplier("fp16"), 1.1, 1640),
    (lambda: fp_multiplier("fp32"), 3.7, 7700),
    (lambda: fp_adder(16), 0.4, 1360),
    (lambda: fp_adder(32), 0.9, 4184),
])
def test_two_point_fits_hit_horowitz_exactly(unit, pj, um2):
    got = unit()
    assert got.energy_pj == pytest.approx(pj, rel=1e-9)
    assert got.area_um2 == pytest.approx(um2, rel=1e-9)


@pytest.mark.parametrize("bits, pj, um2", [(8, 0.03, 36), (16, 0.05, 67), (32, 0.1, 137)])
def test_adder_fit_within_10_percent_of_horowitz(bits, pj, um2):
    """Three points, one power law: the fit is approximate (6% off at 16 bits)."""
    got = int_adder(bits)
    assert got.energy_pj == pytest.approx(pj, rel=0.10)
    assert got.area_um2 == pytest.approx(um2, rel=0.10)


def test_multiplier_energy_grows_with_product_of_widths():
    """Horowitz: roughly the product of operand widths, so 16x16 is about 4x an 8x8."""
    assert int_multiplier(16 * 16).energy_pj / int_multiplier(8 * 8).energy_pj == pytest.approx(4, rel=0.05)


def test_power_law_fit_is_exact_for_a_true_power_law():
    law = fit_power_law([1, 2, 8], [3.0, 3.0 * 2**0.5, 3.0 * 8**0.5])
    assert law.coefficient == pytest.approx(3.0) and law.exponent == pytest.approx(0.5)


@pytest.mark.parametrize("kib, cacti_read, cacti_write, horowitz_read, cacti_mm2", [
    (8, 7.5, 9.2, 10, 0.060), (32, 21.2, 18.1, 20, 0.213), (1024, 113, 96.6, 100, 7.02),
])
def test_sram_within_the_cacti_horowitz_band(kib, cacti_read, cacti_write, horowitz_read, cacti_mm2):
    """64-bit access, 1 bank, 2 ports at 45 nm: within 25% of CACTI 7 and of Horowitz."""
    cost = sram_cost(kib * 1024, word_bits=64)
    assert cost.read_pj == pytest.approx(cacti_read, rel=0.25)
    assert cost.read_pj == pytest.approx(horowitz_read, rel=0.25)
    assert cost.write_pj == pytest.approx(cacti_write, rel=0.25)
    assert cost.area_um2 / 1e6 == pytest.approx(cacti_mm2, rel=0.25)


def test_sram_energy_grows_about_as_the_square_root_of_capacity():
    ratio = sram_cost(1024 * 1024, 64).read_pj / sram_cost(4 * 1024, 64).read_pj
    assert 256**0.4 < ratio < 256**0.65


def test_banking_lowers_energy_per_access_and_adds_area():
    one, four = sram_cost(64 * 1024, 64, banks=1), sram_cost(64 * 1024, 64, banks=4)
    assert four.read_pj < one.read_pj and four.write_pj < one.write_pj
    assert four.area_um2 > one.area_um2


def test_energy_is_proportional_to_word_width_and_ports_cost_energy_and_area():
    assert sram_cost(32768, 32).read_pj * 2 == pytest.approx(sram_cost(32768, 64).read_pj)
    two, four = sram_cost(32768, 64, ports=2), sram_cost(32768, 64, ports=4)
    assert four.read_pj > two.read_pj and four.area_um2 > two.area_um2
    # area grows with the square of the cell side, energy with the side
    assert four.area_um2 / two.area_um2 == pytest.approx((four.read_pj / two.read_pj) ** 2)


def test_leakage_is_proportional_to_bits_stored():
    assert sram_cost(2048, 8).leakage_uw == pytest.approx(2 * sram_cost(1024, 8).leakage_uw)


def test_every_table_entry_names_its_source():
    for name in ("arithmetic_45nm", "dram"):
        for key, entry in load_table(name).items():
            assert not isinstance(entry, dict) or entry.get("source"), (name, key)
    for name in ("sram_cacti7_45nm", "technology_scaling"):
        assert load_table(name)["source"]
    sram = load_table("sram_cacti7_45nm")
    assert sram["leakage"]["source"] and sram["ports"]["source"]


def test_scaling_is_identity_at_the_same_node_and_transitive():
    assert scaling.energy_factor(28, 28) == 1.0 and scaling.area_factor(45, 45) == 1.0
    for f in (scaling.energy_factor, scaling.area_factor):
        assert f(45, 28) * f(28, 7) == pytest.approx(f(45, 7))
        assert f(65, 16) == pytest.approx(1 / f(16, 65))


def test_scaling_matches_stillmaker_area_row_and_shrinks_monotonically():
    # Stillmaker and Baas 2017, area factor from 45 nm: 65 nm 1.5x, 32 nm 0.46x, 7 nm 0.059x
    assert scaling.area_factor(45, 65) == pytest.approx(1.5)
    assert scaling.area_factor(45, 32) == pytest.approx(0.46)
    assert scaling.area_factor(45, 7) == pytest.approx(0.059)
    table = scaling.scaling_table()
    assert table["energy_vs_45nm"].is_monotonic_decreasing and table["area_vs_45nm"].is_monotonic_decreasing


def test_interpolated_node_lies_between_its_neighbours():
    assert scaling.energy_factor(45, 20) < scaling.energy_factor(45, 28) < scaling.energy_factor(45, 32)
    # log-log interpolation: 28 nm sits at log(28/32)/log(20/32) of the way from 32 to 20
    t = math.log(28 / 32) / math.log(20 / 32)
    want = math.exp((1 - t) * math.log(scaling.area_factor(45, 32)) + t * math.log(scaling.area_factor(45, 20)))
    assert scaling.area_factor(45, 28) == pytest.approx(want)


def test_node_outside_the_table_is_refused():
    from accelsim.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="5 nm is outside"):
        scaling.energy_factor(45, 5)


# CACTI 7 at 45 nm, one macro with a 64-bit port (tables/sram_cacti7_45nm.yaml, area_points)
CACTI_MACRO_MM2 = {0.5: 0.00517088, 2: 0.0179156, 8: 0.0601444, 32: 0.212804, 128: 0.961341,
                   1024: 7.01975, 4096: 27.6309, 16384: 104.277}


@pytest.mark.parametrize("kib", sorted(CACTI_MACRO_MM2))
def test_sram_macro_area_hits_every_cacti_point(kib):
    assert macro_area_mm2(kib) == pytest.approx(CACTI_MACRO_MM2[kib], rel=1e-12)
    assert sram_cost(int(kib * 1024), 64).area_um2 == pytest.approx(CACTI_MACRO_MM2[kib] * 1e6, rel=1e-12)


def test_sram_macro_area_interpolates_in_log_log_and_extends_the_end_segments():
    # 4 KiB is halfway between 2 and 8 KiB in log capacity: the geometric mean of their areas
    assert macro_area_mm2(4) == pytest.approx(math.sqrt(0.0179156 * 0.0601444))
    # below 512 B: the 512 B - 2 KiB segment's slope
    slope = math.log(0.0179156 / 0.00517088) / math.log(4)
    assert macro_area_mm2(0.125) == pytest.approx(0.00517088 * 0.25**slope)


def test_a_wide_port_is_built_of_64_bit_macros():
    """4 MiB moving 8192 bits per access: 128 macros of 32 KiB (the CACTI 32 KiB point each)."""
    cost = sram_cost(4 * 1024 * 1024, 32, bank_port_bits=8192)
    assert cost.macros == 128
    assert cost.area_um2 == pytest.approx(128 * 0.212804e6)
    narrow = sram_cost(4 * 1024 * 1024, 32)
    assert narrow.macros == 1 and narrow.area_um2 == pytest.approx(27.6309e6)
    assert cost.read_pj == narrow.read_pj  # the port width prices area, not energy per word


@pytest.mark.parametrize("node, cacti_mm2", [(90, 28.0816), (65, 14.6478), (32, 3.55041), (28, 2.71738), (22, 1.75809)])
def test_sram_area_factor_is_cactis_own_area_at_the_node(node, cacti_mm2):
    """CACTI 7, 1 MiB macro, same configuration at each node, over 7.01975 mm2 at 45 nm."""
    assert scaling.sram_area_factor(45, node) == pytest.approx(cacti_mm2 / 7.01975, rel=1e-4)


def test_sram_area_factor_below_cactis_range_follows_published_bit_cells():
    """TSMC high-density 6T cells: 28 nm 0.127, 16 nm 0.07, 7 nm 0.027 um2; 130 nm: (130/45)^2."""
    at28 = 2.71738 / 7.01975
    assert scaling.sram_area_factor(45, 16) == pytest.approx(at28 * 0.07 / 0.127, rel=1e-4)
    assert scaling.sram_area_factor(45, 7) == pytest.approx(at28 * 0.027 / 0.127, rel=1e-4)
    assert scaling.sram_area_factor(45, 130) == pytest.approx((130 / 45) ** 2, rel=1e-4)
    t = math.log(40 / 45) / math.log(32 / 45)  # 40 nm: log-log between 45 and 32 nm
    assert scaling.sram_area_factor(45, 40) == pytest.approx(math.exp(t * math.log(3.55041 / 7.01975)), rel=1e-4)


# CACTI 7, same configuration, at the other nodes it models (tables/sram_cacti7_45nm.yaml, area_points_by_node)
CACTI_BY_NODE_MM2 = {
    65: {0.5: 0.0108304, 2: 0.0375387, 8: 0.128324, 32: 0.44405, 128: 1.79753, 1024: 14.6478},
    28: {0.5: 0.00200581, 2: 0.00695606, 8: 0.0237724, 32: 0.0962695, 128: 0.372163, 1024: 2.71738},
}


@pytest.mark.parametrize("node", sorted(CACTI_BY_NODE_MM2))
def test_sram_area_factor_of_a_macro_is_cactis_own_run_at_the_node(node):
    for kib, mm2 in CACTI_BY_NODE_MM2[node].items():
        assert sram.area_factor(node, kib) == pytest.approx(mm2 / CACTI_MACRO_MM2[kib], rel=1e-4)
        assert sram.macro_area_mm2(kib, node) == pytest.approx(mm2, rel=1e-12)


def test_sram_area_factor_of_a_macro_outside_cactis_nodes():
    """16 nm: the 1 MiB factor (28 nm x TSMC 0.07 / 0.127 um2 cells) times CACTI's 28 nm size
    dependence; 130 nm: the cell rule at every capacity; 40 nm: log-log between 45 and 32 nm."""
    at28_32k = (0.0962695 / 2.71738) / (0.212804 / 7.01975)
    assert sram.area_factor(16, 32) == pytest.approx(2.71738 / 7.01975 * 0.07 / 0.127 * at28_32k, rel=1e-4)
    assert sram.area_factor(130, 32) == pytest.approx((130 / 45) ** 2, rel=1e-4)
    t = math.log(40 / 45) / math.log(32 / 45)
    assert sram.area_factor(40, 32) == pytest.approx(math.exp(t * math.log(0.125839 / 0.212804)), rel=1e-4)
    assert sram.area_factor(28, 1024) == pytest.approx(scaling.sram_area_factor(45, 28), rel=1e-12)


@pytest.mark.parametrize("node", [32, 28, 22, 16, 14, 10, 7])
def test_sram_shrinks_less_than_logic_below_45_nm(node):
    assert scaling.sram_area_factor(45, node) > scaling.area_factor(45, node)
