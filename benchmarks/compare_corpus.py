"""Behaviour check for refactors: simulate a fixed corpus, write every frame, compare two runs.

    python benchmarks/compare_corpus.py run OUT_DIR        # frames of this checkout's code
    python benchmarks/compare_corpus.py compare DIR_A DIR_B  # identical frames, dtypes included?

Run it from the root of the checkout whose code is to be measured (``run`` imports the
``accelsim`` beside this file's folder). To compare against an older commit::

    git worktree add /tmp/base <commit>
    cp benchmarks/compare_corpus.py /tmp/base/benchmarks/
    (cd /tmp/base && python benchmarks/compare_corpus.py run /tmp/corpus_base)
    python benchmarks/compare_corpus.py run /tmp/corpus_new
    python benchmarks/compare_corpus.py compare /tmp/corpus_base /tmp/corpus_new

The corpus (a few minutes on one core):

* every shipped arch (``arch_configs/*.yaml``) x every zoo network (``workloads/*.yaml``) at
  the ``fold`` fidelity, fixed mapping;
* the same pairs on each network's three smallest array layers (by MACs) and first two
  vector layers, in network order, at the ``cycle`` fidelity, and with searched mappings
  (objectives cycles and energy) at ``fold`` and ``cycle`` where the arch's timing allows a
  search; at the ``pe`` fidelity, on the smallest array layer of at most 600,000 MACs and the
  first two vector layers (``tiny_cnn``: the same cut as ``cycle``);
* every shipped compression scheme (``workloads/schemes/``) on ``tiny_cnn`` on every arch, with
  real masks where the scheme asks for them;
* every SCALE-Sim reference case (``tests/data/scalesim/cases`` and ``random_cases``).

Each case writes ``<case>.layers.pkl`` and ``<case>.summary.pkl`` (pandas pickles, exact
values and dtypes), or ``<case>.error.txt`` (error class and message) when the run raises.
``compare`` exits 0 when both directories hold the same cases with equal frames (same columns
in the same order, same dtypes, bit-identical values; NaN equals NaN) and equal errors.
"""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path.cwd()
SMALL_ARRAY_LAYERS = 3
SMALL_VECTOR_LAYERS = 2
PE_ARRAY_LAYERS, PE_MAX_MACS = 1, 600_000  # the pe fidelity steps every PE register: keep it small
SEARCH_OBJECTIVES = ("cycles", "energy")


def _accelsim():
    sys.path.insert(0, str(ROOT))
    import accelsim

    return accelsim


def small(net, array_layers: int = SMALL_ARRAY_LAYERS, vector_layers: int = SMALL_VECTOR_LAYERS,
          max_macs: int | None = None):
    """``net`` cut to its ``array_layers`` smallest array layers (by MACs, at most ``max_macs``
    each) and its first ``vector_layers`` layers without MACs, kept in network order."""
    order = sorted(range(len(net.layers)), key=lambda i: (net.layers[i].macs, i))
    fits = [i for i in order if 0 < net.layers[i].macs <= (max_macs or net.layers[i].macs)]
    keep = fits[:array_layers] + [i for i in range(len(net.layers)) if net.layers[i].macs == 0][:vector_layers]
    return dataclasses.replace(net, name=f"{net.name}_small", layers=tuple(net.layers[i] for i in sorted(keep)))


def cases(ax):
    """``(case name, thunk returning a Result)`` of the whole corpus, in a fixed order."""
    archs = {p.stem: ax.load_arch(p) for p in sorted((ROOT / "arch_configs").glob("*.yaml"))}
    nets = {p.stem: ax.load_workload(p) for p in sorted((ROOT / "workloads").glob("*.yaml"))}
    out = []
    for a, arch in archs.items():
        searchable = arch.timing_model.value == "native"
        for n, net in nets.items():
            out.append((f"{a}__{n}__fold", lambda arch=arch, net=net: ax.simulate(arch, net, "fold")))
            cut = small(net)
            out.append((f"{a}__{n}_small__cycle", lambda arch=arch, net=cut: ax.simulate(arch, net, "cycle")))
            tiny = small(net, PE_ARRAY_LAYERS, max_macs=PE_MAX_MACS) if n != "tiny_cnn" else cut
            out.append((f"{a}__{n}_small__pe", lambda arch=arch, net=tiny: ax.simulate(arch, net, "pe")))
            for fidelity in ("fold", "cycle") if searchable else ():
                for objective in SEARCH_OBJECTIVES:
                    out.append((f"{a}__{n}_small__{fidelity}__search_{objective}",
                                lambda arch=arch, net=cut, f=fidelity, o=objective:
                                ax.simulate(arch, net, f, mapping="search", objective=o)))
    tiny = nets["tiny_cnn"]
    for scheme in sorted((ROOT / "workloads" / "schemes").glob("*.yaml")):
        for a, arch in archs.items():
            out.append((f"{a}__tiny_cnn__{scheme.stem}__fold",
                        lambda arch=arch, path=scheme: _with_scheme(ax, arch, tiny, path)))
    for folder in ("cases", "random_cases"):
        base = ROOT / "tests" / "data" / "scalesim" / folder
        for cfg in sorted(base.glob("*.cfg")):
            out.append((f"scalesim_{folder}__{cfg.stem}",
                        lambda cfg=cfg: ax.simulate(ax.load_arch(cfg), ax.load_workload(cfg.with_suffix(".csv")))))
    return out


