"""Register-level systolic array: every PE computes every cycle, with real values.

Conventions are those of ``docs/timing_models.md`` (native timing): operands enter at the left
edge (one array row each) and the top edge (one array column each), move one PE per cycle,
and partial sums leave at the bottom edge. Two kernels, one per register structure:

* :func:`run_pe_stationary` (ws and is): a stationary operand ``w[Sr, :, Sc]`` loaded through
  the top edge into shadow registers, a streamed operand ``x[T, Sr, :]`` moving right, partial
  sums moving down; ``y[T, Sc] += x . w``.
* :func:`run_pe_os` (os): ``l[Sr, T, :]`` moving right, ``u[T, :, Sc]`` moving down (or
  broadcast along rows and columns), an accumulator and an output register per PE; the outputs
  shift down and out through the output registers; ``y[Sr, Sc] = l . u``.

**Words.** Every operand register holds a *word* of ``W`` values (the trailing axis), and a PE
adds the ``W`` products of its two words (exactly: an adder tree) to its partial sum in one
addition per cycle. ``W = 1`` is the plain MAC; a MAC doing ``p`` products per cycle along the
reduction has ``W = p``; with N:M weight sparsity a word is the window of activations a PE's
weight slots select from, and the weight word holds each kept weight at the position of the
activation it selects (zeros elsewhere), so the sum is the index-mux's (the engine builds both).
**Step cycles.** With ``q`` cycles per product each stream step lasts ``q`` cycles: a stream
row (os: a reduction step) is followed by ``q - 1`` empty waves and its data sit in the last of
its ``q`` waves (the product is complete after ``q`` cycles), so the streaming time is ``q*T``
and fill, drain and loads are unchanged (docs/timing_models.md).

The kernels run either on int64 values (exact products, additions that wrap modulo 2**64 or
saturate at ``[lo, hi]``) or on float32 or float64 values (float32: every product and every
addition, the word's adder tree included, rounded to fp32 in order: an fp32 accumulator). Wrapping to fewer accumulator bits is applied
by the caller to the finished outputs, which is bit-exact: wrapping is a ring homomorphism.

**Rings.** In the stationary kernel a register that only passes its value on (the streamed
word moving right, the stationary word and its tag moving down, the partial sum moving down)
is not copied: PE ``(i, j)``'s streamed register holds what entered row ``i`` ``j`` cycles ago,
so each row keeps a ring of its last ``C`` edge inputs (each column a ring of its last ``R``),
and the partial sum of PE ``(i, j)`` at cycle ``g`` lives at row ``(g - i) mod R`` of one
``R x C`` table, where PE ``(i - 1, j)`` left it a cycle earlier. The switch flag travels with a
fold's first stream wave, so PE ``(i, j)`` switches when wave ``g - i - j`` is one (an
anti-diagonal at a time), and a column's stationary words of one load all latch in the cycle
the last of them (tag 0) enters. The values, the order of every addition and the counters are
those of copying every register every cycle (``tests/reference/pe_ref.py`` steps them so);
the PE loop reads contiguous rows instead of moving ``5 R C`` values a cycle
(``benchmarks/bench_pe_layer.py``). The os kernel does the same with its left words and
last-MAC flags (a ring per row), its top words (a ring of cycles) and its output registers
(``out`` read ``shift`` rows down, ``shift`` counting the output shifts).

A *wave* is the set of registers ``(i, j)`` holding the same data item: a value injected at
the left edge of row ``i`` at cycle ``g`` is in column ``j`` at cycle ``g + j``, so each edge
keeps a pointer to the fold whose interval of wave indices it is in.
"""

from typing import NamedTuple

import numpy as np

from accelsim.kernels._jit import kernel
from accelsim.kernels.codes import (
    PE_STAT_BOTTOM_WORDS,
    PE_STAT_CYCLES,
    PE_STAT_DRAIN_CYCLES,
    PE_STAT_LEFT_WORDS,
    PE_STAT_PE_UPDATES,
    PE_STAT_SATURATIONS,
    PE_STAT_TOP_WORDS,
)


@kernel
def _add(a, b, saturate, lo, hi):
    """``a + b`` and 1 if it was clipped to ``[lo, hi]`` (saturating) or 0.

    ``a`` must lie in ``[lo, hi]``; the comparisons are arranged so that nothing overflows
    int64 even when ``lo``/``hi`` are the int64 limits (the compiler may assume that signed
    additions never overflow, so overflow cannot be detected after the fact).
    """
    if saturate:
        if b > 0 and a > hi - b:
            return hi, 1
        if b < 0 and a < lo - b:
            return lo, 1
    return a + b, 0


