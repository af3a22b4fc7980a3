#!/usr/bin/env python3
"""Generate SCALE-Sim 3.0.0 reference data for accelsim's SCALE-Sim compatibility tests.

Run (from anywhere; needs a venv with ``scalesim==3.0.0`` and ``numpy==2.3.5``)::

    /tmp/venv-scalesim/bin/python tests/data/scalesim/generate.py            # all cases
    /tmp/venv-scalesim/bin/python tests/data/scalesim/generate.py -j 2 os_4x4_conv ws_8x16_conv

What it does:

1. Writes every case's inputs to ``tests/data/scalesim/cases/<case>.cfg`` (SCALE-Sim config)
   and ``tests/data/scalesim/cases/<case>.csv`` (topology; conv format, or the GEMM
   ``Layer, M, N, K,`` format for cases whose name contains ``gemm``).
2. Runs SCALE-Sim once per case, each in a fresh subprocess (SCALE-Sim keeps state in mutable
   default arguments), with outputs in a temporary directory and traces disabled.
3. Collects COMPUTE_REPORT, BANDWIDTH_REPORT and DETAILED_ACCESS_REPORT into
   ``tests/data/scalesim/reference.csv``: one row per (case, simulated layer). Report values
   are copied verbatim (SCALE-Sim prints some integers as floats, e.g. ``-50.0``).

This script is never imported by the tests, and SCALE-Sim is not a dependency of accelsim.
The tests only read ``reference.csv`` and the files in ``cases/``.

Sources: the ``real_*`` cases use layers from SCALE-Sim's shipped topologies
(``topologies/conv_nets/Resnet18.csv``, ``alexnet.csv``) on its shipped ``configs/scale.cfg``
(github.com/scalesim-project, MIT license).
"""
from __future__ import annotations

import argparse
import concurrent.futures as cf
import csv
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES_DIR = HERE / "cases"
REFERENCE = HERE / "reference.csv"

# --------------------------------------------------------------------------------------------
# Case definitions
# --------------------------------------------------------------------------------------------
# Architecture defaults (SCALE-Sim's shipped scale.cfg values except array/SRAM/dataflow).
DEFAULT_ARCH = dict(
    array_h=32, array_w=32,
    ifmap_kb=64, filter_kb=64, ofmap_kb=64,
    ifmap_offset=0, filter_offset=10000000, ofmap_offset=20000000,
    bandwidth=10, dataflow="ws",
    ifmap_bank_bw=10, ifmap_bank_num=1, filter_bank_bw=10, filter_bank_num=1,
    interface="CALC",
)

