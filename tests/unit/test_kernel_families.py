"""The cold-start notice's view of the kernels (accelsim.engine.kernel_cache, accelsim.kernels._cache.cached_kernel_names)."""

from __future__ import annotations

import importlib

import pytest

from accelsim.engine.kernel_cache import FAMILIES, cold_compile_seconds, run_families
from accelsim.frontend.load import load_arch
from accelsim.kernels._cache import cached_kernel_names


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_every_family_names_a_real_kernel(name):
    module, function = FAMILIES[name].entry.split(".")
    assert hasattr(importlib.import_module(f"accelsim.kernels.{module}"), function)


@pytest.mark.parametrize("config, fidelity, families", [
    ("edge_32x32", "fold", {"vector", "fold_native"}),
    ("edge_32x32", "pe", {"vector", "fold_native", "pe_stationary"}),
    ("edge_32x32", "cycle", {"vector", "fold_native", "cycle"}),
    ("scalesim_32x32_ws", "fold", {"scalesim_calc"}),
])
def test_run_families(config, fidelity, families):
    assert set(run_families(load_arch(f"arch_configs/{config}.yaml"), fidelity)) == families


def test_estimate_counts_only_the_missing_families_once():
    both = ["fold_native", "vector", "fold_native"]
    assert cold_compile_seconds(both, cached=set()) == FAMILIES["fold_native"].seconds + FAMILIES["vector"].seconds
    assert cold_compile_seconds(both, cached={FAMILIES["vector"].entry}) == FAMILIES["fold_native"].seconds
    assert cold_compile_seconds(both, cached={FAMILIES[n].entry for n in both}) == 0


def test_cached_names_are_read_from_the_index_files(tmp_path, monkeypatch):
    monkeypatch.setattr("accelsim.kernels._cache.cache_folder", lambda folder: tmp_path)
    (tmp_path / "systolic.run_fold_native-108.py311.nbi").write_text("")
    (tmp_path / "systolic.run_fold_native-108.py311.1.nbc").write_text("")
    assert cached_kernel_names(tmp_path) == {"systolic.run_fold_native"}
