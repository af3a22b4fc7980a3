"""Compression schemes: rule order, validation messages, masks, channel pruning through the network."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.cli import main
from accelsim.compress.masks import load_mask
from accelsim.compress.scheme import apply_scheme, load_scheme, scheme_from_dict
from accelsim.errors import ConfigError, WorkloadError
from accelsim.spec.load import network_from_dict, save_workload
from accelsim.frontend.load import load_workload

MIXED = {"name": "mixed", "rules": [
    {"weight_bits": 8, "act_bits": 8},
    {"match": {"op": ["conv2d"]}, "weight_bits": 4, "sparsity": {"pattern": "2:4"}},
    {"match": {"name": ["conv1", "fc*"]}, "weight_bits": 6},
    {"match": {"op": "softmax"}, "act_bits": 16},
]}


def test_last_matching_rule_wins_per_key(root):
    net = apply_scheme(load_workload(root / "workloads" / "tiny_cnn.yaml"), scheme_from_dict(MIXED))
    c = {layer.name: layer.compression for layer in net.layers}
    assert (c["conv1"].weight_bits, c["conv1"].sparsity.pattern) == (6, "2:4")  # rule 3 bits, rule 2 sparsity
    assert (c["conv2"].weight_bits, c["conv2"].sparsity.pattern) == (4, "2:4")
    assert (c["fc"].weight_bits, c["fc"].sparsity.pattern) == (6, "dense")
    assert c["softmax"].act_bits == 16 and c["relu1"].act_bits == 8
    assert net.name == "tiny-cnn+mixed"


def test_matmul_operands_take_act_bits(root):
    net = load_workload(root / "workloads" / "bert_base.yaml")
    out = apply_scheme(net, scheme_from_dict({"rules": [{"act_bits": 4, "weight_bits": 2}]}))
    qk = next(layer for layer in out.layers if layer.name.endswith(".qk"))
    query = next(layer for layer in out.layers if layer.name.endswith(".self.query"))
    assert (qk.compression.weight_bits, qk.compression.act_bits) == (4, 4)
    assert (query.compression.weight_bits, query.compression.act_bits) == (2, 4)


def test_scheme_errors_name_file_and_key(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("rules:\n  - {weight_bit: 4}\n  - match: {op: conv3d}\n    act_bits: 0\n"
                    "  - {sparsity: {pattern: unstructured}}\n")
    with pytest.raises(ConfigError) as info:
        load_scheme(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    for text in ("rules[0].weight_bit", "did you mean 'weight_bits'", "rules[1].match.op[0]", "rules[1].act_bits",
                 "rules[2].sparsity.density"):
        assert text in message
    assert main(["validate", str(path)]) == 2


def test_shipped_schemes_validate_and_apply(root, capsys):
    schemes = sorted((root / "workloads" / "schemes").glob("*.yaml"))
    assert {p.stem for p in schemes} >= {"int8", "int4", "sparse24", "unstructured50", "int4_sparse24"}
    assert main(["validate", *map(str, schemes)]) == 0
    net = load_workload(root / "workloads" / "mobilenet_v2.yaml")
    for path in schemes:
        out = apply_scheme(net, load_scheme(path))
        assert out.macs == net.macs and len(out.layers) == len(net.layers)
    both = apply_scheme(net, load_scheme(root / "workloads" / "schemes" / "int4_sparse24.yaml"))
    conv = next(layer for layer in both.layers if layer.name == "features.1.conv.1")
    assert (conv.compression.weight_bits, conv.compression.weight_density) == (4, 0.5)


def test_masks_saved_referenced_and_round_trip(root, tmp_path):
    net = load_workload(root / "workloads" / "resnet18.yaml")
    scheme = load_scheme(root / "workloads" / "schemes" / "int4_sparse24.yaml")
    out = apply_scheme(net, scheme, mask_dir=tmp_path / "masks")
    weighted = [layer for layer in out.layers if layer.weight_shape]
    assert len(weighted) == 21  # 20 convs (incl. 3 shortcuts) and the classifier
    for layer in weighted:
        mask = load_mask(layer)
        groups = np.moveaxis(mask, 1, -1).reshape(mask.shape[0], -1) if mask.ndim == 4 else mask.T
        tail = groups.shape[1] % 4
        full = groups[:, : groups.shape[1] - tail].reshape(groups.shape[0], -1, 4)
        assert (full.sum(axis=2) == 2).all()  # exactly 2 of every 4 along the reduction
        assert layer.compression.weight_density == mask.mean()
    save_workload(out, tmp_path / "net.yaml")
    assert load_workload(tmp_path / "net.yaml") == out
    again = apply_scheme(net, scheme, mask_dir=tmp_path / "again")
    assert all((load_mask(a) == load_mask(b)).all() for a, b in zip(out.layers, again.layers) if a.weight_shape)


def test_real_weights_drive_magnitude_masks(root, tmp_path):
    net = network_from_dict({"name": "n", "layers": [{"op": "gemm", "name": "fc", "m": 1, "n": 2, "k": 4}]})
    weights = np.array([[1.0, -8.0], [4.0, 0.5], [-3.0, 2.0], [0.1, 9.0]])  # [k, n]
    scheme = scheme_from_dict({"rules": [{"sparsity": {"pattern": "2:4"}, "masks": {}}]})
    (layer,) = apply_scheme(net, scheme, weights={"fc": weights}, mask_dir=tmp_path).layers
    # column 0: |1, 4, 3, 0.1| keeps 4 and 3; column 1: |8, 0.5, 2, 9| keeps 8 and 9
    assert load_mask(layer).tolist() == [[False, True], [True, False], [True, False], [False, True]]


def channel_scheme(names, density=0.5):
    return scheme_from_dict({"rules": [{"match": {"name": names}, "sparsity": {"pattern": "channel",
                                                                                 "density": density}}]})


def test_channel_pruning_resizes_the_readers(root):
    net = load_workload(root / "workloads" / "tiny_cnn.yaml")
    out = {layer.name: layer for layer in apply_scheme(net, channel_scheme(["conv1", "conv2", "conv3_pw"])).layers}
    assert out["conv1"].out_channels == 8 and out["relu1"].shape == (8, 32, 32) and out["pool1"].channels == 8
    assert (out["conv2"].in_channels, out["conv2"].out_channels) == (8, 16)
    dw = out["conv3_dw"]
    assert (dw.in_channels, dw.out_channels, dw.groups) == (16, 16, 16)
    assert (out["conv3_pw"].in_channels, out["conv3_pw"].out_channels) == (16, 32)
    assert out["fc"].k == 32 * 8 * 8 and out["conv3_pw"].compression.sparsity.pattern == "dense"
    # by hand: conv1 8x32x32x27, conv2 16x16... (stride 2: 8x8 out) x 8x9, dw 16x8x8x9, pw 32x64x16, fc 10x2048
    assert sum(layer.macs for layer in out.values()) == (8 * 32 * 32 * 27 + 16 * 8 * 8 * 72 + 16 * 8 * 8 * 9
                                                         + 32 * 64 * 16 + 10 * 2048)


def test_channel_pruning_stops_at_a_residual_add(root):
    net = load_workload(root / "workloads" / "resnet18.yaml")
    inner = apply_scheme(net, channel_scheme(["layer1.*.conv1"]))
    conv2 = next(layer for layer in inner.layers if layer.name == "layer1.0.conv2")
    assert conv2.in_channels == 32 and inner.macs < net.macs
    with pytest.raises(WorkloadError, match="layer1.0.add"):
        apply_scheme(net, channel_scheme(["layer1.0.conv2"]))
