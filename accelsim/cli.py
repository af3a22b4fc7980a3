"""``accelsim`` command line: parses arguments, calls the library, formats what it returns.

Exit codes: 0 success, 2 bad input (a message naming the file and key, no traceback),
130 interrupted, 141 output pipe closed early (``accelsim ... | head``).

Results go to stdout; progress bars, notices and logging go to stderr (``-q`` silences the
first two). Every output path is checked before any work starts.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from accelsim.errors import AccelsimError, ConfigError, NotAvailableError, Problem

log = logging.getLogger("accelsim")

TABLE_WIDTH = 100  # terminal tables are cut to this many characters (every column is in -o)
TABLE_FORMATS = (".csv", ".parquet", ".json")
IMAGE_FORMATS = (".png", ".svg", ".pdf")
FIDELITY_HELP = ("fold: per fold, milliseconds per network (default, for sweeps); cycle: every cycle with SRAM "
                 "ports and DRAM channels; pe: every PE register computing real values (slow; adds SQNR). "
                 "docs/fidelities.md")


def _arrays_text(arch) -> str:
    """``128x128 ws``, or ``4 x 128x128 ws`` for a chip of several arrays."""
    count = f"{arch.arrays.count} x " if arch.arrays.count > 1 else ""
    return f"{count}{arch.array.rows}x{arch.array.cols} {arch.array.dataflow.value}"


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


# --- output paths: checked before any work --------------------------------------------------------------------


def _check_directory(path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise ConfigError(str(path), [Problem("", f"the output directory '{parent}' does not exist; "
                                                  f"create it first (mkdir -p {parent})")])
    if path.is_dir():
        raise ConfigError(str(path), [Problem("", "is a directory; expected a file name")])
    if not os.access(parent, os.W_OK):
        raise ConfigError(str(path), [Problem("", f"cannot write to the directory '{parent}'")])


def _need_pyarrow(what: str) -> None:
    if importlib.util.find_spec("pyarrow") is None:
        raise NotAvailableError(f"{what}: Parquet needs pyarrow, which is not installed "
                                "(pip install pyarrow); write .csv or .json instead")


def check_table_output(name: str | None) -> None:
    """Refuse a table output (``-o``) that cannot be written: unknown format, missing directory, no pyarrow."""
    if name is None or name == "-":
        return
    path = Path(name)
    if path.suffix not in TABLE_FORMATS:
        raise ConfigError(name, [Problem("", f"unknown table format '{path.suffix}'; expected a file ending in "
                                             f"{', '.join(TABLE_FORMATS)}, or - for CSV on stdout")])
    _check_directory(path)
    if path.suffix == ".parquet":
        _need_pyarrow(name)


def check_image_output(name: str | None) -> None:
    """Refuse an image path with an unknown format or a missing directory (no suffix: ``.png``)."""
    if name is None:
        return
    path = Path(name)
    if path.suffix and path.suffix not in IMAGE_FORMATS:
        raise ConfigError(name, [Problem("", f"unknown image format '{path.suffix}'; expected "
                                             f"{', '.join(IMAGE_FORMATS)}")])
    _check_directory(path)


def write_table(table, name: str) -> None:
    """``table`` to ``.csv``, ``.parquet``, ``.json`` (records) or ``-`` (CSV on stdout)."""
    if name == "-":
        table.to_csv(sys.stdout, index=False)
        return
    path = Path(name)
    if path.suffix == ".parquet":
        table.to_parquet(path, index=False)
    elif path.suffix == ".json":
        table.to_json(path, orient="records", indent=1)
    else:
        table.to_csv(path, index=False)


# --- feedback on long work ------------------------------------------------------------------------------------


def _notify_cold_kernels(args: argparse.Namespace, fidelity: str = "fold", arch=None) -> None:
    """Say so, once, when the kernels the run calls are not in numba's on-disk cache yet: their first
    calls compile them (seconds to a minute; :mod:`accelsim.engine.kernel_cache`)."""
    from accelsim.engine.kernel_cache import cold_compile_seconds, run_families

    seconds = cold_compile_seconds(run_families(arch, fidelity))
    if seconds:
        log.info("kernels not in numba's cache: compiling them, about %.0f s", seconds)
        if not args.quiet:
            print(f"compiling kernels, once: ~{max(1, round(seconds))} s (cached for later runs)", file=sys.stderr,
                  flush=True)


def _bar(args: argparse.Namespace, total: int, desc: str, unit: str):
    """A tqdm bar on stderr that appears only after 2 s of work and never with ``-q``."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, disable=args.quiet, delay=2.0, leave=False, file=sys.stderr)


