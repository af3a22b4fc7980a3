"""Vector work priced in the layer results: ``vector_<kind>_ops`` counts per layer and
``energy_vector_pj`` from the vector unit's per-op energies (accelsim/vector/energy.py)."""

from __future__ import annotations

import math

import pytest

from accelsim.engine.vector import OP_COLUMNS, vector_layer_counts
from accelsim.vector.program import op_slots
from accelsim.simulate import simulate
from accelsim.spec.load import arch_from_dict, network_from_dict
from accelsim.analysis.breakdown import layer_breakdown
from accelsim.cost.vector import vector_op_energy_pj

ARCH = {"name": "t", "technology": "28nm", "array": {"rows": 8, "cols": 8},
        "buffers": {"unified": {"size": "1MiB"}},
        "vector_unit": {"lanes": 8, "exp_cycles": 4, "div_cycles": 8}}
NET = {"name": "block", "layers": [
    {"op": "gemm", "name": "proj", "m": 16, "n": 32, "k": 32},
    {"op": "eltwise", "name": "residual", "shape": [16, 32]},
    {"op": "layernorm", "name": "ln", "shape": [16, 32]},
    {"op": "softmax", "name": "sm", "shape": [2, 16, 16],
     "compression": {"nonlinear_impl": {"kind": "ibert"}}},
    {"op": "gelu", "name": "act", "shape": [16, 32]},
]}


@pytest.fixture(scope="module")
def result():
    return simulate(arch_from_dict(ARCH), network_from_dict(NET))


def test_vector_layers_carry_their_op_counts(result):
    arch, layers = result.arch, result.layers
    for layer, (_, row) in zip(result.network.layers, layers.iterrows()):
        if layer.macs:
            assert all(row[name] == 0 for name in OP_COLUMNS.values())
            continue
        counts = vector_layer_counts(arch, layer)
        assert {name: int(row[name]) for name in OP_COLUMNS.values()} == {n: counts[n] for n in OP_COLUMNS.values()}
        assert sum(int(row[name]) for name in OP_COLUMNS.values()) > 0


def test_energy_vector_is_ops_times_per_op_energy(result):
    """Written out from the vector engineer's per-op energies, and equal to the nonlinear energy
    that accelsim.analysis.breakdown computes separately for the same layers."""
    arch, layers = result.arch, result.layers
    per_op = vector_op_energy_pj(arch, op_slots(arch))
    separate = layer_breakdown(result)
    for i, layer in enumerate(result.network.layers):
        row = layers.iloc[i]
        want = sum(int(row[OP_COLUMNS[op]]) * pj for op, pj in per_op.items())
        assert row["energy_vector_pj"] == pytest.approx(want, rel=1e-12)
        assert row["energy_vector_pj"] == pytest.approx(separate["nonlinear_energy_pj"].iloc[i], rel=1e-12)
        assert (row["energy_vector_pj"] > 0) == (layer.macs == 0)


def test_energy_is_still_the_sum_of_its_parts(result):
    layers = result.layers
    parts = [c for c in layers if c.startswith("energy_") and c.endswith("_pj") and c != "energy_pj"]
    for _, row in layers.iterrows():
        assert math.isclose(row["energy_pj"], sum(row[c] for c in parts), rel_tol=1e-12)
    assert result.summary["energy_vector_pj"].iloc[0] == pytest.approx(layers["energy_vector_pj"].sum())


def test_no_vector_unit_no_vector_columns():
    arch = arch_from_dict({k: v for k, v in ARCH.items() if k != "vector_unit"})
    layers = simulate(arch, network_from_dict(NET)).layers
    assert not any(c.startswith("vector_") for c in layers)
    assert "energy_vector_pj" not in layers
    assert layers["costed"].tolist() == [True, False, False, False, False]
