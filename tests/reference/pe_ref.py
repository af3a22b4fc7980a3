"""Naive register-level reference of the systolic array (never imports accelsim.kernels).

Written differently from ``accelsim/kernels/pe.py`` on purpose: every cycle builds a whole
new array state from a snapshot of the old one (no in-place update order), every PE is a
dict, values are Python integers (exact; the accumulator width is applied after every
single addition), data items carry labels ``(fold, t)`` instead of being located by wave
arithmetic, and the controller decides fold starts by checking conditions cycle by cycle.

Mechanism (docs/timing_models.md, native): ws/is load the stationary block through the top
edge, bottom row first, one row per cycle, skewed by one cycle per column, into shadow
registers (a value latches in the row its tag names); a switch travelling with the first
stream row of a fold copies shadow to active; partial sums flow down and leave at the bottom.
os: operands meet in the PEs, then the accumulators shift down and out for R cycles.
"""

from __future__ import annotations


class Accumulator:
    """Exact addition with an optional accumulator width (wrap or saturate), counting clips."""

    def __init__(self, bits: int | None, overflow: str):
        self.bits = bits
        self.overflow = overflow
        self.saturations = 0

    def add(self, a, b):
        s = a + b
        if self.bits is None:
            return s
        low, high = -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        if self.overflow == "wrap":
            return (s - low) % (2**self.bits) + low
        if s > high or s < low:
            self.saturations += 1
            return high if s > high else low
        return s


def _folds(rows_dim, cols_dim, rows, cols):
    out = []
    for c0 in range(0, cols_dim, cols):
        for r0 in range(0, rows_dim, rows):
            out.append({"r0": r0, "c0": c0, "r": min(rows, rows_dim - r0), "c": min(cols, cols_dim - c0)})
    return out


def ref_stationary(x, w, rows, cols, *, overlap, scalesim, acc: Accumulator):
    """``y = x @ w`` on a ws/is array; returns ``(y, stats)``.

    ``x`` is a list of T lists of Sr numbers, ``w`` a list of Sr lists of Sc numbers.
    """
    t_len, sr, sc = len(x), len(w), len(w[0])
    folds = _folds(sr, sc, rows, cols)
    for f in folds:
        f["load_rows"] = rows if scalesim else f["r"]
        f["time_cols"] = cols if scalesim else f["c"]
        f["load"] = f["stream"] = f["end"] = None
        f["exits"] = 0
    y = [[0] * sc for _ in range(t_len)]
    pe = [[{"w": 0, "shadow": 0, "ld": (0, None), "x": (0, None), "switch": False, "psum": (0, None)}
           for _ in range(cols)] for _ in range(rows)]
    stats = {"left": 0, "top": 0, "bottom": 0}
    g = 0
    while any(f["end"] is None for f in folds):
        # controller, this cycle: a fold streams once loaded and once the previous one is fed;
        # a load starts when the previous fold starts streaming (overlap) or has finished
        live = [n for n, f in enumerate(folds) if f["end"] is None]
        for n in live:
            f = folds[n]
            if f["stream"] is None:
                loaded = f["load"] is not None and g >= f["load"] + f["load_rows"]
                if loaded and (n == 0 or g >= folds[n - 1]["stream"] + t_len):
                    f["stream"] = g
                break
        for n in live:
            f = folds[n]
            if f["load"] is None:
                prev = folds[n - 1] if n else None
                if prev is None or (overlap and prev["stream"] is not None) or \
                        (not overlap and prev["end"] is not None):
                    f["load"] = g
                break
        # edge inputs
        top = [(0, None)] * cols
        for j in range(cols):
            for f in (folds[n] for n in live):
                if f["load"] is not None and f["load"] <= g - j < f["load"] + f["load_rows"] and j < f["time_cols"]:
                    row = f["load_rows"] - 1 - (g - j - f["load"])
                    value = 0
                    if row < f["r"] and j < f["c"]:
                        value = w[f["r0"] + row][f["c0"] + j]
                        stats["top"] += 1
                    top[j] = (value, row)
        left = [((0, None), False)] * rows
        for i in range(rows):
            for n in live:
                f = folds[n]
                if f["stream"] is not None and f["stream"] <= g - i < f["stream"] + t_len:
                    t = g - i - f["stream"]
                    value = 0
                    if i < f["r"]:
                        value = x[t][f["r0"] + i]
                        stats["left"] += 1
                    left[i] = ((value, (n, t)), t == 0)
        # all PEs from the old snapshot
        old = [[dict(p) for p in row] for row in pe]
        for i in range(rows):
            for j in range(cols):
                p = pe[i][j]
                p["ld"] = top[j] if i == 0 else old[i - 1][j]["ld"]
                p["x"], p["switch"] = left[i] if j == 0 else (old[i][j - 1]["x"], old[i][j - 1]["switch"])
                if p["switch"]:
                    p["w"] = old[i][j]["shadow"]
                if p["ld"][1] == i:
                    p["shadow"] = p["ld"][0]
                above = (0, None) if i == 0 else old[i - 1][j]["psum"]
                label = p["x"][1] if i == 0 else above[1]
                p["psum"] = (acc.add(above[0], p["x"][0] * p["w"]), label)
        # bottom edge
        for j in range(cols):
            value, label = pe[rows - 1][j]["psum"]
            if label is None:
                continue
            n, t = label
            f = folds[n]
            if j < f["time_cols"]:
                if j < f["c"]:
                    y[t][f["c0"] + j] = acc.add(y[t][f["c0"] + j], value)
                    stats["bottom"] += 1
                f["exits"] += 1
                if f["exits"] == t_len * f["time_cols"]:
                    f["end"] = g + 1
        g += 1
    stats["cycles"] = max(f["end"] for f in folds)
    stats["saturations"] = acc.saturations
    return y, stats


