"""The mapper: which mapping a layer runs with (a search over the mapping space, not lowering).

:mod:`accelsim.mapper.gemm` searches one GEMM's mapping space for an objective (it prices
candidates with :mod:`accelsim.cost`); :mod:`accelsim.mapper.layer` applies it to a layer and
checks what a run may search.
"""

from accelsim.mapper.layer import check_mapping, search_layer
from accelsim.mapper.gemm import Choice, mapping_space, search

__all__ = ["Choice", "check_mapping", "mapping_space", "search", "search_layer"]
