"""numba kernels: numpy arrays and scalars in, int64 counters out. Nothing else crosses this line."""
