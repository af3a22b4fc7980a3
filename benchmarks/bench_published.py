"""accelsim against published chips: tables of published | accelsim | ratio, each figure sourced.

    python benchmarks/bench_published.py            # every table, fixed and searched mappings
    python benchmarks/bench_published.py --only area --only area_components --only area_synthesis

Each timing table runs the shipped config twice: with its default mapping (``fixed``, SCALE-Sim's
column-fold-major mapping) and with ``mapping="search"`` (the mapper's best mapping for cycles),
``fold`` fidelity. Published figures (and where they come from):

* Eyeriss (Chen, Krishna, Emer, Sze, IEEE JSSC 52(1), 2017, Table V "performance breakdown of
  the five CONV layers of AlexNet", batch N = 4, 200 MHz, 16-bit): per layer the processing
  latency and the total latency, which adds the time to move the layer's data from and to DRAM.
  (Taken from the paper's table; the stored copies the search tool reaches do not include it.
  Two independent checks: the totals, 115.3 ms for 4 images, are the abstract's 34.7 frames/s,
  asserted below; the processing total, 103.5 ms at 200 MHz, is the 20.7 M cycles issue 18 quotes.)
* Bit Fusion (Sharma et al., ISCA 2018): the authors' own simulator's cycles per AlexNet layer,
  as published in their repository (github.com/hsharma35/bitfusion,
  results/bitfusion-eyeriss-sim-sweep.csv, 16x32 fusion units, 192 bits/cycle of DRAM
  bandwidth, batch 16). The sweep that wrote the csv (src/sweep/sweep.py) builds its networks with
  ``get_bench_nn(b, WRPN=True)``: the AlexNet of that csv is ``get_alex_net_wrpn``
  (src/benchmarks/benchmarks.py), the two-tower AlexNet at twice the width (WRPN 2x: 192/512/768/
  768/512 filters, fc 8192-8192-1000), 4-bit weights and activations except conv1 (8-bit weights
  on the 8-bit image) and fc3 (8-bit weights on fc2's 8-bit outputs). The csv's 4096 bits/cycle
  rows, where memory never binds, confirm the widths: they equal the layers' MACs at 2,048 4-bit
  products per cycle (asserted below; the 1x network would give a quarter of conv3-5's).
  The csv lists each tower (``conv2_a``, ``conv2_b``); a grouped accelsim layer is both.
  The same csv has every layer at 4096 bits/cycle too (``bitfusion_compute``: memory never binds,
  so both models time the array alone) and the CIFAR-10 QNN of ``get_cifar10_qnn`` at 2 bits
  (``bitfusion_cifar10`` and ``bitfusion_cifar10_compute``; asserted below: its conv1 at 4096
  bits/cycle takes one row fold per kernel tap, the channels-only reduction the config states).
  What remains between the two, layer by layer, and why: docs/timing_models.md ("Published chips").
* Stripes (Judd et al., MICRO 2016): a layer at p-bit activations runs 16/p times faster than
  at 16 bits (bit-serial activations; the speed-up the config's own source promises). The
  ``stripes_wiring`` table shows how much of it each array wiring keeps (docs/timing_models.md,
  "Overlap between folds" and "Broadcast delivery").
* TPU v1 (Jouppi et al., ISCA 2017): 65,536 8-bit MACs at 700 MHz, 92 TOPS peak; 34 GB/s of
  weight memory; Table 1: MLP0 is 5 FC layers with 20 M weights at batch 200, MLP1 4 FC layers
  with 5 M weights at batch 168. The paper gives no layer widths: the MLP-like networks here
  split the weights evenly (2000x2000 and 1118x1118 layers, an approximation). Their published
  roofline bound is ``2 x batch x 34 GB/s`` operations per second (each weight byte read once
  per batch). The GEMM runs again with 100x the DRAM bandwidth: against peak when bandwidth
  allows (issue 18's check).
* Die areas: Eyeriss core 3.5 mm x 3.5 mm = 12.25 mm2 at 65 nm (JSSC 2017); TPU v1 die under
  331 mm2 at 28 nm, floorplan shares: matrix unit 24%, unified buffer 29%, accumulators 6%
  (ISCA 2017, Figure 2). accelsim's factors are not fitted to either (docs/energy_area.md).
  Other designs check the cell model without entering it: NVDLA's estimated synthesis areas at
  28 nm, all memories included (nvdla/doc, doc/primer.rst, "Example Area and Performance with
  NVDLA"), for its two documented int8 configurations (doc/hw/v2/scalability.rst); Bit Fusion's
  synthesized 8-bit systolic arrays (hsharma35/bitfusion, results/systolic_array_synth.csv).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import functools
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import accelsim as ax  # noqa: E402
from accelsim.cost import area  # noqa: E402
from accelsim.cost.area import core_area_mm2, sram_halo_shares_um2  # noqa: E402
from accelsim.cost.tables import load_table  # noqa: E402
from accelsim.spec.arch import OperandDelivery  # noqa: E402
from accelsim.spec.load import arch_from_dict  # noqa: E402
from accelsim.spec.workload import Compression, Conv2d, Gemm, Network  # noqa: E402

MAPPINGS = ("fixed", "search")

# Chen et al., JSSC 2017, Table V: AlexNet CONV layers, batch 4, 200 MHz (ms).
EYERISS_PROCESSING_MS = {"conv1": 16.5, "conv2": 39.2, "conv3": 21.8, "conv4": 16.0, "conv5": 10.0}
EYERISS_TOTAL_MS = {"conv1": 20.9, "conv2": 41.9, "conv3": 23.6, "conv4": 18.4, "conv5": 10.5}
EYERISS_CLOCK_HZ = 200e6
assert abs(4 / (sum(EYERISS_TOTAL_MS.values()) / 1e3) - 34.7) < 0.05  # JSSC 2017 abstract: 34.7 frames/s at N = 4
EYERISS_CORE_MM2 = 12.25

# hsharma35/bitfusion results/bitfusion-eyeriss-sim-sweep.csv (16 x 32 units, batch 16): cycles per layer at
# 192 bits/cycle (the shipped config's 24 B/cycle) and at 4096 bits/cycle (512 B/cycle: memory never binds).
# AlexNet (WRPN 2x): cycles of one tower (a and b are equal), so a layer of both towers takes twice that.
BITFUSION_TOWER_CYCLES = {"conv1": 3746423, "conv2": 5018849, "conv3": 3248129, "conv4": 2436097,
                          "conv5": 1624065}
BITFUSION_FC_CYCLES = {"fc1": 3545090, "fc2": 1575596, "fc3": 398679}
BITFUSION_4096_TOWER_CYCLES = {"conv1": 3339626, "conv2": 4665659, "conv3": 2336283, "conv4": 1752219,
                               "conv5": 1168155}
BITFUSION_4096_FC_CYCLES = {"fc1": 1179653, "fc2": 524295, "fc3": 262148}
BITFUSION_WRPN_TOWER_MACS = {"conv3": 16 * 13 * 13 * 384 * 512 * 9, "conv4": 16 * 13 * 13 * 384 * 384 * 9,
                             "conv5": 16 * 13 * 13 * 256 * 384 * 9, "fc1": 16 * 18432 * 8192, "fc2": 16 * 8192 * 8192}
BITFUSION_PRODUCTS_PER_CYCLE = 16 * 32 * 4  # 16 x 32 fusion units, 4 products of 4b x 4b each (ISCA 2018)
assert all(0 <= ({**BITFUSION_4096_TOWER_CYCLES, **BITFUSION_4096_FC_CYCLES}[n]
                 - BITFUSION_WRPN_TOWER_MACS[n] / BITFUSION_PRODUCTS_PER_CYCLE < 30) for n in BITFUSION_WRPN_TOWER_MACS)
# CIFAR-10 QNN (get_cifar10_qnn: 2-bit weights and activations, conv0 8-bit weights on the 8-bit image).
BITFUSION_CIFAR10_CYCLES = {"conv0": 717654, "conv1": 799062, "conv2": 402091, "conv3": 492204, "conv4": 255318,
                            "conv5": 510636, "fc6": 99671, "fc7": 16555, "fc8": 513}
BITFUSION_CIFAR10_4096_CYCLES = {"conv0": 131084, "conv1": 589849, "conv2": 294941, "conv3": 294961,
                                 "conv4": 147505, "conv5": 294960, "fc6": 16398, "fc7": 2064, "fc8": 85}
# conv1 at 4096 bits/cycle: 16 x 32 x 32 pixels x 128/32 column folds x 9 taps x ceil(128 / 256 lanes) (2 bits:
# 16 products per unit): each tap takes a whole row fold, the channels-only reduction (array.reduction).
assert 0 <= BITFUSION_CIFAR10_4096_CYCLES["conv1"] - 16 * 32 * 32 * 4 * 9 < 30

TPU_PEAK_TOPS = 92.0
TPU_WEIGHT_BYTES_PER_S = 34e9
TPU_DIE_MM2 = 331.0
TPU_SHARES = {"matrix unit": 0.24, "unified buffer": 0.29, "accumulators": 0.06}

# NVDLA primer (nvdla/doc, doc/primer.rst, "Example Area and Performance with NVDLA"): estimated
# synthesis area at 28 nm, all memories included, by MACs and convolution buffer (KB). Two rows match
# the documented int8 configurations in MACs and buffer (doc/hw/v2/scalability.rst): nv_large,
# atomic-C 64 x atomic-K 32, CBUF 16 banks x 64 B x 512; nv_small, 8 x 8, CBUF 32 banks x 8 B x 512
# (the primer does not say which precisions its MACs run; NVDLA v1's also run int16 and fp16).
NVDLA_SYNTHESIS_MM2 = {(2048, 512): 5.5, (1024, 256): 3.0, (512, 256): 2.3, (256, 256): 1.7, (128, 256): 1.4,
                       (64, 128): 0.91, (32, 128): 0.85}
NVDLA_CONFIGS = {"nv_large": dict(rows=64, cols=32, cbuf_kib=512, banks=16, bank_bytes=64),
                 "nv_small": dict(rows=8, cols=8, cbuf_kib=128, banks=32, bank_bytes=8)}
# hsharma35/bitfusion, results/systolic_array_synth.csv: the authors' synthesis of an 8-bit systolic
# array (max and min precision 8) at 500 MHz, um2 of the whole N x M array (45 nm per the ISCA 2018
# paper; the csv does not state the node).
BITFUSION_SYSTOLIC_8BIT_UM2 = {(2, 2): 2236.751997, (4, 4): 8171.729995}


def original_alexnet(batch: int, bits: dict[str, tuple[int, int]], fc: bool = False, width: int = 1) -> Network:
    """The two-tower AlexNet (Krizhevsky et al. 2012) the chips ran: 227x227 input, 96/256/384/384/256
    filters, conv2/4/5 split over two groups (666 M conv MACs per image); ``width`` multiplies every
    layer's filters (WRPN 2x: ``width=2``, fc 8192-8192-1000). ``bits``: layer -> (weight bits,
    activation bits)."""
    shapes = [("conv1", 3, 96, 227, 11, 4, 0, 1), ("conv2", 96, 256, 27, 5, 1, 2, 2),
              ("conv3", 256, 384, 13, 3, 1, 1, 1), ("conv4", 384, 384, 13, 3, 1, 1, 2),
              ("conv5", 384, 256, 13, 3, 1, 1, 2)]
    layers = [Conv2d(name=name, batch=batch, in_channels=cin if name == "conv1" else width * cin,
                     out_channels=width * cout, in_h=hw, in_w=hw, kernel=(k, k), stride=(s, s), padding=(p,) * 4,
                     groups=g, compression=Compression(weight_bits=bits[name][0], act_bits=bits[name][1]))
              for name, cin, cout, hw, k, s, p, g in shapes]
    if fc:
        layers += [Gemm(name=name, batch=batch, m=1, k=k, n=n,
                        compression=Compression(weight_bits=bits[name][0], act_bits=bits[name][1]))
                   for name, k, n in (("fc1", 9216 * width, 4096 * width), ("fc2", 4096 * width, 4096 * width),
                                      ("fc3", 4096 * width, 1000))]
    suffix = "" if width == 1 else f"-x{width}"
    return Network(name=f"alexnet-original{suffix}", layers=tuple(layers))


def arch(name: str):
    return ax.load_arch(ROOT / "arch_configs" / f"{name}.yaml")


def layer_cycles(spec, net: Network) -> dict[str, pd.Series]:
    """Per-layer cycles of ``net`` on ``spec`` for each mapping."""
    return {m: ax.simulate(spec, net, mapping=m).layers.set_index("layer")["cycles"].astype(float)
            for m in MAPPINGS}


def eyeriss() -> pd.DataFrame:
    net = original_alexnet(4, {name: (16, 16) for name in EYERISS_TOTAL_MS})
    cycles = layer_cycles(arch("eyeriss_like"), net)
    rows = []
    for name in EYERISS_TOTAL_MS:
        row = {"layer": name, "published processing ms": EYERISS_PROCESSING_MS[name],
               "published total ms": EYERISS_TOTAL_MS[name]}
        for m in MAPPINGS:
            ms = cycles[m][name] / EYERISS_CLOCK_HZ * 1e3
            row[f"accelsim {m} ms"] = ms
            row[f"{m} / processing"] = ms / EYERISS_PROCESSING_MS[name]
            row[f"{m} / total"] = ms / EYERISS_TOTAL_MS[name]
        rows.append(row)
    return _with_total(pd.DataFrame(rows), ratio_of={
        f"{m} / {kind}": (f"accelsim {m} ms", f"published {kind} ms") for m in MAPPINGS
        for kind in ("processing", "total")})


def bitfusion_alexnet() -> Network:
    """The AlexNet of the authors' csv: WRPN 2x, batch 16 (get_alex_net_wrpn: conv1 8-bit weights on the 8-bit
    image, fc3 8-bit weights on fc2's 8-bit outputs, 4 bits elsewhere)."""
    bits = {"conv1": (8, 8), **{f"conv{i}": (4, 4) for i in range(2, 6)}, "fc1": (4, 4), "fc2": (4, 4),
            "fc3": (8, 8)}
    return original_alexnet(16, bits, fc=True, width=2)


