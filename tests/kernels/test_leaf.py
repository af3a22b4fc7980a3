"""Kernels compiled without reference counting (:data:`accelsim.kernels._jit.leaf`) lose no memory:
numba refuses an allocation in them, and a network run through every native path frees every array
its kernels allocate (numba's allocation counts, a conservation law)."""

import gc

import numpy as np
import pytest
from numba.core.errors import NumbaError
from numba.core.runtime import _nrt_python, rtsys

import accelsim as ax
from accelsim.kernels._jit import leaf


def test_a_leaf_that_allocates_does_not_compile():
    @leaf(cache=False)
    def doubled(values):
        return (values * 2)[0]

    with pytest.raises(NumbaError, match="NRT required"):
        doubled(np.arange(3))


@pytest.mark.parametrize("arch_name", ["eyeriss_like", "tpu_v5e_like", "tpu_v1_like", "edge_32x32"])
def test_a_run_frees_every_array_its_kernels_allocate(arch_name, root):
    arch = ax.load_arch(root / "arch_configs" / f"{arch_name}.yaml")
    network = ax.load_workload(root / "workloads" / "resnet50.yaml", batch=256)
    ax.simulate(arch, network)  # compiled, and the memos filled
    enabled = _nrt_python.memsys_stats_enabled()
    _nrt_python.memsys_enable_stats()
    try:
        gc.collect()
        before = rtsys.get_allocation_stats()
        ax.simulate(arch, network)
        gc.collect()
        after = rtsys.get_allocation_stats()
    finally:
        if not enabled:
            _nrt_python.memsys_disable_stats()
    assert after.mi_alloc - before.mi_alloc > 0  # the kernels allocated
    assert after.mi_alloc - before.mi_alloc == after.mi_free - before.mi_free
    assert after.alloc - before.alloc == after.free - before.free
