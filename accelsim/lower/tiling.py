"""Mappings of a GEMM onto the array, and the fold-by-fold schedule (with its traffic) each gives.

A :class:`Mapping` fixes how one GEMM ``A[M, K] @ B[K, N]`` runs (``docs/mapper.md``):

* ``dataflow``: which GEMM dimensions lie along the array rows (``Sr``), the columns (``Sc``)
  and in time (``T``) (:func:`spatial_mapping`);
* ``t_tile``: the stream ``T`` is cut into tiles of ``t_tile`` rows (``None``: one tile);
* ``order``: the three loops over row folds (``r``), column folds (``c``) and stream tiles
  (``t``), outermost first; fold ``(i, j, b)`` uses ``r x c`` PEs and streams ``b``'s rows;
* ``double_buffered``: per operand, whether its buffer runs as two halves (the next fold's
  reads, or the previous fold's writes, overlap compute) or as one (twice the room for reuse);
* ``joint_buffer``: how operands that share a unified buffer divide it: equal fixed shares
  (``False``, the fixed mapping's) or a joint allocation (:func:`buffer_rooms`);
* ``n_block``: a second level of tiling along the GEMM's ``n`` (output columns): the GEMM runs
  as blocks of ``n_block`` columns one after the other (the last one shorter), each under the
  mapping's loops and each reading the whole input (:func:`n_blocks`), so a block's partial sums
  can stay on chip while its input tile is reused across its column folds (``None``: one block).

:func:`fixed_mapping` is SCALE-Sim's (``docs/timing_models.md``): the arch's dataflow, one stream
tile, column-fold-major, double buffering as the arch declares it; :func:`fixed_schedule` is
its schedule. A searched mapping (:mod:`accelsim.mapper.gemm`) goes through the same
:func:`mapped_schedule`.

Traffic rules (native memory model, ``docs/timing_models.md``), for every mapping. Each of the
three tensors (ifmap ``A[m, k]``, filter ``B[k, n]``, output ``C[m, n]``) is indexed by two of
the loops; the third is the loop it is *reused* across (inputs) or *reduced* across (output):

* SRAM: each fold reads its input tiles and writes its output tile, in mapped (im2col) words.
* DRAM: an input tile comes in at the first iteration of its reuse loop; at later iterations it
  comes in again unless its *footprint* fits its buffer (half of it when double-buffered): the
  tensor's words over the full range of every loop inside the reuse loop and the current tile
  of every loop outside it. A tile brings its share of the real tensor (a conv's input feature
  map, not its im2col copies; shares are exact integers that add up to the tensor).
* Output: partial sums stay in the accumulators across the reduction loop if its footprint
  (in partial sums) fits them; otherwise each fold writes them to the output buffer and the
  next reads them back, through DRAM when the footprint does not fit the output buffer.
* A mapping *fits its buffers* when every fold's input tiles and output tile fit (half of the
  buffer when double-buffered; partial sums at accumulator width when not accumulated).
* A unified buffer holds the operands without a buffer of their own. With equal shares each
  gets ``1/n`` of it; with a joint allocation each gets what the mapping needs of it, and the
  needs, each doubled when double-buffered, must fit the buffer together (:func:`buffer_rooms`).
  There, an input kept whole over its reuse loop and double-buffered holds two footprints: the
  next *period*'s (one iteration of the loops outside the reuse loop) loads during the current
  one, in equal shares over its folds, instead of tile by tile when first used (period 0 does that).
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass

import numpy as np

from accelsim.errors import UnsupportedError
from accelsim.lower.gemm import DENSE_RATE, ArrayRate, GemmProblem
from accelsim.lower.schedule import FILTER, IFMAP, OFMAP_READ, OFMAP_WRITE, TileSchedule, dataflow_code
from accelsim.spec.arch import OPERANDS, ArchSpec, Dataflow, OperandDelivery
from accelsim.spec.fields import cached_hash
from accelsim.spec.memo import spec_memo
from accelsim.spec.workload import Layer

# GEMM dimension along each loop (rows, columns, stream) per dataflow.
_LOOP_DIMS = {Dataflow.OS: {"r": "m", "c": "n", "t": "k"},
              Dataflow.WS: {"r": "k", "c": "n", "t": "m"},
              Dataflow.IS: {"r": "k", "c": "m", "t": "n"}}
_TENSOR_DIMS = {"ifmap": ("m", "k"), "filter": ("k", "n"), "ofmap": ("m", "n")}


class LoopOrder(enum.Enum):
    """Loops over row folds (r), column folds (c) and stream tiles (t), outermost first."""

    TCR = "tcr"
    TRC = "trc"
    CTR = "ctr"
    CRT = "crt"
    RTC = "rtc"
    RCT = "rct"


@cached_hash
@dataclass(frozen=True)
class Mapping:
    """How one GEMM runs on the array (see the module docstring).

    ``t_tile=None`` streams ``T`` in one tile; ``double_buffered`` is per operand (ifmap,
    filter, ofmap) and may be true only where the arch's buffer is double-buffered.
    """

    dataflow: Dataflow
    order: LoopOrder = LoopOrder.TCR
    t_tile: int | None = None
    double_buffered: tuple[bool, bool, bool] = (False, False, False)
    joint_buffer: bool = False
    n_block: int | None = None

    def __post_init__(self) -> None:
        if self.n_block is not None and self.n_block < 1:
            raise ValueError(f"Mapping.n_block: expected a positive number of output columns or None, "
                             f"got {self.n_block}")

    def describe(self) -> str:
        """Short printable form, e.g. ``ws tcr t=64 db=if`` (``t=T``: one tile; ``db``: which
        operand buffers run double-buffered, ``i`` ifmap, ``f`` filter, ``o`` ofmap, ``-`` none;
        `` ub=joint``: the unified buffer is allocated jointly; `` nb=256``: blocks of 256 output
        columns)."""
        db = "".join(name[0] for name, on in zip(OPERANDS, self.double_buffered) if on) or "-"
        tile = "T" if self.t_tile is None else str(self.t_tile)
        return (f"{self.dataflow.value} {self.order.value} t={tile} db={db}"
                + (" ub=joint" if self.joint_buffer else "") + ("" if self.n_block is None else f" nb={self.n_block}"))

    @property
    def within_block(self) -> Mapping:
        """The mapping each block runs under (this one without ``n_block``)."""
        return self if self.n_block is None else dataclasses.replace(self, n_block=None)


def n_blocks(problem: GemmProblem, mapping: Mapping) -> tuple[tuple[GemmProblem, int], ...]:
    """``problem`` as ``mapping`` runs it: ``(block, how many)`` pairs in execution order, each block
    run under :attr:`Mapping.within_block`. ``n`` is cut into blocks of ``mapping.n_block`` output
    columns and a shorter last one; every block reads the whole input (``ifmap_words``) and keeps
    ``repeats``. One pair ``(problem, 1)`` when the mapping has no blocks or one block covers ``n``.

    The blocks run one after the other, each from an idle array and memory timeline: the counters
    of a blocked mapping are the sum of its blocks' (an approximation that leaves out the overlap of
    one block's last folds with the next block's first fetches, one fold's latency per block)."""
    block = mapping.n_block
    if block is None or block >= problem.n:
        return ((problem, 1),)
    full, rest = divmod(problem.n, block)
    blocks = ((dataclasses.replace(problem, n=block), full),)
    return blocks + ((dataclasses.replace(problem, n=rest), 1),) if rest else blocks