@kernel
def _stream_row(wave, q):
    """Whether stream wave ``wave`` carries data (the last of its row's ``q`` waves) and its row."""
    if q == 1:
        return True, wave
    return wave % q == q - 1, wave // q


@kernel
def _wave_fold(u, start, length, known, p):
    """Advance fold pointer ``p`` past the intervals ``[start, start + length)`` that end at or
    before wave index ``u``; return the pointer and whether ``u`` lies in fold ``p``."""
    while p < known and u >= start[p] + length[p]:
        p += 1
    return p, p < known and u >= start[p]


@kernel(inline="always")
def _word_product(width, x, x_row, x_at, w, w_row, w_at):
    """The sum of the ``width`` products of the words ``x[x_row, x_at:]`` and ``w[w_row, w_at:]``, in order
    (2-d indexing, no row views: a view costs a reference count)."""
    product = x[x_row, x_at] * w[w_row, w_at]
    for v in range(1, width):
        product += x[x_row, x_at + v] * w[w_row, w_at + v]
    return product


@kernel(inline="always")
def _step_stationary(width, g, switch_live, load_live, x_ring, stream_fold, wave_head, stream_start, tag_ring,
                     value_ring, w_shadow, w_active, psum, saturate, lo, hi):
    """One cycle of every PE of :func:`run_pe_stationary`; returns the saturated additions.

    The registers that move are read from their rings (see :func:`run_pe_stationary`): PE
    ``(i, j)`` holds the streamed word that entered row ``i`` ``j`` cycles ago, and the
    stationary word and tag in transit that entered column ``j`` ``i`` cycles ago; its switch
    flag is set when its wave (``g - i - j``) is the first of a fold (``stream_fold``: the fold of
    each recent wave, ``wave_head + d`` for wave ``g - d``); its partial sum is
    ``psum[(g - i) % rows, j]``, where PE ``(i - 1, j)`` left it a cycle earlier. Per PE, as in
    hardware: a switch (shadow -> active), then a load into the shadow register, then the product
    with the active word and the addition. Inlined: a call with the literal ``width`` 1 compiles
    the plain MAC with the word loops folded away.
    """
    zero = psum.dtype.type(0)
    rows, cols = psum.shape
    saturations = 0
    x_head, load_head = (-g) % cols, (-g) % rows
    if switch_live:  # the flag travels with a fold's first stream wave: one anti-diagonal i + j = d
        for d in range(rows + cols - 1):
            p = stream_fold[wave_head + d]
            if p >= 0 and g - d == stream_start[p]:
                for i in range(max(0, d - cols + 1), min(rows, d + 1)):
                    for v in range(width):
                        w_active[i, (d - i) * width + v] = w_shadow[i, (d - i) * width + v]
    if load_live:  # a column's words of one load all latch in the cycle its last one (tag 0) enters
        for j in range(cols):
            if tag_ring[j, load_head] != 0:
                continue
            for i in range(rows):
                if tag_ring[j, load_head + i] == i:
                    for v in range(width):
                        w_shadow[i, j * width + v] = value_ring[j, (load_head + i) * width + v]
    slot = g % rows + 1  # (g - i) % rows, counted down
    for i in range(rows):
        slot = slot - 1 if slot > 0 else rows - 1
        if saturate:
            for j in range(cols):
                product = _word_product(width, x_ring, i, (x_head + j) * width, w_active, i, j * width)
                s, clipped = _add(zero if i == 0 else psum[slot, j], product, True, lo, hi)
                psum[slot, j] = s
                saturations += clipped
        elif i == 0:
            for j in range(cols):
                psum[slot, j] = zero + _word_product(width, x_ring, i, (x_head + j) * width, w_active, i, j * width)
        else:
            for j in range(cols):
                psum[slot, j] += _word_product(width, x_ring, i, (x_head + j) * width, w_active, i, j * width)
    return saturations