def cifar10_qnn(batch: int = 16) -> Network:
    """The CIFAR-10 QNN of the authors' csv (get_cifar10_qnn): six 3x3 convs (128-128-256-256-512-512 filters,
    'SAME' padding, max pools after conv1, conv3 and conv5), fc 8192-1024-1024-10; 2-bit weights and
    activations, conv0 8-bit weights on the 8-bit image."""
    shapes = [("conv0", 3, 128, 32, 8), ("conv1", 128, 128, 32, 2), ("conv2", 128, 256, 16, 2),
              ("conv3", 256, 256, 16, 2), ("conv4", 256, 512, 8, 2), ("conv5", 512, 512, 8, 2)]
    layers = [Conv2d(name=name, batch=batch, in_channels=cin, out_channels=cout, in_h=hw, in_w=hw, kernel=(3, 3),
                     padding=(1,) * 4, compression=Compression(weight_bits=weight_bits, act_bits=8 if cin == 3 else 2))
              for name, cin, cout, hw, weight_bits in shapes]
    layers += [Gemm(name=name, batch=batch, m=1, k=k, n=n, compression=Compression(weight_bits=2, act_bits=2))
               for name, k, n in (("fc6", 512 * 4 * 4, 1024), ("fc7", 1024, 1024), ("fc8", 1024, 10))]
    return Network(name="cifar10-qnn", layers=tuple(layers))


