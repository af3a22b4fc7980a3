#!/usr/bin/env python3
"""Check the closed-form claims about SCALE-Sim 3.0.0 against reference.csv.

Run with plain python3 (needs pandas + numpy, not SCALE-Sim)::

    python3 tests/data/scalesim/check_formulas.py            # summary per formula
    python3 tests/data/scalesim/check_formulas.py -v         # also list every failing row

Two kinds of checks:

* Closed forms (peers/SCALESIM.md sections 5-6): per-fold cycles, Total Cycles = F*per_fold - 1
  (+stalls), the util formulas, the SRAM count table, and the CALC-mode DRAM counts /
  start/stop / Total Cycles (incl. prefetch) for the "simple" case (every read operand fits in
  50 sets, OFMAP fits in half its SRAM).
* ``calc_model``: an independent re-implementation of the CALC-mode memory model as described in
  docs/scalesim_memory_model.md (walks the demand address streams once; O(valid addresses)).
  It must reproduce every DETAILED_ACCESS_REPORT column, Total Cycles (incl. prefetch) and the
  bandwidth report on every CALC row, including the >50-set rows. It is written from the
  description, not from SCALE-Sim's code.

This file is a data-validation tool; it is not part of the test suite.
"""
from __future__ import annotations

import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
VERBOSE = "-v" in sys.argv

IFMAP_OFFSET, FILTER_OFFSET, OFMAP_OFFSET = 0, 10_000_000, 20_000_000


# --------------------------------------------------------------------------------------------
# Layer geometry
# --------------------------------------------------------------------------------------------
class Layer:
    def __init__(self, row):
        self.df = row.dataflow
        self.R, self.C = int(row.array_h), int(row.array_w)
        self.H, self.W = int(row.ifmap_h), int(row.ifmap_w)
        self.Fh, self.Fw = int(row.filter_h), int(row.filter_w)
        self.Ch, self.M, self.S = int(row.channels), int(row.num_filters), int(row.stride)
        self.Eh = math.ceil((self.H - self.Fh + self.S) / self.S)
        self.Ew = math.ceil((self.W - self.Fw + self.S) / self.S)
        self.Npx = self.Eh * self.Ew
        self.K = self.Fh * self.Fw * self.Ch
        self.Sr, self.Sc, self.T = {"os": (self.Npx, self.M, self.K),
                                    "ws": (self.K, self.M, self.Npx),
                                    "is": (self.K, self.Npx, self.M)}[self.df]
        self.row_folds = math.ceil(self.Sr / self.R)
        self.col_folds = math.ceil(self.Sc / self.C)
        self.F = self.row_folds * self.col_folds
        R, C, T = self.R, self.C, self.T
        self.per_fold = T + R + C - 2 if self.df == "os" else 2 * R + C + T - 2
        self.N = self.F * self.per_fold
        self.kb = (int(row.ifmap_sram_kb), int(row.filter_sram_kb), int(row.ofmap_sram_kb))

    # operand address matrices (SCALESIM.md 6.1); -1 = outside the ifmap
    def ifmap_op(self):
        p = np.arange(self.Npx)[:, None]
        k = np.arange(self.K)[None, :]
        oh, ow = p // self.Ew, p % self.Ew
        r, rem = k // (self.Fw * self.Ch), k % (self.Fw * self.Ch)
        s, c = rem // self.Ch, rem % self.Ch
        y, x = oh * self.S + r, ow * self.S + s
        addr = (y * self.W + x) * self.Ch + c + IFMAP_OFFSET
        return np.where((y < self.H) & (x < self.W), addr, -1)

    def filter_op(self):
        k = np.arange(self.K)[:, None]
        f = np.arange(self.M)[None, :]
        return f * self.K + k + FILTER_OFFSET

    def ofmap_op(self):
        p = np.arange(self.Npx)[:, None]
        f = np.arange(self.M)[None, :]
        return p * self.M + f + OFMAP_OFFSET

    # ---- demand streams: (row, address) of every valid request, in processing order --------
    def demand_streams(self):
        """Return dict operand -> (rows, addrs) numpy arrays, row-major order (row, then column).

        Folds are concatenated column-fold-major (for fc: for fr:), each `per_fold` rows long.
        Within a fold (local row i):
          os  ifmap  col r: A[fr*R+r, i-r]            filter col c: B[i-c, fc*C+c]
              ofmap  col c: O[fr*R + R-1-(i-c-(T-1)), fc*C+c]
          ws  ifmap  col r: A[i-r-R, fr*R+r]          filter (i<R) col c: B[fr*R+R-1-i, fc*C+c]
              ofmap  col c: O[i-c-(2R-1), fc*C+c]
          is  ifmap  (i<R) col c: A[fc*C+c, fr*R+R-1-i]   filter col r: B[fr*R+r, i-r-R]
              ofmap  col c: O[fc*C+c, i-c-(2R-1)]
        with A = ifmap operand (Npx x K), B = filter operand (K x M), O = ofmap operand (Npx x M);
        indices outside the matrices are "no request".
        """
        A, B, O = self.ifmap_op(), self.filter_op(), self.ofmap_op()
        R, C, T, P = self.R, self.C, self.T, self.per_fold
        i = np.arange(P)[:, None]

        def gather(mat, ri, ci):
            ok = (ri >= 0) & (ri < mat.shape[0]) & (ci >= 0) & (ci < mat.shape[1])
            out = np.full(np.broadcast(ri, ci).shape, -1, dtype=np.int64)
            out[ok] = mat[np.broadcast_to(ri, out.shape)[ok], np.broadcast_to(ci, out.shape)[ok]]
            return out

        per = defaultdict(list)
        fold = 0
        for fc in range(self.col_folds):
            for fr in range(self.row_folds):
                r = np.arange(R)[None, :]
                c = np.arange(C)[None, :]
                if self.df == "os":
                    ifm = gather(A, fr * R + r + 0 * i, i - r)
                    fil = gather(B, i - c, fc * C + c + 0 * i)
                    j = i - c - (T - 1)
                    ofm = np.where((j >= 0) & (j < R), gather(O, fr * R + R - 1 - j, fc * C + c + 0 * i), -1)
                elif self.df == "ws":
                    ifm = gather(A, i - r - R, fr * R + r + 0 * i)
                    fil = np.where(i < R, gather(B, fr * R + R - 1 - i, fc * C + c + 0 * i), -1)
                    ofm = gather(O, i - c - (2 * R - 1), fc * C + c + 0 * i)
                else:  # is
                    ifm = np.where(i < R, gather(A, fc * C + c + 0 * i, fr * R + R - 1 - i), -1)
                    fil = gather(B, fr * R + r + 0 * i, i - r - R)
                    ofm = gather(O, fc * C + c + 0 * i, i - c - (2 * R - 1))
                for name, mat in (("ifmap", ifm), ("filter", fil), ("ofmap", ofm)):
                    rows, cols = np.nonzero(mat >= 0)
                    per[name].append((rows + fold * P, mat[rows, cols]))
                fold += 1
        return {k: (np.concatenate([a for a, _ in v]), np.concatenate([b for _, b in v]))
                for k, v in per.items()}


