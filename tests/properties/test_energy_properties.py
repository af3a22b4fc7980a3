"""Energy is linear in the counts and the total is the sum of its components."""

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.cost import layer_energy
from accelsim.frontend.load import load_arch

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]
ARCHS = {name: load_arch(ROOT / "arch_configs" / f"{name}.yaml")
         for name in ("tpu_v1_like", "eyeriss_like", "bitfusion_like", "bit_serial_like", "edge_32x32")}
COUNTS = ("macs", "cycles", "ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes", "ofmap_sram_reads",
          "dram_read_bytes", "dram_write_bytes")
BITS = {"tpu_v1_like": [2, 4, 8], "eyeriss_like": [4, 8, 16], "bitfusion_like": [2, 4, 8, 16],
        "bit_serial_like": [1, 4, 16], "edge_32x32": [4, 8, 16]}


@st.composite
def layers(draw):
    name = draw(st.sampled_from(sorted(ARCHS)))
    n = draw(st.integers(1, 4))
    columns = {c: draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)) for c in COUNTS}
    columns["weight_bits"] = draw(st.lists(st.sampled_from(BITS[name]), min_size=n, max_size=n))
    columns["act_bits"] = draw(st.lists(st.sampled_from(BITS[name]), min_size=n, max_size=n))
    return name, pd.DataFrame(columns)


@settings(deadline=None, max_examples=25)
@given(case=layers(), k=st.integers(2, 5))
def test_scaling_every_count_scales_every_component(case, k):
    name, frame = case
    scaled = frame.copy()
    scaled[list(COUNTS)] *= k
    base, more = layer_energy(frame, ARCHS[name]), layer_energy(scaled, ARCHS[name])
    assert (more.to_numpy() == pytest.approx(k * base.to_numpy(), rel=1e-9, abs=1e-6))


@settings(deadline=None, max_examples=25)
@given(case=layers())
def test_total_is_the_sum_of_nonnegative_components_and_rows_are_independent(case):
    name, frame = case
    got = layer_energy(frame, ARCHS[name])
    parts = got.drop(columns="energy_pj")
    assert (parts >= 0).all().all()
    assert got["energy_pj"].to_numpy() == pytest.approx(parts.sum(axis=1).to_numpy(), rel=1e-12)
    one = layer_energy(frame.iloc[[0]], ARCHS[name])
    assert one.iloc[0].to_numpy() == pytest.approx(got.iloc[0].to_numpy(), rel=1e-12)