def _with_scheme(ax, arch, net, path: Path):
    """``net`` compressed by the scheme at ``path`` (masks written to a temporary folder), simulated."""
    from accelsim.compress.scheme import apply_scheme, load_scheme

    with tempfile.TemporaryDirectory() as folder:
        compressed = apply_scheme(net, load_scheme(path), mask_dir=Path(folder))
        if "base_dir" in inspect.signature(ax.simulate).parameters:  # before masks were read on load
            return ax.simulate(arch, compressed, "fold", base_dir=folder)
        return ax.simulate(arch, compressed, "fold")


def run(out: Path) -> None:
    ax = _accelsim()
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    corpus = cases(ax)
    errors = 0
    for name, thunk in corpus:
        try:
            result = thunk()
        except Exception as exc:  # noqa: BLE001  (a rejection is part of the behaviour compared)
            (out / f"{name}.error.txt").write_text(f"{type(exc).__name__}: {exc}\n")
            errors += 1
            continue
        result.layers.to_pickle(out / f"{name}.layers.pkl")
        result.summary.to_pickle(out / f"{name}.summary.pkl")
    print(f"{len(corpus)} cases ({errors} rejected by accelsim) written to {out} in "
          f"{time.perf_counter() - start:.0f} s")


def frame_differences(a: pd.DataFrame, b: pd.DataFrame) -> list[str]:
    """Why two frames are not identical (columns, order, dtypes, index, values), or []."""
    if list(a.columns) != list(b.columns):
        if set(a.columns) == set(b.columns):
            return ["the same columns in another order"]
        return [f"columns differ: only in first {sorted(set(a.columns) - set(b.columns))}, only in second "
                f"{sorted(set(b.columns) - set(a.columns))}"]
    diffs = [f"{c}: dtype {a[c].dtype} vs {b[c].dtype}" for c in a.columns if a[c].dtype != b[c].dtype]
    if not a.index.equals(b.index):
        diffs.append("index differs")
    if not diffs:
        for c in a.columns:
            if not a[c].equals(b[c]):
                rows = [i for i in range(len(a)) if not _same(a[c].iloc[i], b[c].iloc[i])]
                diffs.append(f"{c}: {len(rows)} rows differ, first at row {rows[0] if rows else '?'}: "
                             f"{a[c].iloc[rows[0]]!r} vs {b[c].iloc[rows[0]]!r}" if rows else f"{c}: differs")
    return diffs


def _same(x, y) -> bool:
    if x is pd.NA or y is pd.NA:
        return x is y
    try:
        if x != x and y != y:  # NaN
            return True
    except (TypeError, ValueError):
        pass
    return bool(x == y) and type(x) is type(y)


def compare(first: Path, second: Path) -> int:
    names_a = {p.name for p in first.iterdir()}
    names_b = {p.name for p in second.iterdir()}
    problems = [f"only in {first}: {n}" for n in sorted(names_a - names_b)]
    problems += [f"only in {second}: {n}" for n in sorted(names_b - names_a)]
    for name in sorted(names_a & names_b):
        if name.endswith(".txt"):
            if (first / name).read_text() != (second / name).read_text():
                problems.append(f"{name}: error messages differ")
            continue
        diffs = frame_differences(pd.read_pickle(first / name), pd.read_pickle(second / name))
        problems += [f"{name}: {d}" for d in diffs]
    frames = sum(1 for n in names_a & names_b if n.endswith(".pkl"))
    errors = sum(1 for n in names_a & names_b if n.endswith(".txt"))
    for line in problems:
        print(line)
    print(f"{frames} frames and {errors} error messages compared: "
          f"{'identical' if not problems else f'{len(problems)} differences'}")
    return 0 if not problems else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run").add_argument("out", type=Path)
    cmp = sub.add_parser("compare")
    cmp.add_argument("first", type=Path)
    cmp.add_argument("second", type=Path)
    args = parser.parse_args(argv)
    if args.command == "run":
        run(args.out)
        return 0
    return compare(args.first, args.second)


if __name__ == "__main__":
    sys.exit(main())
