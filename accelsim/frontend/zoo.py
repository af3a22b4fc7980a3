"""The model zoo: builders of well-known networks, written to ``workloads/<name>.yaml``.

``python -m accelsim.frontend.zoo [DIR]`` (re)writes every workload (default ``workloads/``).
Each builder follows the published architecture (torchvision's definitions for the CNNs and
ViT, Hugging Face's for BERT and GPT-2), with layer names in their module style so users find
layers by the names they know. Batch norm is folded into the preceding conv (no layer), its
parameters still counted; dropout and embedding lookups are free; the vector work of
activations, pooling, residual adds, softmax and LayerNorm is listed. Parameter counts include
biases, norms and embeddings (tied GPT-2 embeddings once). Each layer names its
``producers`` where its input is not simply the previous layer's output (residual adds,
attention's Q/K/V, a block's first conv after its downsample), so the network's graph is
explicit for the memory plan (``docs/memory_plan.md``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from accelsim.spec.fields import to_dict
from accelsim.spec.workload import (
    Conv2d, Eltwise, Gemm, Layer, MatMul, Network, Nonlinear, Op, Pool, PoolKind,
)


@dataclass
class _Builder:
    """Appends layers in execution order and counts parameters alongside."""

    layers: list[Layer] = field(default_factory=list)
    params: int = 0

    @property
    def last(self) -> str:
        """Name of the layer appended last (the producer of the next layer's input by default)."""
        return self.layers[-1].name

    def conv(self, name: str, cin: int, cout: int, hw: tuple[int, int], kernel: int, stride: int = 1,
             padding: int = 0, groups: int = 1, bias: bool = False, bn: bool = True,
             act: Op | None = Op.RELU, act_name: str | None = None, producers: tuple[str, ...] = ()) -> tuple[int, int]:
        """A conv (+ folded batch norm) (+ activation); returns the output height and width."""
        layer = Conv2d(name=name, in_channels=cin, out_channels=cout, in_h=hw[0], in_w=hw[1], kernel=(kernel, kernel),
                       stride=(stride, stride), padding=(padding,) * 4, groups=groups, producers=producers)
        self.layers.append(layer)
        self.params += layer.weight_elements + (cout if bias else 0) + (2 * cout if bn else 0)
        if act is not None:
            self.vector(act, act_name or f"{name}.{act.value}", (cout, layer.out_h, layer.out_w))
        return layer.out_h, layer.out_w

    def linear(self, name: str, m: int, k: int, n: int, bias: bool = True, shared: bool = False,
               producers: tuple[str, ...] = ()) -> None:
        """A fully connected layer on ``m`` rows; ``shared`` weights are counted elsewhere (tied)."""
        self.layers.append(Gemm(name=name, m=m, n=n, k=k, producers=producers))
        self.params += 0 if shared else k * n + (n if bias else 0)

    def vector(self, op: Op, name: str, shape: tuple[int, ...], params: int = 0) -> None:
        self.layers.append(Nonlinear(op=op, name=name, shape=shape))
        self.params += params

    def add(self, name: str, shape: tuple[int, ...], inputs: int = 2, producers: tuple[str, ...] = ()) -> None:
        self.layers.append(Eltwise(name=name, shape=shape, inputs=inputs, producers=producers))

    def pool(self, name: str, kind: PoolKind, channels: int, hw: tuple[int, int], kernel: int | tuple[int, int],
             stride: int = 1, padding: int = 0) -> tuple[int, int]:
        kernel = (kernel, kernel) if isinstance(kernel, int) else kernel
        layer = Pool(name=name, kind=kind, channels=channels, in_h=hw[0], in_w=hw[1], kernel=kernel,
                     stride=(stride, stride), padding=(padding,) * 4)
        self.layers.append(layer)
        return layer.out_h, layer.out_w

    def attention(self, prefix: str, names: dict[str, str], tokens: int, context: int, dim: int, heads: int,
                  fused_qkv: bool) -> None:
        """Projections, QK^T, softmax, AV and output projection of multi-head self-attention.

        QK^T reads Q and K from the projections, AV reads V; keys and values of a KV cache
        beyond the projection's output come from DRAM (``docs/memory_plan.md``).
        """
        source = self.last
        if fused_qkv:
            self.linear(f"{prefix}.{names['qkv']}", tokens, dim, 3 * dim)
            q, k, v = (f"{self.last}[1/3]",) * 3  # each a third of the fused output
        else:
            for part in ("query", "key", "value"):
                self.linear(f"{prefix}.{names[part]}", tokens, dim, dim, producers=(source,))
            q, k, v = (f"{prefix}.{names[part]}" for part in ("query", "key", "value"))
        head_dim = dim // heads
        self.layers.append(MatMul(name=f"{prefix}.qk", heads=heads, m=tokens, n=context, k=head_dim, producers=(q, k)))
        self.vector(Op.SOFTMAX, f"{prefix}.softmax", (heads, tokens, context))
        self.layers.append(MatMul(name=f"{prefix}.av", heads=heads, m=tokens, n=head_dim, k=context,
                                  producers=(self.last, v)))
        self.linear(f"{prefix}.{names['out']}", tokens, dim, dim)

    def network(self, name: str, source: str) -> Network:
        return Network(name=name, layers=tuple(self.layers), source=source)


@dataclass(frozen=True)
class ZooModel:
    """A zoo network with its parameter count (which a Network's layers alone do not carry)."""

    network: Network
    params: int


# ---- CNNs (torchvision definitions, 224x224 RGB input) ------------------------------------


def resnet(depth: int) -> ZooModel:
    """ResNet-18/50 as in torchvision (v1.5: stride in the 3x3 conv), 224x224 input."""
    blocks, bottleneck = {18: ((2, 2, 2, 2), False), 50: ((3, 4, 6, 3), True)}[depth]
    b = _Builder()
    hw = b.conv("conv1", 3, 64, (224, 224), 7, stride=2, padding=3, act_name="relu")
    hw = b.pool("maxpool", PoolKind.MAX, 64, hw, 3, stride=2, padding=1)
    expansion = 4 if bottleneck else 1
    cin = 64
    for stage, (count, planes) in enumerate(zip(blocks, (64, 128, 256, 512)), start=1):
        for index in range(count):
            stride = 2 if stage > 1 and index == 0 else 1
            p = f"layer{stage}.{index}"
            block_input = b.last
            shortcut = block_input
            cout = planes * expansion
            out_hw = ((hw[0] - 1) // stride + 1, (hw[1] - 1) // stride + 1)
            if stride != 1 or cin != cout:  # the shortcut reads the block input: listed first
                b.conv(f"{p}.downsample.0", cin, cout, hw, 1, stride=stride, act=None)
                shortcut = b.last
            if bottleneck:
                mid = b.conv(f"{p}.conv1", cin, planes, hw, 1, act_name=f"{p}.relu1", producers=(block_input,))
                mid = b.conv(f"{p}.conv2", planes, planes, mid, 3, stride=stride, padding=1, act_name=f"{p}.relu2")
                b.conv(f"{p}.conv3", planes, cout, mid, 1, act=None)
            else:
                mid = b.conv(f"{p}.conv1", cin, planes, hw, 3, stride=stride, padding=1, act_name=f"{p}.relu1",
                             producers=(block_input,))
                b.conv(f"{p}.conv2", planes, cout, mid, 3, padding=1, act=None)
            b.add(f"{p}.add", (cout, *out_hw), producers=(b.last, shortcut))
            b.vector(Op.RELU, f"{p}.relu", (cout, *out_hw))
            cin, hw = cout, out_hw
    b.pool("avgpool", PoolKind.AVG, cin, hw, hw)
    b.linear("fc", 1, cin, 1000)
    return ZooModel(b.network(f"resnet{depth}", f"He et al., CVPR 2016; torchvision resnet{depth}"), b.params)


def mobilenet_v2() -> ZooModel:
    """MobileNetV2 (width 1.0) as in torchvision: inverted residuals, ReLU6 as relu."""
    b = _Builder()
    hw = b.conv("features.0.0", 3, 32, (224, 224), 3, stride=2, padding=1)
    cin, index = 32, 1
    for t, c, n, s in ((1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2),
                       (6, 320, 1, 1)):
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{index}.conv"
            block_input = b.last
            hidden = cin * t
            if t != 1:
                hw = b.conv(f"{p}.0.0", cin, hidden, hw, 1)
            hw = b.conv(f"{p}.{1 if t != 1 else 0}.0", hidden, hidden, hw, 3, stride=stride, padding=1, groups=hidden)
            hw = b.conv(f"{p}.{2 if t != 1 else 1}", hidden, c, hw, 1, act=None)
            if stride == 1 and cin == c:
                b.add(f"features.{index}.add", (c, *hw), producers=(b.last, block_input))
            cin, index = c, index + 1
    hw = b.conv(f"features.{index}.0", cin, 1280, hw, 1)
    b.pool("avgpool", PoolKind.AVG, 1280, hw, hw)
    b.linear("classifier.1", 1, 1280, 1000)
    return ZooModel(b.network("mobilenet_v2", "Sandler et al., CVPR 2018; torchvision mobilenet_v2"), b.params)


def vgg16() -> ZooModel:
    """VGG-16 (configuration D) as in torchvision, without batch norm."""
    b = _Builder()
    hw, cin, index = (224, 224), 3, 0
    for width in (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"):
        if width == "M":
            hw = b.pool(f"features.{index}", PoolKind.MAX, cin, hw, 2, stride=2)
            index += 1
        else:
            hw = b.conv(f"features.{index}", cin, width, hw, 3, padding=1, bias=True, bn=False,
                        act_name=f"features.{index + 1}")
            cin, index = width, index + 2
    _classifier(b, cin * hw[0] * hw[1])
    return ZooModel(b.network("vgg16", "Simonyan and Zisserman, ICLR 2015; torchvision vgg16"), b.params)


def alexnet() -> ZooModel:
    """AlexNet as in torchvision (the one-GPU variant of Krizhevsky's 'one weird trick' paper)."""
    b = _Builder()
    hw = b.conv("features.0", 3, 64, (224, 224), 11, stride=4, padding=2, bias=True, bn=False, act_name="features.1")
    hw = b.pool("features.2", PoolKind.MAX, 64, hw, 3, stride=2)
    hw = b.conv("features.3", 64, 192, hw, 5, padding=2, bias=True, bn=False, act_name="features.4")
    hw = b.pool("features.5", PoolKind.MAX, 192, hw, 3, stride=2)
    hw = b.conv("features.6", 192, 384, hw, 3, padding=1, bias=True, bn=False, act_name="features.7")
    hw = b.conv("features.8", 384, 256, hw, 3, padding=1, bias=True, bn=False, act_name="features.9")
    hw = b.conv("features.10", 256, 256, hw, 3, padding=1, bias=True, bn=False, act_name="features.11")
    hw = b.pool("features.12", PoolKind.MAX, 256, hw, 3, stride=2)
    _classifier(b, 256 * hw[0] * hw[1])
    return ZooModel(b.network("alexnet", "Krizhevsky, arXiv 1404.5997; torchvision alexnet"), b.params)


def _classifier(b: _Builder, features: int) -> None:
    """The VGG/AlexNet head: two 4096-wide ReLU layers (dropout is free) and 1000 classes."""
    b.linear("classifier.0" if features == 25088 else "classifier.1", 1, features, 4096)
    b.vector(Op.RELU, "classifier.relu1", (4096,))
    b.linear("classifier.3" if features == 25088 else "classifier.4", 1, 4096, 4096)
    b.vector(Op.RELU, "classifier.relu2", (4096,))
    b.linear("classifier.6", 1, 4096, 1000)


# ---- transformers ------------------------------------------------------------------------


def _encoder_block(b: _Builder, prefix: str, tokens: int, context: int, dim: int, heads: int, ffn: int,
                   pre_norm: bool, names: dict[str, str], fused_qkv: bool) -> None:
    """Attention + MLP with residual adds and LayerNorms (pre-norm: ViT, GPT-2; post-norm: BERT)."""
    shape = (tokens, dim)
    norm = 2 * dim
    block_input = b.last
    if pre_norm:
        b.vector(Op.LAYERNORM, f"{prefix}.{names['ln1']}", shape, norm)
    b.attention(f"{prefix}.{names['attn']}", names, tokens, context, dim, heads, fused_qkv)
    b.add(f"{prefix}.attn_residual", shape, producers=(b.last, block_input))
    b.vector(Op.LAYERNORM, f"{prefix}.{names['ln2']}", shape, norm)
    mlp_input = b.last if not pre_norm else f"{prefix}.attn_residual"
    b.linear(f"{prefix}.{names['fc1']}", tokens, dim, ffn)
    b.vector(Op.GELU, f"{prefix}.{names['gelu']}", (tokens, ffn))
    b.linear(f"{prefix}.{names['fc2']}", tokens, ffn, dim)
    b.add(f"{prefix}.mlp_residual", shape, producers=(b.last, mlp_input))
    if not pre_norm:
        b.vector(Op.LAYERNORM, f"{prefix}.{names['ln3']}", shape, norm)


def vit_b16() -> ZooModel:
    """ViT-B/16 at 224x224 as in torchvision: 196 patches + class token, 12 pre-norm blocks."""
    b = _Builder()
    b.conv("conv_proj", 3, 768, (224, 224), 16, stride=16, bias=True, bn=False, act=None)
    tokens = 197
    b.params += 768 + tokens * 768  # class token, position embedding
    b.add("encoder.pos_embedding", (tokens, 768), producers=("conv_proj", "dram"))  # + class token, positions
    names = dict(ln1="ln_1", attn="self_attention", qkv="in_proj", out="out_proj", ln2="ln_2", fc1="mlp.0",
                 gelu="mlp.1", fc2="mlp.3")
    for i in range(12):
        _encoder_block(b, f"encoder.layers.encoder_layer_{i}", tokens, tokens, 768, 12, 3072, True, names, True)
    b.vector(Op.LAYERNORM, "encoder.ln", (tokens, 768), 2 * 768)
    b.linear("heads.head", 1, 768, 1000, producers=("encoder.ln",))  # the class token's row
    return ZooModel(b.network("vit_b16", "Dosovitskiy et al., ICLR 2021; torchvision vit_b_16"), b.params)


def bert_base(seq: int = 128) -> ZooModel:
    """BERT-base (uncased vocabulary) encoder at sequence length ``seq``, with the pooler."""
    b = _Builder()
    dim = 768
    b.params += (30522 + 512 + 2) * dim  # word, position and token-type embeddings
    b.add("embeddings.sum", (seq, dim), inputs=3)
    b.vector(Op.LAYERNORM, "embeddings.LayerNorm", (seq, dim), 2 * dim)
    names = dict(attn="attention", query="self.query", key="self.key", value="self.value", out="output.dense",
                 ln2="attention.output.LayerNorm", fc1="intermediate.dense", gelu="intermediate.gelu",
                 fc2="output.dense", ln3="output.LayerNorm")
    for i in range(12):
        _encoder_block(b, f"encoder.layer.{i}", seq, seq, dim, 12, 3072, False, names, False)
    b.linear("pooler.dense", 1, dim, dim, producers=(b.last,))  # the first token's row
    b.vector(Op.TANH, "pooler.activation", (dim,))
    return ZooModel(b.network(f"bert_base_seq{seq}", "Devlin et al., NAACL 2019; Hugging Face bert-base-uncased"),
                    b.params)


def gpt2_small(tokens: int, cache: int = 0) -> ZooModel:
    """GPT-2 small (124M): ``tokens`` new tokens attending to ``cache`` cached ones plus themselves.

    Prefill: ``tokens=512, cache=0`` (full, not causally trimmed, QK^T). Decode: ``tokens=1,
    cache=512``: one token attends to 513 keys. Logits for every new token (tied LM head).
    """
    b = _Builder()
    dim, context = 768, cache + tokens
    b.params += (50257 + 1024) * dim  # token and position embeddings (the LM head reuses the first)
    b.add("transformer.embeddings", (tokens, dim))
    names = dict(ln1="ln_1", attn="attn", qkv="c_attn", out="c_proj", ln2="ln_2", fc1="mlp.c_fc", gelu="mlp.gelu",
                 fc2="mlp.c_proj")
    for i in range(12):
        _encoder_block(b, f"transformer.h.{i}", tokens, context, dim, 12, 3072, True, names, True)
    b.vector(Op.LAYERNORM, "transformer.ln_f", (tokens, dim), 2 * dim)
    b.linear("lm_head", tokens, dim, 50257, bias=False, shared=True)
    name = f"gpt2_prefill{tokens}" if cache == 0 else f"gpt2_decode_kv{cache}"
    return ZooModel(b.network(name, "Radford et al., 2019; Hugging Face gpt2"), b.params)


ZOO: dict[str, Callable[[], ZooModel]] = {
    "resnet18": lambda: resnet(18),
    "resnet50": lambda: resnet(50),
    "mobilenet_v2": mobilenet_v2,
    "vgg16": vgg16,
    "alexnet": alexnet,
    "vit_b16": vit_b16,
    "bert_base": lambda: bert_base(128),
    "gpt2_prefill512": lambda: gpt2_small(512),
    "gpt2_decode_kv512": lambda: gpt2_small(1, cache=512),
}


def header(model: ZooModel) -> str:
    """The comment that opens a zoo file: totals a reader (and a test) checks."""
    net = model.network
    return (f"# {net.name}: {net.macs:,} MACs, {model.params:,} parameters (batch 1)\n"
            f"# source: {net.source}\n# generated by `python -m accelsim.frontend.zoo`; do not edit by hand\n")


def to_yaml(model: ZooModel) -> str:
    """The zoo file: header, network keys, then one flow-style line per layer."""
    data = to_dict(model.network)
    layers = data.pop("layers")
    top = yaml.safe_dump(data, sort_keys=False, width=1000)
    lines = [f"  - {yaml.safe_dump(layer, default_flow_style=True, sort_keys=False, width=1000).strip()}"
             for layer in layers]
    return header(model) + top + "layers:\n" + "\n".join(lines) + "\n"


def write_zoo(directory: str | Path = "workloads") -> list[Path]:
    """Write every zoo workload into ``directory``; returns the paths written."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, build in ZOO.items():
        path = directory / f"{name}.yaml"
        path.write_text(to_yaml(build()))
        paths.append(path)
    return paths


if __name__ == "__main__":
    for written in write_zoo(sys.argv[1] if len(sys.argv) > 1 else "workloads"):
        sys.stdout.write(f"wrote {written}\n")