def _one_block(mapping: Mapping) -> None:
    """Raise where a blocked mapping reaches code that lowers one block (a caller's mistake)."""
    if mapping.n_block is not None:
        raise ValueError(f"{mapping.describe()}: a blocked mapping is lowered block by block, each of "
                         "n_blocks(problem, mapping) under mapping.within_block")


_SPATIAL = {Dataflow.OS: (0, 1, 2), Dataflow.WS: (2, 1, 0), Dataflow.IS: (2, 0, 1)}
"""Per dataflow, the positions in ``(m, n, k)`` of the dimensions along the rows, the columns and time."""


def spatial_mapping(dataflow: Dataflow, m: int, n: int, k: int) -> tuple[int, int, int]:
    """``(Sr, Sc, T)``: the GEMM dimensions along the array rows, the columns and time."""
    rows, cols, time = _SPATIAL[dataflow]
    dims = (m, n, k)
    return dims[rows], dims[cols], dims[time]


def hardware_double_buffering(arch: ArchSpec) -> tuple[bool, bool, bool]:
    """Which operand buffers the arch declares double-buffered (ifmap, filter, ofmap)."""
    return tuple(bool(arch.buffers.for_operand(op).double_buffered) for op in OPERANDS)


@spec_memo(256)
def fixed_mapping(arch: ArchSpec) -> Mapping:
    """SCALE-Sim's mapping: the arch's dataflow, column-fold-major, one stream tile (memoized: one
    instance per arch, hashed once)."""
    return Mapping(arch.array.dataflow, LoopOrder.TCR, None, hardware_double_buffering(arch))


