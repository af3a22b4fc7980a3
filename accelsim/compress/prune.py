"""Channel pruning: removing output channels of a layer and resizing the layers that read them.

The Network is an ordered list without explicit edges, so the consumers of a pruned layer are
found walking forward: activations, pooling and depthwise convs of the same channel count are
resized and passed through; the first conv (``in_channels``) or GEMM (``k``, or a flattened
``k = channels x positions``) that reads the old channel count is resized and ends the walk.
A residual add or an attention matmul on the way is an error: both branches of an add must be
pruned alike, so exclude such layers from channel pruning (the zoo lists a block's shortcut
conv before its main branch, so pruning a block's inner convs works).
"""

from __future__ import annotations

from dataclasses import replace

from accelsim.errors import Problem, WorkloadError
from accelsim.spec.workload import Conv2d, ConvBase, Eltwise, Gemm, Layer, Network, Nonlinear, Pool


def kept_channels(layer: Layer, density: float) -> int:
    """Output channels kept at ``density``: ``round(density x channels)``, at least one group."""
    if isinstance(layer, ConvBase):
        channels, step = layer.out_channels, layer.groups
    elif isinstance(layer, Gemm):
        channels, step = layer.n, 1
    else:
        raise _error(layer, "only conv and GEMM layers have output channels to prune")
    return max(step, round(density * channels) // step * step)


def _outputs(layer: Layer) -> int:
    return layer.out_channels if isinstance(layer, ConvBase) else layer.n  # type: ignore[union-attr]


def _error(layer: Layer, message: str) -> WorkloadError:
    return WorkloadError(layer.name, [Problem("", message)])


def prune_channels(net: Network, name: str, kept: int) -> Network:
    """``net`` with layer ``name`` keeping ``kept`` output channels and its readers resized."""
    layers = list(net.layers)
    index = next((i for i, layer in enumerate(layers) if layer.name == name), None)
    if index is None:
        raise WorkloadError(net.name, [Problem("", f"no layer named {name!r}")])
    pruned = layers[index]
    if isinstance(pruned, Conv2d) and pruned.is_depthwise:
        raise _error(pruned, "a depthwise conv keeps its input's channels: prune the layer that feeds it")
    old = _outputs(pruned)
    if kept == old:
        return net
    layers[index] = (replace(pruned, out_channels=kept) if isinstance(pruned, ConvBase) else replace(pruned, n=kept))
    channel_axis = 0 if isinstance(pruned, ConvBase) else -1
    for j in range(index + 1, len(layers)):
        layer = layers[j]
        if isinstance(layer, Nonlinear) and layer.shape[channel_axis] == old:
            shape = list(layer.shape)
            shape[channel_axis] = kept
            layers[j] = replace(layer, shape=tuple(shape))
        elif isinstance(layer, Pool) and layer.channels == old:
            layers[j] = replace(layer, channels=kept)
        elif isinstance(layer, Conv2d) and layer.is_depthwise and layer.in_channels == old:
            layers[j] = replace(layer, in_channels=kept, out_channels=kept, groups=kept)
        elif isinstance(layer, ConvBase) and layer.in_channels == old:
            if kept % layer.groups:
                raise _error(layer, f"pruning {name} to {kept} channels breaks groups={layer.groups}")
            layers[j] = replace(layer, in_channels=kept)
            break
        elif isinstance(layer, Gemm) and layer.k % old == 0:
            layers[j] = replace(layer, k=layer.k // old * kept)
            break
        elif isinstance(layer, Eltwise):
            raise _error(layer, f"channel pruning of {name} reaches this elementwise op (a residual add?): "
                                "prune both of its inputs alike, or leave them out of channel pruning")
        else:
            raise _error(layer, f"cannot tell how the {old} channels of {name} reach this {layer.op.value} layer")
    return replace(net, layers=tuple(layers))