# --- tables that fit a terminal -------------------------------------------------------------------------------


def fit_columns(table, width: int = TABLE_WIDTH) -> tuple[str, list[str]]:
    """``table`` as text, dropping its last columns until every line fits ``width``; the columns left out."""
    dropped: list[str] = []
    while True:
        text = table.to_string(index=False)
        if len(table.columns) <= 2 or max(map(len, text.splitlines()), default=0) <= width:
            return text, dropped
        dropped.insert(0, str(table.columns[-1]))
        table = table.iloc[:, :-1]


def scaled_column(values, column: str) -> tuple[list[str], str]:
    """A column's values in one engineering unit (``"uJ"``, ``"MiB"``, ``"mm2"``) chosen for its median
    value, so most read as 1 to 999: the texts and the unit."""
    import numpy as np

    from accelsim.plot.scale import column_scale

    values = np.asarray(values, dtype=float)
    positive = values[np.isfinite(values) & (values > 0)]
    scale = column_scale(column, [np.median(positive)] if len(positive) else [])
    return [("-" if not np.isfinite(v) else f"{scale(v):,.0f}" if scale(v) >= 1000 else f"{scale(v):.3g}")
            for v in values], scale.unit


def _percent(values) -> list[str]:
    return ["-" if v is None or v != v else f"{float(v):.1%}" for v in values]


def format_layers(layers) -> tuple[str, list[str]]:
    """The per-layer table of ``run`` (fits :data:`TABLE_WIDTH`): counts, stall share, energy, DRAM, mapping."""
    import pandas as pd

    busy = (layers["compute_cycles"] + layers["stall_cycles"]).astype("float64")
    shown = pd.DataFrame({"layer": layers["layer"].astype(str), "op": layers["op"].astype(str)})
    shown["cycles"] = ["-" if pd.isna(v) else f"{int(v):,}" for v in layers["cycles"]]
    shown["stalled"] = _percent((layers["stall_cycles"].astype("float64") / busy.where(busy > 0)).to_numpy())
    shown["util"] = _percent(layers["utilization"].astype("float64").to_numpy())
    if "mapping" in layers:
        shown["mapping"] = layers["mapping"].astype("string").fillna("-").to_numpy()
    if "energy_pj" in layers:
        texts, unit = scaled_column(layers["energy_pj"].astype("float64").to_numpy(), "energy_pj")
        shown[f"energy {unit}"] = texts
    dram = (layers["dram_read_bytes"] + layers["dram_write_bytes"]).astype("float64").to_numpy()
    texts, unit = scaled_column(dram, "dram_bytes")
    shown[f"DRAM {unit}"] = texts
    shown["MACs"] = ["-" if pd.isna(v) else f"{int(v):,}" for v in layers["macs"]]
    return fit_columns(shown)