def ref_os(l, u, rows, cols, *, scalesim, acc: Accumulator):
    """``y = l @ u`` on an os array; returns ``(y, stats)`` (``stats["drain"]``: drain cycles)."""
    sr, t_len, sc = len(l), len(u), len(u[0])
    y = [[None] * sc for _ in range(sr)]
    stats = {"left": 0, "top": 0, "bottom": 0, "drain": 0, "cycles": 0}
    pe = [[{"a": 0, "b": 0, "acc": 0} for _ in range(cols)] for _ in range(rows)]
    for f in _folds(sr, sc, rows, cols):
        rt, ct = (rows, cols) if scalesim else (f["r"], f["c"])
        mac_cycles = t_len + rt + ct - 2
        for c in range(mac_cycles + rows):
            old = [[dict(p) for p in row] for row in pe]
            if c < mac_cycles:
                for i in range(rows):
                    for j in range(cols):
                        if j == 0:
                            a = l[f["r0"] + i][c - i] if i < f["r"] and 0 <= c - i < t_len else 0
                            stats["left"] += i < f["r"] and 0 <= c - i < t_len
                        else:
                            a = old[i][j - 1]["a"]
                        if i == 0:
                            b = u[c - j][f["c0"] + j] if j < f["c"] and 0 <= c - j < t_len else 0
                            stats["top"] += j < f["c"] and 0 <= c - j < t_len
                        else:
                            b = old[i - 1][j]["b"]
                        pe[i][j] = {"a": a, "b": b, "acc": acc.add(old[i][j]["acc"], a * b)}
            else:
                stats["drain"] += 1
                leaving = rows - 1 - (c - mac_cycles)  # the array row whose result leaves now
                for j in range(f["c"]):
                    if leaving < f["r"]:
                        y[f["r0"] + leaving][f["c0"] + j] = old[rows - 1][j]["acc"]
                        stats["bottom"] += 1
                for i in range(rows):
                    for j in range(cols):
                        pe[i][j] = {"a": 0 if j == 0 else old[i][j - 1]["a"],
                                    "b": 0 if i == 0 else old[i - 1][j]["b"],
                                    "acc": 0 if i == 0 else old[i - 1][j]["acc"]}
            stats["cycles"] += 1
    stats["saturations"] = acc.saturations
    return y, stats


def ref_gemm(a, b, rows, cols, dataflow, *, overlap=False, scalesim=False, bits=None, overflow="wrap"):
    """``A @ B`` (lists of lists) on a ``rows x cols`` array; returns ``(C, stats)``.

    ``stats``: ``cycles`` (in the timing model's convention: SCALE-Sim leaves out the os drain
    and reports the last cycle's index), ``ifmap``/``filter``/``ofmap`` edge words,
    ``saturations``.
    """
    acc = Accumulator(bits, overflow)
    m, k, n = len(a), len(b), len(b[0])
    at = [[a[i][q] for i in range(m)] for q in range(k)]
    bt = [[b[q][j] for q in range(k)] for j in range(n)]
    if dataflow == "os":
        c, s = ref_os(a, b, rows, cols, scalesim=scalesim, acc=acc)
        ifmap, filt = s["left"], s["top"]
    elif dataflow == "ws":
        c, s = ref_stationary(a, b, rows, cols, overlap=overlap and not scalesim, scalesim=scalesim, acc=acc)
        ifmap, filt = s["left"], s["top"]
    else:
        ct, s = ref_stationary(bt, at, rows, cols, overlap=overlap and not scalesim, scalesim=scalesim, acc=acc)
        c = [[ct[j][i] for j in range(n)] for i in range(m)]
        ifmap, filt = s["top"], s["left"]
    cycles = s["cycles"]
    if scalesim:
        cycles -= s.get("drain", 0) + 1
    return c, {"cycles": cycles, "ifmap": ifmap, "filter": filt, "ofmap": s["bottom"],
               "saturations": s["saturations"]}