# conv layer: (name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filter, stride)
# gemm layer: (name, M, N, K)
CASES: list[dict] = [
    # ---- OS -------------------------------------------------------------------------------
    dict(name="os_4x4_conv", arch=dict(array_h=4, array_w=4, dataflow="os"),
         layers=[("c3x3_s1", 6, 6, 3, 3, 2, 4, 1),
                 ("c3x3_s2_ceil", 10, 10, 3, 3, 1, 3, 2),      # Eh=ceil(9/2)=5 (floor: 4)
                 ("c1x1_s2_ceil", 14, 14, 1, 1, 4, 8, 2),      # Eh=8 (floor: 7)
                 ("c1x1", 5, 5, 1, 1, 6, 5, 1)]),
    dict(name="os_8x16_conv", arch=dict(array_h=8, array_w=16, dataflow="os"),
         layers=[("c3x3", 8, 8, 3, 3, 8, 24, 1),
                 ("c9x9_s2", 9, 9, 3, 3, 4, 20, 2),
                 ("c5x5_rect", 12, 10, 5, 3, 3, 7, 1)]),
    dict(name="os_16x8_conv", arch=dict(array_h=16, array_w=8, dataflow="os",
                                        ifmap_kb=8, filter_kb=8, ofmap_kb=8),
         layers=[("c3x3", 10, 10, 3, 3, 6, 12, 1),
                 ("c1x1_s2_ceil", 14, 14, 1, 1, 8, 16, 2)]),
    dict(name="os_32x32_sram1k", arch=dict(array_h=32, array_w=32, dataflow="os",
                                           ifmap_kb=1, filter_kb=1, ofmap_kb=1),
         layers=[("c3x3_big", 18, 18, 3, 3, 8, 40, 1),      # ifmap 2592 w, filter 2880 w
                 ("c1x1", 16, 16, 1, 1, 16, 24, 1)]),
    dict(name="os_128x128_small", arch=dict(array_h=128, array_w=128, dataflow="os",
                                            ifmap_kb=256, filter_kb=256, ofmap_kb=128),
         layers=[("c3x3", 12, 12, 3, 3, 16, 48, 1)]),
    dict(name="os_gemm_8x8", arch=dict(array_h=8, array_w=8, dataflow="os"),
         layers=[("g_small", 20, 12, 30), ("g_tall", 70, 5, 9), ("g_wide", 6, 40, 17)]),
    dict(name="os_gemm_16x16_sram2k", arch=dict(array_h=16, array_w=16, dataflow="os",
                                                ifmap_kb=2, filter_kb=2, ofmap_kb=1),
         layers=[("g_sram", 60, 48, 70)]),
    dict(name="os_8x12_sram3k_1k", arch=dict(array_h=8, array_w=12, dataflow="os",
                                             ifmap_kb=3, filter_kb=1, ofmap_kb=1),
         layers=[("c3x3", 12, 12, 3, 3, 6, 30, 1),          # filter 1620 w > 50 sets, ofmap 3000 w
                 ("c1x1_s2_ceil", 16, 16, 1, 1, 8, 12, 2)]),   # Eh=9 (floor: 8)
    dict(name="os_gemm_128x128", arch=dict(array_h=128, array_w=128, dataflow="os"),
         layers=[("g1", 100, 60, 150)]),
    # ---- WS -------------------------------------------------------------------------------
    dict(name="ws_4x4_conv", arch=dict(array_h=4, array_w=4, dataflow="ws"),
         layers=[("c3x3_s1", 6, 6, 3, 3, 2, 4, 1),
                 ("c3x3_s2_ceil", 10, 10, 3, 3, 1, 3, 2),
                 ("c1x1_s2_ceil", 14, 14, 1, 1, 4, 8, 2)]),
    dict(name="ws_8x16_conv", arch=dict(array_h=8, array_w=16, dataflow="ws"),
         layers=[("c3x3", 8, 8, 3, 3, 8, 24, 1),
                 ("c1x1", 7, 7, 1, 1, 32, 20, 1),
                 ("c9x9_s2", 9, 9, 3, 3, 4, 20, 2)]),
    dict(name="ws_16x8_sram2k", arch=dict(array_h=16, array_w=8, dataflow="ws",
                                          ifmap_kb=2, filter_kb=2, ofmap_kb=2),
         layers=[("c3x3_big", 18, 18, 3, 3, 8, 16, 1),
                 ("c1x1_s2_ceil", 14, 14, 1, 1, 16, 12, 2)]),
    dict(name="ws_32x32_sram1k", arch=dict(array_h=32, array_w=32, dataflow="ws",
                                           ifmap_kb=1, filter_kb=2, ofmap_kb=1),
         layers=[("c3x3", 16, 16, 3, 3, 12, 40, 1)]),
    dict(name="ws_128x128_small", arch=dict(array_h=128, array_w=128, dataflow="ws",
                                            ifmap_kb=512, filter_kb=512, ofmap_kb=256),
         layers=[("c3x3", 16, 16, 3, 3, 16, 32, 1)]),
    dict(name="ws_8x8_dp", arch=dict(array_h=8, array_w=8, dataflow="ws"),
         layers=[("Conv_DP", 12, 12, 3, 3, 3, 1, 1),          # expands to 3 layers (1 channel each)
                 ("pw_after_dp", 10, 10, 1, 1, 3, 10, 1)]),
    dict(name="ws_gemm_16x16", arch=dict(array_h=16, array_w=16, dataflow="ws",
                                         ifmap_kb=2, filter_kb=1, ofmap_kb=2),
         layers=[("g_sram", 64, 40, 50), ("g_small", 10, 10, 10)]),
    dict(name="ws_12x20_sram1k", arch=dict(array_h=12, array_w=20, dataflow="ws",
                                           ifmap_kb=1, filter_kb=1, ofmap_kb=1),
         layers=[("c3x3_s2_ceil", 10, 10, 3, 3, 5, 25, 2),   # Eh=5 (floor: 4)
                 ("c3x3", 9, 9, 3, 3, 10, 30, 1)]),
    # ---- IS -------------------------------------------------------------------------------
    dict(name="is_4x4_conv", arch=dict(array_h=4, array_w=4, dataflow="is"),
         layers=[("c3x3_s1", 6, 6, 3, 3, 2, 4, 1),
                 ("c3x3_s2_ceil", 10, 10, 3, 3, 1, 3, 2),
                 ("c1x1_s2_ceil", 14, 14, 1, 1, 4, 8, 2)]),
    dict(name="is_16x8_conv", arch=dict(array_h=16, array_w=8, dataflow="is"),
         layers=[("c3x3", 8, 8, 3, 3, 8, 24, 1),
                 ("c9x9_s2", 9, 9, 3, 3, 4, 20, 2),
                 ("c1x1", 7, 7, 1, 1, 32, 20, 1)]),
    dict(name="is_8x16_sram1k", arch=dict(array_h=8, array_w=16, dataflow="is",
                                          ifmap_kb=1, filter_kb=1, ofmap_kb=2),
         layers=[("c3x3_big", 14, 14, 3, 3, 8, 24, 1)]),
    dict(name="is_32x32_dp", arch=dict(array_h=32, array_w=32, dataflow="is",
                                       ifmap_kb=4, filter_kb=4, ofmap_kb=4),
         layers=[("DP_conv", 16, 16, 3, 3, 2, 1, 1)]),
    dict(name="is_gemm_8x8", arch=dict(array_h=8, array_w=8, dataflow="is",
                                       ifmap_kb=1, filter_kb=1, ofmap_kb=1),
         layers=[("g_sram", 40, 30, 60), ("g_small", 12, 9, 7),
                 ("g_exact500", 10, 10, 50)]),                 # A and B are exactly 50 sets
    dict(name="is_128x128_small", arch=dict(array_h=128, array_w=128, dataflow="is",
                                            ifmap_kb=256, filter_kb=256, ofmap_kb=256),
         layers=[("c3x3", 12, 12, 3, 3, 8, 20, 1)]),
    dict(name="is_4x32_sram2k", arch=dict(array_h=4, array_w=32, dataflow="is",
                                          ifmap_kb=2, filter_kb=1, ofmap_kb=2),
         layers=[("c3x3", 8, 8, 3, 3, 4, 16, 1), ("c1x1_s2_ceil", 14, 14, 1, 1, 6, 10, 2)]),
    # ---- Edge cases of the fast CALC read counts (accelsim/kernels/scalesim_calc.py) ------
    dict(name="ws_8x8_sram1k_apart", arch=dict(array_h=8, array_w=8, dataflow="ws",
                                               ifmap_kb=1, filter_kb=1, ofmap_kb=1),
         layers=[("c3x3_ch16", 10, 10, 3, 3, 16, 8, 1),        # 2R <= C: chunk sharers a group apart
                 ("c3x3_ch12", 9, 9, 3, 3, 12, 10, 1),         # chunks cross taps; not apart (pieces)
                 ("c2x2_s2_ceil", 9, 9, 2, 2, 4, 6, 2)]),      # disjoint windows, Eh=5 (floor: 4)
    dict(name="os_8x8_sram1k_pieces", arch=dict(array_h=8, array_w=8, dataflow="os",
                                                ifmap_kb=1, filter_kb=1, ofmap_kb=1),
         layers=[("c3x3_ch16", 10, 10, 3, 3, 16, 12, 1),       # groups fill mid-piece, 2 passes
                 ("c3x3_s2_ceil", 11, 11, 3, 3, 8, 10, 2)]),
    dict(name="is_8x8_sram1k_pieces", arch=dict(array_h=8, array_w=8, dataflow="is",
                                                ifmap_kb=1, filter_kb=1, ofmap_kb=1),
         layers=[("c3x3_ch16", 10, 10, 3, 3, 16, 12, 1),       # band gcd(8, 16) = 8
                 ("c3x3_ch12", 9, 9, 3, 3, 12, 10, 1)]),       # band 4
    dict(name="ws_16x16_sram2k_pieces", arch=dict(array_h=16, array_w=16, dataflow="ws",
                                                  ifmap_kb=2, filter_kb=2, ofmap_kb=2),
         layers=[("c3x3_ch8", 12, 12, 3, 3, 8, 20, 1)]),       # R > C: repeats inside a fold
    # ---- USER-mode interface bandwidth ---------------------------------------------------
    dict(name="user_os_8x8", arch=dict(array_h=8, array_w=8, dataflow="os", interface="USER",
                                       ifmap_kb=2, filter_kb=2, ofmap_kb=2,
                                       bandwidth=10, ifmap_bank_bw=4, filter_bank_bw=6),
         layers=[("c3x3", 10, 10, 3, 3, 4, 12, 1), ("c1x1", 8, 8, 1, 1, 8, 8, 1)]),
    dict(name="user_ws_16x16", arch=dict(array_h=16, array_w=16, dataflow="ws", interface="USER",
                                         ifmap_kb=2, filter_kb=2, ofmap_kb=2,
                                         bandwidth=8, ifmap_bank_bw=4, filter_bank_bw=2),
         layers=[("c3x3", 10, 10, 3, 3, 8, 20, 1)]),
    dict(name="user_is_8x16", arch=dict(array_h=8, array_w=16, dataflow="is", interface="USER",
                                        ifmap_kb=16, filter_kb=16, ofmap_kb=16,
                                        bandwidth=20, ifmap_bank_bw=8, filter_bank_bw=16),
         layers=[("c3x3", 9, 9, 3, 3, 4, 12, 2), ("c1x1", 6, 6, 1, 1, 10, 16, 1)]),
    dict(name="user_ws_gemm_8x8", arch=dict(array_h=8, array_w=8, dataflow="ws", interface="USER",
                                            ifmap_kb=1, filter_kb=1, ofmap_kb=1,
                                            bandwidth=10, ifmap_bank_bw=10, filter_bank_bw=10),
         layers=[("g1", 30, 20, 25)]),
    dict(name="user_os_gemm_16x16", arch=dict(array_h=16, array_w=16, dataflow="os",
                                              interface="USER", ifmap_kb=1, filter_kb=1,
                                              ofmap_kb=1, bandwidth=16, ifmap_bank_bw=8,
                                              filter_bank_bw=4),
         layers=[("g1", 40, 24, 36)]),
    # USER-mode cases for accelsim/kernels/scalesim_user.py: read stalls on the ifmap
    # ("ifstall") or the filter ("fstall"), write stalls ("wstall": 1 kB OFMAP SRAM, low
    # Bandwidth), square and non-square arrays, SRAMs from 1 kB to 64 kB.
    dict(name="user_os_4x4_ifstall", arch=dict(array_h=4, array_w=4, dataflow="os", interface="USER",
                                               ifmap_kb=1, filter_kb=8, ofmap_kb=8,
                                               bandwidth=8, ifmap_bank_bw=1, filter_bank_bw=8),
         layers=[("c3x3", 12, 12, 3, 3, 8, 6, 1)]),
    dict(name="user_os_8x4_fstall", arch=dict(array_h=8, array_w=4, dataflow="os", interface="USER",
                                              ifmap_kb=8, filter_kb=1, ofmap_kb=8,
                                              bandwidth=8, ifmap_bank_bw=8, filter_bank_bw=1),
         layers=[("c3x3", 8, 8, 3, 3, 8, 16, 1)]),
    dict(name="user_os_8x8_wstall", arch=dict(array_h=8, array_w=8, dataflow="os", interface="USER",
                                              ifmap_kb=64, filter_kb=64, ofmap_kb=1,
                                              bandwidth=1, ifmap_bank_bw=10, filter_bank_bw=10),
         layers=[("c1x1", 12, 12, 1, 1, 8, 32, 1)]),
    dict(name="user_ws_8x8_ifstall", arch=dict(array_h=8, array_w=8, dataflow="ws", interface="USER",
                                               ifmap_kb=1, filter_kb=4, ofmap_kb=4,
                                               bandwidth=10, ifmap_bank_bw=2, filter_bank_bw=10),
         layers=[("c3x3_s2", 13, 13, 3, 3, 4, 10, 2)]),
    dict(name="user_ws_8x8_fstall", arch=dict(array_h=8, array_w=8, dataflow="ws", interface="USER",
                                              ifmap_kb=4, filter_kb=1, ofmap_kb=4,
                                              bandwidth=10, ifmap_bank_bw=10, filter_bank_bw=2),
         layers=[("c1x1", 4, 4, 1, 1, 64, 40, 1)]),
    dict(name="user_ws_16x8_wstall", arch=dict(array_h=16, array_w=8, dataflow="ws", interface="USER",
                                               ifmap_kb=32, filter_kb=32, ofmap_kb=1,
                                               bandwidth=2, ifmap_bank_bw=16, filter_bank_bw=16),
         layers=[("c1x1", 10, 10, 1, 1, 16, 16, 1)]),
    dict(name="user_is_8x8_ifstall", arch=dict(array_h=8, array_w=8, dataflow="is", interface="USER",
                                               ifmap_kb=1, filter_kb=16, ofmap_kb=16,
                                               bandwidth=8, ifmap_bank_bw=1, filter_bank_bw=8),
         layers=[("c3x3", 10, 10, 3, 3, 4, 8, 1)]),
    dict(name="user_is_4x16_fstall", arch=dict(array_h=4, array_w=16, dataflow="is", interface="USER",
                                               ifmap_kb=3, filter_kb=1, ofmap_kb=8,
                                               bandwidth=8, ifmap_bank_bw=8, filter_bank_bw=1),
         layers=[("c3x3", 9, 9, 3, 3, 4, 20, 1)]),
    dict(name="user_is_16x16_wstall", arch=dict(array_h=16, array_w=16, dataflow="is", interface="USER",
                                                ifmap_kb=64, filter_kb=64, ofmap_kb=1,
                                                bandwidth=1, ifmap_bank_bw=16, filter_bank_bw=16),
         layers=[("c1x1", 12, 12, 1, 1, 16, 20, 1)]),
    dict(name="user_ws_gemm_12x8", arch=dict(array_h=12, array_w=8, dataflow="ws", interface="USER",
                                             ifmap_kb=2, filter_kb=1, ofmap_kb=1,
                                             bandwidth=2, ifmap_bank_bw=3, filter_bank_bw=2),
         layers=[("g1", 40, 30, 20)]),
    dict(name="user_is_gemm_8x8", arch=dict(array_h=8, array_w=8, dataflow="is", interface="USER",
                                            ifmap_kb=1, filter_kb=2, ofmap_kb=1,
                                            bandwidth=3, ifmap_bank_bw=2, filter_bank_bw=1),
         layers=[("g1", 30, 24, 40)]),
    dict(name="user_os_gemm_32x32_64k", arch=dict(array_h=32, array_w=32, dataflow="os",
                                                  interface="USER", ifmap_kb=64, filter_kb=64,
                                                  ofmap_kb=64, bandwidth=4, ifmap_bank_bw=4,
                                                  filter_bank_bw=4),
         layers=[("g1", 100, 80, 64)]),
    # ---- Layers from SCALE-Sim's shipped topologies on its shipped scale.cfg -------------
    # scale.cfg: 32x32 ws, 64 kB SRAMs, CALC, bank num 10.
    dict(name="real_scale_cfg_alexnet", arch=dict(array_h=32, array_w=32, dataflow="ws",
                                                  ifmap_bank_num=10, filter_bank_num=10),
         layers=[("Conv1", 224, 224, 11, 11, 3, 96, 4)]),     # alexnet.csv Conv1 (Eh=55, floor 54)
    dict(name="real_scale_cfg_resnet18", arch=dict(array_h=32, array_w=32, dataflow="ws",
                                                   ifmap_bank_num=10, filter_bank_num=10),
         layers=[("Conv1", 224, 224, 7, 7, 3, 64, 2),          # Resnet18.csv Conv1 (Eh=110, floor 109)
                 ("Conv2_1a", 56, 56, 3, 3, 64, 64, 1)]),      # Resnet18.csv Conv2_1a
]

