#!/usr/bin/env python3
"""Seeded random SCALE-Sim 3.0.0 cases for accelsim's SCALE-Sim compatibility tests.

Run (needs a venv with ``scalesim==3.0.0`` and ``numpy==2.3.5``; 2-10 minutes on one core, by load)::

    /tmp/venv-scalesim/bin/python tests/data/scalesim/generate_random.py            # all cases
    /tmp/venv-scalesim/bin/python tests/data/scalesim/generate_random.py --write-only
    /tmp/venv-scalesim/bin/python tests/data/scalesim/generate_random.py rnd07_ws_7x13
    /tmp/venv-scalesim/bin/python tests/data/scalesim/generate_random.py --seed 1 --out /tmp/draw1
    SCALESIM_RANDOM_DIR=/tmp/draw1 python -m pytest -q tests/test_scalesim_random.py

Random cases complement the hand-picked ones of ``generate.py``: every dataflow, square and
non-square arrays, strides 1-4, 1x1 to 11x11 and non-square kernels, 1-3 and many channels,
ceil output dims, depthwise ``DP`` rows, GEMM topologies (every 7th case), SRAMs of 1-1024 kB
that differ per operand (mostly 1-8 kB, so operands overflow them), address offsets, USER
bandwidth mode (every 5th case), and input-format variants a user might write, each at least
once (header texts, no spaces, padded cells, blank lines, CRLF, an explicit ``1:1`` or ``2:4``
sparsity column, lower-case cfg keys, ``=`` separators, comments, a ``Bandwidth`` list). The
case list is a pure function of ``--seed`` (other seeds may draw slow USER cases: SCALE-Sim
takes minutes on a 128x128 array at 1 word/cycle). Inputs go to ``random_cases/``; results, one row per (case, simulated
layer) with ``reference.csv``'s columns, to ``reference_random.csv``.

It reuses ``generate.py`` (imported by path; that file is not modified): its cfg/topology
writers, its lowering of DP and GEMM rows to SCALE-Sim's simulated layers, and its runner,
which starts SCALE-Sim in a fresh process per case.
"""
from __future__ import annotations

