"""Loading and validating architecture and workload specs."""

from pathlib import Path

import pytest
import yaml

import accelsim as ax
from accelsim.errors import ConfigError, WorkloadError
from accelsim.spec.arch import Dataflow, TimingModel
from accelsim.spec.load import arch_from_dict, dump_yaml, network_from_dict
from accelsim.spec.workload import Conv2d, Gemm

ROOT = Path(__file__).resolve().parents[2]
ARCHS = sorted((ROOT / "arch_configs").glob("*.yaml"))
WORKLOADS = sorted((ROOT / "workloads").glob("*.yaml"))


@pytest.mark.parametrize("path", ARCHS, ids=lambda p: p.name)
def test_shipped_archs_load_and_round_trip(path):
    arch = ax.load_arch(path)
    assert arch.source, "every shipped config names its source"
    assert arch_from_dict(yaml.safe_load(dump_yaml(arch))) == arch


@pytest.mark.parametrize("path", WORKLOADS, ids=lambda p: p.name)
def test_shipped_workloads_load_and_round_trip(path):
    net = ax.load_workload(path)
    assert network_from_dict(yaml.safe_load(dump_yaml(net))) == net


def test_tpu_like_numbers_from_the_paper():
    arch = ax.load_arch(ROOT / "arch_configs" / "tpu_v1_like.yaml")
    assert (arch.array.rows, arch.array.cols, arch.array.dataflow) == (256, 256, Dataflow.WS)
    assert arch.buffers.unified.size_bytes == 24 * 2**20
    assert arch.array.accumulators_bytes == 4 * 2**20
    assert arch.clock_hz == 700e6
    # 34 GB/s at 700 MHz
    assert arch.dram_bytes_per_cycle() == pytest.approx(34e9 / 700e6)
    # 92 TOPS peak: 2 ops per MAC x 65,536 MACs x 700 MHz
    assert 2 * arch.pes * arch.clock_hz == pytest.approx(91.75e12, rel=1e-3)


def test_conv_shape_arithmetic_by_hand():
    conv = Conv2d(name="c", in_channels=3, out_channels=64, in_h=224, in_w=224, kernel=(7, 7),
                  stride=(2, 2), padding=(3, 3, 3, 3))
    assert (conv.out_h, conv.out_w) == (112, 112)
    assert conv.macs == 64 * 112 * 112 * 3 * 49
    dilated = Conv2d(name="d", in_channels=8, out_channels=8, in_h=10, in_w=12, kernel=(3, 3),
                     dilation=(2, 3), groups=8)
    # span 5 x 7 -> 6 x 6 outputs; depthwise: one input channel per output channel
    assert (dilated.out_h, dilated.out_w) == (6, 6)
    assert dilated.is_depthwise and dilated.macs == 8 * 36 * 9
    asym = Conv2d(name="a", in_channels=1, out_channels=1, in_h=5, in_w=5, kernel=(3, 3), padding=(1, 0, 0, 2))
    assert (asym.out_h, asym.out_w) == (4, 5)


def test_batch_applies_to_every_layer_and_scales_macs():
    data = {"name": "n", "batch": 4, "layers": [{"op": "gemm", "name": "fc", "m": 2, "n": 3, "k": 5}]}
    net = network_from_dict(data)
    assert net.layers[0].batch == 4 and net.macs == 4 * 2 * 3 * 5
    assert net.with_batch(1).macs == 30


def test_nm_pattern_density():
    net = network_from_dict({"name": "n", "layers": [
        {"op": "gemm", "name": "fc", "m": 1, "n": 8, "k": 8, "compression": {"sparsity": {"pattern": "2:8"}}}]})
    sparsity = net.layers[0].compression.sparsity
    assert sparsity.n_m == (2, 8) and sparsity.effective_density == 0.25


def test_problems_are_collected_not_first_only():
    with pytest.raises(ConfigError) as info:
        arch_from_dict({"name": "x", "array": {"rows": -1, "cols": "a", "dataflow": "xx"},
                        "buffers": {"unified": {"size": "1KiB"}}, "colck": 1}, "mine.yaml")
    message = str(info.value)
    assert message.startswith("mine.yaml: 4 problems")
    for key in ("array.rows", "array.cols", "array.dataflow", "colck", "did you mean 'clock'"):
        assert key in message


def test_scalesim_config_maps_to_scalesim_timing():
    arch = ax.load_arch(ROOT / "arch_configs" / "scalesim_32x32_ws.yaml")
    assert arch.timing_model is TimingModel.SCALESIM