CONV_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
               "Num Filter, Strides,")
GEMM_HEADER = "Layer, M, N, K,"


def is_gemm(case: dict) -> bool:
    return "gemm" in case["name"]


def arch_of(case: dict) -> dict:
    a = dict(DEFAULT_ARCH)
    a.update(case["arch"])
    return a


def cfg_text(case: dict) -> str:
    a = arch_of(case)
    return f"""[general]
run_name = {case['name']}

[architecture_presets]
ArrayHeight:    {a['array_h']}
ArrayWidth:     {a['array_w']}
IfmapSramSzkB:  {a['ifmap_kb']}
FilterSramSzkB: {a['filter_kb']}
OfmapSramSzkB:  {a['ofmap_kb']}
IfmapOffset:    {a['ifmap_offset']}
FilterOffset:   {a['filter_offset']}
OfmapOffset:    {a['ofmap_offset']}
Bandwidth : {a['bandwidth']}
Dataflow : {a['dataflow']}
MemoryBanks:   1
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: {a['ifmap_bank_bw']}
IfmapSRAMBankNum: {a['ifmap_bank_num']}
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: {a['filter_bank_bw']}
FilterSRAMBankNum: {a['filter_bank_num']}
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: {a['interface']}
UseRamulatorTrace: False
"""


