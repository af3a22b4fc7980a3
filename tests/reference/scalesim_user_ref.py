"""Naive reference of SCALE-Sim 3.0.0's USER bandwidth mode (never imports accelsim.kernels).

Written the slow, literal way on purpose: the operand matrices, the prefetch (fetch) matrices
and the demand matrices are built explicitly as Python lists, every SRAM set is a Python
``set`` and every demand row is handed to three buffer objects in turn, as
``docs/scalesim_memory_model.md`` section 7 describes. For small shapes only.
"""

from __future__ import annotations

import math

from reference.systolic_ref import demand_matrices, ifmap_address


def operand_matrices(geom, n_filters):
    """``A[p][k]`` (ifmap addresses, -1 outside the ifmap) and ``B[k][m]`` (filter addresses)."""
    npx, k_total = geom[7] * geom[8], geom[2] * geom[3] * geom[4]
    a = [[ifmap_address(geom, p, k) for k in range(k_total)] for p in range(npx)]
    b = [[m * k_total + k for m in range(n_filters)] for k in range(k_total)]
    return a, b


def _stack(blocks, width):
    """Stack the (possibly narrower) blocks, padding each row to ``width`` with -1."""
    return [row + [-1] * (width - len(row)) for block in blocks for row in block]


def _columns(matrix, start, stop):
    return [row[start:stop] for row in matrix]


def _transpose(matrix):
    return [list(col) for col in zip(*matrix)] if matrix else []


def _anti_diagonals(matrix):
    """Read ``matrix`` diagonal by diagonal (row + col constant), bottom-left entry first."""
    rows, cols = len(matrix), len(matrix[0])
    out = []
    for d in range(rows + cols - 1):
        for row in range(min(d, rows - 1), max(0, d - cols + 1) - 1, -1):
            out.append(matrix[row][d - row])
    return out


def fetch_order(dataflow, big_r, big_c, a, b):
    """(ifmap, filter) prefetch orders: flat lists of addresses with -1 for padding."""
    at, bt = _transpose(a), _transpose(b)        # at[k][p], bt[m][k]
    npx, k_total, m_total = len(a), len(b), len(b[0])
    if dataflow == "os":   # ifmap: A^T per row fold of pixels; filter: B per column fold of filters
        ifm = _stack([_columns(at, f, f + big_r) for f in range(0, npx, big_r)], big_r)
        fil = _stack([_columns(b, f, f + big_c) for f in range(0, m_total, big_c)], big_c)
        return _anti_diagonals(ifm), _anti_diagonals(fil)
    if dataflow == "ws":   # ifmap: A per row fold of k; filter: B per column fold, row-major
        ifm = _stack([_columns(a, f, f + big_r) for f in range(0, k_total, big_r)], big_r)
        fil = _stack([_columns(b, f, f + big_c) for f in range(0, m_total, big_c)], big_c)
        return _anti_diagonals(ifm), [x for row in fil for x in row]
    # is: ifmap A^T per column fold of pixels, row-major; filter B^T per row fold of k
    ifm = _stack([_columns(at, f, f + big_c) for f in range(0, npx, big_c)], big_c)
    fil = _stack([_columns(bt, f, f + big_r) for f in range(0, k_total, big_r)], big_r)
    return [x for row in ifm for x in row], _anti_diagonals(fil)


class ReadBuffer:
    """Double-buffered read SRAM over a fetch order, with one DRAM line of ``bw`` words a cycle."""

    def __init__(self, order, sram_words, bw):
        self.bw = bw
        per_set = math.ceil(sram_words / 100)
        active_words = math.ceil(sram_words * 0.5)
        self.prefetch_words = sram_words - active_words
        self.sets = [set()]
        filled = 0
        for addr in order:
            if addr != -1:
                self.sets[-1].add(addr)
                filled += 1
                if filled == per_set:
                    self.sets.append(set())
                    filled = 0
        n = len(self.sets)
        self.active_sets = min(math.ceil(active_words / per_set), n)
        self.prefetch_sets = min(math.ceil(self.prefetch_words / per_set), n - self.active_sets)
        self.window = 0                       # first set of the active window
        lines = min(math.ceil(active_words / bw), math.ceil(len(order) / bw))
        self.dram_words = lines * bw
        self.dram_cycles = list(range(-lines, 0))   # each line arrives one cycle after its request
        self.last_prefetch = -1

    def holds(self, addr):
        n = len(self.sets)
        return any(addr in self.sets[(self.window + i) % n] for i in range(self.active_sets))

    def prefetch(self):
        self.window = (self.window + self.prefetch_sets) % len(self.sets)
        lines = math.ceil(self.prefetch_words / self.bw)
        self.dram_words += lines * self.bw
        issued = [self.last_prefetch + 1 + i for i in range(lines)]
        self.dram_cycles += [c + 1 for c in issued]
        self.last_prefetch = max(self.dram_cycles)

    def read_row(self, cycle, addrs):
        """Cycle at which the row is served (SCALE-Sim 3.0.0 counts a positive stall twice)."""
        offset = 1
        for addr in addrs:
            if addr == -1:
                continue
            while not self.holds(addr):
                self.prefetch()
                behind = self.last_prefetch - (cycle + offset)
                offset += behind
                if behind > 0:
                    offset += behind
        return cycle + offset


