"""The network-level memory plan: which activations stay on chip between layers, and which
elementwise ops ride on the array's output path (``docs/memory_plan.md``).

Pure functions of a network and an arch:

* :func:`operand_sources`: the layer (or DRAM) each input operand of each layer comes from.
  A layer's ``producers`` name them (``name[a/b]``: a part of that output); without it, a
  layer's first operand is the previous layer's output when the element counts agree, and
  every other operand comes from DRAM. An operand larger than what its producer gives reads
  the rest from DRAM (a KV cache).
* :func:`fused_layers`: vector layers the arch applies on its producer's output path
  (``vector_unit.fused_ops``): the op is listed, its first operand is the whole output of the
  layer just before it, that layer is an array layer (or itself fused into one) and nothing else
  reads that output. A fused op costs its compute only: its path operand and its output never
  touch the buffer or DRAM (its result becomes the array layer's output).
* :func:`plan_memory`: every stored tensor (the output of a layer, or of a fused chain) stays
  in the activation buffers from its producer to its last consumer when it fits next to what
  the layers in between hold; otherwise the part that does not fit spills to DRAM (written
  once, read by each consumer). Decided greedily in production order, first come first served.
  Each layer's ``LayerTraffic.resident_other_bytes`` are the kept tensors it must leave alone:
  :func:`resident_arch` is the arch its mapping is searched and run on.

Space model (what the plan reserves for each layer's own traffic when it decides residency): the
activation pool is the buffers that hold ``ifmap`` or ``ofmap`` (a unified buffer once). At
each layer it also holds the layer's weight tiles when the filter shares that buffer
(``min(filter share, weight bytes x 2 when double-buffered)``), and staging for every operand
or output that moves to or from DRAM (``min(operand share, its DRAM bytes x 2 when
double-buffered)``); a resident tensor is read and written in place. This reservation decides
what stays; the layer's mapping then divides what the tensors kept across it leave, however it
likes (``docs/memory_plan.md``, "What the mapper leaves alone").
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from accelsim.lower.gemm import lower_layer
from accelsim.lower.schedule import FILTER, IFMAP, OFMAP_WRITE, TileSchedule
from accelsim.lower.tiling import Mapping, buffer_words
from accelsim.spec.arch import ArchSpec, BufferSpec, Dataflow
from accelsim.spec.fields import cached_hash
from accelsim.spec.memo import KeyedMemo, spec_memo
from accelsim.spec.workload import DRAM_INPUT, Eltwise, Layer, MatMul, Network, Nonlinear, Pool, producer_part

_REDUCE_LOOP = {Dataflow.OS: "t", Dataflow.WS: "r", Dataflow.IS: "r"}


def _nbytes(elements: int, bits: int) -> int:
    """Bytes of ``elements`` values of ``bits`` each, rounded up."""
    return -(-elements * bits // 8)


def is_array_layer(layer: Layer, arch: ArchSpec) -> bool:
    """Whether ``layer`` runs on the array (else it is vector work)."""
    return lower_layer(layer, arch.timing_model) is not None


def operand_producers(net: Network) -> list[tuple[int | None, ...]]:
    """Per layer, per input operand: the index of the layer whose output it reads, or None (DRAM)."""
    return [tuple(source for source, _ in operands) for operands in operand_sources(net)]


@functools.lru_cache(maxsize=64)
def operand_sources(net: Network) -> tuple[tuple[tuple[int | None, Fraction], ...], ...]:
    """Per layer, per input operand: ``(producer index or None for DRAM, part of the producer's
    output it may read)`` by the rules of the module docstring. Memoized per network."""
    index = {layer.name: i for i, layer in enumerate(net.layers)}
    out = []
    for i, layer in enumerate(net.layers):
        operands = len(layer.operand_elements)
        named = []
        if layer.producers:
            for entry in layer.producers:
                name, num, den = producer_part(entry)
                named.append((None if name == DRAM_INPUT else index[name], Fraction(num, den)))
        elif i > 0 and net.layers[i - 1].output_elements == layer.operand_elements[0]:
            named = [(i - 1, Fraction(1))]
        out.append(tuple(named + [(None, Fraction(1))] * (operands - len(named))))
    return tuple(out)


def fused_name(layer: Layer) -> str | None:
    """The ``vector_unit.fused_ops`` name of a vector layer (``relu``, ``add``, ``pool``), else None."""
    if isinstance(layer, Nonlinear):
        return layer.op.value
    if isinstance(layer, Eltwise):
        return layer.kind.value
    if isinstance(layer, Pool):
        return "pool"
    return None


def fused_layers(net: Network, arch: ArchSpec, producers: list[tuple[int | None, ...]]) -> np.ndarray:
    """Boolean per layer: a vector layer applied on its producer's output path (module docstring)."""
    fused = np.zeros(len(net.layers), dtype=bool)
    ops = arch.vector_unit.fused_ops if arch.vector_unit is not None else ()
    if not ops:
        return fused
    readers = np.zeros(len(net.layers), dtype=np.int64)
    for sources in producers:
        for source in sources:
            if source is not None:
                readers[source] += 1
    for i, layer in enumerate(net.layers):
        if (i == 0 or fused_name(layer) not in ops or producers[i][0] != i - 1 or readers[i - 1] != 1
                or layer.operand_elements[0] != net.layers[i - 1].output_elements):
            continue
        fused[i] = fused[i - 1] or is_array_layer(net.layers[i - 1], arch)
    return fused