def _bitfusion_table(net: Network, published: dict[str, int], bytes_per_cycle: int | None = None) -> pd.DataFrame:
    """Per layer: the authors' cycles, accelsim's with each mapping and the ratio; ``bytes_per_cycle``
    replaces the config's DRAM bandwidth (``None``: the config's 24 B/cycle)."""
    spec = arch("bitfusion_like")
    if bytes_per_cycle is not None:
        bandwidth = dataclasses.replace(spec.dram.bandwidth, bytes_per_unit=bytes_per_cycle)
        spec = dataclasses.replace(spec, dram=dataclasses.replace(spec.dram, bandwidth=bandwidth))
    cycles = layer_cycles(spec, net)
    bits = {layer.name: layer.compression for layer in net.layers}
    rows = []
    for name, want in published.items():
        row = {"layer": name, "w/a bits": f"{bits[name].weight_bits}/{bits[name].act_bits}",
               "Bit Fusion sim cycles": want}
        for m in MAPPINGS:
            row[f"accelsim {m}"] = cycles[m][name]
            row[f"{m} / published"] = cycles[m][name] / want
        rows.append(row)
    return _with_total(pd.DataFrame(rows), ratio_of={
        f"{m} / published": (f"accelsim {m}", "Bit Fusion sim cycles") for m in MAPPINGS})


