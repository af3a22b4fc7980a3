"""Cycle accounting that adds up (docs/timing_models.md, "Cycle accounting"), on every shipped
arch x zoo network x fidelity: per costed layer ``cycles == compute_cycles + stall_cycles +
dispatch_cycles``, every term >= 0 (so ``0 <= stall_cycles <= cycles``), the utilizations in
[0, 1] and never NaN; the summary is the sum of its layers with the same identity.

``fold`` runs every pair; ``cycle`` and ``pe`` step every cycle, so they run tiny_cnn and the
first layers of each network here, and every whole network under ``-m slow``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

import accelsim as ax
from accelsim.errors import UnsupportedError
from accelsim.spec.arch import TimingModel, parse_duration
from accelsim.spec.workload import Network

ROOT = Path(__file__).resolve().parents[2]
ARCHS = sorted(p.stem for p in ROOT.glob("arch_configs/*.yaml"))
NETWORKS = sorted(p.stem for p in ROOT.glob("workloads/*.yaml"))
RATIOS = ("utilization", "compute_utilization", "mapping_efficiency")
TERMS = ("cycles", "compute_cycles", "stall_cycles", "dispatch_cycles", "hidden_cycles")


def arch_of(name: str):
    return ax.load_arch(ROOT / "arch_configs" / f"{name}.yaml")


def network_of(name: str, layers: int | None = None) -> Network:
    net = ax.load_workload(ROOT / "workloads" / f"{name}.yaml")
    return net if layers is None else dataclasses.replace(net, layers=net.layers[:layers])


def check_accounting(result) -> None:
    layers, summary = result.layers, result.summary.iloc[0]
    rows = layers[layers["costed"]]
    assert len(rows), "nothing costed"
    terms = {name: rows[name].to_numpy(dtype=np.int64) if name in rows else np.zeros(len(rows), np.int64)
             for name in TERMS}
    for name, values in terms.items():
        assert (values >= 0).all(), f"negative {name} in {rows['layer'][values < 0].tolist()}"
    np.testing.assert_array_equal(terms["cycles"],
                                  terms["compute_cycles"] + terms["stall_cycles"] + terms["dispatch_cycles"])
    assert (terms["stall_cycles"] <= terms["cycles"]).all()
    for name in RATIOS:
        values = rows[name].to_numpy(dtype=np.float64)
        assert not np.isnan(values).any(), f"NaN {name}"
        assert ((values >= 0) & (values <= 1 + 1e-12)).all(), f"{name} outside [0, 1]: {values.max()}"
        assert 0 <= summary[name] <= 1 + 1e-12, f"summary {name} = {summary[name]}"
    for name in ("cycles", "compute_cycles", "stall_cycles", "dispatch_cycles"):
        assert summary[name] == terms[name].sum()
    assert summary["cycles"] == summary["compute_cycles"] + summary["stall_cycles"] + summary["dispatch_cycles"]
    assert result.cycles == terms["cycles"].sum()


def simulate_or_skip(arch, net, fidelity):
    try:
        return ax.simulate(arch, net, fidelity)
    except UnsupportedError as error:  # e.g. cycle/pe step native timing only
        pytest.skip(str(error))


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("arch", ARCHS)
def test_fold_accounting_adds_up(arch, network):
    check_accounting(simulate_or_skip(arch_of(arch), network_of(network), "fold"))


@pytest.mark.parametrize("fidelity", ["cycle", "pe"])
@pytest.mark.parametrize("arch", ARCHS)
def test_stepped_accounting_adds_up_on_tiny_cnn(arch, fidelity):
    check_accounting(simulate_or_skip(arch_of(arch), network_of("tiny_cnn"), fidelity))


@pytest.mark.parametrize("network", [n for n in NETWORKS if n != "tiny_cnn"])
@pytest.mark.parametrize("arch", ["edge_32x32", "tpu_v1_like"])
def test_cycle_accounting_adds_up_on_first_layers(arch, network):
    """The first three layers: an array layer and the vector layers it feeds (hidden or not)."""
    check_accounting(simulate_or_skip(arch_of(arch), network_of(network, 3), "cycle"))


@pytest.mark.slow
@pytest.mark.parametrize("fidelity", ["cycle", "pe"])
@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("arch", ARCHS)
def test_stepped_accounting_adds_up_on_every_network(arch, network, fidelity):
    check_accounting(simulate_or_skip(arch_of(arch), network_of(network), fidelity))


@pytest.mark.parametrize("pipelined", [False, True])
def test_hidden_cycles_are_the_layer_time_that_left_the_total(pipelined):
    """A vector layer's own time (its cycles on a unit that is not pipelined) is split into what it
    adds to the total and what runs under the array: ``cycles + hidden_cycles`` equals it."""
    arch = arch_of("tpu_v1_like")
    serial = dataclasses.replace(arch, vector_unit=dataclasses.replace(arch.vector_unit, pipelined_with_array=False))
    chosen = dataclasses.replace(arch, vector_unit=dataclasses.replace(arch.vector_unit,
                                                                       pipelined_with_array=pipelined))
    net = network_of("resnet50")
    own = ax.simulate(serial, net).layers
    layers = ax.simulate(chosen, net).layers
    np.testing.assert_array_equal(layers["cycles"] + layers["hidden_cycles"], own["cycles"])
    assert (layers["hidden_cycles"] > 0).any() == pipelined
    assert (own["hidden_cycles"] == 0).all()


def test_dispatch_overhead_is_paid_once_per_launched_layer():
    """1.1 us at 700 MHz is 770 cycles; every array layer pays it, a vector layer on the pipelined
    unit runs inside its producer's launch, one on a serial unit is launched on its own."""
    arch = arch_of("tpu_v1_like")
    net = network_of("resnet18")
    slow = dataclasses.replace(arch, dispatch_overhead=parse_duration("1.1us"))
    base, paid = ax.simulate(arch, net).layers, ax.simulate(slow, net).layers
    array = base["op"].isin(["conv2d", "gemm", "matmul"]).to_numpy()
    assert array.sum() == 21  # ResNet-18: 20 convs and the classifier
    np.testing.assert_array_equal(paid["dispatch_cycles"], np.where(array, 770, 0))
    np.testing.assert_array_equal(paid["cycles"] - paid["dispatch_cycles"], base["cycles"])
    serial = dataclasses.replace(slow, vector_unit=dataclasses.replace(arch.vector_unit, pipelined_with_array=False))
    assert (ax.simulate(serial, net).layers["dispatch_cycles"] == 770).all()
    check_accounting(ax.simulate(slow, net))


def test_dispatch_overhead_in_cycles_from_yaml(tmp_path):
    text = (ROOT / "arch_configs" / "edge_32x32.yaml").read_text() + "\ndispatch_overhead: 500cycles\n"
    (tmp_path / "arch.yaml").write_text(text)
    arch = ax.load_arch(tmp_path / "arch.yaml")
    assert arch.dispatch_cycles == 500
    assert arch_of("edge_32x32").dispatch_cycles == 0
    assert arch.timing_model is TimingModel.NATIVE