def test_scalesim_cfg_user_mode_bandwidths(tmp_path):
    text = """[general]
run_name = r
[architecture_presets]
ArrayHeight: 8
ArrayWidth: 16
IfmapSramSzkB: 2
FilterSramSzkB: 4
OfmapSramSzkB: 1
Bandwidth: 7
Dataflow: is
[layout]
IfmapSRAMBankBandwidth: 3
FilterSRAMBankBandwidth: 5
[run_presets]
InterfaceBandwidth: USER
"""
    path = tmp_path / "r.cfg"
    path.write_text(text)
    arch = ax.load_arch(path)
    assert (arch.array.rows, arch.array.cols, arch.array.dataflow) == (8, 16, Dataflow.IS)
    assert arch.buffers.ifmap.size_bytes == 2048 and arch.buffers.ofmap.size_bytes == 1024
    assert [arch.dram_bytes_per_cycle(op) for op in ("ifmap", "filter", "ofmap")] == [3, 5, 7]


def test_scalesim_topology_formats(tmp_path):
    gemm = tmp_path / "g.csv"
    gemm.write_text("Layer, M, N, K,\nqk, 128, 64, 32,\nfc,1,2,3,2:4,\n")
    net = ax.load_workload(gemm)
    assert isinstance(net.layers[0], Gemm) and (net.layers[0].m, net.layers[0].n, net.layers[0].k) == (128, 64, 32)
    assert net.layers[1].compression.sparsity.n_m == (2, 4)
    conv = tmp_path / "c.csv"
    conv.write_text("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, Num Filter, Strides,\n"
                    "CONV_DP,14,14,3,3,4,1,2,\nc2,14,14,1,1,4,8,2,\n")
    net = ax.load_workload(conv)
    dw, pw = net.layers
    assert dw.groups == 4 and dw.out_channels == 4 and dw.macs == 4 * 6 * 6 * 9
    assert pw.macs == 8 * 7 * 7 * 4  # floor((14-1)/2)+1 = 7


def test_workload_yaml_errors_carry_file_and_path(tmp_path):
    path = tmp_path / "w.yaml"
    path.write_text("name: w\nlayers:\n  - {op: gemm, name: fc, m: 1, n: 1, k: 0}\n")
    with pytest.raises(WorkloadError, match=r"w.yaml: 1 problem\n  layers\[0\].k: expected a value >= 1"):
        ax.load_workload(path)


def test_cached_spec_hashes_stay_structural():
    """Archs, networks and layers keep their hash after the first lookup (``cached_hash``): equal
    specs built apart still hash and compare equal, a changed field makes a different spec, and
    a pickled or copied spec recomputes its hash in the process that loads it (hashes of strings
    differ between processes)."""
    import copy
    import dataclasses
    import pickle

    path = ROOT / "arch_configs" / "edge_32x32.yaml"
    first, second = ax.load_arch(path), ax.load_arch(path)
    net = ax.load_workload(ROOT / "workloads" / "tiny_cnn.yaml")
    layer = net.layers[0]
    for spec, twin in ((first, second), (net, ax.load_workload(ROOT / "workloads" / "tiny_cnn.yaml")),
                       (layer, dataclasses.replace(layer))):
        assert spec is not twin and hash(spec) == hash(twin) and spec == twin
        changed = dataclasses.replace(spec, name=spec.name + "x")
        assert changed != spec and hash(changed) == hash(dataclasses.replace(changed))
        assert "_hash" in vars(spec)  # kept after the first hash
        for clone in (pickle.loads(pickle.dumps(spec)), copy.deepcopy(spec), copy.copy(spec)):
            assert "_hash" not in vars(clone) and clone == spec and hash(clone) == hash(spec)
    assert {first: 1}[second] == 1


def test_a_spec_pickles_while_another_thread_hashes_it_first():
    """A process pool's feeder thread pickles the networks a sweep ships while the sweep's own thread
    may hash one for the first time (adding ``_hash`` to its ``__dict__``): the pickled state is
    taken in one step, so a first hash between two of its fields changes nothing (iterating the
    live ``__dict__`` raised "dictionary changed size during iteration")."""
    import pickle

    net = ax.load_workload(ROOT / "workloads" / "tiny_cnn.yaml")

    class HashedMidway(dict):
        def items(self):  # what iterating the live dict would see: another thread's first hash between two fields
            fields = iter(super().items())
            yield next(fields)
            hash(net)
            yield from fields

    object.__setattr__(net, "__dict__", HashedMidway(vars(net)))
    clone = pickle.loads(pickle.dumps(net))
    assert "_hash" not in vars(clone) and clone == net
