"""numba kernels: numpy arrays and scalars in, int64 counters out. Nothing else crosses this line."""

from pathlib import Path

from accelsim.kernels._cache import refresh

refresh(Path(__file__).parent)