def topo_text(case: dict) -> str:
    lines = [GEMM_HEADER if is_gemm(case) else CONV_HEADER]
    for layer in case["layers"]:
        lines.append(", ".join(str(x) for x in layer) + ",")   # trailing comma is required
    return "\n".join(lines) + "\n"


def expanded_layers(case: dict) -> list[dict]:
    """The layers SCALE-Sim actually simulates, in report order, lowered to conv parameters.

    GEMM (M, N, K) becomes ifmap M x K, filter 1 x K, 1 channel, N filters, stride 1.
    A conv layer whose name contains 'DP' becomes `Channels` layers with 1 channel each, named
    <name>Channel_<i>.
    """
    out = []
    for layer in case["layers"]:
        if is_gemm(case):
            name, m, n, k = layer
            out.append(dict(layer_name=name, ifmap_h=m, ifmap_w=k, filter_h=1, filter_w=k,
                            channels=1, num_filters=n, stride=1, gemm_m=m, gemm_n=n, gemm_k=k))
            continue
        name, ih, iw, fh, fw, ch, nf, st = layer
        base = dict(ifmap_h=ih, ifmap_w=iw, filter_h=fh, filter_w=fw, channels=ch,
                    num_filters=nf, stride=st, gemm_m="", gemm_n="", gemm_k="")
        if "DP" in name:
            for i in range(ch):
                d = dict(base, layer_name=f"{name}Channel_{i}")
                d["channels"] = 1
                out.append(d)
        else:
            out.append(dict(base, layer_name=name))
    return out