# --------------------------------------------------------------------------------------------
# Independent CALC-mode memory model (see docs/scalesim_memory_model.md)
# --------------------------------------------------------------------------------------------
def calc_read_operand(rows, addrs, kb):
    """DRAM start, stop, reads of one read operand (ifmap or filter) in CALC mode."""
    ips = (kb * 1024) // 100             # words per set
    group_cap = 50 * ips                 # the 50 active sets
    first_req = int(rows[0])
    seen = set()
    triggers = []                        # row (= cycle) at which each group filled up
    reads = 0
    for row, a in zip(rows.tolist(), addrs.tolist()):
        if a in seen:
            continue
        seen.add(a)
        reads += 1
        if len(seen) == group_cap:
            triggers.append(row)
            seen = set()
    if not triggers:
        nsets = math.ceil(len(seen) / ips)
        start = -math.ceil(nsets * ips / 10)
        stop = -1
    else:
        start = first_req - 5 * ips      # ceil(50*ips/10)
        stop = triggers[-1] + 1
    return start, stop, reads


def calc_write_ofmap(rows, C, kb, last_row):
    """DRAM start, stop, writes of the OFMAP in CALC mode (drain bandwidth = ArrayWidth)."""
    total = kb * 1024
    active = math.ceil(total * 0.5)
    drain_sz = total - active
    lines_per_drain = math.ceil(drain_sz / C)
    line_fill = []                       # number of valid words of every closed line
    cur = 0                              # words in the open line
    free = total
    drain_line = 0                       # first line not yet drained
    drain_end = 0
    cycles = []
    writes = 0

    def drain(start_cycle):
        nonlocal drain_line, writes, free
        n = min(lines_per_drain, len(line_fill) - drain_line)
        batch = line_fill[drain_line:drain_line + n]
        data = n * C - (C - batch[-1])   # only the last line's padding is subtracted
        writes += data
        free += data
        cycles.extend(range(start_cycle, start_cycle + n))
        drain_line += n
        return start_cycle + n - 1

    for row in rows.tolist():
        cur += 1
        free -= 1
        if cur == C:
            line_fill.append(C)
            cur = 0
        if row < drain_end:
            assert free > 0, "OFMAP write stall (not modelled)"
        elif free < active:
            if cur:
                line_fill.append(cur)
                cur = 0
            drain_end = drain(row)
    if cur:
        line_fill.append(cur)
    cycle = last_row
    while drain_line < len(line_fill):
        drain_end = drain(cycle)
        cycle = drain_end + 1
    return min(cycles), max(cycles), writes