def bitfusion() -> pd.DataFrame:
    published = {name: 2 * c for name, c in BITFUSION_TOWER_CYCLES.items()} | BITFUSION_FC_CYCLES
    return _bitfusion_table(bitfusion_alexnet(), published)


def bitfusion_compute() -> pd.DataFrame:
    published = {name: 2 * c for name, c in BITFUSION_4096_TOWER_CYCLES.items()} | BITFUSION_4096_FC_CYCLES
    return _bitfusion_table(bitfusion_alexnet(), published, bytes_per_cycle=4096 // 8)


def bitfusion_cifar10() -> pd.DataFrame:
    return _bitfusion_table(cifar10_qnn(), BITFUSION_CIFAR10_CYCLES)


def bitfusion_cifar10_compute() -> pd.DataFrame:
    return _bitfusion_table(cifar10_qnn(), BITFUSION_CIFAR10_4096_CYCLES, bytes_per_cycle=4096 // 8)


def stripes() -> pd.DataFrame:
    spec = arch("bit_serial_like")
    totals = {p: {m: ax.simulate(spec, _alexnet_array_layers(p), mapping=m).cycles for m in MAPPINGS}
              for p in (16, 8, 4, 2)}
    rows = []
    for p in (8, 4, 2):
        row = {"activation bits p": p, "published 16/p": 16 / p}
        for m in MAPPINGS:
            speedup = totals[16][m] / totals[p][m]
            row[f"accelsim {m}"] = speedup
            row[f"{m} / published"] = speedup / (16 / p)
        rows.append(row)
    return pd.DataFrame(rows)


def stripes_wiring() -> pd.DataFrame:
    """Stripes' 16/p under each array wiring: systolic or broadcast delivery, with and without
    output overlap (the shipped config is broadcast with overlap; default mapping)."""
    spec = arch("bit_serial_like")
    nets = {p: _alexnet_array_layers(p) for p in (16, 8, 4, 2)}
    rows = []
    for delivery in ("systolic", "broadcast"):
        for overlap in (False, True):
            variant = dataclasses.replace(spec, array=dataclasses.replace(
                spec.array, operand_delivery=OperandDelivery(delivery), output_overlap=overlap))
            cycles = {p: ax.simulate(variant, net).cycles for p, net in nets.items()}
            row = {"operand_delivery": delivery, "output_overlap": "yes" if overlap else "no"}
            for p in (8, 4, 2):
                row[f"p={p}: speed-up / (16/p)"] = cycles[16] / cycles[p] / (16 / p)
            rows.append(row)
    return pd.DataFrame(rows)


def _alexnet_array_layers(p: int) -> Network:
    """AlexNet's array layers (workloads/alexnet.yaml) at 16-bit weights and p-bit activations."""
    base = ax.load_workload(ROOT / "workloads" / "alexnet.yaml")
    return Network(name=f"alexnet-a{p}", layers=tuple(
        dataclasses.replace(layer, compression=dataclasses.replace(layer.compression, weight_bits=16, act_bits=p))
        for layer in base.layers if layer.macs))


def tpu() -> pd.DataFrame:
    spec = arch("tpu_v1_like")
    int8 = Compression(weight_bits=8, act_bits=8)
    gemm = Network(name="gemm", layers=(Gemm(name="gemm", m=16384, k=4096, n=4096, compression=int8),))
    mlp0 = Network(name="mlp0", layers=tuple(Gemm(name=f"fc{i}", m=200, k=2000, n=2000, compression=int8)
                                             for i in range(5)))
    mlp1 = Network(name="mlp1", layers=tuple(Gemm(name=f"fc{i}", m=168, k=1118, n=1118, compression=int8)
                                             for i in range(4)))
    # the same chip with 100x the DRAM bandwidth: what the model reaches when bandwidth allows
    bandwidth = dataclasses.replace(spec.dram.bandwidth, bytes_per_unit=100 * spec.dram.bandwidth.bytes_per_unit)
    ample = dataclasses.replace(spec, dram=dataclasses.replace(spec.dram, bandwidth=bandwidth))
    cases = [("GEMM 16384x4096x4096", spec, gemm, TPU_PEAK_TOPS, "peak (Jouppi et al., 92 TOPS)"),
             ("GEMM 16384x4096x4096, 100x DRAM bandwidth", ample, gemm, TPU_PEAK_TOPS, "peak (Jouppi et al., 92 TOPS)"),
             ("MLP0-like, batch 200", spec, mlp0, 2 * 200 * TPU_WEIGHT_BYTES_PER_S / 1e12,
              "roofline 2 x 200 x 34 GB/s"),
             ("MLP1-like, batch 168", spec, mlp1, 2 * 168 * TPU_WEIGHT_BYTES_PER_S / 1e12,
              "roofline 2 x 168 x 34 GB/s")]
    rows = []
    for label, chip, net, published, what in cases:
        row = {"workload": label, "published TOPS": published, "published figure": what}
        for m in MAPPINGS:
            result = ax.simulate(chip, net, mapping=m)
            macs = sum(layer.macs for layer in net.layers)
            tops = 2 * macs / (result.cycles / spec.clock_hz) / 1e12
            row[f"accelsim {m} TOPS"] = tops
            row[f"{m} / published"] = tops / published
        rows.append(row)
    return pd.DataFrame(rows)


def die_area() -> pd.DataFrame:
    eyeriss_core = core_area_mm2(area(arch("eyeriss_like")))
    tpu = arch("tpu_v1_like")
    tpu_area = area(tpu).set_index("component")["area_mm2"]
    halos = {name: um2 / 1e6 for name, um2 in sram_halo_shares_um2(tpu).items()}  # a floorplan block holds its rings
    logic = tpu_area["mac_unit"] + tpu_area["pe_registers"]
    layout_share = logic / (logic + tpu_area["vector_unit"])  # the matrix unit's part of logic_layout
    matrix = logic + tpu_area["logic_layout"] * layout_share
    rows = [("Eyeriss core (65 nm)", EYERISS_CORE_MM2, eyeriss_core),
            ("TPU v1 die (28 nm, upper bound)", TPU_DIE_MM2, tpu_area["total"]),
            ("TPU v1 matrix unit (24%)", TPU_SHARES["matrix unit"] * TPU_DIE_MM2, matrix),
            ("TPU v1 unified buffer (29%)", TPU_SHARES["unified buffer"] * TPU_DIE_MM2,
             tpu_area["unified_sram"] + halos["unified_sram"]),
            ("TPU v1 accumulators (6%)", TPU_SHARES["accumulators"] * TPU_DIE_MM2,
             tpu_area["accumulators"] + halos["accumulators"])]
    frame = pd.DataFrame(rows, columns=["area", "published mm2", "accelsim mm2"])
    frame["ratio"] = frame["accelsim mm2"] / frame["published mm2"]
    return frame


def area_components() -> pd.DataFrame:
    """Every row of the two area tables (accelsim.cost.area), each with its stated source."""
    frames = []
    for name, chip in (("eyeriss_like", "Eyeriss-like (65 nm)"), ("tpu_v1_like", "TPU v1-like (28 nm)")):
        table = area(arch(name))
        table.insert(0, "design", chip)
        frames.append(table[["design", "component", "group", "count", "area_mm2", "source"]])
    return pd.concat(frames, ignore_index=True)


def int8_array(rows: int, cols: int, node: str, buffer_kib: int, banks: int, bank_bytes: int, name: str):
    """An int8 ws array with one unified buffer as an accelsim design (accumulating at 32 bits, an
    accelsim assumption; the clock and DRAM do not enter the area: an LPDDR4 PHY is not priced)."""
    return arch_from_dict({
        "name": name, "clock": "1GHz", "technology": node,
        "array": {"rows": rows, "cols": cols, "dataflow": "ws"},
        "mac": {"kind": "fixed", "precisions": ["int8"], "accumulator_bits": 32},
        "buffers": {"unified": {"size": f"{buffer_kib}KiB", "word_bits": 8, "width_bits": banks * bank_bytes * 8,
                                "banks": banks}},
        "dram": {"kind": "lpddr4", "bandwidth": "10GB/s", "latency": "100cycles"}}, name)


def nvdla_like(name: str):
    """An NVDLA configuration at 28 nm: its MAC array as a ws array of atomic-C x atomic-K, the
    convolution buffer as a unified buffer of its banks."""
    c = NVDLA_CONFIGS[name]
    return int8_array(c["rows"], c["cols"], "28nm", c["cbuf_kib"], c["banks"], c["bank_bytes"], f"nvdla-{name}")


def area_synthesis() -> pd.DataFrame:
    """Other designs' published synthesis areas, not used to choose any factor, against accelsim's
    cells and SRAM macros (the die without its layout and io groups: what a synthesis estimate
    covers): NVDLA's two documented configurations; NVDLA's logic per MAC, from the primer's rows
    with the same 256 KB buffer and from a least-squares fit of all seven (fixed + per MAC + per
    KB), against accelsim's MAC unit and PE registers with their control_noc share; the fit's
    buffer area per MiB against accelsim's macros for nv_large's buffer; and one PE of Bit
    Fusion's synthesized 8-bit systolic array (4 x 4 minus 2 x 2, per PE) against accelsim's
    int8 PE cells at 45 nm."""
    control = 1 + load_table("design")["control_noc_fraction"]

    def pe_cells_um2(spec) -> float:
        table = area(spec).set_index("component")
        return table.loc["mac_unit", "unit_area_um2"] + table.loc["pe_registers", "unit_area_um2"]

    rows = []
    for name, c in NVDLA_CONFIGS.items():
        table = area(nvdla_like(name)).set_index("component")
        synthesis = table.loc[~table["group"].isin(["layout", "io", "total"]), "area_mm2"].sum()
        macs = c["rows"] * c["cols"]
        rows.append((f"NVDLA {name}: {macs} MACs, {c['cbuf_kib']} KB buffer, 28 nm (mm2)",
                     NVDLA_SYNTHESIS_MM2[(macs, c["cbuf_kib"])], synthesis, table.loc["unified_sram", "area_mm2"]))
    per_mac = pe_cells_um2(nvdla_like("nv_large")) * control
    for lo, hi in ((128, 512), (512, 1024)):
        slope = (NVDLA_SYNTHESIS_MM2[(hi, 256)] - NVDLA_SYNTHESIS_MM2[(lo, 256)]) / (hi - lo) * 1e6
        rows.append((f"NVDLA logic per MAC, {lo} -> {hi} MACs at 256 KB, 28 nm (um2)", slope, per_mac, ""))
    # least squares over all seven primer rows: area = fixed + per MAC x MACs + per KB x KB
    design = np.array([(1.0, macs, kib) for macs, kib in NVDLA_SYNTHESIS_MM2])
    _, per_mac_fit, per_kib = np.linalg.lstsq(design, np.array(list(NVDLA_SYNTHESIS_MM2.values())), rcond=None)[0]
    rows.append(("NVDLA fit over the 7 primer rows: per MAC, 28 nm (um2)", per_mac_fit * 1e6, per_mac, ""))
    large = area(nvdla_like("nv_large")).set_index("component").loc["unified_sram", "area_mm2"]
    rows.append(("NVDLA fit over the 7 primer rows: per MiB of buffer, 28 nm (mm2)", per_kib * 1024,
                 large / (NVDLA_CONFIGS["nv_large"]["cbuf_kib"] / 1024), ""))
    grown = BITFUSION_SYSTOLIC_8BIT_UM2[(4, 4)] - BITFUSION_SYSTOLIC_8BIT_UM2[(2, 2)]
    pe45 = pe_cells_um2(int8_array(4, 4, "45nm", 8, 1, 8, "int8-4x4-45nm"))
    rows.append(("Bit Fusion 8-bit systolic PE, 500 MHz, 45 nm (um2)", grown / 12, pe45, ""))
    frame = pd.DataFrame(rows, columns=["design (published synthesis)", "published", "accelsim", "accelsim SRAM macros"])
    frame.insert(3, "ratio", frame["accelsim"] / frame["published"])
    return frame


# Chen et al., JSSC 2017, abstract: AlexNet CONV layers at N = 4 take 0.0029 DRAM accesses per MAC
# (16-bit words; with run-length compression of activations, which accelsim does not model).
EYERISS_DRAM_ACCESSES_PER_MAC = 0.0029
# Chen et al., ISCA 2016, Table IV (65 nm): energy per access normalised to one 16-bit MAC.
EYERISS_NORMALIZED_COST = {"register file (0.5 kB)": 1.0, "inter-PE transfer": 2.0, "global buffer (>100 kB)": 6.0,
                           "DRAM": 200.0}


@functools.cache
def _eyeriss_v1_layers() -> pd.DataFrame:
    """Per-layer results of eyeriss_v1 on the original AlexNet CONV1-5, batch 4, mapped for energy."""
    net = original_alexnet(4, {name: (16, 16) for name in EYERISS_TOTAL_MS})
    return ax.simulate(arch("eyeriss_v1"), net, objective="energy").layers


def eyeriss_v1() -> pd.DataFrame:
    """arch_configs/eyeriss_v1.yaml (row-stationary, per-PE scratchpads; docs/hierarchy.md), mapped for
    energy, against the chip: per-layer processing latency (JSSC 2017 Table V), then accelsim's DRAM
    and global-buffer traffic and its energy split by level (the chip's per-layer traffic and energy
    split are not in a stored copy the search tool reaches: only totals are compared, below)."""
    layers = _eyeriss_v1_layers().set_index("layer")
    rows = []
    for name in EYERISS_TOTAL_MS:
        row = layers.loc[name]
        ms = row["cycles"] / EYERISS_CLOCK_HZ * 1e3
        glb = sum(row[f"global_buffer_{t}_{a}"] for t in ("ifmap", "filter", "ofmap") for a in ("reads", "writes"))
        energy = {part: row[f"energy_{part}_pj"] for part in ("mac", "pe_spad", "noc", "global_buffer", "dram")}
        rows.append({"layer": name, "published processing ms": EYERISS_PROCESSING_MS[name], "accelsim ms": ms,
                     "ms / processing": ms / EYERISS_PROCESSING_MS[name],
                     "DRAM MB": (row["dram_read_bytes"] + row["dram_write_bytes"]) / 1e6, "buffer MB": glb * 2 / 1e6,
                     **{f"{part} %": 100 * pj / row["energy_pj"] for part, pj in energy.items()},
                     "energy mJ": row["energy_pj"] / 1e9})
    frame = _with_total(pd.DataFrame(rows), ratio_of={"ms / processing": ("accelsim ms", "published processing ms")})
    total = frame.index[-1]
    energy_total = frame.loc[total, "energy mJ"]
    for part in ("mac", "pe_spad", "noc", "global_buffer", "dram"):
        frame.loc[total, f"{part} %"] = 100 * layers[f"energy_{part}_pj"].sum() / 1e9 / energy_total
    return frame


def eyeriss_v1_totals() -> pd.DataFrame:
    """Whole-network checks of eyeriss_v1 against the chip, and accelsim's per-access costs at 65 nm
    normalised to its own 16-bit MAC against Eyeriss's (ISCA 2016 Table IV). Nothing is fitted."""
    from accelsim.cost.hierarchy import fabric_prices_pj_per_bit, register_file_pj

    spec = arch("eyeriss_v1")
    layers = _eyeriss_v1_layers()
    macs = layers["macs"].sum()
    dram_words = (layers["dram_read_bytes"].sum() + layers["dram_write_bytes"].sum()) / 2
    table = ax.cost.per_action_energy(spec)
    mac = layers["energy_mac_pj"].sum() / macs
    _, hop = fabric_prices_pj_per_bit(spec)
    costs = {"register file (0.5 kB)": register_file_pj(512, 16, spec.technology_nm)[0],
             "inter-PE transfer": hop * 16,
             "global buffer (>100 kB)": table["unified_sram_read"],
             "DRAM": 16 * table["dram_read_bit"]}
    rows = [{"quantity": "DRAM accesses per MAC", "published": EYERISS_DRAM_ACCESSES_PER_MAC,
             "accelsim": dram_words / macs}]
    rows += [{"quantity": f"{name} / MAC energy", "published": EYERISS_NORMALIZED_COST[name], "accelsim": pj / mac}
             for name, pj in costs.items()]
    frame = pd.DataFrame(rows)
    return frame.assign(ratio=frame["accelsim"] / frame["published"])


def _with_total(frame: pd.DataFrame, ratio_of: dict[str, tuple[str, str]]) -> pd.DataFrame:
    total = {c: frame[c].sum() if frame[c].dtype.kind in "fi" else "" for c in frame.columns} | {"layer": "total"}
    for name, (num, den) in ratio_of.items():
        total[name] = total[num] / total[den]
    return pd.concat([frame, pd.DataFrame([total])], ignore_index=True)


TABLES = {"eyeriss": ("Eyeriss-like, original AlexNet CONV1-5, batch 4, 16-bit (latency, ms)", eyeriss),
          "bitfusion": ("Bit Fusion-like vs the authors' simulator, AlexNet at WRPN 2x width, batch 16 (cycles)", bitfusion),
          "bitfusion_compute": ("The same at 4096 bits/cycle of DRAM bandwidth (compute-bound; cycles)",
                                bitfusion_compute),
          "bitfusion_cifar10": ("Bit Fusion-like vs the authors' simulator, CIFAR-10 QNN (2-bit), batch 16 (cycles)",
                                bitfusion_cifar10),
          "bitfusion_cifar10_compute": ("The same at 4096 bits/cycle of DRAM bandwidth (compute-bound; cycles)",
                                        bitfusion_cifar10_compute),
          "stripes": ("Stripes-like (bit_serial_like), AlexNet array layers: speed-up over 16-bit activations",
                      stripes),
          "stripes_wiring": ("Stripes-like under each array wiring (operand delivery, output overlap)",
                             stripes_wiring),
          "tpu": ("TPU v1-like, int8 (TOPS)", tpu),
          "area": ("Die area (mm2; mapping-independent)", die_area),
          "area_components": ("Die area by component (mm2), each row's source", area_components),
          "area_synthesis": ("Other designs' published synthesis areas against accelsim's cells and macros",
                             area_synthesis),
          "eyeriss_v1": ("Eyeriss v1 as built (row-stationary, PE scratchpads), AlexNet CONV1-5, batch 4, 16-bit",
                         eyeriss_v1),
          "eyeriss_v1_totals": ("Eyeriss v1: whole-network checks and normalised access costs", eyeriss_v1_totals)}


def markdown(frame: pd.DataFrame) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter="|", lineterminator="\n")
    writer.writerow(frame.columns)
    writer.writerow(["---"] * len(frame.columns))
    for row in frame.itertuples(index=False):
        writer.writerow([_fmt(v) for v in row])
    return "\n".join(f"| {line.replace('|', ' | ')} |" for line in buffer.getvalue().splitlines())


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.4g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(TABLES), action="append", help="run only these tables")
    args = parser.parse_args(argv)
    for key in args.only or TABLES:
        title, build = TABLES[key]
        print(f"\n### {title}\n\n{markdown(build())}")


if __name__ == "__main__":
    main()
