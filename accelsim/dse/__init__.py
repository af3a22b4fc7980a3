"""Design-space exploration: sweeps over architectures, workloads and compression schemes.

``sweep`` runs a sweep spec (resumable, on local processes or Dask), ``compare`` puts a few
designs, networks or schemes side by side, ``pareto_front`` marks the non-dominated rows.
"""

from accelsim.dse.compare import compare
from accelsim.dse.pareto import pareto_front, pareto_mask
from accelsim.dse.spec import SweepSpec, load_sweep_spec, sweep_from_dict
from accelsim.dse.store import ResultStore
from accelsim.dse.sweep import read_results, run_sweep, sweep

__all__ = ["ResultStore", "SweepSpec", "compare", "load_sweep_spec", "pareto_front", "pareto_mask", "read_results",
           "run_sweep", "sweep", "sweep_from_dict"]