def summary_lines(summary, arch, mapping: str) -> list[str]:
    """What a run costs, for people: cycles, time, energy, TOPS/W, area, stalls, costed layers.

    The stalled share is ``stall_cycles / (compute_cycles + stall_cycles)``: a fraction of the
    cycles something was busy, whatever part of it was hidden under other work.
    """
    import pandas as pd

    from accelsim.plot.scale import quantity

    def num(name: str) -> float | None:
        value = summary.get(name)
        return None if value is None or pd.isna(value) else float(value)

    cycles, compute, stall = num("cycles") or 0.0, num("compute_cycles") or 0.0, num("stall_cycles") or 0.0
    stalled = f"  ({stall / (compute + stall):.1%} of busy cycles stalled)" if compute + stall > 0 else ""
    lines = [f"  cycles         {int(cycles):,} at {quantity(arch.clock_hz, 'clock_hz')}{stalled}",
             f"  latency        {quantity(cycles / arch.clock_hz, 'latency_s')}"]
    energy = num("energy_pj")
    if energy:
        parts = {c[len("energy_"):-len("_pj")]: num(c) or 0.0 for c in summary.index
                 if c.startswith("energy_") and c.endswith("_pj") and c != "energy_pj"}
        top = max(parts, key=parts.get) if parts else None
        detail = [f"{num('energy_per_mac_pj'):.3g} pJ/MAC"] if num("energy_per_mac_pj") else []
        detail += [f"largest: {top} {parts[top] / energy:.0%}"] if top else []
        lines.append(f"  energy         {quantity(energy, 'energy_pj')}" + (f"  ({', '.join(detail)})" if detail else ""))
    if num("tops_per_w"):
        power = f" at {quantity(num('power_w'), 'power_w')}" if num("power_w") else ""
        lines.append(f"  efficiency     {num('tops_per_w'):.3g} TOPS/W{power}")
    if num("area_mm2"):
        lines.append(f"  area           {num('area_mm2'):.3g} mm2")
    if num("utilization") is not None:
        lines.append(f"  utilization    {num('utilization'):.1%} of peak MACs")
    lines.append(f"  DRAM           {quantity(num('dram_read_bytes') or 0.0, 'dram_bytes')} read, "
                 f"{quantity(num('dram_write_bytes') or 0.0, 'dram_bytes')} written")
    costed, layers = int(num("costed_layers") or 0), int(num("layers") or 0)
    lines.append(f"  costed layers  {costed} of {layers}"
                 + ("" if costed == layers else " (the others have no model on this arch: missing values in -o)"))
    lines.append(f"  mapping        {mapping}" + ("  (per layer: the mapping column)" if mapping == "search" else ""))
    return lines


# --- commands -------------------------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace) -> int:
    from accelsim.compress.scheme import load_scheme
    from accelsim.dse.sweep import check_sweep
    from accelsim.frontend.load import load_arch, load_workload
    from accelsim.units import format_bytes

    loaders = {"arch": load_arch, "workload": load_workload, "scheme": load_scheme, "sweep": check_sweep}
    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            kind = _kind_of(path)
            spec = loaders[kind](path)
        except AccelsimError as exc:
            failed += 1
            print(exc, file=sys.stderr)
            continue
        if kind == "arch":
            sram = sum(b.size_bytes for b in (spec.buffers.ifmap, spec.buffers.filter, spec.buffers.ofmap,
                                              spec.buffers.unified) if b is not None)
            detail = f"{_arrays_text(spec)}, {format_bytes(sram)} SRAM"
        else:
            detail = (f"{len(spec.rules)} rules" if kind == "scheme" else
                      f"{len(spec.axes)} axes, {spec.sampler.kind.value} sampling" if kind == "sweep" else
                      f"{len(spec.layers)} layers, {spec.macs:,} MACs")
        print(f"ok  {path}  ({kind}: {spec.name}, {detail})")
    return 2 if failed else 0


def _check_sweep_output(name: str) -> None:
    path = Path(name)
    if path.exists() and not path.is_dir():
        raise ConfigError(name, [Problem("", "is a file; expected a results directory (new or from an earlier run)")])
    _need_pyarrow(f"{name} (the sweep's result store)")


