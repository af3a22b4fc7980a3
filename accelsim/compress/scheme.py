"""Compression schemes: ordered rules mapping layers to quantization and pruning choices.

A scheme file (YAML)::

    name: int4-2:4
    rules:
      - {weight_bits: 8, act_bits: 8}                          # every layer
      - match: {op: [conv2d, gemm]}
        weight_bits: 4
        sparsity: {pattern: "2:4"}
        masks: {method: magnitude, seed: 0}                      # real masks, saved as .npy
      - match: {name: ["conv1", "fc"]}                           # keep the ends at 8 bits
        weight_bits: 8

``match`` selects layers by name glob(s) and/or op (both must hold; no ``match``: every layer).
Rules apply in order and each sets only the keys it names, so for every key the *last* matching
rule that sets it wins. Weight bits and weight sparsity apply to layers with weights (conv,
GEMM); a matmul's second operand is an activation, so ``act_bits`` sets both of its widths.
A ``channel`` sparsity removes output channels (shapes change, see :mod:`accelsim.compress.prune`);
other patterns annotate the layer, and with ``masks`` (and a ``mask_dir`` to apply into) a real
boolean mask is generated (from the given weights or seeded synthetic ones, the seed offset by
the layer's index), saved as ``<mask_dir>/<layer>.npy`` and referenced with its measured density.
"""

from __future__ import annotations

import enum
import fnmatch
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from accelsim.compress.masks import make_mask, save_mask
from accelsim.compress.prune import kept_channels, prune_channels
from accelsim.errors import Problem, WorkloadError
from accelsim.spec.fields import spec_field, validated
from accelsim.spec.load import read_yaml
from accelsim.spec.number_format import operand_value
from accelsim.spec.workload import MatMul, Network, NonlinearImpl, Op, Sparsity, SparsityPattern, WeightMask


class PruneMethod(enum.Enum):
    MAGNITUDE = "magnitude"
    RANDOM = "random"


@dataclass(frozen=True, kw_only=True)
class Match:
    """Which layers a rule applies to: name globs (any may match) and ops (empty: any op)."""

    name: tuple[str, ...] = spec_field(("*",), doc="glob(s) on layer names")
    op: tuple[Op, ...] = spec_field((), doc="layer ops")

    def selects(self, layer) -> bool:
        return (any(fnmatch.fnmatchcase(layer.name, glob) for glob in self.name)
                and (not self.op or layer.op in self.op))


@dataclass(frozen=True, kw_only=True)
class MaskSpec:
    """How real masks are generated: by ``magnitude`` or ``random``ly, from ``seed``."""

    method: PruneMethod = spec_field(PruneMethod.MAGNITUDE)
    seed: int = spec_field(0, minimum=0)


