"""The fold-by-fold word tables of one GEMM under one mapping, fold by fold in one loop.

The traffic rules are those of :mod:`accelsim.lower.tiling` (its module docstring); this kernel
computes :func:`accelsim.lower.tiling.mapped_schedule`'s tables without a numpy call per rule
(tests/reference/schedule_ref.py: equal on every field). Loops are numbered ``r = 0``,
``c = 1``, ``t = 2``, GEMM dimensions ``m = 0``, ``k = 1``, ``n = 2``. Every product stays
below 2**63: the caller checks ``ifmap_words * max(m, k)`` and ``k_weights * k`` first.
"""

from typing import NamedTuple

import numpy as np

from accelsim.kernels._jit import kernel, leaf
from accelsim.kernels.codes import TRAFFIC_FILTER, TRAFFIC_IFMAP, TRAFFIC_OFMAP_READ, TRAFFIC_OFMAP_WRITE

DIM_M, DIM_K, DIM_N = 0, 1, 2
BOUNDS = 2
"""The rounding of :func:`scale_dram_bounds`: each fold scaled alone, rounded down and up at once."""


class ScheduleProblem(NamedTuple):
    """One GEMM, one mapping, one array and its buffers (ints, and triples of ints).

    order : (int, int, int)       loop ids, outermost first
    loop_of : (int, int, int)     the loop along each GEMM dimension (m, k, n)
    step : (int, int, int)        fold extent along each loop (array rows, array columns, stream tile)
    extent : (int, int, int)      mapped extent along each loop (Sr, Sc, T)
    count : (int, int, int)       folds along each loop, ``ceil(extent / step)``
    dim_extent : (int, int, int)  m, mapped k, n
    ifmap_words, k_weights : words of the real input tensor; stored weight slots per column
    ifmap_room, filter_room : words one fold may keep in each input buffer
    ifmap_prefetch, filter_prefetch : the input's kept footprint loads a period ahead
        (``accelsim.lower.tiling.BufferRooms.prefetch``)
    drain : finished output tiles leave over the next tile's folds (``BufferRooms.drain``)
    accumulator_words : partial sums the accumulators hold
    psum_room, out_room : output buffer words at accumulator width and at ``act_bits``
    act_bits, weight_bits, psum_bits, cycles_per_product : ints
    first, stop : the folds ``[first, stop)`` of the execution order to build

    Python hands it to the kernels it calls (:func:`build_schedule`, ``systolic.run_native_problem``,
    ``periodic.run_native_periodic``) as a plain tuple, ``tuple(p)``: numba types a plain tuple in
    under a microsecond, a NamedTuple field by field in Python (3-5 us a call). Each of them rebuilds
    the NamedTuple (``ScheduleProblem(*problem)``) for the kernels it calls. No field is an array:
    a kernel given ``p`` then counts no references (an array field's, atomically, on every call).
    """

    order: tuple[int, int, int]
    loop_of: tuple[int, int, int]
    step: tuple[int, int, int]
    extent: tuple[int, int, int]
    count: tuple[int, int, int]
    dim_extent: tuple[int, int, int]
    ifmap_words: int
    k_weights: int
    ifmap_room: int
    filter_room: int
    ifmap_prefetch: bool
    filter_prefetch: bool
    drain: bool
    accumulator_words: int
    psum_room: int
    out_room: int
    act_bits: int
    weight_bits: int
    psum_bits: int
    cycles_per_product: int
    first: int
    stop: int


@kernel(inline="always")
def _split(total, lo, hi, extent):
    """Exact integer share of ``total`` for ``[lo, hi)`` of ``extent`` (shares telescope)."""
    return total * hi // extent - total * lo // extent