def calc_model(layer: Layer):
    st = layer.demand_streams()
    out = {}
    for name, kb in (("ifmap", layer.kb[0]), ("filter", layer.kb[1])):
        rows, addrs = st[name]
        out[f"{name}_sram_start"] = int(rows[0]) + 1        # read hit latency 1
        out[f"{name}_sram_stop"] = int(rows[-1]) + 1
        out[f"{name}_dram_start"], out[f"{name}_dram_stop"], out[f"{name}_dram_reads"] = \
            calc_read_operand(rows, addrs, kb)
    rows, _ = st["ofmap"]
    out["ofmap_sram_start"] = int(rows[0])                  # writes serviced in the same cycle
    out["ofmap_sram_stop"] = int(rows[-1])
    out["ofmap_dram_start"], out["ofmap_dram_stop"], out["ofmap_dram_writes"] = \
        calc_write_ofmap(rows, layer.C, layer.kb[2], layer.N - 1)
    out["total_cycles_incl_prefetch"] = out["ofmap_dram_stop"] - min(out["ifmap_dram_start"],
                                                                     out["filter_dram_start"])
    for name, key in (("ifmap", "reads"), ("filter", "reads"), ("ofmap", "writes")):
        out[f"avg_{name}_dram_bw"] = out[f"{name}_dram_{key}"] / (
            out[f"{name}_dram_stop"] - out[f"{name}_dram_start"] + 1)
    return out, st


# --------------------------------------------------------------------------------------------
# Closed forms
# --------------------------------------------------------------------------------------------
def close(a, b):
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


def closed_forms(L: Layer, row, st):
    """Yield (formula_name, applicable, expected, actual)."""
    R, C, T, Sr, Sc, F = L.R, L.C, L.T, L.Sr, L.Sc, L.F
    calc = row.interface_bw == "CALC"
    yield "per_fold: Total-Stall = F*per_fold-1", True, L.N - 1, row.total_cycles - row.stall_cycles
    if calc:
        yield "CALC: stall_cycles = 0", True, 0, row.stall_cycles
    macs = L.Npx * L.K * L.M
    yield "overall_util = 100*Npx*K*M/(Total*R*C)", True, \
        100 * macs / (row.total_cycles * R * C), row.overall_util_pct
    me = 100 * Sr * Sc / (F * R * C)
    yield "mapping_eff = 100*Sr*Sc/(F*R*C)", True, me, row.mapping_efficiency_pct
    denom = T + R + C - 2 if L.df == "os" else 2 * R + 2 * C + T - 3
    yield "compute_util = mapping_eff*T/denom", True, me * T / denom, row.compute_util_pct
    # SRAM count table (6.6)
    if L.df == "os":
        exp = (T * Sr * L.col_folds, T * Sc * L.row_folds, Sr * Sc + F * (R + C))
    elif L.df == "ws":
        exp = (T * Sr * L.col_folds, Sr * Sc, T * Sc * L.row_folds)
    else:
        exp = (Sr * Sc, T * Sr * L.col_folds, T * Sc * L.row_folds)
    for nm, e, a in zip(("ifmap_sram_reads", "filter_sram_reads", "ofmap_sram_writes"), exp,
                        (row.ifmap_sram_reads, row.filter_sram_reads, row.ofmap_sram_writes)):
        yield f"SRAM table: {nm}", True, e, a
    for nm, key in (("ifmap", "reads"), ("filter", "reads"), ("ofmap", "writes")):
        yield f"SRAM bw: avg_{nm}_sram_bw = {nm}_sram_{key}/Total", True, \
            row[f"{nm}_sram_{key}"] / row.total_cycles, row[f"avg_{nm}_sram_bw"]
    # simple-case CALC closed forms (SCALESIM.md 6.7)
    if not calc:
        return
    ips_if, ips_f = (L.kb[0] * 1024) // 100, (L.kb[1] * 1024) // 100
    u_if = len(np.unique(st["ifmap"][1]))
    u_f = L.K * L.M
    ofmap_words = L.Npx * L.M if L.df == "os" else T * Sc * L.row_folds
    # strictly fewer than 50 full sets: exactly 50*ips distinct words already fills a group
    simple = u_if < 50 * ips_if and u_f < 50 * ips_f and ofmap_words <= (L.kb[2] * 1024) // 2
    yield "simple: DRAM ifmap reads = distinct valid ifmap addrs", simple, u_if, row.ifmap_dram_reads
    yield "simple: DRAM filter reads = K*M", simple, u_f, row.filter_dram_reads
    yield "simple: DRAM ofmap writes = Sr*Sc (os) | T*Sc*row_folds", simple, ofmap_words, \
        row.ofmap_dram_writes
    start = -max(math.ceil(math.ceil(u_if / ips_if) * ips_if / 10),
                 math.ceil(math.ceil(u_f / ips_f) * ips_f / 10))
    yield "simple: DRAM start = -max(ceil(ceil(U/ips)*ips/10))", simple, start, \
        min(row.ifmap_dram_start, row.filter_dram_start)
    ostop = L.N - 1 + math.ceil(ofmap_words / C) - 1
    yield "simple: DRAM ofmap stop = N-1+ceil(words/C)-1", simple, ostop, row.ofmap_dram_stop
    yield "simple: Total incl prefetch = ofmap stop - DRAM start", simple, ostop - start, \
        row.total_cycles_incl_prefetch
    if L.df == "ws":
        yield "ws: DRAM filter reads = K*M at any SRAM size", True, u_f, row.filter_dram_reads
    # >50-set closed form (see doc): operand fills its 50 sets at least once
    for nm, ips, u in (("ifmap", ips_if, u_if), ("filter", ips_f, u_f)):
        rows = st[nm][0]
        big = u >= 50 * ips
        yield f">50 sets: {nm} DRAM start = first_request_row - 5*ips", big, \
            int(rows[0]) - 5 * ips, row[f"{nm}_dram_start"]