@kernel(inline="always")
def _step_os(width, skew, g, shift, a_ring, b_ring, last_ring, acc, out, saturate, lo, hi):
    """One cycle of every PE of :func:`run_pe_os`; returns the saturated additions.

    Every PE adds its product to its accumulator; at a fold's last MAC (the flag ``last``
    travelling with the left operand) it moves the sum into its output register and starts
    again from zero. PE ``(i, j)`` reads the left word and flag that entered row ``i``
    ``skew * j`` cycles ago and the top word that entered column ``j`` ``skew * i`` cycles ago
    (``skew`` 0: broadcast, every PE of a row or column takes its edge word at once); its output
    register is row ``(i - shift) % rows`` of ``out`` (``shift``: the output shifts so far).
    Inlined as :func:`_step_stationary`.
    """
    zero = acc.dtype.type(0)
    rows, cols = acc.shape
    saturations = 0
    a_head, b_head = (-g) % cols, (-g) % rows
    slot = (-shift) % rows  # (i - shift) % rows, counted up
    for i in range(rows):
        b_at = b_head + skew * i
        for j in range(cols):
            a_at = (a_head + skew * j) * width
            if skew == 0:
                product = zero
                for v in range(width):
                    product += a_ring[i, a_at + v] * b_ring[b_at, j * width + v]
            else:
                product = _word_product(width, a_ring, i, a_at, b_ring, b_at, j * width)
            s, clipped = _add(acc[i, j], product, saturate, lo, hi)
            saturations += clipped
            if last_ring[i, a_head + skew * j]:
                out[slot, j] = s
                acc[i, j] = zero
            else:
                acc[i, j] = s
        slot = slot + 1 if slot < rows - 1 else 0
    return saturations


class PeFolds(NamedTuple):
    """The folds a register-level kernel runs, in run order (all int64[F]).

    row0, col0 : first row/column of each fold's block of the mapped GEMM
    rows, cols : the rows/columns of the block holding data
    time_rows : stationary kernels: rows loaded through the top edge (cycles of the load):
        ``rows`` in native timing, the array's rows in SCALE-Sim timing (zeros fill the unused
        rows); os: rows the fill and drain are timed for (likewise)
    time_cols : columns whose outputs the fold waits for: ``cols`` (native) or the array's
        (SCALE-Sim). Every column is loaded (zeros where the fold has no data), so no stale
        stationary value meets a streamed one.
    """

    row0: np.ndarray
    col0: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    time_rows: np.ndarray
    time_cols: np.ndarray


class PeArray(NamedTuple):
    """The register-level array.

    rows, cols : int        array size ``R x C``
    step_cycles : int       cycles per stream (os: reduction) step ``q`` (>= 1)
    overlap : bool          stationary kernels: load fold ``f+1`` into the shadow registers while
                            fold ``f`` streams (``preload_overlap``); os: stream fold ``f+1`` while
                            fold ``f``'s output registers drain (``output_overlap``)
    saturate : bool         clip every addition to ``[lo, hi]``; otherwise additions wrap modulo
                            2**64 (ints): a plain int64 add, whose result bits are the wrapped sum
    lo, hi : scalar of the accumulators' dtype: their range
    broadcast : bool        os: edge words reach every PE of their row (column) at once, no skew
    """

    rows: int
    cols: int
    step_cycles: int
    overlap: bool
    saturate: bool
    lo: np.generic
    hi: np.generic
    broadcast: bool = False


