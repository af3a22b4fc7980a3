"""The one numba decorator every kernel uses.

``cache=True`` keeps compiled kernels on disk between processes; ``fastmath=False`` keeps
integer counts and float rounding deterministic; ``nogil=True`` lets threads run kernels
side by side.
"""

from functools import partial

from numba import njit

kernel = partial(njit, cache=True, nogil=True, fastmath=False)