def buffer_words(arch: ArchSpec, operand: str, bits: int) -> int:
    """Words of ``bits`` that ``operand``'s buffer holds.

    A unified buffer is split equally among the operands that have no buffer of their own.
    """
    buffers = arch.buffers
    size = buffers.for_operand(operand).size_bytes
    if getattr(buffers, operand) is None:
        size //= sum(getattr(buffers, op) is None for op in OPERANDS)
    return size * 8 // bits


def usable_words(arch: ArchSpec, operand: str, bits: int, double_buffered: bool) -> int:
    """Words one fold may keep in ``operand``'s buffer: all of it, or half when double-buffered."""
    words = buffer_words(arch, operand, bits)
    return words // 2 if double_buffered else words


def unified_operands(arch: ArchSpec) -> tuple[bool, bool, bool]:
    """Which operands (ifmap, filter, ofmap) live in the unified buffer (they have none of their own)."""
    return tuple(getattr(arch.buffers, op) is None for op in OPERANDS)


def shares_unified_buffer(arch: ArchSpec) -> bool:
    """Whether two or more operands share a unified buffer (so a joint allocation can differ from
    equal shares)."""
    return sum(unified_operands(arch)) >= 2


@dataclass(frozen=True)
class BufferRooms:
    """Words one fold may keep per operand: ``ifmap`` (activation width), ``filter`` (weight
    width), ``psum`` and ``out`` (the output buffer at accumulator and at activation width);
    ``fits``: a joint allocation exists (always true for equal shares); ``prefetch``: the ifmap,
    the filter keeps a double-buffered footprint, so the next one loads while the current one is
    in use; ``drain``: a finished output tile leaves while the next one accumulates (both under
    a joint allocation only; see :func:`mapped_schedule`)."""

    ifmap: int
    filter: int
    psum: int
    out: int
    fits: bool = True
    prefetch: tuple[bool, bool] = (False, False)
    drain: bool = False


