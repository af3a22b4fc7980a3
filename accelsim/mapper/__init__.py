"""The mapper: which mapping a layer runs with (a search over the mapping space, not lowering).

:mod:`accelsim.mapper.gemm` searches one GEMM's mapping space for an objective (it prices
candidates with :mod:`accelsim.cost`); :mod:`accelsim.mapper.layer` applies it to a layer and
checks what a run may search and which mapping a run uses.
"""

from accelsim.mapper.layer import RunMapping, check_mapping, layer_mapping, run_mapping, search_layer, searchable
from accelsim.mapper.gemm import Choice, mapping_space, search

__all__ = ["Choice", "RunMapping", "check_mapping", "layer_mapping", "mapping_space", "run_mapping", "search",
           "search_layer", "searchable"]