def demand_rows(case: dict, layer: dict) -> int:
    """Number of demand-matrix rows SCALE-Sim will simulate (a runtime estimate)."""
    a = arch_of(case)
    R, C = a["array_h"], a["array_w"]
    eh = math.ceil((layer["ifmap_h"] - layer["filter_h"] + layer["stride"]) / layer["stride"])
    ew = math.ceil((layer["ifmap_w"] - layer["filter_w"] + layer["stride"]) / layer["stride"])
    npx, k, m = eh * ew, layer["filter_h"] * layer["filter_w"] * layer["channels"], \
        layer["num_filters"]
    sr, sc, t = {"os": (npx, m, k), "ws": (k, m, npx), "is": (k, npx, m)}[a["dataflow"]]
    folds = math.ceil(sr / R) * math.ceil(sc / C)
    per_fold = t + R + C - 2 if a["dataflow"] == "os" else 2 * R + C + t - 2
    return folds * per_fold


# --------------------------------------------------------------------------------------------
# Report parsing
# --------------------------------------------------------------------------------------------
COMPUTE_COLS = ["total_cycles_incl_prefetch", "total_cycles", "stall_cycles",
                "overall_util_pct", "mapping_efficiency_pct", "compute_util_pct"]
BW_COLS = ["avg_ifmap_sram_bw", "avg_filter_sram_bw", "avg_ofmap_sram_bw",
           "avg_ifmap_dram_bw", "avg_filter_dram_bw", "avg_ofmap_dram_bw"]