def format_points(points, units) -> tuple[str, list[str]]:
    """A sweep's rows for a terminal: sizes in KiB/MiB, every other unit scaled once per column."""
    from accelsim.units import format_bytes

    shown = points.copy()
    names = {}
    for column in shown.columns:
        if units.get(column) == "bytes" or column.endswith("_bytes"):
            shown[column] = [format_bytes(v) if v == v else "-" for v in shown[column]]
        elif column.endswith(("_s", "_pj", "_um2", "_mm2", "_pj_s")):
            shown[column], unit = scaled_column(shown[column].to_numpy(dtype=float), column)
            base = column.rsplit("_", 2 if column.endswith("_pj_s") else 1)[0]
            names[column] = f"{base.replace('_um2', '')} ({unit})"
        elif shown[column].dtype.kind == "f":
            shown[column] = [f"{v:.4g}" for v in shown[column]]
    return fit_columns(shown.rename(columns=names))


def cmd_sweep(args: argparse.Namespace) -> int:
    import signal

    from accelsim.dse.spec import load_sweep_spec
    from accelsim.dse.sweep import run_sweep

    _check_sweep_output(args.output)
    spec = load_sweep_spec(args.spec)
    _notify_cold_kernels(args, spec.fidelity)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a terminated sweep still stores what it finished
    out = run_sweep(spec, args.output, executor=args.executor, workers=args.workers, scheduler=args.scheduler,
                    per_layer=args.per_layer or None, progress=not args.quiet)
    rate = f", {out.points_per_second:.1f} points/s" if out.computed else ""
    print(f"{out.planned} rows: {out.reused} already stored, {out.computed} computed in {out.seconds:.1f} s{rate}"
          + (f"; {out.rejected} designs removed by constraints" if out.rejected else ""))
    if "pareto" in out.points:
        front = out.points[out.points["pareto"]]
        shown = list(dict.fromkeys(c for c in ("design", "workload", "scheme", *out.spec.axes, *out.spec.objectives)
                                   if c in front))
        text, dropped = format_points(front[shown], {p: "bytes" if p.endswith(".size") else "" for p in spec.axes})
        print(f"Pareto front ({len(front)} rows):")
        print(text)
        if dropped:
            print(f"(not shown: {', '.join(dropped)})")
    print(f"results: {out.directory / 'points.parquet'} (and points.csv)")
    return 0


def _compare_ratios_note(table) -> str:
    from accelsim.dse.compare import ratio_dimension

    varying = ratio_dimension(table)
    return {"scheme": "ratios: each scheme against the first one on the same arch and workload",
            "workload": "ratios: each workload against the first one on the same arch",
            "arch": "ratios: each architecture against the first one"}[varying]


def format_compare(table) -> tuple[str, list[str]]:
    """A compare table for a terminal: names, engineering units, the ratios; the rest is in -o."""
    import pandas as pd

    shown = pd.DataFrame({c: table[c] for c in ("arch", "workload", "scheme") if table[c].nunique() > 1 or
                          c == "arch"})
    for column, title in (("latency_s", "latency"), ("energy_pj", "energy"), ("area_mm2", "area"),
                          ("edp_pj_s", "EDP")):
        if column in table:
            texts, unit = scaled_column(table[column].to_numpy(dtype=float), column)
            shown[f"{title} {unit}"] = texts
    if "utilization" in table:
        shown["util"] = _percent(table["utilization"].to_numpy(dtype=float))
    for column, title in (("speedup", "speed-up"), ("energy_ratio", "energy x"), ("edp_ratio", "EDP x")):
        if column in table:
            shown[title] = [f"{v:.3g}" for v in table[column]]
    for column in table.columns:
        if "sqnr" in column or "error" in column:
            shown[column] = [f"{v:.3g}" for v in table[column]]
    return fit_columns(shown)