@dataclass(frozen=True)
class LayerTraffic:
    """Where one layer's activations come from and go (bytes; one entry per input operand).

    ``operand_dram_bytes`` / ``operand_chip_bytes``: read from DRAM / from a tensor kept on chip;
    ``operand_path``: the operand arrives on the array's output path (a fused layer's first).
    ``output_dram_bytes`` / ``output_kept_bytes``: the stored output written to DRAM / kept on
    chip (for an array layer with fused ops after it, the chain's last output); ``output_bytes``:
    the layer's own output; ``operand_bytes``: each operand's bytes; ``fused``: a vector layer on
    its producer's output path; ``resident_other_bytes``: bytes of other tensors kept on chip
    across the layer (live before and after it, neither read nor written by it): the activation
    pool space its mapping must leave alone (:func:`resident_arch`).
    """

    operand_dram_bytes: tuple[int, ...]
    operand_chip_bytes: tuple[int, ...]
    operand_path: tuple[bool, ...]
    operand_bytes: tuple[int, ...]
    output_dram_bytes: int
    output_kept_bytes: int
    output_bytes: int
    fused: bool
    resident_other_bytes: int = 0

    @property
    def source(self) -> str:
        """Per operand ``path``, ``chip``, ``dram`` or ``chip+dram``, comma-separated."""
        return ",".join("path" if path else _where(chip, dram) for chip, dram, path in
                        zip(self.operand_chip_bytes, self.operand_dram_bytes, self.operand_path))

    @property
    def dest(self) -> str:
        """``fused`` (the array layer this op rides on stores the result), ``chip``, ``dram`` or ``chip+dram``."""
        return "fused" if self.fused else _where(self.output_kept_bytes, self.output_dram_bytes)


def _where(chip: int, dram: int) -> str:
    return "chip+dram" if chip and dram else "chip" if chip or not dram else "dram"


@dataclass(frozen=True)
class _Tensor:
    last: int                       # the layer whose output is stored (the end of a fused chain)
    start: int                      # the layer that produces it (the chain's array layer)
    size: int                       # bytes
    readers: tuple[tuple[int, int, int], ...]  # (layer, operand, bytes read)


def _pool(arch: ArchSpec) -> dict[str, BufferSpec]:
    """The activation pool: the buffers that hold ``ifmap`` or ``ofmap``, by their key in ``arch.buffers``."""
    buffers = arch.buffers
    return {op if getattr(buffers, op) is not None else "unified": buffers.for_operand(op) for op in ("ifmap", "ofmap")}