DETAIL_COLS = ["ifmap_sram_start", "ifmap_sram_stop", "ifmap_sram_reads",
               "filter_sram_start", "filter_sram_stop", "filter_sram_reads",
               "ofmap_sram_start", "ofmap_sram_stop", "ofmap_sram_writes",
               "ifmap_dram_start", "ifmap_dram_stop", "ifmap_dram_reads",
               "filter_dram_start", "filter_dram_stop", "filter_dram_reads",
               "ofmap_dram_start", "ofmap_dram_stop", "ofmap_dram_writes"]
CASE_COLS = ["case", "layer_index", "layer_name", "input_type", "dataflow", "array_h", "array_w",
             "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb", "interface_bw",
             "bandwidth", "ifmap_bank_bw", "filter_bank_bw",
             "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filters", "stride",
             "gemm_m", "gemm_n", "gemm_k", "demand_rows"]
ALL_COLS = CASE_COLS + COMPUTE_COLS + BW_COLS + DETAIL_COLS


def read_report(path: Path, ncols: int) -> list[list[str]]:
    rows = []
    with open(path) as f:
        next(f)                                    # header
        for line in f:
            fields = [x.strip() for x in line.strip().split(",")]
            fields = [x for x in fields if x != ""]
            if not fields:
                continue
            assert len(fields) == ncols + 1, (path, line)
            rows.append(fields[1:])                # drop LayerID
    return rows