class WriteBuffer:
    """OFMAP SRAM packing outputs into lines of ``bw`` words; drains half of it when full."""

    def __init__(self, sram_words, bw):
        self.bw = bw
        self.total = sram_words
        self.drain_words = sram_words - math.ceil(sram_words * 0.5)
        self.free = sram_words
        self.lines = []            # closed lines: number of words in each
        self.open = 0
        self.drained = 0           # lines handed to DRAM so far
        self.drain_end = 0
        self.dram_words = 0
        self.dram_cycles = []

    def _close(self):
        if self.open:
            self.lines.append(self.open)
            self.open = 0

    def _drain(self, start):
        batch = self.lines[self.drained:self.drained + math.ceil(self.drain_words / self.bw)]
        data = len(batch) * self.bw - (self.bw - batch[-1])   # only the last line's padding
        self.dram_words += data
        self.free += data
        self.drained += len(batch)
        self.dram_cycles += [start + i for i in range(len(batch))]
        return start + len(batch) - 1

    def write_row(self, cycle, addrs):
        now = cycle
        for addr in addrs:
            if addr == -1:
                continue
            self.open += 1
            self.free -= 1
            if self.open == self.bw:
                self._close()
            if now < self.drain_end:
                if self.free <= 0:
                    now = self.drain_end          # wait for the drain in progress
            elif self.free < self.total - self.drain_words:
                self._close()
                self.drain_end = self._drain(now)
        return now

    def flush(self, cycle):
        self._close()
        while self.drained < len(self.lines):
            self.drain_end = self._drain(cycle)
            cycle = self.drain_end + 1


def ref_user(dataflow, big_r, big_c, geom, n_filters, sram_words, bandwidths):
    """SCALE-Sim 3.0.0 USER-mode numbers of one layer.

    Parameters
    ----------
    geom : tuple of 9 ints
        ``(in_h, in_w, channels, kernel_h, kernel_w, stride_h, stride_w, out_h, out_w)``.
    sram_words : (ifmap, filter, ofmap) SRAM sizes in words.
    bandwidths : (ifmap, filter, ofmap) DRAM words per cycle.

    Returns
    -------
    dict of ints: ``cycles`` (Total Cycles), ``stall_cycles``, ``compute_cycles`` (demand rows
    - 1), ``cycles_incl_prefetch``, the DRAM counts and their first/last cycles.
    """
    ifm_dem, fil_dem, ofm_dem = demand_matrices(dataflow, big_r, big_c, geom, n_filters)
    a, b = operand_matrices(geom, n_filters)
    ifm_order, fil_order = fetch_order(dataflow, big_r, big_c, a, b)
    ifm = ReadBuffer(ifm_order, sram_words[0], bandwidths[0])
    fil = ReadBuffer(fil_order, sram_words[1], bandwidths[1])
    ofm = WriteBuffer(sram_words[2], bandwidths[2])
    stalls, last_write = 0, []
    for i in range(len(ifm_dem)):
        cycle = i + stalls
        ifm_stall = ifm.read_row(cycle, ifm_dem[i]) - cycle - 1
        fil_stall = fil.read_row(cycle, fil_dem[i]) - cycle - 1
        written = ofm.write_row(cycle, ofm_dem[i])
        last_write.append(written)
        stalls += max(ifm_stall, fil_stall, written - cycle)
    ofm.flush(last_write[-1])
    first_read = min(ifm.dram_cycles[0], fil.dram_cycles[0])
    return dict(
        cycles=max(last_write), stall_cycles=stalls, compute_cycles=len(ifm_dem) - 1,
        cycles_incl_prefetch=max(ofm.dram_cycles) - first_read,
        ifmap_dram_reads=ifm.dram_words, filter_dram_reads=fil.dram_words, ofmap_dram_writes=ofm.dram_words,
        ifmap_dram_start=min(ifm.dram_cycles), ifmap_dram_stop=max(ifm.dram_cycles),
        filter_dram_start=min(fil.dram_cycles), filter_dram_stop=max(fil.dram_cycles),
        ofmap_dram_start=min(ofm.dram_cycles), ofmap_dram_stop=max(ofm.dram_cycles),
    )
