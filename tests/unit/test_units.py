import pytest
from hypothesis import given, strategies as st

from accelsim import units


@pytest.mark.parametrize("text, expected", [
    ("64KiB", 65536), ("24MiB", 24 * 2**20), ("1kB", 1000), ("2MB", 2_000_000), ("4096", 4096),
    (4096, 4096), ("0.5KiB", 512), ("1GiB", 2**30), ("108 KiB", 108 * 1024),
])
def test_parse_bytes(text, expected):
    assert units.parse_bytes(text) == expected


@pytest.mark.parametrize("text", ["64Kib", "64 furlongs", "", "1.5B", True, None, [1]])
def test_parse_bytes_rejects(text):
    with pytest.raises(ValueError, match="expected"):
        units.parse_bytes(text)


@pytest.mark.parametrize("text, expected", [("700MHz", 7e8), ("1GHz", 1e9), ("250kHz", 2.5e5), (100, 100.0)])
def test_parse_frequency(text, expected):
    assert units.parse_frequency(text) == expected


def test_bandwidth_per_second_and_per_cycle():
    assert units.parse_bandwidth("34GB/s").bytes_per_cycle(700e6) == pytest.approx(34e9 / 700e6)
    assert units.parse_bandwidth("16B/cycle").bytes_per_cycle(1e9) == 16
    assert units.parse_bandwidth(10).bytes_per_cycle(5e8) == 10
    assert units.parse_bandwidth("1GiB/s").bytes_per_cycle(1.0) == 2**30
    for bad in ("34GB/h", "fast", "10GHz"):
        with pytest.raises(ValueError, match="bandwidth"):
            units.parse_bandwidth(bad)


@pytest.mark.parametrize("text, expected", [("0.5pJ", 0.5), ("1.3nJ", 1300.0), ("2", 2.0), ("100fJ", 0.1)])
def test_parse_energy(text, expected):
    assert units.parse_energy_pj(text) == pytest.approx(expected)


def test_parse_area_and_cycles_and_length():
    assert units.parse_area_um2("0.06mm2") == pytest.approx(60000)
    assert units.parse_cycles("100cycles") == 100
    assert units.parse_length_nm("28nm") == 28
    with pytest.raises(ValueError):
        units.parse_cycles("1.5")


@given(st.integers(min_value=0, max_value=2**50))
def test_bytes_round_trip_through_text(size):
    assert units.parse_bytes(f"{size}B") == size
    assert units.parse_bytes(str(size)) == size


@given(st.floats(min_value=1e-3, max_value=1e12, allow_nan=False))
def test_bandwidth_round_trip(value):
    for per_cycle in (True, False):
        bw = units.Bandwidth(value, per_cycle)
        assert units.parse_bandwidth(bw.to_plain()) == bw