# --------------------------------------------------------------------------------------------
# Running SCALE-Sim
# --------------------------------------------------------------------------------------------
def run_one_inprocess(cfg: str, topo: str, outdir: str, gemm: bool) -> None:
    """Executed in a fresh subprocess (see --run-one)."""
    from scalesim.scale_sim import scalesim     # only available in the SCALE-Sim venv
    layout = os.path.join(outdir, "layout.csv")
    with open(layout, "w") as f:
        f.write("Layer name,\n")                    # -l needs an existing file
    sim = scalesim(save_disk_space=True, verbose=False, config=cfg, topology=topo,
                   layout=layout, input_type_gemm=gemm)
    sim.run_scale(top_path=outdir)


def run_case(case: dict) -> tuple[str, list[dict], float]:
    cfg = CASES_DIR / f"{case['name']}.cfg"
    topo = CASES_DIR / f"{case['name']}.csv"
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix=f"scalesim_{case['name']}_") as tmp:
        cmd = [sys.executable, str(Path(__file__).resolve()), "--run-one", str(cfg), str(topo),
               tmp, "gemm" if is_gemm(case) else "conv"]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
        if proc.returncode != 0:
            raise RuntimeError(f"{case['name']} failed:\n{proc.stdout}\n{proc.stderr}")
        rdir = Path(tmp) / case["name"]
        comp = read_report(rdir / "COMPUTE_REPORT.csv", len(COMPUTE_COLS))
        bw = read_report(rdir / "BANDWIDTH_REPORT.csv", len(BW_COLS))
        det = read_report(rdir / "DETAILED_ACCESS_REPORT.csv", len(DETAIL_COLS))
    layers = expanded_layers(case)
    assert len(comp) == len(bw) == len(det) == len(layers), case["name"]
    a = arch_of(case)
    rows = []
    for i, layer in enumerate(layers):
        row = dict(case=case["name"], layer_index=i, input_type="gemm" if is_gemm(case) else "conv",
                   dataflow=a["dataflow"], array_h=a["array_h"], array_w=a["array_w"],
                   ifmap_sram_kb=a["ifmap_kb"], filter_sram_kb=a["filter_kb"],
                   ofmap_sram_kb=a["ofmap_kb"], interface_bw=a["interface"],
                   bandwidth=a["bandwidth"], ifmap_bank_bw=a["ifmap_bank_bw"],
                   filter_bank_bw=a["filter_bank_bw"], demand_rows=demand_rows(case, layer))
        row.update(layer)
        row.update(zip(COMPUTE_COLS, comp[i]))
        row.update(zip(BW_COLS, bw[i]))
        row.update(zip(DETAIL_COLS, det[i]))
        rows.append(row)
    return case["name"], rows, time.time() - t0


