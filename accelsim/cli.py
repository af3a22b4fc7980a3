"""``accelsim`` command line: parses arguments, calls the library, formats what it returns.

Exit codes: 0 success, 2 bad input (a message naming the file and key, no traceback),
130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from accelsim.errors import AccelsimError, ConfigError, NotAvailableError, Problem

log = logging.getLogger("accelsim")

# Subcommands whose implementation lands with a later issue: name -> what brings it.
PENDING: dict[str, str] = {
}


def _kind_of(path: Path) -> str:
    """``arch`` or ``workload`` (or ``scheme``/``sweep``) for a file, from its suffix and keys."""
    if path.suffix == ".cfg":
        return "arch"
    if path.suffix in (".csv", ".onnx"):
        return "workload"
    from accelsim.spec.load import read_yaml

    data = read_yaml(path)
    for keys, kind in ((_WORKLOAD_KEYS, "workload"), (_ARCH_KEYS, "arch"), ({"rules"}, "scheme"), ({"axes"}, "sweep")):
        if keys & set(data):
            return kind
    raise ConfigError(str(path), [Problem("", "cannot tell what this file is: an architecture has 'array', "
                                          "a workload 'layers', a scheme 'rules', a sweep 'axes'")])


_WORKLOAD_KEYS = {"layers"}
_ARCH_KEYS = {"array", "buffers", "mac", "dram", "clock", "dataflow", "sparsity", "vector_unit"}


def cmd_validate(args: argparse.Namespace) -> int:
    from accelsim.compress.scheme import load_scheme
    from accelsim.frontend.load import load_arch, load_workload

    from accelsim.dse.sweep import check_sweep

    loaders = {"arch": load_arch, "workload": load_workload, "scheme": load_scheme, "sweep": check_sweep}
    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            kind = _kind_of(path)
            if kind not in loaders:
                raise NotAvailableError(f"{path}: validating a {kind} file arrives with its issue")
            spec = loaders[kind](path)
        except AccelsimError as exc:
            failed += 1
            print(exc, file=sys.stderr)
            continue
        detail = f"{spec.array.rows}x{spec.array.cols} {spec.array.dataflow.value}" if kind == "arch" else (
            f"{len(spec.rules)} rules" if kind == "scheme" else
            f"{len(spec.axes)} axes, {spec.sampler.kind.value} sampling" if kind == "sweep" else
            f"{len(spec.layers)} layers, {spec.macs:,} MACs")
        print(f"ok  {path}  ({kind}: {spec.name}, {detail})")
    return 2 if failed else 0


def cmd_sweep(args: argparse.Namespace) -> int:
    import signal

    from accelsim.dse.sweep import run_sweep

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a terminated sweep still stores what it finished
    out = run_sweep(args.spec, args.output, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                    per_layer=args.per_layer or None, progress=not args.quiet)
    rate = f", {out.points_per_second:.1f} points/s" if out.computed else ""
    print(f"{out.planned} rows: {out.reused} already stored, {out.computed} computed in {out.seconds:.1f} s{rate}"
          + (f"; {out.rejected} designs removed by constraints" if out.rejected else ""))
    if "pareto" in out.points:
        front = out.points[out.points["pareto"]]
        shown = list(dict.fromkeys(c for c in ("design", "workload", "scheme", *out.spec.axes, *out.spec.objectives)
                                   if c in front))
        print(f"Pareto front ({len(front)} rows):")
        print(front[shown].to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    print(f"results: {out.directory / 'points.parquet'} (and points.csv)")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    import tempfile

    from accelsim.dse.compare import compare

    kinds = {name: _kind_of(Path(name)) for name in args.files}
    archs = [n for n, k in kinds.items() if k == "arch"]
    workloads = [n for n, k in kinds.items() if k == "workload"]
    if not archs or not workloads:
        raise ConfigError(" ".join(args.files), [Problem("", "compare needs at least one architecture and one "
                                                             f"workload; got {len(archs)} and {len(workloads)}")])
    with tempfile.TemporaryDirectory(prefix="accelsim-masks-") as scratch:  # masks without -o are scratch
        mask_dir = (Path(args.output).parent if args.output else Path(scratch)) if args.masks else None
        table = compare(archs, workloads, args.scheme or [None], fidelity=args.fidelity, mapping=args.mapping,
                        objective=args.objective, mask_dir=mask_dir, batch=args.batch)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.output:
        _write_table(table, Path(args.output))
    if args.plot:
        from accelsim.plot.dse import compare_bars, save

        print("plot: " + ", ".join(map(str, save(compare_bars(table), args.plot))))
    return 0


def cmd_plot(args: argparse.Namespace) -> int:
    import pandas as pd

    from accelsim.dse.evaluate import roofline_metrics
    from accelsim.dse.sweep import read_results
    from accelsim.plot.dse import compare_bars, plot_results, save

    source = Path(args.results)
    if source.is_dir():
        points, layers, meta = read_results(source)
        default = source / args.kind
    elif source.suffix in (".csv", ".parquet") and source.exists():
        points = pd.read_parquet(source) if source.suffix == ".parquet" else pd.read_csv(source)
        layers, meta = None, {}
        default = source.with_name(f"{source.stem}-{args.kind}")
    else:
        raise ConfigError(str(source), [Problem("", "expected a sweep results directory or a .csv/.parquet table")])
    ceilings = None
    if args.arch:
        from accelsim.frontend.load import load_arch

        roofs = roofline_metrics(load_arch(args.arch))
        ceilings = (roofs["peak_macs_per_cycle"], roofs.get("dram_bytes_per_cycle"))
    try:
        fig = compare_bars(points) if args.kind == "compare" else plot_results(
            args.kind, points, layers, meta, x=args.x, y=args.y, metric=args.metric, key=args.key, ceilings=ceilings)
    except (KeyError, ValueError) as exc:
        raise ConfigError(str(source), [Problem("", str(exc).strip("'\""))]) from None
    print("plot: " + ", ".join(map(str, save(fig, args.output or default, svg=args.svg))))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from accelsim.frontend.onnx_io import load_onnx
    from accelsim.spec.load import save_workload

    net = load_onnx(args.model, batch=args.batch, default_bits=args.default_bits)
    save_workload(net, args.output)
    print(f"wrote {args.output}  ({net.name}: {len(net.layers)} layers, batch {net.batch}, {net.macs:,} MACs)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from accelsim import simulate
    from accelsim.frontend.load import load_arch, load_workload

    arch = load_arch(args.arch)
    net = load_workload(args.workload, batch=args.batch)
    result = simulate(arch, net, fidelity=args.fidelity, mapping=args.mapping, objective=args.objective)
    print(f"{net.name} on {arch.name} ({arch.array.rows}x{arch.array.cols} {arch.array.dataflow.value}, "
          f"{arch.timing_model.value} timing, {args.fidelity} fidelity)")
    print(format_layers(result.layers))
    total = result.summary.iloc[0]
    print(f"total: {total['cycles']:,} cycles ({total['stall_cycles']:,} stalled), "
          f"utilization {total['utilization']:.1%}, DRAM {total['dram_read_bytes']:,} B read / "
          f"{total['dram_write_bytes']:,} B written, {total['costed_layers']} of {total['layers']} layers costed")
    if args.output:
        _write_table(result.layers, Path(args.output))
        print(f"per-layer results: {args.output}")
    return 0


def format_layers(layers) -> str:
    """A readable per-layer table: counts with thousands separators, ratios in percent."""
    import pandas as pd

    shown = layers[["layer", "op", "macs", "cycles", "stall_cycles", "utilization", "mapping_efficiency",
                    "dram_read_bytes", "dram_write_bytes"]].copy()
    for name in ("utilization", "mapping_efficiency"):
        shown[name] = shown[name].map(lambda v: "-" if v != v else f"{v:.1%}")
    for name in ("macs", "cycles", "stall_cycles", "dram_read_bytes", "dram_write_bytes"):
        shown[name] = shown[name].map(lambda v: "-" if pd.isna(v) else f"{int(v):,}")
    shown.columns = ["layer", "op", "MACs", "cycles", "stalls", "util", "map eff", "DRAM rd B", "DRAM wr B"]
    return shown.to_string(index=False)


def _write_table(table, path: Path) -> None:
    if path.suffix == ".parquet":
        table.to_parquet(path, index=False)
    elif path.suffix == ".csv":
        table.to_csv(path, index=False)
    else:
        raise ConfigError(str(path), [Problem("", "expected an output file ending in .csv or .parquet")])


def _pending(name: str):
    def handler(args: argparse.Namespace) -> int:
        raise NotAvailableError(f"`accelsim {name}` is not available yet: it lands with {PENDING[name]}.")

    return handler


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="accelsim",
        description="Cycle-level DNN accelerator simulator: cycles, energy and area of (compressed) "
                    "networks on systolic, sparse and mixed-precision arrays.",
    )
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="simulate a workload on an architecture")
    run.add_argument("arch", help="architecture: .yaml or SCALE-Sim .cfg")
    run.add_argument("workload", help="workload: .yaml, SCALE-Sim topology .csv, or .onnx")
    run.add_argument("--fidelity", choices=["fold", "cycle", "pe"], default="fold")
    run.add_argument("--mapping", choices=["fixed", "search"], default="fixed",
                     help="fixed (SCALE-Sim's) or searched per layer under the buffer limits (docs/mapper.md)")
    run.add_argument("--objective", choices=["cycles", "energy", "edp"], default="cycles",
                     help="what --mapping search minimises")
    run.add_argument("--batch", type=int, help="override the workload's batch size")
    run.add_argument("-o", "--output", help="write per-layer results to .csv or .parquet")
    run.set_defaults(handler=cmd_run)

    sweep = sub.add_parser("sweep", help="run (or resume) a design-space sweep from a spec")
    sweep.add_argument("spec", help="sweep spec .yaml (base arch, workloads, schemes, axes, sampler, constraints)")
    sweep.add_argument("-o", "--output", default="results", help="results directory; rerun to resume (default: results)")
    sweep.add_argument("--executor", choices=["local", "serial", "dask"], default="local",
                       help="local processes (default), in-process, or a Dask LocalCluster")
    sweep.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (implies --executor dask)")
    sweep.add_argument("-j", "--workers", type=int, help="worker processes (default: all cores)")
    sweep.add_argument("--per-layer", action="store_true", help="also keep one row per layer (layers.parquet)")
    sweep.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(handler=cmd_sweep)

    compare = sub.add_parser("compare", help="compare compression schemes, networks or architectures")
    compare.add_argument("files", nargs="+", metavar="ARCH_OR_WORKLOAD",
                         help="one or more architectures and one or more workloads, in any order")
    compare.add_argument("--scheme", action="append", default=[], help="a compression scheme .yaml (repeat; none: as written)")
    compare.add_argument("--fidelity", choices=["fold", "cycle", "pe"], default="fold")
    compare.add_argument("--batch", type=int, help="override the workloads' batch size")
    compare.add_argument("--mapping", choices=["fixed", "search"], default="fixed",
                         help="fixed: SCALE-Sim's mapping; search: each layer's best mapping (docs/mapper.md)")
    compare.add_argument("--objective", choices=["cycles", "energy", "edp"], default="cycles",
                         help="what --mapping search minimises")
    compare.add_argument("--masks", action="store_true",
                         help="real masks for schemes that ask for them (written next to -o, else to a temp dir)")
    compare.add_argument("-o", "--output", help="write the table to .csv or .parquet")
    compare.add_argument("--plot", help="write a bar chart of the ratios to this .png")
    compare.set_defaults(handler=cmd_compare)

    plot = sub.add_parser("plot", help="plot a sweep's results or a results table")
    plot.add_argument("results", help="a sweep results directory, or a .csv/.parquet table")
    plot.add_argument("--kind", choices=["pareto", "breakdown", "utilization", "roofline", "sweep", "compare"],
                      default="pareto")
    plot.add_argument("-x", help="x metric (pareto) or swept axis (utilization, sweep)")
    plot.add_argument("-y", help="y metric (pareto) or swept axis (utilization)")
    plot.add_argument("--metric", help="what a heatmap or sweep plot shows (default: utilization / first objective)")
    plot.add_argument("--key", help="the design whose layers a breakdown or roofline shows (default: fastest)")
    plot.add_argument("--arch", help="architecture whose roofs a roofline uses (for a table without them)")
    plot.add_argument("-o", "--output", help="image path (default: next to the results, named after the kind)")
    plot.add_argument("--svg", action="store_true", help="also write an SVG")
    plot.set_defaults(handler=cmd_plot)

    validate = sub.add_parser("validate", help="check architecture and workload files")
    validate.add_argument("files", nargs="+")
    validate.set_defaults(handler=cmd_validate)

    imp = sub.add_parser("import", help="convert an ONNX model to a workload YAML")
    imp.add_argument("model")
    imp.add_argument("-o", "--output", required=True, help="workload YAML to write")
    imp.add_argument("--batch", type=int, help="batch size (default: the model's fixed one, or 1)")
    imp.add_argument("--default-bits", type=int, default=8, help="bits of operands the model does not quantize")
    imp.set_defaults(handler=cmd_import)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return args.handler(args)
    except AccelsimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
