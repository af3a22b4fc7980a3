"""The numba decorators every kernel uses.

``cache=True`` keeps compiled kernels on disk between processes; ``fastmath=False`` keeps
integer counts and float rounding deterministic; ``nogil=True`` lets threads run kernels
side by side.
"""

from functools import partial

from numba import njit

kernel = partial(njit, cache=True, nogil=True, fastmath=False)

leaf = partial(kernel, _nrt=False)
"""A kernel called in loops that allocates no array and returns none (its arrays borrowed from its
caller): compiled without numba's reference counting (its private ``_nrt`` option, as in
numba/numba#2350), which otherwise increments and decrements every array argument (each array of a
tuple argument too) atomically on every call: 28% of the time of a batch-256 ResNet-50 on
eyeriss_like (``perf record``: samples in ``NRT_incref`` and ``NRT_decref``). The kernels it calls
are compiled without it too; numba then refuses to compile an array allocated (a slice assignment
or an array expression too) or a new one returned, so no reference goes uncounted
(``tests/kernels/test_leaf.py``)."""