# Rule keys that set a Compression field of the same name.
COMPRESSION_KEYS = ("weight_bits", "act_bits", "sparsity", "act_sparsity", "nonlinear_impl")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One rule: a match and the settings it applies (None: left as it is)."""

    match: Match = spec_field(Match())
    weight_bits: int | str | None = spec_field(None, parse=operand_value, minimum=1, maximum=32,
                                               doc="integer width or number format name (bf16, fp8_e4m3, ...)")
    act_bits: int | str | None = spec_field(None, parse=operand_value, minimum=1, maximum=32,
                                            doc="integer width or number format name (bf16, fp8_e4m3, ...)")
    sparsity: Sparsity | None = spec_field(None, doc="weight sparsity")
    act_sparsity: Sparsity | None = spec_field(None)
    nonlinear_impl: NonlinearImpl | None = spec_field(None)
    masks: MaskSpec | None = spec_field(None, doc="generate real weight masks")

    def check(self) -> list[Problem]:
        if all(getattr(self, key) is None for key in (*COMPRESSION_KEYS, "masks")):
            return [Problem("", f"a rule sets nothing: expected one of {', '.join(COMPRESSION_KEYS)}, masks")]
        return []


@dataclass(frozen=True, kw_only=True)
class Scheme:
    """An ordered list of rules; for every key, the last matching rule that sets it wins."""

    name: str = spec_field("")
    description: str = spec_field("")
    rules: tuple[Rule, ...] = spec_field()

    def check(self) -> list[Problem]:
        return [] if self.rules else [Problem("rules", "expected at least one rule")]


def scheme_from_dict(data: Mapping, source: str = "<dict>") -> Scheme:
    """Validate ``data`` (a parsed scheme YAML) into a :class:`Scheme`."""
    return validated(Scheme, data, source)


def load_scheme(path: str | Path) -> Scheme:
    """Load a scheme file; errors name the file and each key path."""
    scheme = scheme_from_dict(read_yaml(path), str(path))
    return scheme if scheme.name else replace(scheme, name=Path(path).stem)


def settings_for(scheme: Scheme, layer) -> tuple[dict, MaskSpec | None]:
    """The Compression keys the scheme sets for ``layer`` (last matching rule wins per key) and its masks."""
    chosen: dict = {}
    masks = None
    for rule in scheme.rules:
        if rule.match.selects(layer):
            chosen.update({key: getattr(rule, key) for key in COMPRESSION_KEYS if getattr(rule, key) is not None})
            masks = rule.masks if rule.masks is not None else masks
    if not layer.weight_shape:
        if isinstance(layer, MatMul) and "act_bits" in chosen:
            chosen["weight_bits"] = chosen["act_bits"]
        else:
            chosen.pop("weight_bits", None)
        chosen.pop("sparsity", None)
    return chosen, masks


def _file_name(layer_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", layer_name) + ".npy"


def apply_scheme(net: Network, scheme: Scheme, *, weights: Mapping[str, np.ndarray] | None = None,
                 mask_dir: str | Path | None = None) -> Network:
    """A new Network with ``scheme`` applied to ``net``.

    Parameters
    ----------
    net : the network to compress (unchanged).
    scheme : the rules.
    weights : real weights by layer name (``layer.weight_shape``) for magnitude masks;
        layers without get seeded synthetic weights.
    mask_dir : where masks are written for rules that ask for ``masks``; without it those
        layers keep the statistical annotation (pattern and density) only.
    """
    weights = weights or {}
    # Channel pruning first: it changes the shapes later masks are drawn for.
    for layer in net.layers:
        chosen, _ = settings_for(scheme, layer)
        sparsity = chosen.get("sparsity")
        if sparsity is not None and sparsity.kind is SparsityPattern.CHANNEL:
            current = next(c for c in net.layers if c.name == layer.name)  # earlier pruning may have resized it
            net = prune_channels(net, layer.name, kept_channels(current, sparsity.effective_density))
    layers = []
    for index, layer in enumerate(net.layers):
        chosen, masks = settings_for(scheme, layer)
        sparsity = chosen.get("sparsity")
        if sparsity is not None and sparsity.kind is SparsityPattern.CHANNEL:
            chosen["sparsity"] = Sparsity()  # the channels are gone; what is left is dense
        elif (sparsity is not None and masks is not None and mask_dir is not None
              and sparsity.kind is not SparsityPattern.DENSE):
            chosen["sparsity"] = _masked(layer, sparsity, masks, weights.get(layer.name), mask_dir, index)
        if chosen:
            layers.append(replace(layer, compression=replace(layer.compression, **chosen)))
        else:
            layers.append(layer)
    out = replace(net, name=f"{net.name}+{scheme.name}" if scheme.name else net.name, layers=tuple(layers))
    problems = [Problem(f"layers[{i}].{p.path}" if p.path else f"layers[{i}]", p.message)
                for i, layer in enumerate(out.layers) for p in layer.check()]
    if problems:
        raise WorkloadError(f"{net.name} with scheme {scheme.name}", problems)
    return out


def _masked(layer, sparsity: Sparsity, masks: MaskSpec, layer_weights: np.ndarray | None,
            mask_dir: str | Path, index: int) -> Sparsity:
    """``sparsity`` with a generated mask saved and its measured density."""
    if layer_weights is not None and np.shape(layer_weights) != layer.weight_shape:
        raise WorkloadError(layer.name, [Problem("weights", f"got shape {np.shape(layer_weights)}, "
                                                            f"expected {layer.weight_shape}")])
    mask = make_mask(layer, sparsity, layer_weights, method=masks.method.value, seed=masks.seed + index)
    path = save_mask(mask, Path(mask_dir) / _file_name(layer.name))
    return replace(sparsity, density=float(mask.mean()), mask=WeightMask(str(path), mask))

