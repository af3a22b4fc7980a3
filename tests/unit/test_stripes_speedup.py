"""Stripes' promise (Judd et al., MICRO 2016): a layer at p-bit activations runs 16/p times
faster than at 16 bits. ``bit_serial_like`` (broadcast operands, outputs drained on their own
path, docs/timing_models.md) on AlexNet's array layers keeps within 10% of it (issue 18)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import accelsim as ax
from accelsim.spec.workload import Network

ROOT = Path(__file__).parents[2]


def alexnet_at(p: int) -> Network:
    base = ax.load_workload(ROOT / "workloads" / "alexnet.yaml")
    return Network(name=f"alexnet-a{p}", layers=tuple(
        dataclasses.replace(layer, compression=dataclasses.replace(layer.compression, weight_bits=16, act_bits=p))
        for layer in base.layers if layer.macs))


def test_speedup_is_sixteen_over_p_within_ten_percent():
    arch = ax.load_arch(ROOT / "arch_configs" / "bit_serial_like.yaml")
    cycles = {p: ax.simulate(arch, alexnet_at(p)).cycles for p in (16, 8, 4, 2)}
    for p in (8, 4, 2):
        assert cycles[16] / cycles[p] == pytest.approx(16 / p, rel=0.10), p