@kernel
def run_pe_stationary(x, w, folds, array, y, stats):
    """Weight- or input-stationary array (:class:`PeArray`) computing ``y += x . w`` fold by fold
    (:class:`PeFolds`).

    Parameters
    ----------
    x : (T, Sr, W) int64 or float64
        Streamed operand, one word of ``W`` values per array row: row ``t`` enters array row
        ``i`` at cycle ``s_f + q*t + q - 1 + i`` (``q = step_cycles``).
    w : (Sr, W, Sc) same dtype
        Stationary operand; fold ``f`` holds ``w[row0:row0+r, :, col0:col0+c]``.
    y : (T, Sc) same dtype
        Output accumulators, added to in fold order (in/out).
    stats : (PE_STAT_COUNT,) int64
        Counters, indexed by ``PE_STAT_*`` (in/out, added to); edge words count words.
    """
    fold_row0, fold_col0, fold_rows, fold_cols = folds.row0, folds.col0, folds.rows, folds.cols
    fold_load_rows, fold_time_cols = folds.time_rows, folds.time_cols
    rows, cols, step_cycles, overlap = array.rows, array.cols, array.step_cycles, array.overlap
    saturate, lo, hi = array.saturate, array.lo, array.hi
    n_folds = fold_rows.shape[0]
    t_len = x.shape[0]
    width = x.shape[2]
    q = step_cycles
    zero = y.dtype.type(0)
    # PE registers, a word contiguous; those that move are rings written once per cycle at the
    # edge, each entry twice (``head`` and ``head + length``) so that a row's window is one slice
    w_active = np.zeros((rows, cols * width), y.dtype)
    w_shadow = np.zeros((rows, cols * width), y.dtype)
    x_ring = np.zeros((rows, 2 * cols * width), y.dtype)  # streamed words entering each row
    tag_ring = np.full((cols, 2 * rows), -1, np.int64)  # destination row of the stationary word in transit
    value_ring = np.zeros((cols, 2 * rows * width), y.dtype)
    psum = np.zeros((rows, cols), y.dtype)  # PE (i, j)'s partial sum at cycle g: psum[(g - i) % rows, j]
    # edge words of one cycle
    load_word = np.zeros(width, y.dtype)
    x_word = np.zeros(width, y.dtype)
    # controller: fold schedule, decided no later than the cycle it takes effect
    load_start = np.zeros(n_folds, np.int64)
    stream_start = np.zeros(n_folds, np.int64)
    stream_len = np.full(n_folds, q * t_len, np.int64)  # waves, q per stream row
    end = np.full(n_folds, -1, np.int64)
    exits = np.zeros(n_folds, np.int64)
    history = rows + cols  # waves the edges look back: up to R + C - 2
    load_fold = np.full(2 * history, -1, np.int64)
    stream_fold = np.full(2 * history, -1, np.int64)
    p_load = 0
    p_stream = 0
    top_words = left_words = bottom_words = 0
    stream_start[0] = fold_load_rows[0]
    known = 1  # folds whose load and stream start are scheduled
    p_live_load = 0
    p_live_switch = 0
    done = 0
    saturations = 0
    g = 0
    while done < n_folds:
        # schedule the next loads: behind the previous fold's stream start (overlap) or its end
        while known < n_folds:
            if overlap:
                begin = stream_start[known - 1]
            elif end[known - 1] >= 0:
                begin = end[known - 1]
            else:
                break
            load_start[known] = begin
            stream_start[known] = max(begin + fold_load_rows[known], stream_start[known - 1] + q * t_len)
            known += 1
        # the fold of this cycle's wave in the load and in the stream schedule (-1: none); the
        # edges of row i and column j see the wave i, j (bottom: j + R - 1) cycles older
        p_load, active = _wave_fold(g, load_start, fold_load_rows, known, p_load)
        x_head, load_head, wave_head = (-g) % cols, (-g) % rows, (-g) % history
        for copy in (wave_head, wave_head + history):
            load_fold[copy] = p_load if active else -1
        p_stream, active = _wave_fold(g, stream_start, stream_len, known, p_stream)
        for copy in (wave_head, wave_head + history):
            stream_fold[copy] = p_stream if active else -1
        # top edge: stationary words, bottom row of the block first, tagged with their row
        for j in range(cols):
            p = load_fold[wave_head + j]
            tag = -1
            for v in range(width):
                load_word[v] = zero
            if p >= 0:  # columns the fold does not use are loaded with zeros (no stale weights)
                tag = fold_load_rows[p] - 1 - (g - j - load_start[p])
                if tag < fold_rows[p] and j < fold_cols[p]:
                    for v in range(width):
                        load_word[v] = w[fold_row0[p] + tag, v, fold_col0[p] + j]
                    top_words += 1
            for copy in (load_head, load_head + rows):
                tag_ring[j, copy] = tag
                for v in range(width):
                    value_ring[j, copy * width + v] = load_word[v]
        # left edge: stream words, skewed by one cycle per array row; a row's data sit in the
        # last of its q waves
        for i in range(rows):
            p = stream_fold[wave_head + i]
            for v in range(width):
                x_word[v] = zero
            if p >= 0:
                data, t = _stream_row(g - i - stream_start[p], q)
                if i < fold_rows[p] and data:
                    for v in range(width):
                        x_word[v] = x[t, fold_row0[p] + i, v]
                    left_words += 1
            for copy in (x_head, x_head + cols):
                for v in range(width):
                    x_ring[i, copy * width + v] = x_word[v]
        # the load chain and the switch hold live values only for a while after each fold's
        # load and stream start; outside those windows they hold nothing and are not stepped
        while p_live_load < known and g > load_start[p_live_load] + cols + fold_load_rows[p_live_load] + rows:
            p_live_load += 1
        load_live = p_live_load < known and g >= load_start[p_live_load]
        while p_live_switch < known and g > stream_start[p_live_switch] + cols + rows:
            p_live_switch += 1
        switch_live = p_live_switch < known and g >= stream_start[p_live_switch]
        # every PE; one-value words (the plain MAC) step a copy without word loops
        if width == 1:
            saturations += _step_stationary(1, g, switch_live, load_live, x_ring, stream_fold, wave_head, stream_start,
                                            tag_ring, value_ring, w_shadow, w_active, psum, saturate, lo, hi)
        else:
            saturations += _step_stationary(width, g, switch_live, load_live, x_ring, stream_fold, wave_head,
                                            stream_start, tag_ring, value_ring, w_shadow, w_active, psum, saturate,
                                            lo, hi)
        bottom = (g + 1) % rows  # the row of PE (rows - 1, j)'s partial sums
        # bottom edge: the partial sum of wave u in column j leaves at s_f + u + j + R - 1
        for j in range(cols):
            p = stream_fold[wave_head + j + rows - 1]
            if p >= 0 and j < fold_time_cols[p]:
                wave = g - j - (rows - 1) - stream_start[p]
                data, t = _stream_row(wave, q)
                if j < fold_cols[p] and data:
                    s, clipped = _add(y[t, fold_col0[p] + j], psum[bottom, j], saturate, lo, hi)
                    y[t, fold_col0[p] + j] = s
                    saturations += clipped
                    bottom_words += 1
                exits[p] += 1
                if exits[p] == q * t_len * fold_time_cols[p]:
                    end[p] = g + 1
                    done += 1
        g += 1
    stats[PE_STAT_TOP_WORDS] += top_words
    stats[PE_STAT_LEFT_WORDS] += left_words
    stats[PE_STAT_BOTTOM_WORDS] += bottom_words
    stats[PE_STAT_CYCLES] += end.max()
    stats[PE_STAT_PE_UPDATES] += g * rows * cols
    stats[PE_STAT_SATURATIONS] += saturations


