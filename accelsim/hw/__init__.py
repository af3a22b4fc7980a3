"""Hardware rules: what the hardware can do, as pure functions of specs and shapes.

* :mod:`accelsim.hw.mac`: MAC-unit throughput per operand precision (fixed, Bit Fusion, bit-serial);
* :mod:`accelsim.hw.sparse`: N:M rules, weight storage formats, the statistical skipping model;
* :mod:`accelsim.hw.folds`: where each fold of a GEMM lies on the array.
"""