@kernel(inline="always")
def _bytes(words, bits):
    """Bytes of ``words`` of ``bits`` each, rounded up."""
    return (words // 8) * bits + -(-(words % 8) * bits // 8)


@kernel(inline="always")
def _ifmap_share(words, m_lo, m_hi, m, k_lo, k_hi, k):
    """Words of the real input tensor (``words`` in all) in the block ``[m_lo, m_hi) x [k_lo, k_hi)``."""
    return _split(_split(words, m_lo, m_hi, m), k_lo, k_hi, k)


@kernel(inline="always")
def _position(order, loop):
    """Position of ``loop`` in the loop order (0 outermost)."""
    for position in range(3):
        if order[position] == loop:
            return position
    return -1


@kernel
def _period_words(p, tensor_filter, pos_u, periods):
    """int64[periods + 1]: entry ``q - 1`` holds the words of the tiles of period ``q`` (one
    iteration of the loops at positions ``< pos_u``) of the ifmap, or the filter when
    ``tensor_filter``; ``lower.tiling.mapped_schedule``'s ``prefetched``."""
    words_of = np.zeros(periods + 1, np.int64)
    for q in range(periods - 1):
        words_of[q] = period_words(p, tensor_filter, pos_u, q)
    return words_of


@leaf
def period_words(p, tensor_filter, pos_u, q):
    """Entry ``q`` of :func:`_period_words` alone: the words of period ``q + 1``'s tiles, 0 past the
    last period. The loops outside position ``pos_u`` (the tensor's own two) take their indices
    from the period; a tensor loop inside it runs whole."""
    order, step, extent, count = p.order, p.step, p.extent, p.count
    lm, lk, ln = p.loop_of[DIM_M], p.loop_of[DIM_K], p.loop_of[DIM_N]
    m, k = p.dim_extent[DIM_M], p.dim_extent[DIM_K]
    loop_a, loop_b = (lk, ln) if tensor_filter else (lm, lk)
    period = q + 1
    if period >= _periods(order, count, pos_u)[0]:
        return np.int64(0)
    a_first, a_stop, b_first, b_stop = 0, count[loop_a], 0, count[loop_b]
    rest = period
    for position in range(pos_u - 1, -1, -1):
        loop = order[position]
        index = rest % count[loop]
        rest //= count[loop]
        if loop == loop_a:
            a_first, a_stop = index, index + 1
        else:
            b_first, b_stop = index, index + 1
    words = np.int64(0)
    for a in range(a_first, a_stop):
        a_lo = a * step[loop_a]
        a_hi = min(a_lo + step[loop_a], extent[loop_a])
        for b in range(b_first, b_stop):
            b_lo = b * step[loop_b]
            b_hi = min(b_lo + step[loop_b], extent[loop_b])
            if tensor_filter:
                words += _split(p.k_weights, a_lo, a_hi, k) * (b_hi - b_lo)
            else:
                words += _ifmap_share(p.ifmap_words, a_lo, a_hi, m, b_lo, b_hi, k)
    return words


@kernel(inline="always")
def _periods(order, count, pos_u):
    """``(periods, folds per period)``: iterations of the loops outside position ``pos_u``, and of the rest."""
    periods, per_period = 1, 1
    for position in range(3):
        if position < pos_u:
            periods *= count[order[position]]
        else:
            per_period *= count[order[position]]
    return periods, per_period


@kernel(inline="always")
def part_of(total, j, parts):
    """``_split(total, j, j + 1, parts)`` without forming ``total * (j + 1)``."""
    whole, rest = total // parts, total % parts
    return whole + rest * (j + 1) // parts - rest * j // parts


@kernel(inline="always")
def _spread(total, j, parts):
    """``(whole, rest, carry)`` that :func:`_next_part` needs to give ``part_of(total, i, parts)`` for
    ``i = j, j + 1, ...``: ``total``'s quotient and remainder by ``parts``, and ``rest x j mod parts``."""
    whole, rest = total // parts, total % parts
    return whole, rest, rest * j % parts


@kernel(inline="always")
def _next_part(whole, rest, carry, parts):
    """``(part, carry)``: :func:`part_of` at the position ``carry`` stands for, and the carry of the
    next one, without a division: ``rest x (j + 1) // parts - rest x j // parts`` is 1 exactly when
    ``rest x j mod parts + rest`` reaches ``parts`` (``rest < parts``)."""
    carry += rest
    if carry >= parts:
        return whole + 1, carry - parts
    return whole, carry


@kernel(inline="always")
def _digit(position, outer, middle, inner):
    """The index of the loop at ``position`` of the order (0 outermost) among a fold's three."""
    return outer if position == 0 else middle if position == 1 else inner


@kernel(inline="always")
def _on_loop(loop, lm, lk, size_m, size_k, size_n):
    """The fold's extent along ``loop``: that of the GEMM dimension it runs along (``lm``, ``lk``: m's
    and k's loops; n's the other)."""
    return size_m if loop == lm else size_k if loop == lk else size_n


@kernel
def build_schedule(problem, rows_used, cols_used, stream_cycles, sram, dram, dram_bytes):
    """Fill the per-fold tables (int64, ``stop - first`` rows; word tables ``[F, 4]`` by
    ``TRAFFIC_*``) of :class:`ScheduleProblem` ``problem`` (its fields as a plain tuple);
    returns whether every fold's tiles fit."""
    p = ScheduleProblem(*problem)
    return fill_folds(p, p.first, p.stop, prefetch_words(p, False), prefetch_words(p, True), rows_used, cols_used,
                      stream_cycles, sram, dram, dram_bytes)


@kernel
def prefetch_words(p, tensor_filter):
    """The words of each period's tiles :func:`fill_folds` spreads over the period before when
    ``p``'s ifmap (or filter, ``tensor_filter``) loads a period ahead; one zero otherwise."""
    pos_u = _position(p.order, p.loop_of[DIM_M if tensor_filter else DIM_N])
    if pos_u > 0 and (p.filter_prefetch if tensor_filter else p.ifmap_prefetch):
        return _period_words(p, tensor_filter, pos_u, _periods(p.order, p.count, pos_u)[0])
    return np.zeros(1, np.int64)


@kernel
def lazy_prefetch_words(p, tensor_filter):
    """:func:`prefetch_words`'s table to be filled on demand (:func:`ensure_prefetch_words`): -1
    in every entry where the ifmap (or filter) loads a period ahead, one zero otherwise. A stepped
    layer reads the entries of the periods it steps only, so filling them all would cost O(periods)."""
    pos_u = _position(p.order, p.loop_of[DIM_M if tensor_filter else DIM_N])
    if pos_u > 0 and (p.filter_prefetch if tensor_filter else p.ifmap_prefetch):
        return np.full(_periods(p.order, p.count, pos_u)[0] + 1, -1, np.int64)
    return np.zeros(1, np.int64)


@leaf
def ensure_prefetch_words(p, words, tensor_filter, first, stop):
    """Fill the entries of :func:`lazy_prefetch_words`'s ``words`` that :func:`fill_folds` reads
    for the folds ``[first, stop)``: their periods' and, at a period's end, the next one's."""
    if words.shape[0] == 1:
        return
    pos_u = _position(p.order, p.loop_of[DIM_M if tensor_filter else DIM_N])
    per = _periods(p.order, p.count, pos_u)[1]
    for q in range(first // per, min(stop // per, words.shape[0] - 1) + 1):
        if words[q] < 0:
            words[q] = period_words(p, tensor_filter, pos_u, q)


@kernel(inline="always")
def spreads_filter(p):
    """Whether ``p``'s filter loads a period ahead with ``m``'s loop inside another: each period's
    words spread over the folds of the one before (:func:`fill_folds`'s ``prefetch_filter``)."""
    return p.filter_prefetch and _position(p.order, p.loop_of[DIM_M]) > 0


@kernel(inline="always")
def _filter_periods(p):
    """``(periods, folds per period)`` of the filter's prefetch: iterations of the loops outside
    ``m``'s, and of the rest."""
    return _periods(p.order, p.count, _position(p.order, p.loop_of[DIM_M]))


@leaf
def ensure_whole_parts(p, words, whole, first, stop):
    """Fill the entries of the prefetched filter's ``words`` (:func:`lazy_prefetch_words`) and of
    ``whole`` (another such table) that :func:`fill_folds`, given ``whole`` in place of ``words``,
    reads for the folds ``[first, stop)``: each period's words less their remainder by the period's
    folds, so that every fold's spread part is the whole quotient, its lower bound (:func:`part_of`)."""
    if words.shape[0] == 1:
        return
    ensure_prefetch_words(p, words, True, first, stop)
    per = _filter_periods(p)[1]
    for q in range(first // per, min(stop // per, words.shape[0] - 1) + 1):
        if whole[q] < 0:
            whole[q] = words[q] - words[q] % per


@leaf
def raise_to_part_bounds(p, words, first, rows, dram, dram_bytes):
    """Raise the filter's DRAM words and bytes of the ``rows`` folds from fold ``first`` in ``dram``
    and ``dram_bytes``, filled with :func:`ensure_whole_parts`'s whole parts, to each fold's upper
    bound: one word more in every period whose ``words`` leave a remainder (:func:`part_of`)."""
    per = _filter_periods(p)[1]
    for f in range(rows):
        if words[(first + f) // per] % per:
            dram[f, TRAFFIC_FILTER] += 1
            dram_bytes[f, TRAFFIC_FILTER] = _bytes(dram[f, TRAFFIC_FILTER], p.weight_bits)


@leaf
def part_remainders(p, words):
    """The words :func:`ensure_whole_parts`'s whole parts leave out over the whole layer: the sum of
    every period's remainder (``words`` filled first)."""
    periods, per = _filter_periods(p)
    ensure_prefetch_words(p, words, True, 0, periods * per)
    rest = np.int64(0)
    for q in range(words.shape[0]):
        rest += words[q] % per
    return rest


@leaf
def fill_folds(p, first_fold, stop, next_in, next_filter, rows_used, cols_used, stream_cycles, sram, dram,
               dram_bytes):
    """:func:`build_schedule` for the folds ``[first_fold, stop)`` of ``p`` (``p.first`` and
    ``p.stop`` unused), ``next_in`` and ``next_filter`` from :func:`prefetch_words`.

    Scalars only inside the fold loop: a dimension's range in a tensor's footprint is the whole
    dimension when its loop runs inside the loop the footprint is taken over, else the fold's tile.
    """
    order, step, extent = p.order, p.step, p.extent
    lm, lk, ln = p.loop_of[DIM_M], p.loop_of[DIM_K], p.loop_of[DIM_N]
    m, k, n = p.dim_extent[DIM_M], p.dim_extent[DIM_K], p.dim_extent[DIM_N]
    pos_m, pos_k, pos_n = _position(order, lm), _position(order, lk), _position(order, ln)
    # ifmap is reused across n's loop, filter across m's, the output reduced across k's
    ifmap_m_full, ifmap_k_full = pos_m > pos_n, pos_k > pos_n
    filter_k_full, filter_n_full = pos_k > pos_m, pos_n > pos_m
    out_m_full, out_n_full = pos_m > pos_k, pos_n > pos_k
    shape1, shape2 = p.count[order[1]], p.count[order[2]]
    last_k = p.count[lk] - 1
    rows_lo, rows_hi, rows_words = np.int64(-1), np.int64(-1), np.int64(0)
    # the shares of the last k tile, m tile and (m tile, k tile) pair, computed again only when they
    # change; the m tile's upper share product, the lower one of the next tile when it follows
    hi_product, k_index, in_words, in_footprint = np.int64(0), np.int64(-1), np.int64(0), np.int64(0)
    k_share, full_footprint = np.int64(0), np.int64(0)
    step_m, step_k, step_n = step[lm], step[lk], step[ln]
    extent_m, extent_k, extent_n = extent[lm], extent[lk], extent[ln]
    fits = True
    ifmap_words, k_weights, cycles_per_product = p.ifmap_words, p.k_weights, p.cycles_per_product
    ifmap_room, filter_room, accumulator_words = p.ifmap_room, p.filter_room, p.accumulator_words
    psum_room, out_room = p.psum_room, p.out_room
    act_bits, weight_bits, psum_bits = p.act_bits, p.weight_bits, p.psum_bits
    # inputs whose footprint loads a period ahead: the words of each period's tiles
    prefetch_in, prefetch_filter = p.ifmap_prefetch and pos_n > 0, p.filter_prefetch and pos_m > 0
    per_in = _periods(order, p.count, pos_n)[1]
    per_filter = _periods(order, p.count, pos_m)[1]
    per_tile, tiles = p.count[order[2]], p.count[order[0]] * p.count[order[1]]  # output tiles (drain)
    outer, middle, inner = first_fold // (shape1 * shape2), (first_fold // shape2) % shape1, first_fold % shape2
    # the spread shares (part_of) carried from fold to fold: each period's (tile's) quotient and
    # remainder once, then no division per fold
    in_period, in_j, in_whole, in_rest, in_carry = 0, 0, 0, 0, 0
    if prefetch_in:
        in_period, in_j = first_fold // per_in, first_fold % per_in
        in_whole, in_rest, in_carry = _spread(next_in[in_period], in_j, per_in)
    filter_period, filter_j, filter_whole, filter_rest, filter_carry = 0, 0, 0, 0, 0
    if prefetch_filter:
        filter_period, filter_j = first_fold // per_filter, first_fold % per_filter
        filter_whole, filter_rest, filter_carry = _spread(next_filter[filter_period], filter_j, per_filter)
    drain_whole, drain_rest, drain_carry = 0, 0, 0
    for f in range(stop - first_fold):
        i_m, i_k, i_n = _digit(pos_m, outer, middle, inner), _digit(pos_k, outer, middle, inner), \
            _digit(pos_n, outer, middle, inner)
        j = inner  # the innermost loop's index
        tile = outer * shape1 + middle  # the output tile (drain): an iteration of the two outer loops
        inner += 1  # the next fold's indices, without dividing
        if inner == shape2:
            inner = 0
            middle += 1
            if middle == shape1:
                middle = 0
                outer += 1
        m_lo, k_lo, n_lo = i_m * step_m, i_k * step_k, i_n * step_n
        size_m, size_k = min(step_m, extent_m - m_lo), min(step_k, extent_k - k_lo)
        size_n = min(step_n, extent_n - n_lo)
        rows_used[f] = _on_loop(0, lm, lk, size_m, size_k, size_n)
        cols_used[f] = _on_loop(1, lm, lk, size_m, size_k, size_n)
        stream_cycles[f] = _on_loop(2, lm, lk, size_m, size_k, size_n) * cycles_per_product
        m_hi, k_hi, n_hi = m_lo + size_m, k_lo + size_k, n_lo + size_n
        # inputs: a tile comes in at the first iteration of its reuse loop, again unless its footprint fits
        # shares as _ifmap_share's, a whole range's share being the whole (_split(x, 0, e, e) == x)
        k_changed = i_k != k_index
        if k_changed:
            k_index = i_k
            k_share = _split(k_weights, k_lo, k_hi, k)
            full_footprint = ifmap_words if ifmap_k_full else _split(ifmap_words, k_lo, k_hi, k)
        rows_changed = m_lo != rows_lo or m_hi != rows_hi
        if rows_changed:
            lo_product = hi_product if m_lo == rows_hi else ifmap_words * m_lo // m
            hi_product = ifmap_words * m_hi // m
            rows_lo, rows_hi, rows_words = m_lo, m_hi, hi_product - lo_product
        if rows_changed or k_changed:
            in_words = _split(rows_words, k_lo, k_hi, k)
            in_footprint = full_footprint if ifmap_m_full else rows_words if ifmap_k_full else in_words
        words = in_words
        footprint = in_footprint
        sram[f, TRAFFIC_IFMAP] = size_m * size_k
        dram[f, TRAFFIC_IFMAP] = words if i_n == 0 or footprint > ifmap_room else 0
        fits = fits and words <= ifmap_room
        if prefetch_in:  # lower.tiling.mapped_schedule's ``prefetched``
            part, in_carry = _next_part(in_whole, in_rest, in_carry, per_in)
            dram[f, TRAFFIC_IFMAP] = (dram[f, TRAFFIC_IFMAP] if in_period == 0 else 0) + part
            in_j += 1
            if in_j == per_in:  # the next period's words, spread from its first fold
                in_period, in_j = in_period + 1, 0
                in_whole, in_rest, in_carry = _spread(next_in[in_period], 0, per_in)
        words = k_share * (n_hi - n_lo)
        footprint = (k_weights if filter_k_full else k_share) * (n if filter_n_full else n_hi - n_lo)
        sram[f, TRAFFIC_FILTER] = size_k * size_n
        dram[f, TRAFFIC_FILTER] = words if i_m == 0 or footprint > filter_room else 0
        fits = fits and words <= filter_room
        if prefetch_filter:
            part, filter_carry = _next_part(filter_whole, filter_rest, filter_carry, per_filter)
            dram[f, TRAFFIC_FILTER] = (dram[f, TRAFFIC_FILTER] if filter_period == 0 else 0) + part
            filter_j += 1
            if filter_j == per_filter:
                filter_period, filter_j = filter_period + 1, 0
                filter_whole, filter_rest, filter_carry = _spread(next_filter[filter_period], 0, per_filter)
        # output: partial sums stay in the accumulators if their footprint fits, else go out and back
        first = i_k == 0
        last = i_k == last_k
        out = size_m * size_n
        footprint = (m if out_m_full else m_hi - m_lo) * (n if out_n_full else n_hi - n_lo)
        accumulate = footprint <= accumulator_words
        spill = not accumulate and footprint > psum_room
        sram[f, TRAFFIC_OFMAP_WRITE] = 0 if accumulate and not last else out
        sram[f, TRAFFIC_OFMAP_READ] = 0 if accumulate or first else out
        dram[f, TRAFFIC_OFMAP_WRITE] = out if last or spill else 0
        dram[f, TRAFFIC_OFMAP_READ] = out if spill and not first else 0
        if p.drain:  # lower.tiling.mapped_schedule's ``drained``: the previous tile, in K shares
            words = out if last and tile == tiles - 1 else 0
            if tile > 0:
                if j == 0 or f == 0:  # a tile's first fold (or the range's): the previous tile's spread
                    i0, i1 = (tile - 1) // p.count[order[1]], (tile - 1) % p.count[order[1]]
                    size0 = min(step[order[0]], extent[order[0]] - i0 * step[order[0]])
                    size1 = min(step[order[1]], extent[order[1]] - i1 * step[order[1]])
                    drain_whole, drain_rest, drain_carry = _spread(size0 * size1, j, per_tile)
                part, drain_carry = _next_part(drain_whole, drain_rest, drain_carry, per_tile)
                words += part
            dram[f, TRAFFIC_OFMAP_WRITE] = words
        if last:
            fits = fits and out <= out_room
        elif not accumulate:
            fits = fits and out <= psum_room
        dram_bytes[f, TRAFFIC_IFMAP] = _bytes(dram[f, TRAFFIC_IFMAP], act_bits)
        dram_bytes[f, TRAFFIC_FILTER] = _bytes(dram[f, TRAFFIC_FILTER], weight_bits)
        dram_bytes[f, TRAFFIC_OFMAP_WRITE] = _bytes(dram[f, TRAFFIC_OFMAP_WRITE],
                                                    act_bits if last or p.drain else psum_bits)
        dram_bytes[f, TRAFFIC_OFMAP_READ] = _bytes(dram[f, TRAFFIC_OFMAP_READ], psum_bits)
    return fits


@leaf
def scale_dram_rows(words, nbytes, numerator, denominator, rounding, count, reduce_position, first_fold, spread_drain,
                    rows, commit, totals):
    """Scale the first ``rows`` folds of the DRAM tables ``words`` and ``nbytes`` (int64[F, 4],
    fold ``first_fold`` of the execution order onwards) in place, as
    ``accelsim.lower.memory_plan.scaled_schedule`` does: column ``x``'s running total times
    ``numerator[x] / denominator[x]``, rounded down, differenced (``numerator[x] ==
    denominator[x]``: left as it is); ``TRAFFIC_OFMAP_WRITE`` over the folds that write final
    outputs only (the reduction loop, at ``reduce_position`` of the loop order whose counts are
    ``count``, at its last index; every fold when ``spread_drain``). ``totals`` (int64[2, 3, 2]:
    per table and column, the running total and its scaled value; zeros at the first fold) carries
    the folds before; it keeps the state after the first ``commit`` folds (the rest: a look-ahead
    fold, scaled again with the next rows). Returns False at once, the tables part scaled, where a
    running total times its numerator would pass int64 (the caller then uses Python integers).

    ``rounding`` -1 or 1 scales each fold's value alone, rounded down or up: the bounds of the
    running totals' fold values, ``floor(v a / d) <= floor((T + v) a / d) - floor(T a / d) <=
    ceil(v a / d)`` whatever the total ``T`` before the fold (``accelsim.engine.periodic``);
    ``totals`` then sums the folds' values and their scaled values. 0: the running totals."""
    return _scale(words, nbytes, numerator, denominator, rounding, count, reduce_position, first_fold, spread_drain,
                  rows, commit, totals, words[:0], nbytes[:0], totals[:0])


@leaf
def scale_dram_bounds(words, nbytes, up_words, up_nbytes, numerator, denominator, count, reduce_position, first_fold,
                      spread_drain, rows, commit, totals, up_totals):
    """:func:`scale_dram_rows` with each fold scaled alone: rounded down in ``words`` and ``nbytes``
    (``totals``), rounded up in ``up_words`` and ``up_nbytes`` (``up_totals``), which hold on entry
    the same unscaled rows (one division gives both) or, where a fold's unscaled value is itself only
    bounded, its upper bound (scaled up from it)."""
    return _scale(words, nbytes, numerator, denominator, BOUNDS, count, reduce_position, first_fold, spread_drain, rows,
                  commit, totals, up_words, up_nbytes, up_totals)


@kernel(inline="always")
def _final_fold(g, count, reduce_position):
    """Whether fold ``g`` of the execution order is at the last index of the reduction loop (at
    ``reduce_position`` of the loop order whose counts are ``count``)."""
    if reduce_position == 0:
        index = g // (count[1] * count[2])
    elif reduce_position == 1:
        index = (g // count[2]) % count[1]
    else:
        index = g % count[2]
    return index == count[reduce_position] - 1


@kernel(inline="always")
def _scale(words, nbytes, numerator, denominator, rounding, count, reduce_position, first_fold, spread_drain, rows,
           commit, totals, up_words, up_nbytes, up_totals):
    """:func:`scale_dram_rows`, or with ``rounding`` ``BOUNDS`` :func:`scale_dram_bounds` (the ``up_*``
    arguments, else unread). A column at a time, its totals in locals: the fold loop then holds no
    choice of table and no store to ``totals`` (1,764 folds of tpu_v5e_like's batch-256 ResNet-50 scaled
    by fractions 0, 1, 0: 41 -> 6 us, by 5/7, 1, 3/11: 45 -> 11 us, against a fold at a time over the
    columns; timeit inside a kernel)."""
    for x in range(3):
        numerator_x, denominator_x = numerator[x], denominator[x]
        if numerator_x == denominator_x:
            continue
        bound = np.int64(9223372036854775807) // numerator_x if numerator_x > 0 else 0
        # the final outputs' folds only, where the output writes are not spread
        final_only = x == TRAFFIC_OFMAP_WRITE and not spread_drain
        for t in range(2):
            table, up_table = (words, up_words) if t == 0 else (nbytes, up_nbytes)
            total, scaled_total = totals[t, x, 0], totals[t, x, 1]
            up_total, up_scaled_total = (up_totals[t, x, 0], up_totals[t, x, 1]) if rounding == BOUNDS else (0, 0)
            kept = (total, scaled_total, up_total, up_scaled_total)
            for f in range(rows):
                if f == commit:
                    kept = (total, scaled_total, up_total, up_scaled_total)
                if final_only and not _final_fold(first_fold + f, count, reduce_position):
                    continue
                value = table[f, x]
                if numerator_x == 0:  # none of it moves: every scaled value, and its running total's, is 0
                    total += value
                    table[f, x] = 0
                    if rounding == BOUNDS:
                        up_total += up_table[f, x]
                        up_table[f, x] = 0
                    continue
                if rounding != 0:
                    if value > bound:
                        return False
                    product = value * numerator_x
                    low = product // denominator_x
                    up = low + (1 if low * denominator_x != product else 0)
                    table[f, x] = up if rounding == 1 else low
                    total += value
                    scaled_total += table[f, x]
                    if rounding == BOUNDS:
                        up_value = up_table[f, x]
                        if up_value != value:  # an upper bound of the unscaled value too
                            if up_value > bound:
                                return False
                            product = up_value * numerator_x
                            up = product // denominator_x
                            up += 1 if up * denominator_x != product else 0
                        up_table[f, x] = up
                        up_total += up_value
                        up_scaled_total += up
                    continue
                running = total + value
                if running > bound:
                    return False
                scaled = running * numerator_x // denominator_x
                table[f, x] = scaled - scaled_total
                total, scaled_total = running, scaled
            if commit >= rows:
                kept = (total, scaled_total, up_total, up_scaled_total)
            totals[t, x, 0], totals[t, x, 1] = kept[0], kept[1]
            if rounding == BOUNDS:
                up_totals[t, x, 0], up_totals[t, x, 1] = kept[2], kept[3]
    return True