def write_reference(reference: Path, names: list[str], results: dict[str, list[dict]],
                    keep_others: bool) -> None:
    """Write ``results`` (case -> rows) to ``reference`` in the order of ``names``; with
    ``keep_others``, the rows of cases not rerun are kept from the existing file."""
    by_case: dict[str, list[dict]] = {n: [] for n in names}
    if keep_others and reference.exists():
        with open(reference) as f:
            for r in csv.DictReader(f):
                if r["case"] not in results:
                    by_case.setdefault(r["case"], []).append(r)
    by_case.update(results)
    with open(reference, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=ALL_COLS, lineterminator="\n")
        w.writeheader()
        for n in names:
            for r in by_case.get(n, []):
                w.writerow(r)
    print(f"wrote {reference} ({sum(len(v) for v in by_case.values())} rows)")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--run-one":
        _, _, cfg, topo, outdir, kind = sys.argv
        run_one_inprocess(cfg, topo, outdir, kind == "gemm")
        return

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("cases", nargs="*", help="subset of case names (default: all); with a "
                    "subset, rows of other cases already in reference.csv are kept")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="parallel SCALE-Sim processes")
    ap.add_argument("--write-only", action="store_true", help="only write the case files")
    args = ap.parse_args()

    CASES_DIR.mkdir(parents=True, exist_ok=True)
    names = [c["name"] for c in CASES]
    assert len(set(names)) == len(names)
    selected = [c for c in CASES if not args.cases or c["name"] in args.cases]
    unknown = set(args.cases) - set(names)
    if unknown:
        sys.exit(f"unknown cases: {sorted(unknown)}")
    for case in selected:
        (CASES_DIR / f"{case['name']}.cfg").write_text(cfg_text(case))
        (CASES_DIR / f"{case['name']}.csv").write_text(topo_text(case))
        est = sum(demand_rows(case, l) for l in expanded_layers(case))
        print(f"{case['name']:24s} layers={len(expanded_layers(case)):2d} demand_rows={est}")
    if args.write_only:
        return

    results: dict[str, list[dict]] = {}
    # Longest first, so the two workers finish together.
    order = sorted(selected, key=lambda c: -sum(demand_rows(c, l) * arch_of(c)["array_w"]
                                                 for l in expanded_layers(c)))
    with cf.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for fut in cf.as_completed([ex.submit(run_case, c) for c in order]):
            name, rows, dt = fut.result()
            results[name] = rows
            print(f"done {name:24s} {len(rows)} rows in {dt:.1f}s", flush=True)

    write_reference(REFERENCE, names, results, keep_others=bool(args.cases))


if __name__ == "__main__":
    main()