def cmd_compare(args: argparse.Namespace) -> int:
    import tempfile

    from accelsim.dse.compare import compare

    check_table_output(args.output)
    check_image_output(args.plot)
    kinds = {name: _kind_of(Path(name)) for name in args.files}
    archs = [n for n, k in kinds.items() if k == "arch"]
    workloads = [n for n, k in kinds.items() if k == "workload"]
    if not archs or not workloads:
        raise ConfigError(" ".join(args.files), [Problem("", "compare needs at least one architecture and one "
                                                             f"workload; got {len(archs)} and {len(workloads)}")])
    _notify_cold_kernels(args, args.fidelity)
    schemes = args.scheme or [None]
    with tempfile.TemporaryDirectory(prefix="accelsim-masks-") as scratch:  # masks without -o are scratch
        on_disk = args.output not in (None, "-")
        mask_dir = (Path(args.output).parent if on_disk else Path(scratch)) if args.masks else None
        with _bar(args, len(archs) * len(workloads) * len(schemes), "compare", "run") as bar:
            table = compare(archs, workloads, schemes, fidelity=args.fidelity, mapping=args.mapping,
                            objective=args.objective, mask_dir=mask_dir, batch=args.batch,
                            progress=lambda done, total: bar.update(done - bar.n))
    report = sys.stderr if args.output == "-" else sys.stdout
    text, dropped = format_compare(table)
    print(text, file=report)
    print(_compare_ratios_note(table) + ("; every column is in -o" if dropped else ""), file=report)
    if args.output:
        write_table(table, args.output)
    if args.plot:
        from accelsim.plot.dse import compare_bars, save

        print("plot: " + ", ".join(map(str, save(compare_bars(table), args.plot))), file=report)
    return 0


def _default_kind(source: Path, points) -> str:
    """What a table is best shown as: a sweep -> pareto, a compare table -> compare, a layer table -> breakdown."""
    if source.is_dir():
        return "pareto"
    if "speedup" in points or {"arch", "workload", "scheme"} <= set(points.columns):
        return "compare"
    return "breakdown" if "layer" in points else "pareto"


def cmd_plot(args: argparse.Namespace) -> int:
    import pandas as pd

    from accelsim.dse.evaluate import roofline_metrics
    from accelsim.dse.sweep import read_results
    from accelsim.plot.dse import compare_bars, plot_results, save

    check_image_output(args.output)
    source = Path(args.results)
    if source.is_dir():
        points, layers, meta = read_results(source)
    elif source.suffix in (".csv", ".parquet", ".json") and source.exists():
        if source.suffix == ".parquet":
            _need_pyarrow(str(source))
        points = (pd.read_parquet(source) if source.suffix == ".parquet" else
                  pd.read_json(source, orient="records") if source.suffix == ".json" else pd.read_csv(source))
        layers, meta = None, {}
    else:
        raise ConfigError(str(source), [Problem("", "expected a sweep results directory or a .csv/.parquet/.json "
                                                    "table" + ("" if source.exists() else " (no such file)"))])
    kind = args.kind or _default_kind(source, points)
    default = source / kind if source.is_dir() else source.with_name(f"{source.stem}-{kind}")
    ceilings, arch_name = None, None
    if args.arch:
        from accelsim.frontend.load import load_arch

        arch = load_arch(args.arch)
        roofs = roofline_metrics(arch)
        ceilings, arch_name = (roofs["peak_macs_per_cycle"], roofs.get("dram_bytes_per_cycle")), arch.name
    try:
        fig = compare_bars(points) if kind == "compare" else plot_results(
            kind, points, layers, meta, x=args.x, y=args.y, metric=args.metric, key=args.key, ceilings=ceilings,
            scale=args.scale, top=args.top, source=arch_name or source.stem)
    except (KeyError, ValueError) as exc:
        raise ConfigError(str(source), [Problem("", str(exc).strip("'\""))]) from None
    print("plot: " + ", ".join(map(str, save(fig, args.output or default, svg=args.svg))))
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from accelsim.spec.load import save_workload

    path = Path(args.output)
    if path.suffix not in (".yaml", ".yml"):
        raise ConfigError(args.output, [Problem("", "expected a workload file ending in .yaml")])
    _check_directory(path)
    if importlib.util.find_spec("onnx") is None:
        raise NotAvailableError(f"{args.model}: importing ONNX needs the onnx package: pip install 'accelsim[onnx]'")
    from accelsim.frontend.onnx import load_onnx

    net = load_onnx(args.model, batch=args.batch, default_bits=args.default_bits, **_onnx_options(args))
    save_workload(net, args.output)
    print(f"wrote {args.output}  ({net.name}: {len(net.layers)} layers, batch {net.batch}, {net.macs:,} MACs)")
    return 0


