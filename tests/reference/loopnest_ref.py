"""Naive loop-nest walker: steps through every time step of a mapped convolution and moves
whole tensor elements between explicit buffers.

Written independently of ``accelsim.lower.loopnest``: no closed forms. At every time step it
asks each buffer instance which tile the mapping makes it hold (the set of elements its inner
loops touch, enumerated point by point), and when that tile's identity changes it fetches
elements under the residency rules of docs/hierarchy.md: on a slide (only the innermost loop
the tensor depends on advanced, by one step) it keeps the elements it already holds, otherwise
it fetches the whole tile; a parent read serves every instance taking that element at that
step; partial sums go back up on every change and come back down only if they were written
up before.

The nest is given as plain data: ``levels`` is a list of lists of ``(dim, bound, spatial)``,
``keeps`` a list of sets of tensor names, ``bounds`` a dict of the problem's dimensions.
"""

from __future__ import annotations

import itertools

INDEX_DIMS = {"filter": "GKCRS", "ifmap": "GNCPQRS", "ofmap": "GNKPQ"}


def element(tensor, point, stride_h, stride_w):
    """The tensor element a MAC at ``point`` (dim -> index) touches."""
    g, n, k, c = point["G"], point["N"], point["K"], point["C"]
    p, q, r, s = point["P"], point["Q"], point["R"], point["S"]
    if tensor == "filter":
        return (g, k, c, r, s)
    if tensor == "ifmap":
        return (g, n, c, p * stride_h + r, q * stride_w + s)
    return (g, n, k, p, q)


def _loops(levels):
    """[(level, dim, bound, spatial, weight)] in nest order; weight = the dimension's place value."""
    flat = [(lvl, dim, bound, spatial) for lvl, level in enumerate(levels) for dim, bound, spatial in level]
    weights, out = {}, []
    for lvl, dim, bound, spatial in reversed(flat):
        out.append((lvl, dim, bound, spatial, weights.get(dim, 1)))
        weights[dim] = weights.get(dim, 1) * bound
    return out[::-1]


def _tile(loops, fixed, child, tensor, strides):
    """Elements touched by the loops at levels >= child, the other loops' indices ``fixed``."""
    inner = [loop for loop in loops if loop[0] >= child]
    base = dict.fromkeys("GNKCPQRS", 0)
    for (lvl, dim, bound, spatial, weight), index in fixed.items():
        base[dim] += index * weight
    out = set()
    for combo in itertools.product(*(range(loop[2]) for loop in inner)):
        point = dict(base)
        for loop, index in zip(inner, combo):
            point[loop[1]] += index * loop[4]
        out.add(element(tensor, point, *strides))
    return out


def walk(levels, keeps, bounds, stride_h=1, stride_w=1):
    """Counts per (tensor, parent, child): parent_reads, child_fills, parent_writes, child_drains,
    reduction_hops, summed over instances (child ``len(levels)``: the MACs)."""
    loops = _loops(levels)
    for dim in "GNKCPQRS":
        product = 1
        for loop in loops:
            if loop[1] == dim:
                product *= loop[2]
        assert product == bounds.get(dim, 1), dim
    temporal = [loop for loop in loops if not loop[3]]
    results = {}
    for tensor in ("filter", "ifmap", "ofmap"):
        chain = [i for i, k in enumerate(keeps) if tensor in k] + [len(levels)]
        for parent, child in zip(chain, chain[1:]):
            results[(tensor, parent, child)] = _boundary(loops, temporal, tensor, parent, child, (stride_h, stride_w))
    return results


def _boundary(loops, temporal, tensor, parent, child, strides):
    counts = dict.fromkeys(("parent_reads", "child_fills", "parent_writes", "child_drains", "reduction_hops"), 0)
    outer_t = [loop for loop in temporal if loop[0] < child]
    spatial_child = [loop for loop in loops if loop[3] and loop[0] < child]
    spatial_parent = [loop for loop in loops if loop[3] and loop[0] < parent]
    depends = [loop for loop in outer_t if loop[1] in INDEX_DIMS[tensor] and loop[2] > 1]
    held = {}        # child instance -> its elements
    identity = None  # indices of the outer loops the tensor depends on
    written_up = set()

    def instances():
        for combo in itertools.product(*(range(loop[2]) for loop in spatial_child)):
            yield dict(zip(spatial_child, combo))

    def group_of(inst):
        return tuple(inst[loop] for loop in spatial_parent)

    def drain():
        groups = {}
        for inst, elements in held.items():
            counts["child_drains"] += len(elements)
            groups.setdefault(inst[0], set()).update(elements)
        for elements in groups.values():
            counts["parent_writes"] += len(elements)
            written_up.update(elements)
        counts["reduction_hops"] = counts["child_drains"] - counts["parent_writes"]

    for step in itertools.product(*(range(loop[2]) for loop in outer_t)):
        now = dict(zip(outer_t, step))
        new_identity = tuple(now[loop] for loop in depends)
        if new_identity == identity:
            continue
        slide = (identity is not None and new_identity[:-1] == identity[:-1]
                 and new_identity[-1] == identity[-1] + 1)
        if tensor == "ofmap" and identity is not None:
            drain()
        wanted = {}
        for inst in instances():
            fixed = {**now, **inst}
            wanted[(group_of(inst), tuple(sorted(inst.items(), key=lambda kv: loops.index(kv[0]))))] = \
                _tile(loops, fixed, child, tensor, strides)
        if tensor == "ofmap":
            groups = {}
            for key, elements in wanted.items():
                groups.setdefault(key[0], set()).update(elements)
            back = sum(len(elements & written_up) for elements in groups.values())
            counts["parent_reads"] += back
            counts["child_fills"] += back
        else:
            groups = {}
            for key, elements in wanted.items():
                fetch = elements - held[key] if slide else elements
                counts["child_fills"] += len(fetch)
                groups.setdefault(key[0], set()).update(fetch)
            counts["parent_reads"] += sum(len(elements) for elements in groups.values())
        held = wanted
        identity = new_identity
    if tensor == "ofmap":
        drain()
    return counts