def _shares(arch: ArchSpec) -> tuple[int, dict[str, int], dict[str, int]]:
    """Activation pool bytes; per operand its buffer share and staging factor (2: double-buffered)."""
    buffers = arch.buffers
    pool = _pool(arch)
    share = {op: buffer_words(arch, op, 8) for op in ("ifmap", "filter", "ofmap")}
    factor = {op: 2 if buffers.for_operand(op).double_buffered else 1 for op in ("ifmap", "filter", "ofmap")}
    if buffers.filter is not None or "unified" not in pool:
        share["filter"] = 0  # weights have their own buffer: they take no activation space
    return sum(buffer.size_bytes for buffer in pool.values()), share, factor


@spec_memo(256)
def resident_arch(arch: ArchSpec, resident_bytes: int) -> ArchSpec:
    """``arch`` as a layer's mapping sees it when the plan keeps ``resident_bytes`` of other tensors
    in the activation pool across the layer (``LayerTraffic.resident_other_bytes``, less than the
    pool): a unified pool buffer loses exactly those bytes; separate ifmap and ofmap buffers each
    lose a share in proportion to its size, rounded up (an approximation: the plan pools them and
    does not say which buffer holds a tensor). ``arch`` itself when nothing else is resident.
    Memoized: a layer's runs see one instance (its hash, a memo key everywhere, computed once)."""
    if not resident_bytes:
        return arch
    pool = _pool(arch)
    capacity = sum(buffer.size_bytes for buffer in pool.values())

    def smaller(buffer: BufferSpec) -> BufferSpec:
        share = -(-resident_bytes * buffer.size_bytes // capacity)  # its part of the kept bytes, rounded up
        return replace(buffer, size_bytes=buffer.size_bytes - share)

    return replace(arch, buffers=replace(arch.buffers, **{name: smaller(buffer) for name, buffer in pool.items()}))


def _staging(share: int, factor: int, nbytes: int) -> int:
    return min(share, nbytes * factor)


@dataclass(frozen=True)
class NetworkPlan:
    """A network's memory plan (:func:`plan_memory`) with what a run reads of it per layer:
    ``scales``, each array layer's :func:`traffic_scale` (``NO_SCALE`` for vector work), numbered
    by distinct value in ``scale_ids``; ``resident``, each layer's ``resident_other_bytes``."""

    traffic: tuple[LayerTraffic, ...]
    scales: tuple[TrafficScale, ...]
    scale_ids: tuple[int, ...]
    resident: tuple[int, ...]


_PLANS = KeyedMemo(256)


def plan_memory(net: Network, arch: ArchSpec) -> list[LayerTraffic]:
    """Per layer, where its operands come from and where its output goes (module docstring).

    Memoized on what the plan reads of ``arch``: its buffers, the vector unit's ``fused_ops`` and
    the timing model (which layers the array runs), so a sweep's designs that differ only in
    their array share it.
    """
    return list(network_plan(net, arch).traffic)


def network_plan(net: Network, arch: ArchSpec) -> NetworkPlan:
    """:func:`plan_memory`'s plan with each layer's traffic scale and resident bytes
    (:class:`NetworkPlan`), memoized like it (one instance per key: its designs share it)."""
    key = (net, arch.buffers, arch.vector_unit.fused_ops if arch.vector_unit is not None else (), arch.timing_model)
    return _PLANS.get(key, lambda: _network_plan(net, arch))


def _network_plan(net: Network, arch: ArchSpec) -> NetworkPlan:
    """:func:`network_plan`, computed."""
    traffic = tuple(_plan_memory(net, arch))
    first: dict[TrafficScale, TrafficScale] = {NO_SCALE: NO_SCALE}  # equal scales: one instance (cheap ==)
    scales = tuple(first.setdefault(scale, scale) for scale in
                   (traffic_scale(layer, each) if is_array_layer(layer, arch) else NO_SCALE
                    for layer, each in zip(net.layers, traffic)))
    ids: dict[TrafficScale, int] = {}
    return NetworkPlan(traffic, scales, tuple(ids.setdefault(s, len(ids)) for s in scales),
                       tuple(each.resident_other_bytes for each in traffic))


def _plan_memory(net: Network, arch: ArchSpec) -> list[LayerTraffic]:
    """:func:`plan_memory`, computed."""
    sources = operand_sources(net)
    producers = [tuple(source for source, _ in operands) for operands in sources]
    fused = fused_layers(net, arch, producers)
    capacity, share, factor = _shares(arch)
    count = len(net.layers)
    bits = [layer.compression.act_precision.bits for layer in net.layers]
    outputs = [layer.output_elements for layer in net.layers]
    operands = [layer.operand_elements for layer in net.layers]
    used = [_staging(share["filter"], factor["filter"], -(-layer.weight_elements
            * layer.compression.weight_precision.bits // 8)) for layer in net.layers]
    start = list(range(count))
    for i in range(1, count):
        if fused[i]:
            start[i] = start[i - 1]
    on_path = [bool(fused[i + 1]) if i + 1 < count else False for i in range(count)]
    readers: list[list[tuple[int, int, int]]] = [[] for _ in range(count)]
    dram_reads = {}
    for j in range(count):
        for operand, ((source, part), elements) in enumerate(zip(sources[j], operands[j])):
            if source is None or (operand == 0 and fused[j]):
                if source is None:
                    dram_reads[(j, operand)] = _nbytes(elements, bits[j])
                continue
            taken = min(elements, outputs[source] * part.numerator // part.denominator)
            readers[source].append((j, operand, _nbytes(taken, bits[source])))
            if elements > taken:
                dram_reads[(j, operand)] = _nbytes(elements - taken, bits[j])
    for (j, _), nbytes in dram_reads.items():
        used[j] += _staging(share["ifmap"], factor["ifmap"], nbytes)
    tensors = [_Tensor(i, start[i], _nbytes(outputs[i], bits[i]), tuple(readers[i]))
               for i in range(count) if not on_path[i]]
    resident = {}
    for tensor in tensors:  # network outputs first: they are written to DRAM whatever happens
        if not tensor.readers:
            used[tensor.start] += _staging(share["ofmap"], factor["ofmap"], tensor.size)
            resident[tensor.last] = 0
    for tensor in sorted((t for t in tensors if t.readers), key=lambda t: t.start):
        span = range(tensor.start, max(j for j, _, _ in tensor.readers) + 1)
        free = capacity - max(used[span.start:span.stop])
        if tensor.size <= free:
            kept = tensor.size
        else:
            stage = {tensor.start: share["ofmap"], **{j: share["ifmap"] for j, _, _ in tensor.readers}}
            kept = max(0, min(tensor.size, min(capacity - used[layer] - stage.get(layer, 0) for layer in span)))
        resident[tensor.last] = kept
        for layer in span:
            used[layer] += kept
        spilled = tensor.size - kept
        if spilled:
            used[tensor.start] += _staging(share["ofmap"], factor["ofmap"], spilled)
            for j, _, nbytes in tensor.readers:
                used[j] += _staging(share["ifmap"], factor["ifmap"], nbytes * spilled // tensor.size)
    return _layer_traffic(operands, outputs, bits, fused, tensors, resident, dram_reads)


def _resident_other(count: int, tensors: list[_Tensor], resident: dict[int, int]) -> list[int]:
    """Per layer, bytes of the tensors kept on chip across it that it neither produces nor reads."""
    held = [0] * count
    for tensor in tensors:
        kept = resident[tensor.last]
        if not kept:  # network outputs (no readers) are never kept
            continue
        readers = {j for j, _, _ in tensor.readers}
        for layer in range(tensor.last + 1, max(readers)):  # a fused chain's layers produce it
            if layer not in readers:
                held[layer] += kept
    return held


def _layer_traffic(operands: list[tuple[int, ...]], outputs: list[int], bits: list[int], fused: np.ndarray,
                   tensors: list[_Tensor], resident: dict[int, int],
                   dram_reads: dict[tuple[int, int], int]) -> list[LayerTraffic]:
    reads = {}
    written = {}
    for tensor in tensors:
        kept = resident[tensor.last]
        written[tensor.start] = (tensor.size - kept, kept)
        for j, operand, nbytes in tensor.readers:
            spilled = nbytes * (tensor.size - kept) // tensor.size
            reads[(j, operand)] = (nbytes - spilled, spilled)
    held = _resident_other(len(operands), tensors, resident)
    out = []
    for j, elements_of in enumerate(operands):
        chip, dram, path, total = [], [], [], []
        for operand, elements in enumerate(elements_of):
            on_chip, spilled = reads.get((j, operand), (0, 0))
            chip.append(on_chip)
            dram.append(spilled + dram_reads.get((j, operand), 0))
            path.append(bool(operand == 0 and fused[j]))
            total.append(_nbytes(elements, bits[j]))
        output_dram, kept = written.get(j, (0, 0)) if not fused[j] else (0, 0)
        out.append(LayerTraffic(tuple(dram), tuple(chip), tuple(path), tuple(total), output_dram, kept,
                                _nbytes(outputs[j], bits[j]), bool(fused[j]), held[j]))
    return out


@cached_hash
@dataclass(frozen=True)
class TrafficScale:
    """Fractions of an array layer's DRAM traffic that remain under the plan (exact rationals):
    its input (``ifmap``, refetches included), a matmul's second operand (``filter`` column)
    and its final output writes (partial-sum spills are the layer's own and stay)."""

    ifmap: Fraction = Fraction(1)
    filter: Fraction = Fraction(1)
    output: Fraction = Fraction(1)


NO_SCALE = TrafficScale()


def traffic_scale(layer: Layer, traffic: LayerTraffic) -> TrafficScale:
    """The :class:`TrafficScale` of an array layer under its :class:`LayerTraffic`."""
    def fraction(part: int, whole: int) -> Fraction:
        return Fraction(part, whole) if whole else Fraction(1)

    ifmap = fraction(traffic.operand_dram_bytes[0], traffic.operand_bytes[0])
    second = fraction(traffic.operand_dram_bytes[1], traffic.operand_bytes[1]) if isinstance(layer, MatMul) else 1
    return TrafficScale(ifmap, Fraction(second), fraction(traffic.output_dram_bytes, traffic.output_bytes))


def final_output_folds(schedule: TileSchedule, mapping: Mapping, first_fold: int = 0) -> np.ndarray:
    """Boolean per fold of ``schedule`` (fold ``first_fold`` of the mapping onwards): the fold
    ends its output tile's reduction, or the schedule spreads finished tiles over later folds
    (``spread_drain``), so its ofmap writes are final outputs, not partial sums."""
    count = {"r": schedule.row_folds, "c": schedule.col_folds, "t": schedule.t_tiles}
    order = mapping.order.value
    folds = np.arange(first_fold, first_fold + schedule.folds, dtype=np.int64)
    index = np.unravel_index(folds, [count[name] for name in order])
    reduce = _REDUCE_LOOP[mapping.dataflow]
    return (index[order.index(reduce)] == count[reduce] - 1) | schedule.spread_drain


def scaled_schedule(schedule: TileSchedule, scale: TrafficScale, mapping: Mapping,
                    first_fold: int = 0) -> TileSchedule:
    """``schedule`` with its DRAM traffic scaled by ``scale``, so the memory timeline sees only
    what spills. Running totals are scaled and rounded down, so each column's total over the
    schedule is exactly its scaled total rounded down (in blocks: within each block)."""
    if scale == NO_SCALE:
        return schedule
    words, nbytes = schedule.dram_words.copy(), schedule.dram_bytes.copy()
    for column, fraction in ((IFMAP, scale.ifmap), (FILTER, scale.filter), (OFMAP_WRITE, scale.output)):
        if fraction == 1:  # the running totals times 1: the column as it is
            continue
        rows = final_output_folds(schedule, mapping, first_fold) if column == OFMAP_WRITE else slice(None)
        for table in (words, nbytes):
            if fraction == 0:  # the running totals times 0: nothing moves
                table[rows, column] = 0
                continue
            running = _times(np.cumsum(table[rows, column]), fraction)
            table[rows, column] = np.diff(running, prepend=0)
    return replace(schedule, dram_words=words, dram_bytes=nbytes)


def _times(values: np.ndarray, fraction: Fraction) -> np.ndarray:
    """``values * fraction`` rounded down, exact (Python integers where int64 would overflow)."""
    if values.size == 0:
        return values
    if max(int(values.max()), 1) * fraction.numerator < 2**63:  # the numerator within int64 too
        return values * fraction.numerator // fraction.denominator
    return (values.astype(object) * fraction.numerator // fraction.denominator).astype(np.int64)