MODEL_COLS = ["ifmap_sram_start", "ifmap_sram_stop", "filter_sram_start", "filter_sram_stop",
              "ofmap_sram_start", "ofmap_sram_stop",
              "ifmap_dram_start", "ifmap_dram_stop", "ifmap_dram_reads",
              "filter_dram_start", "filter_dram_stop", "filter_dram_reads",
              "ofmap_dram_start", "ofmap_dram_stop", "ofmap_dram_writes",
              "total_cycles_incl_prefetch",
              "avg_ifmap_dram_bw", "avg_filter_dram_bw", "avg_ofmap_dram_bw"]


def main():
    df = pd.read_csv(HERE / "reference.csv")
    stats = defaultdict(lambda: [0, 0, []])       # name -> [held, applicable, failing rows]
    for _, row in df.iterrows():
        L = Layer(row)
        tag = f"{row.case}/{row.layer_index}:{row.layer_name}"
        calc = row.interface_bw == "CALC"
        if calc:
            model, st = calc_model(L)
        else:
            st = L.demand_streams()
        # SRAM start/stop do not depend on the interface mode when there are no stalls
        for name, applicable, exp, act in closed_forms(L, row, st):
            if not applicable:
                continue
            s = stats[name]
            s[1] += 1
            if close(exp, act):
                s[0] += 1
            else:
                s[2].append(f"{tag} expected {exp} got {act}")
        if calc:
            for col in MODEL_COLS:
                s = stats[f"calc_model: {col}"]
                s[1] += 1
                if close(model[col], row[col]):
                    s[0] += 1
                else:
                    s[2].append(f"{tag} model {model[col]} got {row[col]}")
        elif row.stall_cycles == 0:
            for col in MODEL_COLS[:6]:
                s = stats[f"USER rows without stalls: {col}"]
                s[1] += 1
                if close(model_sram(st, col), row[col]):
                    s[0] += 1
                else:
                    s[2].append(f"{tag} expected {model_sram(st, col)} got {row[col]}")
    print(f"{len(df)} rows ({(df.interface_bw == 'CALC').sum()} CALC, "
          f"{(df.interface_bw == 'USER').sum()} USER)\n")
    width = max(len(k) for k in stats)
    for name, (held, n, fails) in stats.items():
        flag = "OK  " if held == n else "FAIL"
        print(f"{flag} {name:{width}s} {held}/{n}")
        if fails and VERBOSE:
            for f in fails:
                print("       ", f)
    return 0 if all(h == n for h, n, _ in stats.values()) else 1


def model_sram(st, col):
    name, _, which = col.split("_")
    rows = st[name][0]
    r = int(rows[0] if which == "start" else rows[-1])
    return r + (0 if name == "ofmap" else 1)


if __name__ == "__main__":
    sys.exit(main())
