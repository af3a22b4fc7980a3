"""Transposed convolutions in the simulator: the col2im GEMM (accelsim/lower/gemm.py)."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.lower.gemm import lower_layer
from accelsim.simulate import simulate
from accelsim.spec.arch import TimingModel
from accelsim.spec.load import arch_from_dict, network_from_dict
from accelsim.spec.workload import ConvTranspose2d, Layer, Network

ARCH = {"name": "t", "array": {"rows": 4, "cols": 4, "dataflow": "ws"},
        "buffers": {"unified": {"size": "64MiB"}}}  # no DRAM bandwidth: cycles = compute cycles


def _up(**kw) -> dict:
    layer = {"op": "conv_transpose2d", "name": "up", "in_channels": 2, "out_channels": 3, "in_h": 2, "in_w": 2,
             "kernel": 2, "stride": 2}
    return {"name": "n", "layers": [{**layer, **kw}]}


@settings(deadline=None, max_examples=60)
@given(batch=st.integers(1, 3), groups=st.integers(1, 3), cin=st.integers(1, 4), cout=st.integers(1, 4),
       h=st.integers(1, 6), w=st.integers(1, 6), kh=st.integers(1, 4), kw=st.integers(1, 4),
       sh=st.integers(1, 3), sw=st.integers(1, 3), timing=st.sampled_from(list(TimingModel)))
def test_col2im_gemm_conserves_the_layers_macs(batch, groups, cin, cout, h, w, kh, kw, sh, sw, timing):
    """Every input value meets every weight of its group once: batch*H*W*Cin*Cout/groups*kh*kw."""
    layer = ConvTranspose2d(name="t", batch=batch, in_channels=cin * groups, out_channels=cout * groups,
                            in_h=h, in_w=w, kernel=(kh, kw), stride=(sh, sw), groups=groups)
    problem = lower_layer(layer, timing)
    want = batch * h * w * (cin * groups) * cout * kh * kw
    assert problem.macs == layer.macs == want
    assert problem.ifmap_words * problem.repeats == layer.input_elements


@pytest.mark.parametrize("dataflow, groups, cycles", [
    # M = 1*2*2 = 4 input pixels, K = 2 input channels, N = 3 channels * 2*2 taps = 12, per group.
    # ws: Sr = K = 2 (r = 2), Sc = N = 12 (3 column folds of c = 4), T = M = 4;
    #     each fold r + T + R + c - 2 = 2 + 4 + 4 + 4 - 2 = 12: 36 cycles per group.
    ("ws", 1, 36), ("ws", 2, 72),
    # os: Sr = M = 4, Sc = N = 12 (3 folds of 4x4), T = K = 2: T + r + c - 2 + R = 12 each: 36.
    ("os", 1, 36),
    # is: Sr = K = 2, Sc = M = 4 (1 fold), T = N = 12: r + T + R + c - 2 = 2 + 12 + 4 + 4 - 2 = 20.
    ("is", 1, 20),
])
@pytest.mark.parametrize("fidelity", ["fold", "cycle", "pe"])
def test_cycles_by_hand(dataflow, groups, cycles, fidelity):
    arch = arch_from_dict({**ARCH, "array": {**ARCH["array"], "dataflow": dataflow}})
    net = network_from_dict(_up(in_channels=2 * groups, out_channels=3 * groups, groups=groups))
    res = simulate(arch, net, fidelity)
    row = res.layers.iloc[0]
    assert bool(row["costed"])
    assert int(row["cycles"]) == cycles
    assert int(row["macs"]) == 2 * 2 * (2 * groups) * 3 * 2 * 2


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Unknown(Layer):
    """A layer kind no hardware model knows (neither array nor vector work)."""

    @property
    def input_elements(self) -> int:
        return 1

    @property
    def output_elements(self) -> int:
        return 1


@pytest.mark.parametrize("fidelity", ["fold", "cycle", "pe"])
def test_layers_no_model_costs_are_marked_not_raised(fidelity):
    arch = arch_from_dict({**ARCH, "vector_unit": {"lanes": 4}})
    conv = network_from_dict(_up()).layers[0]
    net = Network(name="n", layers=(conv, _Unknown(name="mystery", op=conv.op)))
    res = simulate(arch, net, fidelity)
    assert res.layers["costed"].tolist() == [True, False]
    assert res.layers["cycles"].isna().tolist() == [False, True]
    assert res.cycles == int(res.layers["cycles"].iloc[0])
