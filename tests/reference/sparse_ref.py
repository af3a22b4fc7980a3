"""Naive per-PE makespan model of the sparse PE array (reference for ``kernels/sparse.py``).

Written differently from the kernel on purpose: it enumerates every MAC ``(m, n, k)`` of the
GEMM, files it under (fold, lockstep group, step) in dictionaries, and reads the answer off
sets. Definitions (``docs/sparsity.md``): dataflow os maps (m, n) to (row, col) and streams k;
ws maps (k, n) and streams m; is maps (k, m) and streams n. A group spends a cycle on a step
if any of its MACs there is effectual; the fold streams for its busiest group; an empty fold
is not run; a run fold costs ``r + c + R - 2 + T_eff`` cycles.
"""

from collections import defaultdict


def ref_sparse_array(rows, cols, dataflow, mode, sync, m, n, k, wmask=None, amask=None):
    """``dataflow`` in os/ws/is, ``mode`` in none/gate/skip, ``sync`` in pe/row/column/fold."""
    place = {
        "os": lambda mi, ni, ki: (mi, ni, ki),
        "ws": lambda mi, ni, ki: (ki, ni, mi),
        "is": lambda mi, ni, ki: (ki, mi, ni),
    }[dataflow]
    sr, sc, t_len = place(m, n, k)
    macs_at = defaultdict(list)   # (fold_col, fold_row) -> [(row, col, step, effectual)]
    for mi in range(m):
        for ni in range(n):
            for ki in range(k):
                row, col, step = place(mi, ni, ki)
                effectual = True
                if wmask is not None and not wmask[ki][ni]:
                    effectual = False
                if amask is not None and not amask[mi][ki]:
                    effectual = False
                macs_at[(col // cols, row // rows)].append((row % rows, col % cols, step, effectual))

    totals = defaultdict(int)
    for fold in sorted(macs_at):
        macs = macs_at[fold]
        r = 1 + max(row for row, _, _, _ in macs)
        c = 1 + max(col for _, col, _, _ in macs)
        totals["dense_stream_cycles"] += t_len
        if mode == "none":
            totals["mac_ops"] += len(macs)
            t_eff = t_len
        else:
            def group_of(row, col):
                return {"pe": (row, col), "row": (row, None), "column": (None, col), "fold": None}[sync]
            busy_steps = defaultdict(set)
            for row, col, step, effectual in macs:
                busy_steps[group_of(row, col)]  # every group exists, even an idle one
                if effectual:
                    busy_steps[group_of(row, col)].add(step)
            for row, col, step, effectual in macs:
                if effectual:
                    totals["mac_ops"] += 1
                elif mode == "gate" or step in busy_steps[group_of(row, col)]:
                    totals["gated_macs"] += 1
                else:
                    totals["skipped_macs"] += 1
            t_eff = t_len if mode == "gate" else max(len(s) for s in busy_steps.values())
        totals["stream_cycles"] += t_eff
        totals["pe_busy"] += r * c * t_eff
        if t_eff:
            totals["cycles"] += r + c + rows - 2 + t_eff
            totals["folds"] += 1
    totals["idle_pe_cycles"] = totals.pop("pe_busy") - totals["mac_ops"] - totals["gated_macs"]
    keys = ("cycles", "stream_cycles", "dense_stream_cycles", "mac_ops", "gated_macs", "skipped_macs",
            "idle_pe_cycles", "folds")
    return {key: totals[key] for key in keys}
