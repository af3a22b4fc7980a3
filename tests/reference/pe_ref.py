"""Naive register-level reference of the systolic array (never imports accelsim.kernels).

Written differently from ``accelsim/kernels/pe.py`` on purpose: every cycle builds a whole
new array state from a snapshot of the old one (no in-place update order), every PE is a
dict, values are Python integers (exact; the accumulator width is applied after every
single addition), data items carry labels ``(fold, t)`` instead of being located by wave
arithmetic, and the controller decides fold starts by checking conditions cycle by cycle.

MAC rates and N:M (docs/timing_models.md): a PE multiplies *words*. A weight word is a list of
slots ``(k, value)`` (``p`` slots per PE with ``p`` products per cycle; with N:M each group of
``M`` weights along ``k`` keeps its non-zeros in ``N`` slots), an activation word is a dict
``{k: value}`` of the activations a PE may select from; the product looks each slot's ``k`` up
(the index mux). ``q`` cycles per product: the stream carries a bubble (``None``) in the first
``q - 1`` of every ``q`` waves.

Mechanism (docs/timing_models.md, native): ws/is load the stationary block through the top
edge, bottom row first, one row per cycle, skewed by one cycle per column, into shadow
registers (a value latches in the row its tag names); a switch travelling with the first
stream row of a fold copies shadow to active; partial sums flow down and leave at the bottom.
os: operands meet in the PEs (or are broadcast to them); each PE moves its finished sum into an
output register, and the output registers shift down and out for R cycles (with overlap, while
the next fold streams).
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


def product(x, w):
    """Sum of the products of two words (one a dict of activations, one a list of weight slots;
    ``None`` is an empty register)."""
    if x is None or w is None:
        return 0
    acts, slots = (x, w) if isinstance(x, dict) else (w, x)
    return sum(value * acts[k] for k, value in slots if k is not None)


def _folds(rows_dim, cols_dim, rows, cols):
    out = []
    for c0 in range(0, cols_dim, cols):
        for r0 in range(0, rows_dim, rows):
            out.append({"r0": r0, "c0": c0, "r": min(rows, rows_dim - r0), "c": min(cols, cols_dim - c0)})
    return out


def ref_stationary(x, w, rows, cols, *, overlap, scalesim, acc: Accumulator, q=1):
    """``y = x . w`` on a ws/is array; returns ``(y, stats)``.

    ``x`` is a list of T lists of Sr words, ``w`` a list of Sr lists of Sc words.
    """
    t_len, sr, sc = len(x), len(w), len(w[0])
    waves = q * t_len
    folds = _folds(sr, sc, rows, cols)
    for f in folds:
        f["load_rows"] = rows if scalesim else f["r"]
        f["time_cols"] = cols if scalesim else f["c"]
        f["load"] = f["stream"] = f["end"] = None
        f["exits"] = 0
    y = [[0] * sc for _ in range(t_len)]
    pe = [[{"w": None, "shadow": None, "ld": (None, None), "x": (None, None), "switch": False, "psum": (0, None)}
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
                if loaded and (n == 0 or g >= folds[n - 1]["stream"] + waves):
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
        top = [(None, None)] * cols
        for j in range(cols):
            for f in folds:  # every column, also after the fold's last used column has drained
                if f["load"] is not None and f["load"] <= g - j < f["load"] + f["load_rows"]:
                    row = f["load_rows"] - 1 - (g - j - f["load"])
                    value = None
                    if row < f["r"] and j < f["c"]:
                        value = w[f["r0"] + row][f["c0"] + j]
                        stats["top"] += 1
                    top[j] = (value, row)
        left = [((None, None), False)] * rows
        for i in range(rows):
            for n in live:
                f = folds[n]
                if f["stream"] is not None and f["stream"] <= g - i < f["stream"] + waves:
                    u = g - i - f["stream"]
                    t = u // q if u % q == q - 1 else None  # bubbles before each stream row
                    value = None
                    if i < f["r"] and t is not None:
                        value = x[t][f["r0"] + i]
                        stats["left"] += 1
                    left[i] = ((value, (n, t)), u == 0)
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
                p["psum"] = (acc.add(above[0], product(p["x"][0], p["w"])), label)
        # bottom edge
        for j in range(cols):
            value, label = pe[rows - 1][j]["psum"]
            if label is None:
                continue
            n, t = label
            f = folds[n]
            if j < f["time_cols"]:
                if j < f["c"] and t is not None:
                    y[t][f["c0"] + j] = acc.add(y[t][f["c0"] + j], value)
                    stats["bottom"] += 1
                f["exits"] += 1
                if f["exits"] == waves * f["time_cols"]:
                    f["end"] = g + 1
        g += 1
    stats["cycles"] = max(f["end"] for f in folds)
    stats["saturations"] = acc.saturations
    return y, stats


def ref_os(l, u, rows, cols, *, scalesim, acc: Accumulator, q=1, overlap=False, broadcast=False):
    """``y = l . u`` on an os array (``l``: Sr lists of T words, ``u``: T lists of Sc words);
    returns ``(y, stats)`` (``stats["drain"]``: drain cycles).

    Every operand carries its label ``(fold, wave)``; a PE holding data of a fold's last wave
    moves its sum, labelled with its output position, into its output register; once the
    fold's last wave has passed its last timed PE, the output registers shift down for ``rows``
    cycles and the bottom row's labelled sums are written out. ``overlap``: the next fold
    streams as soon as the edges are free and its first output (PE (0, 0)) would not land
    before the last shift; ``broadcast``: edge words reach all PEs of their row or column at once.
    """
    sr, t_len, sc = len(l), len(u), len(u[0])
    waves = q * t_len
    skew = 0 if broadcast else 1
    y = [[None] * sc for _ in range(sr)]
    stats = {"left": 0, "top": 0, "bottom": 0, "drain": 0, "cycles": 0}
    # the word of reduction step k is in wave q*k + q - 1; the waves before it are bubbles
    stream = []
    for k in range(t_len):
        stream += [None] * (q - 1) + [k]
    folds = _folds(sr, sc, rows, cols)
    for f, fo in enumerate(folds):
        rt, ct = (rows, cols) if scalesim else (fo["r"], fo["c"])
        if f == 0:
            start = 0
        else:
            last_shift = folds[f - 1]["last"] + rows
            start = folds[f - 1]["start"] + waves if overlap else last_shift + 1
            while start + waves - 1 <= last_shift:  # PE (0, 0)'s first output after the last shift
                start += 1
        fo["start"] = start
        fo["last"] = start + waves - 1 + skew * (rt - 1 + ct - 1)  # the last wave in PE (rt-1, ct-1)
    total = folds[-1]["last"] + rows + 1

    def edge(g, position, along):
        """(label, word) entering at ``position`` of the left (``along="r"``) or top edge."""
        for f, fo in enumerate(folds):
            w = g - skew * position - fo["start"]
            if 0 <= w < waves:
                k = stream[w]
                if position >= fo[along] or k is None:
                    return (f, w), None
                if along == "r":
                    return (f, w), l[fo["r0"] + position][k]
                return (f, w), u[k][fo["c0"] + position]
        return None, None

    pe = [[{"a": (None, None), "b": (None, None), "acc": 0, "out": None} for _ in range(cols)] for _ in range(rows)]
    for g in range(total):
        old = [[dict(p) for p in row] for row in pe]
        draining = next((f for f, fo in enumerate(folds) if fo["last"] < g <= fo["last"] + rows), None)
        if draining is not None:
            stats["drain"] += 1
            for j in range(cols):
                out = old[rows - 1][j]["out"]
                if out is not None and out[0] == draining:
                    f, i, jj, value = out
                    fo = folds[f]
                    if i < fo["r"] and jj < fo["c"]:
                        y[fo["r0"] + i][fo["c0"] + jj] = value
                        stats["bottom"] += 1
        left = [edge(g, i, "r") for i in range(rows)]
        top = [edge(g, j, "c") for j in range(cols)]
        stats["left"] += sum(word is not None for _, word in left)
        stats["top"] += sum(word is not None for _, word in top)
        for i in range(rows):
            for j in range(cols):
                a = left[i] if broadcast or j == 0 else old[i][j - 1]["a"]
                b = top[j] if broadcast or i == 0 else old[i - 1][j]["b"]
                total_sum = acc.add(old[i][j]["acc"], product(a[1], b[1]))
                out = old[i][j]["out"]
                if draining is not None:
                    out = old[i - 1][j]["out"] if i else None
                label = a[0]
                if label is not None and label[1] == waves - 1 and i < folds[label[0]]["r"]:
                    out = (label[0], i, j, total_sum)
                    total_sum = 0
                pe[i][j] = {"a": a, "b": b, "acc": total_sum, "out": out}
        stats["cycles"] += 1
    stats["saturations"] = acc.saturations
    return y, stats


def weight_slots(b, nm):
    """Per column of ``b`` (K lists of N numbers), its slots along ``k``: every ``(k, b[k][n])``
    (dense), or with ``nm = (N, M)`` each group's non-zeros in order of ``k`` padded with empty
    slots ``(None, 0)`` to ``min(N, group length)``; and the ``k`` of the group of each slot."""
    k_len, n_len = len(b), len(b[0])
    columns = []
    groups = [[k] for k in range(k_len)]
    for n in range(n_len):
        if nm is None:
            columns.append([(k, b[k][n]) for k in range(k_len)])
            continue
        keep, per_group = nm
        slots, groups = [], []
        for start in range(0, k_len, per_group):
            members = list(range(start, min(start + per_group, k_len)))
            kept = [(k, b[k][n]) for k in members if b[k][n] != 0]
            assert len(kept) <= keep, f"column {n} is not {keep}:{per_group} sparse"
            width = min(keep, len(members))
            slots += kept + [(None, 0)] * (width - len(kept))
            groups += [members] * width
        columns.append(slots)
    return columns, groups


def ref_gemm(a, b, rows, cols, dataflow, *, overlap=False, scalesim=False, bits=None, overflow="wrap",
             p=1, q=1, nm=None, broadcast=False):
    """``A @ B`` (lists of lists) on a ``rows x cols`` array; returns ``(C, stats)``.

    ``p`` products per cycle (a PE holds ``p`` consecutive weight slots), ``q`` cycles per
    product, ``nm`` = (N, M) weight sparsity (``b`` must conform). ``stats``: ``cycles`` (in the
    timing model's convention: SCALE-Sim leaves out the os drain and reports the last cycle's
    index), ``ifmap``/``filter``/``ofmap`` edge words, ``saturations``.
    """
    acc = Accumulator(bits, overflow)
    m, n = len(a), len(b[0])
    columns, groups = weight_slots(b, nm)
    starts = range(0, len(columns[0]), p)  # one array row (os: one reduction step) per p slots
    wgt = [[columns[j][s:s + p] for j in range(n)] for s in starts]  # R lists of N words
    windows = [sorted({k for g in groups[s:s + p] for k in g}) for s in starts]
    act = [[{k: a[i][k] for k in window} for window in windows] for i in range(m)]  # M lists of R words
    act_t = [[act[i][r] for i in range(m)] for r in range(len(windows))]
    wgt_t = [[wgt[r][j] for r in range(len(windows))] for j in range(n)]
    if dataflow == "os":
        c, s = ref_os(act, wgt, rows, cols, scalesim=scalesim, acc=acc, q=q, overlap=overlap and not scalesim,
                      broadcast=broadcast)
        ifmap, filt = s["left"], s["top"]
    elif dataflow == "ws":
        c, s = ref_stationary(act, wgt, rows, cols, overlap=overlap and not scalesim, scalesim=scalesim, acc=acc,
                              q=q)
        ifmap, filt = s["left"], s["top"]
    else:
        ct, s = ref_stationary(wgt_t, act_t, rows, cols, overlap=overlap and not scalesim, scalesim=scalesim,
                               acc=acc, q=q)
        c = [[ct[j][i] for j in range(n)] for i in range(m)]
        ifmap, filt = s["top"], s["left"]
    cycles = s["cycles"]
    if scalesim:
        cycles -= s.get("drain", 0) + 1
    return c, {"cycles": cycles, "ifmap": ifmap, "filter": filt, "ofmap": s["bottom"],
               "saturations": s["saturations"]}