def _onnx_options(args: argparse.Namespace) -> dict:
    """The ONNX importer's options from ``--dim NAME=VALUE``, ``--seq-len`` and ``--allow-partial``."""
    dims = {}
    for item in args.dim or []:
        name, sep, value = item.partition("=")
        if not sep or not name or not value.strip().isdigit() or int(value) < 1:
            raise ConfigError("--dim", [Problem("", f"expected NAME=VALUE with a whole number >= 1, got {item!r}")])
        dims[name] = int(value)
    return {"dims": dims or None, "seq_len": args.seq_len, "allow_partial": args.allow_partial}


def _load_run_inputs(arch_name: str, workload_name: str, batch: int | None, onnx_options: dict):
    """The arch and workload of ``run``; a hint when the two look swapped."""
    from accelsim.frontend.load import load_arch, load_workload

    try:
        return load_arch(arch_name), load_workload(workload_name, batch=batch, **onnx_options)
    except ConfigError as exc:
        try:
            swapped = _kind_of(Path(arch_name)) == "workload" and _kind_of(Path(workload_name)) == "arch"
        except AccelsimError:
            swapped = False
        if swapped:
            raise ConfigError(f"{arch_name} {workload_name}", [Problem(
                "", "these look swapped: the architecture comes first, then the workload "
                    f"(accelsim run {workload_name} {arch_name})")]) from None
        raise exc


def cmd_run(args: argparse.Namespace) -> int:
    check_table_output(args.output)
    arch, net = _load_run_inputs(args.arch, args.workload, args.batch, _onnx_options(args))
    log.info("arch %s from %s; workload %s from %s (%d layers, %s MACs)", arch.name, args.arch, net.name,
             args.workload, len(net.layers), f"{net.macs:,}")
    from accelsim.simulate import simulate

    from accelsim.mapper import run_mapping
    from accelsim.spec.options import Fidelity, MappingMode, Objective

    options = {} if args.max_steps is None else {"max_steps": args.max_steps}
    run = run_mapping(arch, Fidelity(args.fidelity), args.mapping and MappingMode(args.mapping),
                      args.objective and Objective(args.objective))
    _notify_cold_kernels(args, args.fidelity, arch)
    start = time.perf_counter()
    with _bar(args, len(net.layers), "layers" + (" (mapper search)" if run.mode is MappingMode.SEARCH else ""),
              "layer") as bar:
        def progress(done: int, total: int) -> None:
            bar.update(done - bar.n)
            log.debug("layer %d of %d (%s) done after %.2f s", done, total, net.layers[done - 1].name,
                      time.perf_counter() - start)

        result = simulate(arch, net, fidelity=args.fidelity, mapping=args.mapping, objective=args.objective,
                          progress=progress, **options)
    log.info("simulated in %.2f s", time.perf_counter() - start)
    report = sys.stderr if args.output == "-" else sys.stdout
    print(f"{net.name} on {arch.name} ({_arrays_text(arch)}, "
          f"{arch.timing_model.value} timing, {args.fidelity} fidelity, batch {net.batch})", file=report)
    text, dropped = format_layers(result.layers)
    print(text, file=report)
    if dropped:
        print(f"(not shown: {', '.join(dropped)}; every column is in -o)", file=report)
    print("total:", file=report)
    print("\n".join(summary_lines(result.summary.iloc[0], arch, run.mode.value)), file=report)
    if args.output:  # every column, what ran and its roofs (so `accelsim plot` can title and draw them alone)
        from accelsim.dse.evaluate import roofline_metrics

        write_table(result.layers.assign(arch=arch.name, workload=net.name, **roofline_metrics(arch)), args.output)
        print(f"per-layer results: {'stdout' if args.output == '-' else args.output}", file=report)
    return 0