import argparse
import importlib.util
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("scalesim_generate", HERE / "generate.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)

# Outputs under a data directory (default: this one): <dir>/random_cases/, <dir>/reference_random.csv
CASES = "random_cases"
RESULTS = "reference_random.csv"

SEED = 20250813
N_CASES = 40
MAX_LAYER_ROWS = 20_000            # demand rows per simulated layer
MAX_LAYER_WORK = 1_500_000         # demand rows x (R + C) / 2 per simulated layer (run time)

ARRAYS = [(4, 32), (12, 20), (64, 8), (7, 13), (128, 128), (8, 8), (16, 16), (32, 32),
          (5, 3), (3, 5), (2, 24), (24, 2), (20, 12), (13, 7), (1, 16), (16, 1)]
SMALL_SRAM_KB = [1, 1, 2, 3, 4, 5, 6, 8]          # operands overflow them: groups, drains
LARGE_SRAM_KB = [12, 16, 32, 64, 100, 256, 1024]
KERNELS = [(1, 1), (1, 1), (3, 3), (3, 3), (5, 5), (7, 7), (11, 11), (1, 3), (3, 1), (2, 5),
           (5, 2), (1, 7), (7, 1), (3, 5), (2, 2), (4, 4)]
OFFSETS = [0, 0, 1, 777, 10_000_000, 20_000_000, 123_456]
TOPO_VARIANTS = ["nospace", "blank_lines", "crlf", "alt_header", "sparsity_1to1", "sparsity_2to4",
                 "spaces"]
CFG_VARIANTS = ["lower_keys", "equals", "comments", "bandwidth_list"]


# --------------------------------------------------------------------------------------------
# Random cases
# --------------------------------------------------------------------------------------------
def _sram_kb(rng: random.Random) -> int:
    return rng.choice(SMALL_SRAM_KB if rng.random() < 0.6 else LARGE_SRAM_KB)


def _conv_layer(rng: random.Random, index: int) -> tuple:
    fh, fw = rng.choice(KERNELS)
    stride = rng.choice([1, 1, 1, 2, 2, 3, 4])
    if rng.random() < 0.35:
        channels = rng.randint(1, 3)
    else:
        channels = rng.choice([4, 6, 8, 12, 16, 24, 32, 48, 64, 96])
    filters = rng.choice([1, 2, 3, 5, 8, 10, 16, 20, 24, 32, 40, 64, 96])
    h = fh + rng.randint(0, 20)
    w = fw + rng.randint(0, 20)
    depthwise = rng.random() < 0.12
    if depthwise:
        channels, filters = rng.randint(2, 4), rng.choice([1, 1, 2, 3])
    name = f"L{index}_{'DP_' if depthwise else ''}c{fh}x{fw}s{stride}"
    return (name, h, w, fh, fw, channels, filters, stride)


def _gemm_layer(rng: random.Random, index: int) -> tuple:
    return (f"g{index}", rng.randint(1, 200), rng.randint(1, 150), rng.randint(1, 300))


def _fits(case: dict, layer: tuple) -> bool:
    probe = dict(case, layers=[layer])
    arch = gen.arch_of(probe)
    width = (arch["array_h"] + arch["array_w"]) / 2
    rows = sum(gen.demand_rows(probe, each) for each in gen.expanded_layers(probe))
    return rows <= MAX_LAYER_ROWS * (3 if "DP" in layer[0] else 1) and rows * width <= MAX_LAYER_WORK


def random_cases(seed: int = SEED, n_cases: int = N_CASES) -> list[dict]:
    """The case list of ``seed``: dicts in ``generate.py``'s format plus format-variant keys."""
    rng = random.Random(seed)
    arrays = ARRAYS * (n_cases // len(ARRAYS) + 1)
    rng.shuffle(arrays)
    cases = []
    for number in range(n_cases):
        dataflow = ("os", "ws", "is")[number % 3]
        rows, cols = arrays[number]
        gemm = number % 7 == 2         # 6 of 40, every dataflow, one in USER mode
        user = number % 5 == 3         # 20%, every dataflow
        arch = dict(array_h=rows, array_w=cols, dataflow=dataflow,
                    ifmap_kb=_sram_kb(rng), filter_kb=_sram_kb(rng), ofmap_kb=_sram_kb(rng),
                    ifmap_offset=rng.choice(OFFSETS), filter_offset=rng.choice(OFFSETS[3:]),
                    ofmap_offset=rng.choice(OFFSETS[3:]))
        if user:
            arch.update(interface="USER", bandwidth=rng.choice([1, 2, 4, 8, 10, 16, 32, 64]),
                        ifmap_bank_bw=rng.choice([1, 2, 4, 8, 10, 16, 32]),
                        filter_bank_bw=rng.choice([1, 2, 4, 8, 10, 16, 32]))
        # every variant at least once in 40 cases, the cfg ones in CALC and in USER mode
        topo_variant = TOPO_VARIANTS[number // 3 % len(TOPO_VARIANTS)] if number % 3 == 1 else ""
        cfg_variant = CFG_VARIANTS[number // 5 % len(CFG_VARIANTS)] if number % 5 in (1, 3) else ""
        name = f"rnd{number:02d}_{dataflow}_{rows}x{cols}" + ("_gemm" if gemm else "") + \
            ("_user" if user else "") + ("_fmt" if topo_variant or cfg_variant else "")
        case = dict(name=name, arch=arch, layers=[], topo_variant=topo_variant,
                    cfg_variant=cfg_variant)
        for index in range(rng.randint(2, 4)):
            for _ in range(200):
                layer = _gemm_layer(rng, index) if gemm else _conv_layer(rng, index)
                if _fits(case, layer):
                    case["layers"].append(layer)
                    break
        cases.append(case)
    return cases


# --------------------------------------------------------------------------------------------
# Input files, with the format variants
# --------------------------------------------------------------------------------------------
def topo_text(case: dict) -> str:
    """The topology file; the variants are ones SCALE-Sim 3.0.0 reads the same as the plain form."""
    variant = case["topo_variant"]
    text = gen.topo_text(case)
    lines = text.splitlines()
    if variant == "nospace":
        lines = [line.replace(", ", ",") for line in lines]
    elif variant == "spaces":
        lines = ["  " + line.replace(", ", " ,   ") + "   " for line in lines]
    elif variant == "blank_lines":
        lines = [lines[0]] + [x for line in lines[1:] for x in (line, "", "   ")]
    elif variant == "alt_header":
        lines[0] = "Layer name,M,N,K" if gen.is_gemm(case) else "name, h, w, r, s, c, m, stride"
    elif variant.startswith("sparsity_"):     # SCALE-Sim ignores N:M without SparsitySupport
        pattern = variant.removeprefix("sparsity_").replace("to", ":")
        lines = [lines[0]] + [f"{line} {pattern}," for line in lines[1:]]
    ending = "\r\n" if variant == "crlf" else "\n"
    return ending.join(lines) + ending


def cfg_text(case: dict) -> str:
    variant = case["cfg_variant"]
    lines = gen.cfg_text(case).splitlines()
    out = []
    for line in lines:
        key, sep, value = line.partition(":") if ":" in line else line.partition("=")
        if sep and not line.startswith("["):
            if variant == "lower_keys":
                line = f"{key.strip().lower()}: {value.strip()}"
            elif variant == "equals":
                line = f"{key.strip()} = {value.strip()}"
            elif variant == "bandwidth_list" and key.strip() == "Bandwidth":   # USER: the first counts
                line = f"Bandwidth : {value.strip()},{int(value) * 2},{int(value) * 4}"
        out.append(line)
        if variant == "comments" and line.startswith("["):
            out.extend(["# a comment line", "; another comment"])
    return "\n".join(out) + "\n"


def write_case(case: dict, cases_dir: Path) -> None:
    (cases_dir / f"{case['name']}.cfg").write_text(cfg_text(case))
    (cases_dir / f"{case['name']}.csv").write_bytes(topo_text(case).encode())


def case_rows(case: dict) -> int:
    return sum(gen.demand_rows(case, each) for each in gen.expanded_layers(case))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cases", nargs="*", help="subset of case names (default: all); rows of other "
                    "cases already in reference_random.csv are kept")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("-n", "--n-cases", type=int, default=N_CASES)
    ap.add_argument("--out", type=Path, default=HERE, help="data directory (default: the committed "
                    "one; give another for other seeds, and point SCALESIM_RANDOM_DIR at it to test them)")
    ap.add_argument("--write-only", action="store_true", help="only write the case files")
    args = ap.parse_args()
    cases_dir, reference = args.out / CASES, args.out / RESULTS
    gen.CASES_DIR = cases_dir          # generate.run_case reads its inputs from here

    cases = random_cases(args.seed, args.n_cases)
    names = [c["name"] for c in cases]
    unknown = set(args.cases) - set(names)
    if unknown:
        sys.exit(f"unknown cases: {sorted(unknown)}")
    selected = [c for c in cases if not args.cases or c["name"] in args.cases]
    cases_dir.mkdir(parents=True, exist_ok=True)
    if not args.cases:
        for stale in cases_dir.iterdir():
            stale.unlink()
    for case in selected:
        write_case(case, cases_dir)
        print(f"{case['name']:32s} layers={len(gen.expanded_layers(case)):2d} "
              f"demand_rows={case_rows(case):6d} topo={case['topo_variant'] or '-'} "
              f"cfg={case['cfg_variant'] or '-'}", flush=True)
    if args.write_only:
        return

    results: dict[str, list[dict]] = {}
    t0 = time.time()
    for case in selected:          # one process at a time: the machine is shared
        try:
            name, rows, dt = gen.run_case(case)
        except RuntimeError as exc:
            print(f"FAILED {case['name']}: SCALE-Sim rejected it; case dropped\n"
                  f"{str(exc)[-600:]}", flush=True)
            for suffix in (".cfg", ".csv"):
                (cases_dir / f"{case['name']}{suffix}").unlink()
            continue
        results[name] = rows
        print(f"done {name:32s} {len(rows)} rows in {dt:.1f}s (total {time.time() - t0:.0f}s)",
              flush=True)

    gen.write_reference(reference, names, results, keep_others=bool(args.cases))


if __name__ == "__main__":
    main()