@kernel
def run_pe_os(l, u, folds, array, y, stats):
    """Output-stationary array (:class:`PeArray`) computing ``y = l . u`` fold by fold
    (:class:`PeFolds`).

    Operand word ``k`` of output ``(i, j)`` meets in PE ``(i, j)`` at cycle
    ``s_f + q*k + q - 1 + i + j`` (``q = step_cycles``; the waves in between are empty;
    ``broadcast``: ``s_f + q*k + q - 1``). At its last MAC a PE moves its sum into its output
    register; after the fold's last MAC (``L_f``, at ``s_f + q*T - 1 + (rt - 1) + (ct - 1)``, no skew
    terms with ``broadcast``) the output registers shift down and out of the bottom edge for
    ``rows`` cycles. The next fold's stream starts at ``L_f + rows + 1`` or, with ``overlap``, as
    soon as the edges are free (``s_f + q*T``) and its first output (PE (0, 0), at
    ``s_{f+1} + q*T - 1``) comes after fold ``f``'s last shift (``L_f + rows``).

    Parameters
    ----------
    l : (Sr, T, W) int64 or float64
        Left operand words; row ``i`` of the fold's block enters array row ``i``.
    u : (T, W, Sc) same dtype
        Top operand words; column ``j`` of the fold's block enters array column ``j``.
    y : (Sr, Sc) same dtype
        Outputs (out).
    stats : (PE_STAT_COUNT,) int64
        Counters, indexed by ``PE_STAT_*`` (in/out, added to); edge words count words.
    """
    fold_row0, fold_col0, fold_rows, fold_cols = folds.row0, folds.col0, folds.rows, folds.cols
    fold_time_rows, fold_time_cols = folds.time_rows, folds.time_cols
    rows, cols, step_cycles, overlap = array.rows, array.cols, array.step_cycles, array.overlap
    saturate, lo, hi = array.saturate, array.lo, array.hi
    broadcast = array.broadcast
    n_folds = fold_rows.shape[0]
    t_len = l.shape[1]
    width = l.shape[2]
    q = step_cycles
    waves = q * t_len
    skew = 0 if broadcast else 1
    zero = y.dtype.type(0)
    # registers that move are rings written once per cycle at the edges (as in run_pe_stationary):
    # left words and last flags per row, top words per cycle slot; the output registers are the
    # rows of ``out`` taken ``shift`` rows down
    a_ring = np.zeros((rows, 2 * cols * width), y.dtype)
    last_ring = np.zeros((rows, 2 * cols), np.bool_)
    b_ring = np.zeros((2 * rows, cols * width), y.dtype)
    acc = np.zeros((rows, cols), y.dtype)
    out = np.zeros((rows, cols), y.dtype)
    shift = 0
    a_word = np.zeros(width, y.dtype)
    # controller: each fold's stream start and last MAC (ideal memory: known in advance)
    start = np.zeros(n_folds, np.int64)
    stream_len = np.full(n_folds, waves, np.int64)
    last_mac = np.zeros(n_folds, np.int64)
    for f in range(n_folds):
        if f > 0:
            drained = last_mac[f - 1] + rows  # cycle of fold f-1's last shift
            start[f] = max(start[f - 1] + waves, drained + 2 - waves) if overlap else drained + 1
        last_mac[f] = start[f] + waves - 1 + skew * (fold_time_rows[f] + fold_time_cols[f] - 2)
    total = last_mac[n_folds - 1] + rows + 1
    history = rows + cols  # waves the edges look back: up to max(R, C) - 1
    stream_fold = np.full(2 * history, -1, np.int64)
    p_stream = 0
    p_drain = 0
    saturations = 0
    left_words = top_words = bottom_words = drain_cycles = 0
    for g in range(total):
        # the fold of this cycle's wave (-1: none); row i and column j see the wave skew * i (j) older
        p_stream, active = _wave_fold(g, start, stream_len, n_folds, p_stream)
        wave_head, a_head, b_head = (-g) % history, (-g) % cols, (-g) % rows
        for copy in (wave_head, wave_head + history):
            stream_fold[copy] = p_stream if active else -1
        for i in range(rows):
            p = stream_fold[wave_head + skew * i]
            flag = False
            for v in range(width):
                a_word[v] = zero
            if p >= 0 and i < fold_rows[p]:
                wave = g - skew * i - start[p]
                flag = wave == waves - 1
                data, k = _stream_row(wave, q)
                if data:
                    for v in range(width):
                        a_word[v] = l[fold_row0[p] + i, k, v]
                    left_words += 1
            for copy in (a_head, a_head + cols):
                last_ring[i, copy] = flag
                for v in range(width):
                    a_ring[i, copy * width + v] = a_word[v]
        for j in range(cols):
            p = stream_fold[wave_head + skew * j]
            for copy in (b_head, b_head + rows):
                for v in range(width):
                    b_ring[copy, j * width + v] = zero
            if p >= 0 and j < fold_cols[p]:
                data, k = _stream_row(g - skew * j - start[p], q)
                if data:
                    for copy in (b_head, b_head + rows):
                        for v in range(width):
                            b_ring[copy, j * width + v] = u[k, v, fold_col0[p] + j]
                    top_words += 1
        # output drain of fold p_drain: shifts at last_mac + 1 .. last_mac + rows
        while p_drain < n_folds and g > last_mac[p_drain] + rows:
            p_drain += 1
        if p_drain < n_folds and g > last_mac[p_drain]:  # the bottom row leaves: output row rows - (g - last_mac)
            bottom = (rows - 1 - shift) % rows
            i_out = rows - (g - last_mac[p_drain])
            if i_out < fold_rows[p_drain]:
                for j in range(fold_cols[p_drain]):
                    y[fold_row0[p_drain] + i_out, fold_col0[p_drain] + j] = out[bottom, j]
                    bottom_words += 1
            drain_cycles += 1
            shift += 1  # every output register takes the one above; row 0 takes zero
            for j in range(cols):
                out[bottom, j] = zero
        if width == 1:
            saturations += _step_os(1, skew, g, shift, a_ring, b_ring, last_ring, acc, out, saturate, lo, hi)
        else:
            saturations += _step_os(width, skew, g, shift, a_ring, b_ring, last_ring, acc, out, saturate, lo, hi)
    stats[PE_STAT_LEFT_WORDS] += left_words
    stats[PE_STAT_TOP_WORDS] += top_words
    stats[PE_STAT_BOTTOM_WORDS] += bottom_words
    stats[PE_STAT_DRAIN_CYCLES] += drain_cycles
    stats[PE_STAT_CYCLES] += total
    stats[PE_STAT_PE_UPDATES] += total * rows * cols
    stats[PE_STAT_SATURATIONS] += saturations