# --- parser ---------------------------------------------------------------------------------------------------


def _add_common(parser: argparse.ArgumentParser, after: bool) -> None:
    """-v/-q, accepted before and after the subcommand (``after``: the subcommand's own copies)."""
    suffix = "_after" if after else ""
    parser.add_argument("-v", "--verbose", action="count", default=0, dest="verbose" + suffix,
                        help="log what happens to stderr (-vv: debug detail)")
    parser.add_argument("-q", "--quiet", action="store_true", dest="quiet" + suffix,
                        help="no progress bars or notices (results and errors only)")


def _add_onnx_options(parser: argparse.ArgumentParser) -> None:
    onnx = parser.add_argument_group("ONNX models")
    onnx.add_argument("--dim", action="append", metavar="NAME=VALUE",
                      help="bind a symbolic input dimension (repeatable), e.g. --dim sequence=128")
    onnx.add_argument("--seq-len", type=int, metavar="N", help="bind the sequence-length dimension")
    onnx.add_argument("--allow-partial", action="store_true",
                      help="import without the nodes that cannot be imported (the lost MACs are recorded)")


def _add_run_options(parser: argparse.ArgumentParser, workloads: str) -> None:
    parser.add_argument("--fidelity", choices=["fold", "cycle", "pe"], default="fold", help=FIDELITY_HELP)
    parser.add_argument("--mapping", choices=["fixed", "search"],
                        help="search: each layer's best mapping under the buffer limits, in the mapping column; "
                             "fixed: SCALE-Sim's mapping (default: the arch's mapping: key, else search under "
                             "native timing, fixed under scalesim timing and in the pe fidelity; docs/mapper.md)")
    parser.add_argument("--objective", choices=["cycles", "energy", "edp"],
                        help="what the mapping search minimises (default: the arch's objective: key, else cycles)")
    parser.add_argument("--batch", type=int, help=f"override the {workloads} batch size")


