"""Cost: per-action energy tables, SRAM and MAC models, technology scaling and area.

Kernels count actions; this package prices them (Accelergy's split of counts from cost).
Tables with a ``source:`` per entry live in ``accelsim/cost/tables/``; see docs/energy_area.md.
"""

from accelsim.cost.area import area
from accelsim.cost.energy import energy_columns, layer_energy, per_action_energy, summary_metrics
from accelsim.cost.scaling import area_factor, energy_factor, scaling_table

__all__ = ["area", "area_factor", "energy_columns", "energy_factor", "layer_energy", "per_action_energy",
           "scaling_table", "summary_metrics"]
