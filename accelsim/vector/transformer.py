"""Transformer networks as accelsim layers, and choosing their nonlinear implementation.

:func:`transformer` lowers a stack of encoder/decoder blocks: QKV, output and FFN projections as
``gemm`` layers; attention's QK^T and AV as ``matmul`` layers (``heads`` GEMMs each, both
operands activations); softmax, GELU, LayerNorm and residual adds as vector layers. A decode
step (``tokens=1`` with a ``context``) multiplies one query by the K and V caches of
``context`` tokens: the cache is the matmul's second operand, streamed from DRAM like weights.

Shapes of the published models (:data:`MODELS`): BERT-base (Devlin et al. 2019: 12 layers,
hidden 768, 12 heads, FFN 3072, post-LN), ViT-B/16 (Dosovitskiy et al. 2021: the same encoder,
pre-LN, 14x14 patches of 16x16 pixels plus a class token = 197 tokens, 1000 classes) and GPT-2
small (Radford et al. 2019: 12 layers, hidden 768, 12 heads, FFN 3072, pre-LN, vocabulary
50257). Embedding lookups are not modelled (no arithmetic).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from accelsim.spec.workload import (
    Compression, Conv2d, Eltwise, Gemm, Layer, MatMul, Network, Nonlinear, NonlinearImpl, Op,
)

VECTOR_OPS = (Op.SOFTMAX, Op.GELU, Op.LAYERNORM, Op.RMSNORM, Op.RELU, Op.SILU, Op.SIGMOID, Op.TANH,
              Op.ELTWISE, Op.POOL)


@dataclass(frozen=True)
class TransformerShape:
    blocks: int
    hidden: int
    heads: int
    ffn: int
    pre_norm: bool
    source: str


MODELS = {
    "bert_base": TransformerShape(12, 768, 12, 3072, False, "Devlin et al., NAACL 2019 (BERT-base)"),
    "vit_b16": TransformerShape(12, 768, 12, 3072, True, "Dosovitskiy et al., ICLR 2021 (ViT-B/16)"),
    "gpt2": TransformerShape(12, 768, 12, 3072, True, "Radford et al. 2019 (GPT-2 small, 124M)"),
}
GPT2_VOCAB = 50257
VIT_IMAGE, VIT_PATCH, VIT_CLASSES = 224, 16, 1000


def _block(i: int, s: TransformerShape, tokens: int, context: int, compression: Compression) -> list[Layer]:
    d, h = s.hidden, s.heads
    head_dim = d // h
    c = {"compression": compression}
    norm1 = Nonlinear(op=Op.LAYERNORM, name=f"b{i}.ln1", shape=(tokens, d), **c)
    norm2 = Nonlinear(op=Op.LAYERNORM, name=f"b{i}.ln2", shape=(tokens, d), **c)
    attention = [
        Gemm(name=f"b{i}.qkv", m=tokens, n=3 * d, k=d, **c),
        MatMul(name=f"b{i}.qk", heads=h, m=tokens, n=context, k=head_dim, **c),
        Nonlinear(op=Op.SOFTMAX, name=f"b{i}.softmax", shape=(h, tokens, context), **c),
        MatMul(name=f"b{i}.av", heads=h, m=tokens, n=head_dim, k=context, **c),
        Gemm(name=f"b{i}.proj", m=tokens, n=d, k=d, **c),
        Eltwise(name=f"b{i}.add1", shape=(tokens, d), **c),
    ]
    mlp = [
        Gemm(name=f"b{i}.fc1", m=tokens, n=s.ffn, k=d, **c),
        Nonlinear(op=Op.GELU, name=f"b{i}.gelu", shape=(tokens, s.ffn), **c),
        Gemm(name=f"b{i}.fc2", m=tokens, n=d, k=s.ffn, **c),
        Eltwise(name=f"b{i}.add2", shape=(tokens, d), **c),
    ]
    if s.pre_norm:
        return [norm1, *attention, norm2, *mlp]
    return [*attention, norm1, *mlp, norm2]


def transformer(model: str, *, tokens: int, context: int | None = None, blocks: int | None = None,
                compression: Compression = Compression()) -> Network:
    """``model`` (a key of :data:`MODELS`) on ``tokens`` new tokens attending to ``context`` tokens.

    ``context`` defaults to ``tokens`` (prefill/encoder); a decode step is ``tokens=1,
    context=T``. ``blocks`` overrides the depth (for quick runs).
    """
    s = MODELS[model]
    if blocks is not None:
        s = replace(s, blocks=blocks)
    context = context or tokens
    layers: list[Layer] = []
    if model == "vit_b16":
        side = VIT_IMAGE // VIT_PATCH
        layers.append(Conv2d(name="patch_embed", in_channels=3, out_channels=s.hidden, in_h=VIT_IMAGE,
                             in_w=VIT_IMAGE, kernel=(VIT_PATCH, VIT_PATCH), stride=(VIT_PATCH, VIT_PATCH),
                             compression=compression))
        assert tokens == side * side + 1, f"ViT-B/16 at {VIT_IMAGE}px has {side * side + 1} tokens"
    for i in range(s.blocks):
        layers.extend(_block(i, s, tokens, context, compression))
    if s.pre_norm:
        layers.append(Nonlinear(op=Op.LAYERNORM, name="ln_final", shape=(tokens, s.hidden), compression=compression))
    if model == "vit_b16":
        layers.append(Gemm(name="head", m=1, n=VIT_CLASSES, k=s.hidden, compression=compression))
    elif model == "gpt2":
        layers.append(Gemm(name="lm_head", m=tokens, n=GPT2_VOCAB, k=s.hidden, compression=compression))
    kind = "decode" if tokens == 1 and context > 1 else "prefill" if model == "gpt2" else ""
    name = f"{model}_{kind}" if kind else model
    return Network(name=name, layers=tuple(layers), source=s.source)


def with_nonlinear_impl(net: Network, impl: NonlinearImpl, ops: tuple[Op, ...] = VECTOR_OPS) -> Network:
    """``net`` with ``impl`` chosen for every layer whose op is in ``ops`` (a one-rule scheme)."""
    layers = tuple(
        replace(layer, compression=replace(layer.compression, nonlinear_impl=impl)) if layer.op in ops else layer
        for layer in net.layers
    )
    return replace(net, layers=layers)