def build_parser() -> argparse.ArgumentParser:
    from accelsim.version import __version__

    parser = argparse.ArgumentParser(
        prog="accelsim",
        description="Cycle-level DNN accelerator simulator: cycles, energy and area of (compressed) "
                    "networks on systolic, sparse and mixed-precision arrays.",
    )
    parser.add_argument("--version", action="version", version=f"accelsim {__version__}")
    _add_common(parser, after=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        child = sub.add_parser(name, **kwargs)
        _add_common(child, after=True)
        return child

    run = command("run", help="simulate a workload on an architecture")
    run.add_argument("arch", help="architecture: .yaml or SCALE-Sim .cfg")
    run.add_argument("workload", help="workload: .yaml, SCALE-Sim topology .csv, or .onnx")
    _add_run_options(run, "workload's")
    _add_onnx_options(run)
    run.add_argument("--max-steps", type=int, metavar="N",
                     help="stop a cycle or pe simulation that needs more than N steps, with an error")
    run.add_argument("-o", "--output", help="write every per-layer column to .csv, .parquet, .json, or - (CSV on "
                                            "stdout; the report then goes to stderr)")
    run.set_defaults(handler=cmd_run)

    sweep = command("sweep", help="run (or resume) a design-space sweep from a spec")
    sweep.add_argument("spec", help="sweep spec .yaml (base arch, workloads, schemes, axes, sampler, constraints)")
    sweep.add_argument("-o", "--output", default="results", help="results directory; rerun to resume (default: results)")
    sweep.add_argument("--executor", choices=["local", "serial", "dask"], default="local",
                       help="local processes (default), in-process, or a Dask LocalCluster")
    sweep.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786 (implies --executor dask)")
    sweep.add_argument("-j", "--workers", type=int, help="processes that compute, this one included (default: all cores)")
    sweep.add_argument("--per-layer", action="store_true", help="also keep one row per layer (layers.parquet)")
    sweep.set_defaults(handler=cmd_sweep)

    compare = command("compare", help="compare compression schemes, networks or architectures")
    compare.add_argument("files", nargs="+", metavar="ARCH_OR_WORKLOAD",
                         help="one or more architectures and one or more workloads, in any order")
    compare.add_argument("--scheme", action="append", default=[], help="a compression scheme .yaml (repeat; none: as written)")
    _add_run_options(compare, "workloads'")
    compare.add_argument("--masks", action="store_true",
                         help="real masks for schemes that ask for them (written next to -o, else to a temp dir)")
    compare.add_argument("-o", "--output", help="write the whole table to .csv, .parquet, .json, or - (stdout)")
    compare.add_argument("--plot", help="write a chart (one panel per metric) to this .png, .svg or .pdf")
    compare.set_defaults(handler=cmd_compare)

    plot = command("plot", help="plot a sweep's results or a results table")
    plot.add_argument("results", help="a sweep results directory, or a .csv/.parquet/.json table from run or compare")
    plot.add_argument("--kind", choices=["pareto", "breakdown", "utilization", "roofline", "sweep", "compare"],
                      help="default: pareto for a sweep, breakdown for a run's layer table, compare for a "
                           "compare table")
    plot.add_argument("-x", help="x metric (pareto) or swept axis (utilization, sweep)")
    plot.add_argument("-y", help="y metric (pareto) or swept axis (utilization)")
    plot.add_argument("--metric", help="what a heatmap or sweep plot shows (default: utilization / first objective)")
    plot.add_argument("--key", help="the design whose layers a breakdown or roofline shows (default: fastest)")
    plot.add_argument("--arch", help="architecture whose roofs a roofline uses (for a table without them)")
    plot.add_argument("--scale", choices=["linear", "log", "percent"], default="linear",
                      help="breakdown: energy in engineering units, on a log axis, or as each layer's shares")
    plot.add_argument("--top", type=int, default=30, metavar="N",
                      help="breakdown: the N most costly layers, the rest summed as 'other' (default 30)")
    plot.add_argument("-o", "--output", help="image path, .png/.svg/.pdf (default: next to the results, named "
                                             "after the kind)")
    plot.add_argument("--svg", action="store_true", help="also write an SVG")
    plot.set_defaults(handler=cmd_plot)

    validate = command("validate", help="check architecture, workload, scheme and sweep files")
    validate.add_argument("files", nargs="+", metavar="FILE",
                          help="any mix of architecture (.yaml/.cfg), workload (.yaml/.csv/.onnx), compression "
                               "scheme and sweep spec files; every problem in each is listed")
    validate.set_defaults(handler=cmd_validate)

    imp = command("import", help="convert an ONNX model to a workload YAML")
    imp.add_argument("model", help="an .onnx model (needs: pip install 'accelsim[onnx]')")
    imp.add_argument("-o", "--output", required=True, help="workload YAML to write")
    imp.add_argument("--batch", type=int, help="batch size (default: the model's fixed one, or 1)")
    imp.add_argument("--default-bits", type=int, default=None,
                     help="bits of operands the model does not quantize (default: each float tensor keeps its format, e.g. fp32)")
    _add_onnx_options(imp)
    imp.set_defaults(handler=cmd_import)
    return parser


def _configure_logging(verbosity: int) -> logging.Handler:
    """accelsim's loggers at WARNING, INFO (-v) or DEBUG (-vv), to stderr; other libraries stay quiet.

    Returns the handler added, for :func:`main` to remove (the library keeps no state of the CLI).
    """
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.setLevel([logging.WARNING, logging.INFO, logging.DEBUG][min(verbosity, 2)])
    return handler


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.verbose += args.verbose_after
    args.quiet = args.quiet or args.quiet_after
    level, handler = log.level, _configure_logging(args.verbose)
    try:
        code = args.handler(args)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except AccelsimError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader left (accelsim ... | head): stop quietly, as a Unix tool does
        try:  # and keep Python's exit-time flush from failing on the closed pipe again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


if __name__ == "__main__":
    sys.exit(main())
