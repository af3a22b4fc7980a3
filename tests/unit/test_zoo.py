"""The model zoo against published MAC and parameter counts, and its files against the builders.

Sources of the published figures:
* torchvision model documentation / weight metadata (``num_params`` exact, ``_ops`` = GFLOPS,
  which torchvision counts as multiply-accumulates, rounded as printed):
  resnet18 11,689,512 / 1.814; resnet50 25,557,032 / 4.09 (4.089); mobilenet_v2 3,504,872 / 0.301;
  vgg16 138,357,544 / 15.47; alexnet 61,100,840 / 0.714; vit_b_16 86,567,656 / 17.564
  (https://pytorch.org/vision/stable/models.html).
* BERT-base: 110M parameters (Devlin et al., NAACL 2019, section 3); Hugging Face
  ``bert-base-uncased`` has 109,482,240.
* GPT-2 small: 124M parameters (OpenAI's released "124M" model; Hugging Face ``gpt2``:
  124,439,808).
* Transformer MACs: Kaplan et al., "Scaling Laws for Neural Language Models", arXiv 2001.08361,
  Table 1: forward FLOPs per token 2N + 2 n_layer n_ctx d_attn with N = 2 d_model n_layer
  (2 d_attn + d_ff) (the weight matrices; biases and norms excluded) and the second term the
  QK^T logits (their table has no AV term; AV has the same MACs as QK^T); de-embedding
  2 d_model n_vocab. MACs are FLOPs / 2.
"""

from __future__ import annotations

import re

import pytest
import yaml

from accelsim.frontend.zoo import ZOO, to_yaml
from accelsim.spec.load import network_from_dict, save_workload
from accelsim.frontend.load import load_workload
from accelsim.spec.workload import Gemm, MatMul, Op

PUBLISHED = {  # name: (parameters, GMACs as printed, half a unit of the last printed digit)
    "resnet18": (11_689_512, 1.814, 0.0005),
    "resnet50": (25_557_032, 4.09, 0.005),
    "mobilenet_v2": (3_504_872, 0.301, 0.0005),
    "vgg16": (138_357_544, 15.47, 0.005),
    "alexnet": (61_100_840, 0.714, 0.0005),
    "vit_b16": (86_567_656, 17.564, 0.0005),
    "bert_base": (109_482_240, None, None),
    "gpt2_prefill512": (124_439_808, None, None),
    "gpt2_decode_kv512": (124_439_808, None, None),
}


@pytest.fixture(scope="module")
def built():
    return {name: build() for name, build in ZOO.items()}


@pytest.mark.parametrize("name", PUBLISHED)
def test_parameters_and_macs_match_published(built, name):
    params, gmacs, tolerance = PUBLISHED[name]
    model = built[name]
    assert model.params == params
    if gmacs is not None:
        assert model.network.macs / 1e9 == pytest.approx(gmacs, abs=tolerance)


def test_devlin_110m_and_gpt2_124m(built):
    assert round(built["bert_base"].params / 1e6) == 109 and built["bert_base"].params / 1e6 == pytest.approx(110, abs=1)
    assert round(built["gpt2_prefill512"].params / 1e6) == 124


@pytest.mark.parametrize("name, tokens, context", [("bert_base", 128, 128), ("gpt2_prefill512", 512, 512),
                                                   ("gpt2_decode_kv512", 1, 513)])
def test_transformer_macs_follow_kaplan(built, name, tokens, context):
    n_layer, d_model, d_attn, d_ff = 12, 768, 768, 3072
    net = built[name].network
    weights = sum(layer.macs for layer in net.layers if isinstance(layer, Gemm) and ".h." in layer.name
                  or isinstance(layer, Gemm) and ".layer." in layer.name)
    n_params = 2 * d_model * n_layer * (2 * d_attn + d_ff)
    assert weights == tokens * n_params
    qk = sum(layer.macs for layer in net.layers if isinstance(layer, MatMul) and layer.name.endswith(".qk"))
    av = sum(layer.macs for layer in net.layers if isinstance(layer, MatMul) and layer.name.endswith(".av"))
    assert qk == av == tokens * n_layer * context * d_attn
    if name.startswith("gpt2"):
        (head,) = [layer for layer in net.layers if layer.name == "lm_head"]
        assert head.macs == tokens * d_model * 50257


def test_transformers_carry_their_vector_work(built):
    ops = [layer.op for layer in built["bert_base"].network.layers]
    assert ops.count(Op.SOFTMAX) == 12 and ops.count(Op.GELU) == 12
    assert ops.count(Op.LAYERNORM) == 1 + 2 * 12 and ops.count(Op.ELTWISE) == 1 + 2 * 12
    gpt = built["gpt2_decode_kv512"].network
    (softmax,) = [layer for layer in gpt.layers if layer.name == "transformer.h.0.attn.softmax"]
    assert softmax.shape == (12, 1, 513)
    resnet = [layer.op for layer in built["resnet50"].network.layers]
    assert resnet.count(Op.ELTWISE) == 16 and resnet.count(Op.POOL) == 2


@pytest.mark.parametrize("name", PUBLISHED)
def test_files_are_up_to_date_and_headers_true(root, built, name):
    path = root / "workloads" / f"{name}.yaml"
    text = path.read_text()
    assert text == to_yaml(built[name]), "regenerate with python -m accelsim.frontend.zoo"
    net = load_workload(path)
    assert net == built[name].network
    macs, params = (int(v.replace(",", "")) for v in re.match(r"# \S+: ([\d,]+) MACs, ([\d,]+) parameters",
                                                               text).groups())
    assert (macs, params) == (net.macs, built[name].params)


@pytest.mark.parametrize("name", PUBLISHED)
def test_save_load_round_trip(tmp_path, built, name):
    net = built[name].network.with_batch(2)
    save_workload(net, tmp_path / "n.yaml")
    again = load_workload(tmp_path / "n.yaml")
    assert again == net and again.macs == 2 * built[name].network.macs
    assert network_from_dict(yaml.safe_load((tmp_path / "n.yaml").read_text())) == net
