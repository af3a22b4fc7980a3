"""Between :func:`accelsim.simulate` and the kernels: per-layer pipelines, one module per fidelity."""