def buffer_rooms(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, *, rate: ArrayRate = DENSE_RATE,
                 weight_bits: int = 8, act_bits: int = 8) -> BufferRooms:
    """The room each operand's tiles get under ``mapping``.

    Operands with a buffer of their own, and every operand under equal shares
    (``mapping.joint_buffer`` false), get :func:`usable_words`. Under a joint allocation each
    operand in the unified buffer either *streams* (its room is its largest fold tile) or is
    *kept* (its room is its largest reuse footprint: an input's words over the full range of the
    loops inside its reuse loop; the output's partial sums over the loops inside the reduction
    loop, at accumulator width, when they do not fit the accumulators). Of the choices whose
    needs fit the buffer together (each doubled when the operand is double-buffered), the one
    that saves the most DRAM bits is taken (ties: the fewest kept, ifmap before filter before
    output): a kept input is read once instead of once per iteration of its reuse loop, kept
    partial sums avoid going out and back at every reduction step but the last. A kept input
    that is double-buffered holds two footprints, so the next one loads while the current one is
    in use (``BufferRooms.prefetch``); likewise a double-buffered output that never leaves the
    accumulators as partial sums, with the reduction loop innermost, drains each finished tile
    while the next accumulates (``BufferRooms.drain``). Tile words are bounded above by ``ceil``
    of the exact shares (an approximation of at most a word or two). Mirrored by
    ``accelsim.kernels.mapping._rooms``.
    """
    _one_block(mapping)
    db = dict(zip(OPERANDS, mapping.double_buffered))
    psum_bits = arch.mac.accumulator_bits
    own = BufferRooms(usable_words(arch, "ifmap", act_bits, db["ifmap"]),
                      usable_words(arch, "filter", weight_bits, db["filter"]),
                      usable_words(arch, "ofmap", psum_bits, db["ofmap"]),
                      usable_words(arch, "ofmap", act_bits, db["ofmap"]))
    if not mapping.joint_buffer:
        return own
    k_map, k_weights = rate.reduction(problem.k), rate.stored_reduction(problem.k)
    sr, sc, t = spatial_mapping(mapping.dataflow, problem.m, problem.n, k_map)
    tile = t if mapping.t_tile is None else max(1, min(mapping.t_tile, t))
    step = {"r": arch.array.rows, "c": arch.array.cols, "t": tile}
    extent = {"r": sr, "c": sc, "t": t}
    loop_of = {dim: loop for loop, dim in _LOOP_DIMS[mapping.dataflow].items()}
    order = mapping.order.value

    def size(dim: str, reuse: str | None = None) -> int:
        """Largest block of ``dim``: its whole extent when its loop is inside ``reuse``."""
        loop = loop_of[dim]
        if reuse is not None and order.index(loop) > order.index(reuse):
            return extent[loop]
        return min(step[loop], extent[loop])

    def count(dim: str) -> int:
        return -(-extent[loop_of[dim]] // step[loop_of[dim]])

    def ifmap_words(reuse=None):
        return -(-(-(-problem.ifmap_words * size("m", reuse) // problem.m)) * size("k", reuse) // k_map)

    def filter_words(reuse=None):
        return -(-k_weights * size("k", reuse) // k_map) * size("n", reuse)

    out_tile = size("m") * size("n")
    psum_footprint = size("m", loop_of["k"]) * size("n", loop_of["k"])
    psums = psum_footprint > arch.array.accumulators_bytes * 8 // psum_bits and count("k") > 1
    stream_out = out_tile * max(act_bits, psum_bits if psums else 0)
    stream = (ifmap_words() * act_bits, filter_words() * weight_bits, stream_out)
    keep = (ifmap_words(loop_of["n"]) * act_bits, filter_words(loop_of["m"]) * weight_bits,
            max(stream_out, psum_footprint * psum_bits) if psums else stream_out)
    saved = ((count("n") - 1) * problem.ifmap_words * act_bits, (count("m") - 1) * k_weights * problem.n * weight_bits,
             2 * (count("k") - 1) * problem.m * problem.n * psum_bits if psums else 0)
    shared = unified_operands(arch)
    capacity = arch.buffers.unified.size_bytes * 8
    best, best_saved = -1, -1
    for kept in range(8):  # bit i: operand i kept
        if any(kept >> i & 1 and not shared[i] for i in range(3)):
            continue
        need = sum((keep[i] if kept >> i & 1 else stream[i]) * (2 if mapping.double_buffered[i] else 1)
                   for i in range(3) if shared[i])
        gain = sum(saved[i] for i in range(3) if kept >> i & 1)
        if need <= capacity and gain > best_saved:
            best, best_saved = kept, gain
    bits = [keep[i] if best >= 0 and best >> i & 1 else stream[i] for i in range(3)]
    prefetch = tuple(best >= 0 and bool(best >> i & 1) and mapping.double_buffered[i] for i in range(2))
    drain = mapping.double_buffered[2] and not psums and order[2] == loop_of["k"] and count("k") > 1
    return BufferRooms(bits[0] // act_bits if shared[0] else own.ifmap,
                       bits[1] // weight_bits if shared[1] else own.filter,
                       bits[2] // psum_bits if shared[2] else own.psum,
                       bits[2] // act_bits if shared[2] else own.out, fits=best >= 0, prefetch=prefetch,
                       drain=drain)


def _split(total, lo, hi, extent):
    """Exact integer share of ``total`` for the block ``[lo, hi)`` of ``extent`` (telescopes).

    ``total * hi`` can pass int64 for long GEMMs (m*k words times m): then the products are
    formed in Python integers and the shares, at most ``total``, come back as int64.
    """
    if int(np.max(total)) * int(np.max(hi)) < 2**63:
        return total * hi // extent - total * lo // extent
    wide = [np.asarray(v).astype(object) for v in (total, lo, hi)]
    return np.asarray(wide[0] * wide[2] // extent - wide[0] * wide[1] // extent).astype(np.int64)


def _bytes(words, bits):
    """Bytes of ``words`` of ``bits`` each, rounded up (without forming ``words * bits``)."""
    whole, part = np.divmod(words, 8)
    return whole * bits + -(-part * bits // 8)


def fixed_schedule(problem: GemmProblem, arch: ArchSpec, *, rate: ArrayRate = DENSE_RATE,
                   weight_bits: int = 8, act_bits: int = 8) -> TileSchedule:
    """Fold-by-fold schedule of ``problem`` on ``arch``'s array under :func:`fixed_mapping`."""
    return mapped_schedule(problem, arch, fixed_mapping(arch), rate=rate, weight_bits=weight_bits,
                           act_bits=act_bits)


def layer_schedule(problem: GemmProblem, layer: Layer, arch: ArchSpec, *, rate: ArrayRate = DENSE_RATE,
                   mapping: Mapping | None = None) -> TileSchedule:
    """``problem`` (``layer`` lowered) under ``mapping`` (``None``: the fixed one) at the layer's operand widths."""
    bits = layer.compression
    return mapped_schedule(problem, arch, mapping or fixed_mapping(arch), rate=rate,
                           weight_bits=bits.weight_precision.bits, act_bits=bits.act_precision.bits)


def array_wiring(arch: ArchSpec, dataflow: Dataflow) -> tuple[bool, bool]:
    """``(overlap, broadcast)`` of a schedule on ``arch``'s array under ``dataflow``: whether a fold
    overlaps the previous one (os: ``output_overlap``; ws/is: ``preload_overlap``) and whether the
    operands are broadcast (os only; docs/timing_models.md, "Overlap between folds")."""
    broadcast = arch.array.operand_delivery is OperandDelivery.BROADCAST
    if broadcast and dataflow is not Dataflow.OS:
        raise UnsupportedError(f"broadcast operand delivery is modelled for the os dataflow only, not "
                               f"{dataflow.value}; use operand_delivery: systolic")
    return bool(arch.array.output_overlap if dataflow is Dataflow.OS else arch.array.preload_overlap), broadcast


def mapped_schedule(problem: GemmProblem, arch: ArchSpec, mapping: Mapping, *, rate: ArrayRate = DENSE_RATE,
                    weight_bits: int = 8, act_bits: int = 8, folds: tuple[int, int] | None = None) -> TileSchedule:
    """Fold-by-fold schedule of ``problem`` on ``arch``'s array under ``mapping``.

    ``TileSchedule.fits_buffers`` says whether every fold's tiles fit the buffers. ``folds``:
    only the folds ``[first, stop)`` of the execution order (``fits_buffers`` then covers those).
    """
    dataflow = mapping.dataflow
    overlap, broadcast = array_wiring(arch, dataflow)
    rows, cols = arch.array.rows, arch.array.cols
    k_map = rate.reduction(problem.k)
    sr, sc, t = spatial_mapping(dataflow, problem.m, problem.n, k_map)
    tile = t if mapping.t_tile is None else max(1, min(mapping.t_tile, t))
    step = {"r": rows, "c": cols, "t": tile}
    extent = {"r": sr, "c": sc, "t": t}
    count = {name: -(-extent[name] // step[name]) for name in "rct"}
    order = mapping.order.value
    shape = [count[name] for name in order]
    first, stop = (0, shape[0] * shape[1] * shape[2]) if folds is None else folds
    fold_number = np.arange(first, stop, dtype=np.int64)
    grid = np.array(np.unravel_index(fold_number, shape), dtype=np.int64).reshape(3, -1)
    index = {name: grid[position] for position, name in enumerate(order)}
    lo = {name: index[name] * step[name] for name in "rct"}
    size = {name: np.minimum(step[name], extent[name] - lo[name]) for name in "rct"}

    loop_of = {dim: loop for loop, dim in _LOOP_DIMS[dataflow].items()}
    dim_extent = {"m": problem.m, "n": problem.n, "k": k_map}
    k_weights = rate.stored_reduction(problem.k)

    def ranges(tensor: str, full_inside: str | None, lo=lo, size=size):
        """(lo, hi) per GEMM dim of ``tensor``'s block: the tile ``lo``, ``size`` (the fold's), or
        the full extent for loops nested inside the loop ``full_inside``."""
        inner = order[order.index(full_inside) + 1:] if full_inside else ""
        out = {}
        for dim in _TENSOR_DIMS[tensor]:
            loop = loop_of[dim]
            out[dim] = (0, dim_extent[dim]) if loop in inner else (lo[loop], lo[loop] + size[loop])
        return out

    def share(tensor: str, full_inside: str | None = None, lo=lo, size=size):
        """Words of the real ``tensor`` in a block (see :func:`ranges`)."""
        rng = ranges(tensor, full_inside, lo, size)
        (m_lo, m_hi), (k_lo, k_hi), (n_lo, n_hi) = (rng.get(d, (0, 0)) for d in "mkn")
        if tensor == "ifmap":
            return _split(_split(problem.ifmap_words, m_lo, m_hi, problem.m), k_lo, k_hi, k_map)
        if tensor == "filter":
            return _split(k_weights, k_lo, k_hi, k_map) * (n_hi - n_lo)
        return (m_hi - m_lo) * (n_hi - n_lo)

    def tile_words(tensor: str):
        """Mapped (im2col) words of ``tensor``'s tile in each fold."""
        a, b = (size[loop_of[dim]] for dim in _TENSOR_DIMS[tensor])
        return a * b

    def prefetched(tensor: str, reuse_loop: str, fetched):
        """DRAM words per fold of an input whose double-buffered footprint is kept: a *period*
        (one iteration of the loops outside its reuse loop) uses one footprint, the tiles of the
        tensor at that period's indices of those loops. Period 0 fetches its tiles as they are
        first used; each period's ``F`` folds bring the next period's words (the sum of its
        tiles) in equal integer shares, fold ``j`` the ``_split`` share ``[j, j + 1)`` of ``F``."""
        outer = order[:order.index(reuse_loop)]
        per_period = int(np.prod([count[name] for name in order[len(outer):]]))
        periods = int(np.prod([count[name] for name in outer]))
        loops = [loop_of[dim] for dim in _TENSOR_DIMS[tensor]]
        tiles = [grid.ravel() for grid in np.meshgrid(*(np.arange(count[name], dtype=np.int64) for name in loops),
                                                      indexing="ij")]
        tile_lo = {name: tiles[i] * step[name] for i, name in enumerate(loops)}
        tile_size = {name: np.minimum(step[name], extent[name] - tile_lo[name]) for name in loops}
        tile_period = np.ravel_multi_index([tiles[loops.index(name)] for name in outer],
                                           [count[name] for name in outer])
        words_of = np.zeros(periods + 1, dtype=np.int64)
        np.add.at(words_of, tile_period, share(tensor, None, tile_lo, tile_size))
        period, j = np.divmod(np.arange(first, stop, dtype=np.int64), per_period)
        ahead = np.where(period + 1 < periods, words_of[period + 1], 0)
        whole, rest = np.divmod(ahead, per_period)
        return np.where(period == 0, fetched, 0) + whole + rest * (j + 1) // per_period - rest * j // per_period

    def drained(out, last):
        """DRAM output words per fold when finished tiles drain while the next accumulates (the
        reduction loop innermost, ``K`` folds per tile): fold ``j`` of tile ``p + 1`` writes the
        ``_split`` share ``[j, j + 1)`` of ``K`` of tile ``p``; the last tile leaves after its own
        last fold."""
        per_tile = count[order[2]]
        tiles = count[order[0]] * count[order[1]]
        tile, j = np.divmod(fold_number, per_tile)
        previous = np.unravel_index(np.maximum(tile - 1, 0), [count[order[0]], count[order[1]]])
        sizes = {name: np.minimum(step[name], extent[name] - previous[i] * step[name])
                 for i, name in enumerate(order[:2])}
        words = np.where(tile > 0, sizes[loop_of["m"]] * sizes[loop_of["n"]], 0)
        whole, rest = np.divmod(words, per_tile)
        return whole + rest * (j + 1) // per_tile - rest * j // per_tile + np.where(last & (tile == tiles - 1), out, 0)

    db = dict(zip(OPERANDS, mapping.double_buffered))
    rooms = buffer_rooms(problem, arch, mapping, rate=rate, weight_bits=weight_bits, act_bits=act_bits)
    sram = np.zeros((grid.shape[1], 4), dtype=np.int64)
    dram = np.zeros_like(sram)
    fits = rooms.fits
    for tensor, column in (("ifmap", IFMAP), ("filter", FILTER)):
        reuse_loop = loop_of[({"m", "n", "k"} - set(_TENSOR_DIMS[tensor])).pop()]
        room = getattr(rooms, tensor)
        words = share(tensor)
        kept = np.asarray(share(tensor, reuse_loop) <= room)
        sram[:, column] = tile_words(tensor)
        dram[:, column] = np.where((index[reuse_loop] == 0) | ~kept, words, 0)
        fits = fits and bool((words <= room).all())
        if rooms.prefetch[column == FILTER] and order.index(reuse_loop) > 0:
            dram[:, column] = prefetched(tensor, reuse_loop, dram[:, column])

    psum_bits = arch.mac.accumulator_bits
    reduce_loop = loop_of["k"]
    first, last = index[reduce_loop] == 0, index[reduce_loop] == count[reduce_loop] - 1
    out = tile_words("ofmap")
    footprint = share("ofmap", reduce_loop)
    accumulate = np.broadcast_to(footprint <= arch.array.accumulators_bytes * 8 // psum_bits, out.shape)
    spill = ~accumulate & (footprint > rooms.psum)
    sram[:, OFMAP_WRITE] = np.where(accumulate & ~last, 0, out)
    sram[:, OFMAP_READ] = np.where(accumulate | first, 0, out)
    dram[:, OFMAP_WRITE] = np.where(last | spill, out, 0)
    dram[:, OFMAP_READ] = np.where(spill & ~first, out, 0)
    if rooms.drain:  # every write is a final output: each tile leaves during the next tile's folds
        dram[:, OFMAP_WRITE] = drained(out, last)
    fits = (fits and bool((out[last] <= rooms.out).all()) and bool((out[~accumulate & ~last] <= rooms.psum).all()))

    dram_bytes = np.empty_like(dram)
    dram_bytes[:, IFMAP] = _bytes(dram[:, IFMAP], act_bits)
    dram_bytes[:, FILTER] = _bytes(dram[:, FILTER], weight_bits)
    final = last | rooms.drain
    dram_bytes[:, OFMAP_WRITE] = (_bytes(np.where(final, dram[:, OFMAP_WRITE], 0), act_bits)
                                  + _bytes(np.where(final, 0, dram[:, OFMAP_WRITE]), psum_bits))
    dram_bytes[:, OFMAP_READ] = _bytes(dram[:, OFMAP_READ], psum_bits)
    return TileSchedule(
        dataflow=dataflow_code(dataflow), array_rows=rows, array_cols=cols,
        preload_overlap=overlap, broadcast=broadcast,
        repeats=problem.repeats, sr=sr, sc=sc, t=t, row_folds=count["r"], col_folds=count["c"],
        rows_used=size["r"], cols_used=size["c"], stream_cycles=size["t"] * rate.cycles_per_product,
        sram_words=sram, dram_words=dram, dram_bytes=dram_bytes,
        prefetch_overlap=db["ifmap"] and db["filter"], drain_overlap=db["ofmap"], t_tiles=count["t"],
        fits_buffers=fits, spread_drain=rooms.drain,
    )
